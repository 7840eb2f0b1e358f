//! What the gateway reads from the chain, through lem-light-client.
//!
//! Everything the journal records as fact — a reading final, or another reading of the slot
//! final instead — and the slot length the box cuts its readings by are storage values read
//! with a proof at the block whose finality the client checked itself. Two things are a node's
//! word, because no value rests on them: the best block's clock, which only says when a
//! reading is worth sending (too early, and the pool refuses it), and why the pool refuses a
//! transaction, which the journal records as the reason.

use crate::{
	bill::{self, Fill, Record},
	owner::StandingOrder,
};
use codec::{Decode, DecodeAll, Encode};
use lem_light_client::{
	client::{ClientError, LightClient},
	header::Hash,
	storage::{blake2_128_concat, twox_64_concat, value_key},
};
use std::{collections::BTreeMap, fmt};

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

/// Why the chain could not be read.
#[derive(Debug)]
pub enum ChainError {
	Client(ClientError),
	/// A proven value the gateway cannot decode: the runtime's storage layout is not the one
	/// this gateway knows. Nothing is concluded from it.
	Layout {
		item: &'static str,
	},
}

impl fmt::Display for ChainError {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		match self {
			Self::Client(e) => write!(f, "{e}"),
			Self::Layout { item } => {
				write!(f, "{item} on the chain is not in the layout this gateway knows")
			}
		}
	}
}

impl From<ClientError> for ChainError {
	fn from(e: ClientError) -> Self {
		ChainError::Client(e)
	}
}

/// What the chain holds at the client's checkpoint, proven.
#[derive(Debug, Clone, PartialEq)]
pub struct Finalized {
	pub block: Hash,
	pub number: u32,
	/// The block's time (`Timestamp::Now`), in Unix milliseconds.
	pub time_ms: u64,
	/// The chain's block time (`AuthoritySet::BlockTimeMs`): the box waits in blocks.
	pub block_ms: u64,
	pub community: Community,
	/// The energy the chain accepted for each asked slot of the metering point, if any.
	pub readings: BTreeMap<u64, Option<(u64, u64)>>,
	pub owner: Option<OwnerFacts>,
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

/// Whose account to read, and its orders of which slots.
pub struct OwnerQuery<'a> {
	pub account: &'a [u8; 32],
	pub slots: &'a [u64],
}

