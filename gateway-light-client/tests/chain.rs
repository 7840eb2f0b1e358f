//! The storage keys the gateway proves and the values it decodes, against the runtime's own.

use codec::Encode;
use lem_gateway::chain::{community_key, decode_energy, decode_slot_seconds, reading_key};
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
fn the_slot_length_is_the_first_field_of_the_community() {
	assert_eq!(community_key(), pallet_market::CommunityParams::<Runtime>::hashed_key().to_vec());
	let mut community = pallet_market::Community::default();
	assert_eq!(decode_slot_seconds(&community.encode()), Some(900));
	community.slot_seconds = 0;
	assert_eq!(decode_slot_seconds(&community.encode()), None);
}
