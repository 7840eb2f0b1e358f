//! The node's JSON-RPC: Substrate's standard methods plus account nonces and fee queries, so
//! polkadot.js Apps, polkadot-api, subxt and py-substrate-interface work unchanged.
//!
//! A gateway or an auditor trusts no node, so the node also serves what they need to check
//! finality themselves: the GRANDPA methods (`grandpa_subscribeJustifications`,
//! `grandpa_proveFinality`, `grandpa_roundState`) and `lem_grandpaWarpProof`, the chain of
//! authority-set handoffs from a finalized block to the latest justification — the proof a
//! warp-syncing node gets over p2p, which a client outside the network cannot ask for there.

use std::sync::Arc;

use jsonrpsee::{types::ErrorObjectOwned, RpcModule};
use lem_runtime::{opaque::Block, AccountId, Balance, Nonce};
use sc_consensus_grandpa::{
	warp_proof::NetworkProvider, FinalityProofProvider, GrandpaJustificationStream,
	SharedAuthoritySet, SharedVoterState,
};
use sc_network_sync::strategy::warp::WarpSyncProvider;
use sc_rpc::SubscriptionTaskExecutor;
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_block_builder::BlockBuilder;
use sp_blockchain::{Error as BlockChainError, HeaderBackend, HeaderMetadata};

type Hash = <Block as sp_runtime::traits::Block>::Hash;
type Backend = sc_service::TFullBackend<Block>;

pub struct FullDeps<C, P> {
	pub client: Arc<C>,
	pub pool: Arc<P>,
	pub grandpa: GrandpaDeps,
}

pub struct GrandpaDeps {
	pub shared_voter_state: SharedVoterState,
	pub authority_set: SharedAuthoritySet<Hash, u32>,
	pub justifications: GrandpaJustificationStream<Block>,
	pub subscription_executor: SubscriptionTaskExecutor,
	pub finality_proofs: Arc<FinalityProofProvider<Backend, Block>>,
	pub warp_proofs: Arc<NetworkProvider<Block, Backend>>,
}

pub fn create_full<C, P>(
	deps: FullDeps<C, P>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	C: ProvideRuntimeApi<Block>
		+ HeaderBackend<Block>
		+ HeaderMetadata<Block, Error = BlockChainError>
		+ Send
		+ Sync
		+ 'static,
	C::Api: substrate_frame_rpc_system::AccountNonceApi<Block, AccountId, Nonce>,
	C::Api: pallet_transaction_payment_rpc::TransactionPaymentRuntimeApi<Block, Balance>,
	C::Api: BlockBuilder<Block>,
	P: TransactionPool + 'static,
{
	use pallet_transaction_payment_rpc::{TransactionPayment, TransactionPaymentApiServer};
	use sc_consensus_grandpa_rpc::{Grandpa, GrandpaApiServer};
	use substrate_frame_rpc_system::{System, SystemApiServer};

	let mut module = RpcModule::new(());
	let FullDeps { client, pool, grandpa } = deps;
	module.merge(System::new(client.clone(), pool).into_rpc())?;
	module.merge(TransactionPayment::new(client).into_rpc())?;
	module.merge(
		Grandpa::new(
			grandpa.subscription_executor,
			grandpa.authority_set,
			grandpa.shared_voter_state,
			grandpa.justifications,
			grandpa.finality_proofs,
		)
		.into_rpc(),
	)?;
	module.merge(warp_proof_rpc(grandpa.warp_proofs)?)?;
	Ok(module)
}

/// `lem_grandpaWarpProof(from)`: the SCALE-encoded `WarpSyncProof` from the finalized block
/// `from` — each set's last header with its justification, then the latest justification —
/// at most 8 MiB; a client that gets one not finished asks again from its last header.
fn warp_proof_rpc(
	provider: Arc<NetworkProvider<Block, Backend>>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>> {
	let mut module = RpcModule::new(());
	module.register_blocking_method("lem_grandpaWarpProof", move |params, _, _| {
		let from: Hash = params.one()?;
		provider
			.generate(from)
			.map(|proof| sp_core::Bytes(proof.0))
			.map_err(|e| ErrorObjectOwned::owned(9000, e.to_string(), None::<()>))
	})?;
	Ok(module)
}
