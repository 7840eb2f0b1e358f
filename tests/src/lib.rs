//! A harness for end-to-end tests against the real `lem-node` binary on loopback: it starts
//! nodes with their own ports and base paths, talks to them over JSON-RPC, signs extrinsics with
//! the development keys, and reads and decodes storage and events.
//!
//! Every wait has a deadline and fails the test with what it last saw, so a hung network shows
//! up as a failure that names the missing progress rather than as a stuck run.

pub mod boxes;
pub mod gateway;
pub mod lying;
pub mod tls;

/// Development keys and wallet-style signing, shared with `lem-demo`.
pub use lem_demo::{dev_pair, sign};

use codec::{Decode, Encode};
use frame_support::dispatch::GetDispatchInfo;
use lem_runtime::{AccountId, RuntimeCall, RuntimeError, RuntimeEvent, UncheckedExtrinsic};
use serde_json::{json, Value};
use sp_core::{bytes, sr25519, Pair, H256};
use sp_keyring::Sr25519Keyring;
use sp_runtime::DispatchError;
use std::{
	fs::File,
	io::{BufRead, BufReader},
	net::TcpListener,
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	sync::{Mutex, MutexGuard},
	thread::sleep,
	time::{Duration, Instant},
};

/// Secrets of the four `local` authority nodes' libp2p keys and of a fifth admissible node:
/// blake2b-256("lem-local-node-i"), the same as `scripts/start-local-network.sh` uses. The
/// `local` genesis admits the first four (`LOCAL_NODE_PUBLIC_KEYS`).
pub const NODE_KEYS: [&str; 5] = [
	"8385145713074f6e35dfa5897825c24a7f56317985de0da9a350ce631d153426",
	"552462ba8665db81c556efe6d3793a7d0dfb7d1b3a81e51f768687b374edd1a9",
	"8b2d2f1a12aeba8abaf119b1d0c3584c85ef96c275ccb834cc60cb9e74f6e969",
	"08b4e205cd19d06f89b3b63bdb44f42e45e6ba1238c0502baeca057147515cfb",
	"1985cb673a77dd89d6331bddacaafef0620c11c0376bbbaf9555113f2eb12828",
];

/// The `lem-node` binary the workspace built: `cargo test` runs from `<target>/debug/deps/`.
pub fn node_binary() -> PathBuf {
	if let Ok(path) = std::env::var("LEM_NODE") {
		return PathBuf::from(path);
	}
	let exe = std::env::current_exe().expect("test binary path");
	let bin = exe.parent().and_then(Path::parent).expect("<target>/<profile>").join("lem-node");
	assert!(bin.exists(), "{} is missing: run `cargo build -p lem-node` first", bin.display());
	bin
}

/// The demo's technician proposes each gateway key for its metering point, and the household
/// that owns the point accepts it, as it would in the app: a key signs nothing before. Waits
/// until every key is in force.
pub fn install_gateway_keys(node: &Node, keys: &[(u64, sp_core::ed25519::Public)]) {
	let technician = dev_pair("Technician");
	let genesis = node.genesis_hash();
	let nonce = node.nonce(&technician.public().into());
	let proposals = keys.iter().enumerate().map(|(i, &(metering_point, key))| {
		let call =
			RuntimeCall::Metering(pallet_metering::Call::register_key { metering_point, key });
		sign(&technician, call, nonce + i as u32, genesis)
	});
	for outcome in node.submit_all(proposals.collect()) {
		outcome.ok();
	}
	let acceptances = keys.iter().map(|&(metering_point, key)| {
		let owner = dev_pair(&demo_owner(metering_point));
		let call = RuntimeCall::Metering(pallet_metering::Call::accept_key { metering_point, key });
		sign(&owner, call, node.nonce(&owner.public().into()), genesis)
	});
	for outcome in node.submit_all(acceptances.collect()) {
		outcome.ok();
	}
}

/// The demo household (`Household1` ...) that owns a genesis metering point.
pub fn demo_owner(metering_point: u64) -> String {
	let i = pallet_market::demo::HOUSEHOLD_METERING_POINTS
		.iter()
		.position(|p| p.id == metering_point)
		.expect("a demo household's metering point");
	format!("Household{}", i + 1)
}

