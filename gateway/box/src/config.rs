//! `gateway.toml`: which metering point the box serves, the chain it signs for (its raw chain
//! spec), the nodes it talks to, its meter, the home's devices it runs, and where it keeps its
//! key and journal. `gateway.toml` in this crate is the documented example.
//!
//! A configuration is checked whole at start: an unknown field, a missing key file or a
//! malformed value stops the gateway with an error that names it, before it touches the meter
//! or a node.

use crate::meter::{map::MapConfig, modbus::Transport};
use lem_gateway_core::owner::StandingOrder;
use lem_light_client::finality::Checkpoint;
use lem_planner::home::Preferences;
use serde::Deserialize;
use std::{
	fmt,
	net::SocketAddr,
	path::{Path, PathBuf},
	time::Duration,
};

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct File {
	metering_point: u64,
	chain_spec: PathBuf,
	nodes: Vec<String>,
	key_file: PathBuf,
	journal: PathBuf,
	#[serde(default)]
	metrics: Option<SocketAddr>,
	#[serde(default)]
	app_origin: Option<String>,
	#[serde(default = "default_keep_slots")]
	keep_slots: u64,
	meter: MeterFile,
	#[serde(default)]
	owner: Option<OwnerFile>,
	#[serde(default)]
	battery: Option<BatteryFile>,
	#[serde(default)]
	heat_pump: Option<HeatPumpFile>,
	#[serde(default)]
	charger: Option<ChargerFile>,
	/// The owner's preferences for the plan; the defaults if absent.
	#[serde(default)]
	plan: Preferences,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ChargerFile {
	protocol: ChargerProtocolName,
	/// Where the box, the wallbox's central system, listens for it.
	listen: SocketAddr,
	/// The charge point's identity, the last part of the URL it connects to.
	charge_point: String,
	/// A file holding the wallbox's authorization key (OCPP's security profile 1: the wallbox
	/// sends its identity and this key by HTTP Basic authentication); without one, any device
	/// on the home network may connect as the wallbox.
	#[serde(default)]
	authorization_key_file: Option<PathBuf>,
	/// Its rated power, and what of the energy it gives reaches the car's battery.
	#[serde(default = "default_charger_power_w")]
	power_w: u32,
	#[serde(default = "default_charger_efficiency_percent")]
	efficiency_percent: u8,
	#[serde(default = "default_watchdog_seconds")]
	watchdog_seconds: u16,
	#[serde(default = "default_answer_within_ms")]
	answer_within_ms: u64,
}

#[derive(Deserialize, Debug, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum ChargerProtocolName {
	Ocpp16,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct BatteryFile {
	protocol: BatteryProtocolName,
	/// OpenEMS's push: where the box, its remote EMS, takes the Edge's pushes.
	#[serde(default)]
	listen: Option<SocketAddr>,
	/// Modbus TCP: its address on the home network; Modbus RTU: its serial line.
	#[serde(default)]
	address: Option<SocketAddr>,
	#[serde(default)]
	serial: Option<String>,
	#[serde(default = "default_baud")]
	baud: u32,
	#[serde(default = "default_unit")]
	unit: u8,
	/// What it stores when full, in Wh: the planner's bound.
	capacity_wh: u32,
	/// What of the energy it takes it stores, and of what it stores it gives back: one way.
	#[serde(default = "default_battery_efficiency_percent")]
	efficiency_percent: u8,
	#[serde(default = "default_watchdog_seconds")]
	watchdog_seconds: u16,
	#[serde(default = "default_answer_within_ms")]
	answer_within_ms: u64,
}

#[derive(Deserialize, Debug, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum BatteryProtocolName {
	Sunspec,
	OpenemsPush,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct HeatPumpFile {
	protocol: HeatPumpProtocolName,
	/// Modbus TCP: its address on the home network; Modbus RTU: its serial line.
	#[serde(default)]
	address: Option<SocketAddr>,
	#[serde(default)]
	serial: Option<String>,
	#[serde(default = "default_baud")]
	baud: u32,
	#[serde(default = "default_unit")]
	unit: u8,
	/// The relays at SG-Ready's contacts 1 and 2.
	#[serde(default = "default_coils")]
	coils: [u16; 2],
	#[serde(default = "default_watchdog_seconds")]
	watchdog_seconds: u16,
	#[serde(default = "default_answer_within_ms")]
	answer_within_ms: u64,
}

#[derive(Deserialize, Debug, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum HeatPumpProtocolName {
	SgReadyRelays,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct OwnerFile {
	key_file: PathBuf,
	buy_limit_per_kwh: u64,
	sell_limit_per_kwh: u64,
	// TOML's integers are 64-bit: up to 18 million euros a day in micro-euros.
	daily_budget: u64,
	#[serde(default = "default_horizon_slots")]
	horizon_slots: u64,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct MeterFile {
	#[serde(default)]
	protocol: ProtocolName,
	/// Modbus TCP: the meter's (or its gateway's) address.
	#[serde(default)]
	address: Option<SocketAddr>,
	/// Modbus RTU and SML: the serial device, and its speed.
	#[serde(default)]
	serial: Option<String>,
	#[serde(default = "default_baud")]
	baud: u32,
	#[serde(default = "default_unit")]
	unit: u8,
	#[serde(default = "default_poll_seconds")]
	poll_seconds: u64,
	#[serde(default = "default_answer_within_ms")]
	answer_within_ms: u64,
	/// Modbus: where the registers are.
	#[serde(default)]
	map: Option<MapConfig>,
}

/// The protocols a meter is read over (`[meter] protocol`).
#[derive(Deserialize, Debug, Default, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum ProtocolName {
	#[default]
	ModbusTcp,
	ModbusRtu,
	Sml,
}

/// Two weeks of 15-minute slots: more than the chain keeps (a week), so that the journal still
/// says why a slot the chain refused as too old is missing.
fn default_keep_slots() -> u64 {
	2 * 672
}
/// An hour of 15-minute slots ahead: far enough for the forecast to be worth something, near
/// enough that the bids held do not tie up the day's budget.
fn default_horizon_slots() -> u64 {
	4
}
/// Modbus RTU meters' most common speed, and the D0 interface's.
fn default_baud() -> u32 {
	9_600
}
fn default_unit() -> u8 {
	1
}
fn default_poll_seconds() -> u64 {
	2
}
fn default_answer_within_ms() -> u64 {
	1_000
}
/// OpenEMS's and most inverters' default: a command lapses a minute after its last renewal.
fn default_watchdog_seconds() -> u16 {
	60
}
/// A three-phase 16 A wallbox.
fn default_charger_power_w() -> u32 {
	11_000
}
fn default_charger_efficiency_percent() -> u8 {
	90
}
fn default_battery_efficiency_percent() -> u8 {
	95
}
fn default_coils() -> [u16; 2] {
	[0, 1]
}

/// A checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
	pub metering_point: u64,
	/// Block 0 and the first GRANDPA set, from the raw chain spec: where following finality
	/// starts when the journal has no checkpoint.
	pub genesis: Checkpoint,
	/// The hash of the chain's block 0: every reading is signed for this chain only, and a
	/// node of another chain is dropped.
	pub genesis_hash: [u8; 32],
	/// WebSocket JSON-RPC URLs, tried in order.
	pub nodes: Vec<String>,
	pub key_file: PathBuf,
	pub journal: PathBuf,
	/// Where Prometheus scrapes the gateway's metrics; none if absent.
	pub metrics: Option<SocketAddr>,
	/// The web app's origin, which may read the box's answers from the owner's browser.
	pub app_origin: Option<String>,
	/// How many slots the journal keeps before the newest.
	pub keep_slots: u64,
	pub meter: MeterConfig,
	/// Trading for the owner; none if the box only reads the meter.
	pub owner: Option<OwnerConfig>,
	/// The home's devices the box runs, if it has them.
	pub battery: Option<BatteryConfig>,
	pub heat_pump: Option<HeatPumpConfig>,
	pub charger: Option<ChargerConfig>,
	/// What the owner asks of the plan, until the box's HTTP API changes it.
	pub preferences: Preferences,
}

