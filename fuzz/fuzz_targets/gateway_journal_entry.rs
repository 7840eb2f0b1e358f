//! The journal's decoders on arbitrary bytes, as an SD card may hand them back: they never
//! panic, and what they accept — a slot's entry, an order or a home record — encodes to exactly
//! those bytes.

#![no_main]

use lem_gateway_core::{
	entry::{unversioned, versioned, Entry, OrderEntry},
	home::HomeSlot,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
	if let Ok(entry) = Entry::from_bytes(bytes) {
		assert_eq!(entry.to_bytes(), bytes, "an accepted entry re-encodes to its bytes");
	}
	if let Ok(order) = OrderEntry::from_bytes(bytes) {
		assert_eq!(order.to_bytes(), bytes, "an accepted order re-encodes to its bytes");
	}
	if let Ok(home) = unversioned::<HomeSlot>(bytes) {
		assert_eq!(versioned(&home), bytes, "an accepted home record re-encodes to its bytes");
	}
});
