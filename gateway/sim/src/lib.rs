//! `lem-sim`: the devices of a demo household, simulated for demos and tests, speaking the
//! protocols real ones speak so that the box is tested on real protocol bytes. The box
//! (`lem-gateway`) links none of this.
//!
//! `lem-meter-sim`'s household: what its meter would measure, from a seed.
//!
//! A base load with a morning and an evening peak and noise; PV by time of day for the PV
//! households; a battery on household 5 ([`battery`]), an electric car on household 7 ([`ev`],
//! its wallbox speaking OCPP in [`wallbox`]) and a heat pump on household 8 ([`heat_pump`]),
//! each run in its own mode or by an EMS over its protocol. The meter sees
//! the sum. Its cumulative import and export registers only increase. The clock may run
//! faster than the wall's (`speed`): at 30, a chain slot of 30 s sees a 15-minute slot of the
//! household's day; the devices' watchdogs run on the wall's, as the box's renewals do.

pub mod battery;
pub mod ev;
pub mod heat_pump;
pub mod openems;
pub mod sml;
pub mod wallbox;

use battery::Battery;
use ev::Ev;
use heat_pump::HeatPump;

use std::{
	f64::consts::PI,
	future,
	sync::{Arc, Mutex},
	time::Instant,
};
use tokio_modbus::{ExceptionCode, Request, Response};

/// The demo households with PV on their roofs.
pub const PV_HOUSEHOLDS: [u8; 5] = [2, 3, 5, 6, 9];
/// The demo household with a battery.
pub const BATTERY_HOUSEHOLD: u8 = 5;
/// The demo household with an electric car and a wallbox.
pub const EV_HOUSEHOLD: u8 = 7;
/// The demo household with a heat pump.
pub const HEAT_PUMP_HOUSEHOLD: u8 = 8;

/// A household's appliances, roof and devices.
#[derive(Clone, Debug)]
pub struct Household {
	seed: u64,
	base_load_w: f64,
	pv_peak_w: f64,
	pub battery: Option<Battery>,
	pub ev: Option<Ev>,
	pub heat_pump: Option<HeatPump>,
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
			battery: (number == BATTERY_HOUSEHOLD)
				.then(|| Battery::new(10_000.0, 5_000.0, 5_000.0)),
			ev: (number == EV_HOUSEHOLD).then(Ev::new),
			heat_pump: (number == HEAT_PUMP_HOUSEHOLD).then(|| HeatPump::new(42.0)),
		}
	}

	/// The hour of the day at `unix_seconds`, Central European.
	fn hour(unix_seconds: u64) -> f64 {
		((unix_seconds + 3_600) % 86_400) as f64 / 3_600.0
	}

	/// Load and PV in watts at `unix_seconds` (simulated).
	fn load_and_pv(&self, unix_seconds: u64) -> (f64, f64) {
		let hour = Self::hour(unix_seconds);
		let noise = (mix(self.seed ^ unix_seconds / 60) % 1_000) as f64 / 1_000.0;
		let load = self.base_load_w * (0.8 + 0.4 * noise)
			+ 600.0 * peak(hour, 7.5)
			+ 1_200.0 * peak(hour, 19.0);
		let pv = self.pv_peak_w * (PI * (hour - 6.0) / 12.0).sin().max(0.0);
		(load, pv)
	}

	/// Energy drawn from and fed into the grid over `seconds` from `unix_seconds` on, in Wh,
	/// with the devices' controls as they stand at `wall`.
	pub fn step(&mut self, unix_seconds: u64, seconds: f64, wall: Instant) -> (f64, f64) {
		let (load, pv) = self.load_and_pv(unix_seconds);
		let mut net_w = load - pv;
		let hour = Self::hour(unix_seconds);
		if let Some(hp) = &mut self.heat_pump {
			net_w += hp.step(hour, seconds, wall);
		}
		if let Some(ev) = &mut self.ev {
			net_w += ev.step(hour, seconds, wall);
		}
		// The battery answers what the rest of the house does.
		if let Some(b) = &mut self.battery {
			net_w += b.step(net_w, seconds, wall);
		}
		let wh = net_w.abs() * seconds / 3_600.0;
		if net_w >= 0.0 {
			(wh, 0.0)
		} else {
			(0.0, wh)
		}
	}
}

/// SunSpec's marker, "SunS", where a SunSpec device's models begin, the common model's ID
/// and length, and the end of the chain of models.
const SUNSPEC_MARKER: [u16; 2] = [0x5375, 0x6e53];
const SUNSPEC_BASE: u16 = 40_000;
const SUNSPEC_COMMON: [u16; 2] = [1, 66];
const SUNSPEC_END: [u16; 2] = [0xffff, 0];
/// The offsets of a meter model's (201–204) total energy registers in its data, after its ID
/// and length (SunSpec Information Model, model 203).
const SUNSPEC_TOT_WH_EXP: usize = 36;
const SUNSPEC_TOT_WH_IMP: usize = 44;

