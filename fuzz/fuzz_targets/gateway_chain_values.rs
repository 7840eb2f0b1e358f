//! The gateway's readers of what nodes send: storage values (proven, but in a layout the box
//! only knows by hand) and a dry run's answer (the node's word). On arbitrary bytes none
//! panics; a value they accept, they accept whole.

#![no_main]

use lem_gateway_core::{bill, chain};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
	let _ = chain::decode_energy(bytes);
	let _ = chain::Community::decode(bytes);
	let _ = chain::decode_nonce(Some(bytes));
	let _ = chain::decode_standing_order(Some(bytes));
	let _ = chain::DryRun::decode(bytes);
	let _ = chain::decode_clock(bytes);
	let _ = chain::decode_refusal(bytes);
	let _ = chain::decode_versions(bytes);
	let _ = bill::decode_fill(bytes);
	let _ = bill::is_settled_slot(bytes);
	let (tariffs, retail) = bytes.split_at(bytes.len().min(56));
	let _ = bill::decode_terms(7, tariffs, Some(retail));
	let _ = bill::decode_record(bytes);
	let _ = chain::decode_zone(bytes);
	let _ = chain::decode_light(bytes, 2);
	let _ = chain::decode_zone_price(bytes, 2);
});
