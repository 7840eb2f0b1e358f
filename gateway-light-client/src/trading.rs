//! Trading for the owner: the box keeps the owner's standing order in place and, for each of
//! the next slots whose gate is open, bids for what its meter is forecast to import or asks
//! for what it is forecast to export, at the owner's limits and within the day's budget.
//!
//! The forecast is the meter's own past: the mean net import of the same slot on the last
//! seven days the journal holds, or, while it holds no such day (a new box), of its last four
//! readings. The standing order settles what the forecast misses, after the slot, on metered
//! energy.
//!
//! One transaction is in flight at a time. An order is journaled durably with the owner's
//! next nonce before it is sent, so that a restart sends the same bytes again. Before signing
//! anything away, the transaction is applied on the node's best state and not sent if the
//! market refuses it: the refusal is logged with the pallet's named error and costs no fee.
//! An order counts as placed only once a storage proof at a finalized block shows it among
//! the owner's orders of its slot.

use crate::{
	bill,
	chain::{self, Community, DryRun, OwnerFacts},
	config::OwnerConfig,
	gateway::SyncError,
	journal::{Journal, JournalError, OrderEntry, OrderState, OWNER_NONCE},
	metrics::Metrics,
	owner::{Call, Owner, Side, Signing, StandingOrder},
};
use lem_light_client::client::{ClientError, LightClient, NodeError};
use std::collections::BTreeMap;
use tracing::{debug, info, warn};

/// Days of the same slot the forecast averages, and the readings it falls back on.
const FORECAST_DAYS: u64 = 7;
const FORECAST_RECENT: usize = 4;
/// A transaction in the pool but in no block after this many blocks is sent again (same
/// bytes).
const RESUBMIT_AFTER_BLOCKS: u64 = 5;
/// An order is only made for a slot whose gate closes at least this many blocks after the
/// best block, to be included before it.
const GATE_MARGIN_BLOCKS: u64 = 2;
/// A standing order change not final after this many blocks is made again.
const STANDING_ORDER_RETRY_BLOCKS: u64 = 20;

/// The forecast net import (Wh; negative: export) of `slot`: the mean of the same slot on the
/// last [`FORECAST_DAYS`] days `net_import` knows, else of `recent` readings' net imports.
pub fn forecast(
	slot: u64,
	slots_per_day: u64,
	net_import: impl Fn(u64) -> Option<i64>,
	recent: &[i64],
) -> Option<i64> {
	let days: Vec<i64> = (1..=FORECAST_DAYS)
		.filter_map(|d| slot.checked_sub(d * slots_per_day))
		.filter_map(net_import)
		.collect();
	let sample = if days.is_empty() { recent } else { &days };
	(!sample.is_empty()).then(|| sample.iter().sum::<i64>() / sample.len() as i64)
}

/// What `energy_wh` at `limit_per_kwh` could cost at most: the market's rounding up.
pub fn worst_cost(energy_wh: u64, limit_per_kwh: u64) -> u128 {
	bill::cost_up(energy_wh, limit_per_kwh.into()) as u128
}

/// The most a bid at `limit_per_kwh` may be for, with `left` of the day's budget.
pub fn affordable_wh(left: u128, limit_per_kwh: u64) -> u64 {
	match limit_per_kwh {
		0 => u64::MAX,
		l => (left.saturating_mul(1000) / l as u128).min(u64::MAX as u128) as u64,
	}
}

/// The transaction the trader waits to see in a block.
struct InFlight {
	nonce: u32,
	/// The order's slot; `None` for a standing order change.
	slot: Option<u64>,
	extrinsic: Vec<u8>,
	sent_at: u64,
}

pub struct Trader {
	owner: Owner,
	config: OwnerConfig,
	metering_point: u64,
	genesis: [u8; 32],
	/// The runtime's versions, asked again when a signature stops verifying (an upgrade).
	signing: Option<Signing>,
	/// The journal's orders of recent slots, by slot.
	orders: BTreeMap<u64, OrderEntry>,
	in_flight: Option<InFlight>,
	/// The owner's account at the last finalized block read.
	facts: Option<OwnerFacts>,
	/// When the standing order was last changed (unix seconds).
	standing_order_sent_at: Option<u64>,
	standing_order_in_place: bool,
}

