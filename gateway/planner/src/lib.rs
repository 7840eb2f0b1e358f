//! `lem-planner`: the box's plan for a home's devices over the next hours, as a linear
//! program solved exactly (microlp, a pure-Rust simplex): battery charge and discharge, the
//! car's energy by its departure, the heat pump's electricity within the tank's band, slot by
//! slot, against a forecast of load and PV, the prices a kWh drawn or fed in is expected to
//! fetch, the DSO's caps on drawing, and the owner's goal. No I/O: the same input gives the
//! same plan, on the box or on anyone's machine (`lem-gateway plan`).
//!
//! The model, per slot `t` of `Δ` hours (energies in Wh on the home's AC side):
//! - balance: `import − export = load − pv + charge − discharge + car + heat pump`;
//! - battery: `stored(t+1) = stored(t) + η·charge − discharge/η`, between the reserve and
//!   the capacity, each way at most `power·Δ`; without grid charging, a charge at most the
//!   slot's PV surplus;
//! - car: at most `power·Δ` in the slots it is plugged in, and `η·Σ car ≥ needed` by its
//!   departure (the need cut to what the slots can give);
//! - heat pump: `tank(t+1) = tank(t) + (cop·hp − demand)/C`, within the band after every slot,
//!   `hp ≤ power·Δ` (its duty cycle over the slot);
//! - import at most the DSO's cap where it sets one;
//! - cost: `Σ buy·import − sell·export`, less what the battery holds at the end is worth
//!   (valued at the horizon's cheapest kWh drawn, as it will spare one later, times the
//!   efficiency it comes out at: never worth charging from the grid to hold, never worth
//!   dumping at a lower feed-in price); "most self-consumed" minimises what crosses the
//!   meter, with the cost as a tie-break.
//!
//! [`own_modes`] runs the same model with every device in its own mode (self-consumption,
//! the car at full power on arrival, the thermostat at the band's floor): what the plan is
//! measured against. [`home`] makes the problem from what the box knows of its home;
//! [`review`] reckons what running the devices did, against their own modes.

pub mod home;
pub mod review;

use microlp::{ComparisonOp, OptimizationDirection, Problem as Lp, Variable};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What the planner is given.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Problem {
	/// Seconds per slot: 900 in production.
	pub slot_seconds: u32,
	pub slots: Vec<Slot>,
	#[serde(default)]
	pub battery: Option<BatteryModel>,
	#[serde(default)]
	pub car: Option<CarModel>,
	#[serde(default)]
	pub heat_pump: Option<HeatPumpModel>,
	#[serde(default)]
	pub goal: Goal,
}

/// One slot's forecast and prices.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slot {
	/// The house's own load and its PV, in Wh over the slot.
	pub load_wh: f64,
	pub pv_wh: f64,
	/// What a kWh drawn costs and a kWh fed in earns, in micro-euros: the expected local
	/// price or the tariff, with the grid's fees.
	pub buy_per_kwh: u64,
	pub sell_per_kwh: u64,
	/// The most the DSO lets the home draw in the slot (a red light), if it caps it.
	#[serde(default)]
	pub import_limit_wh: Option<f64>,
	/// The heat the house takes from the tank in the slot, and the heat pump's coefficient of
	/// performance then.
	#[serde(default)]
	pub heat_demand_wh: f64,
	#[serde(default = "one")]
	pub cop: f64,
}

fn one() -> f64 {
	1.0
}

