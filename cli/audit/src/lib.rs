//! The auditor's export of settlements, checked against state the auditor proved final itself.
//!
//! Trust starts at the community's raw chain spec. With lem-light-client the auditor follows
//! finality from its genesis — every justification checked against the GRANDPA set it tracks,
//! every handoff the council made applied — to the latest finalized block, or to an earlier
//! block linked to it by parent hashes (`--at`). A node then answers two things: the records
//! of a period (`SettlementApi_settlements`, a runtime call) and a storage proof of the keys
//! those records and their slots live under. Neither is trusted: every record, every slot's
//! totals and the community's slot length are read out of the proof against the block's
//! state root. A record the node made up, changed or left out fails, by name, and nothing is
//! written.
//!
//! The auditor names several nodes, of several utilities. A node whose finality proof, header
//! or storage proof does not check, or whose records the proofs refute, is dropped and the
//! export is made again through the next. Witnesses remain an extra: nodes that must have
//! finalized the same block at the same height.

pub mod serve;

use codec::{Decode, DecodeAll, Encode};
use lem_light_client::{
	client::{ClientError, LightClient, Node},
	hex,
	storage::{self, blake2_128_concat, twox_64_concat, value_key},
	Checkpoint, Header,
};
use pallet_market::{Community, Slot};
use pallet_settlement::{SettledSlot, SettlementRecord, SettlementsPage, MAX_PAGE_RECORDS};
use serde_json::json;
use sp_core::{
	crypto::{AccountId32, Ss58Codec},
	H256,
};
use std::{
	collections::{BTreeMap, BTreeSet, HashMap},
	fmt,
	time::Duration,
};

pub type Row = (Slot, AccountId32, SettlementRecord);

/// Keys asked for in one `state_getReadProof`, to keep each answer small.
const KEYS_PER_PROOF: usize = 512;
/// Most slots in one export: a year of 15-minute slots, or eleven days of the demo's 30 s ones.
pub const MAX_EXPORT_SLOTS: u64 = 366 * 96;
/// A node whose finality stops this long is dropped (an audit is short: only a node that
/// answers with the same old head again and again is caught by it).
const STALE_AFTER: Duration = Duration::from_secs(60);
/// The latest finalized block may be this much older than the auditor's clock. An older one
/// is a node withholding finality (GRANDPA finalizes within seconds), and the next is asked.
pub const MAX_HEAD_AGE: Duration = Duration::from_secs(600);

/// Why an export was refused.
#[derive(Debug, PartialEq)]
pub enum AuditError {
	/// No node of the list could be asked, or none answered what checks.
	Node(ClientError),
	/// The node's answer is not what the method returns.
	BadAnswer(&'static str),
	/// `from` after `to`.
	EmptyRange,
	/// More than `MAX_EXPORT_SLOTS` slots in one export.
	RangeTooLarge,
	/// The node's latest finalized block is older than [`MAX_HEAD_AGE`]: it withholds finality.
	StaleHead { age_seconds: u64 },
	/// A witness has not finalized the block at its height, or could not be asked.
	NotFinalized { node: String, number: u32, block: H256 },
	/// The proof does not check against the block's state root.
	BadProof(String),
	/// A record the node returned is not the one in finalized state (or not there at all).
	RecordMismatch { slot: Slot, account: AccountId32 },
	/// Finalized state has a record of the slot that the node did not return.
	MissingRecord { slot: Slot },
	/// The node returned two records of one account in one slot.
	DuplicateRecord { slot: Slot, account: AccountId32 },
	/// A slot's records do not add up to its proven totals.
	SlotTotalsMismatch { slot: Slot },
	/// A slot's proven balance changes do not sum to zero.
	Imbalance { slot: Slot },
	/// The block no longer holds slots before `oldest_kept`: the community keeps a limited
	/// number of settled slots. They stay provable at an earlier block.
	Pruned { oldest_kept: Slot },
	/// What `node` answered is refuted by the proofs (or by itself): the node is named, as a
	/// liar is.
	Refuted { node: String, error: Box<AuditError> },
}

impl fmt::Display for AuditError {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		match self {
			Self::Node(e) => write!(f, "{e}"),
			Self::BadAnswer(what) => write!(f, "bad answer: {what}"),
			Self::EmptyRange => write!(f, "empty range: --from is after --to"),
			Self::RangeTooLarge => {
				write!(f, "range too large: at most {MAX_EXPORT_SLOTS} slots per export")
			}
			Self::StaleHead { age_seconds } => {
				write!(f, "stale head: the node's latest finalized block is {age_seconds} s old")
			}
			Self::NotFinalized { node, number, block } => {
				write!(f, "not finalized: {node} has not finalized block #{number} {block:?}")
			}
			Self::BadProof(e) => write!(f, "bad proof: {e}"),
			Self::RecordMismatch { slot, account } => write!(
				f,
				"record mismatch: slot {slot}, account {}: not the record in finalized state",
				account.to_ss58check()
			),
			Self::MissingRecord { slot } => {
				write!(f, "missing record: slot {slot} has records the node did not return")
			}
			Self::DuplicateRecord { slot, account } => write!(
				f,
				"duplicate record: slot {slot}, account {} returned twice",
				account.to_ss58check()
			),
			Self::SlotTotalsMismatch { slot } => {
				write!(f, "slot totals mismatch: slot {slot}'s records do not add up to its totals")
			}
			Self::Imbalance { slot } => {
				write!(f, "imbalance: slot {slot}'s balance changes do not sum to zero")
			}
			Self::Refuted { node, error } => write!(f, "{node}: {error}"),
			Self::Pruned { oldest_kept } => write!(
				f,
				"pruned: this block keeps slots from {oldest_kept} on; audit earlier slots at an \
				 earlier block (--at) on a node that keeps old state (--state-pruning archive)"
			),
		}
	}
}

