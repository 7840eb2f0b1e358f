//! Block headers as the node encodes them, their hash, and the GRANDPA log they may carry.
//!
//! The layout is sp-runtime's `generic::Header<u32, BlakeTwo256>`; a test checks the bytes and
//! the hash against it.

use alloc::vec::Vec;
use codec::{Decode, DecodeAll, Encode};

pub type Hash = [u8; 32];

/// An ed25519 public key of a GRANDPA voter, and its weight.
pub type Authority = ([u8; 32], u64);

#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Header {
	pub parent_hash: Hash,
	#[codec(compact)]
	pub number: u32,
	pub state_root: Hash,
	pub extrinsics_root: Hash,
	pub digest: Vec<DigestItem>,
}

#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum DigestItem {
	#[codec(index = 0)]
	Other(Vec<u8>),
	#[codec(index = 4)]
	Consensus([u8; 4], Vec<u8>),
	#[codec(index = 5)]
	Seal([u8; 4], Vec<u8>),
	#[codec(index = 6)]
	PreRuntime([u8; 4], Vec<u8>),
	#[codec(index = 8)]
	RuntimeEnvironmentUpdated,
}

pub const GRANDPA_ENGINE_ID: [u8; 4] = *b"FRNK";

/// sp-consensus-grandpa's `ConsensusLog`: what a header tells GRANDPA.
#[derive(Clone, Debug, PartialEq, Eq, Decode)]
pub enum GrandpaLog {
	#[codec(index = 1)]
	ScheduledChange(ScheduledChange),
	#[codec(index = 2)]
	ForcedChange(u32, ScheduledChange),
	#[codec(index = 3)]
	OnDisabled(u64),
	#[codec(index = 4)]
	Pause(u32),
	#[codec(index = 5)]
	Resume(u32),
}

#[derive(Clone, Debug, PartialEq, Eq, Decode)]
pub struct ScheduledChange {
	pub next_authorities: Vec<Authority>,
	/// Blocks after this one at which the change takes effect; lem's runtime uses 0.
	pub delay: u32,
}

impl Header {
	pub fn hash(&self) -> Hash {
		sp_crypto_hashing::blake2_256(&self.encode())
	}

	/// A header as `chain_getHeader` answers it (JSON, the digest's logs SCALE in hex); `None`
	/// if the value is not one.
	#[cfg(feature = "std")]
	pub fn from_rpc(v: &serde_json::Value) -> Option<Header> {
		use crate::hex;
		let hash = |field: &str| v[field].as_str().and_then(hex::decode_hash);
		let number = v["number"].as_str()?.strip_prefix("0x")?;
		let digest = v["digest"]["logs"]
			.as_array()?
			.iter()
			.map(|log| {
				let bytes = hex::decode(log.as_str()?)?;
				DigestItem::decode_all(&mut &bytes[..]).ok()
			})
			.collect::<Option<_>>()?;
		Some(Header {
			parent_hash: hash("parentHash")?,
			number: u32::from_str_radix(number, 16).ok()?,
			state_root: hash("stateRoot")?,
			extrinsics_root: hash("extrinsicsRoot")?,
			digest,
		})
	}

	/// The GRANDPA logs of this header that decode (a log that does not cannot be a change:
	/// the node's own GRANDPA would not have read it either).
	pub fn grandpa_logs(&self) -> impl Iterator<Item = GrandpaLog> + '_ {
		self.digest.iter().filter_map(|item| match item {
			DigestItem::Consensus(GRANDPA_ENGINE_ID, data) => {
				GrandpaLog::decode(&mut &data[..]).ok()
			}
			_ => None,
		})
	}
}
