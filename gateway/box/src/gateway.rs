//! The gateway's work, poll by poll: read the meter, take each slot's end, sign and journal
//! its reading, and bring the journal's pending readings to finality on the chain. What to do
//! is the core's to decide (`lem_gateway_core::slot` cuts the registers into slots,
//! `lem_gateway_core::verdict` decides what goes next and what the chain's and the nodes'
//! answers mean); this loop reads, sends, journals and logs.
//!
//! The gateway follows finality itself (lem-light-client): it holds the checkpoint in its
//! journal and calls a reading final only when a storage proof at a block it checked shows it.
//! It follows every few seconds while readings are pending, and once a minute otherwise, so
//! that the checkpoint never falls far behind.
//!
//! Readings go to the chain oldest first, one extrinsic in flight at a time: one reading, or
//! all that are waiting in a batch of up to 96 after time offline. A batch is refused whole
//! if one reading in it fails, so after a refused batch the readings go one by one until the
//! failing one has its verdict.

use crate::{
	chain::{self, ChainError, Finalized, HomeQuery, OwnerQuery},
	config::Config,
	device::DeviceError,
	home::{Home, HomeError, PlanFacts},
	journal::{Journal, JournalError},
	key::{self, OwnerKeyError},
	ledger::Ledger,
	meter::{Energy, Meter, MeterError},
	metrics::{Ask, Metrics},
	trader::Trader,
};
use ed25519_dalek::SigningKey;
use lem_gateway_core::{
	chain::{blocks_seconds, clock_skew, Community, DEFAULT_BLOCK_MS},
	entry::{Entry, Registers, State},
	home::Tariffs,
	reading, slot,
	verdict::{self, AfterSubmission, Answer, Refusals, POOL_BANNED},
};
use lem_light_client::client::{self, ClientError, LightClient, NodeError};
use std::{
	collections::BTreeMap,
	fmt,
	sync::Arc,
	time::{Duration, SystemTime, UNIX_EPOCH},
};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

/// A reading in the pool but in no block after this many blocks is sent again (same bytes).
const RESUBMIT_AFTER_BLOCKS: u64 = 5;
/// Readings sent again this many times through one node, none final since, and the next node
/// is tried.
const UNCONFIRMED_LIMIT: u32 = 2;
/// While readings or orders are pending finality is followed every block, else at most this
/// often.
const FOLLOW_IDLE: Duration = Duration::from_secs(60);
/// A node whose finality has not moved for this long is dropped for the next.
const STALE_AFTER: Duration = Duration::from_secs(120);

/// Why the gateway did not start.
#[derive(Debug)]
pub enum StartError {
	Key(key::KeyError),
	OwnerKey(OwnerKeyError),
	Journal(JournalError),
	Meter(MeterError),
	Device(DeviceError),
}

impl fmt::Display for StartError {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		match self {
			Self::Key(e) => write!(f, "key file: {e}"),
			Self::OwnerKey(e) => write!(f, "owner's key file: {e}"),
			Self::Journal(e) => write!(f, "{e}"),
			Self::Meter(e) => write!(f, "{e}"),
			Self::Device(e) => write!(f, "{e}"),
		}
	}
}

impl std::error::Error for StartError {}

pub struct Gateway {
	config: Config,
	key: SigningKey,
	journal: Journal,
	metrics: Arc<Metrics>,
	meter: Meter,
	/// The home's devices the box runs, as the configuration names them, and their plan.
	home: Home,
	/// What the chain last proved for the plan.
	plan_facts: Option<PlanFacts>,
	/// The nodes, and the finality checked through them.
	client: LightClient,
	/// When finality was last followed, and the block the pending readings were last read at.
	followed_at: Option<tokio::time::Instant>,
	read_at: Option<[u8; 32]>,
	/// The client's connection the readings in state `Submitted` were sent through.
	submitted_through: u64,
	slot_seconds: Option<u64>,
	/// The community's parameters at the last finalized block read.
	community: Option<Community>,
	/// The chain's block time, read with them; production's until then.
	block_ms: u64,
	/// Trading for the owner, if the configuration has one; it steps once after each follow.
	trader: Option<Trader>,
	trade_due: bool,
	/// The owner's bills, checked as slots settle; with the trader.
	ledger: Option<Ledger>,
	/// The newest slot whose end was taken.
	last_taken: Option<u64>,
	/// Readings not yet final, by slot: the journal's pending entries.
	pending: BTreeMap<u64, Entry>,
	/// After a refused batch: send the oldest reading alone.
	one_by_one: bool,
	/// A reading one node refused, until another node's word.
	refusals: Refusals,
	/// Times readings were sent again through the node in use because they did not become
	/// final since the last that did.
	unconfirmed: u32,
}

