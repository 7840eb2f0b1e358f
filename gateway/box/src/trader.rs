//! Trading for the owner: the box keeps the owner's standing order in place and places the
//! orders the core's trading policy (`lem_gateway_core::trading`) asks for.
//!
//! One transaction is in flight at a time. An order is journaled durably with the owner's
//! next nonce before it is sent, so that a restart sends the same bytes again. Before signing
//! anything away, the transaction is applied on the node's best state and not sent if the
//! market refuses it: the refusal is logged with the pallet's named error and costs no fee.
//! An order counts as placed only once a storage proof at a finalized block shows it among
//! the owner's orders of its slot.

use crate::{
	chain,
	config::OwnerConfig,
	gateway::SyncError,
	journal::{Journal, JournalError, OWNER_NONCE},
	metrics::Metrics,
};
use lem_gateway_core::{
	chain::{blocks_seconds, Community, DryRun, OwnerFacts},
	entry::{Entry, OrderEntry, OrderState},
	owner::{Call, Owner, Signing, StandingOrder},
	trading::{self, FORECAST_RECENT},
};
use lem_light_client::client::{ClientError, LightClient, NodeError};
use std::collections::BTreeMap;
use tracing::{debug, info, warn};

/// A transaction in the pool but in no block after this many blocks is sent again (same
/// bytes).
const RESUBMIT_AFTER_BLOCKS: u64 = 5;
/// A standing order change not final after this many blocks is made again.
const STANDING_ORDER_RETRY_BLOCKS: u64 = 20;

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
			let ids = facts.orders.get(&order.slot).cloned().unwrap_or_default();
			let Some(state) =
				trading::order_after_finality(order, ids, facts.nonce, now, slot_seconds)
			else {
				continue;
			};
			match &state {
				OrderState::Placed { orders } => {
					Metrics::add(&metrics.orders_placed, 1);
					info!(
						slot = order.slot,
						side = order.side.name(),
						energy_wh = order.energy_wh,
						limit_per_kwh = order.limit_per_kwh,
						orders = ?orders,
						"order placed"
					);
				}
				OrderState::Refused { .. } => {
					Metrics::add(&metrics.orders_refused, 1);
					warn!(
						slot = order.slot,
						nonce = order.nonce,
						"order not placed: its nonce was used on the chain without it"
					);
				}
				_ => warn!(slot = order.slot, "order not seen placed before its slot began"),
			}
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

	/// One step: watch the transaction in flight, or make the next one. `planned` is what the
	/// home's plan draws (positive) or feeds in over a slot, where it plans one.
	#[allow(clippy::too_many_arguments)]
	pub async fn step(
		&mut self,
		client: &mut LightClient,
		journal: &Journal,
		metrics: &Metrics,
		community: &Community,
		block_ms: u64,
		now: u64,
		planned: &dyn Fn(u64) -> Option<i64>,
	) -> Result<(), SyncError> {
		let blocks = |n| blocks_seconds(n, block_ms);
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

		let Some(call) = self.next_call(facts, journal, community, block_ms, now, planned)? else {
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
	/// the first slot ahead with an open gate and none yet: for what the plan draws or feeds
	/// in where it plans the slot, else for what the meter's past forecasts.
	fn next_call(
		&self,
		facts: &OwnerFacts,
		journal: &Journal,
		community: &Community,
		block_ms: u64,
		now: u64,
		planned: &dyn Fn(u64) -> Option<i64>,
	) -> Result<Option<Call>, JournalError> {
		let blocks = |n| blocks_seconds(n, block_ms);
		let standing: StandingOrder = self.config.standing_order;
		let recently = self
			.standing_order_sent_at
			.is_some_and(|at| now < at + blocks(STANDING_ORDER_RETRY_BLOCKS));
		if facts.standing_order != Some(standing) && !recently {
			return Ok(Some(Call::SetStandingOrder(standing)));
		}
		let slot_seconds = community.slot_seconds;
		for slot in trading::order_slots(now, community, block_ms, self.config.horizon_slots) {
			if !trading::wants_order(self.orders.get(&slot)) {
				continue;
			}
			let net_import = match planned(slot) {
				Some(net) => Some(net),
				None => self.forecast(slot, journal, slot_seconds)?,
			};
			let Some(net_import) = net_import else { continue };
			let budget_left =
				trading::budget_left(&self.orders, slot, slot_seconds, standing.daily_budget);
			match trading::order_for(self.metering_point, slot, net_import, &standing, budget_left)
			{
				Some(call) => return Ok(Some(call)),
				None if net_import > 0 => debug!(slot, "no bid: the day's budget is spent"),
				None => {}
			}
		}
		Ok(None)
	}

	/// The forecast net import of `slot`, from the journal's readings.
	fn forecast(
		&self,
		slot: u64,
		journal: &Journal,
		slot_seconds: u64,
	) -> Result<Option<i64>, JournalError> {
		let net =
			|e: &Entry| e.reading.map(|r| r.reading.import_wh as i64 - r.reading.export_wh as i64);
		let slots_per_day = (86_400 / slot_seconds).max(1);
		let mut days = BTreeMap::new();
		for s in trading::forecast_days(slot, slots_per_day) {
			days.insert(s, journal.get(s)?.as_ref().and_then(net));
		}
		let recent: Vec<i64> = journal
			.entries_from(slot.saturating_sub(FORECAST_RECENT as u64 * 3 + 3))?
			.iter()
			.rev()
			.filter_map(net)
			.take(FORECAST_RECENT)
			.collect();
		Ok(trading::forecast(slot, slots_per_day, |s| days.get(&s).copied().flatten(), &recent))
	}
}

fn describe(verdict: &DryRun) -> String {
	match verdict {
		DryRun::Fails(name) => name.clone(),
		other => format!("{other:?}"),
	}
}
