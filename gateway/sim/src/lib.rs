//! `lem-sim`: the devices of a demo household, simulated for demos and tests, speaking the
//! protocols real ones speak so that the box is tested on real protocol bytes. The box
//! (`lem-gateway`) links none of this.
//!
//! `lem-meter-sim`'s household: what its meter would measure, from a seed.
//!
//! A base load with a morning and an evening peak and noise; PV by time of day for the PV
//! households; a battery for household 5 that stores the PV surplus and covers the load from
//! it. The meter's cumulative import and export registers only increase. The clock may run
//! faster than the wall's (`speed`): at 30, a chain slot of 30 s sees a 15-minute slot of the
//! household's day.

pub mod sml;

use std::{
	f64::consts::PI,
	future,
	sync::{Arc, Mutex},
};
use tokio_modbus::{ExceptionCode, Request, Response};

/// The demo households with PV on their roofs.
pub const PV_HOUSEHOLDS: [u8; 5] = [2, 3, 5, 6, 9];
/// The demo household with a battery.
pub const BATTERY_HOUSEHOLD: u8 = 5;

/// A household's appliances and roof.
#[derive(Clone, Debug)]
pub struct Household {
	seed: u64,
	base_load_w: f64,
	pv_peak_w: f64,
	battery: Option<Battery>,
}

#[derive(Clone, Debug)]
struct Battery {
	capacity_wh: f64,
	power_w: f64,
	charge_wh: f64,
}

/// A deterministic 64-bit mix (splitmix64): the same seed and minute give the same noise.
fn mix(mut x: u64) -> u64 {
	x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
	x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
	x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
	x ^ (x >> 31)
}

/// A bump of height 1 centred on `hour` with a width of about two hours.
fn peak(hour_of_day: f64, hour: f64) -> f64 {
	(-((hour_of_day - hour) / 1.2).powi(2)).exp()
}

impl Household {
	/// Demo household `number` (1–10), its details drawn from `seed`.
	pub fn demo(number: u8, seed: u64) -> Self {
		let draw = |i: u64| (mix(seed ^ (number as u64) << 32 ^ i) % 1_000) as f64 / 1_000.0;
		Self {
			seed: mix(seed ^ number as u64),
			base_load_w: 250.0 + 250.0 * draw(1),
			pv_peak_w: if PV_HOUSEHOLDS.contains(&number) {
				4_000.0 + 4_000.0 * draw(2)
			} else {
				0.0
			},
			battery: (number == BATTERY_HOUSEHOLD).then_some(Battery {
				capacity_wh: 10_000.0,
				power_w: 5_000.0,
				charge_wh: 5_000.0,
			}),
		}
	}

	/// Load and PV in watts at `unix_seconds` (simulated). Times of day are Central European.
	fn load_and_pv(&self, unix_seconds: u64) -> (f64, f64) {
		let hour = ((unix_seconds + 3_600) % 86_400) as f64 / 3_600.0;
		let noise = (mix(self.seed ^ unix_seconds / 60) % 1_000) as f64 / 1_000.0;
		let load = self.base_load_w * (0.8 + 0.4 * noise)
			+ 600.0 * peak(hour, 7.5)
			+ 1_200.0 * peak(hour, 19.0);
		let pv = self.pv_peak_w * (PI * (hour - 6.0) / 12.0).sin().max(0.0);
		(load, pv)
	}

	/// Energy drawn from and fed into the grid over `seconds` from `unix_seconds` on, in Wh.
	pub fn step(&mut self, unix_seconds: u64, seconds: f64) -> (f64, f64) {
		let (load, pv) = self.load_and_pv(unix_seconds);
		let mut net_w = load - pv;
		if let Some(b) = &mut self.battery {
			// Charge from a surplus, discharge into a shortfall, within power and capacity.
			let room_w = (b.capacity_wh - b.charge_wh) * 3_600.0 / seconds;
			let stored_w = b.charge_wh * 3_600.0 / seconds;
			let battery_w = (-net_w).clamp(-b.power_w.min(stored_w), b.power_w.min(room_w));
			b.charge_wh += battery_w * seconds / 3_600.0;
			net_w += battery_w;
		}
		let wh = net_w.abs() * seconds / 3_600.0;
		if net_w >= 0.0 {
			(wh, 0.0)
		} else {
			(0.0, wh)
		}
	}
}

/// The Modbus table a register is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Table {
	Holding,
	Input,
}

/// SunSpec's marker, "SunS", and the offsets of a meter model's (201–204) total energy
/// registers in its data, after its ID and length (SunSpec Information Model, model 203).
const SUNSPEC_MARKER: [u16; 2] = [0x5375, 0x6e53];
const SUNSPEC_TOT_WH_EXP: usize = 36;
const SUNSPEC_TOT_WH_IMP: usize = 44;

/// The meter: a household and its registers, which only increase.
#[derive(Debug)]
pub struct SimMeter {
	household: Household,
	import_wh: f64,
	export_wh: f64,
}

impl SimMeter {
	/// A meter that has counted `start_wh` each way before the simulation begins.
	pub fn new(household: Household, start_wh: u64) -> Self {
		Self { household, import_wh: start_wh as f64, export_wh: start_wh as f64 }
	}

