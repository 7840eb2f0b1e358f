//! The household's bill for a slot, worked out on the box: from the fills of its own orders,
//! its reading, its ex-post fill and the tariffs, by settlement's rules (DESIGN.md,
//! "Settlement"; `pallet_settlement::compute`), to compare with the record the chain stored.
//!
//! What it recomputes is everything the slot's trading and metering decide: energy bought and
//! sold ahead of the slot and after it, their average prices and amounts, the deviation left
//! for the utility and its amount, and the correction's amount. How the amounts were paid
//! (from the balance, the deposit or as debt) is bookkeeping of the account's funds, not of
//! the slot, and is taken from the record. It checks each fill against the order it fills: no
//! more energy than ordered, a price within the limit, the amount the price rounds to.
//!
//! The record is an account's, summed over its metering points; the check is exact for an
//! account whose one metering point is this box's and whose orders this box placed.

use crate::owner::Side;
use alloc::{
	boxed::Box,
	format,
	string::{String, ToString},
	vec::Vec,
};
use codec::{Decode, DecodeAll, Encode};

/// `pallet_settlement::SettlementRecord`, field for field.
#[derive(Encode, Decode, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Record {
	pub bought_wh: u64,
	pub sold_wh: u64,
	pub price_per_kwh: Option<i64>,
	pub ex_post_bought_wh: u64,
	pub ex_post_sold_wh: u64,
	pub ex_post_price_per_kwh: Option<i64>,
	pub market_amount: i128,
	pub metered: Energy,
	pub estimated: Energy,
	pub estimated_readings: u32,
	pub from_utility_wh: u64,
	pub to_utility_wh: u64,
	pub retail: Retail,
	pub retail_per_kwh: u64,
	pub feed_in_per_kwh: u64,
	pub utility_amount: i128,
	pub corrected_wh: i64,
	pub correction_amount: i128,
	pub unpaid: i128,
	pub from_deposit: u128,
	pub debt_collected: u128,
	pub debt: u128,
	pub credit_collected: u128,
	pub credit: u128,
}

/// A record from the value of `Settlement::Records`.
pub fn decode_record(bytes: &[u8]) -> Option<Record> {
	Record::decode_all(&mut &bytes[..]).ok()
}

/// `pallet_metering::Metered`: a slot's import and export.
#[derive(Encode, Decode, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Energy {
	pub import_wh: u64,
	pub export_wh: u64,
}

impl Energy {
	fn net(&self) -> i128 {
		self.import_wh as i128 - self.export_wh as i128
	}
}

/// `pallet_settlement::RetailChoice`.
#[derive(Encode, Decode, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Retail {
	#[default]
	Grey,
	Green,
}

/// `pallet_market::Fill`: what one order got in a clearing.
#[derive(Encode, Decode, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fill {
	pub order: u64,
	pub energy_wh: u64,
	pub price_per_kwh: i64,
	pub amount: i128,
}

/// One of the box's orders and what it got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Filled {
	pub side: Side,
	pub energy_wh: u64,
	pub limit_per_kwh: u64,
	pub fill: Fill,
}

/// Everything the box knows of its slot, each proven on the chain (or its own).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
	pub filled: Vec<Filled>,
	/// The reading the chain holds for the slot; `None` if it has none.
	pub metered: Option<Energy>,
	/// The fill of the point's ex-post order (its id is the metering point's), if it had one.
	pub ex_post: Option<Fill>,
	pub retail: Retail,
	pub retail_per_kwh: u64,
	pub feed_in_per_kwh: u64,
	/// Net import by which the meter's registers showed earlier estimates short, as the
	/// record states it: its amount is recomputed.
	pub corrected_wh: i64,
	/// What a slot without a reading was estimated to import, as the record states it (the
	/// point's usual import at that hour, from readings the box may not have seen): held to the
	/// rule that it is at least what was bought, and its amounts recomputed.
	pub estimated_import_wh: u64,
}

