//! The JSON face of the clearing engine: what the `lem-clear` binary, its tests and its fuzz
//! target all call.
//!
//! A DSO uses it to try fees and capacities before setting them on the chain, and anyone can
//! recompute a slot's clearing from its orders. Input and output follow issue 3:
//!
//! ```json
//! {"zones":  [{"id": 0}, {"id": 1, "parent": 0, "fee_per_kwh": 20000, "capacity_wh": 50000}],
//!  "orders": [{"id": 7, "side": "bid", "zone": 1, "energy_wh": 1500, "limit_per_kwh": 300000}],
//!  "pricing": "pay-as-clear"}
//! ```
//! gives `zone_prices`, `fills` (every order), `flows` (every non-root zone), `welfare`,
//! `dso_revenue` and `remainder`, money in the settlement asset's smallest unit.
//!
//! Every refusal names the offending field by its place in the input, such as
//! `orders[3].zone: unknown zone 9`.

use std::fmt;

use lem_clearing::{Instance, Order, Pricing, Side, Zone};
use serde::{Deserialize, Serialize};

/// A refused input: the field at fault (a path into the input such as `orders[3].zone`, or
/// `input` for JSON that does not parse at all) and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
	/// Where in the input.
	pub field: String,
	/// What is wrong, naming the offending value.
	pub message: String,
}

impl fmt::Display for Error {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		write!(f, "{}: {}", self.field, self.message)
	}
}

impl std::error::Error for Error {}

fn refuse(field: impl Into<String>, message: impl Into<String>) -> Error {
	Error { field: field.into(), message: message.into() }
}

/// An integer field as written in the input. Read from the raw JSON text and narrowed by hand,
/// so that a negative energy, an id beyond u32 or a fraction gets a message naming the field
/// and the value as written, instead of a parser error about the next character.
#[derive(Clone, Copy)]
struct Int(i128);