/// An EV's wallbox, its protocol.
#[derive(Debug, Clone)]
pub struct ChargerConfig {
	pub protocol: ChargerProtocol,
	pub power_w: u32,
	pub efficiency_percent: u8,
	/// A charging profile lasts this long unless renewed.
	pub watchdog_s: u16,
	pub answer_within: Duration,
}

#[derive(Debug, Clone)]
pub enum ChargerProtocol {
	/// OCPP 1.6J, the box the wallbox's central system at `listen`.
	Ocpp16 { listen: SocketAddr, charge_point: String, authorization_key: Option<String> },
}

/// A battery, its protocol and what it holds.
#[derive(Debug, Clone)]
pub struct BatteryConfig {
	pub protocol: BatteryProtocol,
	pub capacity_wh: u32,
	pub efficiency_percent: u8,
	/// After this long without the box's renewal the battery returns to its own mode.
	pub watchdog_s: u16,
	pub answer_within: Duration,
}

#[derive(Debug, Clone)]
pub enum BatteryProtocol {
	/// A storage inverter with SunSpec's model 124.
	Sunspec { transport: Transport, unit: u8 },
	/// OpenEMS Edge pushing to the box as its remote EMS at `listen`.
	OpenemsPush { listen: SocketAddr },
}

/// A heat pump, its protocol.
#[derive(Debug, Clone)]
pub struct HeatPumpConfig {
	pub protocol: HeatPumpProtocol,
	pub watchdog_s: u16,
	pub answer_within: Duration,
}

