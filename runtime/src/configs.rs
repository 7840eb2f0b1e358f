//! How each pallet is configured in the lem runtime.

use crate::*;
use frame_support::{
	derive_impl,
	dispatch::DispatchClass,
	parameter_types,
	traits::{
		fungible::{Balanced, Credit},
		ConstBool, ConstU128, ConstU16, ConstU32, ConstU64, ConstU8, Contains, Get, OnUnbalanced,
		VariantCountOf,
	},
	weights::{
		constants::{RocksDbWeight, WEIGHT_REF_TIME_PER_SECOND},
		IdentityFee, Weight,
	},
};
use frame_system::limits::{BlockLength, BlockWeights};
use pallet_transaction_payment::{ConstFeeMultiplier, FungibleAdapter, Multiplier};
use sp_runtime::{
	traits::{ConvertInto, One, OpaqueKeys},
	Perbill,
};

/// Normal transactions (orders, readings) may fill half a block, so that with the quarter kept
/// for per-block work (`pallet_market::TICK_SHARE`: paged clearing and settlement) no block is
/// over three quarters of its weight; the last quarter is kept for operational transactions.
const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(50);

/// The chain's block time in milliseconds, a genesis parameter (`pallet_authority_set`): every
/// limit that depends on it is read from it, so one runtime serves 6-second production chains
/// and 1- or 2-second test chains alike.
fn block_time_ms() -> u64 {
	pallet_authority_set::BlockTimeMs::<Runtime>::get()
}

/// A third of the block time in compute: two seconds in a six-second block, so that a block is
/// built, sent and imported well within its slot.
pub struct RuntimeBlockWeights;
impl Get<BlockWeights> for RuntimeBlockWeights {
	fn get() -> BlockWeights {
		let compute = WEIGHT_REF_TIME_PER_SECOND.saturating_mul(block_time_ms()) / 3_000;
		BlockWeights::with_sensible_defaults(
			Weight::from_parts(compute, u64::MAX),
			NORMAL_DISPATCH_RATIO,
		)
	}
}

/// Half the block time: Aura's slot is twice the timestamp's minimum period.
pub struct MinimumPeriod;
impl Get<u64> for MinimumPeriod {
	fn get() -> u64 {
		block_time_ms() / 2
	}
}

/// Three days of blocks, for a council motion to be decided.
pub struct ThreeDays;
impl Get<BlockNumber> for ThreeDays {
	fn get() -> BlockNumber {
		(3 * 24 * 3_600 * 1_000 / block_time_ms()) as BlockNumber
	}
}

parameter_types! {
	pub const Version: RuntimeVersion = VERSION;
	/// 5 MiB, of which normal transactions may fill half: the rest is kept for operational ones.
	pub RuntimeBlockLength: BlockLength = BlockLength::builder()
		.max_length(5 * 1024 * 1024)
		.modify_max_length_for_class(DispatchClass::Normal, |m| *m = NORMAL_DISPATCH_RATIO * *m)
		.build();
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = ConstU32<2400>;
	// ParityDB is the node's database; its per-access cost is close to RocksDB's, which is the
	// weight FRAME ships measured figures for.
	type DbWeight = RocksDbWeight;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = ConstU16<42>;
	type MaxConsumers = ConstU32<16>;
	type PostInherents = MarketTick;
	type BaseCallFilter = AdmittedCalls;
}

/// Most peers a node's owner may admit beside the well-known nodes: a utility's RPC and archive
/// nodes, not a crowd.
pub const MAX_NODE_CONNECTIONS: usize = 16;

/// Every call passes but those of `pallet-node-authorization` that would let an account other
/// than the council decide who the utilities' nodes talk to. Claiming a peer id and
/// transferring a node would let any account take a peer id the council is about to admit
/// (`add_well_known_node` keeps a claimer's connections) and name who the new authority dials;
/// so only the council admits nodes and names their owners, and an owner only adds
/// connections to its own well-known node, at most [`MAX_NODE_CONNECTIONS`] of them, each a
/// peer id of bounded length.
pub struct AdmittedCalls;
impl Contains<RuntimeCall> for AdmittedCalls {
	fn contains(call: &RuntimeCall) -> bool {
		use pallet_node_authorization::{AdditionalConnections, Call, WellKnownNodes};
		let RuntimeCall::NodeAuthorization(call) = call else { return true };
		match call {
			Call::add_well_known_node { .. }
			| Call::remove_well_known_node { .. }
			| Call::swap_well_known_node { .. }
			| Call::reset_well_known_nodes { .. }
			| Call::remove_connections { .. } => true,
			Call::add_connections { node, connections } => {
				let max_len: u32 =
					<Runtime as pallet_node_authorization::Config>::MaxPeerIdLength::get();
				if connections.iter().any(|peer| peer.0.len() >= max_len as usize)
					|| !WellKnownNodes::<Runtime>::get().contains(node)
				{
					return false;
				}
				let mut admitted = AdditionalConnections::<Runtime>::get(node);
				admitted.extend(connections.iter().filter(|peer| *peer != node).cloned());
				admitted.len() <= MAX_NODE_CONNECTIONS
			}
			_ => false,
		}
	}
}

