//! Metering on a running `dev-fast` chain: a technician registers a gateway's key over RPC and the
//! household accepts it, and a test gateway (ed25519-dalek, building the signed bytes from their
//! documented layout rather than from the runtime's types) submits readings as unsigned
//! transactions. A good reading is stored, a batch keeps its good readings and refuses the bad
//! one with its reason, and junk is refused by the pool with the error's code and never reaches
//! a block. Two insiders' attacks are refused: a technician's own key signing for a household,
//! and a household claiming a peer id.

use codec::Encode;
use lem_runtime::RuntimeEvent;
use lem_tests::{
	gateway::{bare, reading, Gateway},
	*,
};
use pallet_market::runtime_api::SlotClock;
use pallet_metering::{Error, Metered};
use serde_json::json;
use sp_core::{bytes, ed25519};
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);

#[test]
fn a_gateway_submits_signed_readings_without_funds() {
	let chain = DevChain::start();
	let node = &chain.node;
	wait_for("block #1", MINUTE, || (node.best_number() >= 1).then_some(()));
	let genesis = node.genesis_hash();
	let meter1 = Gateway::new(1, genesis);
	let meter2 = Gateway::new(2, genesis);

	install_gateway_keys(node, &[(1001, meter1.public()), (1002, meter2.public())]);
	let key: Option<ed25519::Public> = node.runtime_call("MeteringApi_gateway_key", 1001u64, None);
	assert_eq!(key, Some(meter1.public()));

	// The slot that just ended is in its readings window.
	let clock: SlotClock = node.runtime_call("MarketApi_clock", (), None);
	let slot = clock.current_slot - 1;
	let (opens, closes): (u64, u64) = node.runtime_call("MeteringApi_readings_window", slot, None);
	assert!(opens <= clock.now_seconds && clock.now_seconds < closes);

	let good = meter1.sign(reading(1001, slot, 1_250, 0, 88_250, 12_000));
	// Junk never enters the pool, and is refused with the code of its error: a tampered
	// reading, and (below) a batch with one bad reading and a replay.
	let refuse = |call, error| {
		let xt = bare(call);
		let refusal = node
			.try_rpc("author_submitExtrinsic", json!([bytes::to_hex(&xt.encode(), false)]))
			.expect_err("the pool refuses junk");
		let code = pallet_metering::error_code::<lem_runtime::Runtime>(error);
		assert!(refusal.contains(&format!("Custom error: {code}")), "{refusal}");
	};
	let mut tampered = good.clone();
	tampered.reading.export_wh = 5;
	tampered.reading.export_register_wh += 5;
	refuse(pallet_metering::Call::submit_reading { reading: tampered }, Error::BadSignature);
	let outcome =
		node.submit_extrinsic(bare(pallet_metering::Call::submit_reading { reading: good })).ok();
	assert!(outcome.events.iter().any(|e| matches!(
		e,
		RuntimeEvent::Metering(pallet_metering::Event::ReadingAccepted {
			metering_point: 1001,
			..
		})
	)));
	let stored: Option<Metered> = node.runtime_call("MeteringApi_reading", (1001u64, slot), None);
	assert_eq!(stored, Some(Metered { import_wh: 1_250, export_wh: 0 }));

	// A batch with a reading signed by meter 1's key for meter 2 is refused whole, so the
	// bad reading cannot ride along in a block; meter 2's own reading then goes in alone.
	let own = meter2.sign(reading(1002, slot, 0, 2_300, 5_000, 40_300));
	let batch = vec![meter1.sign(reading(1002, slot, 10, 0, 10, 0)), own.clone()];
	refuse(
		pallet_metering::Call::submit_readings { batch: batch.try_into().unwrap() },
		Error::ForeignKey,
	);
	node.submit_extrinsic(bare(pallet_metering::Call::submit_readings {
		batch: vec![own].try_into().unwrap(),
	}))
	.ok();
	let stored: Option<Metered> = node.runtime_call("MeteringApi_reading", (1002u64, slot), None);
	assert_eq!(stored, Some(Metered { import_wh: 0, export_wh: 2_300 }));

	// A second reading for the same meter and slot (not the same bytes: those the pool already
	// knows by hash).
	let replay = meter1.sign(reading(1001, slot, 1_300, 0, 88_300, 12_000));
	refuse(pallet_metering::Call::submit_reading { reading: replay }, Error::Replayed);
	let best = node.best_number();
	wait_for("two more blocks", MINUTE, || (node.best_number() >= best + 2).then_some(()));
	let registers: Option<pallet_metering::Registers> =
		node.runtime_call("MeteringApi_last_registers", 1001u64, None);
	assert_eq!(registers.map(|r| r.slot), Some(slot));

	// The technician rotates household 1's key to one it holds and signs a 7 kWh import the
	// household would pay for: the pool refuses it until the household accepts that key.
	let stolen = Gateway::new(66, genesis);
	let technician = dev_pair("Technician");
	let rotate = lem_runtime::RuntimeCall::Metering(pallet_metering::Call::rotate_key {
		metering_point: 1001,
		new: stolen.public(),
	});
	node.submit(&technician, rotate).ok();
	let later = wait_for("the next slot to end", MINUTE, || {
		let clock: SlotClock = node.runtime_call("MarketApi_clock", (), None);
		(clock.current_slot - 1 > slot).then_some(slot + 1)
	});
	let forged = stolen.sign(reading(1001, later, 7_000, 0, 95_250, 12_000));
	refuse(pallet_metering::Call::submit_reading { reading: forged }, Error::KeyNotAccepted);
	let key: Option<ed25519::Public> = node.runtime_call("MeteringApi_gateway_key", 1001u64, None);
	assert_eq!(key, Some(meter1.public()), "the household's own key still signs");

	// A household cannot claim a peer id the council is about to admit.
	let claim =
		lem_runtime::RuntimeCall::NodeAuthorization(pallet_node_authorization::Call::claim_node {
			node: sp_core::OpaquePeerId(vec![0, 36, 8, 1, 18, 32, 0xee]),
		});
	let outcome = node.submit(&dev_pair("Household1"), claim);
	assert_eq!(
		outcome.error,
		Some(frame_system::Error::<lem_runtime::Runtime>::CallFiltered.into()),
		"{:?}",
		outcome.events
	);
}
