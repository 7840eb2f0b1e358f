//! The client's only contact with the chain: JSON-RPC over WebSocket to a list of nodes, none
//! of them trusted.
//!
//! Everything a node says is checked before it is used: finality by warp proofs from the
//! client's checkpoint, values by storage proofs against the checkpoint's state root. A node
//! that fails a check — or that stops finalizing, or has not finalized the client's own
//! checkpoint — is named in the log, dropped, and the next one in the list asked.

use crate::{
	finality::{Checkpoint, FinalityError, Progress},
	header::{Hash, Header},
	hex,
	storage::{self, ProofError},
};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::{fmt, time::Duration};
use tokio::{
	net::TcpStream,
	time::{timeout, Instant},
};
use tokio_tungstenite::{
	tungstenite::{protocol::WebSocketConfig, Message},
	MaybeTlsStream, WebSocketStream,
};
use tracing::{info, warn};

/// How long a node has to answer one call.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);
/// How long to wait before trying the next node after one failed.
const NODE_RETRY: Duration = Duration::from_secs(3);
/// Warp proofs asked for in one `follow`: each is up to 8 MiB of handoffs.
const MAX_WARP_PROOFS: usize = 16;
/// The largest answer a node gives: a warp proof of at most 8 MiB, in hex, in JSON. A node that
/// sends more is cut off before the message is buffered, so a liar cannot blow a box's memory
/// (tungstenite would otherwise buffer 64 MiB).
pub const MAX_ANSWER_BYTES: usize = 17 << 20;

/// A number from the standard library's per-process random hash keys: enough to spread
/// retries and calls, with no random-number crate on the box.
pub fn random() -> u64 {
	use std::hash::{BuildHasher, Hasher};
	std::collections::hash_map::RandomState::new().build_hasher().finish()
}

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
	/// An answer beyond [`MAX_ANSWER_BYTES`]: cut off unread.
	TooLarge(String),
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
			Self::TooLarge(e) => write!(f, "answer too large, cut off: {e}"),
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
	/// Whether the node itself failed (as opposed to refusing what it was sent).
	pub fn is_connection(&self) -> bool {
		!matches!(self, Self::Refused { .. })
	}

	/// The pallet's error code if the pool refused a transaction as `Custom(code)`.
	pub fn custom_invalid(&self) -> Option<u8> {
		match self {
			Self::Refused { code: POOL_INVALID_TX, data: Some(d), .. } => {
				d.strip_prefix("Custom error: ")?.parse().ok()
			}
			_ => None,
		}
	}
}

/// What a node said that did not check.
#[derive(Debug, Clone, PartialEq)]
pub enum Lie {
	/// A warp proof (justification, header or handoff) that does not check.
	Finality(FinalityError),
	/// A storage proof that does not check against the finalized state root.
	Proof(ProofError),
	/// Finality has not moved for this long: the node's head is stale.
	StaleHead { for_seconds: u64 },
	/// The node has not finalized the client's checkpoint, or will not prove from it.
	Behind { reason: String },
	/// A header that does not hash to the block it was asked for.
	WrongHeader { asked: Hash },
}

impl fmt::Display for Lie {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		match self {
			Self::Finality(e) => write!(f, "bad finality proof: {e:?}"),
			Self::Proof(e) => write!(f, "bad storage proof: {e:?}"),
			Self::StaleHead { for_seconds } => {
				write!(f, "stale head: finality has not moved for {for_seconds} s")
			}
			Self::Behind { reason } => write!(f, "behind the client's checkpoint: {reason}"),
			Self::WrongHeader { asked } => {
				write!(f, "a header that is not block {}", hex::encode(asked))
			}
		}
	}
}

#[derive(Debug, Clone, PartialEq)]
pub enum ClientError {
	/// No node is connected now (the last one failed; the next is tried after a pause).
	NoNode,
	/// The node failed or refused a call.
	Node { node: String, error: NodeError },
	/// The node said something that did not check; it is dropped.
	Lie { node: String, lie: Lie },
	/// The block is not on the chain the client checked finality of, or not yet final there.
	NotFinalized { block: Hash },
}