impl Slot {
	/// A slot of a house whose own net import is `house_net_wh` (negative: its PV feeds in),
	/// without heat demand.
	pub fn of_house(house_net_wh: f64, buy_per_kwh: u64, sell_per_kwh: u64) -> Slot {
		Slot {
			load_wh: house_net_wh.max(0.0),
			pv_wh: (-house_net_wh).max(0.0),
			buy_per_kwh,
			sell_per_kwh,
			import_limit_wh: None,
			heat_demand_wh: 0.0,
			cop: 1.0,
		}
	}
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatteryModel {
	pub capacity_wh: f64,
	pub stored_wh: f64,
	pub power_w: f64,
	/// One way.
	pub efficiency: f64,
	/// What the owner keeps in it for an outage: never planned below.
	#[serde(default)]
	pub reserve_wh: f64,
	/// Whether it may charge from the grid, not only from the PV's surplus.
	#[serde(default)]
	pub grid_charge: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarModel {
	/// It is plugged in from this slot (0: now) until before `departure_slot`.
	#[serde(default)]
	pub arrival_slot: usize,
	pub departure_slot: usize,
	/// What must reach its battery by then (the owner's target less what it holds).
	pub needed_wh: f64,
	pub power_w: f64,
	pub efficiency: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeatPumpModel {
	/// Electric power when it runs.
	pub power_w: f64,
	pub tank_wh_per_kelvin: f64,
	pub tank_c: f64,
	/// The comfort band the tank stays in.
	pub min_c: f64,
	pub max_c: f64,
}

/// The owner's goal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Goal {
	#[default]
	Cheapest,
	MostSelfConsumed,
}

/// What the devices do in a slot, and what crosses the meter.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SlotPlan {
	/// AC energy into the battery; negative out of it.
	pub battery_wh: f64,
	/// What it holds after the slot.
	pub battery_stored_wh: f64,
	pub car_wh: f64,
	pub heat_pump_wh: f64,
	/// The tank after the slot.
	pub tank_c: f64,
	pub import_wh: f64,
	pub export_wh: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
	pub slots: Vec<SlotPlan>,
	/// What the slots' imports cost less what their exports earn, in micro-euros.
	pub cost: f64,
	/// What the battery holds at the end is worth, in micro-euros: what a plan is judged by is
	/// `cost − value_left`.
	pub value_left: f64,
}

/// Why there is no plan.
#[derive(Clone, Debug, PartialEq)]
pub enum PlanError {
	/// A value no home has: the field and why.
	Invalid { field: String, reason: String },
	/// No schedule meets every constraint (a band the heat pump cannot hold, a cap the
	/// house's load alone exceeds).
	Infeasible,
	/// The solver failed.
	Solver(String),
}

impl fmt::Display for PlanError {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		match self {
			Self::Invalid { field, reason } => write!(f, "{field}: {reason}"),
			Self::Infeasible => write!(f, "no schedule meets every constraint"),
			Self::Solver(e) => write!(f, "the solver failed: {e}"),
		}
	}
}

impl std::error::Error for PlanError {}

/// The most slots a problem plans: four days of 15-minute slots.
pub const MAX_SLOTS: usize = 4 * 96;

/// The most a home draws or feeds in per slot: a bound that keeps the program bounded.
const METER_LIMIT_WH: f64 = 1e6;

impl Problem {
	fn hours(&self) -> f64 {
		f64::from(self.slot_seconds) / 3600.0
	}

	/// Every value in range; the first that is not is named.
	pub fn check(&self) -> Result<(), PlanError> {
		let invalid = |field: &str, reason: &str| {
			Err(PlanError::Invalid { field: field.into(), reason: reason.into() })
		};
		let ok = |v: f64| v.is_finite() && v >= 0.0;
		if !(1..=3_600).contains(&self.slot_seconds) {
			return invalid("slot_seconds", "not between 1 and 3600");
		}
		if self.slots.is_empty() || self.slots.len() > MAX_SLOTS {
			return invalid("slots", "not between 1 and 384 slots");
		}
		for (i, s) in self.slots.iter().enumerate() {
			let field = |name: &str| format!("slots[{i}].{name}");
			for (name, v) in
				[("load_wh", s.load_wh), ("pv_wh", s.pv_wh), ("heat_demand_wh", s.heat_demand_wh)]
			{
				if !ok(v) || v > METER_LIMIT_WH {
					return invalid(&field(name), "not a number of Wh between 0 and 1e6");
				}
			}
			if s.import_limit_wh.is_some_and(|v| !ok(v)) {
				return invalid(&field("import_limit_wh"), "not a number of Wh at least 0");
			}
			if !(s.cop.is_finite() && (0.5..=10.0).contains(&s.cop)) {
				return invalid(&field("cop"), "not between 0.5 and 10");
			}
			if s.buy_per_kwh > 10_000_000 {
				return invalid(&field("buy_per_kwh"), "above 10 EUR/kWh");
			}
			// Otherwise drawing to feed in would pay without end.
			if s.sell_per_kwh > s.buy_per_kwh {
				return invalid(&field("sell_per_kwh"), "above what a kWh drawn costs");
			}
		}
		if let Some(b) = &self.battery {
			if !(ok(b.capacity_wh) && b.capacity_wh > 0.0 && b.capacity_wh <= 1e6) {
				return invalid("battery.capacity_wh", "not between 0 and 1e6");
			}
			if !(ok(b.stored_wh) && b.stored_wh <= b.capacity_wh) {
				return invalid("battery.stored_wh", "not between 0 and the capacity");
			}
			if !(ok(b.reserve_wh) && b.reserve_wh <= b.capacity_wh) {
				return invalid("battery.reserve_wh", "not between 0 and the capacity");
			}
			if !(ok(b.power_w) && b.power_w <= 1e6) {
				return invalid("battery.power_w", "not between 0 and 1e6");
			}
			if !(b.efficiency > 0.5 && b.efficiency <= 1.0) {
				return invalid("battery.efficiency", "not above 0.5 and at most 1");
			}
		}
		if let Some(c) = &self.car {
			if c.arrival_slot > c.departure_slot {
				return invalid("car.arrival_slot", "after its departure");
			}
			if !(ok(c.needed_wh) && c.needed_wh <= 1e6 && ok(c.power_w) && c.power_w <= 1e6) {
				return invalid("car.needed_wh", "needed_wh and power_w are not between 0 and 1e6");
			}
			if !(c.efficiency > 0.5 && c.efficiency <= 1.0) {
				return invalid("car.efficiency", "not above 0.5 and at most 1");
			}
		}
		if let Some(h) = &self.heat_pump {
			if !(ok(h.power_w)
				&& h.power_w <= 1e5
				&& h.tank_wh_per_kelvin > 0.0
				&& h.tank_wh_per_kelvin <= 1e5)
			{
				return invalid("heat_pump.power_w", "power_w or tank_wh_per_kelvin out of range");
			}
			let c = |v: f64| v.is_finite() && (0.0..=95.0).contains(&v);
			if !(c(h.min_c) && c(h.max_c) && h.min_c <= h.max_c && c(h.tank_c)) {
				return invalid(
					"heat_pump.min_c",
					"the band and the tank are not temperatures from 0 to 95 °C, min ≤ max",
				);
			}
		}
		Ok(())
	}