/// The market's per-block work, before the block's transactions: slots due for clearing are
/// cleared, then slots due for settlement are settled, each a page at a time, settlement in
/// what clearing left of the block's share. The share is counted apart from the inherents'
/// weight, which a session's rotation sets to the whole block.
pub struct MarketTick;

impl MarketTick {
	/// Does the block's work within the share; returns what clearing and settlement used.
	pub fn run() -> (Weight, Weight) {
		let share = Market::tick_share();
		let cleared = Market::clear_due_slots(share);
		(cleared, Settlement::settle_due_slots(share.saturating_sub(cleared)))
	}
}

impl frame_support::traits::PostInherents for MarketTick {
	fn post_inherents() {
		let (cleared, settled) = Self::run();
		System::register_extra_weight_unchecked(
			cleared.saturating_add(settled),
			DispatchClass::Mandatory,
		);
	}
}

impl pallet_timestamp::Config for Runtime {
	type Moment = u64;
	type OnTimestampSet = Aura;
	type MinimumPeriod = MinimumPeriod;
	type WeightInfo = ();
}

impl pallet_balances::Config for Runtime {
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ();
	type ReserveIdentifier = [u8; 8];
	type Balance = Balance;
	type RuntimeEvent = RuntimeEvent;
	type DustRemoval = ();
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type DoneSlashHandler = ();
}

/// One unit of the settlement asset (1 µEUR in the demo community) per microsecond of block
/// time, so that a household's order costs a fraction of a cent.
pub struct WeightToFee;
impl frame_support::weights::WeightToFee for WeightToFee {
	type Balance = Balance;
	fn weight_to_fee(weight: &Weight) -> Balance {
		Balance::from(weight.ref_time() / 1_000_000)
	}
}

parameter_types! {
	pub FeeMultiplier: Multiplier = Multiplier::one();
}

/// Transaction fees go to the community account instead of being burned: the settlement
/// asset is the community's money (euros), and burning it would destroy it.
pub struct FeesToCommunity;
impl OnUnbalanced<Credit<AccountId, Balances>> for FeesToCommunity {
	fn on_nonzero_unbalanced(fees: Credit<AccountId, Balances>) {
		// The community account exists from genesis, so this cannot fail for being below the
		// existential deposit.
		let _ = <Balances as Balanced<AccountId>>::resolve(&CommunityAccount::get(), fees);
	}
}

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type OnChargeTransaction = FungibleAdapter<Balances, FeesToCommunity>;
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightToFee = WeightToFee;
	type LengthToFee = IdentityFee<Balance>;
	type FeeMultiplierUpdate = ConstFeeMultiplier<FeeMultiplier>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

impl pallet_utility::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type PalletsOrigin = OriginCaller;
	type WeightInfo = pallet_utility::weights::SubstrateWeight<Runtime>;
}

/// The utilities' council.
pub type CouncilCollective = pallet_collective::Instance1;

/// A decision of more than half of the council: three of four utilities on the `local` chain.
/// GRANDPA itself tolerates one faulty authority in four; the council tolerates one absent.
pub type CouncilOrigin =
	pallet_collective::EnsureProportionMoreThan<AccountId, CouncilCollective, 1, 2>;
/// Changing who sits on the council, who authors and finalizes blocks (the authority set, and
/// removing an admitted node), and a runtime upgrade need two thirds of it: with the authority
/// set, a bare majority could seat nodes of its own, remove honest ones and finalize any state
/// every light client accepts, as much power as new code.
pub type CouncilSupermajority =
	pallet_collective::EnsureProportionAtLeast<AccountId, CouncilCollective, 2, 3>;

parameter_types! {
	/// A proposal is executed by `close`, a normal transaction: it has to fit the normal class's
	/// largest transaction with room for `close`'s own weight.
	pub MaxCouncilProposalWeight: Weight = Perbill::from_percent(25) * RuntimeBlockWeights::get().max_block;
}