impl Trader {
	/// The trader of `config`'s owner, resuming from the journal's orders since `from`.
	pub fn new(
		owner: Owner,
		config: OwnerConfig,
		metering_point: u64,
		genesis: [u8; 32],
		journal: &Journal,
		from: u64,
	) -> Result<Trader, JournalError> {
		let orders: BTreeMap<u64, OrderEntry> =
			journal.orders_from(from)?.into_iter().map(|o| (o.slot, o)).collect();
		// The newest order still out: its bytes go again if it is in no block.
		let in_flight = orders
			.values()
			.filter(|o| matches!(o.state, OrderState::Submitted { .. }))
			.max_by_key(|o| o.nonce)
			.map(|o| InFlight {
				nonce: o.nonce,
				slot: Some(o.slot),
				extrinsic: o.extrinsic.clone(),
				sent_at: 0,
			});
		info!(
			account = %lem_light_client::hex::encode(&owner.account()),
			orders = orders.len(),
			"trading for the owner"
		);
		Ok(Trader {
			owner,
			config,
			metering_point,
			genesis,
			signing: None,
			orders,
			in_flight,
			facts: None,
			standing_order_sent_at: None,
			standing_order_in_place: false,
		})
	}

	pub fn account(&self) -> [u8; 32] {
		self.owner.account()
	}

	/// The journal's orders of recent slots, by slot.
	pub fn orders(&self) -> &BTreeMap<u64, OrderEntry> {
		&self.orders
	}

	/// The slots whose orders the next finalized read should prove: those sent and not yet
	/// seen placed.
	pub fn unresolved_slots(&self) -> Vec<u64> {
		self.orders
			.values()
			.filter(|o| matches!(o.state, OrderState::Submitted { .. }))
			.map(|o| o.slot)
			.collect()
	}

	/// Whether the trader waits on the chain: finality is then followed at a block's pace.
	pub fn busy(&self) -> bool {
		self.in_flight.is_some()
			|| self.orders.values().any(|o| matches!(o.state, OrderState::Submitted { .. }))
	}

	/// Takes what a finalized block proves of the owner's account: orders found placed, and
	/// orders whose nonce the chain used without placing them.
	pub fn learn(
		&mut self,
		facts: OwnerFacts,
		slot_seconds: u64,
		now: u64,
		journal: &Journal,
		metrics: &Metrics,
	) -> Result<(), JournalError> {
		for order in self.orders.values_mut() {
			if !matches!(order.state, OrderState::Submitted { .. }) {
				continue;
			}
			let ids = facts.orders.get(&order.slot).cloned().unwrap_or_default();
			let state = if !ids.is_empty() {
				Metrics::add(&metrics.orders_placed, 1);
				info!(
					slot = order.slot,
					side = order.side.name(),
					energy_wh = order.energy_wh,
					limit_per_kwh = order.limit_per_kwh,
					orders = ?ids,
					"order placed"
				);
				OrderState::Placed { orders: ids }
			} else if facts.nonce > order.nonce && now < order.slot * slot_seconds {
				Metrics::add(&metrics.orders_refused, 1);
				warn!(
					slot = order.slot,
					nonce = order.nonce,
					"order not placed: its nonce was used on the chain without it"
				);
				OrderState::Refused { reason: "NotPlaced".into() }
			} else if facts.nonce > order.nonce {
				// Its slot began, so it may have been settled and its orders forgotten: whether
				// it was placed, the chain no longer says. The bill shows what it traded.
				warn!(slot = order.slot, "order not seen placed before its slot began");
				OrderState::Lost
			} else {
				continue;
			};
			order.state = state;
			journal.put_order(order, None, false)?;
		}
		let in_place = facts.standing_order == Some(self.config.standing_order);
		if in_place && !self.standing_order_in_place {
			info!(
				buy_limit_per_kwh = self.config.standing_order.buy_limit_per_kwh,
				sell_limit_per_kwh = self.config.standing_order.sell_limit_per_kwh,
				daily_budget = self.config.standing_order.daily_budget,
				"standing order in place"
			);
		}
		self.standing_order_in_place = in_place;
		self.facts = Some(facts);
		Ok(())
	}

	/// Forgets the orders of slots before `slot`, as the journal does.
	pub fn forget_before(&mut self, slot: u64) {
		self.orders.retain(|&s, _| s >= slot);
	}