impl<'de> Deserialize<'de> for Int {
	fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Int, D::Error> {
		let raw = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
		let text = raw.get();
		text.parse().map(Int).map_err(|_| {
			let digits = text.strip_prefix('-').unwrap_or(text);
			if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
				serde::de::Error::custom(format_args!("integer {text} out of range"))
			} else {
				serde::de::Error::custom(format_args!("expected an integer, got {text}"))
			}
		})
	}
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InputInstance {
	zones: Vec<InputZone>,
	orders: Vec<InputOrder>,
	#[serde(default)]
	pricing: InputPricing,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InputZone {
	id: Int,
	#[serde(default)]
	parent: Option<Int>,
	#[serde(default)]
	fee_per_kwh: Option<Int>,
	#[serde(default)]
	capacity_wh: Option<Int>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InputOrder {
	id: Int,
	side: InputSide,
	zone: Int,
	energy_wh: Int,
	limit_per_kwh: Int,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum InputSide {
	Bid,
	Ask,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "kebab-case")]
enum InputPricing {
	#[default]
	PayAsClear,
	PayAsBid,
}

#[derive(Serialize)]
struct Output {
	zone_prices: Vec<OutputZonePrice>,
	fills: Vec<OutputFill>,
	flows: Vec<OutputFlow>,
	welfare: i128,
	dso_revenue: i128,
	remainder: i128,
}

#[derive(Serialize)]
struct OutputZonePrice {
	zone: u32,
	/// `null` when no order reaches the zone, so nothing fixes its price.
	price_per_kwh: Option<i64>,
}

#[derive(Serialize)]
struct OutputFill {
	id: u64,
	energy_wh: u64,
	price_per_kwh: i64,
}

#[derive(Serialize)]
struct OutputFlow {
	zone: u32,
	energy_wh: i64,
}

/// Clears the slot described by `input` (JSON) and returns the result as JSON.
pub fn run(input: &[u8]) -> Result<String, Error> {
	let instance = parse(input)?;
	let outcome = lem_clearing::clear(&instance).map_err(|e| locate(&instance, e))?;
	let output = Output {
		zone_prices: outcome
			.zone_prices
			.iter()
			.map(|z| OutputZonePrice { zone: z.zone, price_per_kwh: z.price_per_kwh })
			.collect(),
		fills: outcome
			.fills
			.iter()
			.map(|f| OutputFill {
				id: f.order,
				energy_wh: f.energy_wh,
				price_per_kwh: f.price_per_kwh,
			})
			.collect(),
		flows: outcome
			.flows
			.iter()
			.map(|f| OutputFlow { zone: f.zone, energy_wh: f.energy_wh })
			.collect(),
		welfare: outcome.welfare,
		dso_revenue: outcome.dso_revenue,
		remainder: outcome.remainder,
	};
	serde_json::to_string_pretty(&output).map_err(|e| refuse("output", e.to_string()))
}

/// Reads the JSON into the engine's types; refuses malformed JSON, unknown or missing fields
/// and numbers that do not fit the field's type.
pub fn parse(input: &[u8]) -> Result<Instance, Error> {
	let mut de = serde_json::Deserializer::from_slice(input);
	let raw: InputInstance = serde_path_to_error::deserialize(&mut de)
		.map_err(|e| refuse(field_path(e.path()), e.inner().to_string()))?;
	de.end().map_err(|e| refuse("input", e.to_string()))?;

	let mut zones = Vec::with_capacity(raw.zones.len());
	for (i, z) in raw.zones.iter().enumerate() {
		let at = |name: &str| format!("zones[{i}].{name}");
		let id = narrow::<u32>(z.id, || at("id"), "zone id")?;
		let parent = z.parent.map(|p| narrow::<u32>(p, || at("parent"), "zone id")).transpose()?;
		let fee_per_kwh =
			narrow::<i64>(z.fee_per_kwh.unwrap_or(Int(0)), || at("fee_per_kwh"), "fee")?;
		let capacity_wh = match z.capacity_wh {
			Some(Int(c)) if c < 0 => {
				return Err(refuse(at("capacity_wh"), format!("negative capacity {c}")))
			}
			Some(c) => Some(narrow::<u64>(c, || at("capacity_wh"), "capacity")?),
			None => None,
		};
		zones.push(Zone { id, parent, fee_per_kwh, capacity_wh });
	}

	let mut orders = Vec::with_capacity(raw.orders.len());
	for (i, o) in raw.orders.iter().enumerate() {
		let at = |name: &str| format!("orders[{i}].{name}");
		let id = narrow::<u64>(o.id, || at("id"), "order id")?;
		let zone = narrow::<u32>(o.zone, || at("zone"), "zone id")?;
		if o.energy_wh.0 < 0 {
			return Err(refuse(at("energy_wh"), format!("negative energy {}", o.energy_wh.0)));
		}
		let energy_wh = narrow::<u64>(o.energy_wh, || at("energy_wh"), "energy")?;
		let limit_per_kwh = narrow::<i64>(o.limit_per_kwh, || at("limit_per_kwh"), "limit")?;
		orders.push(Order {
			id,
			side: match o.side {
				InputSide::Bid => Side::Bid,
				InputSide::Ask => Side::Ask,
			},
			zone,
			energy_wh,
			limit_per_kwh,
		});
	}

	Ok(Instance {
		zones,
		orders,
		pricing: match raw.pricing {
			InputPricing::PayAsClear => Pricing::PayAsClear,
			InputPricing::PayAsBid => Pricing::PayAsBid,
		},
	})
}

/// Spells where parsing failed as `orders[3].energy_wh`; a key that is not a plain name (such
/// as an empty one) is quoted, `zones[0][""]`, and the document itself is `input`.
fn field_path(path: &serde_path_to_error::Path) -> String {
	use serde_path_to_error::Segment;
	let mut out = String::new();
	for segment in path.iter() {
		match segment {
			Segment::Seq { index } => out.push_str(&format!("[{index}]")),
			Segment::Map { key } | Segment::Enum { variant: key } => {
				if !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
					if !out.is_empty() {
						out.push('.');
					}
					out.push_str(key);
				} else {
					let quoted = serde_json::to_string(key).unwrap_or_else(|_| "\"?\"".into());
					out.push_str(&format!("[{quoted}]"));
				}
			}
			Segment::Unknown => out.push_str(if out.is_empty() { "?" } else { ".?" }),
		}
	}
	if out.is_empty() {
		"input".into()
	} else {
		out
	}
}

fn narrow<T>(Int(value): Int, field: impl FnOnce() -> String, what: &str) -> Result<T, Error>
where
	T: TryFrom<i128> + Bounded,
{
	T::try_from(value).map_err(|_| {
		refuse(field(), format!("{what} {value} out of range ({}..={})", T::MIN, T::MAX))
	})
}

/// The range of an integer type, for messages.
trait Bounded {
	const MIN: i128;
	const MAX: i128;
}

impl Bounded for u32 {
	const MIN: i128 = 0;
	const MAX: i128 = u32::MAX as i128;
}

impl Bounded for u64 {
	const MIN: i128 = 0;
	const MAX: i128 = u64::MAX as i128;
}

impl Bounded for i64 {
	const MIN: i128 = i64::MIN as i128;
	const MAX: i128 = i64::MAX as i128;
}

/// Turns the engine's error (which names ids) into one naming the field in the input. Where an
/// id occurs twice, the later occurrence is the offending one.
fn locate(instance: &Instance, error: lem_clearing::Error) -> Error {
	use lem_clearing::Error as E;
	let zone_at = |id: u32| instance.zones.iter().rposition(|z| z.id == id).unwrap_or(0);
	let order_at = |id: u64| instance.orders.iter().rposition(|o| o.id == id).unwrap_or(0);
	match error {
		E::NoRoot => refuse("zones", "no root zone (a zone without parent)"),
		E::TooManyZones { count } => {
			refuse("zones", format!("{count} zones, at most {} allowed", lem_clearing::MAX_ZONES))
		}
		E::SecondRoot { first, second } => refuse(
			format!("zones[{}].parent", zone_at(second)),
			format!("missing: zone {second} would be a second root besides zone {first}"),
		),
		E::DuplicateZone { zone } => {
			refuse(format!("zones[{}].id", zone_at(zone)), format!("duplicate zone id {zone}"))
		}
		E::UnknownParent { zone, parent } => {
			refuse(format!("zones[{}].parent", zone_at(zone)), format!("unknown zone {parent}"))
		}
		E::ParentCycle { zone } => refuse(
			format!("zones[{}].parent", zone_at(zone)),
			format!("parent cycle through zone {zone}"),
		),
		E::RootEdge { zone } => {
			let i = zone_at(zone);
			let (name, value) = if instance.zones[i].fee_per_kwh != 0 {
				("fee_per_kwh", instance.zones[i].fee_per_kwh.to_string())
			} else {
				(
					"capacity_wh",
					instance.zones[i].capacity_wh.map_or_else(String::new, |c| c.to_string()),
				)
			};
			refuse(
				format!("zones[{i}].{name}"),
				format!("{value} on root zone {zone}, which has no edge to a parent"),
			)
		}
		E::NegativeFee { zone, fee_per_kwh } => refuse(
			format!("zones[{}].fee_per_kwh", zone_at(zone)),
			format!("negative fee {fee_per_kwh}"),
		),
		E::FeeOutOfRange { zone, fee_per_kwh } => refuse(
			format!("zones[{}].fee_per_kwh", zone_at(zone)),
			format!("fee {fee_per_kwh} out of range (at most {})", lem_clearing::MAX_FEE_PER_KWH),
		),
		E::DuplicateOrder { order } => {
			refuse(format!("orders[{}].id", order_at(order)), format!("duplicate order id {order}"))
		}
		E::UnknownZone { order, zone } => {
			refuse(format!("orders[{}].zone", order_at(order)), format!("unknown zone {zone}"))
		}
		E::ZeroEnergy { order } => {
			refuse(format!("orders[{}].energy_wh", order_at(order)), "zero energy 0")
		}
		E::EnergyOutOfRange { order, energy_wh } => refuse(
			format!("orders[{}].energy_wh", order_at(order)),
			format!("energy {energy_wh} out of range (at most {})", lem_clearing::MAX_ENERGY_WH),
		),
		E::LimitOutOfRange { order, limit_per_kwh } => refuse(
			format!("orders[{}].limit_per_kwh", order_at(order)),
			format!(
				"limit {limit_per_kwh} out of range (magnitude at most {})",
				lem_clearing::MAX_PRICE_PER_KWH
			),
		),
		E::TotalEnergyOutOfRange { total_wh } => refuse(
			"orders",
			format!(
				"total energy {total_wh} Wh out of range (at most {})",
				lem_clearing::MAX_TOTAL_ENERGY_WH
			),
		),
		E::NoClearingPrice { zone } => refuse(
			format!("zones[{}]", zone_at(zone)),
			format!("internal error: no clearing price for zone {zone}"),
		),
	}
}
