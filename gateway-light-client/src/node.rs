//! One node, over JSON-RPC on a WebSocket: the few calls a gateway makes.
//!
//! The gateway asks a node for the chain's heads, for what the chain holds of its readings
//! (`MeteringApi_reading`, a runtime call), and submits its extrinsics. Every call has a
//! deadline; a node that breaks a call is dropped and the next one in the configuration tried.
//! Until issue 14's verifying client, the gateway takes the node's word for what the chain
//! holds, but checks that the node serves the chain its readings are signed for.

use crate::config::{from_hex, to_hex};
use codec::{Decode, DecodeAll, Encode};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::{fmt, time::Duration};
use tokio::{net::TcpStream, time::timeout};
use tokio_tungstenite::{tungstenite::Message, MaybeTlsStream, WebSocketStream};

/// How long a node has to answer one call.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// The pool's code for an invalid transaction, with `data` "Custom error: <n>" for a pallet's
/// refusal (sc-rpc-api's author errors).
const POOL_INVALID_TX: i64 = 1010;

#[derive(Debug, Clone, PartialEq)]
pub enum NodeError {
	Connect(String),
	/// The node did not answer in time.
	Timeout(&'static str),
	/// The connection closed or broke.
	Closed(String),
	/// The node answered something that is not what the call returns.
	BadAnswer {
		method: &'static str,
		reason: String,
	},
	/// The node serves another chain.
	WrongChain {
		genesis: String,
	},
	/// The node refused the call.
	Refused {
		code: i64,
		message: String,
		data: Option<String>,
	},
}

impl fmt::Display for NodeError {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		match self {
			Self::Connect(e) => write!(f, "cannot connect: {e}"),
			Self::Timeout(method) => write!(f, "no answer to {method} within {ANSWER_WITHIN:?}"),
			Self::Closed(e) => write!(f, "connection closed: {e}"),
			Self::BadAnswer { method, reason } => write!(f, "bad answer to {method}: {reason}"),
			Self::WrongChain { genesis } => write!(f, "serves another chain (genesis {genesis})"),
			Self::Refused { code, message, data } => {
				write!(f, "refused ({code}): {message}")?;
				data.iter().try_for_each(|d| write!(f, ": {d}"))
			}
		}
	}
}

impl std::error::Error for NodeError {}

impl NodeError {
	/// The pallet's error code if the pool refused a transaction as `Custom(code)`.
	pub fn custom_invalid(&self) -> Option<u8> {
		match self {
			Self::Refused { code: POOL_INVALID_TX, data: Some(d), .. } => {
				d.strip_prefix("Custom error: ")?.parse().ok()
			}
			_ => None,
		}
	}

	/// Whether the node itself failed (as opposed to refusing what it was sent).
	pub fn is_connection(&self) -> bool {
		!matches!(self, Self::Refused { .. })
	}
}

/// A block: its hash and number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
	pub hash: [u8; 32],
	pub number: u64,
}

pub struct Node {
	pub url: String,
	socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
	next_id: u64,
}

impl Node {
	/// Connects to `url` and checks that the node's block 0 is `genesis`.
	pub async fn connect(url: &str, genesis: &[u8; 32]) -> Result<Node, NodeError> {
		let (socket, _) = timeout(ANSWER_WITHIN, tokio_tungstenite::connect_async(url))
			.await
			.map_err(|_| NodeError::Timeout("connect"))?
			.map_err(|e| NodeError::Connect(e.to_string()))?;
		let mut node = Node { url: url.to_owned(), socket, next_id: 0 };
		let theirs = node.block_hash(0).await?;
		if &theirs != genesis {
			return Err(NodeError::WrongChain { genesis: to_hex(&theirs) });
		}
		Ok(node)
	}

	async fn call(&mut self, method: &'static str, params: Value) -> Result<Value, NodeError> {
		self.next_id += 1;
		let id = self.next_id;
		let request = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
		timeout(ANSWER_WITHIN, async {
			self.socket
				.send(Message::text(request.to_string()))
				.await
				.map_err(|e| NodeError::Closed(e.to_string()))?;
			loop {
				let message = match self.socket.next().await {
					Some(Ok(m)) => m,
					Some(Err(e)) => return Err(NodeError::Closed(e.to_string())),
					None => return Err(NodeError::Closed("by the node".into())),
				};
				let Message::Text(text) = message else { continue };
				let answer: Value = serde_json::from_str(&text)
					.map_err(|e| NodeError::BadAnswer { method, reason: e.to_string() })?;
				if answer["id"] != json!(id) {
					continue;
				}
				if let Some(error) = answer.get("error") {
					return Err(NodeError::Refused {
						code: error["code"].as_i64().unwrap_or_default(),
						message: error["message"].as_str().unwrap_or_default().to_owned(),
						data: error
							.get("data")
							.map(|d| d.as_str().map_or(d.to_string(), str::to_owned)),
					});
				}
				return Ok(answer["result"].clone());
			}
		})
		.await
		.map_err(|_| NodeError::Timeout(method))?
	}