/// The chains the tests run: the presets at the test pace, 2-second blocks and 10-second slots
/// (`TEST_PACE`), the same rules in blocks as `dev` and `local` at 6 s. A test whose subject is
/// the block time itself (a killed authority, the load harness) runs `dev` or `local`.
pub const DEV: &str = "dev-fast";
pub const LOCAL: &str = "local-fast";
pub use lem_runtime::genesis_config_presets::TEST_PACE;

/// A TCP port on loopback that nothing listens on now.
pub fn free_port() -> u16 {
	TcpListener::bind("127.0.0.1:0").expect("bind loopback").local_addr().unwrap().port()
}

/// The libp2p peer id (base58) of an ed25519 node key given as hex secret.
pub fn peer_id(node_key_hex: &str) -> String {
	let secret: [u8; 32] = bytes::from_hex(node_key_hex).unwrap().try_into().unwrap();
	let public = sp_core::ed25519::Pair::from_seed(&secret).public();
	bs58::encode(lem_runtime::genesis_config_presets::peer_id_of(&public.0)).into_string()
}

/// How long a starting node may take to answer RPC.
const RPC_WITHIN: Duration = Duration::from_secs(300);

/// What a node is started with.
#[derive(Clone)]
pub struct NodeConfig {
	pub name: String,
	pub chain: String,
	pub base_path: PathBuf,
	pub node_key: String,
	/// `--alice` etc.: puts that development account's session keys into the keystore.
	pub dev_account: Option<&'static str>,
	pub validator: bool,
	pub bootnodes: Vec<String>,
	pub p2p_port: u16,
	pub rpc_port: u16,
	/// Where the node serves its Prometheus metrics, as an operator watches it.
	pub prometheus_port: u16,
	/// Further flags, e.g. a network backend.
	pub args: Vec<String>,
}

/// A running `lem-node` process. Dropping it kills the process.
pub struct Node {
	pub config: NodeConfig,
	child: Option<Child>,
	log: PathBuf,
}

impl Node {
	pub fn start(config: NodeConfig) -> Node {
		std::fs::create_dir_all(&config.base_path).unwrap();
		let log = config.base_path.join(format!("{}.log", config.name));
		let mut node = Node { config, child: None, log };
		node.spawn();
		node
	}

	/// Start the process from `config` (again, after a kill: same base path, keys and ports)
	/// and wait until its RPC answers.
	fn spawn(&mut self) {
		let config = &self.config;
		let out = File::options().create(true).append(true).open(&self.log).unwrap();
		let mut cmd = Command::new(node_binary());
		cmd.arg("--chain")
			.arg(&config.chain)
			.arg("--base-path")
			.arg(&config.base_path)
			.arg("--name")
			.arg(&config.name)
			.arg("--node-key")
			.arg(&config.node_key)
			.arg("--rpc-port")
			.arg(config.rpc_port.to_string())
			.args(["--listen-addr"])
			.arg(format!("/ip4/127.0.0.1/tcp/{}", config.p2p_port))
			.arg("--prometheus-port")
			.arg(config.prometheus_port.to_string())
			// Loopback only: no NAT, no public discovery, no telemetry.
			.args(["--no-telemetry", "--no-mdns", "--allow-private-ip"])
			// As a utility serves RPC behind a TLS proxy, whose own host name the node then sees.
			.args(["--rpc-cors", "all"]);
		if let Some(who) = config.dev_account {
			cmd.arg(format!("--{who}"));
		}
		if config.validator {
			cmd.arg("--validator");
		}
		for b in &config.bootnodes {
			cmd.arg("--bootnodes").arg(b);
		}
		cmd.args(&config.args);
		let child = cmd
			.stdout(Stdio::from(out.try_clone().unwrap()))
			.stderr(Stdio::from(out))
			.spawn()
			.expect("spawn lem-node");
		self.child = Some(child);
		self.wait_rpc();
	}

