//! The light client against a real node, and against the same node behind a liar: a proxy that
//! alters a justification, a storage proof, or keeps answering with an old head. Each lie is
//! caught, named, and the client moves on to the next node. Then the gateway, which follows
//! finality with the client, behind the same three liars and two that keep its readings off
//! the chain; and lem-audit behind the same liars, and over TLS.

use codec::{Decode, DecodeAll, Encode};
use lem_light_client::{
	chain_spec,
	client::{ClientError, Lie, LightClient, NodeError},
	finality::{FinalityError, WarpProof},
	hex,
	storage::{self, ProofError},
	Checkpoint,
};
use lem_tests::{
	boxes::{GatewayBox, MeterSim},
	lying::{LyingNode, Tamper},
	tls::TlsNode,
	*,
};
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

/// A liar that flips a bit of a signature in the latest justification of its warp proofs.
fn flip_a_signature() -> Tamper {
	Box::new(|method, result| {
		if method == "lem_grandpaWarpProof" {
			tamper_hex(result, |bytes| {
				let mut proof = WarpProof::decode(&mut &bytes[..]).unwrap();
				let last = proof.fragments.last_mut().unwrap();
				last.justification.commit.precommits[0].signature[0] ^= 1;
				*bytes = proof.encode();
			});
		}
	})
}

/// A liar that changes the last byte of every node of its storage proofs.
fn alter_every_proof_node() -> Tamper {
	Box::new(|method, result| {
		if method == "state_getReadProof" {
			for node in result["proof"].as_array_mut().unwrap() {
				tamper_hex(node, |bytes| *bytes.last_mut().unwrap() ^= 1);
			}
		}
	})
}

/// One chain for both: the client's checks read it, the gateway's add a reading.
#[test]
fn the_light_client_and_the_gateway_drop_lying_nodes() {
	let chain = DevChain::start();
	the_light_client_checks_every_answer_and_drops_a_lying_node(&chain);
	the_gateway_drops_lying_nodes_and_proves_its_readings_final(&chain);
}

