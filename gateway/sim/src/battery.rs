//! A home battery behind a storage inverter that takes SunSpec's basic storage controls
//! (model 124), as Fronius and SolarEdge hybrids do: without an EMS it runs its own mode,
//! self-consumption (charge from a surplus, cover a shortfall); an EMS may write limits on
//! its charge and discharge rate, which lapse after a revert time unless written again.
//!
//! The rates are signed, as the inverters read them: a negative discharge limit is a
//! charge the battery must at least make, a negative charge limit a discharge it must at
//! least make. So "charge at 3 kW whatever the house does" is a charge limit of +3 kW and a
//! discharge limit of -3 kW.

use std::time::Instant;

/// Model 124's points, as offsets into its data (after its ID and length).
pub mod model124 {
	pub const ID: u16 = 124;
	pub const LENGTH: u16 = 24;
	pub const W_CHA_MAX: u16 = 0;
	pub const STOR_CTL_MOD: u16 = 3;
	pub const MIN_RSV_PCT: u16 = 5;
	pub const CHA_STATE: u16 = 6;
	pub const CHA_ST: u16 = 9;
	pub const OUT_W_RTE: u16 = 10;
	pub const IN_W_RTE: u16 = 11;
	pub const IN_OUT_W_RTE_WIN_TMS: u16 = 12;
	pub const IN_OUT_W_RTE_RVRT_TMS: u16 = 13;
	pub const CHA_GRI_SET: u16 = 15;
	pub const W_CHA_MAX_SF: u16 = 16;
	pub const CHA_STATE_SF: u16 = 20;
	pub const IN_OUT_W_RTE_SF: u16 = 23;
	/// StorCtl_Mod's bits: the charge limit applies; the discharge limit applies.
	pub const CHARGE: u16 = 1;
	pub const DISCHARGE: u16 = 2;
	/// ChaState's scale: tenths of a percent. The rates' scale: hundredths of a percent.
	pub const CHA_STATE_SCALE: i16 = -1;
	pub const RATE_SCALE: i16 = -2;
	/// ChaSt's values.
	pub const EMPTY: u16 = 2;
	pub const DISCHARGING: u16 = 3;
	pub const CHARGING: u16 = 4;
	pub const FULL: u16 = 5;
	pub const HOLDING: u16 = 6;
}

/// A whole percent in model 124's rate scale.
const PERCENT: i32 = 100;

/// What an EMS wrote, and until when it holds.
#[derive(Clone, Debug, PartialEq)]
struct Control {
	mode: u16,
	/// Hundredths of a percent of the battery's power.
	in_rate: i16,
	out_rate: i16,
	revert_seconds: u16,
	grid_charge: bool,
	until: Option<Instant>,
}

impl Default for Control {
	fn default() -> Self {
		Control {
			mode: 0,
			in_rate: (100 * PERCENT) as i16,
			out_rate: (100 * PERCENT) as i16,
			revert_seconds: 0,
			grid_charge: false,
			until: None,
		}
	}
}

#[derive(Clone, Debug)]
pub struct Battery {
	pub capacity_wh: f64,
	/// The most it charges or discharges at, on its AC side.
	pub power_w: f64,
	pub stored_wh: f64,
	/// One way: of a charge's AC energy this much is stored, of a stored Wh this much comes out.
	efficiency: f64,
	control: Control,
	/// What went in and came out on the AC side, and what was lost on the way.
	pub charged_wh: f64,
	pub discharged_wh: f64,
	pub losses_wh: f64,
	/// The last step's AC power: positive charging.
	pub power_now_w: f64,
}

/// Why an EMS's write was refused, as a Modbus exception says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteError {
	/// Not a writable point of model 124.
	Address,
	/// A value the point does not take.
	Value,
}

impl Battery {
	pub fn new(capacity_wh: f64, power_w: f64, stored_wh: f64) -> Self {
		Battery {
			capacity_wh,
			power_w,
			stored_wh,
			efficiency: 0.95,
			control: Control::default(),
			charged_wh: 0.0,
			discharged_wh: 0.0,
			losses_wh: 0.0,
			power_now_w: 0.0,
		}
	}

	/// Back to its own mode once the EMS's last write is older than the revert time.
	fn lapse(&mut self, wall: Instant) {
		if self.control.until.is_some_and(|until| wall >= until) {
			self.control = Control::default();
		}
	}

