//! What the gateway reads from the chain, through lem-light-client.
//!
//! Everything the journal records as fact — a reading final, or another reading of the slot
//! final instead — and the slot length the box cuts its readings by are storage values read
//! with a proof at the block whose finality the client checked itself. Two things are a node's
//! word, because no value rests on them: the best block's clock, which only says when a
//! reading is worth sending (too early, and the pool refuses it), and why the pool refuses a
//! transaction, which the journal records as the reason.

use codec::{Decode, DecodeAll, Encode};
use lem_light_client::{
	client::{ClientError, LightClient},
	header::Hash,
	storage::{twox_64_concat, value_key},
};
use std::{collections::BTreeMap, fmt};

/// `Metering::Readings`: (slot, metering point) → the accepted reading.
pub fn reading_key(slot: u64, metering_point: u64) -> Vec<u8> {
	[
		value_key("Metering", "Readings"),
		twox_64_concat(&slot.encode()),
		twox_64_concat(&metering_point.encode()),
	]
	.concat()
}

/// `Market::CommunityParams`, whose first field is `slot_seconds`.
pub fn community_key() -> Vec<u8> {
	value_key("Market", "CommunityParams")
}

/// The energy (import, export) in an `AcceptedReading`: its `Metered` half, before the
/// registers (slot, import, export).
pub fn decode_energy(bytes: &[u8]) -> Option<(u64, u64)> {
	let (import, export, _slot, _import_register, _export_register) =
		<(u64, u64, u64, u64, u64)>::decode_all(&mut &bytes[..]).ok()?;
	Some((import, export))
}

pub fn decode_slot_seconds(community: &[u8]) -> Option<u64> {
	u64::decode(&mut &community[..]).ok().filter(|&s| s > 0)
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
	pub slot_seconds: u64,
	/// The energy the chain accepted for each asked slot of the metering point, if any.
	pub readings: BTreeMap<u64, Option<(u64, u64)>>,
}

/// Reads, in one proof at the checkpoint, the slot length and the metering point's readings
/// of `slots`.
pub async fn read_finalized(
	client: &mut LightClient,
	metering_point: u64,
	slots: &[u64],
) -> Result<Finalized, ChainError> {
	let keys: Vec<Vec<u8>> = std::iter::once(community_key())
		.chain(slots.iter().map(|&s| reading_key(s, metering_point)))
		.collect();
	let checkpoint = client.checkpoint().clone();
	let mut values = client.read(&keys).await?.into_iter();
	let slot_seconds = values
		.next()
		.flatten()
		.as_deref()
		.and_then(decode_slot_seconds)
		.ok_or(ChainError::Layout { item: "Market::CommunityParams" })?;
	let mut readings = BTreeMap::new();
	for (&slot, value) in slots.iter().zip(values) {
		let energy = match value {
			Some(bytes) => Some(
				decode_energy(&bytes).ok_or(ChainError::Layout { item: "Metering::Readings" })?,
			),
			None => None,
		};
		readings.insert(slot, energy);
	}
	Ok(Finalized { block: checkpoint.hash(), number: checkpoint.number(), slot_seconds, readings })
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
