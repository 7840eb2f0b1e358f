//! A battery behind a storage inverter that takes SunSpec's basic storage controls (model
//! 124) over Modbus, for homes without OpenEMS: the box writes limits on its charge and
//! discharge rate with a revert time, which the inverter drops for its own mode when the box
//! stops renewing them.
//!
//! The rates are percentages of the battery's maximum charge rate (`WChaMax`) and signed, as
//! the inverters read them: a negative discharge limit makes a charge the battery must at
//! least make, a negative charge limit a discharge it must at least make.

use super::{write_due, Battery, DeviceError, Held};
use crate::modbus::{ModbusError, Sunspec, Table, Transport, Unit};
use lem_gateway_core::device::{BatteryMode, BatteryState};
use std::time::{Duration, Instant};

/// Model 124's points, as offsets into its data.
const MODEL: u16 = 124;
const LENGTH: u16 = 24;
const W_CHA_MAX: u16 = 0;
const STOR_CTL_MOD: u16 = 3;
const CHA_STATE: u16 = 6;
const OUT_W_RTE: u16 = 10;
const CHA_GRI_SET: u16 = 15;
const W_CHA_MAX_SF: u16 = 16;
const CHA_STATE_SF: u16 = 20;
const IN_OUT_W_RTE_SF: u16 = 23;
/// StorCtl_Mod: both limits apply.
const BOTH_LIMITS: u16 = 3;
/// SunSpec's "not implemented" for a scale factor.
const NOT_IMPLEMENTED: i16 = i16::MIN;

/// A storage inverter's model 124, found and read once at connection.
pub struct StorageInverter {
	unit: Unit,
	/// Where model 124's data starts.
	data: u16,
	/// `WChaMax`, in W: what the rates are percentages of.
	power_w: u32,
	/// The rates' scale factor.
	rate_sf: i16,
	watchdog_s: u16,
	last: Option<Held<BatteryMode>>,
}

/// What model 124 is written for a mode: StorCtl_Mod; OutWRte and InWRte in percent; ChaGriSet.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Controls {
	mode: u16,
	out_percent: f64,
	in_percent: f64,
	grid: bool,
}

fn controls(mode: BatteryMode, power_w: u32) -> Controls {
	let percent = |w: f64| (w / f64::from(power_w) * 100.0).clamp(-100.0, 100.0);
	match mode {
		BatteryMode::Own => {
			Controls { mode: 0, out_percent: 100.0, in_percent: 100.0, grid: false }
		}
		BatteryMode::Limited { charge_w, discharge_w } => Controls {
			mode: BOTH_LIMITS,
			out_percent: percent(f64::from(discharge_w)),
			in_percent: percent(f64::from(charge_w)),
			grid: false,
		},
		BatteryMode::Fixed { power_w: p } => Controls {
			mode: BOTH_LIMITS,
			out_percent: percent(-f64::from(p)),
			in_percent: percent(f64::from(p)),
			grid: p > 0,
		},
	}
}

impl StorageInverter {
	/// Finds model 124 on `unit` over `transport` and reads its rating.
	pub async fn connect(
		transport: Transport,
		unit: u8,
		answer_within: Duration,
		watchdog_s: u16,
	) -> Result<Self, DeviceError> {
		let mut inverter = StorageInverter {
			unit: Unit::new(transport, unit, answer_within),
			data: 0,
			power_w: 0,
			rate_sf: 0,
			watchdog_s,
			last: None,
		};
		let device = inverter.name();
		let missing =
			|what: &str| DeviceError::Missing { device: device.clone(), what: what.into() };
		match inverter.unit.find_sunspec_model(|m| m == MODEL).await {
			Ok(Sunspec::Model { data, length }) if length >= LENGTH => inverter.data = data,
			Ok(Sunspec::Model { .. }) => return Err(missing("whole model 124 (too short)")),
			Ok(Sunspec::NoMarker) => return Err(missing("SunSpec marker")),
			Ok(Sunspec::NoModel) => return Err(missing("SunSpec storage model (124)")),
			Err((register, error)) => {
				return Err(inverter.failed("finding the SunSpec models", register, error))
			}
		}
		let points = inverter.points().await?;
		let power = scaled(points[W_CHA_MAX as usize], points[W_CHA_MAX_SF as usize] as i16);
		inverter.rate_sf = points[IN_OUT_W_RTE_SF as usize] as i16;
		let nonsense = |what: String| DeviceError::Nonsense { device: device.clone(), what };
		match power {
			Some(w) if (1.0..=1e6).contains(&w) => inverter.power_w = w as u32,
			_ => return Err(nonsense(format!("WChaMax {:?} is no battery's power", power))),
		}
		if !(-4..=0).contains(&inverter.rate_sf) {
			return Err(nonsense(format!(
				"InOutWRte_SF {} is not a rate's scale",
				inverter.rate_sf
			)));
		}
		Ok(inverter)
	}

