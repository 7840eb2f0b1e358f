//! The chain's storage the box proves, and the values it decodes: the keys of what it reads
//! at a finalized block, and each value's layout, read from the runtime's documented encoding
//! rather than its types (`tests/chain.rs` checks both against the runtime). A value that does
//! not decode is a [`Layout`] error naming it: nothing is concluded from it.
//!
//! Also the node's answers the box takes as the node's word — the best block's clock, the
//! runtime's versions, the pool's and a dry run's verdicts — decoded here, acted on in
//! `lem-gateway`'s `chain.rs`.

use crate::{
	bill::{self, Fill, Record},
	owner::StandingOrder,
};
use alloc::{
	boxed::Box,
	collections::BTreeMap,
	format,
	string::{String, ToString},
	vec::Vec,
};
use codec::{Decode, DecodeAll, Encode};
use lem_light_client::storage::{blake2_128_concat, twox_64_concat, value_key};

/// A value on the chain not in the layout this box knows: the runtime's storage layout is not
/// the one it was built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
	pub item: &'static str,
}

/// A key of a map by slot and an id (an order's or a metering point's), both `Twox64Concat`.
fn slot_map_key(pallet: &str, item: &str, slot: u64, id: u64) -> Vec<u8> {
	[value_key(pallet, item), twox_64_concat(&slot.encode()), twox_64_concat(&id.encode())].concat()
}

/// `Metering::Readings`: (slot, metering point) → the accepted reading.
pub fn reading_key(slot: u64, metering_point: u64) -> Vec<u8> {
	slot_map_key("Metering", "Readings", slot, metering_point)
}

/// `Market::CommunityParams`.
pub fn community_key() -> Vec<u8> {
	value_key("Market", "CommunityParams")
}

/// `Timestamp::Now`: the block's time, in Unix milliseconds.
pub fn timestamp_key() -> Vec<u8> {
	value_key("Timestamp", "Now")
}

pub fn block_time_key() -> Vec<u8> {
	value_key("AuthoritySet", "BlockTimeMs")
}

/// The block time of a chain that stores none: `AuthoritySet::BlockTimeMs`'s default.
pub const DEFAULT_BLOCK_MS: u64 = 6_000;

/// `blocks` of `block_ms` each, in whole seconds (rounded up: a wait is never short).
pub fn blocks_seconds(blocks: u64, block_ms: u64) -> u64 {
	(blocks * block_ms).div_ceil(1000)
}

/// The box's clock cuts slots; the chain's cuts them too. How far the box's clock may run
/// behind the time of a finalized block, and ahead of it: a finalized block is some blocks old.
pub const CLOCK_BEHIND_ALLOWED_MS: u64 = 5_000;
pub const CLOCK_AHEAD_ALLOWED_MS: u64 = 60_000;

/// How far the box's clock (`box_ms`) is off from the time of a block finalized by then
/// (`finalized_ms`), if beyond the allowance: negative when the box is behind.
pub fn clock_skew(box_ms: u64, finalized_ms: u64) -> Option<i64> {
	let skew = box_ms as i64 - finalized_ms as i64;
	(skew < -(CLOCK_BEHIND_ALLOWED_MS as i64) || skew > CLOCK_AHEAD_ALLOWED_MS as i64)
		.then_some(skew)
}

/// `System::Account`: the account's nonce and balances.
pub fn account_key(account: &[u8; 32]) -> Vec<u8> {
	[value_key("System", "Account"), blake2_128_concat(account)].concat()
}

/// `Market::StandingOrders`: the account's standing order, by slot.
pub fn standing_order_key(account: &[u8; 32]) -> Vec<u8> {
	[value_key("Market", "StandingOrders"), blake2_128_concat(account)].concat()
}

/// `Market::AccountOrders`: (account, slot) → its orders' ids.
pub fn account_orders_key(account: &[u8; 32], slot: u64) -> Vec<u8> {
	[
		value_key("Market", "AccountOrders"),
		blake2_128_concat(account),
		twox_64_concat(&slot.encode()),
	]
	.concat()
}

/// `Market::Fills`: (slot, order) → the order's fill.
pub fn fill_key(slot: u64, order: u64) -> Vec<u8> {
	slot_map_key("Market", "Fills", slot, order)
}

/// `Settlement::ExPostFills`: (slot, metering point) → the point's ex-post fill.
pub fn ex_post_fill_key(slot: u64, metering_point: u64) -> Vec<u8> {
	slot_map_key("Settlement", "ExPostFills", slot, metering_point)
}

