//! The gateway's work, poll by poll: read the meter, take each slot's end, sign and journal
//! its reading, and bring the journal's pending readings to finality on the chain.
//!
//! A slot's reading is the advance of the registers between the slot's start and its end, each
//! taken at the first poll after the boundary (the gateway wakes right after it). A slot whose
//! start was not taken — the gateway or the meter was down at the boundary — gets no reading:
//! the gateway never invents energy. The registers of the next reading carry it, and
//! settlement corrects the slot's estimate from them.
//!
//! Readings go to the chain oldest first, one extrinsic in flight at a time: one reading, or
//! all that are waiting in a batch of up to 96 after time offline. A batch is refused whole
//! if one reading in it fails, so after a refused batch the readings go one by one until the
//! failing one has its verdict.

use crate::{
	config::Config,
	journal::{Entry, Journal, JournalError, Registers, State},
	key,
	meter::{Energy, Meter, MeterError},
	metrics::Metrics,
	node::{self as ask, Head, Node, NodeError},
	reading::{self, Reading, MAX_BATCH},
};
use ed25519_dalek::SigningKey;
use std::{
	collections::BTreeMap,
	fmt,
	sync::Arc,
	time::{Duration, SystemTime, UNIX_EPOCH},
};
use tracing::{debug, info, warn};

/// A reading in the pool but in no block after this long is sent again (same bytes).
const RESUBMIT_AFTER_SECONDS: u64 = 30;
/// The pool's answer to bytes it refused or included in the last half hour.
const POOL_BANNED: i64 = 1012;
/// How long to wait before trying the next node after one failed.
const NODE_RETRY: Duration = Duration::from_secs(3);
/// The gateway wakes this long after a slot's boundary to take the registers.
const AFTER_BOUNDARY: Duration = Duration::from_millis(50);

/// Why the gateway did not start.
#[derive(Debug)]
pub enum StartError {
	Key(key::KeyError),
	Journal(JournalError),
	Meter(MeterError),
}