/// Reads, in one proof at the checkpoint, the community's parameters, the metering point's
/// readings of `slots` and what `owner` asks of the owner's account.
pub async fn read_finalized(
	client: &mut LightClient,
	metering_point: u64,
	slots: &[u64],
	owner: Option<OwnerQuery<'_>>,
) -> Result<Finalized, ChainError> {
	let mut keys: Vec<Vec<u8>> = [timestamp_key(), block_time_key(), community_key()]
		.into_iter()
		.chain(slots.iter().map(|&s| reading_key(s, metering_point)))
		.collect();
	if let Some(o) = &owner {
		keys.extend([account_key(o.account), standing_order_key(o.account)]);
		keys.extend(o.slots.iter().map(|&s| account_orders_key(o.account, s)));
	}
	let checkpoint = client.checkpoint().clone();
	let mut values = client.read(&keys).await?.into_iter();
	let time_ms = values
		.next()
		.flatten()
		.and_then(|bytes| u64::decode_all(&mut &bytes[..]).ok())
		.ok_or(ChainError::Layout { item: "Timestamp::Now" })?;
	let block_ms = match values.next().flatten() {
		None => DEFAULT_BLOCK_MS,
		Some(bytes) => u64::decode_all(&mut &bytes[..])
			.ok()
			.filter(|&ms| ms > 0)
			.ok_or(ChainError::Layout { item: "AuthoritySet::BlockTimeMs" })?,
	};
	let community = values
		.next()
		.flatten()
		.as_deref()
		.and_then(Community::decode)
		.ok_or(ChainError::Layout { item: "Market::CommunityParams" })?;
	let mut readings = BTreeMap::new();
	for &slot in slots {
		let energy = match values.next().flatten() {
			Some(bytes) => Some(
				decode_energy(&bytes).ok_or(ChainError::Layout { item: "Metering::Readings" })?,
			),
			None => None,
		};
		readings.insert(slot, energy);
	}
	let owner = match owner {
		None => None,
		Some(o) => {
			let nonce = decode_nonce(values.next().flatten().as_deref())
				.ok_or(ChainError::Layout { item: "System::Account" })?;
			let standing_order = decode_standing_order(values.next().flatten().as_deref())
				.ok_or(ChainError::Layout { item: "Market::StandingOrders" })?;
			let mut orders = BTreeMap::new();
			for &slot in o.slots {
				let ids = match values.next().flatten() {
					Some(bytes) => Vec::<u64>::decode_all(&mut &bytes[..])
						.map_err(|_| ChainError::Layout { item: "Market::AccountOrders" })?,
					None => Vec::new(),
				};
				orders.insert(slot, ids);
			}
			Some(OwnerFacts { nonce, standing_order, orders })
		}
	};
	Ok(Finalized {
		block: checkpoint.hash(),
		number: checkpoint.number(),
		time_ms,
		block_ms,
		community,
		readings,
		owner,
	})
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

/// What the box reads at the checkpoint for its bills.
#[derive(Debug, Clone, PartialEq)]
pub struct BillFacts {
	/// The checkpoint block's time (`Timestamp::Now`), in seconds.
	pub now_seconds: u64,
	/// `Settlement::TariffsInForce` and the account's `Settlement::RetailChoices`, as bytes
	/// ([`crate::bill::decode_terms`] reads them for a slot).
	pub tariffs: Vec<u8>,
	pub retail: Option<Vec<u8>>,
	/// Each asked slot's facts.
	pub slots: BTreeMap<u64, SlotFacts>,
}

/// What the chain shows of a slot a bill is asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum SlotFacts {
	Unsettled,
	Settled(Box<SettledFacts>),
	/// Settled and since forgotten: it left the chain's retention window.
	Forgotten,
}

/// Reads, in one proof at the checkpoint, the block's time, the terms, how far settlement has
/// come, and for each of `slots` (with the ids of the box's orders in it) whether it is
/// settled and if so the
/// account's record, the fills of those orders and of the metering point ex post, and the
/// metering point's reading unless the slot was settled on an estimate.
pub async fn read_bills(
	client: &mut LightClient,
	account: &[u8; 32],
	metering_point: u64,
	slots: &[(u64, Vec<u64>)],
) -> Result<BillFacts, ChainError> {
	let mut keys = vec![
		value_key("Timestamp", "Now"),
		tariffs_key(),
		retail_choice_key(account),
		settlement_cursor_key(),
	];
	for (slot, orders) in slots {
		keys.extend([
			settled_slot_key(*slot),
			record_key(*slot, account),
			ex_post_fill_key(*slot, metering_point),
			reading_key(*slot, metering_point),
			estimate_key(*slot, metering_point),
		]);
		keys.extend(orders.iter().map(|&order| fill_key(*slot, order)));
	}
	let mut values = client.read(&keys).await?.into_iter();
	let mut next = || values.next().flatten();
	let layout = |item| ChainError::Layout { item };
	let now_ms = next().and_then(|b| u64::decode_all(&mut &b[..]).ok());
	let now_seconds = now_ms.ok_or(layout("Timestamp::Now"))? / 1000;
	let tariffs = next().ok_or(layout("Settlement::TariffsInForce"))?;
	let retail = next();
	let settling = next()
		.map(|b| u64::decode_all(&mut &b[..]).map_err(|_| layout("Settlement::SettlementCursor")))
		.transpose()?;
	let mut facts = BTreeMap::new();
	for (slot, orders) in slots {
		let values = SlotValues {
			settled: next(),
			record: next(),
			ex_post: next(),
			reading: next(),
			estimate: next(),
			fills: orders.iter().map(|_| next()).collect(),
		};
		facts.insert(*slot, slot_facts(*slot, orders, metering_point, settling, values)?);
	}
	Ok(BillFacts { now_seconds, tariffs, retail, slots: facts })
}