	fn failed(&self, doing: &'static str, register: u16, error: ModbusError) -> DeviceError {
		DeviceError::Modbus { device: self.name(), doing, register, error }
	}

	/// Model 124's points.
	async fn points(&mut self) -> Result<Vec<u16>, DeviceError> {
		let read = self.unit.read(Table::Holding, self.data, LENGTH).await;
		read.map_err(|e| self.failed("reading model 124", self.data, e))
	}

	/// A percentage as a rate register holds it.
	fn rate(&self, percent: f64) -> u16 {
		(percent * 10f64.powi(-i32::from(self.rate_sf))).round() as i16 as u16
	}

	async fn write(
		&mut self,
		doing: &'static str,
		point: u16,
		values: &[u16],
	) -> Result<(), DeviceError> {
		let register = self.data + point;
		let written = self.unit.write(register, values).await;
		written.map_err(|e| self.failed(doing, register, e))
	}
}

/// `value` times ten to the `sf`, unless either is SunSpec's "not implemented".
fn scaled(value: u16, sf: i16) -> Option<f64> {
	(sf != NOT_IMPLEMENTED && value != u16::MAX && (-10..=10).contains(&sf))
		.then(|| f64::from(value) * 10f64.powi(i32::from(sf)))
}

impl Battery for StorageInverter {
	async fn hold(&mut self, mode: BatteryMode, now: Instant) -> Result<(), DeviceError> {
		if !write_due(&self.last, &mode, now, self.watchdog_s) {
			return Ok(());
		}
		let c = controls(mode, self.power_w);
		// The mode first: some inverters reset the rates when it changes.
		self.write("writing StorCtl_Mod", STOR_CTL_MOD, &[c.mode]).await?;
		// OutWRte, InWRte, InOutWRte_WinTms (none: at once), InOutWRte_RvrtTms.
		let rates = [self.rate(c.out_percent), self.rate(c.in_percent), 0, self.watchdog_s];
		self.write("writing the rates", OUT_W_RTE, &rates).await?;
		self.write("writing ChaGriSet", CHA_GRI_SET, &[u16::from(c.grid)]).await?;
		self.last = Some(Held { command: mode, written: now });
		Ok(())
	}

	async fn state(&mut self) -> Result<BatteryState, DeviceError> {
		let points = self.points().await?;
		let percent = scaled(points[CHA_STATE as usize], points[CHA_STATE_SF as usize] as i16);
		match percent {
			Some(p) if (0.0..=100.0).contains(&p) => Ok(BatteryState {
				stored_permille: (p * 10.0).round() as u16,
				power_w: self.power_w,
			}),
			_ => Err(DeviceError::Nonsense {
				device: self.name(),
				what: format!("ChaState {percent:?} is not a percentage"),
			}),
		}
	}

	fn name(&self) -> String {
		format!("storage inverter {}", self.unit.name())
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_fixed_charge_is_a_charge_limit_and_a_negative_discharge_limit() {
		let c = controls(BatteryMode::Fixed { power_w: 3_000 }, 5_000);
		assert_eq!(c, Controls { mode: 3, out_percent: -60.0, in_percent: 60.0, grid: true });
		let c = controls(BatteryMode::Fixed { power_w: -2_500 }, 5_000);
		assert_eq!(c, Controls { mode: 3, out_percent: 50.0, in_percent: -50.0, grid: false });
	}

	#[test]
	fn limits_above_the_rating_are_the_rating() {
		let c = controls(BatteryMode::Limited { charge_w: 9_000, discharge_w: 0 }, 5_000);
		assert_eq!(c, Controls { mode: 3, out_percent: 0.0, in_percent: 100.0, grid: false });
	}

	#[test]
	fn scale_factors_not_implemented_give_no_value() {
		assert_eq!(scaled(455, -1), Some(45.5));
		assert_eq!(scaled(455, NOT_IMPLEMENTED), None);
		assert_eq!(scaled(u16::MAX, 0), None);
	}
}
