//! Which peers a node talks to: the chain's list, enforced by the node itself.
//!
//! `pallet-node-authorization` keeps the admitted peers on chain: the well-known nodes (the
//! utilities' nodes, changed by the council) and each node's additional connections. Its
//! offchain worker would hand them to the network, but only where offchain workers run and only
//! after a block is imported: a non-authority node with default flags, or any node just started,
//! would accept every peer, and a peer that syncs can read every reading and record.
//!
//! So the node runs no offchain workers and does it here, whatever its flags: the network starts
//! reserved-only with no reserved peers, and this task sets the reserved peers to the list in
//! the node's best state, at start (genesis for a fresh node: the genesis utilities' nodes) and
//! after every new best block.

use codec::Decode;
use futures::StreamExt;
use lem_runtime::{opaque::Block, Runtime};
use pallet_node_authorization::{AdditionalConnections, WellKnownNodes};
use sc_client_api::{BlockchainEvents, StorageProvider};
use sc_network::{config::NonReservedPeerMode, NetworkPeers, NetworkStateInfo, PeerId};
use sp_blockchain::HeaderBackend;
use sp_core::{storage::StorageKey, OpaquePeerId};
use std::{
	collections::{BTreeSet, HashSet},
	sync::Arc,
};

const LOG_TARGET: &str = "lem::admitted-peers";

type Hash = <Block as sp_runtime::traits::Block>::Hash;

/// Make the network refuse every peer not reserved, before it is built: the list is applied
/// only once the network exists, and nothing may connect in between.
pub fn fail_closed(network: &mut sc_network::config::NetworkConfiguration) {
	network.default_peers_set.non_reserved_mode = NonReservedPeerMode::Deny;
	// Reserved peers given on the command line are not on the chain's list unless the chain
	// says so; the list below replaces them.
	network.default_peers_set.reserved_nodes.clear();
}

/// The peers `local` may talk to at block `at`: every well-known node and `local`'s additional
/// connections, never itself. A node not yet on the list still dials the well-known nodes; they
/// refuse it unless their own list admits it.
pub fn admitted_peers<C>(client: &C, at: Hash, local: &PeerId) -> Result<HashSet<PeerId>, String>
where
	C: StorageProvider<Block, sc_service::TFullBackend<Block>>,
{
	let read = |key: Vec<u8>| -> Result<BTreeSet<OpaquePeerId>, String> {
		match client.storage(at, &StorageKey(key)).map_err(|e| e.to_string())? {
			None => Ok(BTreeSet::new()),
			Some(value) => BTreeSet::decode(&mut &value.0[..]).map_err(|e| e.to_string()),
		}
	};
	let own = OpaquePeerId(local.to_bytes());
	let mut listed = read(WellKnownNodes::<Runtime>::hashed_key().to_vec())?;
	listed.extend(read(AdditionalConnections::<Runtime>::hashed_key_for(&own))?);
	Ok(listed
		.into_iter()
		// A malformed entry admits nobody; it cannot widen the set.
		.filter_map(|peer| PeerId::from_bytes(&peer.0).ok())
		.filter(|peer| peer != local)
		.collect())
}

/// Apply the list at the best block now and after every new best block, for as long as the
/// node runs.
pub async fn enforce<C>(
	client: Arc<C>,
	network: Arc<dyn sc_network::service::traits::NetworkService>,
) where
	C: StorageProvider<Block, sc_service::TFullBackend<Block>>
		+ BlockchainEvents<Block>
		+ HeaderBackend<Block>,
{
	let local = network.local_peer_id();
	let mut applied: Option<HashSet<PeerId>> = None;
	let mut apply = |at: Hash| match admitted_peers(&*client, at, &local) {
		Ok(peers) if applied.as_ref() != Some(&peers) => {
			log::info!(target: LOG_TARGET, "{} admitted peers at {at}", peers.len());
			network.set_authorized_peers(peers.clone());
			network.set_authorized_only(true);
			applied = Some(peers);
		}
		Ok(_) => {}
		// The previous list stays; with none yet the node talks to nobody.
		Err(e) => log::error!(target: LOG_TARGET, "cannot read the admitted peers at {at}: {e}"),
	};
	apply(client.info().best_hash);
	// Every import, not only those after the initial sync: a syncing node must drop peers
	// the council removed on the way, not only at the tip.
	let mut imports = client.every_import_notification_stream();
	while let Some(block) = imports.next().await {
		if block.is_new_best {
			apply(block.hash);
		}
	}
}
