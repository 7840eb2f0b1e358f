//! The box as OpenEMS Edge's remote EMS: the body of a push, from whatever on the home
//! network POSTs to it. A state of charge and an offer, or a named error; no panic.

#![no_main]

use lem_gateway_core::openems::push;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
	if let Ok(p) = push(bytes) {
		assert!(p.soc_percent <= 100);
	}
});
