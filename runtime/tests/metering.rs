//! Gateway keys and readings on the real runtime configuration, from the `local` genesis preset:
//! who manages keys, and every rule a reading must meet. A refused reading is refused twice:
//! before the pool (`validate_unsigned`, with the error's index as its code) and at dispatch
//! (the named error, with no state change).

mod common;

use common::{block_at, chain, T0};
use frame_support::{assert_noop, assert_ok, traits::UnfilteredDispatchable};
use lem_runtime::{
	genesis_config_presets::demo_account, Metering, Runtime, RuntimeEvent, RuntimeOrigin, System,
};
use pallet_metering::{
	Call, Error, GatewayKeys, LastRegisters, Reading, Readings, SignedReading, MAX_REGISTER_WH,
	MAX_SLOT_ENERGY_WH,
};
use sp_core::{ed25519, Pair};
#[allow(deprecated)] // see the pallet's README on `ValidateUnsigned`
use sp_runtime::traits::ValidateUnsigned;
use sp_runtime::{
	transaction_validity::{InvalidTransaction, TransactionSource, TransactionValidityError},
	DispatchError,
};

/// Demo slots are 30 s; readings are taken for 60 s after a slot ends.
const SLOT_SECONDS: u64 = 30;
const GRACE: u64 = 60;
/// Metering points of households 1 and 2.
const MP1: u64 = 1001;
const MP2: u64 = 1002;

fn technician() -> RuntimeOrigin {
	RuntimeOrigin::signed(demo_account("Technician"))
}

fn gateway(seed: u8) -> ed25519::Pair {
	ed25519::Pair::from_seed(&[seed; 32])
}