	fn wait_rpc(&mut self) {
		// A node compiles the runtime's Wasm as it starts: beside a cold build's niced jobs and
		// a four-node load test (load average 13), one took over two minutes.
		let deadline = Instant::now() + RPC_WITHIN;
		while self.try_rpc("system_health", json!([])).is_err() {
			if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
				panic!("{} exited with {status}:\n{}", self.config.name, self.log_tail());
			}
			assert!(
				Instant::now() < deadline,
				"{}: no RPC after {RPC_WITHIN:?}\n{}",
				self.config.name,
				self.log_tail()
			);
			sleep(Duration::from_millis(500));
		}
	}

	/// The process id, while it runs.
	pub fn pid(&self) -> Option<u32> {
		self.child.as_ref().map(Child::id)
	}

	pub fn ws_url(&self) -> String {
		format!("ws://127.0.0.1:{}", self.config.rpc_port)
	}

	pub fn multiaddr(&self) -> String {
		format!(
			"/ip4/127.0.0.1/tcp/{}/p2p/{}",
			self.config.p2p_port,
			peer_id(&self.config.node_key)
		)
	}

	/// Kill without warning, as a power cut would.
	pub fn kill(&mut self) {
		if let Some(mut c) = self.child.take() {
			let _ = c.kill();
			let _ = c.wait();
		}
	}

	/// Start again on the same base path, keys and ports.
	pub fn restart(&mut self) {
		self.kill();
		self.spawn();
	}

	pub fn log_tail(&self) -> String {
		let lines: Vec<String> = File::open(&self.log)
			.map(|f| BufReader::new(f).lines().map_while(Result::ok).collect())
			.unwrap_or_default();
		lines[lines.len().saturating_sub(30)..].join("\n")
	}

	/// The node's Prometheus metrics now.
	pub fn metrics(&self) -> Result<Vec<Metric>, String> {
		metrics_at(self.config.prometheus_port)
	}

	pub fn try_rpc(&self, method: &str, params: Value) -> Result<Value, String> {
		rpc_at(self.config.rpc_port, method, params)
	}

	pub fn rpc(&self, method: &str, params: Value) -> Value {
		self.try_rpc(method, params)
			.unwrap_or_else(|e| panic!("{}: {method} failed: {e}", self.config.name))
	}

	pub fn best_number(&self) -> u32 {
		header_number(&self.rpc("chain_getHeader", json!([])))
	}

	pub fn finalized_number(&self) -> u32 {
		let hash = self.rpc("chain_getFinalizedHead", json!([]));
		header_number(&self.rpc("chain_getHeader", json!([hash])))
	}

	pub fn block_hash(&self, number: u32) -> Option<H256> {
		let v = self.rpc("chain_getBlockHash", json!([number]));
		v.as_str().map(|s| H256::from_slice(&bytes::from_hex(s).unwrap()))
	}

	pub fn genesis_hash(&self) -> H256 {
		self.block_hash(0).expect("genesis exists")
	}

	/// Raw storage at `at` (best block if `None`).
	pub fn storage(&self, key: &[u8], at: Option<H256>) -> Option<Vec<u8>> {
		let key = bytes::to_hex(key, false);
		let v = match at {
			Some(h) => self.rpc("state_getStorage", json!([key, format!("{h:?}")])),
			None => self.rpc("state_getStorage", json!([key])),
		};
		v.as_str().map(|s| bytes::from_hex(s).unwrap())
	}

	pub fn storage_decoded<T: Decode>(&self, key: &[u8], at: Option<H256>) -> Option<T> {
		self.storage(key, at).map(|raw| T::decode(&mut &raw[..]).expect("storage decodes"))
	}

	pub fn events_at(&self, at: H256) -> Vec<frame_system::EventRecord<RuntimeEvent, H256>> {
		// `System::Events` is private to frame-system; its key is public knowledge.
		let key = frame_support::storage::storage_prefix(b"System", b"Events");
		self.storage_decoded(&key, Some(at)).unwrap_or_default()
	}

	/// Calls runtime API function `method` (e.g. `MarketApi_clock`) with SCALE-encoded `args`
	/// at `at` (best block if `None`) and decodes its result.
	pub fn runtime_call<T: Decode>(&self, method: &str, args: impl Encode, at: Option<H256>) -> T {
		self.try_runtime_call(method, args, at).unwrap_or_else(|e| panic!("{method}: {e}"))
	}

	/// A runtime API call; an error if the node does not answer or the result does not decode.
	pub fn try_runtime_call<T: Decode>(
		&self,
		method: &str,
		args: impl Encode,
		at: Option<H256>,
	) -> Result<T, String> {
		let args = bytes::to_hex(&args.encode(), false);
		let v = match at {
			Some(h) => self.try_rpc("state_call", json!([method, args, format!("{h:?}")])),
			None => self.try_rpc("state_call", json!([method, args])),
		}?;
		let raw = bytes::from_hex(v.as_str().ok_or("state_call returns hex")?)
			.map_err(|e| e.to_string())?;
		T::decode(&mut &raw[..]).map_err(|e| format!("the result does not decode: {e}"))
	}

	/// Every fill of a cleared slot (`MarketApi_fills`, page by page), ascending by order id.
	pub fn fills(&self, slot: u64, at: Option<H256>) -> Vec<pallet_market::Fill> {
		let mut fills: Vec<pallet_market::Fill> = Vec::new();
		loop {
			let after = fills.last().map(|f| f.order);
			let page: Vec<pallet_market::Fill> =
				self.runtime_call("MarketApi_fills", (slot, after), at);
			let full = page.len() == pallet_market::MAX_PAGE_FILLS as usize;
			fills.extend(page);
			if !full {
				break;
			}
		}
		fills.sort_by_key(|f| f.order);
		fills
	}

	pub fn nonce(&self, who: &AccountId) -> u32 {
		self.rpc("system_accountNextIndex", json!([who.to_string()])).as_u64().unwrap() as u32
	}

	/// Sign `call` as `signer`, submit it, wait until a block includes it and return its
	/// outcome: the events it emitted, or the dispatch error it failed with.
	pub fn submit(&self, signer: &sr25519::Pair, call: RuntimeCall) -> Outcome {
		let who: AccountId = signer.public().into();
		let xt = sign(signer, call, self.nonce(&who), self.genesis_hash());
		self.submit_extrinsic(xt)
	}

	pub fn submit_extrinsic(&self, xt: UncheckedExtrinsic) -> Outcome {
		self.submit_all(vec![xt]).pop().unwrap()
	}

	/// Submit several extrinsics at once (from different signers, or in nonce order) and wait
	/// until a block includes each; outcomes in the order given.
	pub fn submit_all(&self, xts: Vec<UncheckedExtrinsic>) -> Vec<Outcome> {
		let encoded: Vec<String> =
			xts.iter().map(|xt| bytes::to_hex(&xt.encode(), false)).collect();
		let mut next = self.best_number();
		for xt in &encoded {
			self.rpc("author_submitExtrinsic", json!([xt]));
		}
		let mut outcomes: Vec<Option<Outcome>> = encoded.iter().map(|_| None).collect();
		let deadline = Instant::now() + Duration::from_secs(60);
		while Instant::now() < deadline {
			while next <= self.best_number() {
				if let Some(hash) = self.block_hash(next) {
					let block = self.rpc("chain_getBlock", json!([format!("{hash:?}")]));
					let included =
						block["block"]["extrinsics"].as_array().cloned().unwrap_or_default();
					for (i, xt) in encoded.iter().enumerate() {
						if let Some(index) = included.iter().position(|x| x.as_str() == Some(xt)) {
							outcomes[i] =
								Some(Outcome::of(self.events_at(hash), index as u32, hash));
						}
					}
				}
				next += 1;
			}
			if outcomes.iter().all(Option::is_some) {
				return outcomes.into_iter().map(Option::unwrap).collect();
			}
			sleep(Duration::from_millis(500));
		}
		panic!("{}: extrinsics not included within 60 s\n{}", self.config.name, self.log_tail());
	}
}