impl std::error::Error for AuditError {}

impl From<ClientError> for AuditError {
	fn from(e: ClientError) -> Self {
		AuditError::Node(e)
	}
}

impl AuditError {
	/// Whether the node asked is to blame: what it said did not check, or it failed. The
	/// export is then made again through the next node.
	fn blames_the_node(&self) -> bool {
		match self {
			Self::Node(ClientError::Lie { .. } | ClientError::Node { .. }) => true,
			Self::StaleHead { .. }
			| Self::BadAnswer(_)
			| Self::BadProof(_)
			| Self::RecordMismatch { .. }
			| Self::MissingRecord { .. }
			| Self::DuplicateRecord { .. }
			| Self::SlotTotalsMismatch { .. }
			| Self::Refuted { .. } => true,
			_ => false,
		}
	}

	/// The error with the node it blames named (`node`, the one asked), unless it names it
	/// already.
	fn naming(self, node: Option<&str>) -> Self {
		match (self, node) {
			(e @ Self::Node(_), _) | (e @ Self::Refuted { .. }, _) | (e, None) => e,
			(e, Some(node)) if e.blames_the_node() => {
				Self::Refuted { node: node.to_owned(), error: Box::new(e) }
			}
			(e, _) => e,
		}
	}
}

/// The auditor's view of the chain: the nodes it may ask, and the finality it checked.
pub struct Auditor {
	rt: tokio::runtime::Runtime,
	client: LightClient,
	genesis: [u8; 32],
	nodes: usize,
}

impl Auditor {
	/// An auditor of the chain whose genesis `checkpoint` is (from its raw chain spec), asking
	/// `nodes` (`ws://` or `wss://` URLs) in turn.
	pub fn new(nodes: Vec<String>, checkpoint: Checkpoint) -> Auditor {
		let rt = tokio::runtime::Builder::new_current_thread()
			.enable_all()
			.build()
			.expect("a tokio runtime");
		let genesis = checkpoint.hash();
		let count = nodes.len();
		let client = LightClient::new(nodes, genesis, checkpoint, STALE_AFTER);
		Auditor { rt, client, genesis, nodes: count }
	}

	/// Follows finality to the latest block the node finalized; with `at`, the header of that
	/// earlier block, linked to it by parent hashes.
	pub fn finalized(&mut self, at: Option<H256>) -> Result<Header, AuditError> {
		self.rt.block_on(async {
			// Each call checks up to 16 proofs of 8 MiB; a node that neither finishes nor
			// advances is asked no more.
			loop {
				let progress = self.client.follow().await?;
				if progress.finished || !progress.advanced {
					break;
				}
			}
			Ok(match at {
				Some(at) => self.client.finalized_header(&at.0).await?,
				None => self.client.checkpoint().finalized.clone(),
			})
		})
	}

