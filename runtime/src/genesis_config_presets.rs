//! Genesis presets: `development` (one utility, one authority) and `local_testnet` (four
//! utilities, each running one authority node, so that one may fail and finality goes on).
//!
//! The presets use the well-known development keys (`//Alice` ...) and fixed node keys, so a
//! script can start the matching nodes. They are for development and tests only; a production
//! community makes its own chain spec with its utilities' keys.

use crate::*;
use alloc::{vec, vec::Vec};
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{self, PresetId};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

/// A utility of the community: its account, its authority node's session keys and the libp2p
/// public key (ed25519) of that node.
struct Utility {
	account: AccountId,
	session_keys: SessionKeys,
	node_public_key: [u8; 32],
}

/// Public halves of the node keys `scripts/start-local-network.sh` starts the `local` nodes
/// with (secret i = blake2b-256("lem-local-node-i"); see that script).
pub const LOCAL_NODE_PUBLIC_KEYS: [[u8; 32]; 4] = [
	hex_literal("399f18a5d8185394bcd0c99860cb69cdb0ff37abeb68e1d05539509561459182"),
	hex_literal("ba3af4924d22cca3345d709138ab4f476b2cfb732b0710be0488ca84e3ef4d19"),
	hex_literal("3b4c6ae7e5b78538e2d62a9354fdb16e3a11e1a3600fe5bbcc6c9c5a0c1a79a3"),
	hex_literal("7b29c18a59fbe8d7692f680d1d674d7935396d9346f243a79475d39cf67b74ff"),
];

const fn hex_literal(s: &str) -> [u8; 32] {
	const fn nibble(c: u8) -> u8 {
		match c {
			b'0'..=b'9' => c - b'0',
			b'a'..=b'f' => c - b'a' + 10,
			_ => panic!("not a lowercase hex digit"),
		}
	}
	let b = s.as_bytes();
	assert!(b.len() == 64);
	let mut out = [0u8; 32];
	let mut i = 0;
	while i < 32 {
		out[i] = nibble(b[2 * i]) << 4 | nibble(b[2 * i + 1]);
		i += 1;
	}
	out
}

/// The libp2p peer id of an ed25519 node key, as `pallet-node-authorization` stores it: the
/// identity multihash (0x00, length 36) of the protobuf-encoded public key (type 1 = Ed25519,
/// 32 bytes of data).
pub fn peer_id_of(node_public_key: &[u8; 32]) -> Vec<u8> {
	let mut id = vec![0x00, 0x24, 0x08, 0x01, 0x12, 0x20];
	id.extend_from_slice(node_public_key);
	id
}

fn utility(who: Sr25519Keyring, grandpa: Ed25519Keyring, node_public_key: [u8; 32]) -> Utility {
	Utility {
		account: who.to_account_id(),
		session_keys: SessionKeys {
			aura: AuraId::from(who.public()),
			grandpa: GrandpaId::from(grandpa.public()),
		},
		node_public_key,
	}
}

/// Every well-known development account gets this much of the settlement asset.
const ENDOWMENT: Balance = 1_000_000 * UNIT;

fn genesis(utilities: Vec<Utility>, endowed: Vec<AccountId>) -> Value {
	let authorities: Vec<AccountId> = utilities.iter().map(|u| u.account.clone()).collect();
	let config = RuntimeGenesisConfig {
		balances: pallet_balances::GenesisConfig {
			balances: endowed.into_iter().map(|a| (a, ENDOWMENT)).collect(),
			..Default::default()
		},
		council: pallet_collective::GenesisConfig {
			members: authorities.clone(),
			..Default::default()
		},
		authority_set: pallet_authority_set::GenesisConfig {
			authorities,
			session_length: SESSION_LENGTH_DEV,
		},
		session: pallet_session::GenesisConfig {
			keys: utilities
				.iter()
				.map(|u| (u.account.clone(), u.account.clone(), u.session_keys.clone()))
				.collect(),
			..Default::default()
		},
		node_authorization: pallet_node_authorization::GenesisConfig {
			nodes: utilities
				.iter()
				.map(|u| (sp_core::OpaquePeerId(peer_id_of(&u.node_public_key)), u.account.clone()))
				.collect(),
		},
		..Default::default()
	};
	serde_json::to_value(config).expect("the genesis config serialises to JSON")
}

/// One utility (Alice) running the only authority node.
pub fn development_config_genesis() -> Value {
	genesis(
		vec![utility(Sr25519Keyring::Alice, Ed25519Keyring::Alice, LOCAL_NODE_PUBLIC_KEYS[0])],
		Sr25519Keyring::iter().map(|k| k.to_account_id()).collect(),
	)
}

/// Four utilities (Alice, Bob, Charlie, Dave), one authority node each.
pub fn local_config_genesis() -> Value {
	genesis(
		vec![
			utility(Sr25519Keyring::Alice, Ed25519Keyring::Alice, LOCAL_NODE_PUBLIC_KEYS[0]),
			utility(Sr25519Keyring::Bob, Ed25519Keyring::Bob, LOCAL_NODE_PUBLIC_KEYS[1]),
			utility(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie, LOCAL_NODE_PUBLIC_KEYS[2]),
			utility(Sr25519Keyring::Dave, Ed25519Keyring::Dave, LOCAL_NODE_PUBLIC_KEYS[3]),
		],
		Sr25519Keyring::iter().map(|k| k.to_account_id()).collect(),
	)
}

pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
		_ => return None,
	};
	Some(
		serde_json::to_string(&patch)
			.expect("serialization to json is expected to work. qed.")
			.into_bytes(),
	)
}

pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
	]
}