	/// Advances the meter by `seconds` of the household's time from `unix_seconds` on.
	pub fn advance(&mut self, unix_seconds: u64, seconds: f64) {
		let (import, export) = self.household.step(unix_seconds, seconds);
		self.import_wh += import;
		self.export_wh += export;
	}

	/// The registers in whole Wh.
	pub fn registers(&self) -> (u64, u64) {
		(self.import_wh as u64, self.export_wh as u64)
	}

	/// The registers in tenths of a Wh, as an SML meter counts.
	pub fn registers_tenths(&self) -> (u64, u64) {
		((self.import_wh * 10.0) as u64, (self.export_wh * 10.0) as u64)
	}

	/// The meter's register space: the simulator's map (input registers 0–7) and a SunSpec
	/// device (holding registers from 40000: marker, common model, wye meter model 203).
	fn read(&self, table: Table, address: u16, count: u16) -> Result<Vec<u16>, ExceptionCode> {
		let (import, export) = self.registers();
		let words = |v: u64, n: usize| (0..n).rev().map(move |i| (v >> (16 * i)) as u16);
		let space: Vec<(u16, Vec<u16>)> = match table {
			Table::Input => vec![(0, words(import, 4).chain(words(export, 4)).collect())],
			Table::Holding => {
				let mut meter = vec![0u16; 105];
				let acc32 = |v: u64| words(v % (1 << 32), 2).collect::<Vec<_>>();
				let (exp, imp) = (SUNSPEC_TOT_WH_EXP, SUNSPEC_TOT_WH_IMP);
				meter[exp..exp + 2].copy_from_slice(&acc32(export));
				meter[imp..imp + 2].copy_from_slice(&acc32(import));
				let mut block = SUNSPEC_MARKER.to_vec();
				block.extend([1, 66]);
				block.extend([0u16; 66]);
				block.extend([203, 105]);
				block.extend(meter);
				block.extend([0xffff, 0]);
				vec![(40_000, block)]
			}
		};
		space
			.iter()
			.find_map(|(start, block)| {
				let from = address.checked_sub(*start)? as usize;
				block.get(from..from + count as usize).map(<[u16]>::to_vec)
			})
			.ok_or(ExceptionCode::IllegalDataAddress)
	}
}

/// The Modbus service of a shared meter.
#[derive(Clone)]
pub struct Service(pub Arc<Mutex<SimMeter>>);

impl tokio_modbus::server::Service for Service {
	type Request = Request<'static>;
	type Response = Response;
	type Exception = ExceptionCode;
	type Future = future::Ready<Result<Response, ExceptionCode>>;

	fn call(&self, request: Self::Request) -> Self::Future {
		let meter = self.0.lock().expect("the meter is never left half-updated");
		future::ready(match request {
			Request::ReadHoldingRegisters(at, n) => {
				meter.read(Table::Holding, at, n).map(Response::ReadHoldingRegisters)
			}
			Request::ReadInputRegisters(at, n) => {
				meter.read(Table::Input, at, n).map(Response::ReadInputRegisters)
			}
			_ => Err(ExceptionCode::IllegalFunction),
		})
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn registers_only_increase_and_pv_households_export_at_noon() {
		for number in 1..=10 {
			let mut meter = SimMeter::new(Household::demo(number, 7), 1_000);
			let day = 1_800_000_000 / 86_400 * 86_400;
			let (mut import, mut export) = meter.registers();
			let mut exported_at_noon = 0;
			for minute in 0..24 * 60 {
				let t = day + minute * 60;
				let before = meter.registers();
				meter.advance(t, 60.0);
				let after = meter.registers();
				assert!(after.0 >= before.0 && after.1 >= before.1, "household {number}");
				if (11 * 60..13 * 60).contains(&minute) {
					exported_at_noon += after.1 - before.1;
				}
				(import, export) = after;
			}
			if !PV_HOUSEHOLDS.contains(&number) {
				assert_eq!(export, 1_000, "household {number} has nothing to feed in");
			} else if number != BATTERY_HOUSEHOLD {
				assert!(exported_at_noon > 0, "household {number} feeds in at noon");
			}
			if number != BATTERY_HOUSEHOLD {
				assert!(import > 1_000, "household {number} draws from the grid at night");
			}
		}
	}

	#[test]
	fn the_battery_takes_the_surplus_first() {
		let day = 1_800_000_000 / 86_400 * 86_400;
		let noon = day + 11 * 3_600;
		let mut with = Household::demo(BATTERY_HOUSEHOLD, 7);
		let mut without = Household { battery: None, ..with.clone() };
		let (_, exported_with) = with.step(noon, 600.0);
		let (_, exported_without) = without.step(noon, 600.0);
		assert!(exported_with < exported_without);
	}

	#[test]
	fn a_seed_gives_the_same_household() {
		let mut a = SimMeter::new(Household::demo(3, 42), 0);
		let mut b = SimMeter::new(Household::demo(3, 42), 0);
		for t in (1_800_000_000..1_800_003_600).step_by(10) {
			a.advance(t, 10.0);
			b.advance(t, 10.0);
		}
		assert_eq!(a.registers(), b.registers());
	}
}