impl pallet_collective::Config<CouncilCollective> for Runtime {
	type RuntimeOrigin = RuntimeOrigin;
	type Proposal = RuntimeCall;
	type RuntimeEvent = RuntimeEvent;
	type MotionDuration = ThreeDays;
	type MaxProposals = ConstU32<100>;
	type MaxMembers = ConstU32<32>;
	type DefaultVote = pallet_collective::PrimeDefaultVote;
	type WeightInfo = pallet_collective::weights::SubstrateWeight<Runtime>;
	type SetMembersOrigin = CouncilSupermajority;
	type MaxProposalWeight = MaxCouncilProposalWeight;
	type DisapproveOrigin = CouncilSupermajority;
	type KillOrigin = CouncilSupermajority;
	type Consideration = ();
}

/// Most authority nodes a community runs; Aura and GRANDPA share the bound.
pub const MAX_AUTHORITIES: u32 = 32;
/// Blocks per session in the `dev` and `local` presets: half a minute of 6-second blocks, so
/// that a council's change of the authority set is in force within a minute.
pub const SESSION_LENGTH_DEV: BlockNumber = 5;

impl pallet_authority_set::Config for Runtime {
	type CouncilOrigin = CouncilSupermajority;
	type UpgradeOrigin = CouncilSupermajority;
	type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
	type WeightInfo = crate::weights::pallet_authority_set::WeightInfo<Runtime>;
}

type SessionPeriod = pallet_authority_set::SessionPeriod<Runtime>;

impl pallet_session::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = AccountId;
	type ValidatorIdOf = ConvertInto;
	type ShouldEndSession = pallet_session::PeriodicSessions<SessionPeriod, ConstU32<0>>;
	type NextSessionRotation = pallet_session::PeriodicSessions<SessionPeriod, ConstU32<0>>;
	type SessionManager = AuthoritySet;
	type SessionHandler = <SessionKeys as OpaqueKeys>::KeyTypeIdProviders;
	type Keys = SessionKeys;
	// Authorities are named by the council, not bonded: misbehaviour is dealt with by the
	// council removing the node, so no validator is disabled automatically.
	type DisablingStrategy = ();
	type WeightInfo = pallet_session::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type KeyDeposit = ConstU128<0>;
}

impl pallet_aura::Config for Runtime {
	type AuthorityId = sp_consensus_aura::sr25519::AuthorityId;
	type DisabledValidators = ();
	type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
	type AllowMultipleBlocksPerSlot = ConstBool<false>;
	type SlotDuration = pallet_aura::MinimumPeriodTimesTwo<Runtime>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
	type MaxNominators = ConstU32<0>;
	type MaxSetIdSessionEntries = ConstU64<0>;
	// Equivocations are not slashed (nothing is bonded); the council removes the node instead.
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}

impl pallet_node_authorization::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type MaxWellKnownNodes = ConstU32<64>;
	// A libp2p peer id of an ed25519 node key is 38 bytes.
	type MaxPeerIdLength = ConstU32<128>;
	// Admitting a node lets it sync; taking one away can cut a utility's authority off the
	// network, which weighs like removing it from the authority set.
	type AddOrigin = CouncilOrigin;
	type RemoveOrigin = CouncilSupermajority;
	type SwapOrigin = CouncilSupermajority;
	type ResetOrigin = CouncilSupermajority;
	type WeightInfo = ();
}

impl pallet_market::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type CouncilOrigin = CouncilOrigin;
	type Time = Timestamp;
	type WeightInfo = crate::weights::pallet_market::WeightInfo<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MarketBenchmarkHelper;
}

#[cfg(feature = "runtime-benchmarks")]
pub struct MarketBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl pallet_market::BenchmarkHelper for MarketBenchmarkHelper {
	fn set_time(unix_seconds: u64) {
		pallet_timestamp::Now::<Runtime>::put(unix_seconds * 1000);
	}
}

impl pallet_metering::Config for Runtime {
	// Above every signed transaction: a reading left out until its window closes is lost.
	type UnsignedPriority =
		ConstU64<{ sp_runtime::transaction_validity::TransactionPriority::MAX / 2 }>;
	type WeightInfo = crate::weights::pallet_metering::WeightInfo<Runtime>;
}

parameter_types! {
	pub CommunityAccount: AccountId =
		sp_runtime::traits::AccountIdConversion::into_account_truncating(
			&frame_support::PalletId(*b"lem/cmty"),
		);
}

impl pallet_settlement::Config for Runtime {
	type CommunityAccount = CommunityAccount;
	type WeightInfo = crate::weights::pallet_settlement::WeightInfo<Runtime>;
}
