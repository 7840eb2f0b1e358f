//! FRAME benchmarks of the key calls and of readings, single and batched. A reading's weight
//! covers both its check when the block's transactions are validated and its dispatch, so the
//! signature is verified twice, as on a real chain.

use super::*;
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::{pallet_prelude::*, traits::UnfilteredDispatchable};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use pallet_market::{BenchmarkHelper, MeteringPoint, MeteringPointId};
use sp_core::{crypto::KeyTypeId, ed25519};
#[allow(deprecated)]
use sp_runtime::{traits::ValidateUnsigned, transaction_validity::TransactionSource};

const GATEWAY: KeyTypeId = KeyTypeId(*b"lemg");
/// The slot every benchmark reads; its window is open at the benchmarks' clock.
const SLOT: u64 = 2_000_000;

fn technician<T: Config>() -> T::AccountId {
	let who: T::AccountId = account("technician", 0, 0);
	pallet_market::Technicians::<T>::insert(&who, ());
	who
}

/// A metering point rated 30 kW, assigned to the benchmarks' technician.
fn metering_point<T: Config>(id: MeteringPointId) {
	pallet_market::MeteringPoints::<T>::insert(
		id,
		MeteringPoint {
			owner: account("participant", id as u32, 0),
			zone: 0,
			rated_power_w: 30_000,
			technician: Some(account("technician", 0, 0)),
		},
	);
}

fn new_key() -> ed25519::Public {
	sp_io::crypto::ed25519_generate(GATEWAY, None)
}

/// A metering point with its key and as many retired keys as it keeps, so that retiring one
/// more forgets the oldest.
fn keyed_point<T: Config>(id: MeteringPointId) -> ed25519::Public {
	metering_point::<T>(id);
	let retired: Vec<_> = (0..MAX_RETIRED_KEYS).map(|_| new_key()).collect();
	for key in &retired {
		RevokedKeys::<T>::insert(key, ());
	}
	RetiredKeys::<T>::insert(id, BoundedVec::truncate_from(retired));
	let key = new_key();
	GatewayKeys::<T>::insert(id, key);
	KeyOwners::<T>::insert(key, id);
	key
}

/// A metering point with a key and a previous reading right before `SLOT`, so that the
/// registers are checked on their longest path, and its signed reading for `SLOT`.
fn signed_reading<T: Config>(id: MeteringPointId) -> SignedReading {
	metering_point::<T>(id);
	let key = new_key();
	GatewayKeys::<T>::insert(id, key);
	KeyOwners::<T>::insert(key, id);
	LastRegisters::<T>::insert(id, Registers { slot: SLOT - 1, import_wh: 10_000, export_wh: 500 });
	let reading = Reading {
		metering_point: id,
		slot: SLOT,
		import_wh: 1_200,
		export_wh: 300,
		import_register_wh: 11_200,
		export_register_wh: 800,
	};
	let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
	let signature =
		sp_io::crypto::ed25519_sign(GATEWAY, &key, &reading.signed_bytes(genesis.as_ref()))
			.expect("the key is in the benchmark keystore");
	SignedReading { reading, key, signature }
}

fn open_window<T: Config>() {
	ReadingsGraceSeconds::<T>::put(900);
	pallet_market::CommunityParams::<T>::put(pallet_market::Community::default());
	let (opens, _) = Pallet::<T>::readings_window(SLOT);
	T::BenchmarkHelper::set_time(opens + 1);
}

