//! # Metering
//!
//! The gateway at each meter signs one reading per metering point and slot with an ed25519 key
//! that a technician assigned to that metering point registered. Readings arrive as unsigned
//! transactions, so a gateway needs no funds. Every check runs before a reading enters the
//! transaction pool, cheapest first and the signature last, so junk never reaches a block and
//! costs a node little:
//! - the slot is over, and no older than the community keeps settled slots;
//! - no reading for the metering point and slot was accepted before, nor a later one;
//! - neither the slot's energy nor the registers' advance since the last reading exceed the
//!   metering point's connection limit (rated power × slot length, per slot);
//! - the cumulative registers agree with the slot's energy;
//! - the key is the registered, active key of the metering point;
//! - the signature over [`Reading::signed_bytes`] is valid.
//!
//! Once included, a reading is final. A batch carries many readings, for a gateway that serves
//! several meters or catches up after being offline; the pool refuses a batch if any reading in
//! it is refused, so a refused reading never rides along in a block. Settlement reads
//! [`Readings`]: a slot without a reading has no entry, missing, never zero. A reading that
//! comes after its slot was settled on an estimate, while the chain keeps the slot, still
//! counts: its registers give the true energy, and settlement corrects the estimate. After
//! that, the point's next reading carries the energy in its cumulative registers.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod runtime_api;
pub mod types;
pub mod weights;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;
	use pallet_market::{MeteringPointId, Slot};
	use sp_core::ed25519;
	use sp_runtime::traits::Verify;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config:
		pallet_market::Config + frame_system::Config<RuntimeEvent: From<Event<Self>>>
	{
		/// Priority of readings in the pool, above ordinary transactions: a reading left out
		/// until its window closes is lost for settlement. A reading's slot is taken off it,
		/// so that older readings go first.
		#[pallet::constant]
		type UnsignedPriority: Get<TransactionPriority>;

		type WeightInfo: WeightInfo;
	}

	/// The key that speaks for each metering point.
	#[pallet::storage]
	pub type GatewayKeys<T> = StorageMap<_, Twox64Concat, MeteringPointId, ed25519::Public>;

	/// Which metering point each active key speaks for: a key serves one metering point.
	#[pallet::storage]
	pub type KeyOwners<T> = StorageMap<_, Blake2_128Concat, ed25519::Public, MeteringPointId>;

	/// Keys rotated out or revoked: not registered again while they are among the last
	/// [`MAX_RETIRED_KEYS`] of their metering point, and named when a reading is signed with one.
	#[pallet::storage]
	pub type RevokedKeys<T> = StorageMap<_, Blake2_128Concat, ed25519::Public, ()>;

	/// Each metering point's retired keys, oldest first. Bounded, so that the keys a chain
	/// keeps grow with its metering points, not with its age.
	#[pallet::storage]
	pub type RetiredKeys<T> = StorageMap<
		_,
		Twox64Concat,
		MeteringPointId,
		BoundedVec<ed25519::Public, ConstU32<MAX_RETIRED_KEYS>>,
		ValueQuery,
	>;

	/// Accepted readings: energy imported and exported per slot and metering point, with the
	/// registers at the slot's end. Keyed by slot first, so that settlement forgets a slot at
	/// once when it leaves the retention window.
	#[pallet::storage]
	pub type Readings<T> =
		StorageDoubleMap<_, Twox64Concat, Slot, Twox64Concat, MeteringPointId, AcceptedReading>;

	/// The registers of each metering point's latest accepted reading.
	#[pallet::storage]
	pub type LastRegisters<T> = StorageMap<_, Twox64Concat, MeteringPointId, Registers>;

	/// How long after a slot's end settlement waits for its readings. Later readings are
	/// taken too, and settle as corrections.
	#[pallet::storage]
	pub type ReadingsGraceSeconds<T> = StorageValue<_, u64, ValueQuery>;

	#[pallet::genesis_config]
	pub struct GenesisConfig<T: Config> {
		pub readings_grace_seconds: u64,
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	/// A production community takes readings for one 15-minute slot after each slot's end.
	impl<T: Config> Default for GenesisConfig<T> {
		fn default() -> Self {
			Self { readings_grace_seconds: 900, _config: Default::default() }
		}
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			assert!(self.readings_grace_seconds > 0, "a readings window needs some length");
			// A reading that comes in time must not be older than what the chain keeps.
			let c = pallet_market::CommunityParams::<T>::get();
			assert!(
				(c.retention_slots as u64).saturating_mul(c.slot_seconds)
					> self.readings_grace_seconds.saturating_add(c.slot_seconds),
				"the community keeps fewer slots than its readings window spans"
			);
			ReadingsGraceSeconds::<T>::put(self.readings_grace_seconds);
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		KeyRegistered {
			metering_point: MeteringPointId,
			key: ed25519::Public,
		},
		KeyRotated {
			metering_point: MeteringPointId,
			old: ed25519::Public,
			new: ed25519::Public,
		},
		KeyRevoked {
			metering_point: MeteringPointId,
			key: ed25519::Public,
		},
		ReadingAccepted {
			metering_point: MeteringPointId,
			slot: Slot,
			import_wh: u64,
			export_wh: u64,
		},
		/// A reading of a batch was refused; the others were not affected.
		ReadingRefused {
			metering_point: MeteringPointId,
			slot: Slot,
			error: DispatchError,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// Only a technician appointed by the manager may manage gateway keys.
		NotTechnician,
		/// The manager has not assigned this metering point to this technician.
		NotAssigned,
		UnknownMeteringPoint,
		/// The metering point has a key already; rotate it instead.
		MeteringPointHasKey,
		/// The metering point has no key.
		NoKey,
		/// The key serves another metering point.
		KeyInUse,
		/// The key was rotated out or revoked.
		RevokedKey,
		/// The key was never registered.
		UnknownKey,
		/// The key is registered for another metering point.
		ForeignKey,
		BadSignature,
		/// The slot has not ended yet.
		SlotNotOver,
		/// The slot's energy, or the registers' advance since the last reading, is above what
		/// the metering point's connection can carry (its rated power × the slot length, per
		/// slot).
		AboveConnectionLimit,
		/// A batch without readings.
		EmptyBatch,
		/// A reading for this metering point and slot was accepted already.
		Replayed,
		/// A reading for a later slot of this metering point was accepted already.
		OutOfOrder,
		/// A cumulative register is below the previous reading's.
		RegistersBackwards,
		/// The registers' advance does not match the slot's energy.
		RegistersDisagree,
		/// Energy above `MAX_SLOT_ENERGY_WH` or a register above `MAX_REGISTER_WH`.
		ValueOutOfRange,
		/// The slot is older than the community keeps (`retention_slots`); a later reading's
		/// registers settle its energy.
		TooOld,
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// A technician registers the key of the gateway that will speak for a metering point.
		#[pallet::call_index(0)]
		#[pallet::weight(<T as Config>::WeightInfo::register_key())]
		pub fn register_key(
			origin: OriginFor<T>,
			metering_point: MeteringPointId,
			key: ed25519::Public,
		) -> DispatchResult {
			Self::ensure_technician_of(origin, metering_point)?;
			ensure!(
				!GatewayKeys::<T>::contains_key(metering_point),
				Error::<T>::MeteringPointHasKey
			);
			Self::ensure_fresh(&key)?;
			GatewayKeys::<T>::insert(metering_point, key);
			KeyOwners::<T>::insert(key, metering_point);
			Self::deposit_event(Event::KeyRegistered { metering_point, key });
			Ok(())
		}

		/// A technician replaces a metering point's key (a new gateway, or a key that may have
		/// leaked); the old key signs no reading again, and is not registered again while it is
		/// among the point's last retired keys.
		#[pallet::call_index(1)]
		#[pallet::weight(<T as Config>::WeightInfo::rotate_key())]
		pub fn rotate_key(
			origin: OriginFor<T>,
			metering_point: MeteringPointId,
			new: ed25519::Public,
		) -> DispatchResult {
			Self::ensure_technician_of(origin, metering_point)?;
			let old = GatewayKeys::<T>::get(metering_point).ok_or(Error::<T>::NoKey)?;
			Self::ensure_fresh(&new)?;
			Self::retire(metering_point, old);
			GatewayKeys::<T>::insert(metering_point, new);
			KeyOwners::<T>::insert(new, metering_point);
			Self::deposit_event(Event::KeyRotated { metering_point, old, new });
			Ok(())
		}

		/// A technician revokes a metering point's key; until a new one is registered, its
		/// readings are missing.
		#[pallet::call_index(2)]
		#[pallet::weight(<T as Config>::WeightInfo::revoke_key())]
		pub fn revoke_key(origin: OriginFor<T>, metering_point: MeteringPointId) -> DispatchResult {
			Self::ensure_technician_of(origin, metering_point)?;
			let key = GatewayKeys::<T>::take(metering_point).ok_or(Error::<T>::NoKey)?;
			Self::retire(metering_point, key);
			Self::deposit_event(Event::KeyRevoked { metering_point, key });
			Ok(())
		}

		/// A gateway's reading, as an unsigned transaction checked before it enters the pool.
		#[pallet::call_index(3)]
		#[pallet::weight(<T as Config>::WeightInfo::submit_reading())]
		pub fn submit_reading(origin: OriginFor<T>, reading: SignedReading) -> DispatchResult {
			ensure_none(origin)?;
			Self::accept(&reading)?;
			Ok(())
		}

		/// Several readings at once. The pool takes a batch only if every reading in it is
		/// valid; should one still be refused in the block, it is refused on its own, with an
		/// event.
		#[pallet::call_index(4)]
		#[pallet::weight(<T as Config>::WeightInfo::submit_readings(batch.len() as u32))]
		pub fn submit_readings(
			origin: OriginFor<T>,
			batch: BoundedVec<SignedReading, ConstU32<MAX_BATCH>>,
		) -> DispatchResult {
			ensure_none(origin)?;
			ensure!(!batch.is_empty(), Error::<T>::EmptyBatch);
			for signed in &batch {
				if let Err(e) = Self::accept(signed) {
					Self::deposit_event(Event::ReadingRefused {
						metering_point: signed.reading.metering_point,
						slot: signed.reading.slot,
						error: e.into(),
					});
				}
			}
			Ok(())
		}
	}

	// Unsigned transactions are validated here so that a gateway needs no account and no funds.
	// `ValidateUnsigned` is deprecated in favour of transaction extensions, but bare
	// transactions are what every Substrate client can build today.
	#[allow(deprecated)]
	#[pallet::validate_unsigned]
	impl<T: Config> ValidateUnsigned for Pallet<T> {
		type Call = Call<T>;

		fn validate_unsigned(_source: TransactionSource, call: &Self::Call) -> TransactionValidity {
			let readings: &[SignedReading] = match call {
				Call::submit_reading { reading } => core::slice::from_ref(reading),
				Call::submit_readings { batch } => batch,
				_ => return InvalidTransaction::Call.into(),
			};
			let refuse = |e: Error<T>| InvalidTransaction::Custom(error_code(e)).into();
			if readings.is_empty() {
				return refuse(Error::<T>::EmptyBatch);
			}
			// Every cheap check of the whole batch before any signature: a junk batch costs a
			// node a few storage reads, not 96 signature verifications. Later readings of a
			// metering point are checked against the earlier ones of the same batch.
			let mut last = alloc::collections::BTreeMap::new();
			for signed in readings {
				let r = &signed.reading;
				let registers = last
					.entry(r.metering_point)
					.or_insert_with(|| LastRegisters::<T>::get(r.metering_point));
				if let Err(e) = Self::check_fields(signed, *registers) {
					return refuse(e);
				}
				*registers = Some(r.registers());
			}
			if let Some(e) = readings.iter().find_map(|r| Self::check_signature(r).err()) {
				return refuse(e);
			}
			// Older slots first. A fork's abandoned blocks return a gateway's readings to the
			// pool together; were its later reading included first, the earlier one would be
			// refused as out of order and its slot settled on an estimate.
			let oldest = readings.iter().map(|r| r.reading.slot).min().unwrap_or_default();
			let mut valid = ValidTransaction::with_tag_prefix("LemReading")
				.priority(T::UnsignedPriority::get().saturating_sub(oldest))
				.longevity(READINGS_LONGEVITY_BLOCKS)
				.propagate(true);
			for signed in readings {
				valid = valid.and_provides((signed.reading.metering_point, signed.reading.slot));
			}
			valid.build()
		}
	}

	impl<T: Config> Pallet<T> {
		/// Only the technician the manager assigned to the metering point manages its key.
		fn ensure_technician_of(
			origin: OriginFor<T>,
			metering_point: MeteringPointId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(pallet_market::Technicians::<T>::contains_key(&who), Error::<T>::NotTechnician);
			let point = pallet_market::MeteringPoints::<T>::get(metering_point)
				.ok_or(Error::<T>::UnknownMeteringPoint)?;
			ensure!(point.technician == Some(who), Error::<T>::NotAssigned);
			Ok(())
		}

		/// A key serves one metering point, and a retired one is not registered again.
		fn ensure_fresh(key: &ed25519::Public) -> DispatchResult {
			ensure!(!RevokedKeys::<T>::contains_key(key), Error::<T>::RevokedKey);
			ensure!(!KeyOwners::<T>::contains_key(key), Error::<T>::KeyInUse);
			Ok(())
		}

		/// A key retired long ago may be registered again: nothing it signed can be replayed
		/// (a reading names its chain, its metering point and a slot after the point's latest
		/// reading), and a technician can register any key it holds anyway.
		fn retire(metering_point: MeteringPointId, key: ed25519::Public) {
			KeyOwners::<T>::remove(key);
			RevokedKeys::<T>::insert(key, ());
			RetiredKeys::<T>::mutate(metering_point, |keys| {
				if keys.is_full() {
					RevokedKeys::<T>::remove(keys.remove(0));
				}
				let _ = keys.try_push(key);
			});
		}

		/// Every rule a reading must meet.
		pub fn check(signed: &SignedReading) -> Result<(), Error<T>> {
			Self::check_fields(signed, LastRegisters::<T>::get(signed.reading.metering_point))?;
			Self::check_signature(signed)
		}

		/// Every rule but the signature, cheapest first, against the registers of the metering
		/// point's latest reading before this one (`last`).
		fn check_fields(signed: &SignedReading, last: Option<Registers>) -> Result<(), Error<T>> {
			let r = &signed.reading;
			ensure!(
				r.import_wh <= MAX_SLOT_ENERGY_WH
					&& r.export_wh <= MAX_SLOT_ENERGY_WH
					&& r.import_register_wh <= MAX_REGISTER_WH
					&& r.export_register_wh <= MAX_REGISTER_WH,
				Error::<T>::ValueOutOfRange
			);
			let community = pallet_market::CommunityParams::<T>::get();
			let current = community.slot_at(pallet_market::Pallet::<T>::now_seconds());
			ensure!(r.slot < current, Error::<T>::SlotNotOver);
			// Settlement forgets a slot `retention_slots` after it settles it; this reading
			// must reach settlement before then.
			ensure!(
				r.slot.saturating_add(community.retention_slots as u64) >= current,
				Error::<T>::TooOld
			);
			if let Some(last) = last.filter(|l| l.slot >= r.slot) {
				let replayed =
					last.slot == r.slot || Readings::<T>::contains_key(r.slot, r.metering_point);
				return Err(if replayed { Error::<T>::Replayed } else { Error::<T>::OutOfOrder });
			}

			let point = pallet_market::MeteringPoints::<T>::get(r.metering_point)
				.ok_or(Error::<T>::UnknownMeteringPoint)?;
			let limit = community.connection_limit_wh(point.rated_power_w);
			ensure!(r.import_wh <= limit && r.export_wh <= limit, Error::<T>::AboveConnectionLimit);
			if GatewayKeys::<T>::get(r.metering_point) != Some(signed.key) {
				return Err(if RevokedKeys::<T>::contains_key(signed.key) {
					Error::<T>::RevokedKey
				} else if KeyOwners::<T>::contains_key(signed.key) {
					Error::<T>::ForeignKey
				} else {
					Error::<T>::UnknownKey
				});
			}

			ensure!(r.import_register_wh >= r.import_wh, Error::<T>::RegistersDisagree);
			ensure!(r.export_register_wh >= r.export_wh, Error::<T>::RegistersDisagree);
			if let Some(last) = last {
				ensure!(
					r.import_register_wh >= last.import_wh
						&& r.export_register_wh >= last.export_wh,
					Error::<T>::RegistersBackwards
				);
				let (imported, exported) =
					(r.import_register_wh - last.import_wh, r.export_register_wh - last.export_wh);
				// Right after the previous reading the registers advance by exactly this slot's
				// energy; after a gap (missing readings) by at least that much, and by no more
				// than the connection carries in the slots since: a gap cannot hide phantom
				// energy either.
				let slots = r.slot - last.slot;
				let agree = if slots == 1 {
					imported == r.import_wh && exported == r.export_wh
				} else {
					imported >= r.import_wh && exported >= r.export_wh
				};
				ensure!(agree, Error::<T>::RegistersDisagree);
				let most = limit.saturating_mul(slots);
				ensure!(imported <= most && exported <= most, Error::<T>::AboveConnectionLimit);
			}
			Ok(())
		}

		/// The most expensive check, made last.
		fn check_signature(signed: &SignedReading) -> Result<(), Error<T>> {
			let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
			let bytes = signed.reading.signed_bytes(genesis.as_ref());
			ensure!(signed.signature.verify(&bytes[..], &signed.key), Error::<T>::BadSignature);
			Ok(())
		}

		fn accept(signed: &SignedReading) -> Result<(), Error<T>> {
			Self::check(signed)?;
			let r = &signed.reading;
			let registers = r.registers();
			Readings::<T>::insert(
				r.slot,
				r.metering_point,
				AcceptedReading {
					metered: Metered { import_wh: r.import_wh, export_wh: r.export_wh },
					registers,
				},
			);
			LastRegisters::<T>::insert(r.metering_point, registers);
			Self::deposit_event(Event::ReadingAccepted {
				metering_point: r.metering_point,
				slot: r.slot,
				import_wh: r.import_wh,
				export_wh: r.export_wh,
			});
			Ok(())
		}

		/// Unix seconds from which readings of `slot` are taken, and until which (exclusive)
		/// settlement waits for them.
		pub fn readings_window(slot: Slot) -> (u64, u64) {
			let community = pallet_market::CommunityParams::<T>::get();
			let end = slot.saturating_add(1).saturating_mul(community.slot_seconds);
			(end, end.saturating_add(ReadingsGraceSeconds::<T>::get()))
		}
	}

	/// The pool's code for a refused reading: the index of its `Error` variant, so a gateway
	/// maps `InvalidTransaction::Custom(code)` to the same name as an event's error.
	pub fn error_code<T: Config>(e: Error<T>) -> u8 {
		match DispatchError::from(e) {
			DispatchError::Module(m) => m.error[0],
			_ => u8::MAX,
		}
	}
}
