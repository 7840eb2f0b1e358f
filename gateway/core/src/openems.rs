//! OpenEMS Edge's remote control as the box, its remote EMS, speaks it (OpenEMS's clever-PV
//! controller): what an Edge's push says, and the answer that names the mode its battery is
//! to be in until the next push.

use crate::device::BatteryMode;
use alloc::string::{String, ToString};
use serde_json::{json, Value};

/// What the box takes from a push.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Push {
	/// The state of charge, in percent.
	pub soc_percent: u16,
	/// The most it offers to charge at from the grid, in W (0 if it offers no such mode).
	pub offered_w: u32,
}

/// Why a push was not taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PushError {
	/// Not JSON.
	NotJson(String),
	/// No state of charge between 0 and 100.
	NoSoc,
}

/// The push `body`, as the Edge POSTs it.
pub fn push(body: &[u8]) -> Result<Push, PushError> {
	let body: Value =
		serde_json::from_slice(body).map_err(|e| PushError::NotJson(e.to_string()))?;
	let soc = body["soc"].as_u64().filter(|s| *s <= 100).ok_or(PushError::NoSoc)?;
	let offered = body["availableControlModes"]["ess"]
		.as_array()
		.and_then(|modes| modes.iter().find_map(|m| m["maxChargePower"].as_u64()))
		.unwrap_or(0)
		.min(u64::from(u32::MAX));
	Ok(Push { soc_percent: soc as u16, offered_w: offered as u32 })
}

/// The answer that leaves the battery in its own mode.
pub fn off() -> String {
	json!({ "activateControlModes": {} }).to_string()
}

/// The answer for `mode`, if OpenEMS's remote control has one: its own mode; no discharge
/// (the battery held at 0 W); a charge from the grid. A discharge on command it has not.
pub fn answer(mode: BatteryMode) -> Option<String> {
	let ess = match mode {
		BatteryMode::Own => return Some(off()),
		BatteryMode::Limited { discharge_w: 0, .. } | BatteryMode::Fixed { power_w: 0 } => {
			json!({ "mode": "NO_DISCHARGE" })
		}
		BatteryMode::Fixed { power_w } if power_w > 0 => {
			json!({ "mode": "CHARGE_FROM_GRID", "chargePower": power_w })
		}
		_ => return None,
	};
	Some(json!({ "activateControlModes": { "ess": ess } }).to_string())
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn each_mode_has_the_answer_openems_takes_or_none() {
		assert_eq!(answer(BatteryMode::Own).as_deref(), Some(r#"{"activateControlModes":{}}"#));
		assert_eq!(
			answer(BatteryMode::Limited { charge_w: 5_000, discharge_w: 0 }).as_deref(),
			Some(r#"{"activateControlModes":{"ess":{"mode":"NO_DISCHARGE"}}}"#)
		);
		assert_eq!(
			answer(BatteryMode::Fixed { power_w: 3_000 }).as_deref(),
			Some(
				r#"{"activateControlModes":{"ess":{"chargePower":3000,"mode":"CHARGE_FROM_GRID"}}}"#
			)
		);
		assert_eq!(answer(BatteryMode::Fixed { power_w: -2_000 }), None);
		assert_eq!(answer(BatteryMode::Limited { charge_w: 0, discharge_w: 1_000 }), None);
	}

	#[test]
	fn a_push_gives_its_state_of_charge_and_what_it_offers() {
		let body = br#"{"state":0,"soc":55,"availableControlModes":{"ess":[{"mode":"NO_DISCHARGE"},{"mode":"CHARGE_FROM_GRID","maxChargePower":4500}]}}"#;
		assert_eq!(push(body), Ok(Push { soc_percent: 55, offered_w: 4_500 }));
		assert_eq!(push(br#"{"soc":null}"#), Err(PushError::NoSoc));
		assert_eq!(push(br#"{"soc":101}"#), Err(PushError::NoSoc));
		assert!(matches!(push(b"soc=55"), Err(PushError::NotJson(_))));
	}
}