/// `e` Wh at `p` per kWh rounded up: what a payer pays (a bid, the utility's retail). For any
/// sign of price, as the clearing engine rounds.
pub fn cost_up(energy_wh: u64, per_kwh: i128) -> i128 {
	-(-(energy_wh as i128 * per_kwh)).div_euclid(1000)
}

/// `e` Wh at `p` per kWh rounded down: what a payee receives (an ask, the feed-in).
pub fn cost_down(energy_wh: u64, per_kwh: i128) -> i128 {
	(energy_wh as i128 * per_kwh).div_euclid(1000)
}

/// Net import bought from the utility at retail (positive) or sold to it at feed-in
/// (negative), as what the account receives.
fn with_utility(energy: i128, retail_per_kwh: u64, feed_in_per_kwh: u64) -> i128 {
	let wh = energy.unsigned_abs().min(u64::MAX as u128) as u64;
	if energy > 0 {
		-cost_up(wh, retail_per_kwh.into())
	} else {
		cost_down(wh, feed_in_per_kwh.into())
	}
}

/// The energy-weighted mean of prices, rounded toward zero.
#[derive(Default)]
struct Average {
	value: i128,
	energy_wh: i128,
}

impl Average {
	fn add(&mut self, price_per_kwh: i64, energy_wh: u64) {
		self.value += price_per_kwh as i128 * energy_wh as i128;
		self.energy_wh += energy_wh as i128;
	}

	fn per_kwh(&self) -> Option<i64> {
		(self.energy_wh > 0).then(|| (self.value / self.energy_wh) as i64)
	}
}

/// Why a fill does not fit its order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadFill {
	MoreThanOrdered { order: u64 },
	BeyondLimit { order: u64 },
	WrongAmount { order: u64 },
}

/// Checks each fill against its order: at most the energy ordered, a price within the limit,
/// and the amount its price rounds to (up for a bid, down for an ask).
pub fn check_fills(filled: &[Filled]) -> Vec<BadFill> {
	let mut bad = Vec::new();
	for f in filled {
		let order = f.fill.order;
		let price = f.fill.price_per_kwh;
		if f.fill.energy_wh > f.energy_wh {
			bad.push(BadFill::MoreThanOrdered { order });
		}
		let within = match f.side {
			Side::Bid => price <= f.limit_per_kwh as i64,
			Side::Ask => price >= f.limit_per_kwh as i64,
		};
		if !within && f.fill.energy_wh > 0 {
			bad.push(BadFill::BeyondLimit { order });
		}
		let expected = match f.side {
			Side::Bid => cost_up(f.fill.energy_wh, price.into()),
			Side::Ask => cost_down(f.fill.energy_wh, price.into()),
		};
		if f.fill.amount != expected {
			bad.push(BadFill::WrongAmount { order });
		}
	}
	bad
}

