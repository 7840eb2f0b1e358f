//! What the gateway and the app ask the chain about metering.

use crate::types::*;
use pallet_market::{MeteringPointId, Slot};
use sp_core::ed25519;

sp_api::decl_runtime_apis! {
	pub trait MeteringApi {
		/// The key that speaks for a metering point.
		fn gateway_key(metering_point: MeteringPointId) -> Option<ed25519::Public>;
		/// The key a technician proposed for a metering point, waiting for its owner to
		/// accept it.
		fn proposed_key(metering_point: MeteringPointId) -> Option<ed25519::Public>;
		/// The accepted reading of a metering point for a slot; `None` while missing.
		fn reading(metering_point: MeteringPointId, slot: Slot) -> Option<Metered>;
		/// The registers of the metering point's latest accepted reading, where a gateway
		/// resumes after being offline.
		fn last_registers(metering_point: MeteringPointId) -> Option<Registers>;
		/// Unix seconds from which and until which (exclusive) readings of `slot` are taken.
		fn readings_window(slot: Slot) -> (u64, u64);
	}
}