impl fmt::Display for ClientError {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		match self {
			Self::NoNode => write!(f, "no node connected"),
			Self::Node { node, error } => write!(f, "{node}: {error}"),
			Self::Lie { node, lie } => write!(f, "{node} lied: {lie}"),
			Self::NotFinalized { block } => {
				write!(f, "block {} is not on the finalized chain", hex::encode(block))
			}
		}
	}
}

impl std::error::Error for ClientError {}

/// One node over JSON-RPC on a WebSocket.
pub struct Node {
	pub url: String,
	socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
	next_id: u64,
}

impl Node {
	/// Connects to `url` and checks that the node's block 0 is `genesis`.
	pub async fn connect(url: &str, genesis: &Hash) -> Result<Node, NodeError> {
		// rustls needs one crypto provider for the process; ring is the one built in.
		#[cfg(feature = "tls")]
		let _ = rustls::crypto::ring::default_provider().install_default();
		let config = WebSocketConfig::default()
			.max_message_size(Some(MAX_ANSWER_BYTES))
			.max_frame_size(Some(MAX_ANSWER_BYTES));
		let connect = tokio_tungstenite::connect_async_with_config(url, Some(config), false);
		let (socket, _) = timeout(ANSWER_WITHIN, connect)
			.await
			.map_err(|_| NodeError::Timeout("connect"))?
			.map_err(|e| NodeError::Connect(e.to_string()))?;
		let mut node = Node { url: url.to_owned(), socket, next_id: 0 };
		let method = "chain_getBlockHash";
		let theirs = node.call(method, json!([0])).await?;
		let theirs = hash_in(method, &theirs)?;
		if &theirs != genesis {
			return Err(NodeError::WrongChain { genesis: hex::encode(&theirs) });
		}
		Ok(node)
	}

	pub async fn call(&mut self, method: &'static str, params: Value) -> Result<Value, NodeError> {
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
					Some(Err(e @ tokio_tungstenite::tungstenite::Error::Capacity(_))) => {
						return Err(NodeError::TooLarge(e.to_string()))
					}
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

	/// The handoffs and latest justification from the finalized block `from`.
	pub async fn warp_proof(&mut self, from: &Hash) -> Result<Vec<u8>, NodeError> {
		let method = "lem_grandpaWarpProof";
		let v = self.call(method, json!([hex::encode(from)])).await?;
		bytes_in(method, &v)
	}

	/// The header of block `hash`, if the node has it.
	pub async fn header(&mut self, hash: &Hash) -> Result<Option<Header>, NodeError> {
		let method = "chain_getHeader";
		let v = self.call(method, json!([hex::encode(hash)])).await?;
		if v.is_null() {
			return Ok(None);
		}
		Header::from_rpc(&v).map(Some).ok_or_else(|| bad(method, "not a header"))
	}

	/// The trie nodes that prove `keys` at block `at`.
	pub async fn read_proof(
		&mut self,
		keys: &[Vec<u8>],
		at: &Hash,
	) -> Result<Vec<Vec<u8>>, NodeError> {
		let method = "state_getReadProof";
		let keys: Vec<String> = keys.iter().map(|k| hex::encode(k)).collect();
		let v = self.call(method, json!([keys, hex::encode(at)])).await?;
		let nodes = v["proof"].as_array().ok_or_else(|| bad(method, "no proof"))?;
		nodes.iter().map(|n| bytes_in(method, n)).collect()
	}

	/// Runtime API `function` with SCALE `args`, at block `at` or the best: the result's bytes.
	pub async fn state_call(
		&mut self,
		function: &str,
		args: &[u8],
		at: Option<&Hash>,
	) -> Result<Vec<u8>, NodeError> {
		let method = "state_call";
		let mut params = vec![json!(function), json!(hex::encode(args))];
		params.extend(at.map(|h| json!(hex::encode(h))));
		let v = self.call(method, Value::Array(params)).await?;
		bytes_in(method, &v)
	}

	/// Hands `extrinsic` to the node's pool.
	pub async fn submit(&mut self, extrinsic: &[u8]) -> Result<(), NodeError> {
		self.call("author_submitExtrinsic", json!([hex::encode(extrinsic)])).await.map(drop)
	}
}

fn bad(method: &'static str, reason: &str) -> NodeError {
	NodeError::BadAnswer { method, reason: reason.into() }
}

fn bytes_in(method: &'static str, v: &Value) -> Result<Vec<u8>, NodeError> {
	v.as_str().and_then(hex::decode).ok_or_else(|| bad(method, "not hex"))
}

fn hash_in(method: &'static str, v: &Value) -> Result<Hash, NodeError> {
	v.as_str().and_then(hex::decode_hash).ok_or_else(|| bad(method, "not a block hash"))
}

/// The nodes of the configuration, one in use at a time, and what the client has checked.
pub struct LightClient {
	urls: Vec<String>,
	genesis: Hash,
	next: usize,
	node: Option<Node>,
	retry_at: Option<Instant>,
	checkpoint: Checkpoint,
	last_advance: Instant,
	stale_after: Duration,
	connections: u64,
	proof_bytes: u64,
}

impl LightClient {
	/// A client of the chain with `genesis`, trusting `checkpoint` (the chain spec's genesis,
	/// or one it checked before), that drops a node whose finality stops for `stale_after`.
	pub fn new(
		urls: Vec<String>,
		genesis: Hash,
		checkpoint: Checkpoint,
		stale_after: Duration,
	) -> Self {
		assert!(!urls.is_empty(), "a client needs a node");
		LightClient {
			urls,
			genesis,
			next: 0,
			node: None,
			retry_at: None,
			checkpoint,
			last_advance: Instant::now(),
			stale_after,
			connections: 0,
			proof_bytes: 0,
		}
	}

