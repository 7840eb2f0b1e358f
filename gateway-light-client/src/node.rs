//! The few questions the gateway asks a node, over lem-light-client's connection.
//!
//! The gateway asks for the chain's heads, for what the chain holds of its readings
//! (`MeteringApi_reading`, a runtime call), and for the chain's clock. Until it checks finality
//! and values itself with the light client (issue 14), it takes the node's word for these, but
//! the connection checks that the node serves the chain its readings are signed for.

use codec::{Decode, DecodeAll, Encode};
pub use lem_light_client::client::{Node, NodeError};
use lem_light_client::hex;
use serde_json::{json, Value};

/// A block: its hash and number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
	pub hash: [u8; 32],
	pub number: u64,
}

fn bad(method: &'static str, reason: String) -> NodeError {
	NodeError::BadAnswer { method, reason }
}

async fn head_at(node: &mut Node, method: &'static str, params: Value) -> Result<Head, NodeError> {
	let v = node.call(method, params).await?;
	let hash = v
		.as_str()
		.and_then(hex::decode_hash)
		.ok_or_else(|| bad(method, format!("{v} is not a block hash")))?;
	let method = "chain_getHeader";
	let header = node.call(method, json!([hex::encode(&hash)])).await?;
	let number = header["number"]
		.as_str()
		.and_then(|n| u64::from_str_radix(n.trim_start_matches("0x"), 16).ok())
		.ok_or_else(|| bad(method, "no block number".into()))?;
	Ok(Head { hash, number })
}

pub async fn finalized_head(node: &mut Node) -> Result<Head, NodeError> {
	head_at(node, "chain_getFinalizedHead", json!([])).await
}

pub async fn best_head(node: &mut Node) -> Result<Head, NodeError> {
	head_at(node, "chain_getBlockHash", json!([])).await
}

/// Calls runtime API `function` with SCALE `args` at block `at`, and decodes its result.
async fn runtime_call<T: Decode>(
	node: &mut Node,
	function: &str,
	args: impl Encode,
	at: Option<[u8; 32]>,
) -> Result<T, NodeError> {
	let bytes = node.state_call(function, &args.encode(), at.as_ref()).await?;
	T::decode_all(&mut &bytes[..]).map_err(|e| bad("state_call", e.to_string()))
}

/// The pallet's code for why the runtime refuses `extrinsic` at the best block, if it does
/// (`InvalidTransaction::Custom`). The pool bans a refused extrinsic's bytes for half an hour
/// and then answers only "banned"; the runtime still says why.
pub async fn refusal(node: &mut Node, extrinsic: &[u8]) -> Result<Option<u8>, NodeError> {
	const EXTERNAL: u8 = 2;
	let best = best_head(node).await?;
	let args = [&[EXTERNAL][..], extrinsic, &best.hash].concat();
	let validity =
		node.state_call("TaggedTransactionQueue_validate_transaction", &args, None).await?;
	// Err(TransactionValidityError::Invalid(InvalidTransaction::Custom(code))).
	Ok(match validity[..] {
		[1, 0, 7, code] => Some(code),
		_ => None,
	})
}

/// The energy (import, export) the chain holds for a metering point's slot at block `at`.
pub async fn reading(
	node: &mut Node,
	metering_point: u64,
	slot: u64,
	at: [u8; 32],
) -> Result<Option<(u64, u64)>, NodeError> {
	runtime_call(node, "MeteringApi_reading", (metering_point, slot), Some(at)).await
}

/// The community's slot length, in seconds: the start of slot 0's readings window.
pub async fn slot_seconds(node: &mut Node) -> Result<u64, NodeError> {
	let (start, _end): (u64, u64) =
		runtime_call(node, "MeteringApi_readings_window", 0u64, None).await?;
	Ok(start)
}

/// The slot the best block's time falls in: readings of earlier slots only are over for the
/// chain. (A reading sent earlier is refused, and the pool then bans its bytes for half an
/// hour.)
pub async fn current_slot(node: &mut Node) -> Result<u64, NodeError> {
	// `MarketApi_clock`: now_seconds, current_slot, first_open_slot, next_to_clear.
	let (_, current_slot, _, _): (u64, u64, u64, Option<u64>) =
		runtime_call(node, "MarketApi_clock", (), None).await?;
	Ok(current_slot)
}
