//! Genesis presets: `development` (one utility, one authority) and `local_testnet` (four
//! utilities, each running one authority node, so that one may fail and finality goes on), and
//! the same two at the test pace, `development_fast` and `local_testnet_fast`.
//!
//! All carry the demo energy community: a DSO with a three-level grid, a utility, a manager, a
//! technician and ten households, each with its own development key (`//Dso`, `//Household1`
//! ...). At the demo pace they run production's 6-second blocks and trade in 30-second slots, so
//! that a demo or a test sees slots clear within a minute; at the test pace everything that
//! waits is three times shorter (see [`TEST_PACE`]), for the end-to-end tests whose subject is
//! not the block time.
//!
//! The presets use the well-known development keys (`//Alice` ...) and fixed node keys, so a
//! script can start the matching nodes. They are for development and tests only; a production
//! community makes its own chain spec with its utilities' keys: [`new_community_genesis`], which
//! `lem-node new-community` serves (see `docs/OPERATIONS.md`).

use crate::*;
use alloc::{vec, vec::Vec};
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{self, PresetId};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

// What a new community is described with, named here so that the node needs no pallet crate.
pub use pallet_market::Community;
pub use pallet_settlement::Tariffs;

/// A utility of the community: its account, its authority node's session keys and the libp2p
/// public key (ed25519) of that node.
#[derive(Clone)]
pub struct Utility {
	pub account: AccountId,
	pub session_keys: SessionKeys,
	pub node_public_key: [u8; 32],
}