	/// The records of slots `from..=to` as the node says they are at `at`, page by page, by
	/// slot and then account. A node that sends a page that does not move on is refused,
	/// rather than asked forever.
	pub fn settlements(
		&mut self,
		from: Slot,
		to: Slot,
		who: Option<&AccountId32>,
		at: &Header,
	) -> Result<Vec<Row>, AuditError> {
		// A slot has a record per account, and every account has a metering point.
		let per_slot = match who {
			Some(_) => 1,
			None => pallet_market::MAX_COMMUNITY_METERING_POINTS as usize,
		};
		let mut rows: Vec<Row> = Vec::new();
		let mut in_slot: BTreeMap<Slot, usize> = BTreeMap::new();
		let mut start = (from, None);
		loop {
			let args = (start.0, to, who, start.1.as_ref()).encode();
			let bytes = self.rt.block_on(self.client.state_call_unchecked(
				"SettlementApi_settlements",
				&args,
				Some(&at.hash()),
			))?;
			let page = SettlementsPage::<AccountId32>::decode_all(&mut &bytes[..])
				.map_err(|_| AuditError::BadAnswer("settlement records"))?;
			let full = page.records.len() as u32 == MAX_PAGE_RECORDS;
			let last = page.records.last().map(|(slot, who, _)| (*slot, Some(who.clone())));
			for (slot, _, _) in &page.records {
				let count = in_slot.entry(*slot).or_insert(0);
				*count += 1;
				if *count > per_slot || !(start.0..=to).contains(slot) {
					return Err(AuditError::BadAnswer(
						"records of a slot not asked for or of too many accounts",
					));
				}
			}
			rows.extend(page.records);
			let Some(next) = page.next else { break };
			// A page stops inside a slot only when full, right after its last record; else it
			// moves on to a later slot. So every page brings new records or new slots.
			let moves_on = match next.1 {
				Some(_) => full && Some(&next) == last.as_ref(),
				None => next.0 > start.0,
			};
			if !moves_on || next.0 > to {
				return Err(AuditError::BadAnswer("a page that does not move on"));
			}
			start = next;
		}
		rows.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
		Ok(rows)
	}

	/// What `keys` hold at `at`, proven against its state root.
	pub fn read(&mut self, keys: &[Vec<u8>], at: &Header) -> Result<Proven, AuditError> {
		let mut proven = Proven::new();
		for chunk in keys.chunks(KEYS_PER_PROOF) {
			let values = self.rt.block_on(self.client.read_at(at, chunk))?;
			proven.extend(chunk.iter().cloned().zip(values));
		}
		Ok(proven)
	}

	/// Refuses a latest finalized block older than [`MAX_HEAD_AGE`] by its proven timestamp.
	fn check_recent(&mut self, head: &Header) -> Result<(), AuditError> {
		let key = value_key("Timestamp", "Now");
		let now_ms = self.read(&[key.clone()], head)?.remove(&key).flatten();
		let now_ms = now_ms
			.and_then(|v| u64::decode_all(&mut &v[..]).ok())
			.ok_or(AuditError::BadAnswer("no Timestamp::Now in state"))?;
		let wall = std::time::SystemTime::now()
			.duration_since(std::time::UNIX_EPOCH)
			.map_or(0, |d| d.as_millis() as u64);
		let age_seconds = wall.saturating_sub(now_ms) / 1000;
		if age_seconds > MAX_HEAD_AGE.as_secs() {
			return Err(AuditError::StaleHead { age_seconds });
		}
		Ok(())
	}

	/// Whether `witness` (a `ws://` or `wss://` URL) has finalized `at`: its finalized head is
	/// at least as high and its chain has `at` there.
	pub fn confirm_finalized(&self, witness: &str, at: &Header) -> Result<(), AuditError> {
		let block = H256(at.hash());
		let refused =
			|| AuditError::NotFinalized { node: witness.into(), number: at.number, block };
		self.rt.block_on(async {
			let mut node = Node::connect(witness, &self.genesis).await.map_err(|_| refused())?;
			let head =
				node.call("chain_getFinalizedHead", json!([])).await.map_err(|_| refused())?;
			let head = head.as_str().and_then(hex::decode_hash).ok_or_else(refused)?;
			let head = node.header(&head).await.ok().flatten().ok_or_else(refused)?;
			let theirs = node.call("chain_getBlockHash", json!([at.number])).await;
			let theirs = theirs.ok().and_then(|v| v.as_str().and_then(hex::decode_hash));
			(head.number >= at.number && theirs == Some(at.hash()))
				.then_some(())
				.ok_or_else(refused)
		})
	}

