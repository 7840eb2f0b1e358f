//! The `local-fast` chain on loopback (the killed authority's test: `local`, 6-second blocks):
//! four utilities' authority nodes, run as real `lem-node` processes. Each test starts its own
//! network (checks that can share one do), so run them one at a time (`--test-threads=1`):
//! each node is a full debug node and the machine has two cores.

use codec::{Decode, Encode};
use lem_runtime::{AccountId, Runtime, RuntimeCall, RuntimeError, SessionKeys};
use lem_tests::{
	boxes::{GatewayBox, MeterSim},
	*,
};
use serde_json::json;
use sp_consensus_aura::{sr25519::AuthorityId as AuraId, Slot, AURA_ENGINE_ID};
use sp_core::{bytes, H256};
use sp_keyring::Sr25519Keyring;
use sp_runtime::{DigestItem, DispatchError};
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);

/// One network for the checks that change nothing another one reads: it finalizes, refuses an
/// outsider's change to the authority set, then admits a node the council names and no other.
#[test]
fn four_authorities_finalize_and_admit_only_whom_the_council_names() {
	let net = LocalNetwork::start();
	four_authorities_produce_and_finalize_blocks(&net);
	outsiders_cannot_change_the_authority_set(&net);
	a_node_whose_peer_id_is_not_on_chain_cannot_sync(&net);
}

fn four_authorities_produce_and_finalize_blocks(net: &LocalNetwork) {
	net.wait_finalized(0, 3, 2 * MINUTE);
	// Every node agrees on the finalized chain, and blocks come from more than one author.
	let finalized = net.nodes[0].finalized_number();
	let hash = net.nodes[0].block_hash(finalized).unwrap();
	for i in 1..net.nodes.len() {
		net.wait_finalized(i, finalized, MINUTE);
		let n = &net.nodes[i];
		assert_eq!(
			n.block_hash(finalized),
			Some(hash),
			"{} disagrees at #{finalized}",
			n.config.name
		);
	}
	let authors: std::collections::BTreeSet<AuraId> =
		(1..=finalized).map(|b| block_author(&net.nodes[0], b)).collect();
	assert!(authors.len() > 1, "only one authority authored blocks 1..={finalized}");
}

#[test]
fn finality_survives_a_killed_authority_which_restarts_and_catches_up() {
	// Production's 6-second blocks: how far a restarted node falls behind, and how it catches
	// up, depends on the block time.
	let mut net = LocalNetwork::start_on("local");
	net.wait_finalized(3, 3, 2 * MINUTE);

	let had_best = net.nodes[3].best_number();
	let had: Vec<H256> = (0..=had_best).map(|b| net.nodes[3].block_hash(b).unwrap()).collect();
	net.nodes[3].kill();

	// Three of four GRANDPA voters are more than two thirds: finality goes on.
	let before = net.nodes[0].finalized_number();
	net.wait_finalized(0, before + 3, 2 * MINUTE);

	net.nodes[3].restart();
	// Its database survived the kill: the blocks it had are there at once, unchanged.
	for (b, h) in had.iter().enumerate() {
		assert_eq!(net.nodes[3].block_hash(b as u32), Some(*h), "block #{b} lost or changed");
	}
	let target = net.nodes[0].finalized_number();
	net.wait_finalized(3, target, 2 * MINUTE);
	assert_eq!(net.nodes[3].block_hash(target), net.nodes[0].block_hash(target));
}

