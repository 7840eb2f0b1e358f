//! `docs/OPERATIONS.md` followed from scratch, as two utilities would: `a` and `b`, each in a
//! directory of its own as on a host of its own, run the guide's `sh` blocks in order with bash,
//! send each other the public files the guide says to send, and start their nodes with the
//! systemd unit's `ExecStart` (`ops/lem-node.service`), its paths, ports and host name moved
//! into the test's directories and loopback ports.
//!
//! Checked: both make the same chain spec; both nodes author blocks and finality advances (with
//! two authorities GRANDPA needs both votes); each node serves every metric the Grafana dashboard
//! (`ops/grafana/lem-node.json`) queries; rotated session keys register; and a node restored
//! from the guide's backup into an empty base path catches up and authors and votes again.
//!
//! Every section of the guide with an `sh` block must be followed here, so what the guide tells
//! an engineer to type is what this test ran.

use codec::{Decode, Encode};
use lem_runtime::{
	genesis_config_presets::demo_account, AccountId, Runtime, RuntimeCall, SessionKeys,
};
use lem_tests::{free_port, metrics_at, node_binary, peer_id, rpc_at, sign, Metric, NODE_KEYS};
use serde_json::{json, Value};
use sp_core::{bytes, crypto::Ss58Codec, sr25519, Pair, H256};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};
use std::{
	collections::BTreeSet,
	fs::{self, File},
	io::{BufRead, BufReader},
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	thread::sleep,
	time::{Duration, Instant},
};

const MINUTE: Duration = Duration::from_secs(60);

/// The guide's sections the test follows, by heading.
const SETTINGS: &str = "Settings";
const KEYS: &str = "1. Make your keys";
const CHAIN_SPEC: &str = "2. Make the community's chain spec";
const INSTALL: &str = "3. Install and start the node";
const CHECK: &str = "4. Check the node";
const ROTATE: &str = "5. Rotate the session keys";
const ADD_UTILITY: &str = "6. Add a utility through the council";
const BACKUP: &str = "7. Back up and restore";

/// The host's paths and ports as the unit and the guide's settings give them; the test moves
/// each into its own directories and ports.
const UNIT_ETC: &str = "/etc/lem";
const UNIT_DATA: &str = "/var/lib/lem";
const UNIT_LISTEN: &str = "/ip4/0.0.0.0/tcp/30333";
const UNIT_RPC_PORT: &str = "9944";
const UNIT_PROMETHEUS_PORT: &str = "9615";

const COMMUNITY_ID: &str = "lem_operations";
/// What each utility and role account starts with: 1000 EUR.
const FUNDS: u128 = 1_000_000_000;
const TARIFFS: &str = "320000,300000,80000";