	/// The settlements of slots `from..=to` (of `who`, or of every account) at block `at` (the
	/// latest finalized if `None`), every record checked against its state root and the block
	/// confirmed by every witness. A node to blame is dropped and the next one asked.
	pub fn export(
		&mut self,
		witnesses: &[String],
		from: Slot,
		to: Slot,
		who: Option<&AccountId32>,
		at: Option<H256>,
	) -> Result<Export, AuditError> {
		if from > to {
			return Err(AuditError::EmptyRange);
		}
		if to - from >= MAX_EXPORT_SLOTS {
			return Err(AuditError::RangeTooLarge);
		}
		let mut tries = self.nodes;
		loop {
			match self.export_once(witnesses, from, to, who, at) {
				Err(e) if e.blames_the_node() => {
					let e = e.naming(self.client.node_url());
					if tries == 1 {
						return Err(e);
					}
					eprintln!("lem-audit: {e}; asking the next node");
					self.client.drop_node();
					tries -= 1;
				}
				done => return done,
			}
		}
	}

	fn export_once(
		&mut self,
		witnesses: &[String],
		from: Slot,
		to: Slot,
		who: Option<&AccountId32>,
		at: Option<H256>,
	) -> Result<Export, AuditError> {
		let header = self.finalized(at)?;
		if at.is_none() {
			self.check_recent(&header)?;
		}
		for witness in witnesses {
			self.confirm_finalized(witness, &header)?;
		}
		let rows = self.settlements(from, to, who, &header)?;
		let keys = keys_to_prove(from, to, who, &rows);
		let proven = self.read(&keys, &header)?;
		let (slot_seconds, settled_slots) = verify(from, to, who, &rows, &proven)?;
		Ok(Export {
			block: H256(header.hash()),
			number: header.number,
			slot_seconds,
			rows,
			settled_slots,
			witnesses: witnesses.len(),
		})
	}
}

/// Where the runtime keeps the community's parameters (`Market::CommunityParams`).
pub fn community_key() -> Vec<u8> {
	value_key("Market", "CommunityParams")
}

/// Where the runtime keeps the next slot to settle (`Settlement::SettlementCursor`).
pub fn settlement_cursor_key() -> Vec<u8> {
	value_key("Settlement", "SettlementCursor")
}

/// Where the runtime keeps a settled slot's totals (`Settlement::SettledSlots`).
pub fn settled_slot_key(slot: Slot) -> Vec<u8> {
	[value_key("Settlement", "SettledSlots"), twox_64_concat(&slot.encode())].concat()
}

/// Where the runtime keeps an account's record of a slot (`Settlement::Records`).
pub fn record_key(slot: Slot, who: &AccountId32) -> Vec<u8> {
	[
		value_key("Settlement", "Records"),
		twox_64_concat(&slot.encode()),
		blake2_128_concat(who.as_ref()),
	]
	.concat()
}

/// A period's settlements, each checked against the state of `block`.
#[derive(Debug)]
pub struct Export {
	pub block: H256,
	pub number: u32,
	pub slot_seconds: u64,
	pub rows: Vec<Row>,
	/// Slots of the period that are settled.
	pub settled_slots: usize,
	/// Witnesses that confirmed the block is finalized.
	pub witnesses: usize,
}

/// What the proof says is stored under each key; `None` for a key proven absent.
pub type Proven = HashMap<Vec<u8>, Option<Vec<u8>>>;

/// Reads `keys` out of `proof` against `state_root`.
pub fn prove(
	state_root: H256,
	proof: Vec<Vec<u8>>,
	keys: &[Vec<u8>],
) -> Result<Proven, AuditError> {
	let values = storage::read_proof(&state_root.0, proof, keys)
		.map_err(|e| AuditError::BadProof(format!("{e:?}")))?;
	Ok(keys.iter().cloned().zip(values).collect())
}