fn the_light_client_checks_every_answer_and_drops_a_lying_node(chain: &DevChain) {
	let genesis = chain_spec::genesis(&export_chain_spec(DEV, true)).unwrap();
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
		let liar = LyingNode::start(port, flip_a_signature());
		let mut c = client(vec![liar.url.clone(), honest.clone()], &genesis);
		let lie = lie_of(c.follow().await);
		assert!(matches!(lie, Lie::Finality(FinalityError::BadJustification { .. })), "{lie:?}");
		assert_eq!(c.checkpoint(), &genesis, "a lie moved the checkpoint");
		assert!(c.follow().await.unwrap().advanced, "the next node was not asked");
		assert_eq!(c.node_url(), Some(honest.as_str()));

		// A byte of a storage value changed in the proof.
		let liar = LyingNode::start(port, alter_every_proof_node());
		let mut c = client(vec![liar.url.clone(), honest.clone()], &genesis);
		c.follow().await.unwrap();
		let lie = lie_of(c.read(&[now_key.clone()]).await);
		assert!(matches!(lie, Lie::Proof(ProofError::Incomplete { .. })), "{lie:?}");
		c.follow().await.unwrap();
		assert!(c.read(&[now_key.clone()]).await.unwrap()[0].is_some());
		assert_eq!(c.node_url(), Some(honest.as_str()));

		// An answer larger than any real one (the box's memory is 32 MB): cut off unread.
		let liar = LyingNode::answering(
			port,
			Box::new(|method| {
				(method == "lem_grandpaWarpProof")
					.then(|| serde_json::json!({"result": format!("0x{}", "00".repeat(20 << 20))}))
			}),
		);
		let mut c = client(vec![liar.url.clone(), honest.clone()], &genesis);
		match c.follow().await {
			Err(ClientError::Node { error: NodeError::TooLarge(_), .. }) => {}
			other => panic!("expected the answer cut off, got {other:?}"),
		}
		assert!(c.follow().await.unwrap().advanced, "the next node was not asked");
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

/// The gateway behind three liars, one per lie, with the honest node last in its list: it
/// names each lie, drops the liar, and proves its readings final through the honest node.
fn the_gateway_drops_lying_nodes_and_proves_its_readings_final(chain: &DevChain) {
	let node = &chain.node;
	let raw_spec = raw_chain_spec_file(DEV, chain.dir.path());
	let genesis = chain_spec::genesis(&std::fs::read(&raw_spec).unwrap()).unwrap();
	wait_for("a finalized block", Duration::from_secs(60), || {
		(node.finalized_number() > 0).then_some(())
	});
	// Finality as it was at block 1 or 2: the old head the third liar keeps giving.
	let old = node.rpc("lem_grandpaWarpProof", serde_json::json!([hex::encode(&genesis.hash())]));
	let old_proof =
		WarpProof::decode(&mut &hex::decode(old.as_str().unwrap()).unwrap()[..]).unwrap();
	let old_number = old_proof.fragments.last().unwrap().header.number;
	let port = node.config.rpc_port;
	let flipped_signature = LyingNode::start(port, flip_a_signature());
	let altered_value = LyingNode::start(port, alter_every_proof_node());
	let old_head = LyingNode::start(
		port,
		Box::new(move |method, result| {
			if method == "lem_grandpaWarpProof" {
				*result = old.clone();
			}
		}),
	);
	// Two nodes that keep readings off the chain: one says the chain refuses them, one takes
	// them and never passes them on.
	let code =
		pallet_metering::error_code::<lem_runtime::Runtime>(pallet_metering::Error::BadSignature);
	let refuser = LyingNode::answering(
		port,
		Box::new(move |method| {
			(method == "author_submitExtrinsic").then(|| {
				let data = format!("Custom error: {code}");
				serde_json::json!({"error": {"code": 1010, "message": "Invalid Transaction", "data": data}})
			})
		}),
	);
	let swallower = LyingNode::answering(
		port,
		Box::new(|method| {
			(method == "author_submitExtrinsic")
				.then(|| serde_json::json!({"result": hex::encode(&[0; 32])}))
		}),
	);
	let liars = [&flipped_signature, &altered_value, &old_head];
	let mut nodes: Vec<String> = liars.iter().map(|l| l.url.clone()).collect();
	nodes.extend([refuser.url.clone(), swallower.url.clone(), node.ws_url()]);

	let sim = MeterSim::start(1);
	let point = pallet_market::demo::HOUSEHOLD_METERING_POINTS[0].id;
	let mut boxes =
		[GatewayBox::new(&chain.dir.path().join("box"), point, &raw_spec, &nodes, sim.address)];
	GatewayBox::register_keys(node, &boxes);
	wait_for("finality past the old head", Duration::from_secs(60), || {
		(node.finalized_number() > old_number).then_some(())
	});
	let gateway = &mut boxes[0];
	gateway.start();
	// Its first slot has no start; the second is its first reading, sent through the two
	// nodes that keep it off the chain before the honest one.
	gateway.wait_for_log("reading final", 0, Duration::from_secs(240));
	gateway.stop();

	let log = gateway.log();
	let lied: Vec<&str> = log.lines().filter(|l| l.contains("the node lied")).collect();
	for (liar, lie) in liars.iter().zip(["BadJustification", "Incomplete", "Stale"]) {
		assert!(
			lied.iter().any(|l| l.contains(&liar.url) && l.contains(lie)),
			"{} not named for {lie}:\n{log}",
			liar.url
		);
	}
	let named = |what: &str, url: &str| log.lines().any(|l| l.contains(what) && l.contains(url));
	assert!(named("reading refused; asking the next node", &refuser.url), "{log}");
	assert!(named("do not become final; trying the next node", &swallower.url), "{log}");
	let journal = gateway.journal();
	assert!(journal.iter().all(|l| l.state != "refused"), "{journal:?}\n{log}");
	let fin: sp_core::H256 =
		serde_json::from_value(node.rpc("chain_getFinalizedHead", serde_json::json!([]))).unwrap();
	let finals: Vec<_> = journal.into_iter().filter(|l| l.state == "finalized").collect();
	assert!(!finals.is_empty(), "{log}");
	for line in finals {
		let on_chain: Option<(u64, u64)> =
			node.runtime_call("MeteringApi_reading", (point, line.slot), Some(fin));
		assert_eq!(on_chain, line.energy, "slot {}\n{log}", line.slot);
	}

	// lem-audit behind the same liars: it names each, asks the next node, and exports what
	// the honest node proves.
	let settled = wait_for("a finalized settled slot", Duration::from_secs(180), || {
		let fin: sp_core::H256 =
			serde_json::from_value(node.rpc("chain_getFinalizedHead", serde_json::json!([])))
				.unwrap();
		let next: Option<u64> = node.runtime_call("SettlementApi_next_to_settle", (), Some(fin));
		let last = next?.checked_sub(1)?;
		let totals: Option<pallet_settlement::SettledSlot> =
			node.runtime_call("SettlementApi_settled_slot", last, Some(fin));
		totals.map(|_| last.to_string())
	});
	let spec = raw_spec.to_str().unwrap();
	let audit = |nodes: &[String]| {
		let mut args = vec!["--chain-spec", spec, "--from", &settled, "--to", &settled];
		for n in nodes {
			args.extend(["--node", n]);
		}
		lem_audit(&args)
	};
	let (ok, csv, stderr) = audit(&nodes);
	assert!(ok, "{stderr}");
	assert_eq!(csv.lines().filter(|l| l.starts_with(&format!("{settled},"))).count(), 10, "{csv}");
	for (liar, lie) in liars.iter().zip(["BadJustification", "Incomplete", "Stale"]) {
		assert!(
			stderr.lines().any(|l| l.contains(&liar.url) && l.contains(lie)),
			"{} not named for {lie}:\n{stderr}",
			liar.url
		);
	}
	// The honest node behind TLS, as a utility serves auditors: the same export over wss://,
	// its certificate checked against the authority named in SSL_CERT_FILE.
	let ca = chain.dir.path().join("test-ca.pem");
	let tls = TlsNode::start(port, &ca);
	let args = ["--chain-spec", spec, "--from", &settled, "--to", &settled, "--node", &tls.url];
	let (ok, tls_csv, stderr) = lem_audit_with_env(&[("SSL_CERT_FILE", &ca)], &args);
	assert!(ok, "{stderr}");
	let rows = |csv: &str| -> Vec<String> {
		csv.lines().map(|l| l.rsplitn(3, ',').nth(2).unwrap().to_owned()).collect()
	};
	assert_eq!(
		rows(&tls_csv),
		rows(&csv),
		"the same records, verified at the same or a later block"
	);
	// Without the authority, the certificate is refused.
	let other_ca = chain.dir.path().join("other-ca.pem");
	let _other = TlsNode::start(port, &other_ca);
	let (ok, _, stderr) = lem_audit_with_env(&[("SSL_CERT_FILE", &other_ca)], &args);
	assert!(!ok && stderr.contains("certificate"), "{stderr}");

	// A node whose records the proofs refute (a unit added to what one household got) is
	// named as a liar is, and the next one asked.
	let forger = LyingNode::start(
		port,
		Box::new(|method, result| {
			if method == "state_call" {
				tamper_hex(result, |bytes| {
					use pallet_settlement::SettlementsPage;
					let page =
						SettlementsPage::<sp_runtime::AccountId32>::decode_all(&mut &bytes[..]);
					if let Some(mut page) = page.ok().filter(|p| !p.records.is_empty()) {
						page.records[0].2.market_amount += 1;
						*bytes = page.encode();
					}
				});
			}
		}),
	);
	let (ok, forged_csv, stderr) = audit(&[forger.url.clone(), nodes.last().unwrap().clone()]);
	assert!(ok, "{stderr}");
	assert_eq!(rows(&forged_csv), rows(&csv), "the honest node's records");
	assert!(
		stderr.lines().any(|l| l.contains(&forger.url) && l.contains("record mismatch")),
		"{} not named for its forged record:\n{stderr}",
		forger.url
	);

	// Only liars: nothing is written, and the last lie is the error.
	let (ok, csv, stderr) = audit(&nodes[..2]);
	assert!(!ok && csv.is_empty(), "{stderr}");
	let last = stderr.lines().last().unwrap_or_default();
	assert!(last.contains(&liars[1].url) && last.contains("Incomplete"), "{stderr}");
}
