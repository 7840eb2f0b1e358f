//! The journal: every slot the gateway took, on the box's SD card, in a redb file.
//!
//! A slot's entry is written — durably, one fsync per slot — before its reading is sent
//! anywhere, so a reading that left the box is always in the journal, and a restart resumes
//! from it: it sends the same signed bytes again and never signs a second reading for the slot.
//! Later states (submitted, finalized, refused) are committed without an fsync and become
//! durable with the next slot's entry; one lost in a crash is found again on the chain. So is
//! the finality checkpoint kept beside the entries: one lost only means following from the
//! one before.
//!
//! The entries' layout and its decoding are the core's (`lem_gateway_core::entry`). The journal
//! keeps `keep_slots` slots before the newest and compacts its file at start, so its size is
//! bounded.

use codec::{DecodeAll, Encode};
use lem_gateway_core::{
	bill::Bill,
	entry::{unversioned, versioned, Corrupt, Entry, OrderEntry},
	home::HomeSlot,
};
use lem_light_client::finality::Checkpoint;
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use std::{fmt, path::Path};

/// Entries by slot.
const ENTRIES: TableDefinition<u64, &[u8]> = TableDefinition::new("entries");
/// The owner's bills, by slot: the ledger the box serves.
const LEDGER: TableDefinition<u64, &[u8]> = TableDefinition::new("ledger");
/// The orders placed for the owner, by slot.
const ORDERS: TableDefinition<u64, &[u8]> = TableDefinition::new("orders");
/// What the home's devices did, and the price the box's zone cleared at, by slot.
const HOME: TableDefinition<u64, &[u8]> = TableDefinition::new("home");
/// The owner's preferences as last set through the box's HTTP API, and the plan the devices
/// follow, as JSON under [`PREFERENCES`] and [`PLAN`].
const SETTINGS: TableDefinition<&str, &[u8]> = TableDefinition::new("settings");
pub const PREFERENCES: &str = "preferences";
pub const PLAN: &str = "plan";
/// What the gateway learned from the chain and needs while offline: `slot_seconds`; and the
/// owner's next nonce, `owner_nonce`.
const CHAIN: TableDefinition<&str, u64> = TableDefinition::new("chain");
/// The light client's checkpoint, under `CHECKPOINT`, after the genesis hash of its chain.
const FINALITY: TableDefinition<&str, &[u8]> = TableDefinition::new("finality");
const CHECKPOINT: &str = "checkpoint";
/// The owner's next nonce, in `CHAIN`.
pub const OWNER_NONCE: &str = "owner_nonce";

/// Why the journal could not be used.
#[derive(Debug)]
pub enum JournalError {
	/// Another process — a running gateway — has the journal open.
	InUse,
	/// The file could not be opened, read or written.
	Storage(String),
	/// An entry's bytes are not an entry.
	Corrupt { slot: u64, why: Corrupt },
	/// The journal follows another chain than the configuration's.
	OtherChain { genesis: [u8; 32] },
	/// The stored finality checkpoint does not decode.
	CorruptCheckpoint,
}

impl fmt::Display for JournalError {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		match self {
			Self::InUse => write!(f, "the journal is open in another process (a running gateway)"),
			Self::Storage(e) => write!(f, "journal storage: {e}"),
			Self::Corrupt { slot, why } => {
				write!(f, "journal entry of slot {slot} is corrupt: {why:?}")
			}
			Self::OtherChain { genesis } => write!(
				f,
				"the journal is of another chain (genesis {})",
				lem_light_client::hex::encode(genesis)
			),
			Self::CorruptCheckpoint => write!(f, "the journal's finality checkpoint is corrupt"),
		}
	}
}

impl std::error::Error for JournalError {}

impl<E: Into<redb::Error>> From<E> for JournalError {
	fn from(e: E) -> Self {
		match e.into() {
			redb::Error::DatabaseAlreadyOpen => JournalError::InUse,
			e => JournalError::Storage(e.to_string()),
		}
	}
}

pub struct Journal {
	db: Database,
	path: std::path::PathBuf,
}

/// redb's page cache; the journal is small and read mostly at start.
const CACHE_BYTES: usize = 256 * 1024;

