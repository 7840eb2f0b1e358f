//! The town's traffic: its meters, their gateways' keys and readings, and their owners' orders,
//! signed by the gateway's own code.

use ed25519_dalek::SigningKey;
use lem_gateway_core::{
	owner::{AcceptKey, Call, Owner, Side, Signing},
	reading::{self, Reading, SignedReading},
};
use lem_runtime::RuntimeCall;
use lem_tests::{dev_pair, sign, LocalNetwork, Node};
use serde_json::json;
use sp_core::{crypto::Ss58Codec, Pair, H256};
use std::time::Duration;

/// Gateway keys registered per batch call of the technician.
const KEYS_PER_CALL: usize = 500;

/// One metering point of the town, its participant and its gateway.
pub struct Meter {
	pub point: u64,
	pub zone: u32,
	owner: Owner,
	nonce: u32,
	gateway: SigningKey,
	registers: (u64, u64),
}

impl Meter {
	pub fn new(i: u32) -> Meter {
		let seed =
			|what: &str| sp_crypto_hashing::blake2_256(format!("lem-load/{what}/{i}").as_bytes());
		Meter {
			point: 1_000_000 + i as u64,
			zone: pallet_market::demo::STREETS[i as usize % pallet_market::demo::STREETS.len()],
			owner: Owner::from_seed(&seed("owner")),
			nonce: 0,
			gateway: SigningKey::from_bytes(&seed("gateway")),
			registers: (0, 0),
		}
	}

	pub fn account(&self) -> String {
		sp_core::crypto::AccountId32::new(self.owner.account()).to_ss58check()
	}

	/// Its reading of `slot`, signed: a household's few hundred Wh either way.
	fn read(&mut self, slot: u64, genesis: H256) -> SignedReading {
		let mix = (self.point ^ slot.wrapping_mul(0x9e37_79b9)) % 1_000;
		let (import_wh, export_wh) = if mix.is_multiple_of(3) { (0, mix / 2) } else { (mix, 0) };
		self.registers.0 += import_wh;
		self.registers.1 += export_wh;
		let reading = Reading {
			metering_point: self.point,
			slot,
			import_wh,
			export_wh,
			import_register_wh: self.registers.0,
			export_register_wh: self.registers.1,
		};
		reading.sign(&self.gateway, &genesis.0)
	}
}

/// How the chain wants signed transactions signed now (its spec version changes with an
/// upgrade).
pub fn signing(node: &Node, genesis: H256) -> Signing {
	let version = node.rpc("state_getRuntimeVersion", json!([]));
	Signing {
		genesis: genesis.0,
		spec_version: version["specVersion"].as_u64().unwrap() as u32,
		transaction_version: version["transactionVersion"].as_u64().unwrap() as u32,
	}
}

/// The demo's technician, assigned every genesis metering point, proposes each gateway's key.
pub fn register_keys(node: &Node, meters: &[Meter], genesis: H256) {
	let technician = dev_pair("Technician");
	let who = technician.public().into();
	let nonce = node.nonce(&who);
	let xts = meters
		.chunks(KEYS_PER_CALL)
		.enumerate()
		.map(|(i, chunk)| {
			let calls = chunk
				.iter()
				.map(|m| {
					let key =
						sp_core::ed25519::Public::from_raw(m.gateway.verifying_key().to_bytes());
					RuntimeCall::Metering(pallet_metering::Call::register_key {
						metering_point: m.point,
						key,
					})
				})
				.collect();
			let batch = RuntimeCall::Utility(pallet_utility::Call::batch_all { calls });
			sign(&technician, batch, nonce + i as u32, genesis)
		})
		.collect();
	for outcome in node.submit_all(xts) {
		outcome.ok();
	}
}

/// Each meter's owner accepts the key the technician proposed for its gateway, as a household
/// does once its box shows it; returns once every key is in force. A chunk at a time, so that
/// a town's acceptances stay within a node's transaction pool.
pub fn accept_keys(node: &Node, meters: &mut [Meter], s: &Signing) {
	for chunk in meters.chunks_mut(KEYS_PER_CALL * 4) {
		for m in chunk.iter_mut() {
			let key = m.gateway.verifying_key().to_bytes();
			let xt = m.owner.sign(&AcceptKey { metering_point: m.point, key }, m.nonce, s);
			node.rpc("author_submitExtrinsic", json!([hex(&xt)]));
			m.nonce += 1;
		}
		let mut waiting: Vec<&Meter> = chunk.iter().collect();
		lem_tests::wait_for("every gateway key accepted", Duration::from_secs(300), || {
			waiting.retain(|m| {
				let key: Option<sp_core::ed25519::Public> =
					node.runtime_call("MeteringApi_gateway_key", m.point, None);
				key.map(|k| k.0) != Some(m.gateway.verifying_key().to_bytes())
			});
			waiting.is_empty().then_some(())
		});
	}
}

/// A share of the participants, rotating with the slot, each place an order for `slot`: bids
/// and asks at limits that cross. Spread over the nodes, as gateways would be; a node that
/// does not answer loses its share, as a gateway's order would be late. Returns how many
/// orders the nodes took.
pub fn place_orders(
	net: &LocalNetwork,
	meters: &mut [Meter],
	slot: u64,
	percent: u32,
	s: &Signing,
) -> u32 {
	let mut sent = 0;
	let every = (100 / percent.clamp(1, 100)) as u64;
	for (i, m) in meters.iter_mut().enumerate() {
		if !(i as u64 + slot).is_multiple_of(every) {
			continue;
		}
		let side = if i % 2 == 0 { Side::Bid } else { Side::Ask };
		let call = Call::PlaceOrder {
			metering_point: m.point,
			slot,
			side,
			energy_wh: 200 + (i as u64 * 37) % 800,
			limit_per_kwh: 80_000 + (i as u64 * 331) % 150_000,
		};
		let xt = m.owner.sign(&call, m.nonce, s);
		let node = &net.nodes[i % net.nodes.len()];
		if node.try_rpc("author_submitExtrinsic", json!([hex(&xt)])).is_ok() {
			m.nonce += 1;
			sent += 1;
		}
	}
	sent
}

/// Every meter's reading of `slot`, signed.
pub fn read_all(meters: &mut [Meter], slot: u64, genesis: H256) -> Vec<SignedReading> {
	meters.iter_mut().map(|m| m.read(slot, genesis)).collect()
}

/// Each point's `readings`, in slot order, through `node` in batches as large as the chain
/// takes; a point's readings are not split over two batches, which could go in out of order. A
/// batch the node does not take (it is down, or cut off) waits for the next sending, as a
/// gateway's would.
pub fn send_readings(node: &Node, readings: &[Vec<SignedReading>]) {
	let mut batches: Vec<Vec<SignedReading>> = vec![];
	for point in readings {
		match batches.last_mut() {
			Some(batch) if batch.len() + point.len() <= reading::MAX_BATCH => {
				batch.extend_from_slice(point)
			}
			_ => batches.push(point.clone()),
		}
	}
	for batch in &batches {
		let xt = reading::extrinsic(batch).expect("a batch within the bound");
		if let Err(e) = node.try_rpc("author_submitExtrinsic", json!([hex(&xt)])) {
			eprintln!("a batch of readings not taken by {}: {e}", node.config.name);
		}
	}
}

pub fn hex(bytes: &[u8]) -> String {
	sp_core::bytes::to_hex(bytes, false)
}