impl Drop for Node {
	fn drop(&mut self) {
		self.kill();
	}
}

fn header_number(header: &Value) -> u32 {
	let n = header["number"].as_str().expect("header has a number");
	u32::from_str_radix(n.trim_start_matches("0x"), 16).unwrap()
}

/// What happened to one included extrinsic.
#[derive(Debug)]
pub struct Outcome {
	pub block: H256,
	pub events: Vec<RuntimeEvent>,
	pub error: Option<DispatchError>,
}

impl Outcome {
	fn of(
		records: Vec<frame_system::EventRecord<RuntimeEvent, H256>>,
		index: u32,
		block: H256,
	) -> Self {
		let events: Vec<RuntimeEvent> = records
			.into_iter()
			.filter(|r| r.phase == frame_system::Phase::ApplyExtrinsic(index))
			.map(|r| r.event)
			.collect();
		let error = events.iter().find_map(|e| match e {
			RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
				dispatch_error, ..
			}) => Some(*dispatch_error),
			_ => None,
		});
		Outcome { block, events, error }
	}

	/// Panics with the events unless the extrinsic succeeded.
	pub fn ok(self) -> Self {
		assert!(self.error.is_none(), "extrinsic failed: {:?} ({:?})", self.error, self.events);
		self
	}

	/// The pallet error the extrinsic failed with, if it was one.
	pub fn runtime_error(&self) -> Option<RuntimeError> {
		self.error.and_then(RuntimeError::from_dispatch_error)
	}
}

