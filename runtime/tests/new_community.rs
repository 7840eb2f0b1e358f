//! A new community's genesis (`new_community_genesis`, which `lem-node new-community` makes a
//! chain spec of) on the real runtime: its utilities are the authorities, the council and the
//! admitted nodes; its market starts with the community's own parameters, roles and tariffs, no
//! participants and the substation alone; and a genesis the runtime cannot run is refused.

use lem_runtime::{
	genesis_config_presets::{
		new_community_genesis, peer_id_of, Community, NewCommunity, Tariffs, Utility,
	},
	AccountId, Grandpa, Runtime, RuntimeGenesisConfig, Session, SessionKeys, UNIT,
};
use pallet_market::{Role, TrafficLight, Zone};
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_core::OpaquePeerId;
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};
use sp_runtime::BuildStorage;
use std::collections::BTreeSet;

fn utility(who: Sr25519Keyring, grandpa: Ed25519Keyring, node: u8) -> Utility {
	Utility {
		account: who.to_account_id(),
		session_keys: SessionKeys {
			aura: AuraId::from(who.public()),
			grandpa: GrandpaId::from(grandpa.public()),
		},
		node_public_key: [node; 32],
	}
}

fn account(who: Sr25519Keyring) -> AccountId {
	who.to_account_id()
}

/// Two utilities, with production slots and sessions: what the operations guide makes.
fn riverside() -> NewCommunity {
	use Sr25519Keyring::*;
	NewCommunity {
		utilities: vec![
			utility(Alice, Ed25519Keyring::Alice, 1),
			utility(Bob, Ed25519Keyring::Bob, 2),
		],
		manager: account(Charlie),
		dso: account(Dave),
		supplier: account(Eve),
		technicians: vec![account(Ferdie)],
		funds: [Alice, Bob, Charlie, Dave, Eve, Ferdie].map(|k| (account(k), 1_000 * UNIT)).into(),
		community: Community {
			slot_seconds: 900,
			gate_closure_lead_seconds: 300,
			..Default::default()
		},
		readings_grace_seconds: 900,
		tariffs: Tariffs {
			retail_green_per_kwh: 250_000,
			retail_grey_per_kwh: 230_000,
			feed_in_per_kwh: 70_000,
		},
		session_length: 600,
	}
}

fn chain(community: &NewCommunity) -> sp_io::TestExternalities {
	let config: RuntimeGenesisConfig =
		serde_json::from_value(new_community_genesis(community)).unwrap();
	sp_io::TestExternalities::new(config.build_storage().unwrap())
}

#[test]
fn the_utilities_are_the_authorities_the_council_and_the_admitted_nodes() {
	let community = riverside();
	chain(&community).execute_with(|| {
		let utilities: Vec<AccountId> =
			community.utilities.iter().map(|u| u.account.clone()).collect();
		assert_eq!(pallet_authority_set::Authorities::<Runtime>::get().into_inner(), utilities);
		assert_eq!(pallet_authority_set::SessionLength::<Runtime>::get(), 600);
		assert_eq!(Session::validators(), utilities);
		for u in &community.utilities {
			assert_eq!(
				pallet_session::NextKeys::<Runtime>::get(&u.account),
				Some(u.session_keys.clone())
			);
		}
		let aura: Vec<AuraId> = pallet_aura::Authorities::<Runtime>::get().into_inner();
		assert_eq!(
			aura,
			community.utilities.iter().map(|u| u.session_keys.aura.clone()).collect::<Vec<_>>()
		);
		let grandpa: Vec<GrandpaId> =
			Grandpa::grandpa_authorities().into_iter().map(|(id, _)| id).collect();
		assert_eq!(
			grandpa,
			community.utilities.iter().map(|u| u.session_keys.grandpa.clone()).collect::<Vec<_>>()
		);
		let mut members = utilities.clone();
		members.sort();
		assert_eq!(
			pallet_collective::Members::<Runtime, pallet_collective::Instance1>::get(),
			members
		);
		let nodes: BTreeSet<OpaquePeerId> = community
			.utilities
			.iter()
			.map(|u| OpaquePeerId(peer_id_of(&u.node_public_key)))
			.collect();
		assert_eq!(pallet_node_authorization::WellKnownNodes::<Runtime>::get(), nodes);
		for u in &community.utilities {
			let node = OpaquePeerId(peer_id_of(&u.node_public_key));
			assert_eq!(
				pallet_node_authorization::Owners::<Runtime>::get(node),
				Some(u.account.clone())
			);
		}
		// Fees are paid in the settlement asset: every funded account can transact.
		use frame_support::traits::fungible::{Inspect, InspectHold};
		type Balances = pallet_balances::Pallet<Runtime>;
		for (who, amount) in &community.funds {
			assert_eq!(Balances::total_balance(who), *amount);
		}
		// The supplier holds its deposit from what it was funded with.
		let deposit = lem_runtime::RuntimeHoldReason::Market(pallet_market::HoldReason::Deposit);
		assert_eq!(
			Balances::balance_on_hold(&deposit, &community.supplier),
			community.community.supplier_deposit as u128
		);
	});
}

#[test]
fn the_market_starts_with_the_communitys_parameters_and_no_participants() {
	let community = riverside();
	chain(&community).execute_with(|| {
		assert_eq!(pallet_market::CommunityParams::<Runtime>::get(), community.community);
		for (role, who) in [
			(Role::Manager, &community.manager),
			(Role::Dso, &community.dso),
			(Role::Utility, &community.supplier),
		] {
			assert_eq!(pallet_market::Roles::<Runtime>::get(role), Some(who.clone()));
		}
		assert!(pallet_market::Technicians::<Runtime>::contains_key(&community.technicians[0]));
		assert_eq!(pallet_market::Participants::<Runtime>::iter().count(), 0);
		// The substation alone: the DSO adds the zones below it on the chain.
		let grid = pallet_market::GridInForce::<Runtime>::get();
		assert_eq!(
			grid.zones.into_inner(),
			vec![Zone {
				id: 0,
				parent: None,
				fee_per_kwh: 0,
				capacity_wh: None,
				light: TrafficLight::Green
			}]
		);
		assert_eq!(pallet_settlement::TariffsInForce::<Runtime>::get().current, community.tariffs);
		assert_eq!(pallet_metering::ReadingsGraceSeconds::<Runtime>::get(), 900);
	});
}

#[test]
#[should_panic(expected = "valid genesis tariffs")]
fn tariffs_above_what_an_ask_holds_are_refused() {
	let mut community = riverside();
	community.tariffs.retail_green_per_kwh = community.community.ask_hold_per_kwh + 1;
	chain(&community);
}

/// `new-community --manager X --technician X` would make a chain where the manager assigns
/// itself meters; the DSO as supplier would set both the fees and the tariffs.
#[test]
fn one_account_in_two_roles_is_refused_by_name() {
	let conflicts: [fn(&mut NewCommunity); 3] = [
		|c| c.technicians.push(c.manager.clone()),
		|c| c.dso = c.supplier.clone(),
		|c| c.manager = c.dso.clone(),
	];
	for conflict in conflicts {
		let mut community = riverside();
		conflict(&mut community);
		let refused = std::panic::catch_unwind(|| chain(&community)).expect_err("refused");
		let message = refused
			.downcast_ref::<String>()
			.cloned()
			.or_else(|| refused.downcast_ref::<&str>().map(|s| s.to_string()))
			.unwrap_or_default();
		assert!(message.contains("RoleConflict"), "{message}");
	}
}