/// The keys whose proof checks the claimed `rows` of slots `from..=to`: the community's
/// parameters, the settlement cursor (which, with them, tells which slots are kept), every
/// slot's totals and every claimed record; for one account, its record key in every slot, so
/// that a record left out is found too.
pub fn keys_to_prove(
	from: Slot,
	to: Slot,
	who: Option<&AccountId32>,
	rows: &[Row],
) -> Vec<Vec<u8>> {
	let mut keys = vec![community_key(), settlement_cursor_key()];
	keys.extend((from..=to).map(settled_slot_key));
	match who {
		Some(who) => keys.extend((from..=to).map(|slot| record_key(slot, who))),
		None => keys.extend(rows.iter().map(|(slot, who, _)| record_key(*slot, who))),
	}
	keys
}

fn decode_proven<T: Decode>(
	proven: &Proven,
	key: &[u8],
	what: &'static str,
) -> Result<Option<T>, AuditError> {
	match proven.get(key) {
		Some(Some(raw)) => {
			T::decode_all(&mut &raw[..]).map(Some).map_err(|_| AuditError::BadAnswer(what))
		}
		Some(None) => Ok(None),
		None => Err(AuditError::BadProof(format!("{what} not in the proof"))),
	}
}

/// Checks the claimed `rows` of slots `from..=to` against what the proof holds. Returns the
/// community's slot length and the number of settled slots.
pub fn verify(
	from: Slot,
	to: Slot,
	who: Option<&AccountId32>,
	rows: &[Row],
	proven: &Proven,
) -> Result<(u64, usize), AuditError> {
	let community: Community = decode_proven(proven, &community_key(), "the community")?
		.ok_or(AuditError::BadAnswer("no community in state"))?;
	// A slot the block no longer keeps would look unsettled.
	let cursor: Option<Slot> =
		decode_proven(proven, &settlement_cursor_key(), "the settlement cursor")?;
	let oldest_kept = cursor.map_or(0, |c| c.saturating_sub(community.retention_slots as u64));
	if from < oldest_kept {
		return Err(AuditError::Pruned { oldest_kept });
	}
	// A record of another slot or account than asked for would go unchecked.
	if let Some((slot, account, _)) =
		rows.iter().find(|(s, a, _)| !(from..=to).contains(s) || who.is_some_and(|w| w != a))
	{
		return Err(AuditError::RecordMismatch { slot: *slot, account: account.clone() });
	}
	let mut by_slot: BTreeMap<Slot, Vec<&Row>> = BTreeMap::new();
	for row in rows {
		by_slot.entry(row.0).or_default().push(row);
	}
	let mut settled_slots = 0;
	for slot in from..=to {
		let totals: Option<SettledSlot> =
			decode_proven(proven, &settled_slot_key(slot), "a settled slot")?;
		let claimed = by_slot.remove(&slot).unwrap_or_default();
		let mut accounts = BTreeSet::new();
		if let Some((_, account, _)) = claimed.iter().find(|(_, a, _)| !accounts.insert(a)) {
			return Err(AuditError::DuplicateRecord { slot, account: account.clone() });
		}
		for (_, account, record) in &claimed {
			let mismatch = || AuditError::RecordMismatch { slot, account: account.clone() };
			let stored: Option<SettlementRecord> =
				decode_proven(proven, &record_key(slot, account), "a record")
					.map_err(|_| mismatch())?;
			if stored.as_ref() != Some(record) {
				return Err(mismatch());
			}
		}
		let Some(totals) = totals else {
			if !claimed.is_empty() {
				return Err(AuditError::SlotTotalsMismatch { slot });
			}
			continue;
		};
		settled_slots += 1;
		if totals.imbalance() != Some(0) {
			return Err(AuditError::Imbalance { slot });
		}
		match who {
			Some(who) => {
				let stored: Option<SettlementRecord> =
					decode_proven(proven, &record_key(slot, who), "a record")?;
				if stored.is_some() && claimed.is_empty() {
					return Err(AuditError::MissingRecord { slot });
				}
			}
			None => {
				if (claimed.len() as u32) < totals.accounts {
					return Err(AuditError::MissingRecord { slot });
				}
				let sum = claimed
					.iter()
					.try_fold(0i128, |sum, (_, _, r)| sum.checked_add(r.balance_change()));
				if claimed.len() as u32 != totals.accounts || sum != Some(totals.participants) {
					return Err(AuditError::SlotTotalsMismatch { slot });
				}
			}
		}
	}
	Ok((community.slot_seconds, settled_slots))
}

