//! The authority set on the real runtime configuration, from the `local` genesis preset: who may
//! change it, every refusal, and how a change reaches Aura and GRANDPA through the session.

use frame_support::{
	assert_noop, assert_ok,
	traits::{Get, OnInitialize},
};
use lem_runtime::{
	genesis_config_presets::local_config_genesis, AccountId, Aura, AuthoritySet, Grandpa, Runtime,
	RuntimeGenesisConfig, RuntimeOrigin, Session, SessionKeys, System,
};
use pallet_authority_set::Error;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_core::H256;
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};
use sp_runtime::{BuildStorage, DispatchError};

type Council = pallet_collective::RawOrigin<AccountId, pallet_collective::Instance1>;

fn local_chain() -> sp_io::TestExternalities {
	let config: RuntimeGenesisConfig = serde_json::from_value(local_config_genesis()).unwrap();
	let mut ext = sp_io::TestExternalities::new(config.build_storage().unwrap());
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Three of the four utilities: more than half.
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
fn only_a_council_majority_changes_the_set() {
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
		// New code can take everyone's money: a simple majority is not enough. With five
		// utilities, three make a majority for the authority set but not two thirds.
		let majority: RuntimeOrigin = Council::Members(3, 5).into();
		assert_noop!(
			AuthoritySet::authorize_upgrade(majority.clone(), hash),
			DispatchError::BadOrigin
		);
		register_keys(ferdie(), ferdie_keys());
		assert_ok!(AuthoritySet::add_authority(majority, ferdie()));
		assert_ok!(AuthoritySet::authorize_upgrade(Council::Members(4, 5).into(), hash));
		assert_ok!(AuthoritySet::authorize_upgrade(council(), hash));
		assert_eq!(System::authorized_upgrade().map(|a| *a.code_hash()), Some(hash));
	});
}
