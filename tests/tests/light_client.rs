//! The light client against a real node, and against the same node behind a liar: a proxy that
//! alters a justification, a storage proof, or keeps answering with an old head. Each lie is
//! caught, named, and the client moves on to the next node.

use codec::{Decode, Encode};
use lem_light_client::{
	chain_spec,
	client::{ClientError, Lie, LightClient},
	finality::{FinalityError, WarpProof},
	hex,
	storage::{self, ProofError},
	Checkpoint,
};
use lem_tests::{lying::LyingNode, *};
use serde_json::Value;
use std::{thread::sleep, time::Duration};

const STALE_AFTER: Duration = Duration::from_secs(15);

fn client(urls: Vec<String>, genesis: &Checkpoint) -> LightClient {
	LightClient::new(urls, genesis.hash(), genesis.clone(), STALE_AFTER)
}

fn lie_of(r: Result<impl std::fmt::Debug, ClientError>) -> Lie {
	match r {
		Err(ClientError::Lie { lie, .. }) => lie,
		other => panic!("expected a lie to be caught, got {other:?}"),
	}
}

fn tamper_hex(v: &mut Value, f: impl FnOnce(&mut Vec<u8>)) {
	let mut bytes = hex::decode(v.as_str().unwrap()).unwrap();
	f(&mut bytes);
	*v = Value::String(hex::encode(&bytes));
}

#[test]
fn the_light_client_checks_every_answer_and_drops_a_lying_node() {
	let chain = DevChain::start();
	let genesis = chain_spec::genesis(&raw_chain_spec("dev")).unwrap();
	assert_eq!(genesis.hash(), chain.node.genesis_hash().0, "genesis from the raw chain spec");
	let node = &chain.node;
	let honest = node.ws_url();
	let port = node.config.rpc_port;
	let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
	let now_key = storage::value_key("Timestamp", "Now");
	rt.block_on(async {
		// An honest node: finality from genesis, and the block's time read with a proof.
		let mut c = client(vec![honest.clone()], &genesis);
		wait_for("a finalized block", Duration::from_secs(60), || {
			(node.finalized_number() > 0).then_some(())
		});
		assert!(c.follow().await.unwrap().advanced);
		let now = c.read(&[now_key.clone()]).await.unwrap()[0].clone().expect("Timestamp::Now");
		assert!(u64::decode(&mut &now[..]).unwrap() > 1_700_000_000_000);

		// A signature flipped in the latest justification.
		let liar = LyingNode::start(
			port,
			Box::new(|method, result| {
				if method == "lem_grandpaWarpProof" {
					tamper_hex(result, |bytes| {
						let mut proof = WarpProof::decode(&mut &bytes[..]).unwrap();
						let last = proof.fragments.last_mut().unwrap();
						last.justification.commit.precommits[0].signature[0] ^= 1;
						*bytes = proof.encode();
					});
				}
			}),
		);
		let mut c = client(vec![liar.url.clone(), honest.clone()], &genesis);
		let lie = lie_of(c.follow().await);
		assert!(matches!(lie, Lie::Finality(FinalityError::BadJustification { .. })), "{lie:?}");
		assert_eq!(c.checkpoint(), &genesis, "a lie moved the checkpoint");
		assert!(c.follow().await.unwrap().advanced, "the next node was not asked");
		assert_eq!(c.node_url(), Some(honest.as_str()));

		// A byte of a storage value changed in the proof.
		let liar = LyingNode::start(
			port,
			Box::new(|method, result| {
				if method == "state_getReadProof" {
					for node in result["proof"].as_array_mut().unwrap() {
						tamper_hex(node, |bytes| *bytes.last_mut().unwrap() ^= 1);
					}
				}
			}),
		);
		let mut c = client(vec![liar.url.clone(), honest.clone()], &genesis);
		c.follow().await.unwrap();
		let lie = lie_of(c.read(&[now_key.clone()]).await);
		assert!(matches!(lie, Lie::Proof(ProofError::Incomplete { .. })), "{lie:?}");
		c.follow().await.unwrap();
		assert!(c.read(&[now_key.clone()]).await.unwrap()[0].is_some());
		assert_eq!(c.node_url(), Some(honest.as_str()));

		// The first finality proof given again and again: an old head.
		let mut first: Option<Value> = None;
		let liar = LyingNode::start(
			port,
			Box::new(move |method, result| {
				if method == "lem_grandpaWarpProof" {
					*result = first.get_or_insert_with(|| result.clone()).clone();
				}
			}),
		);
		let mut c = client(vec![liar.url.clone(), honest.clone()], &genesis);
		assert!(c.follow().await.unwrap().advanced);
		let at = c.checkpoint().number();
		sleep(STALE_AFTER + Duration::from_secs(1));
		assert!(node.finalized_number() > at, "the chain itself stopped finalizing");
		let lie = lie_of(c.follow().await);
		assert!(matches!(lie, Lie::StaleHead { .. }), "{lie:?}");
		assert!(c.follow().await.unwrap().advanced);
		assert!(c.checkpoint().number() > at);
		assert_eq!(c.node_url(), Some(honest.as_str()));
	});
}