	/// Runs `seconds` while the house, without the battery, draws `net_w` (negative: a
	/// surplus). Returns the battery's AC power, positive charging, which the meter sees
	/// added to `net_w`.
	pub fn step(&mut self, net_w: f64, seconds: f64, wall: Instant) -> f64 {
		use model124::{CHARGE, DISCHARGE};
		self.lapse(wall);
		let rate = |r: i16| f64::from(r) / f64::from(100 * PERCENT) * self.power_w;
		let c = &self.control;
		let upper = if c.mode & CHARGE != 0 { rate(c.in_rate) } else { self.power_w };
		let lower = if c.mode & DISCHARGE != 0 { -rate(c.out_rate) } else { -self.power_w };
		// Its own mode, self-consumption, within the limits; the charge limit wins a conflict.
		let mut power = (-net_w).max(lower).min(upper);
		if power > 0.0 && !c.grid_charge {
			power = power.min((-net_w).max(0.0));
		}
		let hours = seconds / 3_600.0;
		let room_w = (self.capacity_wh - self.stored_wh) / self.efficiency / hours;
		let available_w = self.stored_wh * self.efficiency / hours;
		power = power.clamp(-self.power_w.min(available_w), self.power_w.min(room_w));
		if power >= 0.0 {
			let ac = power * hours;
			self.charged_wh += ac;
			self.stored_wh += ac * self.efficiency;
			self.losses_wh += ac * (1.0 - self.efficiency);
		} else {
			let ac = -power * hours;
			self.discharged_wh += ac;
			self.stored_wh -= ac / self.efficiency;
			self.losses_wh += ac / self.efficiency - ac;
		}
		self.stored_wh = self.stored_wh.clamp(0.0, self.capacity_wh);
		self.power_now_w = power;
		power
	}

	/// Model 124's data (its points after ID and length) as the EMS reads it.
	pub fn model124(&self) -> Vec<u16> {
		use model124::*;
		let mut data = vec![0u16; LENGTH as usize];
		let c = &self.control;
		let stored = (self.stored_wh / self.capacity_wh * 1_000.0).round() as u16;
		let state = match self.power_now_w {
			_ if stored == 0 => EMPTY,
			_ if stored >= 1_000 => FULL,
			p if p > 1.0 => CHARGING,
			p if p < -1.0 => DISCHARGING,
			_ => HOLDING,
		};
		for (point, value) in [
			(W_CHA_MAX, self.power_w.round() as u16),
			(STOR_CTL_MOD, c.mode),
			(CHA_STATE, stored),
			(CHA_ST, state),
			(OUT_W_RTE, c.out_rate as u16),
			(IN_W_RTE, c.in_rate as u16),
			(IN_OUT_W_RTE_RVRT_TMS, c.revert_seconds),
			(CHA_GRI_SET, u16::from(c.grid_charge)),
			(CHA_STATE_SF, CHA_STATE_SCALE as u16),
			(IN_OUT_W_RTE_SF, RATE_SCALE as u16),
		] {
			data[point as usize] = value;
		}
		data
	}

	/// An EMS writes `values` from point `at` on. A write that touches the control points
	/// restarts the revert time, if one is set; nothing changes if any value is refused.
	pub fn write(&mut self, at: u16, values: &[u16], wall: Instant) -> Result<(), WriteError> {
		use model124::*;
		let mut control = self.control.clone();
		for (i, &value) in values.iter().enumerate() {
			let point = at.checked_add(i as u16).ok_or(WriteError::Address)?;
			let rate = || {
				let rate = value as i16;
				(-100 * PERCENT..=100 * PERCENT)
					.contains(&i32::from(rate))
					.then_some(rate)
					.ok_or(WriteError::Value)
			};
			match point {
				STOR_CTL_MOD if value <= (CHARGE | DISCHARGE) => control.mode = value,
				OUT_W_RTE => control.out_rate = rate()?,
				IN_W_RTE => control.in_rate = rate()?,
				// A new rate applies at once: no random window.
				IN_OUT_W_RTE_WIN_TMS if value == 0 => {}
				IN_OUT_W_RTE_RVRT_TMS => control.revert_seconds = value,
				CHA_GRI_SET if value <= 1 => control.grid_charge = value == 1,
				STOR_CTL_MOD | CHA_GRI_SET | IN_OUT_W_RTE_WIN_TMS => return Err(WriteError::Value),
				_ => return Err(WriteError::Address),
			}
		}
		control.until = (control.revert_seconds > 0)
			.then(|| wall + std::time::Duration::from_secs(u64::from(control.revert_seconds)));
		self.control = control;
		Ok(())
	}
}

