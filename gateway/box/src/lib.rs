//! `lem-gateway`: the software of the box next to a household's meter (DESIGN.md, "Users",
//! "Metering"): the adapters around `lem-gateway-core`, which decides. Each adapter is the
//! one place the box meets the world of its kind.
//!
//! - [`meter`] reads the meter's cumulative import and export registers over the configured
//!   protocol ([`meter::Protocol`]): Modbus TCP through a register map ([`meter::map`]), a
//!   ready one for SunSpec meters (models 201–204) and for `lem-meter-sim`, or one written in
//!   the configuration.
//! - [`device`] runs the home's devices, a trait per kind ([`device::Battery`],
//!   [`device::HeatPump`]) and a file per protocol: a storage inverter's SunSpec model 124, a
//!   heat pump's SG-Ready contacts on a Modbus relay module. [`modbus`] is the Modbus unit
//!   the meter and the devices share.
//! - [`home`] plans the devices slot by slot (`lem-planner`) and holds each in its plan's
//!   set-points; past the plan, or when the box stops, each returns to its own mode.
//! - [`gateway`] is the slot loop: it takes each slot's end, signs the reading, journals it
//!   ([`journal`]) and brings it to finality through the community's nodes, trusting none:
//!   [`chain`] reads what it relies on with proofs at a block whose finality it checked.
//! - [`trader`] trades for the owner with its account key: it keeps the standing order in
//!   place and places the orders the core's trading policy asks for.
//! - [`ledger`] checks the chain's record of every settled slot against the core's reckoning
//!   of the bill, and [`metrics`] serves it and what Prometheus scrapes over HTTP.
//! - [`config`] and [`key`] are how the box is run: `gateway.toml`, the device key and the
//!   owner's key.

pub mod chain;
pub mod config;
pub mod device;
pub mod gateway;
pub mod home;
pub mod journal;
pub mod key;
pub mod ledger;
pub mod meter;
pub mod metrics;
pub mod modbus;
pub mod trader;
