//! The owner's account: the household's sr25519 key, which the box holds to trade for it, and
//! the signed extrinsics it makes with it. The device key only signs readings and has no
//! funds; this key moves the owner's money, so it is a separate file and may be left out, and
//! the box then only reads the meter.
//!
//! Extrinsics are built from the runtime's documented layout, as readings are, so that the box
//! needs no runtime: format 4 signed with the runtime's ten extensions, immortal, no tip, no
//! metadata hash. `tests/owner.rs` checks the bytes against the runtime's own types.

use alloc::{vec, vec::Vec};
use codec::{Compact, Decode, Encode};
use schnorrkel::{ExpansionMode, Keypair, MiniSecretKey};

/// The runtime's index of `Market`, and the indices of the calls the gateway makes.
pub const MARKET_PALLET: u8 = 20;
const PLACE_ORDER: u8 = 11;
const SET_STANDING_ORDER: u8 = 13;
/// `Metering::accept_key`: the owner accepts the key a technician proposed for its point.
const ACCEPT_KEY: u8 = 5;

/// pallet-market's `Error` variants in order, generated from the runtime's metadata
/// (build.rs): a refused call names its error by index. `tests/owner.rs` checks them against
/// the runtime.
pub use crate::pallet_errors::MARKET_ERRORS;

/// Whether an order buys or sells; encoded as `pallet_market::Side`.
#[derive(Encode, Decode, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
	Bid,
	Ask,
}

impl Side {
	pub fn name(self) -> &'static str {
		match self {
			Side::Bid => "bid",
			Side::Ask => "ask",
		}
	}
}

/// The owner's standing order: `pallet_market::StandingOrder`'s fields.
#[derive(Encode, Decode, Clone, Copy, Debug, PartialEq, Eq)]
pub struct StandingOrder {
	pub buy_limit_per_kwh: u64,
	pub sell_limit_per_kwh: u64,
	pub daily_budget: u128,
}

/// A market call the gateway makes for its owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
	PlaceOrder { metering_point: u64, slot: u64, side: Side, energy_wh: u64, limit_per_kwh: u64 },
	SetStandingOrder(StandingOrder),
}

/// The owner accepts the gateway key a technician proposed for its metering point
/// (`Metering::accept_key`): a key signs no reading before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AcceptKey {
	pub metering_point: u64,
	pub key: [u8; 32],
}

/// A call the owner's key signs, as the runtime encodes it.
pub trait OwnerCall {
	/// The call's bytes: pallet index, call index, the arguments in order.
	fn encode(&self) -> Vec<u8>;
}

impl OwnerCall for AcceptKey {
	fn encode(&self) -> Vec<u8> {
		let mut bytes = vec![crate::reading::METERING_PALLET, ACCEPT_KEY];
		(self.metering_point, self.key).encode_to(&mut bytes);
		bytes
	}
}

impl OwnerCall for Call {
	fn encode(&self) -> Vec<u8> {
		match self {
			Call::PlaceOrder { metering_point, slot, side, energy_wh, limit_per_kwh } => {
				let mut bytes = vec![MARKET_PALLET, PLACE_ORDER];
				(metering_point, slot, side, energy_wh, limit_per_kwh).encode_to(&mut bytes);
				bytes
			}
			Call::SetStandingOrder(order) => {
				let mut bytes = vec![MARKET_PALLET, SET_STANDING_ORDER];
				order.encode_to(&mut bytes);
				bytes
			}
		}
	}
}

/// What a signature is bound to besides the call: the chain and the runtime's versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signing {
	pub genesis: [u8; 32],
	pub spec_version: u32,
	pub transaction_version: u32,
}

/// Signed extrinsics are format 4, with the signed bit.
const SIGNED_V4: u8 = 0b1000_0100;

/// The owner's account key.
pub struct Owner {
	keypair: Keypair,
}

impl Owner {
	/// The key from its 32-byte secret seed — what `lem-node key inspect` prints as "Secret
	/// seed" — expanded as Substrate expands sr25519 seeds.
	pub fn from_seed(seed: &[u8; 32]) -> Owner {
		let secret = MiniSecretKey::from_bytes(seed).expect("32 bytes");
		Owner { keypair: secret.expand_to_keypair(ExpansionMode::Ed25519) }
	}

	/// The account id: the public key.
	pub fn account(&self) -> [u8; 32] {
		self.keypair.public.to_bytes()
	}

	/// `call` as a signed extrinsic with `nonce`, ready to submit.
	pub fn sign(&self, call: &impl OwnerCall, nonce: u32, signing: &Signing) -> Vec<u8> {
		let call = call.encode();
		// The extensions' explicit parts: immortal era (0), the nonce, no tip (0), metadata
		// hash check disabled (0); the other six carry nothing.
		let mut explicit = vec![0u8];
		Compact(nonce).encode_to(&mut explicit);
		explicit.extend([0, 0]);
		// Their implicit parts: the versions, genesis twice (the chain, and the immortal era's
		// block), no metadata hash.
		let mut payload = [&call[..], &explicit].concat();
		(signing.spec_version, signing.transaction_version, signing.genesis, signing.genesis)
			.encode_to(&mut payload);
		payload.push(0);
		let message = match payload.len() {
			0..=256 => payload,
			_ => sp_crypto_hashing::blake2_256(&payload).to_vec(),
		};
		let signature = self.keypair.sign_simple(b"substrate", &message).to_bytes();
		// MultiAddress::Id and MultiSignature::Sr25519.
		let mut body = vec![SIGNED_V4, 0];
		body.extend(self.account());
		body.push(1);
		body.extend(signature);
		body.extend(explicit);
		body.extend(call);
		let mut xt = Compact(body.len() as u32).encode();
		xt.extend(body);
		xt
	}
}

/// The name of the market error with index `index`.
pub fn market_error(index: u8) -> Option<&'static str> {
	MARKET_ERRORS.get(index as usize).copied()
}
