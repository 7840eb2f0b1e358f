//! Readings and what the chain keeps of them.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use pallet_market::{MeteringPointId, Slot};
use scale_info::TypeInfo;
use sp_core::ed25519;

/// First 16 bytes of every signed reading, so that a gateway key's signature over a reading can
/// never be mistaken for a signature over anything else.
pub const READING_DOMAIN: [u8; 16] = *b"lem/reading/v1\0\0";
/// Retired keys kept per metering point: enough for a replaced gateway and a leaked key or two.
pub const MAX_RETIRED_KEYS: u32 = 8;
/// Most readings in one batch transaction.
pub const MAX_BATCH: u32 = 96;
/// Most energy a metering point can import or export in one slot (1 GWh).
pub const MAX_SLOT_ENERGY_WH: u64 = 1_000_000_000;
/// Highest value of a cumulative register (far beyond any meter's lifetime).
pub const MAX_REGISTER_WH: u64 = 1 << 60;
/// A reading waits in the pool at most this many blocks; it is revalidated every block and
/// dropped once its window closes anyway.
pub const READINGS_LONGEVITY_BLOCKS: u64 = 600;

/// One metering point's energy in one slot, as its gateway measured it.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
pub struct Reading {
	pub metering_point: MeteringPointId,
	pub slot: Slot,
	/// Energy drawn from the grid in the slot.
	pub import_wh: u64,
	/// Energy fed into the grid in the slot.
	pub export_wh: u64,
	/// The meter's cumulative import register at the slot's end.
	pub import_register_wh: u64,
	/// The meter's cumulative export register at the slot's end.
	pub export_register_wh: u64,
}

impl Reading {
	/// The registers at the slot's end.
	pub fn registers(&self) -> Registers {
		Registers {
			slot: self.slot,
			import_wh: self.import_register_wh,
			export_wh: self.export_register_wh,
		}
	}

	/// The 96 bytes a gateway signs: [`READING_DOMAIN`], the chain's 32-byte genesis hash, then
	/// the six fields in order, each a little-endian u64.
	pub fn signed_bytes(&self, genesis_hash: &[u8]) -> alloc::vec::Vec<u8> {
		// Concatenated rather than encoded as a tuple: a slice would get a length prefix.
		let mut bytes = alloc::vec::Vec::with_capacity(96);
		bytes.extend_from_slice(&READING_DOMAIN);
		bytes.extend_from_slice(genesis_hash);
		self.encode_to(&mut bytes);
		bytes
	}
}

/// A reading with the gateway key that signed it.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
pub struct SignedReading {
	pub reading: Reading,
	pub key: ed25519::Public,
	pub signature: ed25519::Signature,
}

/// What the chain keeps of an accepted reading.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Metered {
	pub import_wh: u64,
	pub export_wh: u64,
}

/// What the chain keeps of an accepted reading: the slot's energy and the registers at its
/// end, from which a later reading's registers give the energy of the slots between them.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub struct AcceptedReading {
	pub metered: Metered,
	pub registers: Registers,
}

/// The registers of a metering point's latest accepted reading.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub struct Registers {
	pub slot: Slot,
	pub import_wh: u64,
	pub export_wh: u64,
}

/// A meter exchange, or a register rollover, as the technician records it and the metering
/// point's owner accepts it: the old meter's final registers and the new meter's first ones.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
)]
pub struct MeterExchange {
	pub old_import_register_wh: u64,
	pub old_export_register_wh: u64,
	pub new_import_register_wh: u64,
	pub new_export_register_wh: u64,
}

/// What is added to a metering point's meter registers so that they continue across meter
/// exchanges: readings of slots from `from` on are read with `current`, earlier ones (of the
/// old meter, still in the pool) with `before`. Registers kept on the chain (`Readings`,
/// `LastRegisters`) are continued ones.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct RegisterOffset {
	pub from: Slot,
	pub current: (i64, i64),
	pub before: (i64, i64),
}

impl RegisterOffset {
	/// The continued registers of a reading of `slot` whose meter shows `import` and `export`;
	/// `None` if one would be negative.
	pub fn apply(&self, slot: Slot, import: u64, export: u64) -> Option<(u64, u64)> {
		let (di, de) = if slot >= self.from { self.current } else { self.before };
		let shift = |raw: u64, d: i64| u64::try_from(raw as i128 + d as i128).ok();
		Some((shift(import, di)?, shift(export, de)?))
	}
}
