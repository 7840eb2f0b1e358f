//! What the gateway reads from the chain, through lem-light-client: the keys it asks for and
//! the values' layouts are the core's (`lem_gateway_core::chain`); this adapter asks the
//! nodes, with proofs where a value is relied on.
//!
//! Everything the journal records as fact — a reading final, or another reading of the slot
//! final instead — and the slot length the box cuts its readings by are storage values read
//! with a proof at the block whose finality the client checked itself. Two things are a node's
//! word, because no value rests on them: the best block's clock, which only says when a
//! reading is worth sending (too early, and the pool refuses it), and why the pool refuses a
//! transaction, which the journal records as the reason.

use codec::DecodeAll;
use lem_gateway_core::{
	bill::{self, Terms},
	chain::*,
};
use lem_light_client::{
	client::{ClientError, LightClient},
	header::Hash,
};
use std::{collections::BTreeMap, fmt};

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

impl From<Layout> for ChainError {
	fn from(Layout { item }: Layout) -> Self {
		ChainError::Layout { item }
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
	pub home: Option<HomeFacts>,
}

/// What the box plans its home by: the terms of `slot`, the metering point's zone's light,
/// and the price the zone cleared `price_of` at.
pub struct HomeQuery<'a> {
	/// The owner's account, for its retail choice; grey without one.
	pub account: Option<&'a [u8; 32]>,
	pub slot: u64,
	pub price_of: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HomeFacts {
	pub terms: Terms,
	pub light: Light,
	/// The price the zone cleared the asked slot at, if it is cleared (inside: the zone traded
	/// nothing).
	pub cleared: Option<Option<i64>>,
}

/// Whose account to read, and its orders of which slots.
pub struct OwnerQuery<'a> {
	pub account: &'a [u8; 32],
	pub slots: &'a [u64],
}

/// Reads, in one proof at the checkpoint, the community's parameters, the metering point's
/// readings of `slots`, what `owner` asks of the owner's account and what `home` asks for the
/// plan.
pub async fn read_finalized(
	client: &mut LightClient,
	metering_point: u64,
	slots: &[u64],
	owner: Option<OwnerQuery<'_>>,
	home: Option<HomeQuery<'_>>,
) -> Result<Finalized, ChainError> {
	let mut keys: Vec<Vec<u8>> = [timestamp_key(), block_time_key(), community_key()]
		.into_iter()
		.chain(slots.iter().map(|&s| reading_key(s, metering_point)))
		.collect();
	if let Some(o) = &owner {
		keys.extend([account_key(o.account), standing_order_key(o.account)]);
		keys.extend(o.slots.iter().map(|&s| account_orders_key(o.account, s)));
	}
	if let Some(h) = &home {
		keys.extend([metering_point_key(metering_point), grid_key(), tariffs_key()]);
		keys.extend(h.account.map(retail_choice_key));
		keys.extend(h.price_of.map(cleared_slot_key));
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
	let home = match home {
		None => None,
		Some(h) => {
			let mut next = || values.next().flatten();
			let layout = |item| ChainError::Layout { item };
			// A point the chain does not hold has no zone: no light and no price of its own.
			let zone = next()
				.map(|b| decode_zone(&b).ok_or(layout("Market::MeteringPoints")))
				.transpose()?;
			let grid = next();
			let tariffs = next().ok_or(layout("Settlement::TariffsInForce"))?;
			let retail = h.account.and_then(|_| next());
			let terms = bill::decode_terms(h.slot, &tariffs, retail.as_deref())
				.ok_or(layout("Settlement::TariffsInForce"))?;
			let light = match (zone, grid) {
				(Some(zone), Some(grid)) => {
					decode_light(&grid, zone).ok_or(layout("Market::GridInForce"))?
				}
				_ => Light::Green,
			};
			let cleared = match (h.price_of.and_then(|_| next()), zone) {
				(Some(bytes), Some(zone)) => {
					Some(decode_zone_price(&bytes, zone).ok_or(layout("Market::ClearedSlots"))?)
				}
				_ => None,
			};
			Some(HomeFacts { terms, light, cleared })
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
		home,
	})
}

/// What the box reads at the checkpoint for its bills.
#[derive(Debug, Clone, PartialEq)]
pub struct BillFacts {
	/// The checkpoint block's time (`Timestamp::Now`), in seconds.
	pub now_seconds: u64,
	/// `Settlement::TariffsInForce` and the account's `Settlement::RetailChoices`, as bytes
	/// (`lem_gateway_core::bill::decode_terms` reads them for a slot).
	pub tariffs: Vec<u8>,
	pub retail: Option<Vec<u8>>,
	/// Each asked slot's facts.
	pub slots: BTreeMap<u64, SlotFacts>,
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
	let mut keys =
		vec![timestamp_key(), tariffs_key(), retail_choice_key(account), settlement_cursor_key()];
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

/// The time of the node's best block, in seconds (`MarketApi_clock`). The node's word: a lie
/// only makes a reading go early, to be refused and sent again, or late.
pub async fn best_block_seconds(client: &mut LightClient) -> Result<u64, ChainError> {
	let bytes = client.state_call_unchecked("MarketApi_clock", &[], None).await?;
	Ok(decode_clock(&bytes)?)
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
	Ok(decode_refusal(&validity))
}

/// The runtime's versions a signature is bound to (`Core_version`). The node's word: a lie
/// only makes the owner's transactions invalid.
pub async fn runtime_versions(client: &mut LightClient) -> Result<(u32, u32), ChainError> {
	let bytes = client.state_call_unchecked("Core_version", &[], None).await?;
	Ok(decode_versions(&bytes)?)
}

/// The account's next nonce at the node's best block (`AccountNonceApi_account_nonce`). The
/// node's word: it only says whether the owner's last transaction is in a block yet; that the
/// order it carried was placed is read with a proof once final.
pub async fn best_nonce(client: &mut LightClient, account: &[u8; 32]) -> Result<u32, ChainError> {
	let bytes = client.state_call_unchecked("AccountNonceApi_account_nonce", account, None).await?;
	u32::decode_all(&mut &bytes[..]).map_err(|_| ChainError::Layout { item: "AccountNonceApi" })
}

/// Applies `extrinsic` on the node's best state without keeping anything
/// (`BlockBuilder_apply_extrinsic`, as `system_dryRun` does): a refused order costs no fee
/// and is logged with the pallet's named error. The node's word, as the pool's would be.
pub async fn dry_run(client: &mut LightClient, extrinsic: &[u8]) -> Result<DryRun, ChainError> {
	let bytes =
		client.state_call_unchecked("BlockBuilder_apply_extrinsic", extrinsic, None).await?;
	Ok(DryRun::decode(&bytes))
}
