//! The owner's transactions, byte for byte what the runtime decodes and whose signature it
//! checks; and the answers about them the gateway reads.

use codec::{Decode, Encode};
use lem_gateway_core::{
	chain::DryRun,
	owner::{market_error, Call, Owner, Side, Signing, StandingOrder, MARKET_ERRORS},
};
use lem_runtime::{RuntimeCall, SignedPayload, UncheckedExtrinsic, VERSION};
use sp_core::{sr25519, Pair, H256};
use sp_runtime::{generic::Preamble, traits::Verify, MultiAddress, MultiSignature};

fn signing() -> Signing {
	Signing {
		genesis: [9u8; 32],
		spec_version: VERSION.spec_version,
		transaction_version: VERSION.transaction_version,
	}
}

/// Decodes `xt` with the runtime's types and checks its signature as the runtime does, over
/// the payload the runtime rebuilds with the chain's implicit data.
fn check(xt: &[u8], signing: &Signing) -> (RuntimeCall, [u8; 32], u32) {
	let xt = UncheckedExtrinsic::decode(&mut &xt[..]).expect("the runtime decodes it");
	let Preamble::Signed(MultiAddress::Id(who), signature, extension) = xt.preamble.clone() else {
		panic!("not a signed extrinsic")
	};
	let genesis = H256(signing.genesis);
	let implicit = (
		(),
		signing.spec_version,
		signing.transaction_version,
		genesis,
		genesis,
		(),
		(),
		(),
		None,
		(),
	);
	let payload = SignedPayload::from_raw(xt.function.clone(), extension.clone(), implicit);
	let valid = payload.using_encoded(|p| signature.verify(p, &who));
	assert!(valid, "the signature does not verify");
	assert!(matches!(signature, MultiSignature::Sr25519(_)));
	let nonce = extension.5 .0;
	(xt.function, who.into(), nonce)
}

#[test]
fn an_order_is_the_runtimes_place_order_signed_by_the_owner() {
	let owner = Owner::from_seed(&[5u8; 32]);
	let call = Call::PlaceOrder {
		metering_point: 1003,
		slot: 96_123,
		side: Side::Ask,
		energy_wh: 1_250,
		limit_per_kwh: 100_000,
	};
	let xt = owner.sign(&call, 300, &signing());
	let (runtime_call, who, nonce) = check(&xt, &signing());
	assert_eq!(
		runtime_call,
		RuntimeCall::Market(pallet_market::Call::place_order {
			metering_point: 1003,
			slot: 96_123,
			side: pallet_market::Side::Ask,
			energy_wh: 1_250,
			limit_per_kwh: 100_000,
		})
	);
	assert_eq!(who, owner.account());
	assert_eq!(nonce, 300);

	// Signed for another runtime version, the chain's payload differs: refused.
	let old = Signing { spec_version: VERSION.spec_version - 1, ..signing() };
	let stale = owner.sign(&call, 300, &old);
	assert!(std::panic::catch_unwind(|| check(&stale, &signing())).is_err());
}

#[test]
fn a_standing_order_is_the_runtimes_set_standing_order() {
	let owner = Owner::from_seed(&[6u8; 32]);
	let order =
		StandingOrder { buy_limit_per_kwh: 250_000, sell_limit_per_kwh: 90_000, daily_budget: 7 };
	let (runtime_call, _, nonce) =
		check(&owner.sign(&Call::SetStandingOrder(order), 0, &signing()), &signing());
	assert_eq!(
		runtime_call,
		RuntimeCall::Market(pallet_market::Call::set_standing_order {
			buy_limit_per_kwh: 250_000,
			sell_limit_per_kwh: 90_000,
			daily_budget: 7,
		})
	);
	assert_eq!(nonce, 0);
}

#[test]
fn accepting_a_key_is_the_runtimes_accept_key() {
	let owner = Owner::from_seed(&[6u8; 32]);
	let call = lem_gateway_core::owner::AcceptKey { metering_point: 1001, key: [9; 32] };
	let (runtime_call, _, nonce) = check(&owner.sign(&call, 3, &signing()), &signing());
	assert_eq!(
		runtime_call,
		RuntimeCall::Metering(pallet_metering::Call::accept_key {
			metering_point: 1001,
			key: sp_core::ed25519::Public::from_raw([9; 32]),
		})
	);
	assert_eq!(nonce, 3);
}

/// The seed `lem-node key inspect` prints for a development account gives that account.
#[test]
fn a_secret_seed_gives_the_account_substrate_derives_from_it() {
	let (pair, seed) = sr25519::Pair::from_string_with_seed("//Household1", None).unwrap();
	let owner = Owner::from_seed(&seed.expect("a hard derivation has a seed"));
	assert_eq!(owner.account(), pair.public().0);
}

/// A refused call names the same error for the gateway as for the runtime: the gateway's
/// table is pallet-market's `Error` enum, in order.
#[test]
fn the_gateways_market_error_names_are_the_runtimes() {
	type Error = pallet_market::Error<lem_runtime::Runtime>;
	for (index, name) in MARKET_ERRORS.iter().enumerate() {
		let error = Error::decode(&mut &[index as u8][..]).expect("a variant at every index");
		let runtime_name: &'static str = error.into();
		assert_eq!(runtime_name, *name);
		assert_eq!(market_error(index as u8), Some(*name));
	}
	assert!(Error::decode(&mut &[MARKET_ERRORS.len() as u8][..]).is_err(), "every error listed");
}

/// The gateway reads the runtime's `ApplyExtrinsicResult` as the runtime encodes it.
#[test]
fn a_dry_runs_answer_names_the_market_error() {
	use sp_runtime::{
		transaction_validity::{InvalidTransaction, TransactionValidityError},
		ApplyExtrinsicResult, DispatchError,
	};
	let market: DispatchError = pallet_market::Error::<lem_runtime::Runtime>::GateClosed.into();
	let cases: [(ApplyExtrinsicResult, DryRun); 5] = [
		(Ok(Ok(())), DryRun::Applies),
		(Ok(Err(market)), DryRun::Fails("GateClosed".into())),
		(Ok(Err(DispatchError::BadOrigin)), DryRun::Fails("BadOrigin".into())),
		(
			Err(TransactionValidityError::Invalid(InvalidTransaction::Stale)),
			DryRun::Invalid("Stale"),
		),
		(
			Err(TransactionValidityError::Invalid(InvalidTransaction::Payment)),
			DryRun::Invalid("Payment"),
		),
	];
	for (result, expected) in cases {
		assert_eq!(DryRun::decode(&result.encode()), expected, "{result:?}");
	}
}
