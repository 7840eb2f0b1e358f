//! The weights settlement needs, as the runtime provides them: generated from this pallet's
//! FRAME benchmarks (`benchmarking.rs`) by `scripts/benchmark.sh` into
//! `runtime/src/weights/pallet_settlement.rs`. The steps of settling a slot are benchmarked per
//! page: an account of the benchmarks has one metering point and one order, and a larger one
//! is charged as `types::units` of them.

use frame_support::weights::Weight;

pub trait WeightInfo {
	fn set_tariffs() -> Weight;
	fn choose_retail() -> Weight;
	/// The cursors' reads, and starting to settle a slot.
	fn settlement_start() -> Weight;
	/// A page of `n` participants gathered, with their readings reconciled and their ex-post
	/// orders.
	fn settlement_gather(n: u32) -> Weight;
	/// The ex-post clearing of `n` orders.
	fn settlement_solve(n: u32) -> Weight;
	/// A page of `n` ex-post fills stored (at most `FILLS_PER_CHUNK`).
	fn settlement_store_ex_post(n: u32) -> Weight;
	/// A page of `n` accounts paying in.
	fn settlement_pay_in(n: u32) -> Weight;
	/// A page of `n` accounts paid out and recorded, and the slot's totals stored.
	fn settlement_pay_out(n: u32) -> Weight;
	/// A page of `n` items of a slot that left the retention window forgotten.
	fn settlement_forget(n: u32) -> Weight;
}
