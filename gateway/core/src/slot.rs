//! Cutting the meter's cumulative registers into slots.
//!
//! A slot's reading is the advance of the registers between the slot's start and its end,
//! each taken at the first poll after the boundary (the box wakes right after it). A slot whose
//! start was not taken — the box or the meter was down at the boundary — gets no reading: the
//! box never invents energy. The registers of the next reading carry it, and settlement
//! corrects the slot's estimate from them.

use crate::{
	entry::{Entry, Registers, State},
	reading::Reading,
};
use ed25519_dalek::SigningKey;

/// The box wakes this long (ms) after a slot's boundary to take the registers.
pub const AFTER_BOUNDARY_MS: u64 = 50;
/// And this long (ms) after the block that makes a slot's end a block deep is due, for the
/// node to have authored or imported it.
pub const AFTER_BLOCK_DUE_MS: u64 = 500;

/// The slot whose end the registers read at `now_ms` are, if any: they count as a slot's end
/// only within two polls of its boundary, and a slot's end is taken once (`last_taken` is the
/// newest slot whose end was).
pub fn ended(now_ms: u64, slot_ms: u64, poll_ms: u64, last_taken: Option<u64>) -> Option<u64> {
	let close = now_ms % slot_ms <= 2 * poll_ms;
	(now_ms / slot_ms).checked_sub(1).filter(|&ended| close && last_taken.is_none_or(|t| t < ended))
}

/// The journal entry of `slot`, whose end registers `end` were read at `now_ms`, given the
/// registers at its start (the previous slot's end) if they were taken: the reading, signed
/// with the device `key` for the chain with `genesis`; or, without a start or if a register
/// went back over the slot, the end registers alone (state `Taken`).
pub fn take(
	metering_point: u64,
	slot: u64,
	end: Registers,
	start: Option<Registers>,
	now_ms: u64,
	key: &SigningKey,
	genesis: &[u8; 32],
) -> Entry {
	let reading =
		start.filter(|s| end.import_wh >= s.import_wh && end.export_wh >= s.export_wh).map(|s| {
			Reading {
				metering_point,
				slot,
				import_wh: end.import_wh - s.import_wh,
				export_wh: end.export_wh - s.export_wh,
				import_register_wh: end.import_wh,
				export_register_wh: end.export_wh,
			}
			.sign(key, genesis)
		});
	let state = if reading.is_some() { State::Signed } else { State::Taken };
	Entry { slot, registers: end, taken_at_ms: now_ms, reading, state }
}

/// How long (ms) from `now_ms` until the box next wakes: at its next poll, right after the
/// next slot boundary, or when the first of the `signed` slots (their readings signed, not yet
/// sent, oldest first) has its end a block deep — on short blocks that can be most of the
/// readings window before the next poll.
pub fn until_wake(
	now_ms: u64,
	poll_ms: u64,
	slot_ms: u64,
	block_ms: u64,
	signed: impl IntoIterator<Item = u64>,
) -> u64 {
	let to_boundary = slot_ms - now_ms % slot_ms + AFTER_BOUNDARY_MS;
	let sendable = signed
		.into_iter()
		.map(|slot| ((slot + 1) * slot_ms + block_ms + AFTER_BLOCK_DUE_MS).saturating_sub(now_ms))
		.find(|&ms| ms > 0);
	poll_ms.min(to_boundary).min(sendable.unwrap_or(poll_ms))
}