	async fn block_hash(&mut self, number: u64) -> Result<[u8; 32], NodeError> {
		let v = self.call("chain_getBlockHash", json!([number])).await?;
		hash_of("chain_getBlockHash", &v)
	}

	async fn head_of(&mut self, hash: [u8; 32]) -> Result<Head, NodeError> {
		let method = "chain_getHeader";
		let header = self.call(method, json!([to_hex(&hash)])).await?;
		let number = header["number"]
			.as_str()
			.and_then(|n| u64::from_str_radix(n.trim_start_matches("0x"), 16).ok())
			.ok_or(NodeError::BadAnswer { method, reason: "no block number".into() })?;
		Ok(Head { hash, number })
	}

	pub async fn finalized_head(&mut self) -> Result<Head, NodeError> {
		let v = self.call("chain_getFinalizedHead", json!([])).await?;
		let hash = hash_of("chain_getFinalizedHead", &v)?;
		self.head_of(hash).await
	}

	pub async fn best_head(&mut self) -> Result<Head, NodeError> {
		let v = self.call("chain_getBlockHash", json!([])).await?;
		let hash = hash_of("chain_getBlockHash", &v)?;
		self.head_of(hash).await
	}

	/// Calls runtime API `function` with SCALE `args` at block `at`: the result's bytes.
	async fn runtime_call_raw(
		&mut self,
		function: &str,
		args: &[u8],
		at: Option<[u8; 32]>,
	) -> Result<Vec<u8>, NodeError> {
		let method = "state_call";
		let mut params = vec![json!(function), json!(to_hex(args))];
		params.extend(at.map(|h| json!(to_hex(&h))));
		let v = self.call(method, Value::Array(params)).await?;
		v.as_str()
			.and_then(|s| from_hex(s.trim_start_matches("0x")))
			.ok_or(NodeError::BadAnswer { method, reason: "not hex".into() })
	}

	/// Calls runtime API `function` with SCALE `args` at block `at`, and decodes its result.
	async fn runtime_call<T: Decode>(
		&mut self,
		function: &str,
		args: impl Encode,
		at: Option<[u8; 32]>,
	) -> Result<T, NodeError> {
		let bytes = self.runtime_call_raw(function, &args.encode(), at).await?;
		T::decode_all(&mut &bytes[..])
			.map_err(|e| NodeError::BadAnswer { method: "state_call", reason: e.to_string() })
	}

	/// The pallet's code for why the runtime refuses `extrinsic` at the best block, if it
	/// does (`InvalidTransaction::Custom`). The pool bans a refused extrinsic's bytes for half
	/// an hour and then answers only "banned"; the runtime still says why.
	pub async fn refusal(&mut self, extrinsic: &[u8]) -> Result<Option<u8>, NodeError> {
		const EXTERNAL: u8 = 2;
		let best = self.best_head().await?;
		let args = [&[EXTERNAL][..], extrinsic, &best.hash].concat();
		let validity = self
			.runtime_call_raw("TaggedTransactionQueue_validate_transaction", &args, None)
			.await?;
		// Err(TransactionValidityError::Invalid(InvalidTransaction::Custom(code))).
		Ok(match validity[..] {
			[1, 0, 7, code] => Some(code),
			_ => None,
		})
	}

	/// The energy (import, export) the chain holds for a metering point's slot at block `at`.
	pub async fn reading(
		&mut self,
		metering_point: u64,
		slot: u64,
		at: [u8; 32],
	) -> Result<Option<(u64, u64)>, NodeError> {
		self.runtime_call("MeteringApi_reading", (metering_point, slot), Some(at)).await
	}

	/// The community's slot length, in seconds: the start of slot 0's readings window.
	pub async fn slot_seconds(&mut self) -> Result<u64, NodeError> {
		let (start, _end): (u64, u64) =
			self.runtime_call("MeteringApi_readings_window", 0u64, None).await?;
		Ok(start)
	}

	/// The slot the best block's time falls in: readings of earlier slots only are over for
	/// the chain. (A reading sent earlier is refused, and the pool then bans its bytes for
	/// half an hour.)
	pub async fn current_slot(&mut self) -> Result<u64, NodeError> {
		// `MarketApi_clock`: now_seconds, current_slot, first_open_slot, next_to_clear.
		let (_, current_slot, _, _): (u64, u64, u64, Option<u64>) =
			self.runtime_call("MarketApi_clock", (), None).await?;
		Ok(current_slot)
	}

	/// Hands `extrinsic` to the node's pool.
	pub async fn submit(&mut self, extrinsic: &[u8]) -> Result<(), NodeError> {
		self.call("author_submitExtrinsic", json!([to_hex(extrinsic)])).await.map(drop)
	}
}

fn hash_of(method: &'static str, v: &Value) -> Result<[u8; 32], NodeError> {
	v.as_str()
		.and_then(crate::config::parse_hash)
		.ok_or(NodeError::BadAnswer { method, reason: format!("{v} is not a block hash") })
}