/// A JSON-RPC call over HTTP to the node on loopback port `port`: its result, or its error.
pub fn rpc_at(port: u16, method: &str, params: Value) -> Result<Value, String> {
	let url = format!("http://127.0.0.1:{port}");
	let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
	let resp: Value = ureq::post(&url)
		.timeout(Duration::from_secs(30))
		.send_json(body)
		.map_err(|e| e.to_string())?
		.into_json()
		.map_err(|e| e.to_string())?;
	match resp.get("error") {
		Some(error) => Err(error.to_string()),
		None => Ok(resp["result"].clone()),
	}
}

/// Every sample the node whose Prometheus port on loopback is `port` serves now.
pub fn metrics_at(port: u16) -> Result<Vec<Metric>, String> {
	let text = ureq::get(&format!("http://127.0.0.1:{port}/metrics"))
		.timeout(Duration::from_secs(10))
		.call()
		.map_err(|e| e.to_string())?
		.into_string()
		.map_err(|e| e.to_string())?;
	Ok(text.lines().filter_map(Metric::parse).collect())
}

/// One sample of a node's Prometheus metrics: `name{label="value",…} value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
	pub name: String,
	pub labels: Vec<(String, String)>,
	pub value: f64,
}

impl Metric {
	/// A sample line of the text exposition format; comments and other lines give `None`.
	/// Label values of the node's metrics hold no commas or escaped quotes.
	fn parse(line: &str) -> Option<Metric> {
		if line.starts_with('#') {
			return None;
		}
		let (series, value) = line.rsplit_once(' ')?;
		let (name, labels) = match series.split_once('{') {
			Some((name, rest)) => (name, rest.strip_suffix('}')?),
			None => (series, ""),
		};
		let labels = labels
			.split(',')
			.filter(|l| !l.is_empty())
			.map(|l| {
				let (k, v) = l.split_once('=')?;
				Some((k.to_string(), v.trim_matches('"').to_string()))
			})
			.collect::<Option<_>>()?;
		Some(Metric { name: name.into(), labels, value: value.parse().ok()? })
	}

	pub fn label(&self, key: &str) -> Option<&str> {
		self.labels.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
	}
}

/// Poll `f` every half second until it returns `Some`, or fail the test after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
	let deadline = Instant::now() + timeout;
	loop {
		if let Some(v) = f() {
			return v;
		}
		assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for: {what}");
		sleep(Duration::from_millis(500));
	}
}

/// One network at a time: each node is a full debug node and the machine may have two cores,
/// so tests in one binary queue here instead of starving each other's block production.
static ONE_NETWORK_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The `dev-fast` chain: one utility (Alice) running its only authority node, on loopback.
pub struct DevChain {
	pub node: Node,
	/// Holds the base path; removed when the chain is dropped.
	pub dir: tempfile::TempDir,
	_turn: MutexGuard<'static, ()>,
}