/// A SunSpec device's register block from 40000: the marker, the common model, then `model`
/// with its `data`, then the end.
fn sunspec_block(model: u16, data: &[u16]) -> Vec<u16> {
	let mut block = SUNSPEC_MARKER.to_vec();
	block.extend(SUNSPEC_COMMON);
	block.extend([0u16; 66]);
	block.extend([model, data.len() as u16]);
	block.extend(data);
	block.extend(SUNSPEC_END);
	block
}

/// Where the model's data starts in [`sunspec_block`].
const SUNSPEC_MODEL_DATA: u16 = SUNSPEC_BASE + 2 + 2 + 66 + 2;

/// `count` registers at `address` of a space of blocks, each at its start address.
fn registers(
	space: &[(u16, Vec<u16>)],
	address: u16,
	count: u16,
) -> Result<Vec<u16>, ExceptionCode> {
	space
		.iter()
		.find_map(|(start, block)| {
			let from = address.checked_sub(*start)? as usize;
			block.get(from..from + count as usize).map(<[u16]>::to_vec)
		})
		.ok_or(ExceptionCode::IllegalDataAddress)
}

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

	pub fn household(&self) -> &Household {
		&self.household
	}

	/// Advances the meter by `seconds` of the household's time from `unix_seconds` on, at
	/// `wall`.
	pub fn advance(&mut self, unix_seconds: u64, seconds: f64, wall: Instant) {
		let (import, export) = self.household.step(unix_seconds, seconds, wall);
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

	/// The meter's input registers 0–7 (the simulator's map): import and export, four words
	/// each.
	fn input_registers(&self) -> Vec<(u16, Vec<u16>)> {
		let (import, export) = self.registers();
		vec![(0, words(import, 4).chain(words(export, 4)).collect())]
	}

	/// The meter as a SunSpec device with a wye meter model (203).
	fn meter_model(&self) -> Vec<(u16, Vec<u16>)> {
		let (import, export) = self.registers();
		let mut meter = vec![0u16; 105];
		let acc32 = |v: u64| words(v % (1 << 32), 2).collect::<Vec<_>>();
		let (exp, imp) = (SUNSPEC_TOT_WH_EXP, SUNSPEC_TOT_WH_IMP);
		meter[exp..exp + 2].copy_from_slice(&acc32(export));
		meter[imp..imp + 2].copy_from_slice(&acc32(import));
		vec![(SUNSPEC_BASE, sunspec_block(203, &meter))]
	}
}

/// `v`'s lowest `n` words, the most significant first.
fn words(v: u64, n: usize) -> impl Iterator<Item = u16> {
	(0..n).rev().map(move |i| (v >> (16 * i)) as u16)
}

/// Which of the household's devices a Modbus server is: each has its own address on the home
/// network, as real ones do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
	/// The meter: the simulator's map (input registers) and a SunSpec meter (holding).
	Meter,
	/// The battery's storage inverter: SunSpec, model 124.
	Battery,
	/// The relay module at the heat pump's SG-Ready contacts: coils 0 and 1, and its
	/// watchdog in holding register 0.
	Relays,
}

/// The Modbus service of one device of a shared household.
#[derive(Clone)]
pub struct Service {
	pub home: Arc<Mutex<SimMeter>>,
	pub device: Device,
}