	/// One step: watch the transaction in flight, or make the next one.
	pub async fn step(
		&mut self,
		client: &mut LightClient,
		journal: &Journal,
		metrics: &Metrics,
		community: &Community,
		block_ms: u64,
		now: u64,
	) -> Result<(), SyncError> {
		let blocks = |n| chain::blocks_seconds(n, block_ms);
		let Some(facts) = &self.facts else { return Ok(()) };
		let account = self.owner.account();
		let best_nonce = chain::best_nonce(client, &account).await?;
		if let Some(f) = &mut self.in_flight {
			if best_nonce > f.nonce {
				self.in_flight = None;
			} else if f.slot.is_some_and(|s| now >= community.gate_closure(s))
				|| (f.slot.is_none() && now >= f.sent_at + blocks(STANDING_ORDER_RETRY_BLOCKS))
			{
				if let Some(order) = f.slot.and_then(|s| self.orders.get_mut(&s)) {
					warn!(
						slot = order.slot,
						nonce = order.nonce,
						"order lost: in no block before its gate closed"
					);
					order.state = OrderState::Lost;
					journal.put_order(order, Some(best_nonce), true)?;
				} else {
					journal.set_chain_fact(OWNER_NONCE, best_nonce as u64)?;
				}
				self.in_flight = None;
			} else {
				if now >= f.sent_at + blocks(RESUBMIT_AFTER_BLOCKS) {
					debug!(
						nonce = f.nonce,
						"owner's transaction in no block yet; sending it again"
					);
					f.sent_at = now;
					Self::send(client, &f.extrinsic).await?;
				}
				return Ok(());
			}
		}

		let Some(call) = self.next_call(facts, journal, community, block_ms, now)? else {
			return Ok(());
		};
		let signing = match self.signing {
			Some(s) => s,
			None => {
				let (spec_version, transaction_version) = chain::runtime_versions(client).await?;
				*self.signing.insert(Signing {
					genesis: self.genesis,
					spec_version,
					transaction_version,
				})
			}
		};
		let journaled = journal.chain_fact(OWNER_NONCE)?.unwrap_or(0) as u32;
		let nonce = journaled.max(best_nonce).max(facts.nonce);
		let extrinsic = self.owner.sign(&call, nonce, &signing);
		let verdict = chain::dry_run(client, &extrinsic).await?;
		match (&call, verdict) {
			(_, DryRun::Applies) => {}
			(_, DryRun::Invalid("BadProof")) => {
				// Signed for a runtime the chain no longer runs: ask its versions again.
				self.signing = None;
				return Ok(());
			}
			(_, DryRun::Invalid("Future")) => {
				// The journal's nonce is ahead of the chain's, and nothing of ours is in flight:
				// a transaction was lost. Take the chain's.
				journal.set_chain_fact(OWNER_NONCE, best_nonce as u64)?;
				return Ok(());
			}
			// Not the market's word on the call: the state it was tried on (another of the
			// account's transactions just in, the last block full) or the account's funds for
			// the fee. Tried again at the next step.
			(_, DryRun::Invalid(why)) => {
				match why {
					"Stale" | "ExhaustsResources" => {
						debug!(why, "owner's transaction not valid now")
					}
					_ => warn!(why, "owner's transaction not valid now; trying again later"),
				}
				return Ok(());
			}
			(_, DryRun::Unknown(answer)) => {
				warn!(answer, "the node's dry run answered what the gateway cannot read");
				return Ok(());
			}
			(Call::PlaceOrder { slot, side, energy_wh, limit_per_kwh, .. }, verdict) => {
				let reason = describe(&verdict);
				Metrics::add(&metrics.orders_refused, 1);
				warn!(slot, side = side.name(), energy_wh, error = %reason, "order refused");
				let order = OrderEntry {
					slot: *slot,
					side: *side,
					energy_wh: *energy_wh,
					limit_per_kwh: *limit_per_kwh,
					nonce,
					extrinsic: Vec::new(),
					state: OrderState::Refused { reason },
				};
				journal.put_order(&order, None, false)?;
				self.orders.insert(*slot, order);
				return Ok(());
			}
			(Call::SetStandingOrder(_), verdict) => {
				warn!(error = %describe(&verdict), "standing order refused; trying again later");
				self.standing_order_sent_at = Some(now);
				return Ok(());
			}
		}

		// Journaled with the next nonce before it leaves the box.
		let slot = match call {
			Call::PlaceOrder { slot, side, energy_wh, limit_per_kwh, .. } => {
				let order = OrderEntry {
					slot,
					side,
					energy_wh,
					limit_per_kwh,
					nonce,
					extrinsic: extrinsic.clone(),
					state: OrderState::Submitted { at: now },
				};
				journal.put_order(&order, Some(nonce + 1), true)?;
				self.orders.insert(slot, order);
				Metrics::add(&metrics.orders_submitted, 1);
				info!(slot, side = side.name(), energy_wh, limit_per_kwh, nonce, "order submitted");
				Some(slot)
			}
			Call::SetStandingOrder(o) => {
				journal.set_chain_fact(OWNER_NONCE, nonce as u64 + 1)?;
				self.standing_order_sent_at = Some(now);
				info!(
					buy_limit_per_kwh = o.buy_limit_per_kwh,
					sell_limit_per_kwh = o.sell_limit_per_kwh,
					daily_budget = o.daily_budget,
					nonce,
					"standing order submitted"
				);
				None
			}
		};
		self.in_flight = Some(InFlight { nonce, slot, extrinsic: extrinsic.clone(), sent_at: now });
		Self::send(client, &extrinsic).await
	}

