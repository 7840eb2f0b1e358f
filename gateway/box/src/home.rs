//! The home the box runs: its devices, the owner's preferences, and the plan the devices
//! follow.
//!
//! At every slot's start, when the next slot has cleared, when a car is plugged in or out and
//! when the owner changes a preference, the box plans its battery and its wallbox for the next
//! [`PLAN_SLOTS`] slots (`lem_planner`): against its outlook of the house's own load and of the
//! local price by time of day (`lem_gateway_core::home`), the tariffs and its zone's traffic
//! light as a finalized block proves them. Every poll it holds the current slot's set-points
//! (`lem_gateway_core::device::setpoints`), and the trader orders what the plan draws or
//! feeds in.
//!
//! Fail-safe: the plan is journaled. A box cut off from the chain plans no more (its prices
//! and light would be guesses) and follows the plan it has, slot by slot; past its end every
//! device is in its own mode. A box that stops writes nothing, and each device's watchdog
//! returns it to its own mode.

use crate::{
	config::{BatteryConfig, ChargerConfig, Config},
	device::{
		self, Battery, BatteryLink, Charger, ChargerLink, DeviceError, HeatPump, HeatPumpLink,
	},
	journal::{Journal, JournalError, PLAN, PREFERENCES},
	metrics::Metrics,
};
use codec::{Decode, Encode};
use lem_gateway_core::{
	chain::Light,
	device::{setpoints, BatteryMode, BatteryState, ChargerState, Charging, PlannedSlot},
	entry::{unversioned, versioned},
	home::{self, HomeSlot, Tariffs},
};
use lem_planner::{
	home::{prices, BatteryNow, CarNow, Expected, Home as Known, Preferences},
	review::{self, Devices, Figures, Happened},
};
use std::{collections::BTreeMap, sync::Mutex, time::Instant};
use tracing::{debug, info, warn};

/// The plan's horizon: a day of 15-minute slots.
pub const PLAN_SLOTS: usize = 96;
/// The chain's facts make a plan only while this many slots young: older, the chain is out of
/// reach and the box follows the plan it has.
const FRESH_SLOTS: u64 = 2;
/// The recent slots the outlook falls back on while the journal holds no past day.
const RECENT: usize = lem_gateway_core::trading::FORECAST_RECENT;
/// Where the journal keeps the wallbox's register as the car was plugged in.
const PLUGGED_AT: &str = "car_plugged_at_wh";
/// The grid's emission factor the household's figures reckon CO₂ avoided by, in grams per
/// kWh: the Umweltbundesamt's for Germany's electricity mix of 2024, as the app's.
const GRID_CO2_G_PER_KWH: f64 = 363.0;
/// The days the household's figures go back, the week.
const REVIEW_DAYS: u64 = 7;

/// What a finalized block proved for the plan, and when the box read it (its clock, ms).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanFacts {
	pub read_at_ms: u64,
	pub tariffs: Tariffs,
	pub light: Light,
}

/// The plan the devices follow: set-points from `first` on, a slot each.
#[derive(Encode, Decode, Clone, Debug, PartialEq)]
struct Plan {
	first: u64,
	slots: Vec<PlannedSlot>,
}

impl Plan {
	fn slot(&self, slot: u64) -> Option<&PlannedSlot> {
		self.slots.get(usize::try_from(slot.checked_sub(self.first)?).ok()?)
	}
}

pub struct Home {
	battery: Option<(BatteryLink, BatteryConfig)>,
	heat_pump: Option<HeatPumpLink>,
	charger: Option<(ChargerLink, ChargerConfig)>,
	preferences: Preferences,
	plan: Option<Plan>,
	/// The devices' states at the last poll.
	battery_state: Option<BatteryState>,
	charger_state: Option<ChargerState>,
	/// The wallbox's register when the car was plugged in; `None` while none is.
	plugged_at_wh: Option<u64>,
	/// Something the plan rests on changed: plan again at the next chance.
	replan: bool,
	/// What the devices were last told, to log a change once.
	told: (Option<BatteryMode>, Option<Charging>),
	/// The last slot whose cleared price was read.
	priced: Option<u64>,
}