fn repo() -> PathBuf {
	Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

#[test]
fn two_utilities_follow_the_operations_guide_to_a_running_network() {
	let mut guide = Guide::read();
	let unit = exec_start();
	let dir = tempfile::Builder::new().prefix("lem-ops-").tempdir().unwrap();
	// `lem-node` on the PATH, as the guide expects it.
	let bin = dir.path().join("bin");
	fs::create_dir_all(&bin).unwrap();
	std::os::unix::fs::symlink(node_binary(), bin.join("lem-node")).unwrap();
	let mut a = Host::new("a", dir.path(), &bin);
	let mut b = Host::new("b", dir.path(), &bin);

	// The settings block is the engineer's to fill in: the test sets the same variables itself.
	let settings = guide.take(SETTINGS);
	check_settings(&settings[0], &a);

	for block in guide.take(KEYS) {
		for host in [&a, &b] {
			host.run(&block);
		}
	}
	// What section 1 says to send to every other utility.
	for (from, to) in [(&a, &b), (&b, &a)] {
		for public in ["authorities", "bootnodes"] {
			let file = |host: &Host| host.home.join(public).join(from.name);
			fs::copy(file(from), file(to)).unwrap();
		}
	}

	for block in guide.take(CHAIN_SPEC) {
		for host in [&a, &b] {
			host.run(&block);
		}
	}
	let spec = fs::read(a.home.join("chain-spec.json")).unwrap();
	assert!(
		spec == fs::read(b.home.join("chain-spec.json")).unwrap(),
		"the two utilities made different chain specs from the same inputs"
	);
	let readable: Value =
		serde_json::from_slice(&fs::read(a.home.join("community.json")).unwrap()).unwrap();
	assert_eq!(readable["chainType"], "Live");
	assert_eq!(readable["id"], COMMUNITY_ID);
	assert_eq!(readable["bootNodes"].as_array().map(Vec::len), Some(2));

	for block in guide.take(INSTALL) {
		for host in [&a, &b] {
			host.run(&block);
		}
	}
	// `systemctl enable --now lem-node` at each utility.
	a.start(&unit);
	b.start(&unit);
	let mut accounts: Vec<AccountId> = [&a, &b].map(|h| h.authority().account).into();
	accounts.sort();
	let authorities: Vec<AccountId> = a
		.storage_decoded(&pallet_authority_set::Authorities::<Runtime>::hashed_key())
		.expect("the authority set");
	assert_eq!(authorities, accounts, "the chain's authorities are not the two utilities");

	// Both nodes author in their Aura slots, and blocks become final: GRANDPA with two
	// authorities needs both votes.
	wait_until("both nodes to author a block", 2 * MINUTE, &[&a, &b], || {
		[&a, &b].iter().all(|h| h.metric_sum("substrate_proposer_block_constructed_count") > 0.0)
	});
	wait_finalized(&[&a, &b], 3, 2 * MINUTE);
	assert_eq!(a.block_hash(3), b.block_hash(3), "the nodes disagree on the finalized chain");

	for block in guide.take(CHECK) {
		for host in [&a, &b] {
			let out = host.run(&block);
			assert!(out.contains("\"isSyncing\":false"), "{}: not in sync:\n{out}", host.name);
			assert!(
				out.contains("\"peers\":1"),
				"{}: not connected to the other:\n{out}",
				host.name
			);
			assert!(
				out.contains("status=\"finalized\""),
				"{}: no finalized height:\n{out}",
				host.name
			);
		}
	}
	let queried = dashboard_metrics();
	for host in [&a, &b] {
		let served: BTreeSet<String> = host.metrics().into_iter().map(|m| m.name).collect();
		let missing: Vec<&String> = queried.difference(&served).collect();
		assert!(missing.is_empty(), "{}: the dashboard queries {missing:?}, not served", host.name);
	}

	// Section 5: the node makes the keys; the utility's account registers them, as a wallet
	// would sign `session.setKeys` with the guide's values.
	for block in guide.take(ROTATE) {
		for host in [&a, &b] {
			host.run(&block);
		}
	}
	let rotated = [&a, &b].map(register_rotated_keys);
	wait_until("the rotated keys registered", 2 * MINUTE, &[&a, &b], || {
		rotated.iter().all(|(who, keys)| {
			let key = pallet_session::NextKeys::<Runtime>::hashed_key_for(who);
			a.storage_decoded::<SessionKeys>(&key).as_ref() == Some(keys)
		})
	});

	// Section 6: the bytes the council admits a node by are its peer id's.
	for block in guide.take(ADD_UTILITY) {
		for host in [&a, &b] {
			let out = host.run(&block);
			let peer = bs58::decode(host.authority().peer_id).into_vec().unwrap();
			assert_eq!(out.lines().last(), Some(bytes::to_hex(&peer, false).as_str()));
		}
	}

	// Section 7, at utility a: a backup of the stopped node; the chain moves on; the disk is
	// lost; the backup is restored into an empty base path.
	let blocks = guide.take(BACKUP);
	let [backup, restore] = &blocks[..] else { panic!("section 7: a backup and a restore block") };
	let final_at_backup = a.finalized();
	a.stop();
	a.run(backup);
	a.start(&unit);
	let moved_on = b.finalized() + 4;
	wait_finalized(&[&a, &b], moved_on, 2 * MINUTE);
	a.stop();
	fs::remove_dir_all(a.data()).unwrap();
	let restored = a.run(restore);
	let info: Value = serde_json::from_str(restored.trim())
		.unwrap_or_else(|e| panic!("chain-info prints JSON ({e}):\n{restored}"));
	let restored_final = info["finalized_number"].as_u64().expect("a finalized number") as u32;
	assert!(
		(final_at_backup..moved_on).contains(&restored_final),
		"the restored database is not the backup: finalized #{restored_final}"
	);
	assert_eq!(info["genesis_hash"], b.block_hash(0));
	a.start(&unit);
	// It fetches what it missed, then finality goes on: with its GRANDPA key back, as its vote
	// is needed, and it authors with its Aura key.
	let target = b.best();
	wait_finalized(&[&a, &b], target, 3 * MINUTE);
	assert_eq!(a.block_hash(target), b.block_hash(target));
	wait_until("the restored node to author", 2 * MINUTE, &[&a, &b], || {
		a.metric_sum("substrate_proposer_block_constructed_count") > 0.0
	});

	guide.assert_all_taken();
}

/// What `new-community` refuses: named on stderr, nothing on stdout, a failed exit.
#[test]
fn new_community_refuses_what_it_cannot_make_a_chain_of() {
	let authority = |who: Sr25519Keyring, grandpa: Ed25519Keyring, node: usize| {
		format!(
			"{},{},{},{}",
			who.to_account_id(),
			who.public().to_ss58check(),
			grandpa.public().to_ss58check(),
			peer_id(NODE_KEYS[node])
		)
	};
	let alice = authority(Sr25519Keyring::Alice, Ed25519Keyring::Alice, 0);
	let account = Sr25519Keyring::Alice.to_account_id().to_string();
	let grandpa = Ed25519Keyring::Alice.public().to_ss58check();
	let bootnode_of_bob = format!("/ip4/127.0.0.1/tcp/30333/p2p/{}", peer_id(NODE_KEYS[1]));
	let cases: Vec<(Vec<String>, &str)> = vec![
		(vec![], "--authority"),
		(
			vec![
				"--authority".into(),
				format!("{account},not-a-key,{grandpa},{}", peer_id(NODE_KEYS[0])),
			],
			"the Aura key",
		),
		(
			// An RSA key's peer id: the chain admits ed25519 node keys only.
			vec![
				"--authority".into(),
				format!(
					"{account},{},{grandpa},QmSk5HQbn6LhUwDiNMseVUjuRYhEtYj4aUZ6WfWoGURpdV",
					Sr25519Keyring::Alice.public().to_ss58check()
				),
			],
			"not the peer id of an ed25519 node key",
		),
		(
			// Bob's keys with Alice's node.
			vec![
				"--authority".into(),
				alice.clone(),
				"--authority".into(),
				authority(Sr25519Keyring::Bob, Ed25519Keyring::Bob, 0),
			],
			"duplicate authority: the peer id",
		),
		(
			vec!["--authority".into(), alice.clone(), "--bootnode".into(), bootnode_of_bob],
			"bootnode not an authority",
		),
		(
			vec![
				"--authority".into(),
				alice.clone(),
				"--fund".into(),
				format!("{account}=1000000"),
				"--fund".into(),
				format!("{account}=2000000"),
			],
			"duplicate fund",
		),
		(
			// The manager as its own technician: the runtime's genesis refuses it by name.
			vec![
				"--authority".into(),
				alice.clone(),
				"--technician".into(),
				demo_account("Manager").to_string(),
			],
			"RoleConflict",
		),
		(
			// The supplier's 1000 EUR cannot hold a deposit of 2000 EUR.
			vec![
				"--authority".into(),
				alice.clone(),
				"--supplier-deposit".into(),
				"2000000000".into(),
			],
			"SupplierDepositShort",
		),
	];
	let community = |extra: &[String], tariffs: &str| {
		Command::new(node_binary())
			.arg("new-community")
			.args(["--name", "refused", "--id", "refused"])
			.args(["--manager", &demo_account("Manager").to_string()])
			.args(["--dso", &demo_account("Dso").to_string()])
			.args(["--supplier", &demo_account("Utility").to_string()])
			.args(["--fund", &format!("{}=1000000000", demo_account("Utility"))])
			.args(["--tariffs", tariffs])
			.args(extra)
			.output()
			.expect("run lem-node new-community")
	};
	let mut runs: Vec<(std::process::Output, &str)> =
		cases.iter().map(|(extra, named)| (community(extra.as_slice(), TARIFFS), *named)).collect();
	// A retail tariff above what an ask holds (0.50 EUR/kWh): the runtime's own refusal, found
	// by building the genesis.
	runs.push((
		community(&["--authority".into(), alice.clone()], "500001,300000,80000"),
		"invalid genesis",
	));
	for (out, named) in runs {
		let stderr = String::from_utf8_lossy(&out.stderr);
		assert!(!out.status.success(), "accepted; expected {named:?}");
		assert!(out.stdout.is_empty(), "printed a spec though refused ({named:?})");
		assert!(stderr.contains(named), "expected {named:?} on stderr, got:\n{stderr}");
	}
	// The same flags with good values make a spec.
	let out = community(&["--authority".into(), alice], TARIFFS);
	assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
	let spec: Value = serde_json::from_slice(&out.stdout).expect("a chain spec");
	assert_eq!(spec["chainType"], "Live");
}

/// The guide's `sh` blocks by the `## ` section they are in. The test takes each section as it
/// follows it; one it never takes fails the test.
struct Guide {
	sections: Vec<(String, Vec<String>)>,
	taken: BTreeSet<String>,
}

impl Guide {
	fn read() -> Guide {
		let text = fs::read_to_string(repo().join("docs/OPERATIONS.md")).unwrap();
		let mut sections: Vec<(String, Vec<String>)> = vec![(String::new(), Vec::new())];
		// Inside a fenced block: whether it is `sh`, and its text so far.
		let mut fence: Option<(bool, String)> = None;
		for line in text.lines() {
			let trimmed = line.trim();
			match fence.as_mut() {
				Some((sh, body)) if trimmed == "```" => {
					if *sh {
						let block = std::mem::take(body);
						sections.last_mut().unwrap().1.push(block);
					}
					fence = None;
				}
				Some((_, body)) => {
					body.push_str(line);
					body.push('\n');
				}
				None if trimmed.starts_with("```") => {
					fence = Some((trimmed == "```sh", String::new()));
				}
				None => {
					if let Some(title) = line.strip_prefix("## ") {
						sections.push((title.trim().to_string(), Vec::new()));
					}
				}
			}
		}
		assert!(fence.is_none(), "the guide ends inside a code block");
		Guide { sections, taken: BTreeSet::new() }
	}

	fn take(&mut self, title: &str) -> Vec<String> {
		let (_, blocks) = self
			.sections
			.iter()
			.find(|(t, _)| t == title)
			.unwrap_or_else(|| panic!("the guide has no section {title:?}"));
		assert!(!blocks.is_empty(), "the guide's section {title:?} has no sh block");
		self.taken.insert(title.to_string());
		blocks.clone()
	}

	fn assert_all_taken(&self) {
		let untested: Vec<&str> = self
			.sections
			.iter()
			.filter(|(title, blocks)| !blocks.is_empty() && !self.taken.contains(title))
			.map(|(title, _)| title.as_str())
			.collect();
		assert!(
			untested.is_empty(),
			"the guide has sh blocks this test does not run, in {untested:?}: run them here, \
			 or fence them as console if they are the host's alone"
		);
	}
}

/// The guide's settings set exactly the variables the test sets, and the host's paths and
/// ports there are the unit's.
fn check_settings(block: &str, host: &Host) {
	let assigned: Vec<(&str, &str)> = block
		.lines()
		.map(str::trim)
		.filter(|l| !l.is_empty() && !l.starts_with('#'))
		.map(|l| {
			let (name, value) = l
				.split_once('=')
				.unwrap_or_else(|| panic!("the settings block holds assignments only: {l}"));
			(name, value.split_whitespace().next().unwrap_or(""))
		})
		.collect();
	let guide: BTreeSet<&str> = assigned.iter().map(|(name, _)| *name).collect();
	let test: BTreeSet<&str> = host.settings().iter().map(|(name, _)| *name).collect();
	assert_eq!(guide, test, "the guide's settings are not the variables the test sets");
	for setting in [
		("LEM_ETC", UNIT_ETC),
		("LEM_DATA", UNIT_DATA),
		("RPC_PORT", UNIT_RPC_PORT),
		("PROMETHEUS_PORT", UNIT_PROMETHEUS_PORT),
	] {
		assert!(assigned.contains(&setting), "the guide's settings do not have {setting:?}");
	}
}

/// The unit's `ExecStart` as systemd splits it: continuation lines joined, one argument per
/// word (it quotes and expands nothing, which is checked).
fn exec_start() -> Vec<String> {
	let unit = fs::read_to_string(repo().join("ops/lem-node.service")).unwrap();
	let mut command = String::new();
	for line in unit.lines().skip_while(|l| !l.starts_with("ExecStart=")) {
		match line.trim().strip_suffix('\\') {
			Some(part) => {
				command.push_str(part);
				command.push(' ');
			}
			None => {
				command.push_str(line.trim());
				break;
			}
		}
	}
	let command = command.strip_prefix("ExecStart=").expect("the unit has an ExecStart");
	assert!(!command.contains(['"', '\'', '$']), "ExecStart quotes or expands: {command}");
	command.split_whitespace().map(String::from).collect()
}

/// Every metric name the dashboard's queries (panels and variables) use. A selector's metric
/// must be the node's own (`substrate_…`): Prometheus's and other exporters' are not checked
/// against a node.
fn dashboard_metrics() -> BTreeSet<String> {
	let text = fs::read_to_string(repo().join("ops/grafana/lem-node.json")).unwrap();
	let dashboard: Value = serde_json::from_str(&text).expect("the dashboard is JSON");
	let mut queries: Vec<String> = Vec::new();
	for panel in dashboard["panels"].as_array().expect("panels") {
		for target in panel["targets"].as_array().expect("a panel's targets") {
			queries.push(target["expr"].as_str().expect("a target's expr").to_string());
		}
	}
	for variable in dashboard["templating"]["list"].as_array().expect("variables") {
		if let Some(query) = variable["query"]["query"].as_str() {
			queries.push(query.to_string());
		}
	}
	let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
	let mut names = BTreeSet::new();
	for query in &queries {
		for (at, _) in query.match_indices('{') {
			let before = &query[..at];
			let name = &before[before.trim_end_matches(is_name).len()..];
			assert!(name.starts_with("substrate_"), "{query}: {name:?} is not the node's metric");
		}
		let mut rest = query.as_str();
		while let Some(at) = rest.find("substrate_") {
			let tail = &rest[at..];
			let name = &tail[..tail.find(|c: char| !is_name(c)).unwrap_or(tail.len())];
			names.insert(name.to_string());
			rest = &tail[name.len()..];
		}
	}
	assert!(names.len() > 10, "the dashboard queries only {names:?}");
	names
}

/// Of what a utility sent the others (section 1), what the test checks the chain against.
struct Authority {
	account: AccountId,
	peer_id: String,
}

/// One utility's host: its working directory, where the guide's commands run, holding its
/// `/etc/lem` and `/var/lib/lem`; its node's ports, and its node once started.
struct Host {
	name: &'static str,
	home: PathBuf,
	bin: PathBuf,
	p2p_port: u16,
	rpc_port: u16,
	prometheus_port: u16,
	node: Option<Child>,
}

impl Host {
	fn new(name: &'static str, root: &Path, bin: &Path) -> Host {
		let home = root.join(name);
		fs::create_dir_all(&home).unwrap();
		Host {
			name,
			home,
			bin: bin.to_path_buf(),
			p2p_port: free_port(),
			rpc_port: free_port(),
			prometheus_port: free_port(),
			node: None,
		}
	}

	fn etc(&self) -> PathBuf {
		self.home.join("etc/lem")
	}

	fn data(&self) -> PathBuf {
		self.home.join("var/lib/lem")
	}

	fn log(&self) -> PathBuf {
		self.home.join("lem-node.log")
	}

	/// The guide's settings at this utility, in the test's community.
	fn settings(&self) -> Vec<(&'static str, String)> {
		vec![
			("UTILITY", self.name.to_string()),
			("PUBLIC_ADDRESS", format!("/ip4/127.0.0.1/tcp/{}", self.p2p_port)),
			("LEM_ETC", self.etc().display().to_string()),
			("LEM_DATA", self.data().display().to_string()),
			("RPC_PORT", self.rpc_port.to_string()),
			("PROMETHEUS_PORT", self.prometheus_port.to_string()),
			("COMMUNITY_NAME", "lem operations test".to_string()),
			("COMMUNITY_ID", COMMUNITY_ID.to_string()),
			("MANAGER", demo_account("Manager").to_string()),
			("DSO", demo_account("Dso").to_string()),
			("SUPPLIER", demo_account("Utility").to_string()),
			("TECHNICIAN", demo_account("Technician").to_string()),
			("FUNDS", FUNDS.to_string()),
			("TARIFFS", TARIFFS.to_string()),
		]
	}

	/// One of the guide's `sh` blocks, run as this utility's engineer runs it: bash in the
	/// working directory, with the settings and `lem-node` on the PATH. Its stdout.
	fn run(&self, block: &str) -> String {
		let path = format!("{}:{}", self.bin.display(), std::env::var("PATH").unwrap_or_default());
		let out = Command::new("bash")
			.arg("-c")
			.arg(format!("set -euo pipefail\n{block}"))
			.current_dir(&self.home)
			.envs(self.settings())
			.env("PATH", path)
			.output()
			.expect("run bash");
		let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
		let stderr = String::from_utf8_lossy(&out.stderr);
		assert!(
			out.status.success(),
			"utility {}: the block failed ({}):\n{block}--- stdout\n{stdout}--- stderr\n{stderr}",
			self.name,
			out.status
		);
		stdout
	}

	/// What this utility sent the others (section 1).
	fn authority(&self) -> Authority {
		let line = fs::read_to_string(self.home.join("authorities").join(self.name)).unwrap();
		let fields: Vec<&str> = line.trim().split(',').collect();
		let &[account, _, _, peer_id] = fields.as_slice() else {
			panic!("authorities/{}: {line}", self.name)
		};
		Authority {
			account: AccountId::from_ss58check(account).expect("an SS58 account"),
			peer_id: peer_id.to_string(),
		}
	}

	/// The unit's `ExecStart` arguments at this host: its paths, ports and name.
	fn unit_args(&self, exec_start: &[String]) -> Vec<String> {
		let (binary, args) = exec_start.split_first().expect("ExecStart runs a binary");
		assert!(binary.ends_with("/lem-node"), "ExecStart runs {binary}");
		for required in ["--validator", "--listen-addr", "--rpc-port", "--prometheus-port"] {
			assert!(args.iter().any(|a| a == required), "ExecStart lacks {required}");
		}
		let mut moved = Vec::new();
		let mut flag = "";
		for word in args {
			let value = match flag {
				"--listen-addr" => {
					assert_eq!(word.as_str(), UNIT_LISTEN);
					format!("/ip4/127.0.0.1/tcp/{}", self.p2p_port)
				}
				"--rpc-port" => {
					assert_eq!(word.as_str(), UNIT_RPC_PORT);
					self.rpc_port.to_string()
				}
				"--prometheus-port" => {
					assert_eq!(word.as_str(), UNIT_PROMETHEUS_PORT);
					self.prometheus_port.to_string()
				}
				_ if word == "%H" => format!("lem-{}", self.name),
				_ => {
					if let Some(rest) = word.strip_prefix(UNIT_ETC) {
						format!("{}{rest}", self.etc().display())
					} else if let Some(rest) = word.strip_prefix(UNIT_DATA) {
						format!("{}{rest}", self.data().display())
					} else {
						assert!(
							!word.contains(['/', '%']),
							"ExecStart has {word}, which the test cannot place in its host"
						);
						word.clone()
					}
				}
			};
			moved.push(value);
			flag = word.as_str();
		}
		moved
	}

	/// `systemctl start lem-node`: the unit's command line, until its RPC answers.
	fn start(&mut self, exec_start: &[String]) {
		assert!(self.node.is_none(), "{} runs already", self.name);
		let log = File::options().create(true).append(true).open(self.log()).unwrap();
		let child = Command::new(node_binary())
			.args(self.unit_args(exec_start))
			.stdout(Stdio::from(log.try_clone().unwrap()))
			.stderr(Stdio::from(log))
			.spawn()
			.expect("spawn lem-node");
		self.node = Some(child);
		let deadline = Instant::now() + 2 * MINUTE;
		while self.try_rpc("system_health", json!([])).is_err() {
			if let Some(status) = self.node.as_mut().unwrap().try_wait().unwrap() {
				panic!("{}: lem-node exited with {status}\n{}", self.name, self.log_tail());
			}
			assert!(Instant::now() < deadline, "{}: no RPC\n{}", self.name, self.log_tail());
			sleep(Duration::from_millis(500));
		}
	}

	/// `systemctl stop lem-node`: SIGTERM, on which the node closes its database, and wait.
	fn stop(&mut self) {
		let mut child = self.node.take().expect("a running node");
		let term = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
		assert!(term.is_ok_and(|s| s.success()), "{}: kill -TERM failed", self.name);
		let deadline = Instant::now() + MINUTE;
		while child.try_wait().unwrap().is_none() {
			if Instant::now() > deadline {
				let _ = child.kill();
				panic!("{}: no exit within a minute of SIGTERM\n{}", self.name, self.log_tail());
			}
			sleep(Duration::from_millis(200));
		}
	}

	fn log_tail(&self) -> String {
		let lines: Vec<String> = File::open(self.log())
			.map(|f| BufReader::new(f).lines().map_while(Result::ok).collect())
			.unwrap_or_default();
		lines[lines.len().saturating_sub(30)..].join("\n")
	}

	fn try_rpc(&self, method: &str, params: Value) -> Result<Value, String> {
		rpc_at(self.rpc_port, method, params)
	}

	fn rpc(&self, method: &str, params: Value) -> Value {
		self.try_rpc(method, params)
			.unwrap_or_else(|e| panic!("{}: {method}: {e}\n{}", self.name, self.log_tail()))
	}

	fn best(&self) -> u32 {
		header_number(&self.rpc("chain_getHeader", json!([])))
	}

	fn finalized(&self) -> u32 {
		let hash = self.rpc("chain_getFinalizedHead", json!([]));
		header_number(&self.rpc("chain_getHeader", json!([hash])))
	}

	fn block_hash(&self, number: u32) -> Value {
		self.rpc("chain_getBlockHash", json!([number]))
	}

	fn storage_decoded<T: Decode>(&self, key: &[u8]) -> Option<T> {
		let value = self.rpc("state_getStorage", json!([bytes::to_hex(key, false)]));
		let raw = bytes::from_hex(value.as_str()?).unwrap();
		Some(T::decode(&mut &raw[..]).expect("storage decodes"))
	}

	/// Every sample the node serves now.
	fn metrics(&self) -> Vec<Metric> {
		metrics_at(self.prometheus_port).unwrap_or_else(|e| panic!("{}: metrics: {e}", self.name))
	}

	fn metric_sum(&self, name: &str) -> f64 {
		self.metrics().iter().filter(|m| m.name == name).map(|m| m.value).sum()
	}
}

impl Drop for Host {
	fn drop(&mut self) {
		if let Some(mut child) = self.node.take() {
			let _ = child.kill();
			let _ = child.wait();
		}
	}
}

fn header_number(header: &Value) -> u32 {
	let n = header["number"].as_str().expect("a header's number");
	u32::from_str_radix(n.trim_start_matches("0x"), 16).unwrap()
}

/// What a wallet does with section 5's answer: `session.setKeys(keys, proof)` from the
/// utility's account (its phrase from `secrets/account`), submitted to the utility's node.
fn register_rotated_keys(host: &Host) -> (AccountId, SessionKeys) {
	let answer: Value =
		serde_json::from_slice(&fs::read(host.home.join("rotated-keys.json")).unwrap()).unwrap();
	let field = |name: &str| {
		let hex = answer["result"][name].as_str();
		bytes::from_hex(hex.unwrap_or_else(|| panic!("{}: no {name} in {answer}", host.name)))
			.unwrap()
	};
	let keys = SessionKeys::decode(&mut &field("keys")[..]).expect("session keys");
	let phrase = fs::read_to_string(host.home.join("secrets/account")).unwrap();
	let (pair, _) = sr25519::Pair::from_phrase(phrase.trim(), None).expect("a secret phrase");
	let account = AccountId::from(pair.public());
	let call = RuntimeCall::Session(pallet_session::Call::set_keys {
		keys: keys.clone(),
		proof: field("proof"),
	});
	let nonce = host.rpc("system_accountNextIndex", json!([account.to_string()]));
	let genesis = host.block_hash(0);
	let genesis = H256::from_slice(&bytes::from_hex(genesis.as_str().unwrap()).unwrap());
	let xt = sign(&pair, call, nonce.as_u64().unwrap() as u32, genesis);
	host.rpc("author_submitExtrinsic", json!([bytes::to_hex(&xt.encode(), false)]));
	(account, keys)
}

/// Poll `done` every second until it holds; on timeout, fail with the nodes' logs.
fn wait_until(what: &str, timeout: Duration, hosts: &[&Host], mut done: impl FnMut() -> bool) {
	let deadline = Instant::now() + timeout;
	while !done() {
		if Instant::now() > deadline {
			let logs: Vec<String> =
				hosts.iter().map(|h| format!("--- {}\n{}", h.name, h.log_tail())).collect();
			panic!("timed out after {timeout:?} waiting for {what}\n{}", logs.join("\n"));
		}
		sleep(Duration::from_secs(1));
	}
}

fn wait_finalized(hosts: &[&Host], number: u32, timeout: Duration) {
	wait_until(&format!("#{number} finalized on every node"), timeout, hosts, || {
		hosts.iter().all(|h| h.finalized() >= number)
	});
}
