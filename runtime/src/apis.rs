//! The runtime APIs the node, wallets (polkadot.js, polkadot-api, subxt) and gateways call.

use crate::*;
use frame_support::{
	genesis_builder_helper::{build_state, get_preset},
	weights::Weight,
};
use sp_api::impl_runtime_apis;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_core::{crypto::KeyTypeId, OpaqueMetadata};
use sp_runtime::{
	traits::{Block as BlockT, NumberFor},
	transaction_validity::{TransactionSource, TransactionValidity},
	ApplyExtrinsicResult, ExtrinsicInclusionMode,
};
use sp_session::OpaqueGeneratedSessionKeys;

impl_runtime_apis! {
	impl sp_api::Core<Block> for Runtime {
		fn version() -> RuntimeVersion {
			VERSION
		}

		fn execute_block(block: <Block as BlockT>::LazyBlock) {
			Executive::execute_block(block);
		}

		fn initialize_block(header: &<Block as BlockT>::Header) -> ExtrinsicInclusionMode {
			Executive::initialize_block(header)
		}
	}

	impl sp_api::Metadata<Block> for Runtime {
		fn metadata() -> OpaqueMetadata {
			OpaqueMetadata::new(Runtime::metadata().into())
		}

		fn metadata_at_version(version: u32) -> Option<OpaqueMetadata> {
			Runtime::metadata_at_version(version)
		}

		fn metadata_versions() -> Vec<u32> {
			Runtime::metadata_versions()
		}
	}

	impl frame_support::view_functions::runtime_api::RuntimeViewFunction<Block> for Runtime {
		fn execute_view_function(
			id: frame_support::view_functions::ViewFunctionId,
			input: Vec<u8>,
		) -> Result<Vec<u8>, frame_support::view_functions::ViewFunctionDispatchError> {
			Runtime::execute_view_function(id, input)
		}
	}

	impl sp_block_builder::BlockBuilder<Block> for Runtime {
		fn apply_extrinsic(extrinsic: <Block as BlockT>::Extrinsic) -> ApplyExtrinsicResult {
			Executive::apply_extrinsic(extrinsic)
		}

		fn finalize_block() -> <Block as BlockT>::Header {
			Executive::finalize_block()
		}

		fn inherent_extrinsics(
			data: sp_inherents::InherentData,
		) -> Vec<<Block as BlockT>::Extrinsic> {
			data.create_extrinsics()
		}

		fn check_inherents(
			block: <Block as BlockT>::LazyBlock,
			data: sp_inherents::InherentData,
		) -> sp_inherents::CheckInherentsResult {
			data.check_extrinsics(&block)
		}
	}

	impl sp_transaction_pool::runtime_api::TaggedTransactionQueue<Block> for Runtime {
		fn validate_transaction(
			source: TransactionSource,
			tx: <Block as BlockT>::Extrinsic,
			block_hash: <Block as BlockT>::Hash,
		) -> TransactionValidity {
			Executive::validate_transaction(source, tx, block_hash)
		}
	}

	impl sp_offchain::OffchainWorkerApi<Block> for Runtime {
		fn offchain_worker(header: &<Block as BlockT>::Header) {
			Executive::offchain_worker(header)
		}
	}

	impl sp_consensus_aura::AuraApi<Block, AuraId> for Runtime {
		fn slot_duration() -> sp_consensus_aura::SlotDuration {
			sp_consensus_aura::SlotDuration::from_millis(Aura::slot_duration())
		}

		fn authorities() -> Vec<AuraId> {
			pallet_aura::Authorities::<Runtime>::get().into_inner()
		}
	}

	impl sp_session::SessionKeys<Block> for Runtime {
		fn generate_session_keys(owner: Vec<u8>, seed: Option<Vec<u8>>) -> OpaqueGeneratedSessionKeys {
			SessionKeys::generate(&owner, seed).into()
		}

		fn decode_session_keys(encoded: Vec<u8>) -> Option<Vec<(Vec<u8>, KeyTypeId)>> {
			SessionKeys::decode_into_raw_public_keys(&encoded)
		}
	}

	impl sp_consensus_grandpa::GrandpaApi<Block> for Runtime {
		fn grandpa_authorities() -> sp_consensus_grandpa::AuthorityList {
			Grandpa::grandpa_authorities()
		}

		fn current_set_id() -> sp_consensus_grandpa::SetId {
			Grandpa::current_set_id()
		}

		fn submit_report_equivocation_unsigned_extrinsic(
			_equivocation_proof: sp_consensus_grandpa::EquivocationProof<
				<Block as BlockT>::Hash,
				NumberFor<Block>,
			>,
			_key_owner_proof: sp_consensus_grandpa::OpaqueKeyOwnershipProof,
		) -> Option<()> {
			None
		}

		fn generate_key_ownership_proof(
			_set_id: sp_consensus_grandpa::SetId,
			_authority_id: GrandpaId,
		) -> Option<sp_consensus_grandpa::OpaqueKeyOwnershipProof> {
			// `KeyOwnerProof` is `Void`: equivocations are handled by the council, not by proofs.
			None
		}
	}

	impl frame_system_rpc_runtime_api::AccountNonceApi<Block, AccountId, Nonce> for Runtime {
		fn account_nonce(account: AccountId) -> Nonce {
			System::account_nonce(account)
		}
	}

	impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentApi<Block, Balance> for Runtime {
		fn query_info(
			uxt: <Block as BlockT>::Extrinsic,
			len: u32,
		) -> pallet_transaction_payment_rpc_runtime_api::RuntimeDispatchInfo<Balance> {
			TransactionPayment::query_info(uxt, len)
		}
		fn query_fee_details(
			uxt: <Block as BlockT>::Extrinsic,
			len: u32,
		) -> pallet_transaction_payment::FeeDetails<Balance> {
			TransactionPayment::query_fee_details(uxt, len)
		}
		fn query_weight_to_fee(weight: Weight) -> Balance {
			TransactionPayment::weight_to_fee(weight)
		}
		fn query_length_to_fee(length: u32) -> Balance {
			TransactionPayment::length_to_fee(length)
		}
	}

	impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentCallApi<Block, Balance, RuntimeCall>
		for Runtime
	{
		fn query_call_info(
			call: RuntimeCall,
			len: u32,
		) -> pallet_transaction_payment::RuntimeDispatchInfo<Balance> {
			TransactionPayment::query_call_info(call, len)
		}
		fn query_call_fee_details(
			call: RuntimeCall,
			len: u32,
		) -> pallet_transaction_payment::FeeDetails<Balance> {
			TransactionPayment::query_call_fee_details(call, len)
		}
		fn query_weight_to_fee(weight: Weight) -> Balance {
			TransactionPayment::weight_to_fee(weight)
		}
		fn query_length_to_fee(length: u32) -> Balance {
			TransactionPayment::length_to_fee(length)
		}
	}

	impl pallet_market::runtime_api::MarketApi<Block, AccountId, Balance> for Runtime {
		fn community() -> pallet_market::Community {
			pallet_market::CommunityParams::<Runtime>::get()
		}
		fn clock() -> pallet_market::runtime_api::SlotClock {
			Market::clock()
		}
		fn grid() -> pallet_market::Grid {
			pallet_market::GridInForce::<Runtime>::get()
		}
		fn role(role: pallet_market::Role) -> Option<AccountId> {
			pallet_market::Roles::<Runtime>::get(role)
		}
		fn participant(who: AccountId) -> Option<pallet_market::runtime_api::ParticipantInfo<Balance>> {
			Market::participant(&who)
		}
		fn order_book(slot: pallet_market::Slot) -> Vec<(pallet_market::OrderId, pallet_market::Order<AccountId, Balance>)> {
			Market::order_book(slot)
		}
		fn cleared_slot(slot: pallet_market::Slot) -> Option<pallet_market::ClearedSlot> {
			pallet_market::ClearedSlots::<Runtime>::get(slot)
		}
		fn fills(
			slot: pallet_market::Slot,
			after: Option<pallet_market::OrderId>,
		) -> Vec<pallet_market::Fill> {
			Market::fills(slot, after)
		}
		fn orders_of(
			who: AccountId,
			from: pallet_market::Slot,
			to: pallet_market::Slot,
		) -> Vec<(pallet_market::OrderId, pallet_market::Order<AccountId, Balance>, Option<pallet_market::Fill>)> {
			Market::orders_of(&who, from, to)
		}
	}

	impl pallet_metering::runtime_api::MeteringApi<Block> for Runtime {
		fn gateway_key(metering_point: pallet_market::MeteringPointId) -> Option<sp_core::ed25519::Public> {
			pallet_metering::GatewayKeys::<Runtime>::get(metering_point)
		}
		fn proposed_key(metering_point: pallet_market::MeteringPointId) -> Option<sp_core::ed25519::Public> {
			pallet_metering::ProposedKeys::<Runtime>::get(metering_point)
		}
		fn reading(
			metering_point: pallet_market::MeteringPointId,
			slot: pallet_market::Slot,
		) -> Option<pallet_metering::Metered> {
			pallet_metering::Readings::<Runtime>::get(slot, metering_point).map(|r| r.metered)
		}
		fn last_registers(metering_point: pallet_market::MeteringPointId) -> Option<pallet_metering::Registers> {
			pallet_metering::LastRegisters::<Runtime>::get(metering_point)
		}
		fn readings_window(slot: pallet_market::Slot) -> (u64, u64) {
			Metering::readings_window(slot)
		}
	}

	impl pallet_settlement::runtime_api::SettlementApi<Block, AccountId> for Runtime {
		fn tariffs() -> pallet_settlement::TariffSchedule {
			pallet_settlement::TariffsInForce::<Runtime>::get()
		}
		fn retail_choice(who: AccountId) -> pallet_settlement::RetailChoice {
			pallet_settlement::RetailChoices::<Runtime>::get(who).current
		}
		fn next_to_settle() -> Option<pallet_market::Slot> {
			pallet_settlement::SettlementCursor::<Runtime>::get()
		}
		fn settled_slot(slot: pallet_market::Slot) -> Option<pallet_settlement::SettledSlot> {
			pallet_settlement::SettledSlots::<Runtime>::get(slot)
		}
		fn ex_post_fills(
			slot: pallet_market::Slot,
			after: Option<pallet_market::MeteringPointId>,
		) -> Vec<pallet_market::Fill> {
			Settlement::ex_post_fills(slot, after)
		}
		fn settlements(
			from: pallet_market::Slot,
			to: pallet_market::Slot,
			who: Option<AccountId>,
			after: Option<AccountId>,
		) -> pallet_settlement::SettlementsPage<AccountId> {
			Settlement::settlements(from, to, who, after)
		}
	}

	#[cfg(feature = "runtime-benchmarks")]
	impl frame_benchmarking::Benchmark<Block> for Runtime {
		fn benchmark_metadata(extra: bool) -> (
			Vec<frame_benchmarking::BenchmarkList>,
			Vec<frame_support::traits::StorageInfo>,
		) {
			use frame_benchmarking::{baseline, BenchmarkList};
			use frame_support::traits::StorageInfoTrait;
			use frame_system_benchmarking::Pallet as SystemBench;
			use baseline::Pallet as BaselineBench;
			use super::benches::*;

			let mut list = Vec::<BenchmarkList>::new();
			list_benchmarks!(list, extra);

			let storage_info = AllPalletsWithSystem::storage_info();
			(list, storage_info)
		}

		#[allow(non_local_definitions)]
		fn dispatch_benchmark(
			config: frame_benchmarking::BenchmarkConfig
		) -> Result<Vec<frame_benchmarking::BenchmarkBatch>, alloc::string::String> {
			use frame_benchmarking::{baseline, BenchmarkBatch};
			use frame_support::traits::WhitelistedStorageKeys;
			use frame_system_benchmarking::Pallet as SystemBench;
			use baseline::Pallet as BaselineBench;
			use super::benches::*;

			impl frame_system_benchmarking::Config for Runtime {}
			impl baseline::Config for Runtime {}

			let whitelist = AllPalletsWithSystem::whitelisted_storage_keys();
			let mut batches = Vec::<BenchmarkBatch>::new();
			let params = (&config, &whitelist);
			add_benchmarks!(params, batches);
			Ok(batches)
		}
	}

	impl sp_genesis_builder::GenesisBuilder<Block> for Runtime {
		fn build_state(config: Vec<u8>) -> sp_genesis_builder::Result {
			build_state::<RuntimeGenesisConfig>(config)
		}

		fn get_preset(id: &Option<sp_genesis_builder::PresetId>) -> Option<Vec<u8>> {
			get_preset::<RuntimeGenesisConfig>(id, crate::genesis_config_presets::get_preset)
		}

		fn preset_names() -> Vec<sp_genesis_builder::PresetId> {
			crate::genesis_config_presets::preset_names()
		}
	}
}
