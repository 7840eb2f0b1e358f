//! The weights the metering calls need, as the runtime provides them: its values are generated
//! from this pallet's FRAME benchmarks (`benchmarking.rs`) by `scripts/benchmark.sh` into
//! `runtime/src/weights/pallet_metering.rs`.

use frame_support::weights::Weight;

pub trait WeightInfo {
	fn register_key() -> Weight;
	fn rotate_key() -> Weight;
	fn revoke_key() -> Weight;
	fn accept_key() -> Weight;
	fn propose_meter_exchange() -> Weight;
	fn accept_meter_exchange() -> Weight;
	fn submit_reading() -> Weight;
	fn submit_readings(n: u32) -> Weight;
}
