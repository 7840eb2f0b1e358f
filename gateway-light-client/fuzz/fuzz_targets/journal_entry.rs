//! The journal's decoder on arbitrary bytes, as an SD card may hand them back: it never
//! panics, and what it accepts is an entry that encodes to exactly those bytes.

#![no_main]

use lem_gateway::journal::Entry;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
	if let Ok(entry) = Entry::from_bytes(bytes) {
		assert_eq!(entry.to_bytes(), bytes, "an accepted entry re-encodes to its bytes");
	}
});