	pub fn checkpoint(&self) -> &Checkpoint {
		&self.checkpoint
	}

	pub fn node_url(&self) -> Option<&str> {
		self.node.as_ref().map(|n| n.url.as_str())
	}

	/// Bytes of finality and storage proofs received: what checking costs on the wire.
	pub fn proof_bytes(&self) -> u64 {
		self.proof_bytes
	}

	/// How many connections were made: a new one may be to a node whose pool has not seen
	/// what was submitted before.
	pub fn connections(&self) -> u64 {
		self.connections
	}

	/// The node in use, connecting to the next one if there is none (at most once per pause).
	async fn node(&mut self) -> Result<&mut Node, ClientError> {
		if self.node.is_none() {
			let now = Instant::now();
			if self.retry_at.is_some_and(|at| now < at) {
				return Err(ClientError::NoNode);
			}
			let url = self.urls[self.next % self.urls.len()].clone();
			match Node::connect(&url, &self.genesis).await {
				Ok(node) => {
					info!(node = %url, "connected");
					self.node = Some(node);
					self.retry_at = None;
					self.last_advance = now;
					self.connections += 1;
				}
				Err(error) => {
					warn!(node = %url, %error, "node unavailable");
					self.next += 1;
					// Not at the same instant as every other client the node dropped.
					let jitter = Duration::from_millis(random() % NODE_RETRY.as_millis() as u64);
					self.retry_at = Some(now + NODE_RETRY + jitter);
					return Err(ClientError::Node { node: url, error });
				}
			}
		}
		Ok(self.node.as_mut().expect("connected above"))
	}

	/// Drops the node in use: the next call goes to the next one.
	pub fn drop_node(&mut self) {
		if let Some(node) = self.node.take() {
			self.next += 1;
			info!(node = %node.url, "dropped the node");
		}
	}

	fn fail<T>(&mut self, error: NodeError) -> Result<T, ClientError> {
		let node = self.node.as_ref().map(|n| n.url.clone()).unwrap_or_default();
		if error.is_connection() {
			warn!(node = %node, %error, "node failed");
			self.drop_node();
		}
		Err(ClientError::Node { node, error })
	}

	fn lied<T>(&mut self, lie: Lie) -> Result<T, ClientError> {
		let node = self.node.as_ref().map(|n| n.url.clone()).unwrap_or_default();
		warn!(node = %node, %lie, "the node lied; dropping it");
		self.drop_node();
		Err(ClientError::Lie { node, lie })
	}

