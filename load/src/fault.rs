//! Faults the harness puts the network through while it carries the town's load, from the
//! first measured slot's readings on, and what each must leave true besides what every run
//! checks (each slot cleared and settled once, every reading final, all nodes finalizing the
//! same blocks):
//! - `kill`: the fourth authority dies without warning and comes back a minute later on its
//!   own database; the other three go on finalizing, and it catches up.
//! - `partition`: the authorities split two against two for a minute. Blocks go on on both
//!   sides, finality stops (neither side has the two thirds GRANDPA needs), and after the split
//!   heals one side's blocks are finalized and the other's abandoned.
//! - `upgrade`: the council authorizes the next runtime's code hash and anyone then submits
//!   the code. Its `spec_version` is one higher; every node runs it without a restart, and
//!   orders are signed for it from then on.

use crate::town::signing;
use lem_gateway_core::owner::Signing;
use lem_runtime::{RuntimeCall, RuntimeEvent, UncheckedExtrinsic};
use lem_tests::{council_decides, peer_id, LocalNetwork, Node};
use serde_json::json;
use std::time::{Duration, Instant};

/// How long a node stays down or the network split.
const OUTAGE: Duration = Duration::from_secs(60);
/// How long the next runtime may take to be in force once its code is submitted.
const UPGRADE_WITHIN: Duration = Duration::from_secs(300);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
	Kill,
	Partition,
	Upgrade,
}

impl Kind {
	pub fn parse(name: &str) -> Option<Kind> {
		match name {
			"kill" => Some(Kind::Kill),
			"partition" => Some(Kind::Partition),
			"upgrade" => Some(Kind::Upgrade),
			_ => None,
		}
	}
}

/// The two sides of the partition: node indices.
const SIDES: [[usize; 2]; 2] = [[0, 1], [2, 3]];

pub struct Fault {
	pub kind: Kind,
	began: Option<Instant>,
	over: bool,
	/// Each node's finalized and best block number when the network split.
	at_split: Vec<(u32, u32)>,
	spec_before: u32,
	/// What happened, for the report.
	pub notes: Vec<String>,
	pub failures: Vec<String>,
}

impl Fault {
	pub fn new(kind: Kind) -> Fault {
		Fault {
			kind,
			began: None,
			over: false,
			at_split: vec![],
			spec_before: 0,
			notes: vec![],
			failures: vec![],
		}
	}

	pub fn begin(&mut self, net: &mut LocalNetwork) {
		match self.kind {
			Kind::Kill => {
				net.nodes[3].kill();
				self.notes.push(format!("{} killed", net.nodes[3].config.name));
			}
			Kind::Partition => {
				self.at_split =
					net.nodes.iter().map(|n| (n.finalized_number(), n.best_number())).collect();
				for (a, b) in across() {
					let peer = peer_id(&net.nodes[b].config.node_key);
					net.nodes[a].rpc("system_removeReservedPeer", json!([peer]));
				}
				self.notes.push(format!("split {SIDES:?} at finalized {:?}", self.at_split));
			}
			Kind::Upgrade => self.propose_upgrade(&net.nodes[0]),
		}
		self.began = Some(Instant::now());
	}

	/// The next step of the fault once its time has come: restart, heal, or take up the new
	/// runtime's version for signing.
	pub fn step(&mut self, net: &mut LocalNetwork, signing_now: &mut Signing) {
		let Some(began) = self.began.filter(|_| !self.over) else { return };
		match self.kind {
			Kind::Kill if began.elapsed() >= OUTAGE => {
				net.nodes[3].restart();
				self.notes.push(format!("restarted after {} s", began.elapsed().as_secs()));
				self.over = true;
			}
			Kind::Partition if began.elapsed() >= OUTAGE => {
				self.heal(net);
				self.over = true;
			}
			Kind::Upgrade => {
				let node = &net.nodes[0];
				let now = signing(node, node.genesis_hash());
				if now.spec_version > self.spec_before {
					self.notes.push(format!(
						"spec_version {} in force at node 1's best block {} s after the code went in",
						now.spec_version,
						began.elapsed().as_secs()
					));
					*signing_now = now;
					self.over = true;
				} else if began.elapsed() > UPGRADE_WITHIN {
					self.failures
						.push(format!("the new runtime not in force after {UPGRADE_WITHIN:?}"));
					self.over = true;
				}
			}
			_ => {}
		}
	}

	fn heal(&mut self, net: &LocalNetwork) {
		let now: Vec<(u32, u32)> =
			net.nodes.iter().map(|n| (n.finalized_number(), n.best_number())).collect();
		self.notes
			.push(format!("healed after {} s at finalized and best {now:?}", OUTAGE.as_secs()));
		// Votes already on their way may finalize a block or two after the split; no more.
		for (i, ((split, _), (finalized, _))) in self.at_split.iter().zip(&now).enumerate() {
			if *finalized > split + 2 {
				self.failures.push(format!(
					"{} finalized #{split} → #{finalized} while split",
					net.nodes[i].config.name
				));
			}
		}
		for side in SIDES {
			let n = side[0];
			if now[n].1 <= self.at_split[n].1 {
				self.failures
					.push(format!("no blocks on {}'s side while split", net.nodes[n].config.name));
			}
		}
		let bests: Vec<_> = SIDES.iter().map(|s| net.nodes[s[0]].block_hash(now[s[0]].1)).collect();
		if bests[0] == bests[1] {
			self.failures.push("both sides at the same best block: no fork while split".into());
		}
		for (a, b) in across() {
			net.nodes[a].rpc("system_addReservedPeer", json!([net.nodes[b].multiaddr()]));
		}
	}

	/// The council authorizes the next runtime's code hash; then the code goes in unsigned,
	/// as anyone may submit it.
	fn propose_upgrade(&mut self, node: &Node) {
		let code = lem_runtime::next_spec_version::WASM_BINARY.expect("the next runtime built");
		self.spec_before = signing(node, node.genesis_hash()).spec_version;
		let code_hash = sp_crypto_hashing::blake2_256(code).into();
		council_decides(
			node,
			RuntimeCall::AuthoritySet(pallet_authority_set::Call::authorize_upgrade { code_hash }),
		);
		let apply = RuntimeCall::System(frame_system::Call::apply_authorized_upgrade {
			code: code.to_vec(),
		});
		let applied = node.submit_extrinsic(UncheckedExtrinsic::new_bare(apply)).ok();
		let updated = applied
			.events
			.iter()
			.any(|e| matches!(e, RuntimeEvent::System(frame_system::Event::CodeUpdated { .. })));
		if !updated {
			self.failures.push(format!("no CodeUpdated: {:?}", applied.events));
		}
		self.notes.push(format!(
			"the council authorized {} bytes of code (spec_version {} now); it went in at {:?}",
			code.len(),
			self.spec_before,
			applied.block
		));
	}

	/// What is true of the fault at the end of the run, with every node's runtime and
	/// processes.
	pub fn finish(&mut self, net: &LocalNetwork) {
		if !self.over {
			self.failures.push(format!("the {:?} fault never ended", self.kind));
		}
		if self.kind == Kind::Upgrade {
			for node in &net.nodes {
				let version = signing(node, node.genesis_hash()).spec_version;
				if version <= self.spec_before {
					self.failures.push(format!("{} runs spec_version {version}", node.config.name));
				}
			}
		}
	}
}

/// Every pair of nodes on different sides, both ways.
fn across() -> impl Iterator<Item = (usize, usize)> {
	let [a, b] = SIDES;
	a.into_iter().flat_map(move |x| b.into_iter().flat_map(move |y| [(x, y), (y, x)]))
}