impl DevChain {
	pub fn start() -> DevChain {
		let turn = ONE_NETWORK_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		let dir = tempfile::Builder::new().prefix("lem-dev-").tempdir().unwrap();
		let node = Node::start(NodeConfig {
			name: "dev-alice".into(),
			chain: DEV.into(),
			base_path: dir.path().join("alice"),
			node_key: NODE_KEYS[0].into(),
			dev_account: Some("alice"),
			validator: true,
			bootnodes: vec![],
			p2p_port: free_port(),
			rpc_port: free_port(),
			prometheus_port: free_port(),
			args: vec![],
		});
		DevChain { node, dir, _turn: turn }
	}
}

/// The four authorities of the `local-fast` chain, one per utility, on loopback.
pub struct LocalNetwork {
	pub nodes: Vec<Node>,
	/// Holds the base paths; removed when the network is dropped.
	pub dir: tempfile::TempDir,
	_turn: MutexGuard<'static, ()>,
}

impl LocalNetwork {
	pub fn start() -> LocalNetwork {
		Self::start_on(LOCAL)
	}

	/// The four authorities on `chain`: `local-fast`, `local`, or a chain spec file of the same
	/// authorities (see [`local_chain_spec`]).
	pub fn start_on(chain: &str) -> LocalNetwork {
		Self::start_with(chain, &[])
	}

	/// The four authorities on `chain`, each started with the further flags `args`.
	pub fn start_with(chain: &str, args: &[&str]) -> LocalNetwork {
		// A test that failed while holding the lock poisons it; the next test still runs.
		let turn = ONE_NETWORK_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		let dir = tempfile::Builder::new().prefix("lem-local-").tempdir().unwrap();
		let names = ["alice", "bob", "charlie", "dave"];
		let mut nodes: Vec<Node> = Vec::new();
		for (i, who) in names.iter().enumerate() {
			let bootnodes = nodes.first().map(|n| vec![n.multiaddr()]).unwrap_or_default();
			nodes.push(Node::start(NodeConfig {
				name: format!("node{}-{who}", i + 1),
				chain: chain.into(),
				base_path: dir.path().join(format!("node{}", i + 1)),
				node_key: NODE_KEYS[i].into(),
				dev_account: Some(who),
				validator: true,
				bootnodes,
				p2p_port: free_port(),
				rpc_port: free_port(),
				prometheus_port: free_port(),
				args: args.iter().map(|a| a.to_string()).collect(),
			}));
		}
		LocalNetwork { nodes, dir, _turn: turn }
	}

	/// A further node on the same chain, not started as one of the four.
	pub fn extra_node_config(&self, name: &str, node_key: &str, validator: bool) -> NodeConfig {
		NodeConfig {
			name: name.into(),
			chain: self.nodes[0].config.chain.clone(),
			base_path: self.dir.path().join(name),
			node_key: node_key.into(),
			dev_account: None,
			validator,
			bootnodes: vec![self.nodes[0].multiaddr()],
			p2p_port: free_port(),
			rpc_port: free_port(),
			prometheus_port: free_port(),
			args: vec![],
		}
	}

	/// Wait until `node`'s finalized block reaches `number`.
	pub fn wait_finalized(&self, node: usize, number: u32, timeout: Duration) {
		let n = &self.nodes[node];
		let mut last = 0;
		let what = format!("{} to finalize #{number}", n.config.name);
		let deadline = Instant::now() + timeout;
		while Instant::now() < deadline {
			last = n.finalized_number();
			if last >= number {
				return;
			}
			sleep(Duration::from_millis(500));
		}
		panic!("timed out waiting for {what}; finalized #{last}\n{}", n.log_tail());
	}
}

/// A chain spec of `base` (`local-fast` or `local`) with its genesis patched by `edit` (e.g. a
/// shorter retention window), written to `dir`: a test preset, made from the real one.
pub fn local_chain_spec(base: &str, dir: &Path, edit: impl FnOnce(&mut Value)) -> PathBuf {
	let mut spec: Value =
		serde_json::from_slice(&export_chain_spec(base, false)).expect("a chain spec");
	edit(&mut spec["genesis"]["runtimeGenesis"]["patch"]);
	let path = dir.join("local-test.json");
	std::fs::write(&path, spec.to_string()).unwrap();
	path
}