fn unix_ms() -> u64 {
	SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_millis() as u64
}

impl Gateway {
	/// Loads the key, opens the journal and reads the meter once: a gateway that cannot do
	/// these does not start.
	pub async fn start(config: Config, metrics: Arc<Metrics>) -> Result<Gateway, StartError> {
		let key = key::load(&config.key_file).map_err(StartError::Key)?;
		let journal = Journal::open(&config.journal).map_err(StartError::Journal)?;
		let m = &config.meter;
		let mut meter = Meter::connect(m).await.map_err(StartError::Meter)?;
		let energy = meter.read().await.map_err(StartError::Meter)?;
		info!(
			meter = %meter.name(),
			import_wh = energy.import_wh,
			export_wh = energy.export_wh,
			"meter answers"
		);
		// A device the configuration names must answer at start, as the meter must.
		let home = Home::connect(&config, &journal).await.map_err(|e| match e {
			HomeError::Device(e) => StartError::Device(e),
			HomeError::Journal(e) => StartError::Journal(e),
		})?;
		let last = journal.last().map_err(StartError::Journal)?;
		let newest = last.as_ref().map_or(0, |e| e.slot);
		let pending: BTreeMap<u64, Entry> = journal
			.entries_from(newest.saturating_sub(config.keep_slots))
			.map_err(StartError::Journal)?
			.into_iter()
			.filter(|e| e.state.is_pending())
			.map(|e| (e.slot, e))
			.collect();
		let slot_seconds = journal.chain_fact("slot_seconds").map_err(StartError::Journal)?;
		let genesis = config.genesis_hash;
		let checkpoint = journal.checkpoint(&genesis).map_err(StartError::Journal)?;
		info!(
			block = checkpoint.as_ref().map_or(0, |c| c.number()),
			set_id = checkpoint.as_ref().map_or(0, |c| c.set.set_id),
			"following finality from {}",
			if checkpoint.is_some() {
				"the journal's checkpoint"
			} else {
				"the chain spec's genesis"
			}
		);
		let checkpoint = checkpoint.unwrap_or_else(|| config.genesis.clone());
		let (trader, ledger) = match &config.owner {
			None => (None, None),
			Some(o) => {
				let owner = key::load_owner(&o.key_file).map_err(StartError::OwnerKey)?;
				let from = newest.saturating_sub(config.keep_slots);
				let point = config.metering_point;
				let account = owner.account();
				let trader = Trader::new(owner, o.clone(), point, genesis, &journal, from)
					.map_err(StartError::Journal)?;
				let ledger = Ledger::open(account, point, &journal, from, &metrics)
					.map_err(StartError::Journal)?;
				(Some(trader), Some(ledger))
			}
		};
		let client = LightClient::new(config.nodes.clone(), genesis, checkpoint, STALE_AFTER);
		info!(
			metering_point = config.metering_point,
			key = %lem_light_client::hex::encode(&key.verifying_key().to_bytes()),
			newest_slot = last.as_ref().map(|e| e.slot),
			pending = pending.len(),
			"gateway started"
		);
		Metrics::set(&metrics.pending, pending.len() as u64);
		Metrics::set(&metrics.journal_bytes, journal.size());
		Ok(Gateway {
			config,
			key,
			journal,
			metrics,
			meter,
			home,
			plan_facts: None,
			client,
			followed_at: None,
			read_at: None,
			submitted_through: 0,
			slot_seconds,
			community: None,
			trader,
			trade_due: false,
			ledger,
			last_taken: last.map(|e| e.slot),
			pending,
			one_by_one: false,
			refusals: Refusals::default(),
			unconfirmed: 0,
			block_ms: DEFAULT_BLOCK_MS,
		})
	}

