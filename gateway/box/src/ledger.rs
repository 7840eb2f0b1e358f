//! The owner's ledger: a bill per slot, checked on the box. Once a slot has begun its terms
//! (tariffs, retail choice) are fixed and the box takes them; once the chain has settled it,
//! the box reads its record, both clearings' fills and its reading with one proof at a
//! finalized block, and checks the record against its own reckoning
//! (`lem_gateway_core::bill`). A
//! difference is logged (`bill differs`, with the fields), counted
//! (`lem_gateway_bills_differing_total`) and kept in the ledger, which the box serves to its
//! owner as JSON and CSV beside its metrics.

use crate::{
	chain::{self, ChainError},
	gateway::SyncError,
	journal::{Journal, JournalError},
	metrics::Metrics,
};
use lem_gateway_core::{
	bill::{self, Bill, Check, Energy, Filled},
	chain::{SettledFacts, SlotFacts},
	entry::{OrderEntry, OrderState},
};
use lem_light_client::client::LightClient;
use std::collections::BTreeMap;
use tracing::{info, warn};

/// Settled slots checked per finalized block read: a backlog after time offline is worked
/// off over a few reads, each proof small.
const CHECKS_PER_READ: usize = 2;

pub struct Ledger {
	account: [u8; 32],
	metering_point: u64,
}

impl Ledger {
	/// The ledger of `account`, its bills since `from` taken from the journal into `metrics`.
	pub fn open(
		account: [u8; 32],
		metering_point: u64,
		journal: &Journal,
		from: u64,
		metrics: &Metrics,
	) -> Result<Ledger, JournalError> {
		let bills = journal.bills_from(from)?;
		let mut served = metrics.ledger.lock().expect("not poisoned");
		served.extend(bills.into_iter().map(|b| (b.slot, b)));
		Ok(Ledger { account, metering_point })
	}

	/// Takes the terms of slots begun and checks the oldest settled ones, at the client's
	/// checkpoint. `orders` are the box's orders by slot.
	pub async fn step(
		&self,
		client: &mut LightClient,
		journal: &Journal,
		metrics: &Metrics,
		slot_seconds: u64,
		orders: &BTreeMap<u64, OrderEntry>,
	) -> Result<(), SyncError> {
		// The oldest bills not yet checked, and the first slot without a bill.
		let (pending, next): (Vec<Bill>, Option<u64>) = {
			let served = metrics.ledger.lock().expect("not poisoned");
			let pending = served.values().filter(|b| b.check == Check::Pending);
			(pending.take(CHECKS_PER_READ).cloned().collect(), served.keys().last().map(|s| s + 1))
		};
		let asked: Vec<(u64, Vec<u64>)> =
			pending.iter().map(|b| (b.slot, placed(orders.get(&b.slot)).to_vec())).collect();
		let facts = chain::read_bills(client, &self.account, self.metering_point, &asked).await?;

		let begun = facts.now_seconds / slot_seconds;
		let mut changed = Vec::new();
		for slot in next.unwrap_or(begun)..=begun {
			let retail = facts.retail.as_deref();
			let Some(terms) = bill::decode_terms(slot, &facts.tariffs, retail) else {
				let item = "Settlement::TariffsInForce";
				return Err(ChainError::Layout { item }.into());
			};
			changed.push(Bill { slot, terms, check: Check::Pending });
		}

		for (bill, settled) in pending.into_iter().zip(facts.slots.into_values()) {
			let settled = match settled {
				SlotFacts::Unsettled => continue,
				SlotFacts::Forgotten => {
					warn!(slot = bill.slot, "bill forgotten: the chain no longer keeps its slot");
					changed.push(Bill { check: Check::Forgotten, ..bill });
					continue;
				}
				SlotFacts::Settled(settled) => settled,
			};
			let slot = bill.slot;
			let checked =
				bill::check(settled.record, &self.slot(&settled, &bill, orders.get(&slot)));
			let r = &checked.record;
			Metrics::add(&metrics.bills_checked, 1);
			if !checked.differences.is_empty() {
				Metrics::add(&metrics.bills_differing, 1);
				warn!(slot, differences = ?checked.differences, "bill differs");
			} else if r.unpaid != 0 {
				// Right, but not settled in money: the household still owes, or is still owed.
				Metrics::add(&metrics.bills_unpaid, 1);
				warn!(slot, unpaid = r.unpaid as i64, "bill not paid in full");
			} else {
				info!(
					slot,
					market_amount = r.market_amount as i64,
					utility_amount = r.utility_amount as i64,
					ex_post_wh = r.ex_post_bought_wh + r.ex_post_sold_wh,
					"bill matches"
				);
			}
			changed.push(Bill { check: Check::Done(Box::new(checked)), ..bill });
		}

		for bill in &changed {
			journal.put_bill(bill)?;
		}
		let mut served = metrics.ledger.lock().expect("not poisoned");
		served.extend(changed.into_iter().map(|b| (b.slot, b)));
		Ok(())
	}

	/// What the box knows of a settled slot, for its bill.
	fn slot(&self, settled: &SettledFacts, bill: &Bill, order: Option<&OrderEntry>) -> bill::Slot {
		// The fills read are those of this entry's orders.
		let filled = order.map_or_else(Vec::new, |o| {
			let filled = |&fill| Filled {
				side: o.side,
				energy_wh: o.energy_wh,
				limit_per_kwh: o.limit_per_kwh,
				fill,
			};
			settled.fills.iter().map(filled).collect()
		});
		bill::Slot {
			filled,
			metered: settled.metered.map(|(i, e)| Energy { import_wh: i, export_wh: e }),
			ex_post: settled.ex_post,
			retail: bill.terms.retail,
			retail_per_kwh: bill.terms.retail_per_kwh,
			feed_in_per_kwh: bill.terms.feed_in_per_kwh,
			corrected_wh: settled.record.map_or(0, |r| r.corrected_wh),
			estimated_import_wh: settled.record.map_or(0, |r| r.estimated.import_wh),
		}
	}
}

/// The ids of the orders a journal entry placed on the chain (none if it placed none).
fn placed(order: Option<&OrderEntry>) -> &[u64] {
	match order {
		Some(OrderEntry { state: OrderState::Placed { orders }, .. }) => orders,
		_ => &[],
	}
}
