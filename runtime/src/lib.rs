//! The runtime of a lem chain: one energy community, its utilities' authority nodes and council.
//!
//! Block production is Aura (6 s slots), finality GRANDPA. The authority set lives in
//! `pallet-authority-set` and reaches Aura and GRANDPA through the session pallet; only the
//! utilities' council (`pallet-collective`) may change it, admit peers (`pallet-node-authorization`)
//! or authorise a runtime upgrade. There is no sudo pallet.

#![cfg_attr(not(feature = "std"), no_std)]
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

/// This runtime built with `next-spec-version`, for the upgrade tests (`build.rs`).
#[cfg(feature = "std")]
pub mod next_spec_version {
	include!(concat!(env!("OUT_DIR"), "/next_spec_version_wasm_binary.rs"));
}

extern crate alloc;

pub mod apis;
mod configs;
pub mod genesis_config_presets;
pub mod weights;

use alloc::vec::Vec;
use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::{runtime_version, RuntimeVersion};

pub use configs::{CommunityAccount, MarketTick, MAX_NODE_CONNECTIONS, SESSION_LENGTH_DEV};
pub use frame_system::Call as SystemCall;
pub use pallet_balances::Call as BalancesCall;

pub type BlockNumber = u32;
pub type Signature = MultiSignature;
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Amounts of the community's settlement asset, in its smallest unit (1 µEUR in the demo).
pub type Balance = u128;
pub type Nonce = u32;
pub type Hash = sp_core::H256;

/// One unit of the settlement asset: 6 decimals.
pub const UNIT: Balance = 1_000_000;
/// The smallest balance an account may hold: one thousandth of a unit.
pub const EXISTENTIAL_DEPOSIT: Balance = UNIT / 1_000;

/// Types the node needs without knowing the runtime's extrinsic format.
pub mod opaque {
	use super::*;
	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;

	impl_opaque_keys! {
		/// The keys an authority node signs with: Aura for blocks, GRANDPA for finality votes.
		pub struct SessionKeys {
			pub aura: Aura,
			pub grandpa: Grandpa,
		}
	}
}
pub use opaque::SessionKeys;

#[cfg(not(feature = "next-spec-version"))]
#[runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("lem"),
	impl_name: alloc::borrow::Cow::Borrowed("lem"),
	authoring_version: 1,
	spec_version: 100,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 1,
	system_version: 1,
};

/// The same runtime one `spec_version` ahead: the code the fault tests upgrade a running
/// network to through the council ([`next_spec_version::WASM_BINARY`]). `runtime_version`
/// takes literals only, hence a second declaration rather than an expression.
#[cfg(feature = "next-spec-version")]
#[runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("lem"),
	impl_name: alloc::borrow::Cow::Borrowed("lem"),
	authoring_version: 1,
	spec_version: 101,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 1,
	system_version: 1,
};

// The block time is a chain parameter (`pallet_authority_set::BlockTimeMs`), read by
// `configs.rs`: Aura's slot is twice the timestamp's minimum period, half of it.

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;
	#[runtime::pallet_index(2)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(3)]
	pub type TransactionPayment = pallet_transaction_payment;
	#[runtime::pallet_index(4)]
	pub type Utility = pallet_utility;

	// Governance and consensus. `AuthoritySet` comes before `Session` because the session
	// pallet asks it for the genesis validators while building its own genesis.
	#[runtime::pallet_index(10)]
	pub type Council = pallet_collective<Instance1>;
	#[runtime::pallet_index(11)]
	pub type AuthoritySet = pallet_authority_set;
	#[runtime::pallet_index(12)]
	pub type Session = pallet_session;
	#[runtime::pallet_index(13)]
	pub type Aura = pallet_aura;
	#[runtime::pallet_index(14)]
	pub type Grandpa = pallet_grandpa;
	#[runtime::pallet_index(15)]
	pub type NodeAuthorization = pallet_node_authorization;

	// The energy market.
	#[runtime::pallet_index(20)]
	pub type Market = pallet_market;
	#[runtime::pallet_index(21)]
	pub type Metering = pallet_metering;
	#[runtime::pallet_index(22)]
	pub type Settlement = pallet_settlement;
}

pub type Address = MultiAddress<AccountId, ()>;
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
pub type Block = generic::Block<Header, UncheckedExtrinsic>;

/// Checks every signed transaction passes before dispatch, in this order.
pub type TxExtension = (
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	frame_metadata_hash_extension::CheckMetadataHash<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
>;

#[cfg(feature = "runtime-benchmarks")]
mod benches {
	frame_benchmarking::define_benchmarks!(
		[frame_benchmarking, BaselineBench::<Runtime>]
		[frame_system, SystemBench::<Runtime>]
		[pallet_balances, Balances]
		[pallet_timestamp, Timestamp]
		[pallet_collective, Council]
		[pallet_utility, Utility]
		[pallet_authority_set, AuthoritySet]
		[pallet_market, Market]
		[pallet_metering, Metering]
		[pallet_settlement, Settlement]
	);
}