impl Service {
	fn answer(&self, request: Request<'static>) -> Result<Response, ExceptionCode> {
		use ExceptionCode::{IllegalDataAddress, IllegalDataValue, IllegalFunction};
		use Request::*;
		let mut home = self.home.lock().expect("the home is never left half-updated");
		let wall = Instant::now();
		match (self.device, request) {
			(Device::Meter, ReadInputRegisters(at, n)) => {
				registers(&home.input_registers(), at, n).map(Response::ReadInputRegisters)
			}
			(Device::Meter, ReadHoldingRegisters(at, n)) => {
				registers(&home.meter_model(), at, n).map(Response::ReadHoldingRegisters)
			}
			(Device::Battery, request) => {
				let battery = home.household.battery.as_mut().ok_or(IllegalFunction)?;
				let write = |battery: &mut Battery, at: u16, values: &[u16]| {
					let point = at.checked_sub(SUNSPEC_MODEL_DATA).ok_or(IllegalDataAddress)?;
					battery.write(point, values, wall).map_err(|e| match e {
						battery::WriteError::Address => IllegalDataAddress,
						battery::WriteError::Value => IllegalDataValue,
					})
				};
				match request {
					ReadHoldingRegisters(at, n) => {
						let space = [(
							SUNSPEC_BASE,
							sunspec_block(battery::model124::ID, &battery.model124()),
						)];
						registers(&space, at, n).map(Response::ReadHoldingRegisters)
					}
					WriteSingleRegister(at, value) => write(battery, at, &[value])
						.map(|()| Response::WriteSingleRegister(at, value)),
					WriteMultipleRegisters(at, values) => write(battery, at, &values)
						.map(|()| Response::WriteMultipleRegisters(at, values.len() as u16)),
					_ => Err(IllegalFunction),
				}
			}
			(Device::Relays, request) => {
				let hp = home.household.heat_pump.as_mut().ok_or(IllegalFunction)?;
				let coil = |hp: &mut HeatPump, at: u16, on: bool| {
					hp.write_coil(at, on, wall).map_err(|()| IllegalDataAddress)
				};
				match request {
					ReadCoils(at, n) => hp
						.coils(wall)
						.get(at as usize..(at as usize).saturating_add(n as usize))
						.map(|c| Response::ReadCoils(c.to_vec()))
						.ok_or(IllegalDataAddress),
					WriteSingleCoil(at, on) => {
						coil(hp, at, on).map(|()| Response::WriteSingleCoil(at, on))
					}
					WriteMultipleCoils(at, ons) if at as usize + ons.len() <= 2 => {
						for (i, &on) in ons.iter().enumerate() {
							coil(hp, at + i as u16, on)?;
						}
						Ok(Response::WriteMultipleCoils(at, ons.len() as u16))
					}
					WriteMultipleCoils(..) => Err(IllegalDataAddress),
					ReadHoldingRegisters(0, 1) => {
						Ok(Response::ReadHoldingRegisters(vec![hp.watchdog_seconds()]))
					}
					WriteSingleRegister(0, seconds) if seconds <= 3_600 => {
						hp.set_watchdog(seconds);
						Ok(Response::WriteSingleRegister(0, seconds))
					}
					WriteMultipleRegisters(0, values)
						if values.len() == 1 && values[0] <= 3_600 =>
					{
						hp.set_watchdog(values[0]);
						Ok(Response::WriteMultipleRegisters(0, 1))
					}
					WriteSingleRegister(0, _) | WriteMultipleRegisters(0, _) => {
						Err(IllegalDataValue)
					}
					ReadHoldingRegisters(..)
					| WriteSingleRegister(..)
					| WriteMultipleRegisters(..) => Err(IllegalDataAddress),
					_ => Err(IllegalFunction),
				}
			}
			_ => Err(IllegalFunction),
		}
	}
}

impl tokio_modbus::server::Service for Service {
	type Request = Request<'static>;
	type Response = Response;
	type Exception = ExceptionCode;
	type Future = future::Ready<Result<Response, ExceptionCode>>;

	fn call(&self, request: Self::Request) -> Self::Future {
		future::ready(self.answer(request))
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
				meter.advance(t, 60.0, Instant::now());
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
		let (_, exported_with) = with.step(noon, 600.0, Instant::now());
		let (_, exported_without) = without.step(noon, 600.0, Instant::now());
		assert!(exported_with < exported_without);
	}

	#[test]
	fn a_seed_gives_the_same_household() {
		let mut a = SimMeter::new(Household::demo(3, 42), 0);
		let mut b = SimMeter::new(Household::demo(3, 42), 0);
		for t in (1_800_000_000..1_800_003_600).step_by(10) {
			a.advance(t, 10.0, Instant::now());
			b.advance(t, 10.0, Instant::now());
		}
		assert_eq!(a.registers(), b.registers());
	}

	#[test]
	fn the_meter_sees_the_house_and_its_devices_together() {
		let day = 1_800_000_000 / 86_400 * 86_400;
		let wall = Instant::now();
		let mut with = SimMeter::new(Household::demo(HEAT_PUMP_HOUSEHOLD, 7), 0);
		let mut without = SimMeter::new(
			Household { heat_pump: None, ..Household::demo(HEAT_PUMP_HOUSEHOLD, 7) },
			0,
		);
		for minute in 0..24 * 60 {
			with.advance(day + minute * 60, 60.0, wall);
			without.advance(day + minute * 60, 60.0, wall);
		}
		let heat_pump = with.household().heat_pump.as_ref().unwrap().electricity_wh;
		// No PV on this roof: every Wh the heat pump used came through the meter.
		let drawn = with.import_wh - without.import_wh;
		assert!((drawn - heat_pump).abs() < 1e-6, "{drawn} vs {heat_pump}");

		let mut home = SimMeter::new(Household::demo(BATTERY_HOUSEHOLD, 7), 0);
		let mut bare =
			SimMeter::new(Household { battery: None, ..Household::demo(BATTERY_HOUSEHOLD, 7) }, 0);
		for minute in 0..24 * 60 {
			home.advance(day + minute * 60, 60.0, wall);
			bare.advance(day + minute * 60, 60.0, wall);
		}
		let b = home.household().battery.as_ref().unwrap();
		let net = |m: &SimMeter| m.import_wh - m.export_wh;
		let through_battery = net(&home) - net(&bare);
		assert!((through_battery - (b.charged_wh - b.discharged_wh)).abs() < 1e-6);
	}
}
