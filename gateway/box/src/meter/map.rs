//! Where a meter keeps its cumulative energy registers, as the configuration names them.

pub use crate::modbus::Table;
use serde::Deserialize;

/// How a value of several 16-bit words is put together.
#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum WordOrder {
	/// The most significant word first (big-endian words; SunSpec's order).
	#[default]
	HighFirst,
	LowFirst,
}

#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
	Wh,
	Kwh,
}

/// One cumulative energy register: an unsigned integer of 1, 2 or 4 words, times `scale`, times
/// ten to the power of the signed scale-factor register if there is one (SunSpec's `sunssf`).
#[derive(Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Register {
	pub table: Table,
	pub address: u16,
	pub words: u8,
	#[serde(default)]
	pub word_order: WordOrder,
	#[serde(default = "one")]
	pub scale: f64,
	/// A register of the same table holding a power of ten (int16) the value is scaled by.
	#[serde(default)]
	pub scale_factor: Option<u16>,
	pub unit: Unit,
}

fn one() -> f64 {
	1.0
}

/// A meter's two cumulative registers.
#[derive(Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RegisterMap {
	/// Energy drawn from the grid.
	pub import: Register,
	/// Energy fed into the grid.
	pub export: Register,
}

/// The map a configuration asks for.
#[derive(Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum MapConfig {
	/// A SunSpec meter: the map is found on the meter, by walking its models from the SunSpec
	/// marker to the first meter model (201–204), whose `TotWhImp` and `TotWhExp` (acc32, scaled
	/// by `TotWh_SF`) are the registers. (Empty braces, not a unit variant: serde refuses
	/// unknown fields beside the tag only for struct variants.)
	Sunspec {},
	/// `lem-meter-sim`'s own registers: import and export in Wh, four words each, in the input
	/// table from 0.
	Simulator {},
	/// Any meter, register by register.
	Registers { import: Register, export: Register },
}

/// Offsets in a meter model's (201–204) data, after its ID and length.
pub const SUNSPEC_TOT_WH_EXP: u16 = 36;
pub const SUNSPEC_TOT_WH_IMP: u16 = 44;
pub const SUNSPEC_TOT_WH_SF: u16 = 52;

/// The meter models of SunSpec that carry total imported and exported energy.
pub fn is_sunspec_meter(model: u16) -> bool {
	(201..=204).contains(&model)
}

/// The registers of a SunSpec meter model whose data starts at `data`.
pub fn sunspec_meter(data: u16) -> RegisterMap {
	let acc32 = |offset| Register {
		table: Table::Holding,
		address: data + offset,
		words: 2,
		word_order: WordOrder::HighFirst,
		scale: 1.0,
		scale_factor: Some(data + SUNSPEC_TOT_WH_SF),
		unit: Unit::Wh,
	};
	RegisterMap { import: acc32(SUNSPEC_TOT_WH_IMP), export: acc32(SUNSPEC_TOT_WH_EXP) }
}

/// `lem-meter-sim`'s map.
pub fn simulator() -> RegisterMap {
	let wh = |address| Register {
		table: Table::Input,
		address,
		words: 4,
		word_order: WordOrder::HighFirst,
		scale: 1.0,
		scale_factor: None,
		unit: Unit::Wh,
	};
	RegisterMap { import: wh(0), export: wh(4) }
}

impl Register {
	/// Why this register cannot be read, if it cannot.
	pub fn check(&self) -> Result<(), String> {
		if ![1, 2, 4].contains(&self.words) {
			return Err(format!("words must be 1, 2 or 4, not {}", self.words));
		}
		if !(self.scale.is_finite() && self.scale > 0.0) {
			return Err(format!("scale must be a positive number, not {}", self.scale));
		}
		if self.address.checked_add(self.words as u16 - 1).is_none() {
			return Err(format!("register {} has no room for {} words", self.address, self.words));
		}
		Ok(())
	}

	/// The raw unsigned value of `words` as read from the meter.
	pub fn raw(&self, words: &[u16]) -> u64 {
		let mut ordered = words.to_vec();
		if self.word_order == WordOrder::LowFirst {
			ordered.reverse();
		}
		ordered.iter().fold(0u64, |v, w| (v << 16) | *w as u64)
	}

	/// Whole watt-hours of a raw value under a scale factor (`None` without one), rounded down,
	/// or `None` if the result is not a number of watt-hours a register can hold.
	pub fn watt_hours(&self, raw: u64, scale_factor: Option<i16>) -> Option<u64> {
		let unit = match self.unit {
			Unit::Wh => 1.0,
			Unit::Kwh => 1_000.0,
		};
		let power = 10f64.powi(scale_factor.unwrap_or(0) as i32);
		// Exact in f64 up to 2^53 Wh, far beyond any meter's lifetime.
		let wh = (raw as f64 * self.scale * unit * power).floor();
		(wh.is_finite() && wh >= 0.0 && wh < 2f64.powi(60)).then_some(wh as u64)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn words_are_put_together_in_the_configured_order() {
		let mut r = simulator().import;
		assert_eq!(r.raw(&[0, 0, 1, 2]), 0x1_0002);
		r.word_order = WordOrder::LowFirst;
		assert_eq!(r.raw(&[2, 1, 0, 0]), 0x1_0002);
	}

	#[test]
	fn scale_factors_and_units_give_whole_watt_hours() {
		let r = sunspec_meter(40_072).import;
		assert_eq!(r.address, 40_116);
		assert_eq!(r.watt_hours(12_345, Some(0)), Some(12_345));
		assert_eq!(r.watt_hours(12_345, Some(-1)), Some(1_234));
		assert_eq!(r.watt_hours(12, Some(3)), Some(12_000));
		let kwh = Register { unit: Unit::Kwh, scale: 0.01, ..r };
		assert_eq!(kwh.watt_hours(1_234, None), Some(12_340));
		assert_eq!(r.watt_hours(u64::MAX, Some(10)), None);
	}

	#[test]
	fn a_map_from_the_configuration_is_checked() {
		let bad: MapConfig = toml::from_str(
			"kind = 'registers'\n\
			 import = { table = 'input', address = 0, words = 3, unit = 'wh' }\n\
			 export = { table = 'input', address = 4, words = 2, unit = 'kwh', scale = 0.1 }",
		)
		.unwrap();
		let MapConfig::Registers { import, export } = bad else { panic!() };
		assert!(import.check().unwrap_err().contains("words"));
		assert_eq!(export.check(), Ok(()));
		let unknown =
			toml::from_str::<MapConfig>("kind = 'registers'\nimport = { tabel = 'input' }");
		assert!(unknown.is_err());
	}
}
