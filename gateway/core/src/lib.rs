//! `lem-gateway-core`: what the box at the meter decides, without I/O (DESIGN.md, "Users",
//! "Metering"). Every function here takes what the box has read — registers, the chain's
//! proven values, the nodes' answers, the journal's entries, the clock — and returns a
//! decision or bytes; `lem-gateway` reads the meter, talks to the nodes, keeps the journal and
//! serves HTTP around it. `no_std`, as `lem-light-client`'s checks are, so that a decision is
//! tested, fuzzed and run on the box alike.
//!
//! - [`slot`] cuts the meter's registers into slots: when a slot's end is taken, the reading
//!   it makes, when the box wakes.
//! - [`reading`] is a slot's signed reading and the bare extrinsic that carries it.
//! - [`entry`] is what the journal keeps of a slot and an order, and its bytes.
//! - [`verdict`] is what the box concludes from the chain and the nodes about a pending
//!   reading: which readings go next, what a node's answer means, what a finalized block says.
//! - [`owner`] builds the owner's signed market calls; [`trading`] decides which to make.
//! - [`bill`] reckons a settled slot's record by settlement's rules.
//! - [`chain`] names the storage the box proves and decodes its values.
//! - [`device`] is what the box asks of the home's devices and reads back, whatever the
//!   protocol.
//! - [`home`] is what the box keeps of its home per slot, and the outlook it plans against.
//! - [`ocpp`] is OCPP 1.6J as the box, the wallbox's central system, speaks it; [`openems`]
//!   is OpenEMS Edge's remote control as the box, its remote EMS, answers it.
//! - [`sml`] reads a meter's cumulative registers out of the SML telegrams it pushes.

#![no_std]

extern crate alloc;

pub mod bill;
pub mod chain;
pub mod device;
pub mod entry;
pub mod home;
pub mod ocpp;
pub mod openems;
pub mod owner;
/// The pallets' error names in index order, generated from the runtime's metadata (build.rs).
pub mod pallet_errors {
	include!(concat!(env!("OUT_DIR"), "/pallet_errors.rs"));
}
pub mod reading;
pub mod slot;
pub mod sml;
pub mod trading;
pub mod verdict;
