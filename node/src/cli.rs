use crate::chain_spec::{self, Authority, Fund};
use lem_runtime::{genesis_config_presets::Tariffs, AccountId, BlockNumber};
use sc_network::config::MultiaddrWithPeerId;

#[derive(Debug, clap::Parser)]
pub struct Cli {
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	#[clap(flatten)]
	pub run: sc_cli::RunCmd,
}

#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management: generate, inspect, insert keys; print a node key's peer id.
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Build a chain specification (prefer `export-chain-spec`).
	#[deprecated(note = "use export-chain-spec")]
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Export the chain specification of `--chain` as JSON.
	ExportChainSpec(sc_cli::ExportChainSpecCmd),

	/// Print the chain specification of a new community, made from its utilities' own keys.
	NewCommunity(NewCommunityCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a given block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Run FRAME benchmarks (build with `--features runtime-benchmarks`).
	#[cfg(feature = "runtime-benchmarks")]
	#[command(subcommand)]
	Benchmark(frame_benchmarking_cli::BenchmarkCmd),

	/// Database metadata.
	ChainInfo(sc_cli::ChainInfoCmd),
}

/// `lem-node new-community`: a new community's chain spec, printed as JSON; `export-chain-spec
/// --raw` of it is what the nodes start from. The order of repeated flags does not matter: the
/// spec lists them sorted, so every utility makes the same spec from the same values and can
/// check the others'. A value it refuses is named on stderr, and nothing is printed.
#[derive(Debug, clap::Args)]
pub struct NewCommunityCmd {
	/// The community's name, as wallets and the app show it.
	#[arg(long)]
	pub name: String,

	/// The chain's id: letters, digits, `_` and `-`. Names the chain's directory under a node's
	/// base path and its network protocol.
	#[arg(long, value_parser = chain_spec::parse_chain_id)]
	pub id: String,

	/// A utility and its authority node: its account, its node's Aura (sr25519) and GRANDPA
	/// (ed25519) keys in SS58, and the peer id of its node's ed25519 node key, as
	/// `lem-node key inspect-node-key` prints it. Once per utility; each sits on the council.
	#[arg(
		long = "authority",
		value_name = "ACCOUNT,AURA,GRANDPA,PEER_ID",
		required = true,
		value_parser = chain_spec::parse_authority
	)]
	pub authorities: Vec<Authority>,

	/// The community manager's account (SS58): admits participants, appoints technicians.
	#[arg(long, value_parser = chain_spec::parse_account)]
	pub manager: AccountId,

	/// The DSO's account (SS58): keeps the grid, which starts as the substation alone.
	#[arg(long, value_parser = chain_spec::parse_account)]
	pub dso: AccountId,

	/// The residual supplier's account (SS58): sets the tariffs.
	#[arg(long, value_parser = chain_spec::parse_account)]
	pub supplier: AccountId,

	/// A technician's account (SS58), who installs gateway keys. Repeatable.
	#[arg(long = "technician", value_name = "ACCOUNT", value_parser = chain_spec::parse_account)]
	pub technicians: Vec<AccountId>,

	/// An account and what it starts with, in the settlement asset's smallest unit (µEUR).
	/// Fees are paid in that asset: fund every utility and role that must transact. Repeatable.
	#[arg(long = "fund", value_name = "ACCOUNT=AMOUNT", value_parser = chain_spec::parse_fund)]
	pub funds: Vec<Fund>,

	/// Length of a market slot.
	#[arg(long, value_name = "SECONDS", default_value_t = 900)]
	pub slot_seconds: u64,

	/// How long before a slot starts its gate closes.
	#[arg(long, value_name = "SECONDS", default_value_t = 300)]
	pub gate_closure_lead_seconds: u64,

	/// How long after a slot ends its readings are taken.
	#[arg(long, value_name = "SECONDS", default_value_t = 900)]
	pub readings_grace_seconds: u64,

	/// What the supplier holds as its deposit, in µEUR: it secures the feed-in and corrections
	/// the supplier owes the households. The default is about a day's feed-in of 500 homes.
	#[arg(long, value_name = "AMOUNT", default_value_t = 500_000_000)]
	pub supplier_deposit: u64,

	/// The supplier's tariffs per kWh in µEUR: green supply, grey supply, feed-in.
	#[arg(long, value_name = "GREEN,GREY,FEED_IN", value_parser = chain_spec::parse_tariffs)]
	pub tariffs: Tariffs,

	/// Blocks per session: a change of the authority set is in force two rotations after the
	/// council's decision. The default is an hour of 6 s blocks.
	#[arg(long, value_name = "BLOCKS", default_value_t = 600)]
	pub session_blocks: BlockNumber,

	/// A node's address a new node first dials: `/dns/HOST/tcp/PORT/p2p/PEER_ID`, of one of the
	/// authorities' nodes (no other is admitted). Repeatable.
	#[arg(long = "bootnode", value_name = "MULTIADDR", value_parser = chain_spec::parse_bootnode)]
	pub bootnodes: Vec<MultiaddrWithPeerId>,
}