	/// Runs until the process ends, answering the owner's `asks` between its rounds. Only the
	/// journal failing stops it: without the journal nothing may be sent.
	pub async fn run(mut self, mut asks: mpsc::Receiver<Ask>) -> Result<(), JournalError> {
		// Every box takes its slot's end at the same instant; they do not all send it then, but
		// each at a moment of its own within half a block after.
		let spread_permille = client::random() % 1000;
		loop {
			let now = unix_ms();
			let taken = self.last_taken;
			self.poll_meter(now).await?;
			let slot_ms = self.slot_seconds.map(|s| s * 1000);
			self.home.poll(&self.metrics, &self.journal, now, slot_ms).await?;
			if self.last_taken != taken {
				let spread = self.block_ms / 2 * spread_permille / 1000;
				tokio::time::sleep(Duration::from_millis(spread)).await;
			}
			self.work_with_chain().await?;
			if let Some(slot_seconds) = self.slot_seconds {
				self.home.plan(&self.journal, unix_ms(), slot_seconds, self.plan_facts)?;
			}
			tokio::select! {
				_ = tokio::time::sleep(self.until_next_wake()) => {}
				Some(ask) = asks.recv() => self.answer(ask)?,
			}
		}
	}

	/// Answers what the owner asked through HTTP. The asker may have given up: no one to
	/// tell is no error.
	fn answer(&mut self, ask: Ask) -> Result<(), JournalError> {
		match ask {
			Ask::Preferences(reply) => {
				let _ = reply.send(self.home.preferences().clone());
			}
			Ask::Plan(reply) => {
				let _ = reply.send(self.home.plan_json());
			}
			Ask::Home(reply) => {
				let Some(slot_seconds) = self.slot_seconds else {
					let _ = reply.send((r#"{"days":[],"slots":[]}"#.into(), String::new()));
					return Ok(());
				};
				let now_slot = unix_ms() / 1000 / slot_seconds;
				let _ = reply.send(self.home.review(&self.journal, slot_seconds, now_slot)?);
			}
			Ask::SetPreferences(preferences, reply) => {
				let set = self.home.set_preferences(preferences, &self.journal);
				let _ = reply.send(set.map(|()| self.home.preferences().clone()));
			}
		}
		Ok(())
	}

	fn until_next_wake(&self) -> Duration {
		let poll = self.config.meter.poll;
		let Some(slot_seconds) = self.slot_seconds else { return poll };
		let signed = self.pending.values().filter(|e| e.state == State::Signed).map(|e| e.slot);
		let (poll_ms, slot_ms) = (poll.as_millis() as u64, slot_seconds * 1000);
		Duration::from_millis(slot::until_wake(unix_ms(), poll_ms, slot_ms, self.block_ms, signed))
	}

	async fn poll_meter(&mut self, now_ms: u64) -> Result<(), JournalError> {
		let energy = match self.meter.read().await {
			Ok(energy) => energy,
			Err(e) => {
				Metrics::add(&self.metrics.meter_errors, 1);
				warn!(error = %e, "meter read failed");
				return Ok(());
			}
		};
		let Some(slot_seconds) = self.slot_seconds else { return Ok(()) };
		let poll_ms = self.config.meter.poll.as_millis() as u64;
		if let Some(ended) = slot::ended(now_ms, slot_seconds * 1000, poll_ms, self.last_taken) {
			self.take(ended, energy, now_ms)?;
		}
		Ok(())
	}

	/// Takes `registers` as the end of `slot`, and signs the slot's reading if its start was
	/// taken too. Journaled durably before anything else happens.
	fn take(&mut self, slot: u64, energy: Energy, now_ms: u64) -> Result<(), JournalError> {
		let registers = Registers { import_wh: energy.import_wh, export_wh: energy.export_wh };
		let start = self.journal.get(slot - 1)?.map(|e| e.registers);
		let (point, genesis) = (self.config.metering_point, &self.config.genesis_hash);
		let entry = slot::take(point, slot, registers, start, now_ms, &self.key, genesis);
		if let (Some(s), None) = (start, &entry.reading) {
			warn!(slot, start = ?s, end = ?registers, "the registers went back over the slot: no reading");
		}
		self.journal.put(&[&entry], true)?;
		self.home.end_slot(slot, self.plan_facts, &self.journal)?;
		self.last_taken = Some(slot);
		Metrics::add(&self.metrics.taken, 1);
		match &entry.reading {
			Some(r) => {
				Metrics::add(&self.metrics.signed, 1);
				info!(
					slot,
					import_wh = r.reading.import_wh,
					export_wh = r.reading.export_wh,
					import_register_wh = registers.import_wh,
					export_register_wh = registers.export_wh,
					"reading signed"
				);
				self.pending.insert(slot, entry);
			}
			None => {
				Metrics::add(&self.metrics.missed, 1);
				info!(slot, "slot missed: its start was not taken; its end registers are kept");
			}
		}
		let forget = slot.saturating_sub(self.config.keep_slots);
		self.journal.forget_before(forget)?;
		if let Some(t) = &mut self.trader {
			t.forget_before(forget);
		}
		self.metrics.ledger.lock().expect("not poisoned").retain(|&s, _| s >= forget);
		Metrics::set(&self.metrics.pending, self.pending.len() as u64);
		Metrics::set(&self.metrics.journal_bytes, self.journal.size());
		Ok(())
	}

	async fn work_with_chain(&mut self) -> Result<(), JournalError> {
		match self.sync().await {
			Err(SyncError::Journal(e)) => return Err(e),
			// The client logs a failed or lying node itself, and drops it; not a refusal.
			Err(SyncError::Chain(ChainError::Client(e)))
				if !matches!(e, ClientError::Node { error: NodeError::Refused { .. }, .. }) =>
			{
				debug!(error = %e, "chain work stopped")
			}
			Err(SyncError::Chain(e)) => warn!(error = %e, "chain work stopped"),
			Ok(()) => {}
		}
		Metrics::set(&self.metrics.node_connected, self.client.node_url().is_some() as u64);
		Metrics::set(&self.metrics.proof_bytes, self.client.proof_bytes());
		Ok(())
	}

	async fn sync(&mut self) -> Result<(), SyncError> {
		let busy = !self.pending.is_empty() || self.trader.as_ref().is_some_and(Trader::busy);
		let every = match &self.trader {
			_ if busy => Duration::from_millis(self.block_ms),
			// A trader looks for newly open slots a few times a slot.
			Some(_) => FOLLOW_IDLE.min(Duration::from_secs(self.slot_seconds.unwrap_or(60) / 4)),
			None => FOLLOW_IDLE,
		};
		if self.followed_at.is_none_or(|at| at.elapsed() >= every) {
			self.follow().await?;
		}
		// The new node's pool may not hold what the last one was given.
		if self.client.connections() != self.submitted_through {
			for entry in self.pending.values_mut() {
				if matches!(entry.state, State::Submitted { .. }) {
					entry.state = State::Signed;
				}
			}
		}
		// A refused batch or reading leaves the next to go at once: a box back from an outage
		// walks past the readings the chain no longer takes without waiting a wake for each.
		while self.submit_next().await? {}
		Metrics::set(&self.metrics.pending, self.pending.len() as u64);
		if self.trade_due {
			self.trade().await?;
		}
		Ok(())
	}

	/// One step of trading, by the best block's clock: the market's gates close by it.
	async fn trade(&mut self) -> Result<(), SyncError> {
		let (Some(trader), Some(community)) = (&mut self.trader, &self.community) else {
			return Ok(());
		};
		let now = chain::best_block_seconds(&mut self.client).await?;
		let block_ms = self.block_ms;
		let planned = |slot| self.home.planned_net_wh(slot);
		trader
			.step(
				&mut self.client,
				&self.journal,
				&self.metrics,
				community,
				block_ms,
				now,
				&planned,
			)
			.await?;
		self.trade_due = false;
		Ok(())
	}

	/// Moves the checkpoint to the latest finalized block, keeps it in the journal and reads
	/// the pending readings there.
	async fn follow(&mut self) -> Result<(), SyncError> {
		let progress = self.client.follow().await.map_err(ChainError::Client)?;
		let checkpoint = self.client.checkpoint();
		if progress.handoffs > 0 {
			info!(
				block = checkpoint.number(),
				set_id = checkpoint.set.set_id,
				"authority set handed off"
			);
		}
		Metrics::set(&self.metrics.last_finalized_block, checkpoint.number() as u64);
		if progress.advanced {
			self.journal.set_checkpoint(&self.config.genesis_hash, checkpoint)?;
		}
		if self.read_at != Some(checkpoint.hash()) {
			let slots: Vec<u64> = self.pending.keys().copied().collect();
			let account = self.trader.as_ref().map(Trader::account);
			let order_slots =
				self.trader.as_ref().map(Trader::unresolved_slots).unwrap_or_default();
			let owner = account.as_ref().map(|account| OwnerQuery { account, slots: &order_slots });
			let point = self.config.metering_point;
			// The plan's prices and light, by the box's slot (the chain's once it knows it); the
			// next slot's price once it clears, before it begins.
			let slot = self.slot_seconds.map(|s| unix_ms() / 1000 / s);
			let home = match slot {
				Some(slot) if self.home.plans() => Some(HomeQuery {
					account: account.as_ref(),
					slot,
					price_of: self.home.wants_price(slot + 1).then_some(slot + 1),
				}),
				_ => None,
			};
			let finalized =
				chain::read_finalized(&mut self.client, point, &slots, owner, home).await?;
			if let Some(skew_ms) = clock_skew(unix_ms(), finalized.time_ms) {
				// Slots are cut by this clock: a skew moves readings into the wrong slot.
				Metrics::add(&self.metrics.clock_skews, 1);
				warn!(skew_ms, block = finalized.number, "the box's clock is off the chain's");
			}
			let slot_seconds = finalized.community.slot_seconds;
			if self.slot_seconds != Some(slot_seconds) {
				self.journal.set_chain_fact("slot_seconds", slot_seconds)?;
				self.slot_seconds = Some(slot_seconds);
			}
			self.community = Some(finalized.community);
			self.block_ms = finalized.block_ms;
			if let (Some(facts), Some(slot)) = (&finalized.home, slot) {
				if let Some(price) = facts.cleared {
					self.home.cleared(slot + 1, price, &self.journal)?;
				}
				let tariffs = Tariffs {
					retail_per_kwh: facts.terms.retail_per_kwh,
					feed_in_per_kwh: facts.terms.feed_in_per_kwh,
				};
				self.plan_facts =
					Some(PlanFacts { read_at_ms: unix_ms(), tariffs, light: facts.light });
			}
			self.check_pending(&finalized)?;
			if let (Some(trader), Some(facts)) = (&mut self.trader, finalized.owner.clone()) {
				let now = unix_ms() / 1000;
				trader.learn(facts, slot_seconds, now, &self.journal, &self.metrics)?;
			}
			if let (Some(ledger), Some(trader)) = (&self.ledger, &self.trader) {
				let (journal, metrics) = (&self.journal, &self.metrics);
				let orders = trader.orders();
				ledger.step(&mut self.client, journal, metrics, slot_seconds, orders).await?;
			}
			self.trade_due = true;
			self.read_at = Some(finalized.block);
		}
		// Only now: past a node that failed on the way, the next wake follows again.
		self.followed_at = Some(tokio::time::Instant::now());
		Ok(())
	}

	/// Marks each pending reading the chain holds at the finalized block final (or refused, if
	/// the chain holds another), and one sent long ago but still absent for sending again.
	fn check_pending(&mut self, finalized: &Finalized) -> Result<(), JournalError> {
		let now = unix_ms() / 1000;
		let resubmit_after = blocks_seconds(RESUBMIT_AFTER_BLOCKS, finalized.block_ms);
		let mut changed = Vec::new();
		let mut sent_again = false;
		for entry in self.pending.values_mut() {
			let ours = entry.reading.map(|r| (r.reading.import_wh, r.reading.export_wh));
			let theirs = finalized.readings.get(&entry.slot).copied().flatten();
			let state = verdict::after_finality(
				&entry.state,
				ours,
				theirs,
				finalized.block,
				now,
				resubmit_after,
			);
			sent_again |= state == State::Signed && entry.state != State::Signed;
			if state != entry.state {
				match &state {
					State::Finalized { block } => {
						self.unconfirmed = 0;
						Metrics::add(&self.metrics.finalized, 1);
						info!(slot = entry.slot, block = %lem_light_client::hex::encode(block), number = finalized.number, "reading final");
					}
					State::Refused { reason } => {
						Metrics::add(&self.metrics.refused, 1);
						warn!(slot = entry.slot, reason = %reason, "reading refused");
					}
					_ => debug!(slot = entry.slot, "reading not final yet; sending it again"),
				}
				entry.state = state;
				changed.push(entry.slot);
			}
		}
		// A node that takes readings but never gets them final may be dropping them.
		self.unconfirmed += sent_again as u32;
		if self.unconfirmed >= UNCONFIRMED_LIMIT && self.config.nodes.len() > 1 {
			let node = self.client.node_url().unwrap_or_default();
			warn!(node = %node, "readings sent through this node do not become final; trying the next node");
			self.client.drop_node();
			self.unconfirmed = 0;
		}
		self.save(&changed)
	}

	/// Journals the new states of `slots` (no fsync: a state lost in a crash is found again
	/// on the chain) and lets go of the settled ones.
	fn save(&mut self, slots: &[u64]) -> Result<(), JournalError> {
		let entries: Vec<&Entry> = slots.iter().filter_map(|s| self.pending.get(s)).collect();
		if entries.is_empty() {
			return Ok(());
		}
		self.journal.put(&entries, false)?;
		self.pending.retain(|_, e| e.state.is_pending());
		Ok(())
	}

	/// Sends the oldest signed readings, unless a submission is still in flight. True if the
	/// chain refused them and the next may go now.
	async fn submit_next(&mut self) -> Result<bool, SyncError> {
		let Some(slot_seconds) = self.slot_seconds else { return Ok(false) };
		if !verdict::ready_to_send(&self.pending) {
			return Ok(false);
		}
		let best = chain::best_block_seconds(&mut self.client).await?;
		let batch =
			verdict::next_batch(&self.pending, best, slot_seconds, self.block_ms, self.one_by_one);
		let readings: Vec<_> = batch.iter().filter_map(|s| self.pending[s].reading).collect();
		let Some(extrinsic) = reading::extrinsic(&readings) else { return Ok(false) };
		let now = unix_ms() / 1000;
		let mut said = String::new();
		let answer = match self.client.submit(&extrinsic).await {
			Ok(()) => Answer::Taken,
			Err(ClientError::Node { error: e @ NodeError::Refused { code, .. }, .. }) => {
				// Banned: the pool refused these very bytes before (or included them). The
				// runtime says whether and why it refuses them now.
				let custom = match code {
					POOL_BANNED => chain::refusal(&mut self.client, &extrinsic).await?,
					_ => e.custom_invalid(),
				};
				said = e.to_string();
				Answer::Refused { code, error: custom.and_then(reading::error_name) }
			}
			Err(e) => return Err(ChainError::Client(e).into()),
		};
		self.submitted_through = self.client.connections();
		let (first, last) = (batch[0], batch[batch.len() - 1]);
		let node = self.client.node_url().unwrap_or_default().to_owned();
		let after = verdict::after_submission(
			&answer,
			batch.len(),
			first,
			&mut self.refusals,
			&node,
			&self.config.nodes,
		);
		let state = match after {
			AfterSubmission::Taken => {
				Metrics::add(&self.metrics.submitted, batch.len() as u64);
				info!(first_slot = first, last_slot = last, readings = batch.len(), node = %node, "submitted");
				self.one_by_one = false;
				Some(State::Submitted { at: now })
			}
			AfterSubmission::Held => Some(State::Submitted { at: now }),
			AfterSubmission::OneByOne { error } => {
				info!(
					first_slot = first,
					last_slot = last,
					error,
					"batch refused; sending one by one"
				);
				self.one_by_one = true;
				None
			}
			AfterSubmission::AskNext { error } => {
				info!(slot = first, error, node = %node, "reading refused; asking the next node");
				self.client.drop_node();
				None
			}
			AfterSubmission::Refused { error } => {
				Metrics::add(&self.metrics.refused, 1);
				warn!(slot = first, error, "reading refused");
				Some(State::Refused { reason: error.into() })
			}
			AfterSubmission::TryAgain => {
				warn!(first_slot = first, error = %said, "submission failed; trying again");
				None
			}
		};
		if let Some(state) = state {
			for slot in &batch {
				self.pending.get_mut(slot).expect("pending").state = state.clone();
			}
		}
		self.save(&batch)?;
		Ok(matches!(after, AfterSubmission::OneByOne { .. } | AfterSubmission::Refused { .. }))
	}
}

/// Why a round of work with the chain stopped: the chain could not be read (the round is
/// tried again), or the journal failed (the gateway stops).
pub enum SyncError {
	Chain(ChainError),
	Journal(JournalError),
}

impl From<ChainError> for SyncError {
	fn from(e: ChainError) -> Self {
		SyncError::Chain(e)
	}
}

impl From<ClientError> for SyncError {
	fn from(e: ClientError) -> Self {
		SyncError::Chain(ChainError::Client(e))
	}
}

impl From<JournalError> for SyncError {
	fn from(e: JournalError) -> Self {
		SyncError::Journal(e)
	}
}
