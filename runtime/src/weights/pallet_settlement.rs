// PROVISIONAL until scripts/benchmark.sh regenerates it.
use frame_support::{traits::Get, weights::Weight};
use core::marker::PhantomData;
pub struct WeightInfo<T>(PhantomData<T>);
impl<T: frame_system::Config> pallet_settlement::WeightInfo for WeightInfo<T> {
	fn set_tariffs() -> Weight { Weight::from_parts(50_000_000, 0).saturating_add(T::DbWeight::get().reads_writes(4, 1)) }
	fn choose_retail() -> Weight { Weight::from_parts(50_000_000, 0).saturating_add(T::DbWeight::get().reads_writes(1, 1)) }
	fn settle_slot(n: u32) -> Weight { Weight::from_parts(1_000_000_000, 0).saturating_add(Weight::from_parts(1_000_000_000, 0).saturating_mul(n.into())) }
}
