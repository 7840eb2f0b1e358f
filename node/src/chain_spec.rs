//! The built-in chain specs, made from the runtime's genesis presets, and a new community's,
//! made from its utilities' own keys (`lem-node new-community`, see `docs/OPERATIONS.md`).

use crate::cli::NewCommunityCmd;
use lem_runtime::{
	genesis_config_presets::{
		new_community_genesis, peer_id_of, Community, NewCommunity, Tariffs, Utility,
		DEV_FAST_PRESET, LOCAL_FAST_PRESET,
	},
	AccountId, Balance, SessionKeys,
};
use sc_network::{config::MultiaddrWithPeerId, PeerId};
use sc_service::ChainType;
use sp_core::{crypto::Ss58Codec, ed25519, sr25519};
use sp_genesis_builder::{DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};
use sp_runtime::BuildStorage;
use std::{collections::BTreeSet, fmt, str::FromStr};

pub type ChainSpec = sc_service::GenericChainSpec;

fn wasm() -> Result<&'static [u8], String> {
	lem_runtime::WASM_BINARY.ok_or_else(|| "the runtime's Wasm was not built".to_string())
}

fn properties() -> sc_chain_spec::Properties {
	// The settlement asset of the demo community: euros with 6 decimals (1 unit = 1 µEUR).
	let mut p = sc_chain_spec::Properties::new();
	p.insert("tokenSymbol".into(), "EUR".into());
	p.insert("tokenDecimals".into(), 6.into());
	p.insert("ss58Format".into(), 42.into());
	p
}

/// One utility, one authority node: for development.
pub fn development_chain_spec() -> Result<ChainSpec, String> {
	preset_chain_spec("lem development", "lem_dev", ChainType::Development, DEV_RUNTIME_PRESET)
}

/// Four utilities, four authority nodes on one machine: one may fail and finality goes on.
pub fn local_chain_spec() -> Result<ChainSpec, String> {
	preset_chain_spec("lem local", "lem_local", ChainType::Local, LOCAL_TESTNET_RUNTIME_PRESET)
}

/// `dev` at the test pace: 2-second blocks, 10-second slots.
pub fn development_fast_chain_spec() -> Result<ChainSpec, String> {
	preset_chain_spec(
		"lem development, fast",
		"lem_dev_fast",
		ChainType::Development,
		DEV_FAST_PRESET,
	)
}

/// `local` at the test pace.
pub fn local_fast_chain_spec() -> Result<ChainSpec, String> {
	preset_chain_spec("lem local, fast", "lem_local_fast", ChainType::Local, LOCAL_FAST_PRESET)
}

fn preset_chain_spec(
	name: &str,
	id: &str,
	chain_type: ChainType,
	preset: &str,
) -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm()?, None)
		.with_name(name)
		.with_id(id)
		.with_chain_type(chain_type)
		.with_genesis_config_preset_name(preset)
		.with_properties(properties())
		.build())
}

/// One `--authority`: a utility's account, its node's session keys and its node's libp2p key.
#[derive(Clone, Debug)]
pub struct Authority {
	pub account: AccountId,
	pub aura: sr25519::Public,
	pub grandpa: ed25519::Public,
	pub peer_id: PeerId,
	pub node_public_key: [u8; 32],
}

/// One `--fund`: an account and what it starts with.
#[derive(Clone, Debug)]
pub struct Fund {
	pub account: AccountId,
	pub amount: Balance,
}

pub fn parse_account(s: &str) -> Result<AccountId, String> {
	AccountId::from_ss58check(s).map_err(|e| format!("{s:?} is not an SS58 address: {e}"))
}

pub fn parse_chain_id(s: &str) -> Result<String, String> {
	let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
	if s.is_empty() || !s.chars().all(allowed) {
		return Err(format!("{s:?} is not a chain id: letters, digits, `_` and `-` only"));
	}
	Ok(s.to_string())
}

pub fn parse_authority(s: &str) -> Result<Authority, String> {
	let fields: Vec<&str> = s.split(',').collect();
	let &[account, aura, grandpa, peer_id] = fields.as_slice() else {
		return Err(format!("{s:?} is not ACCOUNT,AURA,GRANDPA,PEER_ID"));
	};
	let (peer_id, node_public_key) = parse_node_peer_id(peer_id)?;
	Ok(Authority {
		account: parse_account(account)?,
		aura: sr25519::Public::from_ss58check(aura)
			.map_err(|e| format!("the Aura key {aura:?} is not an SS58 public key: {e}"))?,
		grandpa: ed25519::Public::from_ss58check(grandpa)
			.map_err(|e| format!("the GRANDPA key {grandpa:?} is not an SS58 public key: {e}"))?,
		peer_id,
		node_public_key,
	})
}