/// `Settlement::Estimates`: (slot, metering point) → the estimate the point was settled on,
/// present only if its slot was settled without a reading.
pub fn estimate_key(slot: u64, metering_point: u64) -> Vec<u8> {
	slot_map_key("Settlement", "Estimates", slot, metering_point)
}

/// `Settlement::SettlementCursor`: the next slot to settle.
pub fn settlement_cursor_key() -> Vec<u8> {
	value_key("Settlement", "SettlementCursor")
}

/// `Settlement::SettledSlots`: a settled slot as a whole, with its ex-post clearing.
pub fn settled_slot_key(slot: u64) -> Vec<u8> {
	[value_key("Settlement", "SettledSlots"), twox_64_concat(&slot.encode())].concat()
}

/// `Settlement::Records`: (slot, account) → how the account's slot was settled.
pub fn record_key(slot: u64, account: &[u8; 32]) -> Vec<u8> {
	[value_key("Settlement", "Records"), twox_64_concat(&slot.encode()), blake2_128_concat(account)]
		.concat()
}

/// `Settlement::TariffsInForce`, and the account's `Settlement::RetailChoices`.
pub fn tariffs_key() -> Vec<u8> {
	value_key("Settlement", "TariffsInForce")
}

pub fn retail_choice_key(account: &[u8; 32]) -> Vec<u8> {
	[value_key("Settlement", "RetailChoices"), blake2_128_concat(account)].concat()
}

/// `Market::MeteringPoints`: the point's owner, zone and rated power.
pub fn metering_point_key(metering_point: u64) -> Vec<u8> {
	[value_key("Market", "MeteringPoints"), twox_64_concat(&metering_point.encode())].concat()
}

/// The zone of a `MeteringPoint`: its second field, after the owner's account.
pub fn decode_zone(bytes: &[u8]) -> Option<u32> {
	let (_owner, zone) = <([u8; 32], u32)>::decode(&mut &bytes[..]).ok()?;
	Some(zone)
}

/// `Market::GridInForce`: the DSO's zones, their fees, capacities and traffic lights.
pub fn grid_key() -> Vec<u8> {
	value_key("Market", "GridInForce")
}

/// `Market::ClearedSlots`: a slot's clearing, with each zone's price.
pub fn cleared_slot_key(slot: u64) -> Vec<u8> {
	[value_key("Market", "ClearedSlots"), twox_64_concat(&slot.encode())].concat()
}

/// `pallet_market::TrafficLight`: the DSO's word on a zone's edge.
#[derive(Decode, Encode, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Light {
	#[default]
	Green,
	/// The DSO's surcharge is added to the edge's fee.
	Yellow,
	/// The edge is closed to the market: the DSO asks the zone to draw no more than it must.
	Red,
}

/// `pallet_market::Zone`, field for field.
#[derive(Decode)]
struct ZoneLayout {
	id: u32,
	_parent: Option<u32>,
	_fee_per_kwh: u64,
	_capacity_wh: Option<u64>,
	light: Light,
}

/// `pallet_market::Grid`: its zones, then the yellow surcharge.
#[derive(Decode)]
struct GridLayout {
	zones: Vec<ZoneLayout>,
	_yellow_surcharge_per_kwh: u64,
}

/// The light of `zone` in a `Grid`'s bytes (green for a zone the grid does not name); `None`
/// if the bytes are not a grid.
pub fn decode_light(grid: &[u8], zone: u32) -> Option<Light> {
	let grid = GridLayout::decode_all(&mut &grid[..]).ok()?;
	Some(grid.zones.iter().find(|z| z.id == zone).map_or(Light::Green, |z| z.light))
}

/// The price `zone` cleared at in a `ClearedSlot`'s bytes: its grid, its pricing, then a
/// price per zone (`None` inside: the zone traded nothing). `None` if the bytes are not a
/// cleared slot.
pub fn decode_zone_price(cleared: &[u8], zone: u32) -> Option<Option<i64>> {
	let mut bytes = cleared;
	let _grid = GridLayout::decode(&mut bytes).ok()?;
	let _pricing = u8::decode(&mut bytes).ok()?;
	let prices = Vec::<(u32, Option<i64>)>::decode(&mut bytes).ok()?;
	Some(prices.into_iter().find(|(z, _)| *z == zone).and_then(|(_, price)| price))
}

