//! A slot's reading as the chain checks it: the 96 bytes pallet-metering's README documents,
//! signed with the device key, and the bare extrinsic that carries one reading or a batch. Built
//! from the documented layout, not from the runtime's types, so that the box needs no runtime;
//! a test checks it against the runtime's own encoding.

use alloc::{vec, vec::Vec};
use codec::{Compact, Decode, Encode};
use ed25519_dalek::{Signer, SigningKey};

/// First 16 bytes of every signed reading.
pub const READING_DOMAIN: [u8; 16] = *b"lem/reading/v1\0\0";
/// The runtime's index of `Metering`, and its calls' indices.
pub const METERING_PALLET: u8 = 21;
pub const SUBMIT_READING: u8 = 3;
pub const SUBMIT_READINGS: u8 = 4;
/// pallet-metering's `Error` variants in order: the pool refuses a reading with
/// `InvalidTransaction::Custom(index)`. `tests/reading.rs` checks them against the runtime.
pub use crate::pallet_errors::METERING_ERRORS;

/// The name of the metering error with pool code `code`.
pub fn error_name(code: u8) -> Option<&'static str> {
	METERING_ERRORS.get(code as usize).copied()
}

/// Most readings in one batch (`pallet_metering::MAX_BATCH`).
pub const MAX_BATCH: usize = 96;
/// A bare extrinsic of format version 5: no signature, no extensions. A reading needs no
/// account and no funds.
const BARE_V5: u8 = 0b0000_0101;

/// One metering point's energy in one slot, with the registers at the slot's end. Its SCALE
/// encoding is `pallet_metering::Reading`'s: the six fields in order.
#[derive(Encode, Decode, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reading {
	pub metering_point: u64,
	pub slot: u64,
	pub import_wh: u64,
	pub export_wh: u64,
	pub import_register_wh: u64,
	pub export_register_wh: u64,
}

impl Reading {
	pub fn fields(&self) -> [u64; 6] {
		[
			self.metering_point,
			self.slot,
			self.import_wh,
			self.export_wh,
			self.import_register_wh,
			self.export_register_wh,
		]
	}

	/// The 96 bytes the device key signs: the domain, the chain's genesis hash, then the six
	/// fields, each a little-endian u64.
	pub fn signed_bytes(&self, genesis: &[u8; 32]) -> [u8; 96] {
		let mut bytes = [0u8; 96];
		bytes[..16].copy_from_slice(&READING_DOMAIN);
		bytes[16..48].copy_from_slice(genesis);
		for (i, v) in self.fields().iter().enumerate() {
			bytes[48 + 8 * i..56 + 8 * i].copy_from_slice(&v.to_le_bytes());
		}
		bytes
	}

	pub fn sign(self, key: &SigningKey, genesis: &[u8; 32]) -> SignedReading {
		let signature = key.sign(&self.signed_bytes(genesis)).to_bytes();
		SignedReading { reading: self, key: key.verifying_key().to_bytes(), signature }
	}
}

/// A reading with the key that signed it and the signature; encoded as
/// `pallet_metering::SignedReading`.
#[derive(Encode, Decode, Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedReading {
	pub reading: Reading,
	pub key: [u8; 32],
	pub signature: [u8; 64],
}

/// The extrinsic submitting `readings`: `submit_reading` for one, `submit_readings` for more
/// (at most [`MAX_BATCH`]). Returns `None` for none or too many.
pub fn extrinsic(readings: &[SignedReading]) -> Option<Vec<u8>> {
	let mut call = vec![METERING_PALLET];
	match readings {
		[] => return None,
		[one] => {
			call.push(SUBMIT_READING);
			one.encode_to(&mut call);
		}
		many if many.len() <= MAX_BATCH => {
			call.push(SUBMIT_READINGS);
			Compact(many.len() as u32).encode_to(&mut call);
			for r in many {
				r.encode_to(&mut call);
			}
		}
		_ => return None,
	}
	let mut body = vec![BARE_V5];
	body.extend(call);
	let mut xt = Compact(body.len() as u32).encode();
	xt.extend(body);
	Some(xt)
}
