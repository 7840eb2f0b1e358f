//! The weights the market's calls and the steps of clearing a slot need, as the runtime provides
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
	fn settle_debts() -> Weight;
	/// The cursor's reads, and passing (or starting to clear) one slot.
	fn clearing_start() -> Weight;
	/// A page of `n` orders moved from the book into the engine's input.
	fn clearing_collect(n: u32) -> Weight;
	/// An order of a suspended owner collected: voided and released.
	fn void_order() -> Weight;
	/// The engine run over a slot of `n` orders.
	fn clearing_solve(n: u32) -> Weight;
	/// A page of `n` fills applied (at most `FILLS_PER_CHUNK`), and the slot's result stored.
	fn clearing_apply(n: u32) -> Weight;
}