/// Why the home could not be set up.
#[derive(Debug)]
pub enum HomeError {
	Device(DeviceError),
	Journal(JournalError),
}

impl From<JournalError> for HomeError {
	fn from(e: JournalError) -> Self {
		HomeError::Journal(e)
	}
}

impl From<DeviceError> for HomeError {
	fn from(e: DeviceError) -> Self {
		HomeError::Device(e)
	}
}

impl Home {
	/// Connects the devices `config` names, each of which must answer (a wallbox connects to
	/// the box whenever it boots: only listening must work), and takes the preferences and
	/// the plan the journal keeps.
	pub async fn connect(config: &Config, journal: &Journal) -> Result<Home, HomeError> {
		let battery = match &config.battery {
			None => None,
			Some(b) => {
				let mut battery = device::connect_battery(b).await?;
				let state = battery.state().await?;
				info!(battery = %battery.name(), stored_permille = state.stored_permille, power_w = state.power_w, "battery answers");
				Some((battery, b.clone()))
			}
		};
		let heat_pump = match &config.heat_pump {
			None => None,
			Some(h) => {
				let mut heat_pump = device::connect_heat_pump(h).await?;
				let state = heat_pump.state().await?;
				info!(heat_pump = %heat_pump.name(), ?state, "heat pump answers");
				Some(heat_pump)
			}
		};
		let charger = match &config.charger {
			None => None,
			Some(c) => {
				let charger = device::connect_charger(c).await?;
				info!(charger = %charger.name(), "waiting for the wallbox");
				Some((charger, c.clone()))
			}
		};
		let preferences = match journal.setting(PREFERENCES)? {
			None => config.preferences.clone(),
			Some(json) => match serde_json::from_slice::<Preferences>(&json) {
				Ok(p) if p.check().is_ok() => p,
				_ => {
					warn!("the journal's preferences do not read: taking gateway.toml's");
					config.preferences.clone()
				}
			},
		};
		let plan = journal.setting(PLAN)?.and_then(|bytes| unversioned::<Plan>(&bytes).ok());
		let plugged_at_wh = journal
			.setting(PLUGGED_AT)?
			.and_then(|bytes| <Option<u64>>::decode(&mut &bytes[..]).ok())
			.flatten();
		Ok(Home {
			battery,
			heat_pump,
			charger,
			preferences,
			plan,
			battery_state: None,
			charger_state: None,
			plugged_at_wh,
			replan: true,
			told: (None, None),
			priced: None,
		})
	}

	/// Whether the box has devices to plan.
	pub fn plans(&self) -> bool {
		self.battery.is_some() || self.charger.is_some()
	}

	pub fn preferences(&self) -> &Preferences {
		&self.preferences
	}

	/// Takes the owner's new preferences: kept in the journal before the owner is told, and
	/// planned by at once.
	pub fn set_preferences(
		&mut self,
		preferences: Preferences,
		journal: &Journal,
	) -> Result<(), String> {
		preferences.check().map_err(|e| e.to_string())?;
		let json = serde_json::to_vec(&preferences).expect("preferences serialize");
		journal.set_setting(PREFERENCES, &json).map_err(|e| e.to_string())?;
		info!(preferences = %String::from_utf8_lossy(&json), "preferences changed");
		self.preferences = preferences;
		self.replan = true;
		Ok(())
	}

	/// The plan as its owner reads it: each slot's number and what the devices do in it, in
	/// Wh (the battery's positive when it charges); `[]` without a plan.
	pub fn plan_json(&self) -> String {
		let slots = self.plan.iter().flat_map(|p| {
			p.slots.iter().zip(p.first..).map(|(s, slot)| {
				serde_json::json!({
					"slot": slot,
					"battery_wh": s.battery_wh,
					"car_wh": s.car_wh,
					"import_wh": s.import_wh,
					"export_wh": s.export_wh,
				})
			})
		});
		serde_json::Value::Array(slots.collect()).to_string()
	}

	/// What the plan draws (positive) or feeds in over `slot`, if it plans the slot.
	pub fn planned_net_wh(&self, slot: u64) -> Option<i64> {
		let p = self.plan.as_ref()?.slot(slot)?;
		Some(p.import_wh as i64 - p.export_wh as i64)
	}

