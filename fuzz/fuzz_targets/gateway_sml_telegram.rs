//! The box's reading of a meter's SML telegrams: bytes from a reading head on the meter's
//! window, anything at all. Whole files and a byte stream; none panics, and the stream's
//! buffer stays bounded.

#![no_main]

use lem_gateway_core::sml::{registers, Telegrams};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
	let _ = registers(bytes);
	let mut telegrams = Telegrams::default();
	for &b in bytes {
		let _ = telegrams.push(b);
	}
});
