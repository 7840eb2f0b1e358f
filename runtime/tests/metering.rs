//! Gateway keys and readings on the real runtime configuration, from the `local` genesis preset:
//! who manages keys, and every rule a reading must meet. A refused reading is refused twice:
//! before the pool (`validate_unsigned`, with the error's index as its code) and at dispatch
//! (the named error, with no state change).

mod common;

use common::{block_at, chain, T0};
use frame_support::{assert_noop, assert_ok, traits::UnfilteredDispatchable};
use lem_runtime::{genesis_config_presets::demo_account, Metering, Runtime, RuntimeOrigin, System};
use pallet_metering::{
	Call, Error, GatewayKeys, LastRegisters, ProposedKeys, Reading, Readings, RetiredKeys,
	RevokedKeys, SignedReading, MAX_REGISTER_WH, MAX_RETIRED_KEYS, MAX_SLOT_ENERGY_WH,
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

/// The owner of metering point `mp` (household 1 or 2).
fn owner(mp: u64) -> RuntimeOrigin {
	RuntimeOrigin::signed(demo_account(&format!("Household{}", mp - 1000)))
}

/// The technician registers `key` for `mp`, and the point's owner accepts it.
fn install(mp: u64, key: ed25519::Public) {
	assert_ok!(Metering::register_key(technician(), mp, key));
	assert_ok!(Metering::accept_key(owner(mp), mp, key));
}

/// The technician rotates `mp` to `key`, and the point's owner accepts it.
fn rotate(mp: u64, key: ed25519::Public) {
	assert_ok!(Metering::rotate_key(technician(), mp, key));
	assert_ok!(Metering::accept_key(owner(mp), mp, key));
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
	install(MP1, gateway(1).public());
	install(MP2, gateway(2).public());
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
		install(MP1, key);
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
		rotate(MP1, gateway(3).public());
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
		let metered = Readings::<Runtime>::get(s, MP1).unwrap().metered;
		assert_eq!((metered.import_wh, metered.export_wh), (1_200, 0));
		assert_eq!(LastRegisters::<Runtime>::get(MP1).unwrap().import_wh, 51_200);
		// Missing is missing: no entry for the other metering point, not zero.
		assert_eq!(Readings::<Runtime>::get(s, MP2), None);

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
#[allow(deprecated)]
fn an_older_reading_goes_into_blocks_before_a_later_one_of_the_same_point() {
	// After a fork's blocks are abandoned, a gateway's readings of two slots are back in the
	// pool at once: the later one first would make the earlier one out of order.
	chain().execute_with(|| {
		with_keys();
		let s = last_slot();
		let earlier = sign(&gateway(1), reading(MP1, s - 1, 100, 0, 50_100, 900));
		let later = sign(&gateway(1), reading(MP1, s, 200, 0, 50_300, 900));
		let priority = |readings: &[&SignedReading]| {
			let readings: Vec<SignedReading> = readings.iter().map(|r| (*r).clone()).collect();
			let call = Call::<Runtime>::submit_readings { batch: readings.try_into().unwrap() };
			Metering::validate_unsigned(TransactionSource::External, &call).unwrap().priority
		};
		assert!(priority(&[&earlier]) > priority(&[&later]));
		// A batch goes at its oldest reading's priority.
		assert_eq!(priority(&[&earlier, &later]), priority(&[&earlier]));
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
		assert_eq!(Readings::<Runtime>::get(s, MP2), None);
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
		// The current slot is not over. A slot whose window closed 60 s ago still takes its
		// reading: it settles as a correction of the slot's estimate.
		assert_refused(sign(&gateway(1), reading(MP1, s + 1, 1, 0, 1, 0)), Error::SlotNotOver);
		let closed = s - GRACE / SLOT_SECONDS;
		assert_ok!(submit(sign(&gateway(1), reading(MP1, closed, 1, 0, 1, 0))));
		assert_ok!(submit(sign(&gateway(1), reading(MP1, closed + 1, 1, 0, 2, 0))));

		// A revoked key: refused even for the meter it spoke for.
		assert_ok!(Metering::revoke_key(technician(), MP2));
		assert_refused(sign(&gateway(2), reading(MP2, s, 1, 0, 1, 0)), Error::RevokedKey);
	});
}

/// Settlement forgets a slot `retention_slots` after settling it, so a reading of a slot that
/// old could never be settled; it is refused by name, and the gateway's newer readings carry
/// its energy in their registers.
#[test]
fn a_reading_older_than_the_community_keeps_is_refused() {
	chain().execute_with(|| {
		with_keys();
		pallet_market::CommunityParams::<Runtime>::mutate(|c| c.retention_slots = 4);
		let now = T0 / SLOT_SECONDS;
		assert_refused(sign(&gateway(1), reading(MP1, now - 5, 1, 0, 1, 0)), Error::TooOld);
		assert_ok!(submit(sign(&gateway(1), reading(MP1, now - 4, 1, 0, 1, 0))));
	});
}

/// A metering point keeps its last `MAX_RETIRED_KEYS` retired keys, so the keys the chain
/// keeps grow with its metering points, not with its age. Each of them is refused for
/// registration; an older one may serve again.
#[test]
fn each_metering_point_keeps_its_last_retired_keys() {
	chain().execute_with(|| {
		let keys: Vec<_> =
			(10..=10 + MAX_RETIRED_KEYS as u8 + 1).map(|i| gateway(i).public()).collect();
		install(MP1, keys[0]);
		for key in &keys[1..] {
			rotate(MP1, *key);
		}
		let retired = &keys[..keys.len() - 1];
		assert_eq!(RetiredKeys::<Runtime>::get(MP1).into_inner(), retired[1..].to_vec());
		assert_eq!(RevokedKeys::<Runtime>::iter().count() as u32, MAX_RETIRED_KEYS);
		for key in &retired[1..] {
			assert_noop!(
				Metering::register_key(technician(), MP2, *key),
				Error::<Runtime>::RevokedKey
			);
		}
		// The oldest cannot replay anything it signed: readings name their metering point and
		// must come after its latest reading.
		assert_ok!(Metering::register_key(technician(), MP2, keys[0]));
	});
}

#[test]
fn a_batch_enters_the_pool_only_if_every_reading_in_it_is_good() {
	chain().execute_with(|| {
		with_keys();
		let s = last_slot();
		let good = vec![
			sign(&gateway(1), reading(MP1, s - 1, 100, 0, 100, 0)),
			sign(&gateway(1), reading(MP1, s, 200, 0, 300, 0)),
			sign(&gateway(2), reading(MP2, s, 60, 10, 60, 10)),
		];
		let batch = |readings: Vec<SignedReading>| Call::<Runtime>::submit_readings {
			batch: readings.try_into().unwrap(),
		};
		// One reading that would be refused sinks the batch, so it cannot ride along for free.
		let mut foreign = good.clone();
		foreign.insert(0, sign(&gateway(1), reading(MP2, s - 1, 50, 0, 50, 0)));
		assert_eq!(validate(&batch(foreign)), Err(code(Error::ForeignKey)));
		let mut forged = good.clone();
		forged[2].signature = gateway(2).sign(b"something else");
		assert_eq!(validate(&batch(forged)), Err(code(Error::BadSignature)));
		// Within a batch a reading is checked against the earlier ones of its metering point.
		let mut twice = good.clone();
		twice.push(good[1].clone());
		assert_eq!(validate(&batch(twice)), Err(code(Error::Replayed)));
		let mut disagreeing = good.clone();
		disagreeing[1] = sign(&gateway(1), reading(MP1, s, 200, 0, 250, 0));
		assert_eq!(validate(&batch(disagreeing)), Err(code(Error::RegistersDisagree)));
		// Cheap checks come first: a batch of a forged signature and a reading of a slot not yet
		// over is refused for the slot, before any signature is verified.
		let mut cheap = vec![forged_reading(s)];
		cheap.push(sign(&gateway(2), reading(MP2, s + 1, 1, 0, 61, 10)));
		assert_eq!(validate(&batch(cheap)), Err(code(Error::SlotNotOver)));
		// An empty batch is refused, in the pool and at dispatch.
		assert_eq!(validate(&batch(vec![])), Err(code(Error::EmptyBatch)));
		assert_noop!(
			Metering::submit_readings(RuntimeOrigin::none(), Default::default()),
			Error::<Runtime>::EmptyBatch
		);

		let call = batch(good);
		assert_eq!(validate(&call), Ok(()));
		assert_ok!(call.dispatch_bypass_filter(RuntimeOrigin::none()));
		assert!(Readings::<Runtime>::get(s - 1, MP1).is_some());
		assert_eq!(Readings::<Runtime>::get(s, MP1).unwrap().metered.import_wh, 200);
		assert_eq!(Readings::<Runtime>::get(s, MP2).unwrap().metered.import_wh, 60);
	});
}

/// Two batches each good in the pool may meet in one block: a reading the first accepted is
/// refused in the second by name (`ReadingRefused`), and the second's other readings are taken.
#[test]
fn a_reading_refused_inside_a_block_does_not_sink_its_batch() {
	chain().execute_with(|| {
		with_keys();
		let s = last_slot();
		let twice = sign(&gateway(1), reading(MP1, s, 200, 0, 200, 0));
		let first =
			Call::<Runtime>::submit_readings { batch: vec![twice.clone()].try_into().unwrap() };
		let second = Call::<Runtime>::submit_readings {
			batch: vec![twice, sign(&gateway(2), reading(MP2, s, 60, 10, 60, 10))]
				.try_into()
				.unwrap(),
		};
		assert_eq!((validate(&first), validate(&second)), (Ok(()), Ok(())));
		assert_ok!(first.dispatch_bypass_filter(RuntimeOrigin::none()));
		System::reset_events();
		assert_ok!(second.dispatch_bypass_filter(RuntimeOrigin::none()));
		let refused: Vec<_> =
			System::events()
				.into_iter()
				.filter_map(|e| match e.event {
					lem_runtime::RuntimeEvent::Metering(
						pallet_metering::Event::ReadingRefused { metering_point, slot, error },
					) => Some((metering_point, slot, error)),
					_ => None,
				})
				.collect();
		let replayed = sp_runtime::DispatchError::from(Error::<Runtime>::Replayed);
		assert_eq!(refused, vec![(MP1, s, replayed)]);
		assert_eq!(Readings::<Runtime>::get(s, MP1).unwrap().metered.import_wh, 200);
		assert_eq!(Readings::<Runtime>::get(s, MP2).unwrap().metered.import_wh, 60);
	});
}

/// A reading of household 1's meter with a signature that does not verify.
fn forged_reading(slot: u64) -> SignedReading {
	let mut r = sign(&gateway(1), reading(MP1, slot, 1, 0, 1, 0));
	r.signature = gateway(1).sign(b"not the reading");
	r
}

/// A gateway's clock may run a little ahead of the chain's: a reading refused a few seconds
/// before its slot's end is accepted when sent again after it.
#[test]
fn a_reading_sent_too_early_is_accepted_once_its_slot_is_over() {
	chain().execute_with(|| {
		with_keys();
		let s = last_slot() + 1;
		block_at(T0 + SLOT_SECONDS - 3);
		assert_refused(sign(&gateway(1), reading(MP1, s, 100, 0, 100, 0)), Error::SlotNotOver);
		block_at(T0 + SLOT_SECONDS);
		assert_ok!(submit(sign(&gateway(1), reading(MP1, s, 100, 0, 100, 0))));
	});
}

/// Phantom energy: no reading may claim more than the metering point's connection carries, in
/// one slot or across a gap.
#[test]
fn a_reading_above_the_connection_limit_is_refused() {
	chain().execute_with(|| {
		with_keys();
		let s = last_slot();
		// The demo households' connections carry 7.5 kWh per demo slot.
		let limit = pallet_market::CommunityParams::<Runtime>::get()
			.connection_limit_wh(pallet_market::demo::HOUSEHOLD_RATED_POWER_W);
		assert_eq!(limit, 7_500);
		assert_refused(
			sign(&gateway(1), reading(MP1, s - 3, 0, 1_000_000_000, 0, 1_000_000_000)),
			Error::AboveConnectionLimit,
		);
		assert_refused(
			sign(&gateway(1), reading(MP1, s - 3, limit + 1, 0, limit + 1, 0)),
			Error::AboveConnectionLimit,
		);
		assert_ok!(submit(sign(&gateway(1), reading(MP1, s - 3, limit, 0, limit, 0))));
		// Two slots later the registers may have advanced by at most two slots' worth.
		let most = limit + 2 * limit;
		assert_refused(
			sign(&gateway(1), reading(MP1, s - 1, 0, 0, most + 1, 0)),
			Error::AboveConnectionLimit,
		);
		assert_ok!(submit(sign(&gateway(1), reading(MP1, s - 1, 0, 0, most, 0))));
	});
}

#[test]
fn a_technician_manages_only_the_metering_points_assigned_to_it() {
	chain().execute_with(|| {
		// A second technician, appointed by the manager but assigned no metering point.
		let other = sp_keyring::Sr25519Keyring::Ferdie.to_account_id();
		let manager = RuntimeOrigin::signed(demo_account("Manager"));
		assert_ok!(lem_runtime::Market::appoint_technician(manager.clone(), other.clone()));
		let other_origin = RuntimeOrigin::signed(other.clone());
		let key = gateway(1).public();
		assert_noop!(
			Metering::register_key(other_origin.clone(), MP1, key),
			Error::<Runtime>::NotAssigned
		);
		install(MP1, key);
		// It cannot take over a meter by rotating or revoking its key either.
		assert_noop!(
			Metering::rotate_key(other_origin.clone(), MP1, gateway(7).public()),
			Error::<Runtime>::NotAssigned
		);
		assert_noop!(
			Metering::revoke_key(other_origin.clone(), MP1),
			Error::<Runtime>::NotAssigned
		);
		// Once the manager moves the meter to it, the first technician has lost it.
		assert_ok!(lem_runtime::Market::assign_technician(manager.clone(), MP1, Some(other)));
		assert_ok!(Metering::rotate_key(other_origin, MP1, gateway(7).public()));
		assert_ok!(Metering::accept_key(owner(MP1), MP1, gateway(7).public()));
		assert_noop!(Metering::revoke_key(technician(), MP1), Error::<Runtime>::NotAssigned);
		assert_noop!(
			lem_runtime::Market::assign_technician(manager, MP1, Some(demo_account("Household1"))),
			pallet_market::Error::<Runtime>::NotTechnician
		);
	});
}

/// The attack: a technician rotates a household's key to one it holds and signs imports up to
/// the connection limit (the household pays) or exports for an accomplice (the utility pays).
/// A key it registers or rotates to signs nothing until the point's owner accepts it; the old
/// key goes on signing meanwhile; only the owner accepts, and only the key proposed.
#[test]
fn a_technicians_key_signs_nothing_until_the_owner_accepts_it() {
	chain().execute_with(|| {
		install(MP1, gateway(1).public());
		let s = last_slot();
		let stolen = gateway(66);
		assert_ok!(Metering::rotate_key(technician(), MP1, stolen.public()));
		assert_eq!(ProposedKeys::<Runtime>::get(MP1), Some(stolen.public()));
		assert_refused(
			sign(&stolen, reading(MP1, s, 7_000, 0, 7_000, 0)),
			Error::<Runtime>::KeyNotAccepted,
		);
		// Nobody but the owner accepts it: not the technician, not another household.
		for who in [technician(), owner(MP2), RuntimeOrigin::signed(demo_account("Manager"))] {
			assert_noop!(
				Metering::accept_key(who, MP1, stolen.public()),
				Error::<Runtime>::NotPointOwner
			);
		}
		// The owner names the key it accepts: not one swapped in after it looked.
		assert_noop!(
			Metering::accept_key(owner(MP1), MP1, gateway(67).public()),
			Error::<Runtime>::NotProposed
		);
		// The household's own gateway still reads.
		assert_ok!(submit(sign(&gateway(1), reading(MP1, s, 900, 0, 900, 0))));

		// A first key waits the same way, and signs once its owner accepted it.
		let second = gateway(2);
		assert_ok!(Metering::register_key(technician(), MP2, second.public()));
		let first_reading = sign(&second, reading(MP2, s, 500, 0, 500, 0));
		assert_refused(first_reading.clone(), Error::<Runtime>::KeyNotAccepted);
		assert_ok!(Metering::accept_key(owner(MP2), MP2, second.public()));
		assert_ok!(submit(first_reading));

		// Revoking needs nobody's consent, and takes the proposal with it.
		assert_ok!(Metering::revoke_key(technician(), MP1));
		assert_eq!(GatewayKeys::<Runtime>::get(MP1), None);
		assert_eq!(ProposedKeys::<Runtime>::get(MP1), None);
		// A withdrawn proposal was never a key: it may be proposed again.
		assert_ok!(Metering::register_key(technician(), MP1, stolen.public()));
		assert_ok!(Metering::revoke_key(technician(), MP1));
		assert_noop!(Metering::revoke_key(technician(), MP1), Error::<Runtime>::NoKey);
	});
}

/// A meter exchange (or a register rollover) used to stop a point's readings for good: every
/// reading of the new meter was refused `RegistersBackwards`. The technician records the old
/// meter's final registers and the new one's first, the owner accepts, and the registers go on.
#[test]
fn a_meter_exchange_continues_the_registers_with_the_owners_consent() {
	chain().execute_with(|| {
		use pallet_metering::{MeterExchange, ProposedExchanges};
		with_keys();
		let s = last_slot();
		assert_ok!(submit(sign(&gateway(1), reading(MP1, s - 2, 1_000, 0, 50_000, 900))));
		// The new meter starts at zero: refused, as before.
		assert_refused(
			sign(&gateway(1), reading(MP1, s - 1, 600, 0, 600, 0)),
			Error::<Runtime>::RegistersBackwards,
		);
		let exchange = |old: (u64, u64)| MeterExchange {
			old_import_register_wh: old.0,
			old_export_register_wh: old.1,
			new_import_register_wh: 0,
			new_export_register_wh: 0,
		};
		// The old meter's final registers follow its last reading like a reading's.
		assert_noop!(
			Metering::propose_meter_exchange(technician(), MP1, exchange((49_000, 900))),
			Error::<Runtime>::RegistersBackwards
		);
		assert_noop!(
			Metering::propose_meter_exchange(
				technician(),
				MP1,
				exchange((50_000 + 10_000_000, 900))
			),
			Error::<Runtime>::AboveConnectionLimit
		);
		assert_noop!(
			Metering::propose_meter_exchange(owner(MP1), MP1, exchange((50_400, 900))),
			Error::<Runtime>::NotTechnician
		);
		assert_ok!(Metering::propose_meter_exchange(technician(), MP1, exchange((50_400, 900))));
		assert_eq!(ProposedExchanges::<Runtime>::get(MP1), Some(exchange((50_400, 900))));
		// Nothing changes until the owner accepts exactly what was proposed.
		assert_noop!(
			Metering::accept_meter_exchange(owner(MP2), MP1, exchange((50_400, 900))),
			Error::<Runtime>::NotPointOwner
		);
		assert_noop!(
			Metering::accept_meter_exchange(owner(MP1), MP1, exchange((50_000, 900))),
			Error::<Runtime>::NotProposed
		);
		assert_ok!(Metering::accept_meter_exchange(owner(MP1), MP1, exchange((50_400, 900))));
		assert_eq!(ProposedExchanges::<Runtime>::get(MP1), None);

		// The new meter's first reading after the exchange: its 600 Wh, on top of the 400 Wh
		// the old meter turned between its last reading and its removal.
		block_at(T0 + SLOT_SECONDS);
		assert_ok!(submit(sign(&gateway(1), reading(MP1, s + 1, 600, 0, 600, 0))));
		let registers = LastRegisters::<Runtime>::get(MP1).unwrap();
		assert_eq!((registers.import_wh, registers.export_wh), (51_000, 900));
		assert_eq!(Readings::<Runtime>::get(s + 1, MP1).unwrap().registers, registers);
		// A late reading of the old meter is read as the old meter's.
		assert_refused(
			sign(&gateway(1), reading(MP1, s, 100, 0, 50_100, 900)),
			Error::<Runtime>::OutOfOrder,
		);
	});
}