/// The CSV header line.
pub const CSV_HEADER: &str = "slot,slot_start_unix,account,bought_wh,sold_wh,price_per_kwh,\
ex_post_bought_wh,ex_post_sold_wh,ex_post_price_per_kwh,market_amount,import_wh,export_wh,\
estimated_import_wh,estimated_export_wh,estimated_readings,from_utility_wh,to_utility_wh,retail,\
retail_per_kwh,feed_in_per_kwh,utility_amount,corrected_wh,correction_amount,unpaid,\
from_deposit,debt_collected,debt,credit_collected,credit,balance_change,verified_block_number,\
verified_block_hash";

/// One record as a CSV line, with the finalized block it was verified against. The energy of
/// metering points without a reading is in the estimated columns, never in the metered ones.
pub fn csv_line(slot_seconds: u64, (number, block): (u32, H256), (slot, who, r): &Row) -> String {
	// No trade, no price: an empty field.
	let price = |p: Option<i64>| p.map(|p| p.to_string()).unwrap_or_default();
	format!(
		"{slot},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:?},{},{},{},{},{},{},{},{},{},{},{},{},{number},{block:?}",
		slot.saturating_mul(slot_seconds),
		who.to_ss58check(),
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
		r.estimated.export_wh,
		r.estimated_readings,
		r.from_utility_wh,
		r.to_utility_wh,
		r.retail,
		r.retail_per_kwh,
		r.feed_in_per_kwh,
		r.utility_amount,
		r.corrected_wh,
		r.correction_amount,
		r.unpaid,
		r.from_deposit,
		r.debt_collected,
		r.debt,
		r.credit_collected,
		r.credit,
		r.balance_change(),
	)
}