	/// Moves the checkpoint to the node's latest finalized block, checking every handoff and
	/// justification on the way.
	pub async fn follow(&mut self) -> Result<Progress, ClientError> {
		let mut total = Progress { handoffs: 0, advanced: false, finished: false };
		for _ in 0..MAX_WARP_PROOFS {
			let from = self.checkpoint.hash();
			let proof = match self.node().await?.warp_proof(&from).await {
				Ok(proof) => proof,
				// A node that has not finalized the checkpoint cannot prove from it.
				Err(NodeError::Refused { message, .. }) => {
					return self.lied(Lie::Behind { reason: message })
				}
				Err(e) => return self.fail(e),
			};
			self.proof_bytes += proof.len() as u64;
			let progress = match self.checkpoint.apply_warp_proof(&proof) {
				Ok(p) => p,
				Err(e) => return self.lied(Lie::Finality(e)),
			};
			total.handoffs += progress.handoffs;
			total.advanced |= progress.advanced;
			total.finished = progress.finished;
			if progress.finished || !progress.advanced {
				break;
			}
		}
		let now = Instant::now();
		if total.advanced {
			self.last_advance = now;
		} else if now - self.last_advance > self.stale_after {
			let for_seconds = (now - self.last_advance).as_secs();
			return self.lied(Lie::StaleHead { for_seconds });
		}
		Ok(total)
	}

	/// The values under `keys` at the checkpoint (`None`: proven absent).
	pub async fn read(&mut self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, ClientError> {
		let at = self.checkpoint.finalized.clone();
		self.read_at(&at, keys).await
	}

	/// The values under `keys` at block `at`, whose header the caller checked (the checkpoint,
	/// or one [`Self::finalized_header`] gave).
	pub async fn read_at(
		&mut self,
		at: &Header,
		keys: &[Vec<u8>],
	) -> Result<Vec<Option<Vec<u8>>>, ClientError> {
		let nodes = match self.node().await?.read_proof(keys, &at.hash()).await {
			Ok(nodes) => nodes,
			Err(e) => return self.fail(e),
		};
		self.proof_bytes += nodes.iter().map(|n| n.len() as u64).sum::<u64>();
		match storage::read_proof(&at.state_root, nodes, keys) {
			Ok(values) => Ok(values),
			Err(e) => self.lied(Lie::Proof(e)),
		}
	}

	/// The header of block `hash` if it is final: the checkpoint, or an ancestor of it, linked
	/// to it header by header through parent hashes (one call per block back).
	pub async fn finalized_header(&mut self, hash: &Hash) -> Result<Header, ClientError> {
		if *hash == self.checkpoint.hash() {
			return Ok(self.checkpoint.finalized.clone());
		}
		let asked = self.header(hash).await?;
		let not_finalized = || Err(ClientError::NotFinalized { block: *hash });
		if asked.number >= self.checkpoint.number() {
			return not_finalized();
		}
		let mut child = self.checkpoint.finalized.clone();
		while child.number > asked.number + 1 {
			child = self.header(&child.parent_hash).await?;
		}
		if child.parent_hash != *hash {
			return not_finalized();
		}
		Ok(asked)
	}

	/// The node's header of block `hash`, checked to be that block's.
	async fn header(&mut self, hash: &Hash) -> Result<Header, ClientError> {
		let header = match self.node().await?.header(hash).await {
			Ok(Some(header)) => header,
			Ok(None) => return Err(ClientError::NotFinalized { block: *hash }),
			Err(e) => return self.fail(e),
		};
		if header.hash() != *hash {
			return self.lied(Lie::WrongHeader { asked: *hash });
		}
		Ok(header)
	}

	/// Runtime API `function` at block `at` (the node's best if none), run by the node: its
	/// word, unchecked. Only for what no value depends on, such as why the pool refuses a
	/// transaction.
	pub async fn state_call_unchecked(
		&mut self,
		function: &str,
		args: &[u8],
		at: Option<&Hash>,
	) -> Result<Vec<u8>, ClientError> {
		match self.node().await?.state_call(function, args, at).await {
			Ok(bytes) => Ok(bytes),
			Err(e) => self.fail(e),
		}
	}

	/// Hands `extrinsic` to the node in use. A refusal keeps the node; a failure drops it.
	pub async fn submit(&mut self, extrinsic: &[u8]) -> Result<(), ClientError> {
		match self.node().await?.submit(extrinsic).await {
			Ok(()) => Ok(()),
			Err(e) => self.fail(e),
		}
	}
}