impl fmt::Display for StartError {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		match self {
			Self::Key(e) => write!(f, "key file: {e}"),
			Self::Journal(e) => write!(f, "{e}"),
			Self::Meter(e) => write!(f, "{e}"),
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
	/// The node in use, and which of the configuration's to try next.
	node: Option<Node>,
	next_node: usize,
	node_retry_at: Option<tokio::time::Instant>,
	slot_seconds: Option<u64>,
	/// The newest slot whose end was taken.
	last_taken: Option<u64>,
	/// Readings not yet final, by slot: the journal's pending entries.
	pending: BTreeMap<u64, Entry>,
	/// The (best, finalized) heads the pending readings were last checked at.
	checked_at: Option<(Head, Head)>,
	/// After a refused batch: send the oldest reading alone.
	one_by_one: bool,
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
		let mut meter = Meter::connect(m.address, m.unit, &m.map, m.answer_within)
			.await
			.map_err(StartError::Meter)?;
		let energy = meter.read().await.map_err(StartError::Meter)?;
		info!(
			meter = %m.address,
			import_wh = energy.import_wh,
			export_wh = energy.export_wh,
			"meter answers"
		);
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
			node: None,
			next_node: 0,
			node_retry_at: None,
			slot_seconds,
			last_taken: last.map(|e| e.slot),
			pending,
			checked_at: None,
			one_by_one: false,
		})
	}

	/// Runs until the process ends. Only the journal failing stops it: without the journal
	/// nothing may be sent.
	pub async fn run(mut self) -> Result<(), JournalError> {
		loop {
			let now = unix_ms();
			self.poll_meter(now).await?;
			self.work_with_chain().await?;
			tokio::time::sleep(self.until_next_wake()).await;
		}
	}

	fn until_next_wake(&self) -> Duration {
		let poll = self.config.meter.poll;
		let Some(slot_seconds) = self.slot_seconds else { return poll };
		let now = unix_ms();
		let slot_ms = slot_seconds * 1000;
		let to_boundary = Duration::from_millis(slot_ms - now % slot_ms) + AFTER_BOUNDARY;
		poll.min(to_boundary)
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
		let slot_ms = slot_seconds * 1000;
		let slot = now_ms / slot_ms;
		// The registers count as the previous slot's end only close to the boundary: two polls.
		let close = now_ms % slot_ms <= 2 * self.config.meter.poll.as_millis() as u64;
		let ended = slot.checked_sub(1);
		if let Some(ended) = ended.filter(|&e| close && self.last_taken.is_none_or(|t| t < e)) {
			self.take(ended, energy, now_ms)?;
		}
		Ok(())
	}

	/// Takes `registers` as the end of `slot`, and signs the slot's reading if its start was
	/// taken too. Journaled durably before anything else happens.
	fn take(&mut self, slot: u64, energy: Energy, now_ms: u64) -> Result<(), JournalError> {
		let registers = Registers { import_wh: energy.import_wh, export_wh: energy.export_wh };
		let start = self.journal.get(slot - 1)?.map(|e| e.registers);
		let reading = match start {
			Some(s) if registers.import_wh >= s.import_wh && registers.export_wh >= s.export_wh => {
				let reading = Reading {
					metering_point: self.config.metering_point,
					slot,
					import_wh: registers.import_wh - s.import_wh,
					export_wh: registers.export_wh - s.export_wh,
					import_register_wh: registers.import_wh,
					export_register_wh: registers.export_wh,
				};
				Some(reading.sign(&self.key, &self.config.genesis_hash))
			}
			Some(s) => {
				warn!(slot, start = ?s, end = ?registers, "the registers went back over the slot: no reading");
				None
			}
			None => None,
		};
		let state = if reading.is_some() { State::Signed } else { State::Taken };
		let entry = Entry { slot, registers, taken_at_ms: now_ms, reading, state };
		self.journal.put(&[&entry], true)?;
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
		self.journal.forget_before(slot.saturating_sub(self.config.keep_slots))?;
		Metrics::set(&self.metrics.pending, self.pending.len() as u64);
		Metrics::set(&self.metrics.journal_bytes, self.journal.size());
		Ok(())
	}

	async fn work_with_chain(&mut self) -> Result<(), JournalError> {
		if self.node.is_none() && !self.connect().await? {
			return Ok(());
		}
		if let Err(e) = self.sync().await {
			match e {
				SyncError::Journal(e) => return Err(e),
				SyncError::Node(e) => {
					let url = self.node.take().map(|n| n.url).unwrap_or_default();
					warn!(node = %url, error = %e, "dropping the node");
					Metrics::set(&self.metrics.node_connected, 0);
					self.next_node += 1;
				}
			}
		}
		Ok(())
	}

	/// Tries the next node in the configuration. True if one is connected.
	async fn connect(&mut self) -> Result<bool, JournalError> {
		let now = tokio::time::Instant::now();
		if self.node_retry_at.is_some_and(|at| now < at) {
			return Ok(false);
		}
		let url = self.config.nodes[self.next_node % self.config.nodes.len()].clone();
		let connected = match Node::connect(&url, &self.config.genesis_hash).await {
			Ok(mut node) if self.slot_seconds.is_none() => match ask::slot_seconds(&mut node).await
			{
				Ok(s) if s > 0 => {
					self.journal.set_chain_fact("slot_seconds", s)?;
					self.slot_seconds = Some(s);
					Ok(node)
				}
				Ok(s) => Err(NodeError::BadAnswer {
					method: "state_call",
					reason: format!("slot of {s} s"),
				}),
				Err(e) => Err(e),
			},
			other => other,
		};
		match connected {
			Ok(node) => {
				info!(node = %url, "connected");
				self.node = Some(node);
				self.node_retry_at = None;
				self.checked_at = None;
				Metrics::set(&self.metrics.node_connected, 1);
				// The new node's pool may not hold what the last one was given.
				for entry in self.pending.values_mut() {
					if matches!(entry.state, State::Submitted { .. }) {
						entry.state = State::Signed;
					}
				}
				Ok(true)
			}
			Err(e) => {
				warn!(node = %url, error = %e, "node unavailable");
				self.next_node += 1;
				self.node_retry_at = Some(now + NODE_RETRY);
				Ok(false)
			}
		}
	}

	async fn sync(&mut self) -> Result<(), SyncError> {
		let node = self.node.as_mut().expect("connected");
		let finalized = ask::finalized_head(node).await?;
		Metrics::set(&self.metrics.last_finalized_block, finalized.number);
		if self.pending.is_empty() {
			return Ok(());
		}
		let best = ask::best_head(node).await?;
		if self.checked_at != Some((best, finalized)) {
			self.check_pending(best, finalized).await?;
			self.checked_at = Some((best, finalized));
		}
		self.submit_next().await?;
		Metrics::set(&self.metrics.pending, self.pending.len() as u64);
		Ok(())
	}

	/// Looks each reading in flight up on the chain: final, in a block, or lost.
	async fn check_pending(&mut self, best: Head, finalized: Head) -> Result<(), SyncError> {
		let node = self.node.as_mut().expect("connected");
		let point = self.config.metering_point;
		let now = unix_ms() / 1000;
		let mut changed = Vec::new();
		for entry in self.pending.values_mut() {
			if matches!(entry.state, State::Signed) {
				continue;
			}
			let ours = entry.reading.map(|r| (r.reading.import_wh, r.reading.export_wh));
			let state = match ask::reading(node, point, entry.slot, finalized.hash).await? {
				Some(m) if Some(m) == ours => State::Finalized { block: finalized.hash },
				Some(_) => State::Refused {
					reason: "another reading of this slot is final on the chain".into(),
				},
				None => match ask::reading(node, point, entry.slot, best.hash).await? {
					Some(m) if Some(m) == ours => State::InBlock { block: best.hash },
					// Not on the best chain (any more): send it again if it has waited long.
					_ => match entry.state {
						State::InBlock { .. } => State::Signed,
						State::Submitted { at } if now >= at + RESUBMIT_AFTER_SECONDS => {
							State::Signed
						}
						ref s => s.clone(),
					},
				},
			};
			if state != entry.state {
				match &state {
					State::Finalized { block } => {
						Metrics::add(&self.metrics.finalized, 1);
						info!(slot = entry.slot, block = %lem_light_client::hex::encode(block), "reading final");
					}
					State::InBlock { .. } => debug!(slot = entry.slot, "reading in a block"),
					State::Refused { reason } => {
						Metrics::add(&self.metrics.refused, 1);
						warn!(slot = entry.slot, reason = %reason, "reading refused");
					}
					_ => debug!(slot = entry.slot, "reading not on the chain; sending it again"),
				}
				entry.state = state;
				changed.push(entry.slot);
			}
		}
		self.save(&changed)?;
		Ok(())
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

	/// Sends the oldest signed readings, unless a submission is still in flight.
	async fn submit_next(&mut self) -> Result<(), SyncError> {
		if self.pending.values().any(|e| matches!(e.state, State::Submitted { .. })) {
			return Ok(());
		}
		if !self.pending.values().any(|e| e.state == State::Signed) {
			return Ok(());
		}
		let node = self.node.as_mut().expect("connected");
		let current_slot = ask::current_slot(node).await?;
		let limit = if self.one_by_one { 1 } else { MAX_BATCH };
		let batch: Vec<u64> = self
			.pending
			.values()
			.filter(|e| e.state == State::Signed && e.slot < current_slot)
			.take(limit)
			.map(|e| e.slot)
			.collect();
		let readings: Vec<_> = batch.iter().filter_map(|s| self.pending[s].reading).collect();
		let Some(extrinsic) = reading::extrinsic(&readings) else { return Ok(()) };
		let now = unix_ms() / 1000;
		let verdict = node.submit(&extrinsic).await;
		// Banned: the pool refused these very bytes before (or included them). The runtime
		// says whether and why it refuses them now.
		let code = match &verdict {
			Err(NodeError::Refused { code: POOL_BANNED, .. }) => {
				ask::refusal(node, &extrinsic).await?
			}
			Err(e) => e.custom_invalid(),
			Ok(()) => None,
		};
		let (first, last) = (batch[0], batch[batch.len() - 1]);
		let mark = |this: &mut Self, state: State| {
			for slot in &batch {
				this.pending.get_mut(slot).expect("pending").state = state.clone();
			}
		};
		match verdict {
			Ok(()) => {
				Metrics::add(&self.metrics.submitted, batch.len() as u64);
				info!(first_slot = first, last_slot = last, readings = batch.len(), node = %node.url, "submitted");
				mark(self, State::Submitted { at: now });
				self.one_by_one = false;
			}
			Err(e) => match (code.and_then(reading::error_name), batch.len()) {
				(Some(error), n) if n > 1 => {
					info!(
						first_slot = first,
						last_slot = last,
						error,
						"batch refused; sending one by one"
					);
					self.one_by_one = true;
				}
				// Already on the chain: where, the next check finds out.
				(Some("Replayed"), _) => mark(self, State::Submitted { at: now }),
				(Some(error), _) => {
					Metrics::add(&self.metrics.refused, 1);
					warn!(slot = first, error, "reading refused");
					mark(self, State::Refused { reason: error.into() });
					self.one_by_one = false;
				}
				// In the pool already (1013, or 1014 for a batch overlapping a reading there), or
				// just included (the pool bans what it included for a
				// while). Where it is, the next check finds out.
				(None, _)
					if matches!(e, NodeError::Refused { code: POOL_BANNED | 1013 | 1014, .. }) =>
				{
					mark(self, State::Submitted { at: now })
				}
				(None, _) if e.is_connection() => return Err(e.into()),
				(None, _) => {
					warn!(first_slot = first, error = %e, "submission failed; trying again")
				}
			},
		}
		self.save(&batch)?;
		Ok(())
	}
}

enum SyncError {
	Node(NodeError),
	Journal(JournalError),
}

impl From<NodeError> for SyncError {
	fn from(e: NodeError) -> Self {
		SyncError::Node(e)
	}
}

impl From<JournalError> for SyncError {
	fn from(e: JournalError) -> Self {
		SyncError::Journal(e)
	}
}