/// The values [`read_bills`] proves for a slot, under the keys it names them by.
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
) -> Result<SlotFacts, ChainError> {
	let layout = |item| ChainError::Layout { item };
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

/// The time of the node's best block, in seconds (`MarketApi_clock`). The node's word: a lie
/// only makes a reading go early, to be refused and sent again, or late.
pub async fn best_block_seconds(client: &mut LightClient) -> Result<u64, ChainError> {
	let bytes = client.state_call_unchecked("MarketApi_clock", &[], None).await?;
	// now_seconds, current_slot, first_open_slot, next_to_clear.
	let (now_seconds, _, _, _) = <(u64, u64, u64, Option<u64>)>::decode_all(&mut &bytes[..])
		.map_err(|_| ChainError::Layout { item: "MarketApi_clock" })?;
	Ok(now_seconds)
}

/// The pallet's code for why the runtime refuses `extrinsic` at the checkpoint, if it does
/// (`InvalidTransaction::Custom`). The pool bans a refused extrinsic's bytes for half an hour
/// and then answers only "banned"; the runtime still says why. The node's word.
pub async fn refusal(client: &mut LightClient, extrinsic: &[u8]) -> Result<Option<u8>, ChainError> {
	const EXTERNAL: u8 = 2;
	let at = client.checkpoint().hash();
	let args = [&[EXTERNAL][..], extrinsic, &at].concat();
	let validity = client
		.state_call_unchecked("TaggedTransactionQueue_validate_transaction", &args, Some(&at))
		.await?;
	// Err(TransactionValidityError::Invalid(InvalidTransaction::Custom(code))).
	Ok(match validity[..] {
		[1, 0, 7, code] => Some(code),
		_ => None,
	})
}

/// The runtime's versions a signature is bound to (`Core_version`). The node's word: a lie
/// only makes the owner's transactions invalid.
pub async fn runtime_versions(client: &mut LightClient) -> Result<(u32, u32), ChainError> {
	let bytes = client.state_call_unchecked("Core_version", &[], None).await?;
	// spec_name, impl_name, authoring_version, spec_version, impl_version, apis,
	// transaction_version (then fields the gateway does not need).
	let (_, _, _, spec_version, _, _, transaction_version) =
		<(String, String, u32, u32, u32, Vec<([u8; 8], u32)>, u32)>::decode(&mut &bytes[..])
			.map_err(|_| ChainError::Layout { item: "Core_version" })?;
	Ok((spec_version, transaction_version))
}

/// The account's next nonce at the node's best block (`AccountNonceApi_account_nonce`). The
/// node's word: it only says whether the owner's last transaction is in a block yet; that the
/// order it carried was placed is read with a proof once final.
pub async fn best_nonce(client: &mut LightClient, account: &[u8; 32]) -> Result<u32, ChainError> {
	let bytes = client.state_call_unchecked("AccountNonceApi_account_nonce", account, None).await?;
	u32::decode_all(&mut &bytes[..]).map_err(|_| ChainError::Layout { item: "AccountNonceApi" })
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

/// Applies `extrinsic` on the node's best state without keeping anything
/// (`BlockBuilder_apply_extrinsic`, as `system_dryRun` does): a refused order costs no fee
/// and is logged with the pallet's named error. The node's word, as the pool's would be.
pub async fn dry_run(client: &mut LightClient, extrinsic: &[u8]) -> Result<DryRun, ChainError> {
	let bytes =
		client.state_call_unchecked("BlockBuilder_apply_extrinsic", extrinsic, None).await?;
	Ok(DryRun::decode(&bytes))
}