	/// Reads the devices, and holds each in what the plan asks of slot `now_ms` is in (each
	/// in its own mode where the plan has nothing). A device that does not answer is logged
	/// and counted, and its figures are absent until it answers again.
	pub async fn poll(
		&mut self,
		metrics: &Metrics,
		journal: &Journal,
		now_ms: u64,
		slot_ms: Option<u64>,
	) -> Result<(), JournalError> {
		let m = metrics;
		let seen = |read: Result<u64, &DeviceError>| match read {
			Ok(v) => Some(v),
			// A wallbox not connected (yet): no figure, and nothing to warn of every poll.
			Err(DeviceError::Missing { .. }) => None,
			Err(e) => {
				Metrics::add(&m.device_errors, 1);
				warn!(error = %e, "device read failed");
				None
			}
		};
		let gauge = |gauge: &Mutex<Option<u64>>, v| *gauge.lock().expect("not poisoned") = v;
		if let Some((battery, _)) = &mut self.battery {
			let state = battery.state().await;
			self.battery_state = state.as_ref().ok().copied();
			gauge(
				&m.battery_stored_permille,
				seen(state.as_ref().map(|s| s.stored_permille.into())),
			);
		}
		if let Some(heat_pump) = &mut self.heat_pump {
			let state = heat_pump.state().await;
			gauge(&m.heat_pump_sg_ready, seen(state.as_ref().map(|&s| s as u64)));
		}
		if let Some((charger, _)) = &mut self.charger {
			let state = charger.state().await;
			self.charger_state = state.as_ref().ok().copied();
			let energy = self.charger_state.and_then(|s| s.energy_wh);
			gauge(&m.charger_power_w, seen(state.as_ref().map(|s| s.power_w.into())));
			gauge(&m.charger_energy_wh, energy);
		}
		self.follow_the_car(journal)?;

		let planned = slot_ms.and_then(|ms| Some((self.plan.as_ref()?.slot(now_ms / ms)?, ms)));
		let now = Instant::now();
		let mut failed = |e: DeviceError| {
			if !matches!(e, DeviceError::Missing { .. }) {
				Metrics::add(&m.device_errors, 1);
				warn!(error = %e, "device not held");
			}
		};
		let car_w = self.charger.as_ref().map_or(0, |(_, c)| c.power_w);
		let (battery_mode, charging, _) = match planned {
			Some((p, slot_ms)) => {
				let (b, c, h) = setpoints(p, slot_ms, car_w, 0);
				(b, c, Some(h))
			}
			None => (BatteryMode::Own, Charging::Own, None),
		};
		if let Some((battery, _)) = &mut self.battery {
			battery.hold(battery_mode, now).await.unwrap_or_else(&mut failed);
			if self.told.0 != Some(battery_mode) {
				info!(mode = ?battery_mode, "battery told");
				self.told.0 = Some(battery_mode);
			}
		}
		if let Some((charger, _)) = &mut self.charger {
			charger.hold(charging, now).await.unwrap_or_else(&mut failed);
			if self.told.1 != Some(charging) {
				info!(command = ?charging, "wallbox told");
				self.told.1 = Some(charging);
			}
		}
		Ok(())
	}

	/// Notes a car plugged in or out: the plan changes with it.
	fn follow_the_car(&mut self, journal: &Journal) -> Result<(), JournalError> {
		let Some(state) = self.charger_state else { return Ok(()) };
		let plugged_at = match (state.plugged, self.plugged_at_wh) {
			(true, None) => Some(state.energy_wh.unwrap_or(0)),
			(false, Some(_)) => None,
			_ => return Ok(()),
		};
		info!(plugged = state.plugged, register_wh = ?state.energy_wh, "car plugged {}", if state.plugged { "in" } else { "out" });
		journal.set_setting(PLUGGED_AT, &plugged_at.encode())?;
		self.plugged_at_wh = plugged_at;
		self.replan = true;
		Ok(())
	}

