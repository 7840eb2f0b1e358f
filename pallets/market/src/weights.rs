//! The weights the market's calls and the clearing of a slot need, as the runtime provides
//! them: its values are generated from this pallet's FRAME benchmarks (`benchmarking.rs`) by
//! `scripts/benchmark.sh` into `runtime/src/weights/pallet_market.rs`.

use frame_support::weights::Weight;

pub trait WeightInfo {
	fn appoint() -> Weight;
	fn admit_participant(m: u32) -> Weight;
	fn add_metering_point() -> Weight;
	fn suspend_participant() -> Weight;
	fn reinstate_participant() -> Weight;
	fn appoint_technician() -> Weight;
	fn dismiss_technician() -> Weight;
	fn add_zone() -> Weight;
	fn set_edge() -> Weight;
	fn set_traffic_light() -> Weight;
	fn set_yellow_surcharge() -> Weight;
	fn place_order() -> Weight;
	fn cancel_order() -> Weight;
	fn set_standing_order() -> Weight;
	fn remove_standing_order() -> Weight;
	fn assign_technician() -> Weight;
	fn set_deposit() -> Weight;
	fn pay_debt() -> Weight;
	fn clear_slot(n: u32) -> Weight;
}
