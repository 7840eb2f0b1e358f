//! The arithmetic of settling one slot, free of storage and of money movement: given what each
//! account traded ahead of the slot, what its meters measured and its terms, it works out the
//! ex-post trades on standing orders, the deviations left for the utility and every amount.
//! It comes in three steps — each account's ex-post [`offers`], one [`clear_ex_post`] of them
//! all, each account's [`account_result`] — which the pallet spreads over blocks with the
//! accounts gathered from storage a page at a time, and [`settle`] takes at once. The property
//! test checks on `settle` that the amounts always sum to zero.

use alloc::vec::Vec;
use codec::{Decode, Encode, MaxEncodedLen};
use lem_clearing::{Instance, Outcome, Pricing, Zone, ZoneId};
use pallet_market::{BookOrder, Fill, MeteringPointId, Side};
use pallet_metering::Metered;
use scale_info::TypeInfo;

/// One metering point of an account in the slot.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Debug, PartialEq, Eq)]
pub struct Point {
	pub id: MeteringPointId,
	pub zone: ZoneId,
	/// The slot's reading; `None` if the gateway sent none in the window.
	pub metered: Option<Metered>,
	/// Energy its orders bought and sold ahead of the slot.
	pub bought_wh: u64,
	pub sold_wh: u64,
	/// Net import the point's earlier settlements on estimates are short of what its meter's
	/// registers now show (negative if they counted too much), settled with the utility.
	pub correction_wh: i64,
	/// What the point usually imports net in a slot at this hour of the day, from its own
	/// readings (`types::UsualImport`).
	pub usual_import_wh: u64,
}

impl Point {
	/// What a slot without a reading is settled on: the point took what it usually takes at
	/// this hour, and at least what it bought, and delivered nothing, so a missing reading can
	/// never favour its owner. A seller buys back what it sold; a buyer pays for what it bought;
	/// a consumer that unplugs its gateway pays about what it used.
	pub fn estimate(&self) -> Metered {
		Metered { import_wh: self.bought_wh.max(self.usual_import_wh), export_wh: 0 }
	}

	/// Its metered (or, without a reading, estimated) net import less the net energy its
	/// orders bought.
	pub fn deviation(&self) -> i128 {
		let m = self.metered.unwrap_or_else(|| self.estimate());
		(m.import_wh as i128 - m.export_wh as i128)
			- (self.bought_wh as i128 - self.sold_wh as i128)
	}
}

/// A standing order as settlement applies it.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standing {
	pub buy_limit_per_kwh: u64,
	pub sell_limit_per_kwh: u64,
	/// What is left of today's budget (and held for it): ex-post bids never pay more.
	pub budget_left: u128,
}

/// One account of the slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account<A> {
	pub who: A,
	/// Ascending by id.
	pub points: Vec<Point>,
	/// What its filled orders received, less what they paid.
	pub ex_ante_amount: i128,
	pub retail_per_kwh: u64,
	pub feed_in_per_kwh: u64,
	pub standing: Option<Standing>,
}

/// Everything settlement needs of a slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot<A> {
	pub accounts: Vec<Account<A>>,
	/// The grid in force at the slot's gate closure (the one it was cleared with).
	pub zones: Vec<Zone>,
	pub pricing: Pricing,
	/// The ex-ante clearing's DSO revenue and remainder.
	pub ex_ante_dso: i128,
	pub ex_ante_remainder: i128,
}

/// One account's result; amounts positive when the account receives them.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountResult {
	pub bought_wh: u64,
	pub sold_wh: u64,
	pub ex_post_bought_wh: u64,
	pub ex_post_sold_wh: u64,
	/// Ex-ante and ex-post together.
	pub market_amount: i128,
	/// Σ of the readings present.
	pub metered: Metered,
	/// Σ of the estimates of the points without a reading, and how many they are.
	pub estimated: Metered,
	pub estimated_readings: u32,
	/// Σ of the points' corrections, and what they amount to with the utility.
	pub corrected_wh: i64,
	pub correction_amount: i128,
	pub from_utility_wh: u64,
	pub to_utility_wh: u64,
	pub utility_amount: i128,
	/// What its ex-post bids pay, to be taken from its standing order's budget.
	pub ex_post_paid: u128,
	pub ex_post_price: AveragePrice,
}

impl AccountResult {
	/// What the utility receives of the account: its supply and corrections, less feed-in.
	pub fn to_utility(&self) -> i128 {
		-(self.utility_amount + self.correction_amount)
	}
}