	/// The car's need, cut to what its plugged slots can give.
	fn car_need(&self, c: &CarModel) -> f64 {
		let slots = self.car_slots(c).count() as f64;
		c.needed_wh.min(slots * c.power_w * self.hours() * c.efficiency)
	}

	fn car_slots(&self, c: &CarModel) -> std::ops::Range<usize> {
		c.arrival_slot.min(self.slots.len())..c.departure_slot.min(self.slots.len())
	}

	/// What the program minimises for `import` and `export` Wh in slot `s`.
	fn weights(&self, s: &Slot) -> (f64, f64) {
		let (buy, sell) = (s.buy_per_kwh as f64 / 1_000.0, s.sell_per_kwh as f64 / 1_000.0);
		match self.goal {
			Goal::Cheapest => (buy, -sell),
			Goal::MostSelfConsumed => (CROSSING + buy, CROSSING - sell),
		}
	}
}

/// A Wh the battery holds at the end, in micro-euros: the horizon's cheapest Wh drawn, as it
/// comes out of the battery.
pub(crate) fn value_per_wh(problem: &Problem, b: &BatteryModel) -> f64 {
	let cheapest = problem.slots.iter().map(|s| s.buy_per_kwh).min().unwrap_or(0);
	cheapest as f64 / 1_000.0 * b.efficiency
}

/// A plan of `slots`: its cost at `problem`'s prices and what its battery holds at the end is
/// worth, in micro-euros.
fn judged(problem: &Problem, slots: Vec<SlotPlan>) -> Plan {
	let cost = problem
		.slots
		.iter()
		.zip(&slots)
		.map(|(s, p)| {
			(p.import_wh * s.buy_per_kwh as f64 - p.export_wh * s.sell_per_kwh as f64) / 1_000.0
		})
		.sum();
	let value_left = match (&problem.battery, slots.last()) {
		(Some(b), Some(last)) => last.battery_stored_wh * value_per_wh(problem, b),
		_ => 0.0,
	};
	Plan { slots, cost, value_left }
}

/// What charging or discharging a Wh costs in the program, so that the battery never does
/// both in one slot, which a battery cannot. For the cheapest plan a trifle: burning energy
/// in the battery's losses never pays there. For the most self-consumed one, where a Wh not
/// fed in counts, enough that burning one in the losses (`1 − η²` of a Wh cycled) weighs
/// less than its penalty, while a Wh shifted from noon to evening (`1 + η²` not crossing the
/// meter) still weighs more.
fn cycling(goal: Goal, efficiency: f64) -> f64 {
	match goal {
		Goal::Cheapest => 1e-4,
		Goal::MostSelfConsumed => {
			let square = efficiency * efficiency;
			1.5 * CROSSING * (1.0 - square) / (1.0 + square)
		}
	}
}