fn a_node_whose_peer_id_is_not_on_chain_cannot_sync(net: &LocalNetwork) {
	// A node with a key the chain does not know, pointed at an authority from its first block:
	// refused.
	let stranger_key = "07".repeat(32);
	let stranger = Node::start(net.extra_node_config("stranger", &stranger_key, false));

	// A full node with an admitted key is the control: the same start-up and bootnode, default
	// flags (no offchain workers), and it syncs once the council admits it.
	let ferdie = Sr25519Keyring::Ferdie.to_account_id();
	council_decides(
		&net.nodes[0],
		RuntimeCall::NodeAuthorization(pallet_node_authorization::Call::add_well_known_node {
			node: sp_core::OpaquePeerId(peer_id_bytes(NODE_KEYS[4])),
			owner: ferdie.into(),
		}),
	);
	assert_eq!(stranger.best_number(), 0, "a stranger synced from an authority");
	let admitted = Node::start(net.extra_node_config("admitted", NODE_KEYS[4], false));
	// A second stranger dials the admitted full node while it is fresh (still at genesis) and
	// after: a non-authority node must refuse it as the authorities do.
	let mut config = net.extra_node_config("stranger2", &"08".repeat(32), false);
	config.bootnodes = vec![admitted.multiaddr()];
	let stranger2 = Node::start(config);
	let target = net.nodes[0].best_number();
	wait_for("the admitted node to sync", 2 * MINUTE, || {
		(admitted.best_number() >= target).then_some(())
	});
	let target = admitted.best_number() + 3;
	wait_for("the admitted node to import 3 more blocks", MINUTE, || {
		(admitted.best_number() >= target).then_some(())
	});
	for (who, node) in [("stranger", &stranger), ("stranger2", &stranger2)] {
		assert_eq!(node.best_number(), 0, "{who} synced blocks");
		let peers = node.rpc("system_health", json!([]))["peers"].as_u64().unwrap();
		assert_eq!(peers, 0, "{who} holds connections");
	}
}

/// A light client that follows finality while the council hands it to a new set and back:
/// its authority set, checked by every handoff's justification, must be the chain's.
struct Follower {
	rt: tokio::runtime::Runtime,
	client: lem_light_client::client::LightClient,
}

impl Follower {
	fn new(net: &LocalNetwork, genesis: &lem_light_client::Checkpoint) -> Follower {
		let urls = net.nodes.iter().map(|n| n.ws_url()).collect();
		let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
		let client = lem_light_client::client::LightClient::new(
			urls,
			genesis.hash(),
			genesis.clone(),
			MINUTE,
		);
		Follower { rt, client }
	}

	/// Follows until the set has `voters` voters; the handoffs it checked on the way.
	fn until_voters(&mut self, voters: usize) -> u32 {
		let mut handoffs = 0;
		wait_for(&format!("a light client to follow to {voters} voters"), 3 * MINUTE, || {
			// A connection idle while the council votes may have closed: the client moves to
			// the next node. A lie fails the test.
			match self.rt.block_on(self.client.follow()) {
				Ok(p) => handoffs += p.handoffs,
				Err(e @ lem_light_client::client::ClientError::Lie { .. }) => panic!("{e}"),
				Err(_) => return None,
			}
			(self.client.checkpoint().set.authorities.len() == voters).then_some(())
		});
		// The set it followed to is the chain's, read with a proof at the block it checked.
		let key = lem_light_client::storage::value_key("Grandpa", "CurrentSetId");
		let set_id = self.rt.block_on(self.client.read(&[key])).unwrap()[0].clone();
		assert_eq!(set_id, Some(self.client.checkpoint().set.set_id.encode()));
		handoffs
	}
}

/// Whether a gateway's log shows it following a handoff to set `set_id`.
fn handed_off(log: &str, set_id: u64) -> bool {
	let set = format!("set_id={set_id}");
	log.lines().any(|l| l.contains("authority set handed off") && l.contains(&set))
}

