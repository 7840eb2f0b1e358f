//! The storage keys the gateway proves and the values it decodes, against the runtime's own.

use codec::Encode;
use lem_gateway_core::{
	chain::{
		account_key, account_orders_key, community_key, decode_energy, decode_nonce,
		decode_standing_order, reading_key, standing_order_key, Community,
	},
	owner::StandingOrder,
};
use lem_runtime::Runtime;
use pallet_metering::{AcceptedReading, Metered, Registers};

#[test]
fn a_reading_is_proven_under_the_runtimes_key_and_decoded_from_its_bytes() {
	assert_eq!(
		reading_key(96_123, 1003),
		pallet_metering::Readings::<Runtime>::hashed_key_for(96_123u64, 1003u64)
	);
	let accepted = AcceptedReading {
		metered: Metered { import_wh: 120, export_wh: 4 },
		registers: Registers { slot: 96_123, import_wh: 1_000_120, export_wh: 1_000_004 },
	};
	assert_eq!(decode_energy(&accepted.encode()), Some((120, 4)));
	assert_eq!(decode_energy(&accepted.encode()[..39]), None);
	assert_eq!(decode_energy(&[accepted.encode(), vec![0]].concat()), None);
}

#[test]
fn the_community_is_read_from_its_first_fields() {
	assert_eq!(community_key(), pallet_market::CommunityParams::<Runtime>::hashed_key().to_vec());
	let mut community = pallet_market::Community::default();
	assert_eq!(
		Community::decode(&community.encode()),
		Some(Community {
			slot_seconds: 900,
			gate_closure_lead_seconds: 300,
			order_horizon_slots: 96
		})
	);
	community.slot_seconds = 0;
	assert_eq!(Community::decode(&community.encode()), None);
}

#[test]
fn the_owners_account_is_read_under_the_runtimes_keys() {
	let who = lem_runtime::AccountId::new([4u8; 32]);
	assert_eq!(account_key(&[4u8; 32]), frame_system::Account::<Runtime>::hashed_key_for(&who));
	assert_eq!(
		standing_order_key(&[4u8; 32]),
		pallet_market::StandingOrders::<Runtime>::hashed_key_for(&who)
	);
	assert_eq!(
		account_orders_key(&[4u8; 32], 77),
		pallet_market::AccountOrders::<Runtime>::hashed_key_for(&who, 77u64)
	);

	let info: frame_system::AccountInfo<u32, <Runtime as frame_system::Config>::AccountData> =
		frame_system::AccountInfo { nonce: 12, ..Default::default() };
	assert_eq!(decode_nonce(Some(&info.encode())), Some(12));
	assert_eq!(decode_nonce(None), Some(0));

	let order = pallet_market::StandingOrder {
		buy_limit_per_kwh: 1,
		sell_limit_per_kwh: 2,
		daily_budget: 3u128,
	};
	let scheduled = pallet_market::Scheduled { before: None, from: 9, current: Some(order) };
	assert_eq!(
		decode_standing_order(Some(&scheduled.encode())),
		Some(Some(StandingOrder { buy_limit_per_kwh: 1, sell_limit_per_kwh: 2, daily_budget: 3 }))
	);
	assert_eq!(decode_standing_order(None), Some(None));
	assert_eq!(decode_standing_order(Some(&[1, 2])), None);
}

/// The box cuts slots by its own clock: one behind the chain's finalized time, or further
/// ahead of it than finality lags, is named.
#[test]
fn a_clock_off_the_chains_is_named() {
	use lem_gateway_core::chain::{clock_skew, timestamp_key};
	assert_eq!(timestamp_key(), pallet_timestamp_now_key());
	let block = 1_800_000_000_000;
	assert_eq!(clock_skew(block + 12_000, block), None, "a finalized block is some blocks old");
	assert_eq!(clock_skew(block - 2_000, block), None);
	assert_eq!(clock_skew(block - 6_000, block), Some(-6_000), "behind the chain");
	assert_eq!(clock_skew(block + 90_000, block), Some(90_000), "ahead of it");
}

/// twox128("Timestamp") ++ twox128("Now"): the key every Substrate chain keeps its time under.
fn pallet_timestamp_now_key() -> Vec<u8> {
	lem_light_client::hex::decode(
		"f0c365c3cf59d671eb72da0e7a4113c49f1f0515f462cdcf84e0f1d6045dfcbb",
	)
	.unwrap()
}

/// The box plans its home against its zone's traffic light and the prices its zone cleared
/// at: the point's zone, the grid and a cleared slot are read under the runtime's keys.
#[test]
fn the_zone_its_light_and_its_cleared_price_are_read_from_the_runtimes_values() {
	use lem_gateway_core::chain::{
		cleared_slot_key, decode_light, decode_zone, decode_zone_price, grid_key,
		metering_point_key, Light,
	};
	use pallet_market::{ClearedSlot, Grid, MeteringPoint, Pricing, TrafficLight, Zone, ZonePrice};

	assert_eq!(
		metering_point_key(1003),
		pallet_market::MeteringPoints::<Runtime>::hashed_key_for(1003u64)
	);
	assert_eq!(grid_key(), pallet_market::GridInForce::<Runtime>::hashed_key().to_vec());
	assert_eq!(
		cleared_slot_key(96_123),
		pallet_market::ClearedSlots::<Runtime>::hashed_key_for(96_123u64)
	);

	let point = MeteringPoint {
		owner: lem_runtime::AccountId::new([4u8; 32]),
		zone: 7,
		rated_power_w: 11_000,
		technician: Some(lem_runtime::AccountId::new([5u8; 32])),
	};
	assert_eq!(decode_zone(&point.encode()), Some(7));
	assert_eq!(decode_zone(&[1, 2, 3]), None);

	let zone = |id, parent, light| Zone {
		id,
		parent,
		fee_per_kwh: 20_000,
		capacity_wh: Some(50_000),
		light,
	};
	let grid = Grid {
		zones: vec![zone(1, None, TrafficLight::Green), zone(7, Some(1), TrafficLight::Red)]
			.try_into()
			.unwrap(),
		yellow_surcharge_per_kwh: 30_000,
	};
	assert_eq!(decode_light(&grid.encode(), 7), Some(Light::Red));
	assert_eq!(decode_light(&grid.encode(), 1), Some(Light::Green));
	assert_eq!(
		decode_light(&grid.encode(), 9),
		Some(Light::Green),
		"a zone the grid does not name"
	);
	assert_eq!(decode_light(&grid.encode()[..10], 7), None);

	let cleared = ClearedSlot {
		grid,
		pricing: Pricing::PayAsClear,
		zone_prices: vec![
			ZonePrice { zone: 1, price_per_kwh: Some(-5_000) },
			ZonePrice { zone: 7, price_per_kwh: Some(182_000) },
		]
		.try_into()
		.unwrap(),
		flows: Default::default(),
		orders: 12,
		filled: 9,
		traded_wh: 4_000,
		welfare: 1,
		payments: 2,
		receipts: 3,
		dso_revenue: 4,
		remainder: 5,
	};
	assert_eq!(decode_zone_price(&cleared.encode(), 7), Some(Some(182_000)));
	assert_eq!(decode_zone_price(&cleared.encode(), 1), Some(Some(-5_000)));
	assert_eq!(decode_zone_price(&cleared.encode(), 9), Some(None), "a zone that traded nothing");
	assert_eq!(decode_zone_price(&cleared.encode()[..30], 7), None);
}