/// The energy-weighted average price of an account's trades, per kWh.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AveragePrice {
	value: i128,
	energy_wh: u128,
}

impl AveragePrice {
	pub fn add(&mut self, price_per_kwh: i64, energy_wh: u64) {
		self.value += price_per_kwh as i128 * energy_wh as i128;
		self.energy_wh += energy_wh as u128;
	}

	/// Rounded toward zero; `None` if nothing was traded.
	pub fn per_kwh(&self) -> Option<i64> {
		// An average of i64 prices is an i64.
		(self.energy_wh > 0).then(|| (self.value / self.energy_wh as i128) as i64)
	}
}

/// A settled slot, before any money moved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settled<A> {
	/// In the order of the input.
	pub accounts: Vec<(A, AccountResult)>,
	/// The ex-post clearing, if any standing order had metered energy to trade.
	pub ex_post: Option<Outcome>,
	/// Owed to the DSO (fees and congestion rent) and left to the community account
	/// (rounding, and the spread under pay-as-bid).
	pub dso: i128,
	pub community: i128,
	/// Σ of what the utility receives: retail supply less feed-in.
	pub utility: i128,
}

impl<A> Settled<A> {
	/// Σ of every amount; zero whenever the ex-ante amounts came from one clearing.
	pub fn imbalance(&self) -> i128 {
		self.accounts
			.iter()
			.map(|(_, r)| r.market_amount + r.utility_amount + r.correction_amount)
			.sum::<i128>()
			+ self.dso
			+ self.community
			+ self.utility
	}
}

/// `e` Wh at `p` per kWh, rounded up: what a payer pays.
fn cost_up(energy_wh: u64, per_kwh: u64) -> i128 {
	(energy_wh as i128 * per_kwh as i128 + 999).div_euclid(1000)
}

/// `e` Wh at `p` per kWh, rounded down: what a payee receives.
fn cost_down(energy_wh: u64, per_kwh: u64) -> i128 {
	(energy_wh as i128 * per_kwh as i128).div_euclid(1000)
}

/// `energy` bought from the utility at `retail` if positive, sold to it at `feed_in` if
/// negative: what the account receives.
fn with_utility(energy: i128, retail_per_kwh: u64, feed_in_per_kwh: u64) -> i128 {
	// Energies are at most registers' differences (< 2^60 Wh), far inside u64.
	let wh = energy.unsigned_abs() as u64;
	if energy > 0 {
		-cost_up(wh, retail_per_kwh)
	} else {
		cost_down(wh, feed_in_per_kwh)
	}
}

/// Which way a point's deviation is offered ex post: a shortfall as a bid, a surplus as an ask.
/// An ex-post fill, kept without its side, has the side of its point's deviation.
fn side_of(deviation: i128) -> Side {
	if deviation > 0 {
		Side::Bid
	} else {
		Side::Ask
	}
}

/// An account's ex-post orders: each metered deviation of a point on the slot's grid, offered
/// under its standing order (a shortfall as a bid at its buy limit, as far as the day's budget
/// reaches; a surplus as an ask at its sell limit), with the point's id as the order's.
pub fn offers(points: &[Point], standing: Option<Standing>, zones: &[Zone]) -> Vec<BookOrder> {
	let Some(s) = standing else { return Vec::new() };
	let mut budget = s.budget_left;
	let mut orders = Vec::new();
	for p in points {
		// An estimate is not traded: it goes to the utility, where it is corrected later. A
		// point in a zone the DSO added after the slot cleared is not on the slot's grid: it
		// settles with the utility, and the other points still trade ex post.
		if p.metered.is_none() || !zones.iter().any(|z| z.id == p.zone) {
			continue;
		}
		let deviation = p.deviation();
		let side = side_of(deviation);
		let (energy_wh, limit_per_kwh) = match side {
			Side::Bid => {
				// Within the budget left: e·limit/1000 rounded up never exceeds it.
				let affordable = match s.buy_limit_per_kwh {
					0 => u64::MAX,
					l => (budget.saturating_mul(1000) / l as u128).min(u64::MAX as u128) as u64,
				};
				let energy = (deviation as u64).min(affordable);
				budget = budget.saturating_sub(cost_up(energy, s.buy_limit_per_kwh) as u128);
				(energy, s.buy_limit_per_kwh)
			}
			Side::Ask => (deviation.unsigned_abs() as u64, s.sell_limit_per_kwh),
		};
		if energy_wh > 0 {
			orders.push(BookOrder { id: p.id, side, zone: p.zone, energy_wh, limit_per_kwh });
		}
	}
	orders
}

