//! Weights of lem's own pallets, generated on the reference machine from each pallet's FRAME
//! benchmarks by `scripts/benchmark.sh`; do not edit the generated files by hand.

pub mod pallet_authority_set;
pub mod pallet_market;
pub mod pallet_metering;
pub mod pallet_settlement;