impl Journal {
	/// Opens the journal at `path`, creating it if need be, and compacts it.
	pub fn open(path: &Path) -> Result<Journal, JournalError> {
		let mut db = Database::builder().set_cache_size(CACHE_BYTES).create(path)?;
		let txn = db.begin_write()?;
		txn.open_table(ENTRIES)?;
		txn.open_table(CHAIN)?;
		txn.open_table(FINALITY)?;
		txn.open_table(ORDERS)?;
		txn.open_table(LEDGER)?;
		txn.open_table(HOME)?;
		txn.open_table(SETTINGS)?;
		txn.commit()?;
		db.compact().map_err(|e| JournalError::Storage(e.to_string()))?;
		Ok(Journal { db, path: path.to_owned() })
	}

	/// Writes `entries`; `durable` waits for the SD card (one fsync).
	pub fn put(&self, entries: &[&Entry], durable: bool) -> Result<(), JournalError> {
		let mut txn = self.db.begin_write()?;
		txn.set_durability(if durable { Durability::Immediate } else { Durability::None })?;
		{
			let mut table = txn.open_table(ENTRIES)?;
			for e in entries {
				table.insert(e.slot, e.to_bytes().as_slice())?;
			}
		}
		txn.commit()?;
		Ok(())
	}

	pub fn get(&self, slot: u64) -> Result<Option<Entry>, JournalError> {
		let txn = self.db.begin_read()?;
		let table = txn.open_table(ENTRIES)?;
		table.get(slot)?.map(|v| decode(slot, v.value())).transpose()
	}

	/// The entries of slots `from` on, oldest first.
	pub fn entries_from(&self, from: u64) -> Result<Vec<Entry>, JournalError> {
		self.from_slot(ENTRIES, from, decode)
	}

	/// The values of `table` of slots `from` on, oldest first, each decoded by `decode`.
	fn from_slot<T>(
		&self,
		table: TableDefinition<u64, &[u8]>,
		from: u64,
		decode: impl Fn(u64, &[u8]) -> Result<T, JournalError>,
	) -> Result<Vec<T>, JournalError> {
		let txn = self.db.begin_read()?;
		let table = txn.open_table(table)?;
		let mut values = Vec::new();
		for item in table.range(from..)? {
			let (slot, bytes) = item?;
			values.push(decode(slot.value(), bytes.value())?);
		}
		Ok(values)
	}

	/// The newest entry.
	pub fn last(&self) -> Result<Option<Entry>, JournalError> {
		let txn = self.db.begin_read()?;
		let table = txn.open_table(ENTRIES)?;
		let last = table.last()?;
		last.map(|(slot, v)| decode(slot.value(), v.value())).transpose()
	}

	/// Writes `order`, and the owner's next nonce if given. `durable` waits for the SD card.
	pub fn put_order(
		&self,
		order: &OrderEntry,
		next_nonce: Option<u32>,
		durable: bool,
	) -> Result<(), JournalError> {
		let mut txn = self.db.begin_write()?;
		txn.set_durability(if durable { Durability::Immediate } else { Durability::None })?;
		txn.open_table(ORDERS)?.insert(order.slot, order.to_bytes().as_slice())?;
		if let Some(nonce) = next_nonce {
			txn.open_table(CHAIN)?.insert(OWNER_NONCE, nonce as u64)?;
		}
		txn.commit()?;
		Ok(())
	}

	/// The orders of slots `from` on, oldest first.
	pub fn orders_from(&self, from: u64) -> Result<Vec<OrderEntry>, JournalError> {
		self.from_slot(ORDERS, from, |slot, bytes| {
			OrderEntry::from_bytes(bytes).map_err(|why| JournalError::Corrupt { slot, why })
		})
	}

	/// Writes `bill` (no fsync: a bill lost in a crash is checked again from the chain while
	/// it keeps the slot).
	pub fn put_bill(&self, bill: &Bill) -> Result<(), JournalError> {
		let mut txn = self.db.begin_write()?;
		txn.set_durability(Durability::None)?;
		txn.open_table(LEDGER)?.insert(bill.slot, versioned(bill).as_slice())?;
		txn.commit()?;
		Ok(())
	}

	/// The bills of slots `from` on, oldest first.
	pub fn bills_from(&self, from: u64) -> Result<Vec<Bill>, JournalError> {
		self.from_slot(LEDGER, from, |slot, bytes| {
			unversioned(bytes).map_err(|why| JournalError::Corrupt { slot, why })
		})
	}

	/// Writes what the home did in `slot` (no fsync: what is lost in a crash is one slot of
	/// the forecast's history).
	pub fn put_home(&self, slot: u64, home: &HomeSlot) -> Result<(), JournalError> {
		let mut txn = self.db.begin_write()?;
		txn.set_durability(Durability::None)?;
		txn.open_table(HOME)?.insert(slot, versioned(home).as_slice())?;
		txn.commit()?;
		Ok(())
	}

