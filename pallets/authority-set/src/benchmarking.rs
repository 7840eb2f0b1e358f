//! FRAME benchmarks of the authority-set calls, each at the worst case: a full set, so that the
//! membership scan reads every entry.

use super::*;
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::{
	pallet_prelude::*,
	traits::{EnsureOrigin, Get},
};

fn fill_up_to<T: Config>(n: u32) -> Vec<T::AccountId> {
	let set: Vec<T::AccountId> = (0..n).map(|i| account("authority", i, 0)).collect();
	Authorities::<T>::put(BoundedVec::<_, T::MaxAuthorities>::try_from(set.clone()).unwrap());
	set
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn add_authority() -> Result<(), BenchmarkError> {
		fill_up_to::<T>(T::MaxAuthorities::get() - 1);
		let who: T::AccountId = account("new", 0, 0);
		let keys = <T as pallet_session::Config>::Keys::decode(
			&mut sp_runtime::traits::TrailingZeroInput::zeroes(),
		)
		.map_err(|_| BenchmarkError::Stop("session keys do not decode from zeroes"))?;
		pallet_session::NextKeys::<T>::insert(&who, keys);
		let origin =
			T::CouncilOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());

		assert!(Authorities::<T>::get().contains(&who));
		Ok(())
	}

	#[benchmark]
	fn remove_authority() -> Result<(), BenchmarkError> {
		let set = fill_up_to::<T>(T::MaxAuthorities::get());
		MinAuthorities::<T>::put(1);
		let who = set.last().cloned().expect("MaxAuthorities is at least one");
		let origin =
			T::CouncilOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());

		assert!(!Authorities::<T>::get().contains(&who));
		Ok(())
	}

	#[benchmark]
	fn authorize_upgrade() -> Result<(), BenchmarkError> {
		let origin =
			T::UpgradeOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let code_hash = T::Hash::default();

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, code_hash);

		assert!(frame_system::Pallet::<T>::authorized_upgrade().is_some());
		Ok(())
	}
}