/// The energy (import, export) in an `AcceptedReading`: its `Metered` half, before the
/// registers (slot, import, export).
pub fn decode_energy(bytes: &[u8]) -> Option<(u64, u64)> {
	let (import, export, _slot, _import_register, _export_register) =
		<(u64, u64, u64, u64, u64)>::decode_all(&mut &bytes[..]).ok()?;
	Some((import, export))
}

/// What the gateway works by of `pallet_market::Community`: its first three fields.
#[derive(Decode, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Community {
	pub slot_seconds: u64,
	pub gate_closure_lead_seconds: u64,
	pub order_horizon_slots: u32,
}

impl Community {
	pub fn decode(bytes: &[u8]) -> Option<Community> {
		<Community as Decode>::decode(&mut &bytes[..]).ok().filter(|c| c.slot_seconds > 0)
	}

	/// No order for `slot` is taken from this unix time on.
	pub fn gate_closure(&self, slot: u64) -> u64 {
		(slot * self.slot_seconds).saturating_sub(self.gate_closure_lead_seconds)
	}
}

/// The account's nonce: `AccountInfo`'s first field. An account the chain does not hold has
/// sent nothing.
pub fn decode_nonce(account_info: Option<&[u8]>) -> Option<u32> {
	account_info.map_or(Some(0), |bytes| u32::decode(&mut &bytes[..]).ok())
}

/// The standing order in force from the next slot on, of a `Scheduled<Option<StandingOrder>>`.
pub fn decode_standing_order(scheduled: Option<&[u8]>) -> Option<Option<StandingOrder>> {
	let Some(mut bytes) = scheduled else { return Some(None) };
	let (_before, _from, current) =
		<(Option<StandingOrder>, u64, Option<StandingOrder>)>::decode_all(&mut bytes).ok()?;
	Some(current)
}

/// The owner's account as the chain holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnerFacts {
	/// The next nonce the chain takes from the account.
	pub nonce: u32,
	pub standing_order: Option<StandingOrder>,
	/// The ids of the account's orders in each asked slot (none once it is settled).
	pub orders: BTreeMap<u64, Vec<u64>>,
}

/// What the chain holds of a settled slot for the owner's bill, proven.
#[derive(Debug, Clone, PartialEq)]
pub struct SettledFacts {
	pub record: Option<Record>,
	/// The fills of the box's orders in the ex-ante clearing, and its metering point's in the
	/// ex-post clearing.
	pub fills: Vec<Fill>,
	pub ex_post: Option<Fill>,
	/// The reading the slot was settled on; `None` if it was settled on an estimate, even if a
	/// reading came after (a late one, which corrects a later slot).
	pub metered: Option<(u64, u64)>,
}

/// What the chain shows of a slot a bill is asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum SlotFacts {
	Unsettled,
	Settled(Box<SettledFacts>),
	/// Settled and since forgotten: it left the chain's retention window.
	Forgotten,
}

/// The values `lem-gateway` proves for a slot's bill, under the keys it names them by.
pub struct SlotValues {
	pub settled: Option<Vec<u8>>,
	pub record: Option<Vec<u8>>,
	pub ex_post: Option<Vec<u8>>,
	pub reading: Option<Vec<u8>>,
	pub estimate: Option<Vec<u8>>,
	/// The fills of the box's orders, in their order.
	pub fills: Vec<Option<Vec<u8>>>,
}

/// What `values` show of `slot`, with `orders` the box's orders in it and `settling` the next
/// slot to settle.
pub fn slot_facts(
	slot: u64,
	orders: &[u64],
	metering_point: u64,
	settling: Option<u64>,
	values: SlotValues,
) -> Result<SlotFacts, Layout> {
	let layout = |item| Layout { item };
	let Some(settled) = values.settled else {
		// Every slot before the cursor was settled: one without its totals was forgotten.
		let forgotten = settling.is_some_and(|next| slot < next);
		return Ok(if forgotten { SlotFacts::Forgotten } else { SlotFacts::Unsettled });
	};
	if !bill::is_settled_slot(&settled) {
		return Err(layout("Settlement::SettledSlots"));
	}
	let record = values
		.record
		.map(|b| bill::decode_record(&b).ok_or(layout("Settlement::Records")))
		.transpose()?;
	// A fill is kept under its order's id (ex post, its metering point's) and names it.
	let fill = |bytes: Vec<u8>, key: u64, item| {
		bill::decode_fill(&bytes).filter(|f| f.order == key).ok_or(layout(item))
	};
	let ex_post =
		values.ex_post.map(|b| fill(b, metering_point, "Settlement::ExPostFills")).transpose()?;
	let fills = orders
		.iter()
		.zip(values.fills)
		.filter_map(|(&id, bytes)| Some(fill(bytes?, id, "Market::Fills")))
		.collect::<Result<_, _>>()?;
	// A reading that came after its slot settled on an estimate corrects a later slot.
	let metered = values
		.reading
		.filter(|_| values.estimate.is_none())
		.map(|b| decode_energy(&b).ok_or(layout("Metering::Readings")))
		.transpose()?;
	Ok(SlotFacts::Settled(Box::new(SettledFacts { record, fills, ex_post, metered })))
}