	/// Hands `extrinsic` to the node. A pool's refusal is not the chain's: the bytes stay in
	/// flight, are sent again, and are lost at their deadline if no block takes them.
	async fn send(client: &mut LightClient, extrinsic: &[u8]) -> Result<(), SyncError> {
		match client.submit(extrinsic).await {
			Ok(()) => Ok(()),
			Err(ClientError::Node { error: e @ NodeError::Refused { .. }, .. }) => {
				debug!(error = %e, "the pool did not take the owner's transaction");
				Ok(())
			}
			Err(e) => Err(e.into()),
		}
	}

	/// The standing order if the chain's differs from the configuration's, else an order for
	/// the first slot ahead with an open gate and none yet.
	fn next_call(
		&self,
		facts: &OwnerFacts,
		journal: &Journal,
		community: &Community,
		block_ms: u64,
		now: u64,
	) -> Result<Option<Call>, JournalError> {
		let blocks = |n| chain::blocks_seconds(n, block_ms);
		let standing: StandingOrder = self.config.standing_order;
		let recently = self
			.standing_order_sent_at
			.is_some_and(|at| now < at + blocks(STANDING_ORDER_RETRY_BLOCKS));
		if facts.standing_order != Some(standing) && !recently {
			return Ok(Some(Call::SetStandingOrder(standing)));
		}
		let slot_seconds = community.slot_seconds;
		// The first slot whose gate closes late enough for a block to take the order, and the
		// last the market takes orders for.
		let first = (now + community.gate_closure_lead_seconds + blocks(GATE_MARGIN_BLOCKS))
			.div_ceil(slot_seconds);
		let last = (now / slot_seconds + community.order_horizon_slots as u64)
			.min(first + self.config.horizon_slots - 1);
		for slot in first..=last {
			if self.orders.get(&slot).is_some_and(|o| o.state != OrderState::Lost) {
				continue;
			}
			if let Some(call) = self.order_for(slot, journal, slot_seconds)? {
				return Ok(Some(call));
			}
		}
		Ok(None)
	}

	/// The order the forecast asks for in `slot`, if any.
	fn order_for(
		&self,
		slot: u64,
		journal: &Journal,
		slot_seconds: u64,
	) -> Result<Option<Call>, JournalError> {
		let net = |e: &crate::journal::Entry| {
			e.reading.map(|r| r.reading.import_wh as i64 - r.reading.export_wh as i64)
		};
		let slots_per_day = (86_400 / slot_seconds).max(1);
		let mut days = BTreeMap::new();
		for d in 1..=FORECAST_DAYS {
			if let Some(s) = slot.checked_sub(d * slots_per_day) {
				days.insert(s, journal.get(s)?.as_ref().and_then(net));
			}
		}
		let recent: Vec<i64> = journal
			.entries_from(slot.saturating_sub(FORECAST_RECENT as u64 * 3 + 3))?
			.iter()
			.rev()
			.filter_map(net)
			.take(FORECAST_RECENT)
			.collect();
		let Some(net_import) =
			forecast(slot, slots_per_day, |s| days.get(&s).copied().flatten(), &recent)
		else {
			return Ok(None);
		};
		let standing = self.config.standing_order;
		let (side, energy_wh, limit_per_kwh) = match net_import {
			0 => return Ok(None),
			n if n > 0 => {
				let left = self.budget_left(slot, slot_seconds);
				let energy = (n as u64).min(affordable_wh(left, standing.buy_limit_per_kwh));
				(Side::Bid, energy, standing.buy_limit_per_kwh)
			}
			n => (Side::Ask, n.unsigned_abs(), standing.sell_limit_per_kwh),
		};
		if energy_wh == 0 {
			debug!(slot, "no bid: the day's budget is spent");
			return Ok(None);
		}
		Ok(Some(Call::PlaceOrder {
			metering_point: self.metering_point,
			slot,
			side,
			energy_wh,
			limit_per_kwh,
		}))
	}

	/// What is left of the daily budget for bids in `slot`'s UTC day: the budget less what
	/// the day's bids placed or on their way could cost at most.
	fn budget_left(&self, slot: u64, slot_seconds: u64) -> u128 {
		let day = |s: u64| s * slot_seconds / 86_400;
		let committed: u128 = self
			.orders
			.values()
			.filter(|o| day(o.slot) == day(slot) && o.side == Side::Bid)
			.filter(|o| matches!(o.state, OrderState::Submitted { .. } | OrderState::Placed { .. }))
			.map(|o| worst_cost(o.energy_wh, o.limit_per_kwh))
			.sum();
		self.config.standing_order.daily_budget.saturating_sub(committed)
	}
}

fn describe(verdict: &DryRun) -> String {
	match verdict {
		DryRun::Fails(name) => name.clone(),
		other => format!("{other:?}"),
	}
}