/// The record of `slot` by settlement's rules; its payment fields (unpaid, from deposit, debt)
/// are left at zero.
pub fn recompute(slot: &Slot) -> Record {
	let mut r = Record {
		retail: slot.retail,
		retail_per_kwh: slot.retail_per_kwh,
		feed_in_per_kwh: slot.feed_in_per_kwh,
		corrected_wh: slot.corrected_wh,
		..Default::default()
	};
	let mut price = Average::default();
	for f in &slot.filled {
		price.add(f.fill.price_per_kwh, f.fill.energy_wh);
		match f.side {
			Side::Bid => {
				r.bought_wh += f.fill.energy_wh;
				r.market_amount -= f.fill.amount;
			}
			Side::Ask => {
				r.sold_wh += f.fill.energy_wh;
				r.market_amount += f.fill.amount;
			}
		}
	}
	r.price_per_kwh = price.per_kwh();

	// Without a reading the point took what it usually takes, at least what it bought, and
	// delivered nothing. An estimate below what was bought is not ours: the check names it.
	let energy = match slot.metered {
		Some(m) => {
			r.metered = m;
			m
		}
		None => {
			let import_wh = match slot.estimated_import_wh {
				stated if stated >= r.bought_wh => stated,
				_ => r.bought_wh,
			};
			r.estimated = Energy { import_wh, export_wh: 0 };
			r.estimated_readings = 1;
			r.estimated
		}
	};
	let mut deviation = energy.net() - (r.bought_wh as i128 - r.sold_wh as i128);
	let mut ex_post_price = Average::default();
	if let (Some(f), Some(_)) = (slot.ex_post, slot.metered) {
		ex_post_price.add(f.price_per_kwh, f.energy_wh);
		// The ex-post order bid for a shortfall and asked for a surplus.
		if deviation > 0 {
			r.ex_post_bought_wh = f.energy_wh;
			r.market_amount -= f.amount;
			deviation -= f.energy_wh as i128;
		} else {
			r.ex_post_sold_wh = f.energy_wh;
			r.market_amount += f.amount;
			deviation += f.energy_wh as i128;
		}
	}
	r.ex_post_price_per_kwh = ex_post_price.per_kwh();
	let wh = deviation.unsigned_abs().min(u64::MAX as u128) as u64;
	if deviation > 0 {
		r.from_utility_wh = wh;
	} else {
		r.to_utility_wh = wh;
	}
	r.utility_amount = with_utility(deviation, slot.retail_per_kwh, slot.feed_in_per_kwh);
	r.correction_amount =
		with_utility(slot.corrected_wh as i128, slot.retail_per_kwh, slot.feed_in_per_kwh);
	r
}

/// The fields in which the chain's record differs from the recomputed one, by name; payment
/// fields are not compared.
pub fn differences(chain: &Record, ours: &Record) -> Vec<&'static str> {
	let mut names = Vec::new();
	let mut compare = |name, same: bool| {
		if !same {
			names.push(name)
		}
	};
	compare("bought_wh", chain.bought_wh == ours.bought_wh);
	compare("sold_wh", chain.sold_wh == ours.sold_wh);
	compare("price_per_kwh", chain.price_per_kwh == ours.price_per_kwh);
	compare("ex_post_bought_wh", chain.ex_post_bought_wh == ours.ex_post_bought_wh);
	compare("ex_post_sold_wh", chain.ex_post_sold_wh == ours.ex_post_sold_wh);
	compare("ex_post_price_per_kwh", chain.ex_post_price_per_kwh == ours.ex_post_price_per_kwh);
	compare("market_amount", chain.market_amount == ours.market_amount);
	compare("metered", chain.metered == ours.metered);
	compare("estimated", chain.estimated == ours.estimated);
	compare("estimated_readings", chain.estimated_readings == ours.estimated_readings);
	compare("from_utility_wh", chain.from_utility_wh == ours.from_utility_wh);
	compare("to_utility_wh", chain.to_utility_wh == ours.to_utility_wh);
	compare("retail", chain.retail == ours.retail);
	compare("retail_per_kwh", chain.retail_per_kwh == ours.retail_per_kwh);
	compare("feed_in_per_kwh", chain.feed_in_per_kwh == ours.feed_in_per_kwh);
	compare("utility_amount", chain.utility_amount == ours.utility_amount);
	compare("corrected_wh", chain.corrected_wh == ours.corrected_wh);
	compare("correction_amount", chain.correction_amount == ours.correction_amount);
	names
}

/// Reads past a `pallet_market::ClearedSlot`: the grid and prices it was cleared with, and
/// its totals.
fn skip_cleared(input: &mut &[u8]) -> Result<(), codec::Error> {
	// Grid: zones (id, parent, fee, capacity, traffic light) and the yellow surcharge.
	<(Vec<(u32, Option<u32>, u64, Option<u64>, u8)>, u64)>::decode(input)?;
	// Pricing, zone prices, flows.
	<(u8, Vec<(u32, Option<i64>)>, Vec<(u32, i64)>)>::decode(input)?;
	// Orders, filled, traded; welfare, payments, receipts, DSO revenue, remainder.
	<(u32, u32, u64, i128, i128, i128, i128, i128)>::decode(input)?;
	Ok(())
}

