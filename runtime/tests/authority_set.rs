//! The authority set on the real runtime configuration, from the `local` genesis preset: who may
//! change it, every refusal, and how a change reaches Aura and GRANDPA through the session.

use frame_support::{
	assert_noop, assert_ok,
	traits::{Get, OnInitialize},
};
use lem_runtime::{
	genesis_config_presets::{local_config_genesis, DEMO_PACE},
	AccountId, Aura, AuthoritySet, Grandpa, Runtime, RuntimeGenesisConfig, RuntimeOrigin, Session,
	SessionKeys, System,
};
use pallet_authority_set::Error;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_core::H256;
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};
use sp_runtime::{BuildStorage, DispatchError};

type Council = pallet_collective::RawOrigin<AccountId, pallet_collective::Instance1>;

fn local_chain() -> sp_io::TestExternalities {
	let config: RuntimeGenesisConfig =
		serde_json::from_value(local_config_genesis(DEMO_PACE)).unwrap();
	let mut ext = sp_io::TestExternalities::new(config.build_storage().unwrap());
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Three of the four utilities: at least two thirds.
fn council() -> RuntimeOrigin {
	Council::Members(3, 4).into()
}

fn ferdie() -> AccountId {
	Sr25519Keyring::Ferdie.to_account_id()
}

fn ferdie_keys() -> SessionKeys {
	SessionKeys {
		aura: AuraId::from(Sr25519Keyring::Ferdie.public()),
		grandpa: GrandpaId::from(Ed25519Keyring::Ferdie.public()),
	}
}

fn register_keys(who: AccountId, keys: SessionKeys) {
	pallet_session::NextKeys::<Runtime>::insert(who, keys);
}

fn authorities() -> Vec<AccountId> {
	pallet_authority_set::Authorities::<Runtime>::get().into_inner()
}

#[test]
fn genesis_has_the_four_utilities_as_authorities_and_council() {
	local_chain().execute_with(|| {
		let utilities: Vec<AccountId> = [
			Sr25519Keyring::Alice,
			Sr25519Keyring::Bob,
			Sr25519Keyring::Charlie,
			Sr25519Keyring::Dave,
		]
		.iter()
		.map(|k| k.to_account_id())
		.collect();
		assert_eq!(authorities(), utilities);
		assert_eq!(Session::validators(), utilities);
		// The council keeps its members sorted.
		let mut members = utilities.clone();
		members.sort();
		assert_eq!(
			pallet_collective::Members::<Runtime, pallet_collective::Instance1>::get(),
			members
		);
		assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), 4);
		assert_eq!(Grandpa::grandpa_authorities().len(), 4);
		assert_eq!(pallet_node_authorization::WellKnownNodes::<Runtime>::get().len(), 4);
	});
}

#[test]
fn only_two_thirds_of_the_council_change_the_set() {
	local_chain().execute_with(|| {
		register_keys(ferdie(), ferdie_keys());
		let outsider = RuntimeOrigin::signed(Sr25519Keyring::Eve.to_account_id());
		let one_utility = RuntimeOrigin::signed(Sr25519Keyring::Alice.to_account_id());
		let half: RuntimeOrigin = Council::Members(2, 4).into();
		for origin in [outsider, one_utility, half, RuntimeOrigin::none()] {
			assert_noop!(
				AuthoritySet::add_authority(origin.clone(), ferdie()),
				DispatchError::BadOrigin
			);
			assert_noop!(
				AuthoritySet::remove_authority(
					origin.clone(),
					Sr25519Keyring::Dave.to_account_id()
				),
				DispatchError::BadOrigin
			);
			assert_noop!(
				AuthoritySet::authorize_upgrade(origin, H256::repeat_byte(1)),
				DispatchError::BadOrigin
			);
		}
		assert_ok!(AuthoritySet::add_authority(council(), ferdie()));
		assert_eq!(authorities().last(), Some(&ferdie()));
	});
}

