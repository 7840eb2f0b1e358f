//! # Metering
//!
//! The gateway at each meter signs one reading per metering point and slot with an ed25519 key
//! that a technician assigned to that metering point registered and the point's owner accepted:
//! a technician alone cannot make a key of its own sign imports its household pays for, or
//! exports the utility pays for. Revoking a key needs nobody's consent. Readings arrive as unsigned
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

	/// Which metering point each active or proposed key speaks for: a key serves one metering
	/// point.
	#[pallet::storage]
	pub type KeyOwners<T> = StorageMap<_, Blake2_128Concat, ed25519::Public, MeteringPointId>;

	/// A key a technician registered or rotated to, waiting for the metering point's owner to
	/// accept it (`accept_key`); until then it signs nothing, and a rotated point's old key
	/// goes on signing.
	#[pallet::storage]
	pub type ProposedKeys<T> = StorageMap<_, Twox64Concat, MeteringPointId, ed25519::Public>;

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

	/// The registers of each metering point's latest accepted reading, continued across meter
	/// exchanges.
	#[pallet::storage]
	pub type LastRegisters<T> = StorageMap<_, Twox64Concat, MeteringPointId, Registers>;

	/// A meter exchange a technician recorded, waiting for the metering point's owner to accept
	/// it (`accept_meter_exchange`).
	#[pallet::storage]
	pub type ProposedExchanges<T> = StorageMap<_, Twox64Concat, MeteringPointId, MeterExchange>;

	/// How each exchanged meter's registers continue its predecessor's.
	#[pallet::storage]
	pub type RegisterOffsets<T> = StorageMap<_, Twox64Concat, MeteringPointId, RegisterOffset>;

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
		/// A technician proposed a key for the metering point; it signs once the point's owner
		/// accepts it.
		KeyProposed {
			metering_point: MeteringPointId,
			key: ed25519::Public,
		},
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
		/// A technician withdrew the key it proposed for a metering point without a key.
		KeyWithdrawn {
			metering_point: MeteringPointId,
			key: ed25519::Public,
		},
		ReadingAccepted {
			metering_point: MeteringPointId,
			slot: Slot,
			import_wh: u64,
			export_wh: u64,
		},
		/// A technician recorded a meter exchange; it counts once the point's owner accepts it.
		MeterExchangeProposed {
			metering_point: MeteringPointId,
			exchange: MeterExchange,
		},
		/// The new meter's registers continue the old one's from `from_slot` on.
		MeterExchanged {
			metering_point: MeteringPointId,
			exchange: MeterExchange,
			from_slot: Slot,
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
		/// The key waits for the metering point's owner to accept it.
		KeyNotAccepted,
		/// Only the metering point's owner accepts its keys.
		NotPointOwner,
		/// No key or meter exchange, or another one, is proposed for the metering point.
		NotProposed,
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// A technician registers the key of the gateway that will speak for a metering point.
		/// It signs once the point's owner accepts it.
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
			Self::propose(metering_point, key)
		}

		/// A technician proposes a new key for a metering point (a new gateway, or a key that
		/// may have leaked: revoke that one at once). Once the point's owner accepts it, the old
		/// key signs no reading again, and is not registered again while it is among the
		/// point's last retired keys.
		#[pallet::call_index(1)]
		#[pallet::weight(<T as Config>::WeightInfo::rotate_key())]
		pub fn rotate_key(
			origin: OriginFor<T>,
			metering_point: MeteringPointId,
			new: ed25519::Public,
		) -> DispatchResult {
			Self::ensure_technician_of(origin, metering_point)?;
			ensure!(GatewayKeys::<T>::contains_key(metering_point), Error::<T>::NoKey);
			Self::propose(metering_point, new)
		}

		/// A technician revokes a metering point's key, and any key proposed for it; until a
		/// new one is registered and accepted, its readings are missing.
		#[pallet::call_index(2)]
		#[pallet::weight(<T as Config>::WeightInfo::revoke_key())]
		pub fn revoke_key(origin: OriginFor<T>, metering_point: MeteringPointId) -> DispatchResult {
			Self::ensure_technician_of(origin, metering_point)?;
			let proposed = ProposedKeys::<T>::take(metering_point);
			if let Some(key) = proposed {
				KeyOwners::<T>::remove(key);
			}
			let Some(key) = GatewayKeys::<T>::take(metering_point) else {
				let key = proposed.ok_or(Error::<T>::NoKey)?;
				Self::deposit_event(Event::KeyWithdrawn { metering_point, key });
				return Ok(());
			};
			Self::retire(metering_point, key);
			Self::deposit_event(Event::KeyRevoked { metering_point, key });
			Ok(())
		}

		/// The metering point's owner accepts the key a technician proposed for it, naming
		/// the key it checked (on its gateway's display or in the app), so that a key
		/// swapped in meanwhile is not accepted. From now on that key signs its readings.
		#[pallet::call_index(5)]
		#[pallet::weight(<T as Config>::WeightInfo::accept_key())]
		pub fn accept_key(
			origin: OriginFor<T>,
			metering_point: MeteringPointId,
			key: ed25519::Public,
		) -> DispatchResult {
			Self::ensure_owner_of(origin, metering_point)?;
			ensure!(ProposedKeys::<T>::get(metering_point) == Some(key), Error::<T>::NotProposed);
			ProposedKeys::<T>::remove(metering_point);
			match GatewayKeys::<T>::get(metering_point) {
				Some(old) => {
					Self::retire(metering_point, old);
					Self::deposit_event(Event::KeyRotated { metering_point, old, new: key });
				}
				None => Self::deposit_event(Event::KeyRegistered { metering_point, key }),
			}
			GatewayKeys::<T>::insert(metering_point, key);
			Ok(())
		}

		/// A technician records a meter exchange at a metering point, or a register rollover:
		/// the old meter's final registers and the new meter's first. Without it every reading
		/// of the new meter is refused (`RegistersBackwards`), and the point is settled on
		/// estimates for good. It counts once the point's owner accepts it. The old meter's final
		/// registers must follow its last reading as any reading's would: neither backwards nor
		/// beyond what the connection carried since.
		#[pallet::call_index(6)]
		#[pallet::weight(<T as Config>::WeightInfo::propose_meter_exchange())]
		pub fn propose_meter_exchange(
			origin: OriginFor<T>,
			metering_point: MeteringPointId,
			exchange: MeterExchange,
		) -> DispatchResult {
			Self::ensure_technician_of(origin, metering_point)?;
			Self::check_exchange(metering_point, &exchange)?;
			ProposedExchanges::<T>::insert(metering_point, exchange);
			Self::deposit_event(Event::MeterExchangeProposed { metering_point, exchange });
			Ok(())
		}

		/// The metering point's owner accepts the meter exchange the technician recorded,
		/// naming the registers it checked: from the current slot on, the new meter's readings
		/// continue the old one's registers, and the energy between the old meter's last reading
		/// and its final registers is in the next reading's.
		#[pallet::call_index(7)]
		#[pallet::weight(<T as Config>::WeightInfo::accept_meter_exchange())]
		pub fn accept_meter_exchange(
			origin: OriginFor<T>,
			metering_point: MeteringPointId,
			exchange: MeterExchange,
		) -> DispatchResult {
			Self::ensure_owner_of(origin, metering_point)?;
			ensure!(
				ProposedExchanges::<T>::get(metering_point) == Some(exchange),
				Error::<T>::NotProposed
			);
			// Readings of the old meter may have come in since it was proposed.
			let (old_import, old_export) = Self::check_exchange(metering_point, &exchange)?;
			let from_slot = pallet_market::CommunityParams::<T>::get()
				.slot_at(pallet_market::Pallet::<T>::now_seconds());
			let offset = |old: u64, new: u64| (old as i128 - new as i128) as i64;
			RegisterOffsets::<T>::mutate(metering_point, |o| {
				let before = o.map_or((0, 0), |o| o.current);
				*o = Some(RegisterOffset {
					from: from_slot,
					current: (
						offset(old_import, exchange.new_import_register_wh),
						offset(old_export, exchange.new_export_register_wh),
					),
					before,
				});
			});
			ProposedExchanges::<T>::remove(metering_point);
			Self::deposit_event(Event::MeterExchanged { metering_point, exchange, from_slot });
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
				match Self::check_fields(signed, *registers) {
					Ok(continued) => *registers = Some(continued),
					Err(e) => return refuse(e),
				}
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

		/// Only the metering point's owner consents to what a technician proposes for it.
		fn ensure_owner_of(
			origin: OriginFor<T>,
			metering_point: MeteringPointId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let point = pallet_market::MeteringPoints::<T>::get(metering_point)
				.ok_or(Error::<T>::UnknownMeteringPoint)?;
			ensure!(point.owner == who, Error::<T>::NotPointOwner);
			Ok(())
		}

		/// The old meter's final registers, continued, if they follow the point's last reading
		/// as a reading's registers must, and every register is in range.
		fn check_exchange(
			metering_point: MeteringPointId,
			exchange: &MeterExchange,
		) -> Result<(u64, u64), Error<T>> {
			let e = exchange;
			ensure!(
				[
					e.old_import_register_wh,
					e.old_export_register_wh,
					e.new_import_register_wh,
					e.new_export_register_wh
				]
				.iter()
				.all(|r| *r <= MAX_REGISTER_WH),
				Error::<T>::ValueOutOfRange
			);
			let point = pallet_market::MeteringPoints::<T>::get(metering_point)
				.ok_or(Error::<T>::UnknownMeteringPoint)?;
			let community = pallet_market::CommunityParams::<T>::get();
			let now = community.slot_at(pallet_market::Pallet::<T>::now_seconds());
			let (import, export) = RegisterOffsets::<T>::get(metering_point)
				.unwrap_or_default()
				.apply(now, e.old_import_register_wh, e.old_export_register_wh)
				.ok_or(Error::<T>::RegistersBackwards)?;
			if let Some(last) = LastRegisters::<T>::get(metering_point) {
				ensure!(
					import >= last.import_wh && export >= last.export_wh,
					Error::<T>::RegistersBackwards
				);
				let most = community
					.connection_limit_wh(point.rated_power_w)
					.saturating_mul(now.saturating_sub(last.slot).max(1));
				ensure!(
					import - last.import_wh <= most && export - last.export_wh <= most,
					Error::<T>::AboveConnectionLimit
				);
			}
			Ok((import, export))
		}

		/// The registers of `r`, continued across the point's meter exchanges.
		fn continued(r: &Reading) -> Result<Registers, Error<T>> {
			let (import_wh, export_wh) = RegisterOffsets::<T>::get(r.metering_point)
				.unwrap_or_default()
				.apply(r.slot, r.import_register_wh, r.export_register_wh)
				.ok_or(Error::<T>::RegistersBackwards)?;
			Ok(Registers { slot: r.slot, import_wh, export_wh })
		}

		/// `key` waits for the owner of `metering_point`, in place of any key proposed before.
		/// A key serves one metering point, and a retired one is not registered again.
		fn propose(metering_point: MeteringPointId, key: ed25519::Public) -> DispatchResult {
			ensure!(!RevokedKeys::<T>::contains_key(key), Error::<T>::RevokedKey);
			ensure!(!KeyOwners::<T>::contains_key(key), Error::<T>::KeyInUse);
			if let Some(replaced) = ProposedKeys::<T>::get(metering_point) {
				KeyOwners::<T>::remove(replaced);
			}
			ProposedKeys::<T>::insert(metering_point, key);
			KeyOwners::<T>::insert(key, metering_point);
			Self::deposit_event(Event::KeyProposed { metering_point, key });
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

		/// Every rule a reading must meet; its registers, continued across meter exchanges.
		pub fn check(signed: &SignedReading) -> Result<Registers, Error<T>> {
			let continued =
				Self::check_fields(signed, LastRegisters::<T>::get(signed.reading.metering_point))?;
			Self::check_signature(signed)?;
			Ok(continued)
		}

		/// Every rule but the signature, cheapest first, against the registers of the metering
		/// point's latest reading before this one (`last`); the reading's registers, continued.
		fn check_fields(
			signed: &SignedReading,
			last: Option<Registers>,
		) -> Result<Registers, Error<T>> {
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
				return Err(if ProposedKeys::<T>::get(r.metering_point) == Some(signed.key) {
					Error::<T>::KeyNotAccepted
				} else if RevokedKeys::<T>::contains_key(signed.key) {
					Error::<T>::RevokedKey
				} else if KeyOwners::<T>::contains_key(signed.key) {
					Error::<T>::ForeignKey
				} else {
					Error::<T>::UnknownKey
				});
			}

			let registers = Self::continued(r)?;
			ensure!(registers.import_wh >= r.import_wh, Error::<T>::RegistersDisagree);
			ensure!(registers.export_wh >= r.export_wh, Error::<T>::RegistersDisagree);
			if let Some(last) = last {
				ensure!(
					registers.import_wh >= last.import_wh && registers.export_wh >= last.export_wh,
					Error::<T>::RegistersBackwards
				);
				let (imported, exported) =
					(registers.import_wh - last.import_wh, registers.export_wh - last.export_wh);
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
			Ok(registers)
		}

		/// The most expensive check, made last.
		fn check_signature(signed: &SignedReading) -> Result<(), Error<T>> {
			let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
			let bytes = signed.reading.signed_bytes(genesis.as_ref());
			ensure!(signed.signature.verify(&bytes[..], &signed.key), Error::<T>::BadSignature);
			Ok(())
		}

		fn accept(signed: &SignedReading) -> Result<(), Error<T>> {
			let registers = Self::check(signed)?;
			let r = &signed.reading;
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