#[test]
fn council_adds_a_fifth_authority_which_authors_and_then_removes_it() {
	let net = LocalNetwork::start();
	let raw_spec = raw_chain_spec_file(LOCAL, net.dir.path());
	let genesis =
		lem_light_client::chain_spec::genesis(&std::fs::read(&raw_spec).unwrap()).unwrap();
	assert_eq!(genesis.hash(), net.nodes[0].genesis_hash().0);
	net.wait_finalized(0, 2, 2 * MINUTE);
	let mut running = Follower::new(&net, &genesis);
	assert_eq!(running.until_voters(4), 0);
	// A gateway runs through the first change and is stopped through the second.
	let sim = MeterSim::start(1);
	let urls: Vec<String> = net.nodes.iter().map(|n| n.ws_url()).collect();
	let point = pallet_market::demo::HOUSEHOLD_METERING_POINTS[0].id;
	let mut boxes =
		[GatewayBox::new(&net.dir.path().join("box"), point, &raw_spec, &urls, sim.address)];
	GatewayBox::register_keys(&net.nodes[0], &boxes);
	let gateway = &mut boxes[0];
	gateway.start();
	let ferdie_pair = Sr25519Keyring::Ferdie.pair();
	let ferdie = Sr25519Keyring::Ferdie.to_account_id();

	// Ferdie's utility admits its node to the network and registers its session keys, which
	// the node generated itself; the proof shows Ferdie holds them.
	council_decides(
		&net.nodes[0],
		RuntimeCall::NodeAuthorization(pallet_node_authorization::Call::add_well_known_node {
			node: sp_core::OpaquePeerId(peer_id_bytes(NODE_KEYS[4])),
			owner: ferdie.clone().into(),
		}),
	);
	let node5 = Node::start(net.extra_node_config("node5-ferdie", NODE_KEYS[4], true));
	let generated =
		node5.rpc("author_rotateKeysWithOwner", json!([bytes::to_hex(&ferdie.encode(), false)]));
	let keys_raw = bytes::from_hex(generated["keys"].as_str().unwrap()).unwrap();
	let proof = bytes::from_hex(generated["proof"].as_str().unwrap()).unwrap();
	let keys = SessionKeys::decode(&mut &keys_raw[..]).unwrap();
	net.nodes[0]
		.submit(
			&ferdie_pair,
			RuntimeCall::Session(pallet_session::Call::set_keys { keys: keys.clone(), proof }),
		)
		.ok();

	council_decides(
		&net.nodes[0],
		RuntimeCall::AuthoritySet(pallet_authority_set::Call::add_authority {
			who: ferdie.clone(),
		}),
	);
	wait_for("Ferdie in the session's validators", 4 * MINUTE, || {
		validators(&net.nodes[0]).contains(&ferdie).then_some(())
	});
	// The fifth node now authors blocks with the key it generated, and they are finalized.
	let from = net.nodes[0].best_number();
	let authored = wait_for("a block authored by node 5", 3 * MINUTE, || {
		let best = net.nodes[0].best_number();
		(from..=best).find(|b| block_author(&net.nodes[0], *b) == keys.aura)
	});
	net.wait_finalized(0, authored, 2 * MINUTE);
	assert!(running.until_voters(5) >= 1);
	let set_id = running.client.checkpoint().set.set_id;
	let readings = gateway.count("reading final");
	wait_for("the gateway to prove a reading under the fifth authority", 2 * MINUTE, || {
		(gateway.count("reading final") > readings).then_some(())
	});
	gateway.stop();
	let log = gateway.log();
	assert!(handed_off(&log, set_id), "the gateway missed the handoff:\n{log}");

	council_decides(
		&net.nodes[0],
		RuntimeCall::AuthoritySet(pallet_authority_set::Call::remove_authority {
			who: ferdie.clone(),
		}),
	);
	wait_for("Ferdie out of the session's validators", 4 * MINUTE, || {
		(!validators(&net.nodes[0]).contains(&ferdie)).then_some(())
	});
	// Once out, node 5 authors no more blocks, and the four go on finalizing.
	// Two rounds of the four remaining authorities.
	let from = net.nodes[0].best_number() + 1;
	net.wait_finalized(0, from + 8, 2 * MINUTE);
	for b in from..=from + 8 {
		assert_ne!(block_author(&net.nodes[0], b), keys.aura, "removed node authored #{b}");
	}
	assert!(running.until_voters(4) >= 1);
	// A client that was off through both changes catches up from genesis in one go.
	let mut stopped = Follower::new(&net, &genesis);
	assert!(stopped.until_voters(4) >= 2);
	assert_eq!(stopped.client.checkpoint().set, running.client.checkpoint().set);
	// The gateway, restarted, follows the second change from its journal's checkpoint.
	let set_id = running.client.checkpoint().set.set_id;
	let readings = gateway.count("reading final");
	gateway.start();
	wait_for("the restarted gateway to prove a reading", 2 * MINUTE, || {
		(gateway.count("reading final") > readings).then_some(())
	});
	gateway.stop();
	let log = gateway.log();
	let restarted = &log[log.rfind("following finality from").unwrap()..];
	assert!(restarted.starts_with("following finality from the journal's checkpoint"), "{log}");
	assert!(handed_off(restarted, set_id), "the gateway missed the second handoff:\n{log}");
}