/// An order's fill, from the value of `Market::Fills` (or `Settlement::ExPostFills`).
pub fn decode_fill(bytes: &[u8]) -> Option<Fill> {
	Fill::decode_all(&mut &bytes[..]).ok()
}

/// Whether `bytes` are a `pallet_settlement::SettledSlot`: the box needs only to know the
/// slot is settled, and that the chain's layout is the one it knows.
pub fn is_settled_slot(bytes: &[u8]) -> bool {
	let input = &mut &bytes[..];
	skip_settled(input).is_ok() && input.is_empty()
}

fn skip_settled(input: &mut &[u8]) -> Result<(), codec::Error> {
	// Accounts, estimated readings.
	<(u32, u32)>::decode(input)?;
	match u8::decode(input)? {
		0 => {}
		1 => skip_cleared(input)?,
		_ => return Err("an option's tag is 0 or 1".into()),
	}
	// The balance changes of participants, utility, DSO, community; what the DSO was owed.
	<(i128, i128, i128, i128, u128)>::decode(input)?;
	Ok(())
}

/// What a slot is settled at: the retail choice and the tariffs in force when it was
/// delivered.
#[derive(Encode, Decode, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Terms {
	pub retail: Retail,
	pub retail_per_kwh: u64,
	pub feed_in_per_kwh: u64,
}

/// `slot`'s terms from `Settlement::TariffsInForce` and the account's
/// `Settlement::RetailChoices` (absent: grey from the start), both `Scheduled` values: the
/// value before `from`, `from`, the value from it on. Read them before the slot settles:
/// settling the slot before a change lets the schedule forget the earlier value.
pub fn decode_terms(slot: u64, tariffs: &[u8], retail: Option<&[u8]>) -> Option<Terms> {
	type Tariffs = (u64, u64, u64);
	let (before, from, current) = <(Tariffs, u64, Tariffs)>::decode_all(&mut &tariffs[..]).ok()?;
	let (green, grey, feed_in) = if slot < from { before } else { current };
	let retail = match retail {
		None => Retail::Grey,
		Some(mut bytes) => {
			let (before, from, current) = <(Retail, u64, Retail)>::decode_all(&mut bytes).ok()?;
			if slot < from {
				before
			} else {
				current
			}
		}
	};
	let retail_per_kwh = match retail {
		Retail::Green => green,
		Retail::Grey => grey,
	};
	Some(Terms { retail, retail_per_kwh, feed_in_per_kwh: feed_in })
}

/// A slot in the box's ledger: its terms, taken once the slot began, and once it settled, the
/// chain's record with the fields in which it differs from the box's own reckoning.
#[derive(Encode, Decode, Clone, Debug, PartialEq, Eq)]
pub struct Bill {
	pub slot: u64,
	pub terms: Terms,
	pub check: Check,
}

/// How far a bill's check has come. The first two encode as the `Option<Checked>` they
/// replaced, so that journals written before read the same.
#[derive(Encode, Decode, Clone, Debug, PartialEq, Eq)]
pub enum Check {
	#[codec(index = 0)]
	Pending,
	#[codec(index = 1)]
	Done(Box<Checked>),
	/// The chain forgot the slot, past its retention window, before the box could read it:
	/// the box was offline longer than the chain keeps slots. It cannot be checked any more.
	#[codec(index = 2)]
	Forgotten,
}

#[derive(Encode, Decode, Clone, Debug, PartialEq, Eq)]
pub struct Checked {
	/// The chain's record (the box's own reckoning if the chain holds none).
	pub record: Record,
	/// The record's fields that differ, and fills that do not fit their orders; empty when
	/// the bill is right.
	pub differences: Vec<String>,
}