/// Clears a slot's ex-post orders on the grid it was cleared with; `None` if there were none,
/// or if the engine refused them (then every deviation goes to the utility).
pub fn clear_ex_post(
	zones: Vec<Zone>,
	orders: Vec<BookOrder>,
	pricing: Pricing,
) -> Option<Outcome> {
	if orders.is_empty() {
		return None;
	}
	let orders = orders.into_iter().map(Into::into).collect();
	lem_clearing::clear(&Instance { zones, orders, pricing })
		.map_err(|e| log::error!(target: "runtime::settlement", "ex-post clearing: {e:?}"))
		.ok()
}

/// An account's result, given the ex-post fill of each of its points (by the point's id).
/// Per point the deviation, less what it traded ex post, is bought from or sold to the
/// utility, with the point's correction of earlier estimates.
pub fn account_result<A>(
	account: &Account<A>,
	ex_post_fill: impl Fn(MeteringPointId) -> Option<Fill>,
) -> AccountResult {
	let mut r = AccountResult { market_amount: account.ex_ante_amount, ..Default::default() };
	let with_utility =
		|energy| with_utility(energy, account.retail_per_kwh, account.feed_in_per_kwh);
	for p in &account.points {
		r.bought_wh += p.bought_wh;
		r.sold_wh += p.sold_wh;
		if p.correction_wh != 0 {
			r.corrected_wh += p.correction_wh;
			r.correction_amount += with_utility(p.correction_wh as i128);
		}
		match p.metered {
			Some(m) => {
				r.metered.import_wh += m.import_wh;
				r.metered.export_wh += m.export_wh;
			}
			None => {
				r.estimated.import_wh += p.estimate().import_wh;
				r.estimated_readings += 1;
			}
		}
		let mut deviation = p.deviation();
		if let Some(f) = ex_post_fill(p.id) {
			r.ex_post_price.add(f.price_per_kwh, f.energy_wh);
			match side_of(deviation) {
				Side::Bid => {
					r.ex_post_bought_wh += f.energy_wh;
					r.market_amount -= f.amount;
					r.ex_post_paid += f.amount.max(0) as u128;
					deviation -= f.energy_wh as i128;
				}
				Side::Ask => {
					r.ex_post_sold_wh += f.energy_wh;
					r.market_amount += f.amount;
					deviation += f.energy_wh as i128;
				}
			}
		}
		// Readings are at most pallet_metering::MAX_SLOT_ENERGY_WH and orders at most
		// MAX_ORDER_ENERGY_WH × MAX_ORDERS_PER_ACCOUNT, so a deviation fits in u64.
		let energy = deviation.unsigned_abs() as u64;
		if deviation > 0 {
			r.from_utility_wh += energy;
		} else {
			r.to_utility_wh += energy;
		}
		r.utility_amount += with_utility(deviation);
	}
	r
}

/// Settles a slot at once: every account's offers, the one ex-post clearing, every account's
/// result. The pallet takes the same three steps, spread over blocks.
pub fn settle<A: Clone>(slot: &Slot<A>) -> Settled<A> {
	let orders =
		slot.accounts.iter().flat_map(|a| offers(&a.points, a.standing, &slot.zones)).collect();
	let ex_post = clear_ex_post(slot.zones.clone(), orders, slot.pricing);
	let ex_post_fill = |id: MeteringPointId| {
		let fills = &ex_post.as_ref()?.fills;
		fills.binary_search_by_key(&id, |f| f.order).ok().map(|i| Fill::from(&fills[i]))
	};
	let accounts: Vec<(A, AccountResult)> = slot
		.accounts
		.iter()
		.map(|account| (account.who.clone(), account_result(account, ex_post_fill)))
		.collect();
	let utility = accounts.iter().map(|(_, r)| r.to_utility()).sum();
	let (ex_post_dso, ex_post_remainder) =
		ex_post.as_ref().map_or((0, 0), |o| (o.dso_revenue, o.remainder));
	Settled {
		accounts,
		ex_post,
		dso: slot.ex_ante_dso + ex_post_dso,
		community: slot.ex_ante_remainder + ex_post_remainder,
		utility,
	}
}