#[cfg(test)]
mod tests {
	use super::{model124::*, *};
	use proptest::prelude::*;
	use std::time::Duration;

	fn percent(p: i32) -> u16 {
		(p * PERCENT) as i16 as u16
	}

	#[test]
	fn on_its_own_it_takes_the_surplus_and_covers_the_shortfall() {
		let now = Instant::now();
		let mut b = Battery::new(10_000.0, 5_000.0, 5_000.0);
		assert_eq!(b.step(-2_000.0, 60.0, now), 2_000.0);
		assert_eq!(b.step(1_500.0, 60.0, now), -1_500.0);
		assert_eq!(b.step(-9_000.0, 60.0, now), 5_000.0, "no more than its power");
	}

	#[test]
	fn a_forced_charge_draws_from_the_grid_and_lapses_with_its_revert_time() {
		let now = Instant::now();
		let mut b = Battery::new(10_000.0, 5_000.0, 5_000.0);
		// Charge at 3 kW: charge limit +60 %, discharge limit -60 %, from the grid too.
		b.write(STOR_CTL_MOD, &[CHARGE | DISCHARGE], now).unwrap();
		b.write(OUT_W_RTE, &[percent(-60), percent(60), 0, 60], now).unwrap();
		b.write(CHA_GRI_SET, &[1], now).unwrap();
		assert_eq!(b.step(800.0, 60.0, now), 3_000.0);
		assert_eq!(b.step(800.0, 60.0, now + Duration::from_secs(59)), 3_000.0);
		assert_eq!(b.step(800.0, 60.0, now + Duration::from_secs(60)), -800.0, "lapsed");
	}

	#[test]
	fn no_discharge_holds_the_charge_and_a_refused_write_changes_nothing() {
		let now = Instant::now();
		let mut b = Battery::new(10_000.0, 5_000.0, 5_000.0);
		b.write(STOR_CTL_MOD, &[DISCHARGE], now).unwrap();
		b.write(OUT_W_RTE, &[0], now).unwrap();
		assert_eq!(b.step(1_000.0, 60.0, now), 0.0);
		let before = b.model124();
		assert_eq!(b.write(OUT_W_RTE, &[percent(50), percent(101)], now), Err(WriteError::Value));
		assert_eq!(b.write(W_CHA_MAX, &[1], now), Err(WriteError::Address));
		assert_eq!(b.write(STOR_CTL_MOD, &[4], now), Err(WriteError::Value));
		assert_eq!(b.model124(), before);
	}

	proptest! {
		/// Whatever an EMS writes and the house does: the store stays within its capacity, the
		/// power within its rating, and what went in is what is stored, came out or was lost.
		#[test]
		fn energy_is_conserved_and_the_store_stays_within_bounds(
			steps in prop::collection::vec(
				(-8_000.0f64..8_000.0, 1.0f64..900.0, 0u16..4, -10_000i16..=10_000, -10_000i16..=10_000, 0u16..2),
				1..60,
			),
			start in 0.0f64..10_000.0,
		) {
			let now = Instant::now();
			let mut b = Battery::new(10_000.0, 5_000.0, start);
			for (net, seconds, mode, out_rate, in_rate, grid) in steps {
				b.write(STOR_CTL_MOD, &[mode], now).unwrap();
				b.write(OUT_W_RTE, &[out_rate as u16, in_rate as u16], now).unwrap();
				b.write(CHA_GRI_SET, &[grid], now).unwrap();
				let power = b.step(net, seconds, now);
				prop_assert!(power.abs() <= 5_000.0 + 1e-9);
				prop_assert!((0.0..=10_000.0).contains(&b.stored_wh));
				if grid == 0 {
					prop_assert!(power <= (-net).max(0.0) + 1e-9, "no charge from the grid");
				}
			}
			let balance = start + b.charged_wh - b.discharged_wh - b.losses_wh - b.stored_wh;
			prop_assert!(balance.abs() < 1e-6, "{balance}");
		}
	}
}
