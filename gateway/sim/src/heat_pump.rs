//! A heat pump with a buffer tank, switched by SG-Ready's two contacts, which an EMS drives
//! through a Modbus relay module (coil 0: contact 1, coil 1: contact 2).
//!
//! SG-Ready's states: contact 1 closed alone blocks the heat pump (the utility's lock);
//! both open is its normal operation; contact 2 closed alone asks it to run more (it heats
//! the tank to a higher set point); both closed orders it on. The relay module has a
//! communication watchdog (holding register 0, seconds, 0 for none): when no coil was
//! written within it, both relays open and the heat pump is back in its normal operation.
//!
//! The tank's heat is conserved: what the compressor puts in (its electric power times its
//! coefficient of performance) is what the house takes plus the tank's own warming.

use std::time::{Duration, Instant};

/// SG-Ready's operating states, as the two contacts make them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SgReady {
	Blocked,
	Normal,
	Boosted,
	On,
}

impl SgReady {
	pub fn from_contacts(contact_1: bool, contact_2: bool) -> Self {
		match (contact_1, contact_2) {
			(true, false) => Self::Blocked,
			(false, false) => Self::Normal,
			(false, true) => Self::Boosted,
			(true, true) => Self::On,
		}
	}
}

#[derive(Clone, Debug)]
pub struct HeatPump {
	/// The compressor's electric power when it runs.
	pub power_w: f64,
	/// The tank's heat capacity: 300 l of water.
	pub tank_wh_per_kelvin: f64,
	pub tank_c: f64,
	/// Normal operation keeps the tank between these; boosted heats it to `boost_c`.
	pub band_c: (f64, f64),
	pub boost_c: f64,
	/// The house's heat loss per kelvin between inside (20 °C) and outside.
	pub house_w_per_kelvin: f64,
	running: bool,
	contacts: (bool, bool),
	watchdog: Duration,
	written: Option<Instant>,
	/// Electricity used, heat delivered to the tank, heat the house took.
	pub electricity_wh: f64,
	pub heat_wh: f64,
	pub demand_wh: f64,
}

const INSIDE_C: f64 = 20.0;

impl HeatPump {
	pub fn new(tank_c: f64) -> Self {
		HeatPump {
			power_w: 2_000.0,
			tank_wh_per_kelvin: 349.0,
			tank_c,
			band_c: (40.0, 45.0),
			boost_c: 55.0,
			house_w_per_kelvin: 150.0,
			running: false,
			contacts: (false, false),
			watchdog: Duration::ZERO,
			written: None,
			electricity_wh: 0.0,
			heat_wh: 0.0,
			demand_wh: 0.0,
		}
	}

	/// The state the contacts make now: open once the watchdog lapsed.
	pub fn state(&self, wall: Instant) -> SgReady {
		let lapsed = !self.watchdog.is_zero()
			&& self.written.is_some_and(|at| wall.duration_since(at) >= self.watchdog);
		if lapsed {
			SgReady::Normal
		} else {
			SgReady::from_contacts(self.contacts.0, self.contacts.1)
		}
	}

	/// The relays as the module reports them.
	pub fn coils(&self, wall: Instant) -> [bool; 2] {
		match self.state(wall) {
			SgReady::Normal => [false, false],
			_ => [self.contacts.0, self.contacts.1],
		}
	}

	pub fn watchdog_seconds(&self) -> u16 {
		self.watchdog.as_secs() as u16
	}

	/// An EMS switches relay `coil` (0 or 1).
	pub fn write_coil(&mut self, coil: u16, on: bool, wall: Instant) -> Result<(), ()> {
		let [c1, c2] = self.coils(wall);
		self.contacts = match coil {
			0 => (on, c2),
			1 => (c1, on),
			_ => return Err(()),
		};
		self.written = Some(wall);
		Ok(())
	}

	pub fn set_watchdog(&mut self, seconds: u16) {
		self.watchdog = Duration::from_secs(u64::from(seconds));
	}

	/// Outside temperature by hour of the day: a winter day, coldest before sunrise.
	fn outside_c(hour: f64) -> f64 {
		2.0 + 5.0 * (std::f64::consts::PI * (hour - 9.0) / 12.0).sin()
	}

