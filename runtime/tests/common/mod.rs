//! What the market, metering and settlement tests share: a `local` chain whose first block is at a slot
//! boundary, and blocks at chosen times.

use frame_support::{traits::PostInherents, weights::Weight};
use lem_runtime::{
	genesis_config_presets::{local_config_genesis, DEMO_PACE},
	Runtime, RuntimeGenesisConfig, System,
};
use sp_runtime::BuildStorage;

/// A slot boundary: the first block's timestamp in every test.
pub const T0: u64 = 1_800_000_000;

/// A new block at `secs`: its timestamp is set, then clearing and settlement run after the
/// inherents, as the runtime configures them.
pub fn block_at(secs: u64) {
	System::set_block_number(System::block_number() + 1);
	pallet_timestamp::Now::<Runtime>::put(secs * 1000);
	<<Runtime as frame_system::Config>::PostInherents as PostInherents>::post_inherents();
}

/// The `local` preset with its demo community, in block 1 at `T0`.
pub fn chain() -> sp_io::TestExternalities {
	chain_with_block_time(pallet_authority_set::DEFAULT_BLOCK_TIME_MS)
}

/// The same chain with blocks every `block_time_ms`.
pub fn chain_with_block_time(block_time_ms: u64) -> sp_io::TestExternalities {
	let mut genesis = local_config_genesis(DEMO_PACE);
	genesis["authoritySet"]["blockTimeMs"] = block_time_ms.into();
	let config: RuntimeGenesisConfig = serde_json::from_value(genesis).unwrap();
	let mut ext = sp_io::TestExternalities::new(config.build_storage().unwrap());
	ext.execute_with(|| block_at(T0));
	ext
}

/// The fills clearing applied since the events were last reset (its `OrderFilled` events).
#[allow(dead_code)] // The tests that weigh blocks' work use it; metering's do not.
pub fn fills_in_events() -> u32 {
	System::events()
		.iter()
		.filter(|e| {
			matches!(
				e.event,
				lem_runtime::RuntimeEvent::Market(pallet_market::Event::OrderFilled { .. })
			)
		})
		.count() as u32
}

/// A page of `items` at `step`'s benchmarked weight (nothing for none): what a block that did
/// that much of a step must at least have charged.
#[allow(dead_code)]
pub fn weighed(step: fn(u32) -> Weight, items: u32) -> Weight {
	let (page, item) = pallet_market::tick_impls::page_and_item(step);
	if items == 0 {
		Weight::zero()
	} else {
		page + item * items as u64
	}
}