/// What applying a transaction at the node's best block would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DryRun {
	Applies,
	/// Dispatched but failed: the pallet's named error, or the dispatch error's kind.
	Fails(String),
	/// Not a valid transaction now (`InvalidTransaction`'s variant, e.g. `Stale`).
	Invalid(&'static str),
	Unknown(String),
}

const INVALID_TRANSACTION: [&str; 13] = [
	"Call",
	"Payment",
	"Future",
	"Stale",
	"BadProof",
	"AncientBirthBlock",
	"ExhaustsResources",
	"Custom",
	"BadMandatory",
	"MandatoryValidation",
	"BadSigner",
	"IndeterminateImplicit",
	"UnknownOrigin",
];

const DISPATCH_ERRORS: [&str; 15] = [
	"Other",
	"CannotLookup",
	"BadOrigin",
	"Module",
	"ConsumerRemaining",
	"NoProviders",
	"TooManyConsumers",
	"Token",
	"Arithmetic",
	"Transactional",
	"Exhausted",
	"Corruption",
	"Unavailable",
	"RootNotAllowed",
	"Trie",
];

impl DryRun {
	/// An `ApplyExtrinsicResult`:
	/// `Result<Result<(), DispatchError>, TransactionValidityError>`.
	pub fn decode(bytes: &[u8]) -> DryRun {
		match bytes {
			[0, 0] => DryRun::Applies,
			[0, 1, 3, pallet, error, ..] if *pallet == crate::owner::MARKET_PALLET => {
				match crate::owner::market_error(*error) {
					Some(name) => DryRun::Fails(name.into()),
					None => DryRun::Fails(format!("Market error {error}")),
				}
			}
			[0, 1, 3, pallet, error, ..] => DryRun::Fails(format!("pallet {pallet} error {error}")),
			[0, 1, kind, ..] => DryRun::Fails(
				DISPATCH_ERRORS
					.get(*kind as usize)
					.map_or("dispatch error".into(), |k| k.to_string()),
			),
			[1, 0, kind, ..] if (*kind as usize) < INVALID_TRANSACTION.len() => {
				DryRun::Invalid(INVALID_TRANSACTION[*kind as usize])
			}
			_ => DryRun::Unknown(lem_light_client::hex::encode(bytes)),
		}
	}
}

/// The best block's time in seconds, from a `MarketApi_clock` answer: `now_seconds`,
/// `current_slot`, `first_open_slot`, `next_to_clear`.
pub fn decode_clock(bytes: &[u8]) -> Result<u64, Layout> {
	let (now_seconds, _, _, _) = <(u64, u64, u64, Option<u64>)>::decode_all(&mut &bytes[..])
		.map_err(|_| Layout { item: "MarketApi_clock" })?;
	Ok(now_seconds)
}

/// The pallet's code in a `TaggedTransactionQueue_validate_transaction` answer that refuses
/// the transaction with `InvalidTransaction::Custom(code)`; `None` for any other answer.
pub fn decode_refusal(validity: &[u8]) -> Option<u8> {
	// Err(TransactionValidityError::Invalid(InvalidTransaction::Custom(code))).
	match validity {
		[1, 0, 7, code] => Some(*code),
		_ => None,
	}
}

/// `spec_version` and `transaction_version` of a `Core_version` answer: a signature is bound
/// to them.
pub fn decode_versions(bytes: &[u8]) -> Result<(u32, u32), Layout> {
	// spec_name, impl_name, authoring_version, spec_version, impl_version, apis,
	// transaction_version (then fields the box does not need).
	let (_, _, _, spec_version, _, _, transaction_version) =
		<(String, String, u32, u32, u32, Vec<([u8; 8], u32)>, u32)>::decode(&mut &bytes[..])
			.map_err(|_| Layout { item: "Core_version" })?;
	Ok((spec_version, transaction_version))
}