#[test]
fn refusals_are_named_and_change_nothing() {
	local_chain().execute_with(|| {
		// No session keys: the session pallet would drop the authority silently.
		assert_noop!(
			AuthoritySet::add_authority(council(), ferdie()),
			Error::<Runtime>::NoSessionKeys
		);
		assert_noop!(
			AuthoritySet::add_authority(council(), Sr25519Keyring::Alice.to_account_id()),
			Error::<Runtime>::AlreadyAuthority
		);
		assert_noop!(
			AuthoritySet::remove_authority(council(), ferdie()),
			Error::<Runtime>::NotAuthority
		);

		// A chain started with four authorities, so that one may fail, keeps four: the council
		// cannot shrink it to a set one failure stops.
		assert_eq!(pallet_authority_set::MinAuthorities::<Runtime>::get(), 4);
		assert_noop!(
			AuthoritySet::remove_authority(council(), Sr25519Keyring::Dave.to_account_id()),
			Error::<Runtime>::TooFewAuthorities
		);

		// Up to the maximum, then no further.
		let max = <Runtime as pallet_authority_set::Config>::MaxAuthorities::get();
		let now = pallet_authority_set::Authorities::<Runtime>::get().len() as u32;
		for i in now..max {
			let who = AccountId::new([i as u8; 32]);
			register_keys(who.clone(), ferdie_keys());
			assert_ok!(AuthoritySet::add_authority(council(), who));
		}
		let one_too_many = AccountId::new([0xee; 32]);
		register_keys(one_too_many.clone(), ferdie_keys());
		assert_noop!(
			AuthoritySet::add_authority(council(), one_too_many),
			Error::<Runtime>::TooManyAuthorities
		);
	});
}

#[test]
fn an_added_authority_reaches_aura_and_grandpa_one_rotation_after_it_is_queued() {
	local_chain().execute_with(|| {
		register_keys(ferdie(), ferdie_keys());
		assert_ok!(AuthoritySet::add_authority(council(), ferdie()));
		assert!(!Session::validators().contains(&ferdie()));

		// First rotation: the new set is queued.
		Session::rotate_session();
		assert!(Session::queued_keys().iter().any(|(who, _)| who == &ferdie()));
		assert!(!Session::validators().contains(&ferdie()));

		// Second rotation: in force, in Aura and (scheduled) in GRANDPA.
		Session::rotate_session();
		assert!(Session::validators().contains(&ferdie()));
		assert!(pallet_aura::Authorities::<Runtime>::get().contains(&ferdie_keys().aura));
		assert!(pallet_grandpa::PendingChange::<Runtime>::get().map_or(false, |c| c
			.next_authorities
			.iter()
			.any(|(id, _)| *id == ferdie_keys().grandpa)));

		// Removal travels the same way.
		assert_ok!(AuthoritySet::remove_authority(council(), ferdie()));
		Session::rotate_session();
		Session::rotate_session();
		assert!(!Session::validators().contains(&ferdie()));
		assert_eq!(Aura::authorities_len(), 4);
	});
}

#[test]
fn sessions_rotate_at_the_genesis_session_length() {
	local_chain().execute_with(|| {
		let length = pallet_authority_set::SessionLength::<Runtime>::get();
		assert_eq!(length, lem_runtime::SESSION_LENGTH_DEV);
		for n in 2..=length {
			System::set_block_number(n);
			Session::on_initialize(n);
		}
		assert_eq!(Session::current_index(), 1);
	});
}

#[test]
fn the_council_authorizes_a_runtime_upgrade() {
	local_chain().execute_with(|| {
		let hash = H256::repeat_byte(7);
		// New code can take everyone's money: a simple majority is not enough.
		let majority: RuntimeOrigin = Council::Members(3, 5).into();
		assert_noop!(AuthoritySet::authorize_upgrade(majority, hash), DispatchError::BadOrigin);
		assert_ok!(AuthoritySet::authorize_upgrade(Council::Members(4, 5).into(), hash));
		assert_ok!(AuthoritySet::authorize_upgrade(council(), hash));
		assert_eq!(System::authorized_upgrade().map(|a| *a.code_hash()), Some(hash));
	});
}

/// Three of five utilities could otherwise seat two authorities of their own and remove two
/// honest ones (keeping `MinAuthorities`), then finalize any state root every light client
/// accepts, or cut an honest utility's node off the network: as much power as new code, so it
/// needs as many votes.
#[test]
fn a_bare_majority_cannot_take_over_finality() {
	local_chain().execute_with(|| {
		use lem_runtime::RuntimeCall;
		use pallet_node_authorization::Call as Nodes;
		use sp_core::OpaquePeerId;
		use sp_runtime::traits::Dispatchable;
		register_keys(ferdie(), ferdie_keys());
		let majority: RuntimeOrigin = Council::Members(3, 5).into();
		let two_thirds: RuntimeOrigin = Council::Members(4, 5).into();
		let dave = Sr25519Keyring::Dave.to_account_id();
		assert_noop!(
			AuthoritySet::add_authority(majority.clone(), ferdie()),
			DispatchError::BadOrigin
		);
		assert_noop!(
			AuthoritySet::remove_authority(majority.clone(), dave.clone()),
			DispatchError::BadOrigin
		);
		let dave_node = pallet_node_authorization::Owners::<Runtime>::iter()
			.find_map(|(node, owner)| (owner == dave).then_some(node))
			.expect("Dave's node is admitted");
		let strangers_node = OpaquePeerId(vec![0, 36, 8, 1, 18, 32, 0xee]);
		for call in [
			Nodes::remove_well_known_node { node: dave_node.clone() },
			Nodes::swap_well_known_node { remove: dave_node.clone(), add: strangers_node.clone() },
			Nodes::reset_well_known_nodes { nodes: vec![(strangers_node.clone(), ferdie())] },
		] {
			let call = RuntimeCall::NodeAuthorization(call);
			assert_eq!(
				call.clone().dispatch(majority.clone()).map_err(|e| e.error),
				Err(DispatchError::BadOrigin)
			);
			assert!(
				pallet_node_authorization::WellKnownNodes::<Runtime>::get().contains(&dave_node)
			);
		}

		assert_ok!(AuthoritySet::add_authority(two_thirds.clone(), ferdie()));
		assert_ok!(RuntimeCall::NodeAuthorization(Nodes::remove_well_known_node {
			node: dave_node.clone()
		})
		.dispatch(two_thirds));
		assert!(!pallet_node_authorization::WellKnownNodes::<Runtime>::get().contains(&dave_node));
	});
}

