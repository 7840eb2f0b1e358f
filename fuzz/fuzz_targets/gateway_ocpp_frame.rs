//! The box as a wallbox's OCPP 1.6J central system: text frames from anything on the home
//! network that connects. Each is a request answered (or refused with an OCPP error), an
//! answer to the box, or a broken frame; none panics, and the central system's view of the
//! wallbox only takes values that make sense.

#![no_main]

use lem_gateway_core::ocpp::{incoming, Incoming, Station};
use libfuzzer_sys::fuzz_target;
use ocpp_kit::types::DateTime;

fuzz_target!(|bytes: &[u8]| {
	let Ok(text) = std::str::from_utf8(bytes) else { return };
	let mut station = Station::default();
	// One frame per line: a session's worth of requests against one station.
	for line in text.lines() {
		if let Incoming::Call { request: Ok(request), .. } = incoming(line) {
			let _ = station.answer(request, DateTime::UNIX_EPOCH);
			let _ = station.state();
		}
	}
});
