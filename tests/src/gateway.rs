//! A test gateway, the box at a meter: an ed25519-dalek key that signs readings from the byte
//! layout the metering pallet's README documents, not from the runtime's types, as a gateway
//! in another language would.

use ed25519_dalek::{Signer, SigningKey};
use lem_runtime::{RuntimeCall, UncheckedExtrinsic};
use pallet_metering::{Reading, SignedReading};
use sp_core::{ed25519, H256};

pub struct Gateway {
	key: SigningKey,
	genesis: H256,
}

impl Gateway {
	pub fn new(seed: u8, genesis: H256) -> Self {
		Gateway { key: SigningKey::from_bytes(&[seed; 32]), genesis }
	}

	pub fn public(&self) -> ed25519::Public {
		ed25519::Public::from_raw(self.key.verifying_key().to_bytes())
	}

	/// The 96 signed bytes, laid out as the metering pallet's README documents them.
	pub fn sign(&self, reading: Reading) -> SignedReading {
		let mut bytes = b"lem/reading/v1\0\0".to_vec();
		bytes.extend_from_slice(self.genesis.as_bytes());
		for v in [
			reading.metering_point,
			reading.slot,
			reading.import_wh,
			reading.export_wh,
			reading.import_register_wh,
			reading.export_register_wh,
		] {
			bytes.extend_from_slice(&v.to_le_bytes());
		}
		assert_eq!(bytes.len(), 96);
		let signature = ed25519::Signature::from_raw(self.key.sign(&bytes).to_bytes());
		SignedReading { reading, key: self.public(), signature }
	}
}

pub fn reading(
	mp: u64,
	slot: u64,
	import: u64,
	export: u64,
	import_reg: u64,
	export_reg: u64,
) -> Reading {
	Reading {
		metering_point: mp,
		slot,
		import_wh: import,
		export_wh: export,
		import_register_wh: import_reg,
		export_register_wh: export_reg,
	}
}

/// A metering call as a bare (unsigned) extrinsic: a gateway needs no funds.
pub fn bare(call: pallet_metering::Call<lem_runtime::Runtime>) -> UncheckedExtrinsic {
	UncheckedExtrinsic::new_bare(RuntimeCall::Metering(call))
}