/// A peer id and the public key it names. The chain admits ed25519 node keys only
/// (`pallet-node-authorization` stores their identity multihash), so any other is refused.
fn parse_node_peer_id(s: &str) -> Result<(PeerId, [u8; 32]), String> {
	let peer_id = PeerId::from_str(s).map_err(|e| format!("{s:?} is not a peer id: {e}"))?;
	let bytes = peer_id.to_bytes();
	bytes
		.get(6..)
		.and_then(|key| <[u8; 32]>::try_from(key).ok())
		.filter(|key| peer_id_of(key) == bytes)
		.map(|key| (peer_id, key))
		.ok_or_else(|| format!("{s:?} is not the peer id of an ed25519 node key"))
}

pub fn parse_fund(s: &str) -> Result<Fund, String> {
	let (account, amount) =
		s.split_once('=').ok_or_else(|| format!("{s:?} is not ACCOUNT=AMOUNT"))?;
	let amount = amount
		.parse()
		.map_err(|_| format!("{amount:?} is not an amount in the asset's smallest unit"))?;
	Ok(Fund { account: parse_account(account)?, amount })
}

pub fn parse_tariffs(s: &str) -> Result<Tariffs, String> {
	let prices = s
		.split(',')
		.map(|p| p.parse::<u64>().map_err(|_| format!("{p:?} is not a price per kWh in µEUR")))
		.collect::<Result<Vec<_>, _>>()?;
	let &[retail_green_per_kwh, retail_grey_per_kwh, feed_in_per_kwh] = prices.as_slice() else {
		return Err(format!("{s:?} is not GREEN,GREY,FEED_IN"));
	};
	Ok(Tariffs { retail_green_per_kwh, retail_grey_per_kwh, feed_in_per_kwh })
}

pub fn parse_bootnode(s: &str) -> Result<MultiaddrWithPeerId, String> {
	s.parse().map_err(|e| format!("{s:?} is not a multiaddress ending in /p2p/PEER_ID: {e}"))
}

/// Why `new-community` refuses what it was given, after each flag parsed.
#[derive(Debug)]
pub enum NewCommunityError {
	NoAuthority,
	/// Two `--authority` flags share an account, a session key or a node key.
	DuplicateAuthority {
		what: &'static str,
		value: String,
	},
	DuplicateTechnician(String),
	/// One account named for two roles (the manager, the DSO, the supplier, a technician): the
	/// runtime keeps each account to one role, or a technician could trade on the meters it
	/// installs and the DSO on its own fees.
	RoleConflict {
		account: String,
		roles: (&'static str, &'static str),
	},
	/// An account funded twice: genesis would refuse it, and a sum would hide a typo.
	DuplicateFund(String),
	/// The supplier is funded below the deposit it must hold (and the existential deposit
	/// beside it): it secures the feed-in the supplier owes the households.
	SupplierDepositShort {
		funded: Balance,
		needed: Balance,
	},
	DuplicateBootnode(String),
	/// A bootnode whose peer id is no authority's node: the chain admits no other, so every
	/// node would be refused by it.
	BootnodeNotAnAuthority(String),
	/// The runtime refused the genesis (e.g. tariffs above what an ask holds, or a gate closure
	/// beyond the order horizon).
	InvalidGenesis(String),
	NoRuntime(String),
}

impl fmt::Display for NewCommunityError {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		match self {
			Self::NoAuthority => write!(f, "no authority: give one --authority per utility"),
			Self::DuplicateAuthority { what, value } => {
				write!(f, "duplicate authority: the {what} {value} is in two --authority flags")
			}
			Self::DuplicateTechnician(who) => write!(f, "duplicate technician: {who}"),
			Self::RoleConflict { account, roles: (a, b) } => {
				write!(
					f,
					"RoleConflict: {account} is both the {a} and a {b}; one account, one role"
				)
			}
			Self::DuplicateFund(who) => write!(f, "duplicate fund: {who} is funded twice"),
			Self::SupplierDepositShort { funded, needed } => write!(
				f,
				"SupplierDepositShort: the supplier is funded with {funded} µEUR but must hold a \
				 deposit and stay alive: fund it with at least {needed} (--fund), or lower \
				 --supplier-deposit"
			),
			Self::DuplicateBootnode(addr) => write!(f, "duplicate bootnode: {addr}"),
			Self::BootnodeNotAnAuthority(addr) => write!(
				f,
				"bootnode not an authority: the peer id of {addr} is no --authority's node, and \
				 the chain admits no other node"
			),
			Self::InvalidGenesis(e) => write!(f, "invalid genesis: {e}"),
			Self::NoRuntime(e) => write!(f, "no runtime: {e}"),
		}
	}
}

