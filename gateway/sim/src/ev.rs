//! An electric car and its wallbox. The car comes home in the evening and leaves in the
//! morning; while it is plugged in the wallbox charges it at its full power (its own mode)
//! or at the limit the central system's charging profile sets, until the car is full. A
//! profile lapses when its duration is over, and the wallbox charges at full power again.
//!
//! What the wallbox's meter counts on the AC side is what the car stored plus the losses.

use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct Ev {
	pub capacity_wh: f64,
	pub stored_wh: f64,
	/// The wallbox's rating: three phases at 16 A.
	pub max_power_w: f64,
	/// Of the AC energy, this much reaches the car's battery.
	efficiency: f64,
	/// Hours of the day it arrives and leaves, and what it holds when it arrives.
	pub arrives_h: f64,
	pub leaves_h: f64,
	arrives_with_wh: f64,
	pub plugged: bool,
	/// The central system's limit, until its end.
	limit: Option<(f64, Instant)>,
	/// The wallbox's energy register, and what went into the car and was lost.
	pub delivered_wh: f64,
	pub stored_total_wh: f64,
	pub losses_wh: f64,
	/// What it drove away with, summed over days.
	pub driven_off_wh: f64,
	pub power_now_w: f64,
	/// Sessions begun: a new one at every arrival.
	pub sessions: u32,
}

impl Ev {
	pub fn new() -> Self {
		Ev {
			capacity_wh: 60_000.0,
			stored_wh: 24_000.0,
			max_power_w: 11_000.0,
			efficiency: 0.92,
			arrives_h: 18.0,
			leaves_h: 7.5,
			arrives_with_wh: 24_000.0,
			plugged: false,
			limit: None,
			delivered_wh: 0.0,
			stored_total_wh: 0.0,
			losses_wh: 0.0,
			driven_off_wh: 0.0,
			power_now_w: 0.0,
			sessions: 0,
		}
	}

	fn at_home(&self, hour: f64) -> bool {
		hour >= self.arrives_h || hour < self.leaves_h
	}

	/// The central system limits the charging power to `power_w` for `duration` from `wall`;
	/// `None` clears the limit.
	pub fn limit(&mut self, limit: Option<(f64, Duration)>, wall: Instant) {
		self.limit = limit.map(|(w, d)| (w.clamp(0.0, self.max_power_w), wall + d));
	}

	/// The power it may charge at now: the limit while it holds, else full power.
	pub fn allowed_w(&self, wall: Instant) -> f64 {
		match self.limit {
			Some((w, until)) if wall < until => w,
			_ => self.max_power_w,
		}
	}

	/// Runs `seconds` at `hour` of the day; returns the wallbox's power.
	pub fn step(&mut self, hour: f64, seconds: f64, wall: Instant) -> f64 {
		let home = self.at_home(hour);
		if home && !self.plugged {
			// Back from a day's driving with what the day left.
			self.plugged = true;
			self.sessions += 1;
			self.stored_wh = self.arrives_with_wh.min(self.stored_wh);
		} else if !home && self.plugged {
			self.plugged = false;
			self.driven_off_wh += self.stored_wh;
		}
		let hours = seconds / 3_600.0;
		let room_w = (self.capacity_wh - self.stored_wh) / self.efficiency / hours;
		let power = if self.plugged { self.allowed_w(wall).min(room_w).max(0.0) } else { 0.0 };
		let ac = power * hours;
		self.delivered_wh += ac;
		self.stored_wh += ac * self.efficiency;
		self.stored_total_wh += ac * self.efficiency;
		self.losses_wh += ac * (1.0 - self.efficiency);
		self.power_now_w = power;
		power
	}
}

impl Default for Ev {
	fn default() -> Self {
		Self::new()
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn plugged_in_the_evening_it_charges_at_full_power_and_stops_when_full() {
		let wall = Instant::now();
		let mut ev = Ev::new();
		assert_eq!(ev.step(12.0, 60.0, wall), 0.0, "away at noon");
		assert_eq!(ev.step(18.5, 60.0, wall), 11_000.0);
		for minute in 0..12 * 60 {
			ev.step((18.5 + minute as f64 / 60.0) % 24.0, 60.0, wall);
		}
		assert!((ev.stored_wh - ev.capacity_wh).abs() < 1e-6, "{}", ev.stored_wh);
		assert_eq!(ev.step(23.0, 60.0, wall), 0.0, "full");
		let balance = ev.delivered_wh - ev.stored_total_wh - ev.losses_wh;
		assert!(balance.abs() < 1e-6);
	}

	#[test]
	fn a_limit_holds_until_its_end() {
		let wall = Instant::now();
		let mut ev = Ev::new();
		ev.limit(Some((4_200.0, Duration::from_secs(60))), wall);
		assert_eq!(ev.step(19.0, 60.0, wall), 4_200.0);
		assert_eq!(ev.step(19.0, 60.0, wall + Duration::from_secs(59)), 4_200.0);
		assert_eq!(ev.step(19.0, 60.0, wall + Duration::from_secs(60)), 11_000.0);
		ev.limit(Some((0.0, Duration::from_secs(60))), wall);
		assert_eq!(ev.step(19.0, 60.0, wall), 0.0, "paused");
		ev.limit(None, wall);
		assert_eq!(ev.step(19.0, 60.0, wall), 11_000.0);
	}
}
