//! What the box keeps of a slot and of an order, and their bytes: the journal (`lem-gateway`'s
//! `journal.rs`, a redb file) stores these values, each as a version byte and its SCALE
//! encoding.
//!
//! An entry's bytes are decoded with [`Entry::from_bytes`], which refuses anything but a
//! well-formed entry and never panics (a fuzz target feeds it arbitrary bytes).

use crate::{owner::Side, reading::SignedReading};
use alloc::{
	string::{String, ToString},
	vec,
	vec::Vec,
};
use codec::{Decode, Encode};

/// The first byte of every entry: its layout's version. Version 1 had an `InBlock` state.
const VERSION: u8 = 2;

/// The meter's cumulative registers at a slot's end, in Wh.
#[derive(Encode, Decode, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Registers {
	pub import_wh: u64,
	pub export_wh: u64,
}

/// Where a slot's reading stands.
#[derive(Encode, Decode, Clone, Debug, PartialEq, Eq)]
pub enum State {
	/// Only the registers at the slot's end were taken: the slot's start was not read (the
	/// gateway or the meter was down), so no reading exists. A later reading's registers carry
	/// the slot's energy, and settlement corrects the slot's estimate from them.
	Taken,
	/// Signed and journaled; not sent yet.
	Signed,
	/// Sent to a node, at this unix time (seconds).
	Submitted { at: u64 },
	/// Final: proven on the chain at this block, whose finality the gateway checked.
	Finalized { block: [u8; 32] },
	/// Refused by the chain, with the named error (or why else it will not go).
	Refused { reason: String },
}

impl State {
	pub fn name(&self) -> &'static str {
		match self {
			Self::Taken => "taken",
			Self::Signed => "signed",
			Self::Submitted { .. } => "submitted",
			Self::Finalized { .. } => "finalized",
			Self::Refused { .. } => "refused",
		}
	}

	/// Not yet final on the chain, nor refused.
	pub fn is_pending(&self) -> bool {
		matches!(self, Self::Signed | Self::Submitted { .. })
	}
}

/// One slot in the journal. Stored as its SCALE encoding after a version byte.
#[derive(Encode, Decode, Clone, Debug, PartialEq, Eq)]
pub struct Entry {
	pub slot: u64,
	/// The registers at the slot's end, and when they were read (unix milliseconds).
	pub registers: Registers,
	pub taken_at_ms: u64,
	/// The signed reading; `None` in state [`State::Taken`] only.
	pub reading: Option<SignedReading>,
	pub state: State,
}

/// An order the gateway placed, or tried to place, for its owner: one per slot. Written durably
/// with the owner's next nonce before it is sent, so that a restart sends the same bytes again
/// and never signs a second transaction with the same nonce.
#[derive(Encode, Decode, Clone, Debug, PartialEq, Eq)]
pub struct OrderEntry {
	pub slot: u64,
	pub side: Side,
	pub energy_wh: u64,
	pub limit_per_kwh: u64,
	pub nonce: u32,
	/// The signed extrinsic; empty if it was refused before it was sent.
	pub extrinsic: Vec<u8>,
	pub state: OrderState,
}

#[derive(Encode, Decode, Clone, Debug, PartialEq, Eq)]
pub enum OrderState {
	/// Sent to a node at this unix time (seconds).
	Submitted { at: u64 },
	/// Proven in the owner's orders of the slot at a finalized block: their ids.
	Placed { orders: Vec<u64> },
	/// Refused with the named error; not sent again.
	Refused { reason: String },
	/// Not in a block before the slot's gate closed (a node dropped it, or another
	/// transaction of the account took its nonce).
	Lost,
}

impl OrderState {
	pub fn name(&self) -> &'static str {
		match self {
			Self::Submitted { .. } => "submitted",
			Self::Placed { .. } => "placed",
			Self::Refused { .. } => "refused",
			Self::Lost => "lost",
		}
	}
}

impl OrderEntry {
	pub fn to_bytes(&self) -> Vec<u8> {
		versioned(self)
	}

	/// The order in `bytes`, or why they are not one. Never panics.
	pub fn from_bytes(bytes: &[u8]) -> Result<OrderEntry, Corrupt> {
		let order: OrderEntry = unversioned(bytes)?;
		if order.extrinsic.is_empty() && matches!(order.state, OrderState::Submitted { .. }) {
			return Err(Corrupt::Inconsistent("submitted without an extrinsic"));
		}
		Ok(order)
	}
}

/// A journal value's bytes: the layout's version, then its SCALE encoding.
pub fn versioned(value: &impl Encode) -> Vec<u8> {
	let mut bytes = vec![VERSION];
	value.encode_to(&mut bytes);
	bytes
}

/// The value in `bytes` of [`versioned`], whole, or why they are not one.
pub fn unversioned<T: Decode>(bytes: &[u8]) -> Result<T, Corrupt> {
	let (&version, mut rest) = bytes.split_first().ok_or(Corrupt::Version(0))?;
	if version != VERSION {
		return Err(Corrupt::Version(version));
	}
	let value = T::decode(&mut rest).map_err(|e| Corrupt::Undecodable(e.to_string()))?;
	if !rest.is_empty() {
		return Err(Corrupt::TrailingBytes(rest.len()));
	}
	Ok(value)
}

/// Why an entry's bytes are not an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Corrupt {
	Version(u8),
	Undecodable(String),
	TrailingBytes(usize),
	/// The fields contradict each other (the reading's slot, a reading in state `Taken`, ...).
	Inconsistent(&'static str),
}

impl Entry {
	pub fn to_bytes(&self) -> Vec<u8> {
		versioned(self)
	}

	/// The entry in `bytes`, or why they are not one. Never panics.
	pub fn from_bytes(bytes: &[u8]) -> Result<Entry, Corrupt> {
		let entry: Entry = unversioned(bytes)?;
		match (&entry.reading, &entry.state) {
			(None, State::Taken) => {}
			(None, _) => return Err(Corrupt::Inconsistent("a state past taken without a reading")),
			(Some(_), State::Taken) => {
				return Err(Corrupt::Inconsistent("a reading in state taken"))
			}
			(Some(r), _) => {
				if r.reading.slot != entry.slot {
					return Err(Corrupt::Inconsistent("the reading is for another slot"));
				}
				let registers = Registers {
					import_wh: r.reading.import_register_wh,
					export_wh: r.reading.export_register_wh,
				};
				if registers != entry.registers {
					return Err(Corrupt::Inconsistent("the reading's registers differ"));
				}
			}
		}
		Ok(entry)
	}
}