	/// The coefficient of performance: a share of Carnot's between the tank and outside.
	fn cop(&self, outside_c: f64) -> f64 {
		let lift = (self.tank_c - outside_c).max(10.0);
		(0.45 * (self.tank_c + 273.15) / lift).clamp(1.5, 6.0)
	}

	/// Runs `seconds` at `hour` of the day; returns its electric power.
	pub fn step(&mut self, hour: f64, seconds: f64, wall: Instant) -> f64 {
		let (low, high) = self.band_c;
		let state = self.state(wall);
		let (low, high) = match state {
			SgReady::Blocked => (f64::NEG_INFINITY, f64::NEG_INFINITY),
			SgReady::Normal => (low, high),
			SgReady::Boosted => (self.boost_c - (high - low), self.boost_c),
			SgReady::On => (f64::INFINITY, f64::INFINITY),
		};
		// A thermostat with hysteresis: on below the band, off above it.
		if self.tank_c < low {
			self.running = true;
		} else if self.tank_c >= high {
			self.running = false;
		}
		if state == SgReady::On {
			self.running = self.tank_c < self.boost_c + 5.0;
		}
		let hours = seconds / 3_600.0;
		let outside = Self::outside_c(hour);
		let electric_w = if self.running { self.power_w } else { 0.0 };
		let heat = electric_w * self.cop(outside) * hours;
		// The house draws from the tank while the tank is warmer than the house.
		let demand = (self.house_w_per_kelvin * (INSIDE_C - outside) * hours)
			.min((self.tank_c - INSIDE_C).max(0.0) * self.tank_wh_per_kelvin + heat)
			.max(0.0);
		self.tank_c += (heat - demand) / self.tank_wh_per_kelvin;
		self.electricity_wh += electric_w * hours;
		self.heat_wh += heat;
		self.demand_wh += demand;
		electric_w
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	/// A day in one-minute steps in `state`, the contacts written at every step.
	fn day(state: (bool, bool)) -> HeatPump {
		let start = Instant::now();
		let mut hp = HeatPump::new(42.0);
		let tank_heat = hp.tank_c * hp.tank_wh_per_kelvin;
		for minute in 0..24 * 60 {
			let wall = start + Duration::from_secs(minute);
			hp.write_coil(0, state.0, wall).unwrap();
			hp.write_coil(1, state.1, wall).unwrap();
			hp.step(minute as f64 / 60.0, 60.0, wall);
		}
		let balance = tank_heat + hp.heat_wh - hp.demand_wh - hp.tank_c * hp.tank_wh_per_kelvin;
		assert!(balance.abs() < 1e-6, "the tank's heat is conserved: {balance}");
		hp
	}

	#[test]
	fn normal_keeps_the_band_boosted_stores_more_blocked_stops() {
		let normal = day((false, false));
		assert!((39.0..=46.0).contains(&normal.tank_c), "{}", normal.tank_c);
		assert!(normal.electricity_wh > 5_000.0, "a winter day needs heat");
		let boosted = day((false, true));
		assert!(boosted.tank_c > 50.0 && boosted.electricity_wh > normal.electricity_wh);
		let blocked = day((true, false));
		assert_eq!(blocked.electricity_wh, 0.0);
		assert!(blocked.tank_c < 40.0);
	}

	#[test]
	fn the_contacts_open_when_the_watchdog_lapses() {
		let start = Instant::now();
		let mut hp = HeatPump::new(42.0);
		hp.set_watchdog(60);
		hp.write_coil(0, true, start).unwrap();
		assert_eq!(hp.state(start + Duration::from_secs(59)), SgReady::Blocked);
		assert_eq!(hp.state(start + Duration::from_secs(60)), SgReady::Normal);
		assert_eq!(hp.coils(start + Duration::from_secs(60)), [false, false]);
		// Writing one relay after the lapse leaves the other open.
		hp.write_coil(1, true, start + Duration::from_secs(61)).unwrap();
		assert_eq!(hp.state(start + Duration::from_secs(61)), SgReady::Boosted);
		assert_eq!(hp.write_coil(2, true, start), Err(()));
	}
}