/// What a Wh across the meter weighs when the goal is the most self-consumed: more than any
/// price difference.
const CROSSING: f64 = 1e4;

/// The plan: exact for the model, deterministic.
pub fn plan(problem: &Problem) -> Result<Plan, PlanError> {
	problem.check()?;
	let hours = problem.hours();
	let n = problem.slots.len();
	let mut lp = Lp::new(OptimizationDirection::Minimize);
	let (mut import, mut export) = (Vec::with_capacity(n), Vec::with_capacity(n));
	for s in &problem.slots {
		let (buy, sell) = problem.weights(s);
		let cap = s.import_limit_wh.unwrap_or(METER_LIMIT_WH).min(METER_LIMIT_WH);
		import.push(lp.add_var(buy, (0.0, cap)));
		export.push(lp.add_var(sell, (0.0, METER_LIMIT_WH)));
	}
	// The balance of each slot: what crosses the meter and what each device takes.
	let mut balance: Vec<Vec<(Variable, f64)>> =
		(0..n).map(|t| vec![(import[t], 1.0), (export[t], -1.0)]).collect();
	// A state that carries from slot to slot: `state(t) − state(t−1) − Σ a·x(t) = b(t)`, the
	// state before the first slot a constant. Its bounds are the state's.
	// The last state's objective coefficient is `last`: what is left is worth something.
	let carried = |lp: &mut Lp,
	               start: f64,
	               bounds: (f64, f64),
	               flows: &[Vec<(Variable, f64)>],
	               b: &[f64],
	               last: f64| {
		let mut before: Option<Variable> = None;
		(0..n)
			.map(|t| {
				let state = lp.add_var(if t + 1 == n { last } else { 0.0 }, bounds);
				let mut row = vec![(state, 1.0)];
				row.extend(flows[t].iter().map(|&(v, a)| (v, -a)));
				let rhs = match before {
					Some(v) => {
						row.push((v, -1.0));
						b[t]
					}
					None => b[t] + start,
				};
				lp.add_constraint(row.as_slice(), ComparisonOp::Eq, rhs);
				before = Some(state);
				state
			})
			.collect::<Vec<_>>()
	};
	let mut battery = None;
	if let Some(b) = &problem.battery {
		let most = b.power_w * hours;
		let mut flows = Vec::with_capacity(n);
		let mut moves = Vec::with_capacity(n);
		for (t, s) in problem.slots.iter().enumerate() {
			let surplus = (s.pv_wh - s.load_wh).max(0.0);
			let cycling = cycling(problem.goal, b.efficiency);
			let charge =
				lp.add_var(cycling, (0.0, if b.grid_charge { most } else { most.min(surplus) }));
			let discharge = lp.add_var(cycling, (0.0, most));
			flows.push(vec![(charge, b.efficiency), (discharge, -1.0 / b.efficiency)]);
			balance[t].extend([(charge, -1.0), (discharge, 1.0)]);
			moves.push((charge, discharge));
		}
		let floor = b.reserve_wh.min(b.stored_wh);
		let worth = match problem.goal {
			Goal::Cheapest => value_per_wh(problem, b),
			Goal::MostSelfConsumed => CROSSING * b.efficiency + value_per_wh(problem, b),
		};
		let stored =
			carried(&mut lp, b.stored_wh, (floor, b.capacity_wh), &flows, &vec![0.0; n], -worth);
		battery = Some((moves, stored));
	}
	let mut car = None;
	if let Some(c) = &problem.car {
		let plugged = problem.car_slots(c);
		let energy: Vec<_> = (0..n)
			.map(|t| {
				lp.add_var(0.0, (0.0, if plugged.contains(&t) { c.power_w * hours } else { 0.0 }))
			})
			.collect();
		let into_car: Vec<_> = plugged.map(|t| (energy[t], c.efficiency)).collect();
		if !into_car.is_empty() {
			// What rounding in the solver leaves short of the need is not a missed departure.
			let need = problem.car_need(c) * (1.0 - 1e-9);
			lp.add_constraint(into_car.as_slice(), ComparisonOp::Ge, need);
		}
		for t in 0..n {
			balance[t].push((energy[t], -1.0));
		}
		car = Some(energy);
	}
	let mut heat_pump = None;
	if let Some(h) = &problem.heat_pump {
		let electricity: Vec<_> =
			(0..n).map(|_| lp.add_var(0.0, (0.0, h.power_w * hours))).collect();
		let flows: Vec<_> = (0..n)
			.map(|t| vec![(electricity[t], problem.slots[t].cop / h.tank_wh_per_kelvin)])
			.collect();
		let cooling: Vec<_> =
			problem.slots.iter().map(|s| -s.heat_demand_wh / h.tank_wh_per_kelvin).collect();
		// A tank that starts outside the band may stay where it is, not jump into it.
		let band = (h.min_c.min(h.tank_c), h.max_c.max(h.tank_c));
		carried(&mut lp, h.tank_c, band, &flows, &cooling, 0.0);
		for t in 0..n {
			balance[t].push((electricity[t], -1.0));
		}
		heat_pump = Some(electricity);
	}
	for (t, s) in problem.slots.iter().enumerate() {
		lp.add_constraint(balance[t].as_slice(), ComparisonOp::Eq, s.load_wh - s.pv_wh);
	}
	let solution = match lp.solve() {
		Ok(outcome) => {
			outcome.into_solution().map_err(|_| PlanError::Solver("interrupted".into()))?
		}
		Err(microlp::Error::Infeasible) => return Err(PlanError::Infeasible),
		Err(e) => return Err(PlanError::Solver(format!("{e:?}"))),
	};
	let value = |v: Variable| solution.var_value(v).max(0.0);
	let mut tank = problem.heat_pump.as_ref().map_or(0.0, |h| h.tank_c);
	let slots = (0..n)
		.map(|t| {
			let mut p = SlotPlan {
				import_wh: value(import[t]),
				export_wh: value(export[t]),
				..Default::default()
			};
			if let Some((moves, stored)) = &battery {
				p.battery_wh = value(moves[t].0) - value(moves[t].1);
				p.battery_stored_wh = value(stored[t]);
			}
			if let Some(energy) = &car {
				p.car_wh = value(energy[t]);
			}
			if let (Some(electricity), Some(h)) = (&heat_pump, &problem.heat_pump) {
				p.heat_pump_wh = value(electricity[t]);
				let s = &problem.slots[t];
				tank += (p.heat_pump_wh * s.cop - s.heat_demand_wh) / h.tank_wh_per_kelvin;
				p.tank_c = tank;
			}
			p
		})
		.collect::<Vec<_>>();
	Ok(judged(problem, slots))
}