	/// Journals what the home did in `slot`, which just ended: the battery's store and the
	/// wallbox's register at its end, the tariffs the chain last proved, and what the plan
	/// asked of it.
	pub fn end_slot(
		&mut self,
		slot: u64,
		facts: Option<PlanFacts>,
		journal: &Journal,
	) -> Result<(), JournalError> {
		if !self.plans() {
			return Ok(());
		}
		let capacity = self.battery.as_ref().map(|(_, b)| b.capacity_wh);
		let record = HomeSlot {
			battery_stored_wh: self.battery_state.zip(capacity).map(|(s, c)| s.stored_wh(c)),
			car_register_wh: self.charger_state.and_then(|s| s.energy_wh),
			car_plugged: self.plugged_at_wh.is_some(),
			tariffs: facts.map(|f| f.tariffs),
			planned: self.plan.as_ref().and_then(|p| p.slot(slot)).copied(),
			..journal.home(slot)?.unwrap_or_default()
		};
		journal.put_home(slot, &record)?;
		self.replan = true;
		Ok(())
	}

	/// Keeps the price the box's zone cleared `slot` at, before the slot begins: the plan is
	/// made again on it, as the slot cleared, rather than on the price expected.
	pub fn cleared(
		&mut self,
		slot: u64,
		price_per_kwh: Option<i64>,
		journal: &Journal,
	) -> Result<(), JournalError> {
		let record = journal.home(slot)?.unwrap_or_default();
		journal.put_home(slot, &HomeSlot { cleared_per_kwh: price_per_kwh, ..record })?;
		self.priced = Some(slot);
		self.replan = true;
		Ok(())
	}

	/// Whether the slot's cleared price is yet to be read.
	pub fn wants_price(&self, slot: u64) -> bool {
		self.plans() && self.priced < Some(slot)
	}

	/// Plans the slots from the one `now_ms` is in, if something changed and the chain's
	/// `facts` are fresh.
	pub fn plan(
		&mut self,
		journal: &Journal,
		now_ms: u64,
		slot_seconds: u64,
		facts: Option<PlanFacts>,
	) -> Result<(), JournalError> {
		let slot_ms = slot_seconds * 1000;
		let Some(facts) =
			facts.filter(|f| now_ms.saturating_sub(f.read_at_ms) < FRESH_SLOTS * slot_ms)
		else {
			return Ok(());
		};
		if !self.replan || !self.plans() {
			return Ok(());
		}
		let first = now_ms / slot_ms;
		let Some(expected) = self.outlook(journal, first, slot_seconds)? else {
			debug!(slot = first, "no plan yet: no reading to forecast the house from");
			return Ok(());
		};
		let known = Known {
			slot_seconds: slot_seconds as u32,
			start: first * slot_seconds,
			expected,
			retail_per_kwh: facts.tariffs.retail_per_kwh,
			feed_in_per_kwh: facts.tariffs.feed_in_per_kwh,
			red_light: facts.light == Light::Red,
			battery: self.battery.as_ref().zip(self.battery_state).map(|((_, b), s)| BatteryNow {
				capacity_wh: f64::from(b.capacity_wh),
				stored_wh: f64::from(s.stored_wh(b.capacity_wh)),
				power_w: f64::from(s.power_w),
				efficiency: f64::from(b.efficiency_percent) / 100.0,
			}),
			car: self.charger.as_ref().zip(self.plugged_at_wh).map(|((_, c), at)| {
				let register = self.charger_state.and_then(|s| s.energy_wh).unwrap_or(at);
				CarNow {
					charged_wh: register.saturating_sub(at) as f64,
					power_w: f64::from(c.power_w),
					efficiency: f64::from(c.efficiency_percent) / 100.0,
				}
			}),
		};
		let made = lem_planner::home::problem(&known, &self.preferences).and_then(|problem| {
			Ok((lem_planner::plan(&problem)?, lem_planner::own_modes(&problem)?))
		});
		let (plan, own) = match made {
			Ok(made) => made,
			Err(e) => {
				// The old plan's slots still stand; past them, the devices' own modes.
				warn!(slot = first, error = %e, "no plan");
				self.replan = false;
				return Ok(());
			}
		};
		let wh = |v: f64| v.round().max(0.0) as u64;
		let slots = plan
			.slots
			.iter()
			.map(|s| PlannedSlot {
				battery_wh: s.battery_wh.round() as i64,
				car_wh: wh(s.car_wh),
				heat_pump_wh: wh(s.heat_pump_wh),
				import_wh: wh(s.import_wh),
				export_wh: wh(s.export_wh),
			})
			.collect::<Vec<_>>();
		let saving = (own.cost - own.value_left) - (plan.cost - plan.value_left);
		let now = &slots[0];
		info!(
			slot = first,
			battery_wh = now.battery_wh,
			car_wh = now.car_wh,
			import_wh = now.import_wh,
			export_wh = now.export_wh,
			saving_micro_eur = saving.round() as i64,
			"planned"
		);
		let plan = Plan { first, slots };
		journal.set_setting(PLAN, &versioned(&plan))?;
		self.plan = Some(plan);
		self.replan = false;
		Ok(())
	}