/// `chain` as a raw chain spec in `dir` (`<name>-raw.json`): what a gateway or an auditor
/// starts from.
pub fn raw_chain_spec_file(chain: &str, dir: &Path) -> PathBuf {
	let name = Path::new(chain).file_stem().and_then(|n| n.to_str()).unwrap_or(chain);
	let path = dir.join(format!("{name}-raw.json"));
	std::fs::write(&path, export_chain_spec(chain, true)).unwrap();
	path
}

/// `lem-node export-chain-spec` of `chain` (a name or a chain spec file); `raw`: with genesis
/// as storage, which a light client starts from.
pub fn export_chain_spec(chain: &str, raw: bool) -> Vec<u8> {
	let out = Command::new(node_binary())
		.args(["export-chain-spec", "--chain", chain])
		.args(raw.then_some("--raw"))
		.output()
		.expect("lem-node export-chain-spec");
	assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
	out.stdout
}

/// Runs the `lem-audit` binary the workspace built; returns its exit status, stdout, stderr.
pub fn lem_audit(args: &[&str]) -> (bool, String, String) {
	lem_audit_with_env(&[], args)
}

pub fn lem_audit_with_env(env: &[(&str, &Path)], args: &[&str]) -> (bool, String, String) {
	let bin = node_binary().with_file_name("lem-audit");
	let out = Command::new(&bin)
		.envs(env.iter().copied())
		.args(args)
		.output()
		.unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
	(
		out.status.success(),
		String::from_utf8_lossy(&out.stdout).into(),
		String::from_utf8_lossy(&out.stderr).into(),
	)
}

/// A council motion of `call`, passed with `threshold` votes.
pub fn propose(call: RuntimeCall, threshold: u32) -> RuntimeCall {
	let length_bound = call.encoded_size() as u32;
	RuntimeCall::Council(pallet_collective::Call::propose {
		threshold,
		proposal: Box::new(call),
		length_bound,
	})
}

/// Alice proposes `call` to the council through `node`; she, Bob and Charlie vote for it (a
/// proposal carries no vote of its proposer), and Alice closes the vote: three of four, more
/// than half. Panics unless the call was executed successfully.
pub fn council_decides(node: &Node, call: RuntimeCall) {
	let weight = call.get_dispatch_info().call_weight;
	let length_bound = call.encoded_size() as u32;
	let proposed = node.submit(&Sr25519Keyring::Alice.pair(), propose(call, 3)).ok();
	let (index, hash) = proposed
		.events
		.iter()
		.find_map(|e| match e {
			RuntimeEvent::Council(pallet_collective::Event::Proposed {
				proposal_index,
				proposal_hash,
				..
			}) => Some((*proposal_index, *proposal_hash)),
			_ => None,
		})
		.expect("a Proposed event");
	let genesis = node.genesis_hash();
	let votes =
		[Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie].map(|voter| {
			let vote = pallet_collective::Call::vote { proposal: hash, index, approve: true };
			sign(
				&voter.pair(),
				RuntimeCall::Council(vote),
				node.nonce(&voter.to_account_id()),
				genesis,
			)
		});
	for outcome in node.submit_all(votes.into()) {
		outcome.ok();
	}
	let closed = node
		.submit(
			&Sr25519Keyring::Alice.pair(),
			RuntimeCall::Council(pallet_collective::Call::close {
				proposal_hash: hash,
				index,
				proposal_weight_bound: weight,
				length_bound,
			}),
		)
		.ok();
	let executed = closed.events.iter().find_map(|e| match e {
		RuntimeEvent::Council(pallet_collective::Event::Executed { result, .. }) => Some(*result),
		_ => None,
	});
	assert_eq!(
		executed,
		Some(Ok(())),
		"the council's decision did not execute: {:?}",
		closed.events
	);
}
