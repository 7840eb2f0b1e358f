//! The demo community's grid: a substation, two feeders, four streets. Used by the `dev` and
//! `local` genesis presets and by the clearing benchmark, so that the benchmark clears the tree
//! a demo runs on.

use crate::types::*;
use frame_support::BoundedVec;

/// Metering points of the ten demo households, in order, with their zones and rated power:
/// households 1, 3, 6 and 8 have PV, household 5 a battery; the others only consume.
pub const HOUSEHOLD_METERING_POINTS: [NewMeteringPoint; 10] = [
	household(1001, 11),
	household(1002, 11),
	household(1003, 12),
	household(1004, 12),
	household(1005, 12),
	household(1006, 21),
	household(1007, 21),
	household(1008, 22),
	household(1009, 22),
	household(1010, 22),
];

/// Rated power of a demo household's connection in slots of `slot_seconds`. The demo
/// compresses a 15-minute slot into a few seconds, so its connections are rated as many times
/// a household's 30 kW: a demo slot may then carry what a real slot does, at most 7.5 kWh each
/// way.
pub const fn household_rated_power_w(slot_seconds: u64) -> u32 {
	(30_000 * 900 / slot_seconds) as u32
}

/// At the demo's 30-second slots: 30 times 30 kW.
pub const HOUSEHOLD_RATED_POWER_W: u32 = household_rated_power_w(30);

const fn household(id: MeteringPointId, zone: ZoneId) -> NewMeteringPoint {
	NewMeteringPoint { id, zone, rated_power_w: HOUSEHOLD_RATED_POWER_W }
}

/// The streets (leaf zones) of the demo grid.
pub const STREETS: [ZoneId; 4] = [11, 12, 21, 22];

/// Zone 0 is the substation; feeders 1 and 2 hang off it (1 ct/kWh, 200 kWh per slot); streets
/// 11 and 12 off feeder 1, 21 and 22 off feeder 2 (0.5 ct/kWh, 60 kWh per slot). A yellow edge
/// costs 2 ct/kWh more.
pub fn grid() -> Grid {
	let zone = |id, parent, fee_per_kwh, capacity_wh| Zone {
		id,
		parent,
		fee_per_kwh,
		capacity_wh,
		light: TrafficLight::Green,
	};
	Grid {
		zones: BoundedVec::truncate_from(alloc::vec![
			zone(0, None, 0, None),
			zone(1, Some(0), 10_000, Some(200_000)),
			zone(2, Some(0), 10_000, Some(200_000)),
			zone(11, Some(1), 5_000, Some(60_000)),
			zone(12, Some(1), 5_000, Some(60_000)),
			zone(21, Some(2), 5_000, Some(60_000)),
			zone(22, Some(2), 5_000, Some(60_000)),
		]),
		yellow_surcharge_per_kwh: 20_000,
	}
}