/// The same home with every device in its own mode, under the plan's model: the battery
/// self-consuming, the car charging at full power from its arrival until it has what it
/// needs, the heat pump holding the tank at the band's floor.
pub fn own_modes(problem: &Problem) -> Result<Plan, PlanError> {
	problem.check()?;
	let hours = problem.hours();
	let mut stored = problem.battery.as_ref().map_or(0.0, |b| b.stored_wh);
	let mut tank = problem.heat_pump.as_ref().map_or(0.0, |h| h.tank_c);
	let mut car_left = problem.car.as_ref().map_or(0.0, |c| problem.car_need(c));
	let slots = problem
		.slots
		.iter()
		.enumerate()
		.map(|(t, s)| {
			let mut p = SlotPlan::default();
			if let Some(h) = &problem.heat_pump {
				// Just enough heat to stay at the floor.
				let short = (h.min_c - tank) * h.tank_wh_per_kelvin + s.heat_demand_wh;
				p.heat_pump_wh = (short / s.cop).clamp(0.0, h.power_w * hours);
				tank += (p.heat_pump_wh * s.cop - s.heat_demand_wh) / h.tank_wh_per_kelvin;
				p.tank_c = tank;
			}
			if let Some(c) = &problem.car {
				if problem.car_slots(c).contains(&t) {
					p.car_wh = (car_left / c.efficiency).min(c.power_w * hours);
					car_left -= p.car_wh * c.efficiency;
				}
			}
			let mut net = s.load_wh - s.pv_wh + p.car_wh + p.heat_pump_wh;
			if let Some(b) = &problem.battery {
				let most = b.power_w * hours;
				if net < 0.0 {
					let c = (-net).min(most).min((b.capacity_wh - stored) / b.efficiency).max(0.0);
					stored += c * b.efficiency;
					p.battery_wh = c;
				} else {
					let floor = b.reserve_wh.min(stored);
					let d = net.min(most).min((stored - floor) * b.efficiency).max(0.0);
					stored -= d / b.efficiency;
					p.battery_wh = -d;
				}
				net += p.battery_wh;
				p.battery_stored_wh = stored;
			}
			p.import_wh = net.max(0.0);
			p.export_wh = (-net).max(0.0);
			p
		})
		.collect::<Vec<_>>();
	Ok(judged(problem, slots))
}
