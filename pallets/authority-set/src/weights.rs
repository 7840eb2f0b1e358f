//! Weights of the authority-set calls.
//!
//! The `WeightInfo` trait is what the runtime plugs in; the runtime's values come from this
//! pallet's FRAME benchmarks (`benchmarking.rs`) run on the reference machine.

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

pub trait WeightInfo {
	fn add_authority() -> Weight;
	fn remove_authority() -> Weight;
	fn authorize_upgrade() -> Weight;
}

/// Conservative estimates (storage accesses counted, compute rounded up) that stand until
/// `lem-node benchmark pallet` has been run for this pallet and its output replaces them.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn add_authority() -> Weight {
		Weight::from_parts(25_000_000, 3_500)
			.saturating_add(T::DbWeight::get().reads(2))
			.saturating_add(T::DbWeight::get().writes(2))
	}
	fn remove_authority() -> Weight {
		Weight::from_parts(20_000_000, 3_500)
			.saturating_add(T::DbWeight::get().reads(1))
			.saturating_add(T::DbWeight::get().writes(2))
	}
	fn authorize_upgrade() -> Weight {
		Weight::from_parts(10_000_000, 0).saturating_add(T::DbWeight::get().writes(1))
	}
}

impl WeightInfo for () {
	fn add_authority() -> Weight {
		Weight::from_parts(25_000_000, 3_500)
			.saturating_add(RocksDbWeight::get().reads(2))
			.saturating_add(RocksDbWeight::get().writes(2))
	}
	fn remove_authority() -> Weight {
		Weight::from_parts(20_000_000, 3_500)
			.saturating_add(RocksDbWeight::get().reads(1))
			.saturating_add(RocksDbWeight::get().writes(2))
	}
	fn authorize_upgrade() -> Weight {
		Weight::from_parts(10_000_000, 0).saturating_add(RocksDbWeight::get().writes(1))
	}
}
