//! Metering on a running `dev` chain: a technician registers a gateway's key over RPC, and a test
//! gateway (ed25519-dalek, building the signed bytes from their documented layout rather than
//! from the runtime's types) submits readings as unsigned transactions. A good reading is
//! stored, a batch keeps its good readings and refuses the bad one with its reason, and junk is
//! refused by the pool with the error's code and never reaches a block.

use codec::Encode;
use ed25519_dalek::{Signer, SigningKey};
use lem_runtime::{RuntimeCall, RuntimeEvent, UncheckedExtrinsic};
use lem_tests::*;
use pallet_market::runtime_api::SlotClock;
use pallet_metering::{Error, Metered, Reading, SignedReading};
use serde_json::json;
use sp_core::{bytes, ed25519, H256};
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);

/// The box at a meter: its key and the meter's registers.
struct Gateway {
	key: SigningKey,
	genesis: H256,
}

impl Gateway {
	fn new(seed: u8, genesis: H256) -> Self {
		Gateway { key: SigningKey::from_bytes(&[seed; 32]), genesis }
	}

	fn public(&self) -> ed25519::Public {
		ed25519::Public::from_raw(self.key.verifying_key().to_bytes())
	}

	/// The 96 signed bytes, laid out as the metering pallet's README documents them.
	fn sign(&self, reading: Reading) -> SignedReading {
		let mut bytes = b"lem/reading/v1\0\0".to_vec();
		bytes.extend_from_slice(self.genesis.as_bytes());
		for v in [
			reading.metering_point,
			reading.slot,
			reading.import_wh,
			reading.export_wh,
			reading.import_register_wh,
			reading.export_register_wh,
		] {
			bytes.extend_from_slice(&v.to_le_bytes());
		}
		assert_eq!(bytes.len(), 96);
		let signature = ed25519::Signature::from_raw(self.key.sign(&bytes).to_bytes());
		SignedReading { reading, key: self.public(), signature }
	}
}

fn reading(
	mp: u64,
	slot: u64,
	import: u64,
	export: u64,
	import_reg: u64,
	export_reg: u64,
) -> Reading {
	Reading {
		metering_point: mp,
		slot,
		import_wh: import,
		export_wh: export,
		import_register_wh: import_reg,
		export_register_wh: export_reg,
	}
}

fn bare(call: pallet_metering::Call<lem_runtime::Runtime>) -> UncheckedExtrinsic {
	UncheckedExtrinsic::new_bare(RuntimeCall::Metering(call))
}

#[test]
fn a_gateway_submits_signed_readings_without_funds() {
	let chain = DevChain::start();
	let node = &chain.node;
	wait_for("block #1", MINUTE, || (node.best_number() >= 1).then_some(()));
	let genesis = node.genesis_hash();
	let meter1 = Gateway::new(1, genesis);
	let meter2 = Gateway::new(2, genesis);

	let technician = dev_pair("Technician");
	for (nonce, (mp, key)) in
		[(1001, meter1.public()), (1002, meter2.public())].into_iter().enumerate()
	{
		let call =
			RuntimeCall::Metering(pallet_metering::Call::register_key { metering_point: mp, key });
		node.submit_extrinsic(sign(&technician, call, nonce as u32, genesis)).ok();
	}
	let key: Option<ed25519::Public> = node.runtime_call("MeteringApi_gateway_key", 1001u64, None);
	assert_eq!(key, Some(meter1.public()));

	// The slot that just ended is in its readings window.
	let clock: SlotClock = node.runtime_call("MarketApi_clock", (), None);
	let slot = clock.current_slot - 1;
	let (opens, closes): (u64, u64) = node.runtime_call("MeteringApi_readings_window", slot, None);
	assert!(opens <= clock.now_seconds && clock.now_seconds < closes);

	let good = meter1.sign(reading(1001, slot, 1_250, 0, 88_250, 12_000));
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

	// A batch: meter 2's reading is accepted, the one signed with meter 1's key is refused.
	let batch = vec![
		meter1.sign(reading(1002, slot, 10, 0, 10, 0)),
		meter2.sign(reading(1002, slot, 0, 2_300, 5_000, 40_300)),
	];
	let outcome = node
		.submit_extrinsic(bare(pallet_metering::Call::submit_readings {
			batch: batch.try_into().unwrap(),
		}))
		.ok();
	let refused: Vec<_> = outcome
		.events
		.iter()
		.filter_map(|e| match e {
			RuntimeEvent::Metering(pallet_metering::Event::ReadingRefused { error, .. }) => {
				Some(lem_runtime::RuntimeError::from_dispatch_error(*error))
			}
			_ => None,
		})
		.collect();
	assert!(matches!(
		refused.as_slice(),
		[Some(lem_runtime::RuntimeError::Metering(Error::ForeignKey))]
	));
	let stored: Option<Metered> = node.runtime_call("MeteringApi_reading", (1002u64, slot), None);
	assert_eq!(stored, Some(Metered { import_wh: 0, export_wh: 2_300 }));

	// Junk never enters the pool: a tampered reading and a replay, each refused with the code
	// of its error.
	let mut tampered = meter1.sign(reading(1001, slot + 1, 0, 0, 88_250, 12_000));
	tampered.reading.export_wh = 5;
	// A second reading for the same meter and slot (not the same bytes: those the pool
	// already knows by hash).
	let replay = meter1.sign(reading(1001, slot, 1_300, 0, 88_300, 12_000));
	for (junk, error) in [(tampered, Error::BadSignature), (replay, Error::Replayed)] {
		let xt = bare(pallet_metering::Call::submit_reading { reading: junk });
		let refusal = node
			.try_rpc("author_submitExtrinsic", json!([bytes::to_hex(&xt.encode(), false)]))
			.expect_err("the pool refuses junk");
		let code = pallet_metering::error_code::<lem_runtime::Runtime>(error);
		assert!(refusal.contains(&format!("Custom error: {code}")), "{refusal}");
	}
	let best = node.best_number();
	wait_for("two more blocks", MINUTE, || (node.best_number() >= best + 2).then_some(()));
	let registers: Option<pallet_metering::Registers> =
		node.runtime_call("MeteringApi_last_registers", 1001u64, None);
	assert_eq!(registers.map(|r| r.slot), Some(slot));
}