/// A household cannot claim a peer id the council is about to admit, nor set who a utility's
/// node talks to: only the council admits nodes and names their owners, and an owner admits a
/// bounded list of connections to its own node.
#[test]
fn only_the_council_writes_the_admitted_peer_list() {
	local_chain().execute_with(|| {
		use lem_runtime::RuntimeCall;
		use pallet_node_authorization::{AdditionalConnections, Call as Nodes, Owners};
		use sp_core::OpaquePeerId;
		use sp_runtime::traits::Dispatchable;
		let peer = |n: u8| OpaquePeerId(vec![0, 36, 8, 1, 18, 32, n]);
		let dispatch = |who: &AccountId, call: Nodes<Runtime>| {
			RuntimeCall::NodeAuthorization(call)
				.dispatch(RuntimeOrigin::signed(who.clone()))
				.map(|_| ())
				.map_err(|e| e.error)
		};
		let filtered = Err(frame_system::Error::<Runtime>::CallFiltered.into());
		let household = lem_runtime::genesis_config_presets::demo_account("Household1");
		let alice = Sr25519Keyring::Alice.to_account_id();
		let alices_node = Owners::<Runtime>::iter()
			.find_map(|(node, owner)| (owner == alice).then_some(node))
			.expect("Alice's node is admitted");

		// The peer id of a node waiting in a council motion.
		let waiting = peer(0xee);
		assert_eq!(dispatch(&household, Nodes::claim_node { node: waiting.clone() }), filtered);
		assert_eq!(
			dispatch(
				&household,
				Nodes::add_connections { node: waiting.clone(), connections: vec![peer(0x01)] }
			),
			filtered
		);
		assert_eq!(
			dispatch(
				&alice,
				Nodes::transfer_node { node: alices_node.clone(), owner: household.clone().into() }
			),
			filtered
		);
		assert_eq!(dispatch(&alice, Nodes::remove_claim { node: alices_node.clone() }), filtered);
		assert_eq!(Owners::<Runtime>::get(&waiting), None);
		assert_eq!(Owners::<Runtime>::get(&alices_node), Some(alice.clone()));

		// Someone else's node: the pallet's own check.
		assert_eq!(
			dispatch(
				&household,
				Nodes::add_connections { node: alices_node.clone(), connections: vec![peer(1)] }
			),
			Err(pallet_node_authorization::Error::<Runtime>::NotOwner.into())
		);
		// The owner admits up to the bound, in peer ids of bounded length, and no more.
		let max = lem_runtime::MAX_NODE_CONNECTIONS as u8;
		let long = OpaquePeerId(vec![7; 128]);
		assert_eq!(
			dispatch(
				&alice,
				Nodes::add_connections { node: alices_node.clone(), connections: vec![long] }
			),
			filtered
		);
		assert_ok!(dispatch(
			&alice,
			Nodes::add_connections {
				node: alices_node.clone(),
				connections: (1..max).map(peer).collect()
			}
		));
		assert_eq!(
			dispatch(
				&alice,
				Nodes::add_connections {
					node: alices_node.clone(),
					connections: vec![peer(max), peer(max + 1)]
				}
			),
			filtered
		);
		assert_ok!(dispatch(
			&alice,
			Nodes::add_connections { node: alices_node.clone(), connections: vec![peer(max)] }
		));
		assert_eq!(AdditionalConnections::<Runtime>::get(&alices_node).len(), max as usize);
		assert_ok!(dispatch(
			&alice,
			Nodes::remove_connections { node: alices_node.clone(), connections: vec![peer(1)] }
		));
		assert_eq!(AdditionalConnections::<Runtime>::get(&alices_node).len(), max as usize - 1);
	});
}