	/// What the home did, as its owner reads it: per slot what the meter and each device did
	/// (Wh; the battery's positive when it charged), and per UTC day and over the last week
	/// the figures of `lem_planner::review` — money saved against the devices' own modes
	/// (micro-euros), kWh shifted and CO₂ avoided — for the slots before `now_slot` with a
	/// reading. As JSON, and its slots as CSV.
	pub fn review(
		&self,
		journal: &Journal,
		slot_seconds: u64,
		now_slot: u64,
	) -> Result<(String, String), JournalError> {
		let per_day = (86_400 / slot_seconds).max(1);
		let from = (now_slot / per_day).saturating_sub(REVIEW_DAYS - 1) * per_day;
		let homes: BTreeMap<u64, HomeSlot> =
			journal.homes_from(from.saturating_sub(1))?.into_iter().collect();
		let mut slots: Vec<(u64, Happened)> = Vec::new();
		for e in journal.entries_from(from)? {
			let Some(r) = e.reading else { continue };
			let (Some(before), Some(after)) = (homes.get(&(e.slot - 1)), homes.get(&e.slot)) else {
				continue;
			};
			let Some(t) = after.tariffs else { continue };
			if e.slot >= now_slot {
				break;
			}
			let Some((battery_wh, car_wh)) = self.devices_wh(before, after) else {
				continue;
			};
			let (import, export) = (r.reading.import_wh as f64, r.reading.export_wh as f64);
			let (buy, sell) = prices(after.cleared_per_kwh, t.retail_per_kwh, t.feed_in_per_kwh);
			slots.push((
				e.slot,
				Happened {
					house_net_wh: import - export - battery_wh as f64 - car_wh as f64,
					battery_wh: battery_wh as f64,
					car_wh: car_wh as f64,
					car_plugged: after.car_plugged,
					import_wh: import,
					export_wh: export,
					buy_per_kwh: buy,
					sell_per_kwh: sell,
				},
			));
		}
		let figures = |period: &[(u64, Happened)]| -> Figures {
			let (Some((first, _)), Some((last, _))) = (period.first(), period.last()) else {
				return Figures::default();
			};
			let stored = |slot: u64| homes.get(&slot).and_then(|h| h.battery_stored_wh);
			let devices = Devices {
				battery: self.battery.as_ref().zip(stored(first - 1)).map(|((_, b), s)| {
					BatteryNow {
						capacity_wh: f64::from(b.capacity_wh),
						stored_wh: f64::from(s),
						power_w: self.battery_state.map_or(0.0, |s| f64::from(s.power_w)),
						efficiency: f64::from(b.efficiency_percent) / 100.0,
					}
				}),
				battery_reserve_wh: self.battery.as_ref().map_or(0.0, |(_, b)| {
					f64::from(b.capacity_wh) * f64::from(self.preferences.battery_reserve_percent)
						/ 100.0
				}),
				battery_end_wh: stored(*last).map_or(0.0, f64::from),
				car_power_w: self.charger.as_ref().map_or(0.0, |(_, c)| f64::from(c.power_w)),
			};
			let happened: Vec<Happened> = period.iter().map(|(_, h)| *h).collect();
			review::figures(slot_seconds as u32, &happened, &devices, GRID_CO2_G_PER_KWH)
				.unwrap_or_else(|e| {
					warn!(error = %e, "the household's figures could not be reckoned");
					Figures::default()
				})
		};
		let figures_json = |f: Figures| {
			serde_json::json!({
				"slots": f.slots,
				"saved_micro_eur": f.saved.round() as i64,
				"cost_micro_eur": f.cost.round() as i64,
				"own_modes_cost_micro_eur": f.own_modes_cost.round() as i64,
				"shifted_wh": f.shifted_wh.round() as i64,
				"co2_avoided_g": f.co2_avoided_g.round() as i64,
			})
		};
		let days: Vec<serde_json::Value> = slots
			.chunk_by(|(a, _), (b, _)| a / per_day == b / per_day)
			.map(|day| {
				let mut json = figures_json(figures(day));
				json["day_start"] = (day[0].0 / per_day * per_day * slot_seconds).into();
				json
			})
			.collect();
		let mut csv =
			String::from("slot,import_wh,export_wh,house_wh,battery_wh,car_wh,car_plugged\n");
		let rows: Vec<serde_json::Value> = slots
			.iter()
			.map(|(slot, h)| {
				csv += &format!(
					"{slot},{},{},{},{},{},{}\n",
					h.import_wh, h.export_wh, h.house_net_wh, h.battery_wh, h.car_wh, h.car_plugged
				);
				serde_json::json!({
					"slot": slot,
					"import_wh": h.import_wh,
					"export_wh": h.export_wh,
					"house_wh": h.house_net_wh,
					"battery_wh": h.battery_wh,
					"car_wh": h.car_wh,
					"car_plugged": h.car_plugged,
				})
			})
			.collect();
		let json = serde_json::json!({
			"days": days,
			"week": figures_json(figures(&slots)),
			"slots": rows,
		});
		Ok((json.to_string(), csv))
	}