/// What a block does with a reading transaction: validate it, then dispatch it.
#[allow(deprecated)]
fn validate_and_dispatch<T: Config>(call: Call<T>) {
	Pallet::<T>::validate_unsigned(TransactionSource::InBlock, &call).expect("valid");
	call.dispatch_bypass_filter(RawOrigin::None.into()).expect("dispatches");
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// A key proposed in place of one proposed before.
	#[benchmark]
	fn register_key() {
		let who = technician::<T>();
		metering_point::<T>(1);
		let replaced = new_key();
		ProposedKeys::<T>::insert(1, replaced);
		KeyOwners::<T>::insert(replaced, 1);
		let key = new_key();

		#[extrinsic_call]
		_(RawOrigin::Signed(who), 1, key);

		assert_eq!(ProposedKeys::<T>::get(1), Some(key));
		assert!(!KeyOwners::<T>::contains_key(replaced));
	}

	#[benchmark]
	fn rotate_key() {
		let who = technician::<T>();
		keyed_point::<T>(1);
		let replaced = new_key();
		ProposedKeys::<T>::insert(1, replaced);
		KeyOwners::<T>::insert(replaced, 1);
		let new = new_key();

		#[extrinsic_call]
		_(RawOrigin::Signed(who), 1, new);

		assert_eq!(ProposedKeys::<T>::get(1), Some(new));
	}

	/// The owner accepts a new key for a point whose old key is retired, forgetting the oldest
	/// retired key.
	#[benchmark]
	fn accept_key() {
		let old = keyed_point::<T>(1);
		let new = new_key();
		ProposedKeys::<T>::insert(1, new);
		KeyOwners::<T>::insert(new, 1);
		let owner: T::AccountId = account("participant", 1, 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), 1, new);

		assert_eq!(GatewayKeys::<T>::get(1), Some(new));
		assert!(RevokedKeys::<T>::contains_key(old));
	}

	/// The key and a key proposed in its place.
	#[benchmark]
	fn revoke_key() {
		let who = technician::<T>();
		let key = keyed_point::<T>(1);
		let proposed = new_key();
		ProposedKeys::<T>::insert(1, proposed);
		KeyOwners::<T>::insert(proposed, 1);

		#[extrinsic_call]
		_(RawOrigin::Signed(who), 1);

		assert!(RevokedKeys::<T>::contains_key(key));
		assert!(!KeyOwners::<T>::contains_key(proposed));
		assert_eq!(RetiredKeys::<T>::get(1).len() as u32, MAX_RETIRED_KEYS);
	}

	fn exchange() -> MeterExchange {
		MeterExchange {
			old_import_register_wh: 10_500,
			old_export_register_wh: 600,
			new_import_register_wh: 0,
			new_export_register_wh: 0,
		}
	}

	/// Checked against the point's last reading and its offset from an earlier exchange.
	#[benchmark]
	fn propose_meter_exchange() {
		open_window::<T>();
		let who = technician::<T>();
		metering_point::<T>(1);
		LastRegisters::<T>::insert(
			1,
			Registers { slot: SLOT - 1, import_wh: 10_000, export_wh: 500 },
		);
		RegisterOffsets::<T>::insert(1, RegisterOffset::default());

		#[extrinsic_call]
		_(RawOrigin::Signed(who), 1, exchange());

		assert_eq!(ProposedExchanges::<T>::get(1), Some(exchange()));
	}

	#[benchmark]
	fn accept_meter_exchange() {
		open_window::<T>();
		metering_point::<T>(1);
		LastRegisters::<T>::insert(
			1,
			Registers { slot: SLOT - 1, import_wh: 10_000, export_wh: 500 },
		);
		RegisterOffsets::<T>::insert(1, RegisterOffset::default());
		ProposedExchanges::<T>::insert(1, exchange());
		let owner: T::AccountId = account("participant", 1, 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), 1, exchange());

		assert_eq!(RegisterOffsets::<T>::get(1).map(|o| o.current), Some((10_500, 600)));
	}

	#[benchmark]
	fn submit_reading() {
		open_window::<T>();
		let reading = signed_reading::<T>(1);
		let call = Call::<T>::submit_reading { reading };

		#[block]
		{
			validate_and_dispatch::<T>(call);
		}

		assert!(Readings::<T>::contains_key(SLOT, 1));
	}

	#[benchmark]
	fn submit_readings(n: Linear<1, MAX_BATCH>) {
		open_window::<T>();
		let batch: Vec<SignedReading> =
			(0..n as MeteringPointId).map(signed_reading::<T>).collect();
		let call = Call::<T>::submit_readings { batch: BoundedVec::truncate_from(batch) };

		#[block]
		{
			validate_and_dispatch::<T>(call);
		}

		assert_eq!(Readings::<T>::iter_prefix_values(SLOT).count(), n as usize);
		assert!(Readings::<T>::contains_key(SLOT, n as MeteringPointId - 1));
	}
}