impl std::error::Error for NewCommunityError {}

/// A new community's chain spec: a live chain, its genesis built once here so that what the
/// runtime refuses is refused now rather than when the nodes start.
pub fn new_community_chain_spec(cmd: &NewCommunityCmd) -> Result<ChainSpec, NewCommunityError> {
	use NewCommunityError::*;
	let mut authorities = cmd.authorities.clone();
	if authorities.is_empty() {
		return Err(NoAuthority);
	}
	authorities.sort_by(|a, b| a.account.cmp(&b.account));
	let mut seen = BTreeSet::new();
	for a in &authorities {
		for (what, value) in [
			("account", a.account.to_ss58check()),
			("Aura key", a.aura.to_ss58check()),
			("GRANDPA key", a.grandpa.to_ss58check()),
			("peer id", a.peer_id.to_base58()),
		] {
			if !seen.insert((what, value.clone())) {
				return Err(DuplicateAuthority { what, value });
			}
		}
	}
	let mut technicians = cmd.technicians.clone();
	technicians.sort();
	if let Some(twice) = technicians.windows(2).find(|w| w[0] == w[1]) {
		return Err(DuplicateTechnician(twice[0].to_ss58check()));
	}
	let roles = [("manager", &cmd.manager), ("DSO", &cmd.dso), ("supplier", &cmd.supplier)];
	let mut holders = std::collections::BTreeMap::new();
	for (role, who) in roles.into_iter().chain(technicians.iter().map(|t| ("technician", t))) {
		if let Some(first) = holders.insert(who, role) {
			return Err(RoleConflict { account: who.to_ss58check(), roles: (first, role) });
		}
	}
	let mut funds: Vec<(AccountId, Balance)> =
		cmd.funds.iter().map(|f| (f.account.clone(), f.amount)).collect();
	funds.sort();
	if let Some(twice) = funds.windows(2).find(|w| w[0].0 == w[1].0) {
		return Err(DuplicateFund(twice[0].0.to_ss58check()));
	}
	let needed = cmd.supplier_deposit as Balance + lem_runtime::EXISTENTIAL_DEPOSIT;
	let funded = funds.iter().find(|(a, _)| *a == cmd.supplier).map_or(0, |(_, f)| *f);
	if funded < needed {
		return Err(SupplierDepositShort { funded, needed });
	}
	let mut bootnodes = cmd.bootnodes.clone();
	bootnodes.sort_by_key(|b| b.to_string());
	if let Some(twice) = bootnodes.windows(2).find(|w| w[0] == w[1]) {
		return Err(DuplicateBootnode(twice[0].to_string()));
	}
	let nodes: BTreeSet<String> = authorities.iter().map(|a| a.peer_id.to_base58()).collect();
	if let Some(stranger) = bootnodes.iter().find(|b| !nodes.contains(&b.peer_id.to_base58())) {
		return Err(BootnodeNotAnAuthority(stranger.to_string()));
	}

	let community = NewCommunity {
		utilities: authorities
			.iter()
			.map(|a| Utility {
				account: a.account.clone(),
				session_keys: SessionKeys { aura: a.aura.into(), grandpa: a.grandpa.into() },
				node_public_key: a.node_public_key,
			})
			.collect(),
		manager: cmd.manager.clone(),
		dso: cmd.dso.clone(),
		supplier: cmd.supplier.clone(),
		technicians,
		funds,
		community: Community {
			slot_seconds: cmd.slot_seconds,
			gate_closure_lead_seconds: cmd.gate_closure_lead_seconds,
			supplier_deposit: cmd.supplier_deposit,
			..Default::default()
		},
		readings_grace_seconds: cmd.readings_grace_seconds,
		tariffs: cmd.tariffs,
		session_length: cmd.session_blocks,
	};
	let spec = ChainSpec::builder(wasm().map_err(NoRuntime)?, None)
		.with_name(&cmd.name)
		.with_id(&cmd.id)
		.with_protocol_id(&cmd.id)
		.with_chain_type(ChainType::Live)
		.with_boot_nodes(bootnodes)
		.with_genesis_config_patch(new_community_genesis(&community))
		.with_properties(properties())
		.build();
	spec.build_storage().map_err(InvalidGenesis)?;
	Ok(spec)
}