/// The slot that ended at `T0`.
fn last_slot() -> u64 {
	T0 / SLOT_SECONDS - 1
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

#[test]
fn the_signed_bytes_are_the_documented_96() {
	let r = reading(0x0102, 7, 1, 2, 3, 4);
	let bytes = r.signed_bytes(&[9u8; 32]);
	assert_eq!(bytes.len(), 96);
	assert_eq!(&bytes[..16], b"lem/reading/v1\0\0");
	assert_eq!(&bytes[16..48], &[9u8; 32]);
	let fields: Vec<u64> =
		bytes[48..].chunks(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect();
	assert_eq!(fields, vec![0x0102, 7, 1, 2, 3, 4]);
}

fn sign(pair: &ed25519::Pair, reading: Reading) -> SignedReading {
	let genesis = System::block_hash(0);
	let signature = pair.sign(&reading.signed_bytes(genesis.as_ref()));
	SignedReading { reading, key: pair.public(), signature }
}

#[allow(deprecated)]
fn validate(call: &Call<Runtime>) -> Result<(), TransactionValidityError> {
	Metering::validate_unsigned(TransactionSource::External, call).map(|_| ())
}

fn code(e: Error<Runtime>) -> TransactionValidityError {
	InvalidTransaction::Custom(pallet_metering::error_code(e)).into()
}

/// What the pool and the block do with a reading: validate, then dispatch.
fn submit(signed: SignedReading) -> Result<(), DispatchError> {
	let call = Call::<Runtime>::submit_reading { reading: signed };
	validate(&call).map_err(|_| DispatchError::Other("refused by the pool"))?;
	call.dispatch_bypass_filter(RuntimeOrigin::none()).map(|_| ()).map_err(|e| e.error)
}

/// Refused both before the pool and at dispatch, with `e`, and no state changed.
fn assert_refused(signed: SignedReading, e: Error<Runtime>) {
	let e = DispatchError::from(e);
	let DispatchError::Module(module) = e else { unreachable!() };
	let call = Call::<Runtime>::submit_reading { reading: signed.clone() };
	let pool = InvalidTransaction::Custom(module.error[0]).into();
	assert_eq!(validate(&call), Err(pool), "{signed:?}");
	assert_noop!(Metering::submit_reading(RuntimeOrigin::none(), signed), e);
}

fn with_keys() {
	assert_ok!(Metering::register_key(technician(), MP1, gateway(1).public()));
	assert_ok!(Metering::register_key(technician(), MP2, gateway(2).public()));
}

#[test]
fn only_technicians_manage_gateway_keys() {
	chain().execute_with(|| {
		let key = gateway(1).public();
		for who in ["Household1", "Manager", "Dso"] {
			assert_noop!(
				Metering::register_key(RuntimeOrigin::signed(demo_account(who)), MP1, key),
				Error::<Runtime>::NotTechnician
			);
		}
		assert_noop!(
			Metering::register_key(technician(), 4242, key),
			Error::<Runtime>::UnknownMeteringPoint
		);
		assert_ok!(Metering::register_key(technician(), MP1, key));
		assert_eq!(GatewayKeys::<Runtime>::get(MP1), Some(key));
		assert_noop!(
			Metering::register_key(technician(), MP1, gateway(9).public()),
			Error::<Runtime>::MeteringPointHasKey
		);
		assert_noop!(Metering::register_key(technician(), MP2, key), Error::<Runtime>::KeyInUse);

		assert_noop!(
			Metering::rotate_key(technician(), MP2, gateway(3).public()),
			Error::<Runtime>::NoKey
		);
		assert_ok!(Metering::rotate_key(technician(), MP1, gateway(3).public()));
		// The old key is retired for good, on any metering point.
		assert_noop!(Metering::register_key(technician(), MP2, key), Error::<Runtime>::RevokedKey);
		assert_noop!(Metering::rotate_key(technician(), MP1, key), Error::<Runtime>::RevokedKey);
		assert_ok!(Metering::revoke_key(technician(), MP1));
		assert_eq!(GatewayKeys::<Runtime>::get(MP1), None);
		assert_noop!(Metering::revoke_key(technician(), MP1), Error::<Runtime>::NoKey);
		assert_noop!(
			Metering::revoke_key(RuntimeOrigin::signed(demo_account("Household1")), MP2),
			Error::<Runtime>::NotTechnician
		);
	});
}

#[test]
fn a_signed_reading_in_its_window_is_accepted_once() {
	chain().execute_with(|| {
		with_keys();
		let s = last_slot();
		assert_ok!(submit(sign(&gateway(1), reading(MP1, s, 1_200, 0, 51_200, 900))));
		let metered = Readings::<Runtime>::get(MP1, s).unwrap();
		assert_eq!((metered.import_wh, metered.export_wh), (1_200, 0));
		assert_eq!(LastRegisters::<Runtime>::get(MP1).unwrap().import_wh, 51_200);
		// Missing is missing: no entry for the other metering point, not zero.
		assert_eq!(Readings::<Runtime>::get(MP2, s), None);

		assert_refused(sign(&gateway(1), reading(MP1, s, 1_200, 0, 51_200, 900)), Error::Replayed);
		// An older slot, still in its window, after a newer one is out of order.
		assert_refused(
			sign(&gateway(1), reading(MP1, s - 1, 10, 0, 50_000, 900)),
			Error::OutOfOrder,
		);
		// The next slot, once over: registers must advance by exactly its energy.
		block_at(T0 + SLOT_SECONDS);
		assert_refused(
			sign(&gateway(1), reading(MP1, s + 1, 700, 100, 51_800, 1_000)),
			Error::RegistersDisagree,
		);
		assert_refused(
			sign(&gateway(1), reading(MP1, s + 1, 0, 0, 51_100, 900)),
			Error::RegistersBackwards,
		);
		assert_ok!(submit(sign(&gateway(1), reading(MP1, s + 1, 700, 100, 51_900, 1_000))));
	});
}

#[test]
fn after_a_gap_registers_advance_by_at_least_the_slots_energy() {
	chain().execute_with(|| {
		with_keys();
		let s = last_slot();
		assert_ok!(submit(sign(&gateway(2), reading(MP2, s - 1, 100, 0, 1_000, 0))));
		// Slot s goes missing; the registers of s+1 include its energy.
		block_at(T0 + SLOT_SECONDS);
		assert_refused(
			sign(&gateway(2), reading(MP2, s + 1, 300, 0, 1_200, 0)),
			Error::RegistersDisagree,
		);
		assert_ok!(submit(sign(&gateway(2), reading(MP2, s + 1, 300, 0, 1_500, 0))));
		assert_eq!(Readings::<Runtime>::get(MP2, s), None);
	});
}

#[test]
fn every_bad_reading_is_refused_before_the_pool_with_its_reason() {
	chain().execute_with(|| {
		with_keys();
		let s = last_slot();
		let good = reading(MP1, s, 1_000, 0, 5_000, 0);

		let mut tampered = sign(&gateway(1), good.clone());
		tampered.reading.import_wh = 1;
		tampered.reading.import_register_wh = 4_001;
		assert_refused(tampered, Error::BadSignature);
		// Signed for another chain: the genesis hash is part of the signed bytes.
		let mut other_chain = sign(&gateway(1), good.clone());
		other_chain.signature = gateway(1).sign(&good.signed_bytes(&[7u8; 32]));
		assert_refused(other_chain, Error::BadSignature);
		// The key of household 2's meter speaks for household 1's.
		assert_refused(sign(&gateway(2), good.clone()), Error::ForeignKey);
		assert_refused(sign(&gateway(5), good.clone()), Error::UnknownKey);
		assert_refused(
			sign(&gateway(1), reading(4242, s, 1, 0, 1, 0)),
			Error::UnknownMeteringPoint,
		);
		for bad in [
			reading(MP1, s, MAX_SLOT_ENERGY_WH + 1, 0, MAX_REGISTER_WH, 0),
			reading(MP1, s, 0, MAX_SLOT_ENERGY_WH + 1, 0, MAX_REGISTER_WH),
			reading(MP1, s, 0, 0, MAX_REGISTER_WH + 1, 0),
			reading(MP1, s, 0, 0, 0, u64::MAX),
		] {
			assert_refused(sign(&gateway(1), bad), Error::ValueOutOfRange);
		}
		// A register cannot hold less than the slot's own energy.
		assert_refused(
			sign(&gateway(1), reading(MP1, s, 1_000, 0, 999, 0)),
			Error::RegistersDisagree,
		);
		// The current slot is not over; the window of a slot ended 60 s ago has closed.
		assert_refused(sign(&gateway(1), reading(MP1, s + 1, 1, 0, 1, 0)), Error::SlotNotOver);
		let closed = s - GRACE / SLOT_SECONDS;
		assert_refused(sign(&gateway(1), reading(MP1, closed, 1, 0, 1, 0)), Error::WindowClosed);
		assert_ok!(submit(sign(&gateway(1), reading(MP1, closed + 1, 1, 0, 1, 0))));

		// A revoked key: refused even for the meter it spoke for.
		assert_ok!(Metering::revoke_key(technician(), MP2));
		assert_refused(sign(&gateway(2), reading(MP2, s, 1, 0, 1, 0)), Error::RevokedKey);
	});
}

#[test]
fn a_batch_accepts_good_readings_and_refuses_bad_ones_each_with_its_reason() {
	chain().execute_with(|| {
		with_keys();
		let s = last_slot();
		let batch = vec![
			sign(&gateway(1), reading(MP1, s - 1, 100, 0, 100, 0)),
			sign(&gateway(1), reading(MP1, s, 200, 0, 300, 0)),
			// Household 1's key for household 2's meter.
			sign(&gateway(1), reading(MP2, s, 50, 0, 50, 0)),
			sign(&gateway(2), reading(MP2, s, 60, 10, 60, 10)),
		];
		let call = Call::<Runtime>::submit_readings { batch: batch.try_into().unwrap() };
		assert_eq!(validate(&call), Ok(()));
		System::reset_events();
		assert_ok!(call.dispatch_bypass_filter(RuntimeOrigin::none()));
		assert!(Readings::<Runtime>::get(MP1, s - 1).is_some());
		assert_eq!(Readings::<Runtime>::get(MP1, s).unwrap().import_wh, 200);
		assert_eq!(Readings::<Runtime>::get(MP2, s).unwrap().import_wh, 60);
		let refused: Vec<_> = System::events()
			.into_iter()
			.filter_map(|r| match r.event {
				RuntimeEvent::Metering(pallet_metering::Event::ReadingRefused {
					metering_point,
					error,
					..
				}) => Some((metering_point, error)),
				_ => None,
			})
			.collect();
		assert_eq!(refused, vec![(MP2, Error::<Runtime>::ForeignKey.into())]);

		// A batch of junk only never reaches a block.
		let junk = vec![
			sign(&gateway(1), reading(MP1, s, 200, 0, 300, 0)),
			sign(&gateway(9), reading(MP2, s - 1, 1, 0, 1, 0)),
		];
		let call = Call::<Runtime>::submit_readings { batch: junk.try_into().unwrap() };
		assert_eq!(validate(&call), Err(code(Error::Replayed)));
	});
}
