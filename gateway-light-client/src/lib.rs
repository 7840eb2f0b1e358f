//! `lem-gateway`: the software of the box next to a household's meter (DESIGN.md, "Users",
//! "Metering").
//!
//! - [`meter`] reads the meter's cumulative import and export registers over Modbus TCP, through
//!   a register map ([`meter::map`]): a ready one for SunSpec meters (models 201–204) and for
//!   the simulator, or one written in the configuration.
//! - [`reading`] builds a slot's signed reading and the bare extrinsic that carries it.
//! - [`gateway`] is the slot loop: it takes each slot's end, signs the reading, journals it
//!   ([`journal`]) and brings it to finality through the community's nodes, trusting none:
//!   [`chain`] reads what it relies on with proofs at a block whose finality it checked.
//! - [`trading`] trades for the owner with its account key ([`owner`]): it keeps the standing
//!   order in place and bids or asks for the next slots from a forecast of the meter.
//! - [`bill`] reckons a settled slot's record on the box by settlement's rules, and [`ledger`]
//!   checks the chain's record against it for every slot and serves the owner its ledger.
//! - [`config`], [`key`] and [`metrics`] are how the box is run: `gateway.toml`, the device
//!   key, and what Prometheus scrapes.
//! - [`sim`] is `lem-meter-sim`'s household: a load, PV and a battery from a seed, whose
//!   registers only ever increase, on a clock that may run faster than the wall's.

pub mod bill;
pub mod chain;
pub mod config;
pub mod gateway;
pub mod journal;
pub mod key;
pub mod ledger;
pub mod meter;
pub mod metrics;
pub mod owner;
/// The pallets' error names in index order, generated from the runtime's metadata (build.rs).
pub mod pallet_errors {
	include!(concat!(env!("OUT_DIR"), "/pallet_errors.rs"));
}
pub mod reading;
pub mod sim;
pub mod trading;
pub mod verdict;
