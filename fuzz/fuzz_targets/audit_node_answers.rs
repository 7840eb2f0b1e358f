//! Whatever a node answers — records, a proof, the values the proof holds — `lem-audit` checks
//! it without a panic, an overflow or an endless loop, and accepts records only if the values
//! say the same.
#![no_main]

use codec::Decode;
use lem_audit::{keys_to_prove, prove, verify, Proven, Row};
use libfuzzer_sys::fuzz_target;
use sp_core::{crypto::AccountId32, H256};

fuzz_target!(|data: &[u8]| {
	let mut input = data;
	let Ok((root, proof, from, span, who)) =
		<([u8; 32], Vec<Vec<u8>>, u64, u8, Option<[u8; 32]>)>::decode(&mut input)
	else {
		return;
	};
	let Ok(rows) = Vec::<Row>::decode(&mut input) else { return };
	let to = from.saturating_add(span as u64 % 8);
	let who = who.map(AccountId32::from);
	let keys = keys_to_prove(from, to, who.as_ref(), &rows);
	let _ = prove(H256(root), proof, &keys);

	// The rest are the values the proof would hold, key by key.
	let values = Vec::<Option<Vec<u8>>>::decode(&mut input).unwrap_or_default();
	let proven: Proven = keys.iter().cloned().zip(values).collect();
	if verify(from, to, who.as_ref(), &rows, &proven).is_ok() {
		// Every accepted record is the one the values hold.
		for (slot, account, record) in &rows {
			let stored = &proven[&lem_audit::record_key(*slot, account)];
			assert_eq!(stored.as_deref(), Some(&codec::Encode::encode(record)[..]));
		}
	}
});