	pub fn home(&self, slot: u64) -> Result<Option<HomeSlot>, JournalError> {
		let txn = self.db.begin_read()?;
		let table = txn.open_table(HOME)?;
		let value = table.get(slot)?;
		value
			.map(|v| unversioned(v.value()).map_err(|why| JournalError::Corrupt { slot, why }))
			.transpose()
	}

	/// What the home did in slots `from` on, by slot.
	pub fn homes_from(&self, from: u64) -> Result<Vec<(u64, HomeSlot)>, JournalError> {
		self.from_slot(HOME, from, |slot, bytes| {
			let home = unversioned(bytes).map_err(|why| JournalError::Corrupt { slot, why })?;
			Ok((slot, home))
		})
	}

	/// A setting's JSON, if it was set.
	pub fn setting(&self, name: &str) -> Result<Option<Vec<u8>>, JournalError> {
		let txn = self.db.begin_read()?;
		Ok(txn.open_table(SETTINGS)?.get(name)?.map(|v| v.value().to_vec()))
	}

	/// Keeps a setting, durably: the owner was told it is kept, and the devices follow it.
	pub fn set_setting(&self, name: &str, json: &[u8]) -> Result<(), JournalError> {
		let txn = self.db.begin_write()?;
		txn.open_table(SETTINGS)?.insert(name, json)?;
		txn.commit()?;
		Ok(())
	}

	/// Removes the entries and orders of slots before `slot`.
	pub fn forget_before(&self, slot: u64) -> Result<(), JournalError> {
		let mut txn = self.db.begin_write()?;
		txn.set_durability(Durability::None)?;
		txn.open_table(ENTRIES)?.retain_in(..slot, |_, _| false)?;
		txn.open_table(ORDERS)?.retain_in(..slot, |_, _| false)?;
		txn.open_table(LEDGER)?.retain_in(..slot, |_, _| false)?;
		txn.open_table(HOME)?.retain_in(..slot, |_, _| false)?;
		txn.commit()?;
		Ok(())
	}

	/// A fact about the chain kept for when no node answers.
	pub fn chain_fact(&self, name: &str) -> Result<Option<u64>, JournalError> {
		let txn = self.db.begin_read()?;
		Ok(txn.open_table(CHAIN)?.get(name)?.map(|v| v.value()))
	}

	pub fn set_chain_fact(&self, name: &str, value: u64) -> Result<(), JournalError> {
		let txn = self.db.begin_write()?;
		txn.open_table(CHAIN)?.insert(name, value)?;
		txn.commit()?;
		Ok(())
	}

	/// The finality checkpoint last kept for the chain with `genesis`, if any.
	pub fn checkpoint(&self, genesis: &[u8; 32]) -> Result<Option<Checkpoint>, JournalError> {
		let txn = self.db.begin_read()?;
		let table = txn.open_table(FINALITY)?;
		let Some(value) = table.get(CHECKPOINT)? else { return Ok(None) };
		let bytes = value.value();
		let (ours, checkpoint) =
			bytes.split_at_checked(32).ok_or(JournalError::CorruptCheckpoint)?;
		if ours != genesis {
			let genesis = ours.try_into().expect("32 bytes");
			return Err(JournalError::OtherChain { genesis });
		}
		Checkpoint::decode_all(&mut &checkpoint[..])
			.map(Some)
			.map_err(|_| JournalError::CorruptCheckpoint)
	}

	/// Keeps `checkpoint` of the chain with `genesis` (no fsync, as for later states).
	pub fn set_checkpoint(
		&self,
		genesis: &[u8; 32],
		checkpoint: &Checkpoint,
	) -> Result<(), JournalError> {
		let mut txn = self.db.begin_write()?;
		txn.set_durability(Durability::None)?;
		let bytes = [&genesis[..], &checkpoint.encode()].concat();
		txn.open_table(FINALITY)?.insert(CHECKPOINT, bytes.as_slice())?;
		txn.commit()?;
		Ok(())
	}

	/// The file's size in bytes.
	pub fn size(&self) -> u64 {
		std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0)
	}
}

fn decode(slot: u64, bytes: &[u8]) -> Result<Entry, JournalError> {
	let entry = Entry::from_bytes(bytes).map_err(|why| JournalError::Corrupt { slot, why })?;
	if entry.slot != slot {
		return Err(JournalError::Corrupt {
			slot,
			why: Corrupt::Inconsistent("keyed by another slot"),
		});
	}
	Ok(entry)
}