#[derive(Debug, Clone)]
pub enum HeatPumpProtocol {
	/// SG-Ready's contacts on two relays of a Modbus relay module.
	SgReadyRelays { transport: Transport, unit: u8, coils: [u16; 2] },
}

/// What the box trades for its owner, and within what.
#[derive(Debug, Clone)]
pub struct OwnerConfig {
	/// The owner's account key (sr25519 secret seed, hex).
	pub key_file: PathBuf,
	/// The standing order the box keeps on the chain; its limits are also those of the bids
	/// and asks it places, and its budget also bounds what the day's bids could cost.
	pub standing_order: StandingOrder,
	/// Orders go for this many slots ahead whose gates are open.
	pub horizon_slots: u64,
}

/// pallet-market's `MAX_PRICE_PER_KWH`: the highest limit it takes.
const MAX_PRICE_PER_KWH: u64 = 1_000_000_000;

#[derive(Debug, Clone)]
pub struct MeterConfig {
	pub protocol: MeterProtocol,
	pub poll: Duration,
	/// How long the meter may take to answer a request.
	pub answer_within: Duration,
}

/// The meter's protocol and where it is.
#[derive(Debug, Clone)]
pub enum MeterProtocol {
	/// Modbus over `transport` (TCP or RTU), unit `unit`, its registers found through `map`.
	Modbus { transport: Transport, unit: u8, map: MapConfig },
	/// SML telegrams pushed on the serial line `path` at `baud`.
	Sml { path: String, baud: u32 },
}

/// Why a configuration was refused. Each names the file and the field.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
	pub path: PathBuf,
	pub reason: String,
}

impl fmt::Display for ConfigError {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		write!(f, "{}: {}", self.path.display(), self.reason)
	}
}

impl std::error::Error for ConfigError {}