/// A new energy community, from its utilities' own keys: what `lem-node new-community` makes a
/// chain spec of. It starts with no participants and a grid of its substation alone (the root
/// zone, 0): the manager admits participants and the DSO adds zones on the chain.
pub struct NewCommunity {
	/// Each runs one authority node and sits on the council, in this order.
	pub utilities: Vec<Utility>,
	pub manager: AccountId,
	pub dso: AccountId,
	/// The residual supplier, which sets the tariffs: the market's `Utility` role.
	pub supplier: AccountId,
	pub technicians: Vec<AccountId>,
	/// What each account starts with, in the settlement asset's smallest unit. Fees are paid in
	/// that asset, so an account with nothing cannot transact: not even a utility's vote.
	pub funds: Vec<(AccountId, Balance)>,
	pub community: Community,
	/// How long after a slot's end its readings are taken.
	pub readings_grace_seconds: u64,
	pub tariffs: Tariffs,
	/// Blocks per session: a council's change of the authority set is in force after the next
	/// session rotation but one.
	pub session_length: BlockNumber,
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

/// Sr25519 public keys of the demo community's development accounts: the secret of `NAME` is
/// the development phrase with the hard derivation `//NAME`. Households 1, 3, 6 and 8 have PV,
/// household 5 a battery, the others only consume.
pub const DEMO_ACCOUNTS: [(&str, [u8; 32]); 14] = [
	("Dso", hex_literal("7256e60b269f449855204ec8819422f813ce104bc48c3d974d3cb27c467e7a04")),
	("Utility", hex_literal("2e580cfe01e2f67b3586889bbefc7499d402c863aabdda129140775d1ba7792f")),
	("Manager", hex_literal("4415b728fd17487748cb575f1fb27a08b29d7b9030aa63fdc3aa8d3a7b6b1467")),
	("Technician", hex_literal("92dae3c4be3ace120a20bd99956effe562e806203e647c9f89539edd69213e52")),
	("Household1", hex_literal("2a0247642d3dcdf8ef4622bb83e996c1b40e8f873c59d7defa795e9e06a83521")),
	("Household2", hex_literal("f24d6889db0c8c5a45520da7d3bbcd8b6b8111531dc9bdfc13699208fbc18652")),
	("Household3", hex_literal("582d366123902c1d7a9868d4dd9cc7746deab4a36f967be266a814da4f86294a")),
	("Household4", hex_literal("9a59f13b9fc437357c0fbd4ca27bd6482abd30e65a1937878d7bbbf835ed3674")),
	("Household5", hex_literal("9e522d11e02cdcbc8ff74b1b1a467daec7475ed94ccfa48e43d8120635c60d32")),
	("Household6", hex_literal("40982c7ef6e8ffafd06b90a98cbe67c89c5f5dce5c196b9d5ae9bab0a8148968")),
	("Household7", hex_literal("7447c83bff4f302ea7d1435535612b578e5bf23ea8f92b8ad4cf7a26377c167b")),
	("Household8", hex_literal("6a2d6dfde829a1eeb057a0d6f893ca5aa30273508e3d9953eb46b6adf5b3fc48")),
	("Household9", hex_literal("c87ac223878c0a74e952d667ddf686eb8737557aa281489bbccdf5040cb5fb40")),
	(
		"Household10",
		hex_literal("4ea345f6f25f594437fcff2ae23ffb02a45fd7bccbfbb3760140fdca76d71c3a"),
	),
];

/// What each demo account starts with: 10 000 EUR.
const DEMO_FUNDS: Balance = 10_000 * UNIT;

/// What the demo manager requires each household to hold as its deposit: 20 EUR, about a
/// week of a household's supply at the demo tariffs.
pub const DEMO_DEPOSIT: Balance = 20 * UNIT;

/// The demo account called `name` in [`DEMO_ACCOUNTS`].
pub fn demo_account(name: &str) -> AccountId {
	let (_, key) = DEMO_ACCOUNTS.iter().find(|(n, _)| *n == name).expect("a demo account");
	AccountId::from(*key)
}

/// How fast a preset's community runs: what every wait of a demo or a test is made of.
#[derive(Clone, Copy)]
pub struct Pace {
	pub block_time_ms: u64,
	pub slot_seconds: u64,
	pub gate_closure_lead_seconds: u64,
	/// How long after a slot's end its readings are taken.
	pub readings_grace_seconds: u64,
}

/// The demo's pace: production's 6-second blocks, 30-second slots whose gate closes 10 s (two
/// blocks) ahead, readings taken for a minute after a slot ends. A slot has five blocks: a
/// street's community of up to 512 metering points and orders clears and settles in them.
pub const DEMO_PACE: Pace = Pace {
	block_time_ms: 6_000,
	slot_seconds: 30,
	gate_closure_lead_seconds: 10,
	readings_grace_seconds: 60,
};

/// The test pace: the demo's in blocks (five to a slot, the gate two blocks ahead, sessions of
/// five blocks), on 2-second blocks. The per-block weight limit scales with the block time, so
/// the demo community still clears and settles a slot in its blocks.
pub const TEST_PACE: Pace = Pace {
	block_time_ms: 2_000,
	slot_seconds: 10,
	gate_closure_lead_seconds: 4,
	readings_grace_seconds: 20,
};

/// Slots of the demo community at `pace`, orders up to 120 slots ahead.
pub fn demo_community_at(pace: Pace) -> Community {
	Community {
		slot_seconds: pace.slot_seconds,
		gate_closure_lead_seconds: pace.gate_closure_lead_seconds,
		order_horizon_slots: 120,
		max_orders_per_slot: 512,
		max_metering_points: 512,
		..Default::default()
	}
}

/// The demo community at the demo's pace.
pub fn demo_community() -> Community {
	demo_community_at(DEMO_PACE)
}

fn demo_market(pace: Pace) -> pallet_market::GenesisConfig<Runtime> {
	pallet_market::GenesisConfig {
		community: demo_community_at(pace),
		manager: Some(demo_account("Manager")),
		dso: Some(demo_account("Dso")),
		utility: Some(demo_account("Utility")),
		technicians: vec![demo_account("Technician")],
		grid: pallet_market::demo::grid(),
		participants: pallet_market::demo::HOUSEHOLD_METERING_POINTS
			.iter()
			.enumerate()
			.map(|(i, point)| {
				let rated_power_w = pallet_market::demo::household_rated_power_w(pace.slot_seconds);
				let point = pallet_market::NewMeteringPoint { rated_power_w, ..*point };
				(demo_account(&alloc::format!("Household{}", i + 1)), vec![point], DEMO_DEPOSIT)
			})
			.collect(),
	}
}

/// The demo utility's tariffs: 0.32 EUR/kWh green, 0.30 grey, 0.08 feed-in.
pub fn demo_tariffs() -> Tariffs {
	Tariffs { retail_green_per_kwh: 320_000, retail_grey_per_kwh: 300_000, feed_in_per_kwh: 80_000 }
}

/// The one genesis body of the presets and of a new community: they differ only in these
/// values.
fn genesis(
	utilities: &[Utility],
	balances: Vec<(AccountId, Balance)>,
	block_time_ms: u64,
	session_length: BlockNumber,
	market: pallet_market::GenesisConfig<Runtime>,
	readings_grace_seconds: u64,
	tariffs: Tariffs,
) -> Value {
	let authorities: Vec<AccountId> = utilities.iter().map(|u| u.account.clone()).collect();
	let config = RuntimeGenesisConfig {
		balances: pallet_balances::GenesisConfig { balances, ..Default::default() },
		council: pallet_collective::GenesisConfig {
			members: authorities.clone(),
			..Default::default()
		},
		authority_set: pallet_authority_set::GenesisConfig {
			authorities,
			session_length,
			block_time_ms,
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
		market,
		metering: pallet_metering::GenesisConfig { readings_grace_seconds, ..Default::default() },
		settlement: pallet_settlement::GenesisConfig { tariffs, ..Default::default() },
		..Default::default()
	};
	serde_json::to_value(config).expect("the genesis config serialises to JSON")
}

/// The demo community of the presets at `pace`, run by `utilities`; every `endowed` account
/// gets [`ENDOWMENT`].
fn demo_genesis(pace: Pace, utilities: Vec<Utility>, endowed: Vec<AccountId>) -> Value {
	genesis(
		&utilities,
		endowed
			.into_iter()
			.map(|a| (a, ENDOWMENT))
			.chain(DEMO_ACCOUNTS.iter().map(|(_, key)| (AccountId::from(*key), DEMO_FUNDS)))
			.collect(),
		pace.block_time_ms,
		SESSION_LENGTH_DEV,
		demo_market(pace),
		pace.readings_grace_seconds,
		demo_tariffs(),
	)
}

/// A new community's genesis (a patch for the chain spec builder, like the presets'). Its
/// values are checked where the runtime checks every genesis, when the storage is built:
/// `lem-node new-community` builds it before printing anything.
pub fn new_community_genesis(c: &NewCommunity) -> Value {
	let substation = pallet_market::Zone {
		id: 0,
		parent: None,
		fee_per_kwh: 0,
		capacity_wh: None,
		light: Default::default(),
	};
	let market = pallet_market::GenesisConfig {
		community: c.community.clone(),
		manager: Some(c.manager.clone()),
		dso: Some(c.dso.clone()),
		utility: Some(c.supplier.clone()),
		technicians: c.technicians.clone(),
		// The DSO can only add a zone below an existing one, so the root is given here.
		grid: pallet_market::Grid {
			zones: vec![substation].try_into().expect("one zone is within the bound"),
			yellow_surcharge_per_kwh: 0,
		},
		participants: Vec::new(),
	};
	genesis(
		&c.utilities,
		c.funds.clone(),
		pallet_authority_set::DEFAULT_BLOCK_TIME_MS,
		c.session_length,
		market,
		c.readings_grace_seconds,
		c.tariffs,
	)
}

/// The test pace's preset names, beside `sp_genesis_builder`'s `development` and
/// `local_testnet`.
pub const DEV_FAST_PRESET: &str = "development_fast";
pub const LOCAL_FAST_PRESET: &str = "local_testnet_fast";

/// One utility (Alice) running the only authority node.
pub fn development_config_genesis(pace: Pace) -> Value {
	demo_genesis(
		pace,
		vec![utility(Sr25519Keyring::Alice, Ed25519Keyring::Alice, LOCAL_NODE_PUBLIC_KEYS[0])],
		Sr25519Keyring::iter().map(|k| k.to_account_id()).collect(),
	)
}

/// Four utilities (Alice, Bob, Charlie, Dave), one authority node each.
pub fn local_config_genesis(pace: Pace) -> Value {
	demo_genesis(
		pace,
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
		sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(DEMO_PACE),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(DEMO_PACE),
		DEV_FAST_PRESET => development_config_genesis(TEST_PACE),
		LOCAL_FAST_PRESET => local_config_genesis(TEST_PACE),
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
		PresetId::from(DEV_FAST_PRESET),
		PresetId::from(LOCAL_FAST_PRESET),
	]
}