impl Export {
	pub fn csv(&self) -> String {
		let mut out = String::from(CSV_HEADER);
		out.push('\n');
		for row in &self.rows {
			out.push_str(&csv_line(self.slot_seconds, (self.number, self.block), row));
			out.push('\n');
		}
		out
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use pallet_metering::Metered;

	#[test]
	fn a_range_is_refused_before_any_node_is_asked() {
		let genesis = Header {
			parent_hash: [0; 32],
			number: 0,
			state_root: [1; 32],
			extrinsics_root: [2; 32],
			digest: vec![],
		};
		let checkpoint = Checkpoint::genesis(genesis, vec![([3; 32], 1)]);
		let mut nobody = Auditor::new(vec!["ws://127.0.0.1:9".into()], checkpoint);
		assert_eq!(nobody.export(&[], 5, 4, None, None).unwrap_err(), AuditError::EmptyRange);
		let too_many = nobody.export(&[], 0, MAX_EXPORT_SLOTS, None, None).unwrap_err();
		assert_eq!(too_many, AuditError::RangeTooLarge);
		assert!(matches!(
			nobody.export(&[], 0, 1, None, None),
			Err(AuditError::Node(ClientError::Node { .. }))
		));
	}

	/// A household that bought 2 kWh and took 1 kWh more from the utility, metered or (`None`)
	/// estimated.
	fn record(metered: Option<Metered>) -> SettlementRecord {
		SettlementRecord {
			bought_wh: 2_000,
			sold_wh: 0,
			price_per_kwh: Some(150_000),
			ex_post_bought_wh: 0,
			ex_post_sold_wh: 0,
			ex_post_price_per_kwh: None,
			market_amount: -300_000,
			metered: metered.unwrap_or_default(),
			estimated: match metered {
				Some(_) => Metered::default(),
				None => Metered { import_wh: 2_000, export_wh: 0 },
			},
			estimated_readings: if metered.is_some() { 0 } else { 1 },
			from_utility_wh: 1_000,
			to_utility_wh: 0,
			retail: pallet_settlement::RetailChoice::Grey,
			retail_per_kwh: 300_000,
			feed_in_per_kwh: 80_000,
			utility_amount: -300_000,
			corrected_wh: 0,
			correction_amount: 0,
			unpaid: 100_000,
			from_deposit: 0,
			debt_collected: 0,
			debt: 100_000,
			credit_collected: 0,
			credit: 0,
		}
	}

	#[test]
	fn a_csv_line_has_every_column_and_keeps_estimates_apart_from_readings() {
		let who = AccountId32::new([1; 32]);
		let columns = CSV_HEADER.split(',').count();
		let at = (42, H256::repeat_byte(1));
		let line = csv_line(
			30,
			at,
			&(7, who.clone(), record(Some(Metered { import_wh: 3_000, export_wh: 0 }))),
		);
		assert_eq!(line.split(',').count(), columns);
		let start =
			format!("7,210,{},2000,0,150000,0,0,,-300000,3000,0,0,0,0,", who.to_ss58check());
		assert!(line.starts_with(&start), "{line}");
		let end =
			format!(",Grey,300000,80000,-300000,0,0,100000,0,0,100000,0,0,-500000,42,{:?}", at.1);
		assert!(line.ends_with(&end), "{line}");
		let estimated = csv_line(30, at, &(7, who, record(None)));
		assert!(estimated.contains(",-300000,0,0,2000,0,1,"), "{estimated}");
	}

	#[test]
	fn a_record_the_values_do_not_hold_is_refused_by_name() {
		let who = AccountId32::new([1; 32]);
		let r = record(None);
		let totals = SettledSlot {
			accounts: 1,
			estimated_readings: 1,
			ex_post: None,
			participants: r.balance_change(),
			utility: 200_000,
			dso: 200_000,
			community: 100_000,
			dso_unpaid: 0,
		};
		let mut proven: Proven = HashMap::new();
		proven.insert(community_key(), Some(Community::default().encode()));
		proven.insert(settlement_cursor_key(), Some(8u64.encode()));
		proven.insert(settled_slot_key(7), Some(totals.encode()));
		proven.insert(record_key(7, &who), Some(r.encode()));
		let rows = vec![(7, who.clone(), r)];
		assert_eq!(verify(7, 7, None, &rows, &proven), Ok((900, 1)));
		assert_eq!(verify(7, 7, Some(&who), &rows, &proven), Ok((900, 1)));
		assert_eq!(verify(7, 7, None, &[], &proven), Err(AuditError::MissingRecord { slot: 7 }));
		assert_eq!(
			verify(7, 7, Some(&who), &[], &proven),
			Err(AuditError::MissingRecord { slot: 7 })
		);
		let twice = vec![rows[0].clone(), rows[0].clone()];
		let duplicate = Err(AuditError::DuplicateRecord { slot: 7, account: who.clone() });
		assert_eq!(verify(7, 7, None, &twice, &proven), duplicate);
		assert_eq!(verify(7, 7, Some(&who), &twice, &proven), duplicate);
		let mut changed = rows.clone();
		changed[0].2.unpaid = 0;
		let mismatch = Err(AuditError::RecordMismatch { slot: 7, account: who.clone() });
		assert_eq!(verify(7, 7, None, &changed, &proven), mismatch);
		assert_eq!(verify(8, 8, None, &rows, &proven), mismatch, "a record of another slot");
		let other = AccountId32::new([2; 32]);
		assert_eq!(verify(7, 7, Some(&other), &rows, &proven), mismatch, "of another account");
		// A slot the block no longer keeps is not taken for an unsettled one.
		let mut pruned = proven.clone();
		let keeps_one = Community { retention_slots: 1, ..Default::default() };
		pruned.insert(community_key(), Some(keeps_one.encode()));
		assert_eq!(verify(7, 7, None, &rows, &pruned), Ok((900, 1)), "the last slot it keeps");
		pruned.insert(settlement_cursor_key(), Some(9u64.encode()));
		assert_eq!(verify(7, 7, None, &rows, &pruned), Err(AuditError::Pruned { oldest_kept: 8 }));
		let unbalanced = SettledSlot { dso: 0, ..totals };
		proven.insert(settled_slot_key(7), Some(unbalanced.encode()));
		assert_eq!(verify(7, 7, None, &rows, &proven), Err(AuditError::Imbalance { slot: 7 }));
	}
}
