//! The weights the authority-set calls need, as the runtime provides them: its values are
//! generated from this pallet's FRAME benchmarks (`benchmarking.rs`) by `scripts/benchmark.sh`
//! into `runtime/src/weights/pallet_authority_set.rs`.

use frame_support::weights::Weight;

pub trait WeightInfo {
	fn add_authority() -> Weight;
	fn remove_authority() -> Weight;
	fn authorize_upgrade() -> Weight;
}
