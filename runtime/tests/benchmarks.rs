//! Every FRAME benchmark of lem's pallets, run once on the real runtime with its checks, as
//! `scripts/benchmark.sh` runs them to write the weights the block budget rests on: a benchmark
//! that no longer sets up its worst case, whose call fails, or whose `verify` no longer holds
//! fails here, in CI, instead of rotting until the next weights are measured.
//!
//! Each benchmark runs with its components at their lowest and at their highest, in the
//! benchmark CLI's own in-memory database (`BenchmarkingState`: the runs commit and wipe it),
//! from the `dev` genesis the CLI benchmarks on. A benchmark that reports itself skipped or
//! weightless fails too: its weight would be left unmeasured.
//!
//! Built only with `--features runtime-benchmarks` (see `scripts/test-binaries.sh`).

use frame_benchmarking::{BenchmarkParameter, Benchmarking};
use frame_support::traits::WhitelistedStorageKeys;
use lem_runtime::{
	genesis_config_presets::{development_config_genesis, DEMO_PACE},
	AllPalletsWithSystem, AuthoritySet, Market, Metering, RuntimeGenesisConfig, Settlement,
};
use sc_client_db::BenchmarkingState;
use sp_runtime::{traits::BlakeTwo256, BuildStorage, Storage};
use std::panic::{catch_unwind, AssertUnwindSafe};

fn genesis() -> Storage {
	let config: RuntimeGenesisConfig =
		serde_json::from_value(development_config_genesis(DEMO_PACE)).unwrap();
	config.build_storage().unwrap()
}

/// Runs `f` on a fresh benchmarking database holding `genesis`, with a keystore for the
/// gateway keys the metering benchmarks make and sign with.
fn in_benchmark_db<R>(genesis: &Storage, f: impl FnOnce() -> R) -> R {
	let state = BenchmarkingState::<BlakeTwo256>::new(genesis.clone(), None, true, true).unwrap();
	let mut overlay = sp_state_machine::OverlayedChanges::<BlakeTwo256>::default();
	let mut extensions = sp_externalities::Extensions::default();
	extensions.register(sp_keystore::KeystoreExt::new(sp_keystore::testing::MemoryKeystore::new()));
	let mut ext = sp_state_machine::Ext::new(&mut overlay, &state, Some(&mut extensions));
	sp_externalities::set_and_run_with_externalities(&mut ext, f)
}

fn every_benchmark_of<P: Benchmarking>(pallet: &str) {
	let genesis = genesis();
	let whitelist = AllPalletsWithSystem::whitelisted_storage_keys();
	let benchmarks = P::benchmarks(false);
	assert!(!benchmarks.is_empty(), "{pallet} lists no benchmarks");
	let mut failed = Vec::new();
	for benchmark in benchmarks {
		let name = String::from_utf8_lossy(&benchmark.name).into_owned();
		let lowest: Vec<(BenchmarkParameter, u32)> =
			benchmark.components.iter().map(|&(param, low, _)| (param, low)).collect();
		let highest: Vec<(BenchmarkParameter, u32)> =
			benchmark.components.iter().map(|&(param, _, high)| (param, high)).collect();
		let runs = if highest == lowest { vec![lowest] } else { vec![lowest, highest] };
		for components in runs {
			let outcome = catch_unwind(AssertUnwindSafe(|| {
				in_benchmark_db(&genesis, || {
					P::run_benchmark(&benchmark.name, &components, &whitelist, true, 1)
				})
			}));
			match outcome {
				Ok(Ok(results)) if !results.is_empty() => {}
				Ok(Ok(_)) => failed.push(format!("{name} {components:?}: no result")),
				Ok(Err(e)) => failed.push(format!("{name} {components:?}: {e:?}")),
				// A `verify` block's assertion, or the set-up's `expect`.
				Err(_) => failed.push(format!("{name} {components:?}: panicked (see above)")),
			}
		}
	}
	assert!(failed.is_empty(), "{pallet}'s failing benchmarks:\n{}", failed.join("\n"));
}

#[test]
fn every_authority_set_benchmark_runs_and_verifies() {
	every_benchmark_of::<AuthoritySet>("pallet_authority_set");
}

#[test]
fn every_market_benchmark_runs_and_verifies() {
	every_benchmark_of::<Market>("pallet_market");
}

#[test]
fn every_metering_benchmark_runs_and_verifies() {
	every_benchmark_of::<Metering>("pallet_metering");
}

#[test]
fn every_settlement_benchmark_runs_and_verifies() {
	every_benchmark_of::<Settlement>("pallet_settlement");
}
