//! Hex as JSON-RPC carries bytes: `0x`-prefixed, lower case.

use alloc::{string::String, vec::Vec};

pub fn encode(bytes: &[u8]) -> String {
	const DIGITS: &[u8; 16] = b"0123456789abcdef";
	let mut s = String::with_capacity(2 + 2 * bytes.len());
	s.push_str("0x");
	for b in bytes {
		s.push(DIGITS[(b >> 4) as usize] as char);
		s.push(DIGITS[(b & 15) as usize] as char);
	}
	s
}

/// Bytes of `s`, with or without `0x`; `None` if it is not hex.
pub fn decode(s: &str) -> Option<Vec<u8>> {
	let digits = s.strip_prefix("0x").unwrap_or(s).as_bytes();
	if digits.len() % 2 != 0 {
		return None;
	}
	let nibble = |c: u8| (c as char).to_digit(16);
	digits.chunks(2).map(|p| Some((nibble(p[0])? * 16 + nibble(p[1])?) as u8)).collect()
}

/// A 32-byte hash.
pub fn decode_hash(s: &str) -> Option<[u8; 32]> {
	decode(s)?.try_into().ok()
}