	/// What the home's battery and car took between the records `before` and `after` a slot
	/// (`lem_gateway_core::home::devices_wh`), by the battery's efficiency.
	fn devices_wh(&self, before: &HomeSlot, after: &HomeSlot) -> Option<(i64, i64)> {
		let efficiency =
			self.battery.as_ref().map_or(100, |(_, b)| u32::from(b.efficiency_percent));
		let (battery, car) = (self.battery.is_some(), self.charger.is_some());
		home::devices_wh(before, after, battery, car, efficiency * 10)
	}

	/// The house's net import and the local price expected in each of the plan's slots from
	/// `first`, from the journal's readings and home records.
	fn outlook(
		&self,
		journal: &Journal,
		first: u64,
		slot_seconds: u64,
	) -> Result<Option<Vec<Expected>>, JournalError> {
		let per_day = (86_400 / slot_seconds).max(1);
		let from = first.saturating_sub(lem_gateway_core::trading::FORECAST_DAYS * per_day + 1);
		let homes: BTreeMap<u64, HomeSlot> = journal.homes_from(from)?.into_iter().collect();
		let house: BTreeMap<u64, i64> = journal
			.entries_from(from)?
			.iter()
			.filter_map(|e| {
				let r = e.reading?.reading;
				let net = r.import_wh as i64 - r.export_wh as i64;
				let (before, after) = (homes.get(&(e.slot - 1))?, homes.get(&e.slot)?);
				let (battery_wh, car_wh) = self.devices_wh(before, after)?;
				Some((e.slot, net - battery_wh - car_wh))
			})
			.collect();
		let recent_house: Vec<i64> = house.values().rev().take(RECENT).copied().collect();
		let recent_price: Vec<i64> =
			homes.values().rev().filter_map(|h| h.cleared_per_kwh).take(RECENT).collect();
		let outlook = home::outlook(
			first,
			PLAN_SLOTS,
			per_day,
			|s| house.get(&s).copied(),
			&recent_house,
			|s| homes.get(&s).and_then(|h| h.cleared_per_kwh),
			&recent_price,
		);
		Ok(outlook.map(|slots| {
			slots
				.into_iter()
				.map(|e| Expected { house_net_wh: e.house_net_wh, local_per_kwh: e.local_per_kwh })
				.collect()
		}))
	}
}
