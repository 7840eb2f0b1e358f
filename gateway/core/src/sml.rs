//! What a meter's SML telegrams say: SML (Smart Message Language 1.04) is what German modern
//! meters push, unasked, every second or few, over their optical D0 interface. A telegram is a
//! transport frame (escape sequences, padding, a CRC) around an SML file: an open response, a
//! list response with the meter's values by OBIS code, a close response. The box takes the
//! cumulative import (1-0:1.8.0) and export (1-0:2.8.0) from the list, in whole Wh.
//!
//! The bytes come from a reading head on the meter's window: anything can arrive. A telegram
//! that does not decode, lacks a register or gives it in another unit is an error naming it,
//! never a guess; `Telegrams` holds at most [`MAX_TELEGRAM`] bytes of one.

use crate::entry::Registers;
use alloc::{format, string::String};
use sml_rs::{
	parser::{
		common::{ListEntry, Value},
		complete::{self, MessageBody},
	},
	transport::Decoder,
	util::ArrayBuf,
};

/// OBIS codes of the cumulative registers: energy drawn from the grid (1.8.0) and fed into it
/// (2.8.0), all tariffs.
pub const IMPORT_OBIS: [u8; 6] = [1, 0, 1, 8, 0, 255];
pub const EXPORT_OBIS: [u8; 6] = [1, 0, 2, 8, 0, 255];
/// DLMS unit code of watt-hours.
pub const WATT_HOURS: u8 = 30;
/// The most bytes one telegram may take: a modern meter's is a few hundred.
pub const MAX_TELEGRAM: usize = 2048;

/// Why a telegram gave no registers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmlError {
	/// The transport frame is broken (a CRC, an escape sequence, bytes outside a frame, a
	/// frame longer than [`MAX_TELEGRAM`]).
	Frame(String),
	/// The SML file in the frame does not parse.
	File(String),
	/// No list entry with the register's OBIS code.
	Missing { field: &'static str },
	/// The register is not in Wh.
	Unit { field: &'static str, unit: Option<u8> },
	/// Not a number of watt-hours a register holds (negative, too large, not a number).
	OutOfRange { field: &'static str },
}

impl core::fmt::Display for SmlError {
	fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
		match self {
			Self::Frame(why) => write!(f, "SML frame: {why}"),
			Self::File(why) => write!(f, "SML file: {why}"),
			Self::Missing { field } => write!(f, "the SML telegram has no {field} register"),
			Self::Unit { field, unit } => write!(f, "{field}: unit {unit:?}, not Wh (30)"),
			Self::OutOfRange { field } => write!(f, "{field}: not a meter's energy"),
		}
	}
}

/// The registers of the SML file `file` (a frame's payload).
pub fn registers(file: &[u8]) -> Result<Registers, SmlError> {
	let file = complete::parse(file).map_err(|e| SmlError::File(format!("{e:?}")))?;
	let entries = file.messages.iter().filter_map(|m| match &m.message_body {
		MessageBody::GetListResponse(list) => Some(list.val_list.iter()),
		_ => None,
	});
	let (mut import, mut export) = (None, None);
	for entry in entries.flatten() {
		match entry.obj_name {
			name if name == IMPORT_OBIS => import = Some(entry),
			name if name == EXPORT_OBIS => export = Some(entry),
			_ => {}
		}
	}
	Ok(Registers {
		import_wh: watt_hours("import", import)?,
		export_wh: watt_hours("export", export)?,
	})
}

/// Whole watt-hours of a register's entry, rounded down.
fn watt_hours(field: &'static str, entry: Option<&ListEntry>) -> Result<u64, SmlError> {
	let entry = entry.ok_or(SmlError::Missing { field })?;
	if entry.unit != Some(WATT_HOURS) {
		return Err(SmlError::Unit { field, unit: entry.unit });
	}
	let out_of_range = SmlError::OutOfRange { field };
	let value: i128 = match entry.value {
		Value::U8(v) => v.into(),
		Value::U16(v) => v.into(),
		Value::U32(v) => v.into(),
		Value::U64(v) => v.into(),
		Value::I8(v) => v.into(),
		Value::I16(v) => v.into(),
		Value::I32(v) => v.into(),
		Value::I64(v) => v.into(),
		_ => return Err(out_of_range),
	};
	let scaler = entry.scaler.unwrap_or(0);
	let wh = match scaler {
		0..=9 => value.checked_mul(10i128.pow(scaler as u32)),
		-9..=-1 => Some(value.div_euclid(10i128.pow(scaler.unsigned_abs() as u32))),
		_ => None,
	};
	// Below 2^60 Wh, as over Modbus: far beyond any meter's lifetime.
	wh.filter(|wh| (0..1 << 60).contains(wh)).map(|wh| wh as u64).ok_or(out_of_range)
}

/// The telegrams in a meter's byte stream, one byte at a time.
pub struct Telegrams {
	decoder: Decoder<ArrayBuf<MAX_TELEGRAM>>,
}

impl Default for Telegrams {
	fn default() -> Self {
		Telegrams { decoder: Decoder::new() }
	}
}

impl Telegrams {
	/// Takes the next byte; the registers of the telegram it completes, or why that telegram
	/// gave none (the stream goes on with the next).
	pub fn push(&mut self, byte: u8) -> Option<Result<Registers, SmlError>> {
		match self.decoder.push_byte(byte) {
			Ok(None) => None,
			Ok(Some(file)) => Some(registers(file)),
			Err(e) => Some(Err(SmlError::Frame(format!("{e:?}")))),
		}
	}
}