fn outsiders_cannot_change_the_authority_set(net: &LocalNetwork) {
	let node = &net.nodes[0];
	let eve = Sr25519Keyring::Eve.pair();
	let add_eve = RuntimeCall::AuthoritySet(pallet_authority_set::Call::add_authority {
		who: Sr25519Keyring::Eve.to_account_id(),
	});

	let authorities_key = pallet_authority_set::Authorities::<Runtime>::hashed_key();
	let proposals_key =
		pallet_collective::Proposals::<Runtime, pallet_collective::Instance1>::hashed_key();
	let before = (node.storage(&authorities_key, None), node.storage(&proposals_key, None));

	// Calling the pallet directly: not the council's origin.
	let direct = node.submit(&eve, add_eve.clone());
	assert_eq!(direct.error, Some(DispatchError::BadOrigin));

	// Proposing it to the council: not a member.
	let proposal = node.submit(&eve, propose(add_eve, 1));
	assert!(
		matches!(
			proposal.runtime_error(),
			Some(RuntimeError::Council(pallet_collective::Error::NotMember))
		),
		"expected Council::NotMember, got {:?}",
		proposal.error
	);

	let after = (node.storage(&authorities_key, None), node.storage(&proposals_key, None));
	assert_eq!(before, after, "a refused call changed the authority set or the proposals");
	assert_eq!(validators(node).len(), 4);
}

fn validators(node: &Node) -> Vec<AccountId> {
	node.storage_decoded(&pallet_session::Validators::<Runtime>::hashed_key(), None)
		.unwrap_or_default()
}

fn peer_id_bytes(node_key: &str) -> Vec<u8> {
	bs58::decode(peer_id(node_key)).into_vec().unwrap()
}

/// The Aura key that authored block `number`: the slot in its pre-runtime digest, modulo the
/// authority list in force at its parent.
fn block_author(node: &Node, number: u32) -> AuraId {
	let hash = node.block_hash(number).expect("block exists");
	let header = node.rpc("chain_getHeader", json!([format!("{hash:?}")]));
	let slot = header["digest"]["logs"]
		.as_array()
		.unwrap()
		.iter()
		.find_map(|log| {
			let raw = bytes::from_hex(log.as_str()?).ok()?;
			match DigestItem::decode(&mut &raw[..]).ok()? {
				DigestItem::PreRuntime(id, data) if id == AURA_ENGINE_ID => {
					Slot::decode(&mut &data[..]).ok()
				}
				_ => None,
			}
		})
		.expect("an Aura pre-runtime digest");
	let parent =
		H256::from_slice(&bytes::from_hex(header["parentHash"].as_str().unwrap()).unwrap());
	let authorities: Vec<AuraId> = node
		.storage_decoded(&pallet_aura::Authorities::<Runtime>::hashed_key(), Some(parent))
		.expect("Aura authorities");
	authorities[(*slot % authorities.len() as u64) as usize].clone()
}