impl Config {
	/// Reads and checks `path`. Relative paths in it are relative to the file's directory.
	pub fn load(path: &Path) -> Result<Config, ConfigError> {
		let error = |reason: String| ConfigError { path: path.to_owned(), reason };
		let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
		let file: File = toml::from_str(&text).map_err(|e| error(e.message().to_owned()))?;
		let dir = path.parent().unwrap_or(Path::new("."));
		let chain_spec = dir.join(&file.chain_spec);
		let spec = std::fs::read(&chain_spec)
			.map_err(|e| error(format!("chain_spec: {}: {e}", chain_spec.display())))?;
		let genesis = lem_light_client::chain_spec::genesis(&spec)
			.map_err(|e| error(format!("chain_spec: {}: {e}", chain_spec.display())))?;
		if file.nodes.is_empty() {
			return Err(error("nodes: at least one node URL is needed".into()));
		}
		if let Some(url) = file.nodes.iter().find(|u| !u.starts_with("ws://")) {
			return Err(error(format!("nodes: {url:?} is not a ws:// URL")));
		}
		let meter = file.meter;
		if !(1..=60).contains(&meter.poll_seconds) {
			return Err(error(format!(
				"meter.poll_seconds: {} is not between 1 and 60",
				meter.poll_seconds
			)));
		}
		if meter.answer_within_ms == 0 || meter.answer_within_ms > 1_000 * meter.poll_seconds {
			return Err(error(format!(
				"meter.answer_within_ms: {} is not between 1 and the poll interval",
				meter.answer_within_ms
			)));
		}
		// Only a serial line has a speed.
		if meter.serial.is_some() && !(1_200..=115_200).contains(&meter.baud) {
			return Err(error(format!(
				"meter.baud: {} is not between 1200 and 115200",
				meter.baud
			)));
		}
		let protocol = match (meter.protocol, meter.address, meter.serial, meter.map) {
			(ProtocolName::ModbusTcp, Some(address), None, Some(map)) => {
				MeterProtocol::Modbus { transport: Transport::Tcp(address), unit: meter.unit, map }
			}
			(ProtocolName::ModbusRtu, None, Some(path), Some(map)) => MeterProtocol::Modbus {
				transport: Transport::Rtu { path, baud: meter.baud },
				unit: meter.unit,
				map,
			},
			(ProtocolName::Sml, None, Some(path), None) => MeterProtocol::Sml { path, baud: meter.baud },
			(ProtocolName::ModbusTcp, ..) => {
				return Err(error("meter: modbus_tcp needs an address and a map, and no serial".into()))
			}
			(ProtocolName::ModbusRtu, ..) => {
				return Err(error(
					"meter: modbus_rtu needs a serial device and a map, and no address".into(),
				))
			}
			(ProtocolName::Sml, ..) => {
				return Err(error(
					"meter: sml needs a serial device, and no address or map (the telegram names its registers)"
						.into(),
				))
			}
		};
		let key_file = dir.join(file.key_file);
		if !key_file.is_file() {
			return Err(error(format!(
				"key_file: {} does not exist (make one with `lem-gateway keygen`)",
				key_file.display()
			)));
		}
		let owner = match file.owner {
			None => None,
			Some(o) => {
				let key_file = dir.join(o.key_file);
				if !key_file.is_file() {
					return Err(error(format!(
						"owner.key_file: {} does not exist",
						key_file.display()
					)));
				}
				for (name, limit) in [("buy", o.buy_limit_per_kwh), ("sell", o.sell_limit_per_kwh)]
				{
					if limit > MAX_PRICE_PER_KWH {
						return Err(error(format!(
							"owner.{name}_limit_per_kwh: {limit} is above the market's most, {MAX_PRICE_PER_KWH}"
						)));
					}
				}
				if !(1..=96).contains(&o.horizon_slots) {
					return Err(error(format!(
						"owner.horizon_slots: {} is not between 1 and 96",
						o.horizon_slots
					)));
				}
				Some(OwnerConfig {
					key_file,
					standing_order: StandingOrder {
						buy_limit_per_kwh: o.buy_limit_per_kwh,
						sell_limit_per_kwh: o.sell_limit_per_kwh,
						daily_budget: o.daily_budget as u128,
					},
					horizon_slots: o.horizon_slots,
				})
			}
		};
		// A device's command is renewed at the first poll after a third of its watchdog.
		let device_timing = |section: &str, watchdog: u16, answer_within_ms: u64| {
			if u64::from(watchdog) < 3 * meter.poll_seconds || watchdog > 3_600 {
				return Err(error(format!(
					"{section}.watchdog_seconds: {watchdog} is not between three polls ({} s) and 3600",
					3 * meter.poll_seconds
				)));
			}
			if answer_within_ms == 0 || answer_within_ms > 10_000 {
				return Err(error(format!(
					"{section}.answer_within_ms: {answer_within_ms} is not between 1 and 10000"
				)));
			}
			Ok(Duration::from_millis(answer_within_ms))
		};
		let battery = match file.battery {
			None => None,
			Some(b) => {
				let answer_within =
					device_timing("battery", b.watchdog_seconds, b.answer_within_ms)?;
				if !(100..=1_000_000).contains(&b.capacity_wh) {
					return Err(error(format!(
						"battery.capacity_wh: {} is not between 100 and 1000000",
						b.capacity_wh
					)));
				}
				let protocol = match (b.protocol, b.listen) {
					(BatteryProtocolName::Sunspec, None) => BatteryProtocol::Sunspec {
						transport: modbus_transport("battery", b.address, b.serial, b.baud)
							.map_err(error)?,
						unit: b.unit,
					},
					(BatteryProtocolName::OpenemsPush, Some(listen))
						if b.address.is_none() && b.serial.is_none() =>
					{
						BatteryProtocol::OpenemsPush { listen }
					}
					(BatteryProtocolName::Sunspec, Some(_)) => {
						return Err(error(
							"battery: sunspec takes an address or a serial device, not listen"
								.into(),
						))
					}
					(BatteryProtocolName::OpenemsPush, _) => {
						return Err(error(
							"battery: openems_push needs listen, and no address or serial".into(),
						))
					}
				};
				let efficiency_percent =
					percent("battery.efficiency_percent", b.efficiency_percent).map_err(error)?;
				Some(BatteryConfig {
					protocol,
					capacity_wh: b.capacity_wh,
					efficiency_percent,
					watchdog_s: b.watchdog_seconds,
					answer_within,
				})
			}
		};
		let heat_pump = match file.heat_pump {
			None => None,
			Some(h) => {
				let answer_within =
					device_timing("heat_pump", h.watchdog_seconds, h.answer_within_ms)?;
				if h.coils[0] == h.coils[1] {
					return Err(error("heat_pump.coils: contacts 1 and 2 need two relays".into()));
				}
				let transport =
					modbus_transport("heat_pump", h.address, h.serial, h.baud).map_err(error)?;
				let protocol = match h.protocol {
					HeatPumpProtocolName::SgReadyRelays => {
						HeatPumpProtocol::SgReadyRelays { transport, unit: h.unit, coils: h.coils }
					}
				};
				Some(HeatPumpConfig { protocol, watchdog_s: h.watchdog_seconds, answer_within })
			}
		};
		let charger = match file.charger {
			None => None,
			Some(c) => {
				let answer_within =
					device_timing("charger", c.watchdog_seconds, c.answer_within_ms)?;
				let id_ok = !c.charge_point.is_empty()
					&& c.charge_point.len() <= 48
					&& c.charge_point
						.chars()
						.all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch));
				if !id_ok {
					return Err(error(format!(
						"charger.charge_point: {:?} is not 1 to 48 letters, digits, '-', '_' or '.'",
						c.charge_point
					)));
				}
				let authorization_key = match c.authorization_key_file {
					None => None,
					Some(file) => {
						let file = dir.join(file);
						let key = std::fs::read_to_string(&file).map_err(|e| {
							error(format!(
								"charger.authorization_key_file: {}: {e}",
								file.display()
							))
						})?;
						let key = key.trim().to_owned();
						// OCPP 1.6's AuthorizationKey: 16 to 40 characters; no colon, which
						// ends the identity in Basic credentials.
						let key_ok = (16..=40).contains(&key.len())
							&& key.chars().all(|ch| ch.is_ascii_graphic() && ch != ':');
						if !key_ok {
							return Err(error(format!(
								"charger.authorization_key_file: {} does not hold 16 to 40 printable characters without ':'",
								file.display()
							)));
						}
						Some(key)
					}
				};
				let protocol = match c.protocol {
					ChargerProtocolName::Ocpp16 => ChargerProtocol::Ocpp16 {
						listen: c.listen,
						charge_point: c.charge_point,
						authorization_key,
					},
				};
				if !(1_000..=350_000).contains(&c.power_w) {
					return Err(error(format!(
						"charger.power_w: {} is not between 1000 and 350000",
						c.power_w
					)));
				}
				let efficiency_percent =
					percent("charger.efficiency_percent", c.efficiency_percent).map_err(error)?;
				Some(ChargerConfig {
					protocol,
					power_w: c.power_w,
					efficiency_percent,
					watchdog_s: c.watchdog_seconds,
					answer_within,
				})
			}
		};
		file.plan.check().map_err(|e| error(format!("plan.{e}")))?;
		if let Some(origin) = &file.app_origin {
			// An origin is a scheme, a host and perhaps a port: nothing a header could carry more in.
			let rest = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
			let host_ok = |h: &str| {
				!h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))
			};
			if !rest.is_some_and(host_ok) {
				return Err(error(format!(
					"app_origin: {origin:?} is not an origin such as \"https://app.example.org\""
				)));
			}
		}
		Ok(Config {
			preferences: file.plan,
			owner,
			battery,
			heat_pump,
			charger,
			metering_point: file.metering_point,
			genesis_hash: genesis.hash(),
			genesis,
			nodes: file.nodes,
			key_file,
			journal: dir.join(file.journal),
			metrics: file.metrics,
			app_origin: file.app_origin,
			keep_slots: file.keep_slots.max(1),
			meter: MeterConfig {
				protocol,
				poll: Duration::from_secs(meter.poll_seconds),
				answer_within: Duration::from_millis(meter.answer_within_ms),
			},
		})
	}
}

/// A one-way efficiency: more than half, at most all.
fn percent(field: &str, value: u8) -> Result<u8, String> {
	if (51..=100).contains(&value) {
		Ok(value)
	} else {
		Err(format!("{field}: {value} is not between 51 and 100"))
	}
}

/// A Modbus device's transport: an address, or a serial line at a speed.
fn modbus_transport(
	section: &str,
	address: Option<SocketAddr>,
	serial: Option<String>,
	baud: u32,
) -> Result<Transport, String> {
	match (address, serial) {
		(Some(address), None) => Ok(Transport::Tcp(address)),
		(None, Some(path)) if (1_200..=115_200).contains(&baud) => {
			Ok(Transport::Rtu { path, baud })
		}
		(None, Some(_)) => Err(format!("{section}.baud: {baud} is not between 1200 and 115200")),
		_ => Err(format!("{section}: needs an address or a serial device, one of them")),
	}
}