impl Bill {
	/// `matches` only if the record is what the box reckons and its amounts were paid in full;
	/// `unpaid` if it is right but not all paid (the record's `unpaid`: what the household
	/// still owes, or, negative, what it is still owed); `differs` if the record is wrong.
	pub fn state(&self) -> &'static str {
		match &self.check {
			Check::Pending => "pending",
			Check::Done(c) if !c.differences.is_empty() => "differs",
			Check::Done(c) if c.record.unpaid != 0 => "unpaid",
			Check::Done(_) => "matches",
			Check::Forgotten => "forgotten",
		}
	}

	pub fn checked(&self) -> Option<&Checked> {
		match &self.check {
			Check::Done(c) => Some(c),
			_ => None,
		}
	}
}

/// Checks the chain's `record` of a slot (`None`: it holds none) against what `slot` makes it.
pub fn check(record: Option<Record>, slot: &Slot) -> Checked {
	let ours = recompute(slot);
	let mut differences: Vec<String> =
		check_fills(&slot.filled).iter().map(|b| format!("{b:?}")).collect();
	match record {
		Some(r) => differences.extend(self::differences(&r, &ours).into_iter().map(String::from)),
		None => differences.push("no record".into()),
	}
	Checked { record: record.unwrap_or(ours), differences }
}

/// The CSV columns of the ledger, one row per slot.
pub const CSV_HEADER: &str = "slot,state,bought_wh,sold_wh,price_per_kwh,ex_post_bought_wh,\
ex_post_sold_wh,ex_post_price_per_kwh,market_amount,import_wh,export_wh,estimated_import_wh,\
from_utility_wh,to_utility_wh,retail,retail_per_kwh,feed_in_per_kwh,utility_amount,corrected_wh,\
correction_amount,differences";

impl Bill {
	pub fn csv_row(&self) -> String {
		let r = self.checked().map(|c| c.record).unwrap_or_default();
		let price = |p: Option<i64>| p.map_or(String::new(), |p| p.to_string());
		let differences = self.checked().map_or(String::new(), |c| c.differences.join(" "));
		format!(
			"{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:?},{},{},{},{},{},{}",
			self.slot,
			self.state(),
			r.bought_wh,
			r.sold_wh,
			price(r.price_per_kwh),
			r.ex_post_bought_wh,
			r.ex_post_sold_wh,
			price(r.ex_post_price_per_kwh),
			r.market_amount,
			r.metered.import_wh,
			r.metered.export_wh,
			r.estimated.import_wh,
			r.from_utility_wh,
			r.to_utility_wh,
			self.terms.retail,
			self.terms.retail_per_kwh,
			self.terms.feed_in_per_kwh,
			r.utility_amount,
			r.corrected_wh,
			r.correction_amount,
			differences,
		)
	}

	pub fn json(&self) -> serde_json::Value {
		let r = self.checked().map(|c| c.record);
		serde_json::json!({
			"slot": self.slot,
			"state": self.state(),
			"retail": format!("{:?}", self.terms.retail),
			"retailPerKwh": self.terms.retail_per_kwh,
			"feedInPerKwh": self.terms.feed_in_per_kwh,
			"differences": self.checked().map(|c| c.differences.clone()),
			"record": r.map(|r| serde_json::json!({
				"boughtWh": r.bought_wh,
				"soldWh": r.sold_wh,
				"pricePerKwh": r.price_per_kwh,
				"exPostBoughtWh": r.ex_post_bought_wh,
				"exPostSoldWh": r.ex_post_sold_wh,
				"exPostPricePerKwh": r.ex_post_price_per_kwh,
				"marketAmount": r.market_amount.to_string(),
				"importWh": r.metered.import_wh,
				"exportWh": r.metered.export_wh,
				"estimatedImportWh": r.estimated.import_wh,
				"fromUtilityWh": r.from_utility_wh,
				"toUtilityWh": r.to_utility_wh,
				"utilityAmount": r.utility_amount.to_string(),
				"correctedWh": r.corrected_wh,
				"correctionAmount": r.correction_amount.to_string(),
				// How it was paid: what could not be (positive: the household owes it; negative:
				// the utility does), and what each still owes the other after the slot.
				"unpaid": r.unpaid.to_string(),
				"debt": r.debt.to_string(),
				"owedByUtility": r.credit.to_string(),
			})),
		})
	}
}
