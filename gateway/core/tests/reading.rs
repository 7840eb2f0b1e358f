//! The gateway's readings and extrinsics, byte for byte what the runtime decodes and checks.

use codec::{Decode, Encode};
use ed25519_dalek::SigningKey;
use lem_gateway_core::reading::{error_name, extrinsic, Reading, MAX_BATCH, METERING_ERRORS};
use lem_runtime::{RuntimeCall, UncheckedExtrinsic};
use sp_core::{ed25519, Pair};

fn reading(slot: u64) -> Reading {
	Reading {
		metering_point: 1003,
		slot,
		import_wh: 120,
		export_wh: 4,
		import_register_wh: 1_000_120,
		export_register_wh: 1_000_004,
	}
}

#[test]
fn a_signed_reading_is_what_the_runtime_verifies() {
	let genesis = [7u8; 32];
	let key = SigningKey::from_bytes(&[3u8; 32]);
	let signed = reading(42).sign(&key, &genesis);
	let runtime_reading = pallet_metering::Reading {
		metering_point: 1003,
		slot: 42,
		import_wh: 120,
		export_wh: 4,
		import_register_wh: 1_000_120,
		export_register_wh: 1_000_004,
	};
	assert_eq!(
		&signed.reading.signed_bytes(&genesis)[..],
		&runtime_reading.signed_bytes(&genesis)[..]
	);
	let public = ed25519::Public::from_raw(signed.key);
	let signature = ed25519::Signature::from_raw(signed.signature);
	assert!(ed25519::Pair::verify(&signature, runtime_reading.signed_bytes(&genesis), &public));

	// One reading and a full batch decode as the calls the runtime expects.
	let runtime_signed =
		pallet_metering::SignedReading { reading: runtime_reading, key: public, signature };
	let one = extrinsic(&[signed]).unwrap();
	let expected = UncheckedExtrinsic::new_bare(RuntimeCall::Metering(
		pallet_metering::Call::submit_reading { reading: runtime_signed.clone() },
	));
	assert_eq!(one, expected.encode());
	let batch = vec![signed; MAX_BATCH];
	let decoded = UncheckedExtrinsic::decode(&mut &extrinsic(&batch).unwrap()[..]).unwrap();
	let RuntimeCall::Metering(pallet_metering::Call::submit_readings { batch }) = decoded.function
	else {
		panic!("not a batch")
	};
	assert_eq!(batch.len(), MAX_BATCH);
	assert_eq!(batch[0], runtime_signed);
	assert_eq!(extrinsic(&[]), None);
	assert_eq!(extrinsic(&vec![signed; MAX_BATCH + 1]), None);
}

/// The pool's `Custom(code)` for a refused reading names the same error for the gateway as
/// for the runtime: the gateway's table is pallet-metering's `Error` enum, in order.
#[test]
fn the_gateways_error_names_are_the_runtimes() {
	type Error = pallet_metering::Error<lem_runtime::Runtime>;
	for (code, name) in METERING_ERRORS.iter().enumerate() {
		let error = || Error::decode(&mut &[code as u8][..]).expect("a variant at every index");
		assert_eq!(pallet_metering::error_code(error()), code as u8);
		let runtime_name: &'static str = error().into();
		assert_eq!(runtime_name, *name);
		assert_eq!(error_name(code as u8), Some(*name));
	}
	assert!(
		Error::decode(&mut &[METERING_ERRORS.len() as u8][..]).is_err(),
		"the table lists every error"
	);
}
