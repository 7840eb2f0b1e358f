//! What `lem-demo` needs of a node: JSON-RPC over HTTP, runtime API calls, and extrinsics
//! signed as a wallet signs them.

use codec::{Decode, Encode};
use lem_runtime::{RuntimeCall, SignedPayload, TxExtension, UncheckedExtrinsic, VERSION};
use serde_json::{json, Value};
use sp_core::{bytes, sr25519, Pair, H256};
use sp_runtime::{generic::Era, MultiAddress, MultiSignature};
use std::time::Duration;

pub type Error = Box<dyn std::error::Error>;

/// A node's JSON-RPC endpoint.
pub struct Chain {
	url: String,
}

impl Chain {
	pub fn new(url: impl Into<String>) -> Self {
		Chain { url: url.into() }
	}

	pub fn rpc(&self, method: &str, params: Value) -> Result<Value, Error> {
		let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
		let answer: Value = ureq::post(&self.url)
			.timeout(Duration::from_secs(30))
			.send_json(body)
			.map_err(|e| format!("{}: {method}: {e}", self.url))?
			.into_json()?;
		if let Some(error) = answer.get("error") {
			return Err(format!("{method}: {error}").into());
		}
		Ok(answer["result"].clone())
	}

	pub fn genesis_hash(&self) -> Result<H256, Error> {
		Ok(serde_json::from_value(self.rpc("chain_getBlockHash", json!([0]))?)?)
	}

	pub fn finalized_head(&self) -> Result<H256, Error> {
		Ok(serde_json::from_value(self.rpc("chain_getFinalizedHead", json!([]))?)?)
	}

	/// Runtime API `function` with SCALE `args` at `at` (the best block if `None`).
	pub fn call<T: Decode>(
		&self,
		function: &str,
		args: impl Encode,
		at: Option<H256>,
	) -> Result<T, Error> {
		let mut params = vec![json!(function), json!(bytes::to_hex(&args.encode(), false))];
		params.extend(at.map(|h| json!(format!("{h:?}"))));
		let hex = self.rpc("state_call", Value::Array(params))?;
		let raw = bytes::from_hex(hex.as_str().ok_or("state_call: not hex")?)?;
		Ok(T::decode(&mut &raw[..]).map_err(|e| format!("{function}: {e}"))?)
	}

	pub fn nonce(&self, who: &sr25519::Pair) -> Result<u32, Error> {
		let who: lem_runtime::AccountId = who.public().into();
		let n = self.rpc("system_accountNextIndex", json!([who.to_string()]))?;
		Ok(n.as_u64().ok_or("system_accountNextIndex: not a number")? as u32)
	}

	/// Signs each signer's calls, in order, submits them all, and waits until each signer's
	/// nonce in the best block shows its calls included (not whether each succeeded: the
	/// caller reads back what it set).
	pub fn submit_all(&self, batches: &[(sr25519::Pair, Vec<RuntimeCall>)]) -> Result<(), Error> {
		let genesis = self.genesis_hash()?;
		let mut waiting = Vec::new();
		for (signer, calls) in batches {
			let first = self.nonce(signer)?;
			for (i, call) in calls.iter().enumerate() {
				let xt = sign(signer, call.clone(), first + i as u32, genesis);
				self.rpc("author_submitExtrinsic", json!([bytes::to_hex(&xt.encode(), false)]))?;
			}
			let who: lem_runtime::AccountId = signer.public().into();
			waiting.push((who, first + calls.len() as u32));
		}
		for _ in 0..60 {
			let mut included = true;
			for (who, done) in &waiting {
				// The nonce in the best block's state, not the pool's.
				let nonce: u32 = self.call("AccountNonceApi_account_nonce", who, None)?;
				included &= nonce >= *done;
			}
			if included {
				return Ok(());
			}
			std::thread::sleep(Duration::from_secs(1));
		}
		Err("the extrinsics were not included within a minute".into())
	}
}

/// The development key `//name` (`Technician`, `Household1`, ...).
pub fn dev_pair(name: &str) -> sr25519::Pair {
	sr25519::Pair::from_string(&format!("//{name}"), None).expect("a valid derivation")
}

/// A signed extrinsic exactly as a wallet makes it: immortal, no tip, no metadata hash.
pub fn sign(
	signer: &sr25519::Pair,
	call: RuntimeCall,
	nonce: u32,
	genesis: H256,
) -> UncheckedExtrinsic {
	let extension: TxExtension = (
		frame_system::CheckNonZeroSender::new(),
		frame_system::CheckSpecVersion::new(),
		frame_system::CheckTxVersion::new(),
		frame_system::CheckGenesis::new(),
		frame_system::CheckEra::from(Era::Immortal),
		frame_system::CheckNonce::from(nonce),
		frame_system::CheckWeight::new(),
		pallet_transaction_payment::ChargeTransactionPayment::from(0),
		frame_metadata_hash_extension::CheckMetadataHash::new(false),
		frame_system::WeightReclaim::new(),
	);
	let implicit = (
		(),
		VERSION.spec_version,
		VERSION.transaction_version,
		genesis,
		genesis,
		(),
		(),
		(),
		None,
		(),
	);
	let payload = SignedPayload::from_raw(call.clone(), extension.clone(), implicit);
	let signature = payload.using_encoded(|p| signer.sign(p));
	UncheckedExtrinsic::new_signed(
		call,
		MultiAddress::Id(signer.public().into()),
		MultiSignature::Sr25519(signature),
		extension,
	)
}
