//! The weights settlement needs, as the runtime provides them: generated from this pallet's
//! FRAME benchmarks (`benchmarking.rs`) by `scripts/benchmark.sh` into
//! `runtime/src/weights/pallet_settlement.rs`.

use frame_support::weights::Weight;

pub trait WeightInfo {
	fn set_tariffs() -> Weight;
	fn choose_retail() -> Weight;
	/// Settling a slot of a community with `n` metering points.
	fn settle_slot(n: u32) -> Weight;
}
