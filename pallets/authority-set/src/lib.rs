//! # Authority set
//!
//! The utilities of an energy community run its authority nodes. This pallet keeps the list of
//! those nodes' accounts on the chain and lets only the utilities' council change it or the
//! runtime code.
//!
//! The pallet is the session pallet's [`SessionManager`]: when the council adds or removes an
//! authority, the next session rotation queues the new set, and Aura and GRANDPA switch to it
//! when that queued set becomes active — at the start of the session after the one in which the
//! decision was made was rotated, with no node restarted. An account can only become an authority
//! once its node's session keys are registered (`Session::set_keys`), because the session pallet
//! silently drops validators without keys and a silent drop would leave the council's decision
//! unapplied.
//!
//! Session length is a genesis parameter, so a production chain can rotate hourly while tests
//! and demos rotate every few blocks.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod weights;

/// A block every 6 s: production's, and the `dev` and `local` chains'.
pub const DEFAULT_BLOCK_TIME_MS: u64 = 6_000;
/// The shortest block time a chain may choose: test chains run 1- or 2-second blocks.
pub const MIN_BLOCK_TIME_MS: u64 = 1_000;
pub const MAX_BLOCK_TIME_MS: u64 = 60_000;

#[frame_support::pallet]
pub mod pallet {
	use super::{WeightInfo, DEFAULT_BLOCK_TIME_MS, MAX_BLOCK_TIME_MS, MIN_BLOCK_TIME_MS};
	use alloc::vec::Vec;
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config:
		frame_system::Config<RuntimeEvent: From<Event<Self>>>
		+ pallet_session::Config<ValidatorId = <Self as frame_system::Config>::AccountId>
	{
		/// The utilities' council: the only origin that may change the authority set.
		type CouncilOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The only origin that may authorise a runtime upgrade: new code can move anyone's
		/// money, so the runtime asks for at least two thirds of the council.
		type UpgradeOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Upper bound of the authority set; Aura and GRANDPA carry the same bound.
		#[pallet::constant]
		type MaxAuthorities: Get<u32>;

		type WeightInfo: WeightInfo;
	}

	/// Accounts of the authority nodes, in the order given to the session pallet.
	#[pallet::storage]
	pub type Authorities<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxAuthorities>, ValueQuery>;

	/// Whether the set changed since it was last handed to the session pallet.
	#[pallet::storage]
	pub type PendingChange<T: Config> = StorageValue<_, bool, ValueQuery>;

	/// The council cannot remove authorities below this number: as many as the chain started
	/// with. With GRANDPA, `3f + 1` authorities tolerate `f` faulty ones, so a chain started
	/// with four so that one may fail keeps four.
	#[pallet::storage]
	pub type MinAuthorities<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// Blocks per session.
	#[pallet::storage]
	pub type SessionLength<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	/// How often the authorities produce a block, in milliseconds: Aura's slot. A chain
	/// parameter kept in storage, so that one runtime serves chains of any block time; the
	/// runtime derives the timestamp's minimum period and the block's weight limits from it.
	#[pallet::storage]
	pub type BlockTimeMs<T: Config> = StorageValue<_, u64, ValueQuery, DefaultBlockTimeMs>;

	#[pallet::type_value]
	pub fn DefaultBlockTimeMs() -> u64 {
		DEFAULT_BLOCK_TIME_MS
	}

	#[pallet::genesis_config]
	pub struct GenesisConfig<T: Config> {
		pub authorities: Vec<T::AccountId>,
		pub session_length: BlockNumberFor<T>,
		/// Within `MIN_BLOCK_TIME_MS..=MAX_BLOCK_TIME_MS`, and even: the timestamp's minimum
		/// period is half of it.
		pub block_time_ms: u64,
	}

	/// No authorities, 6-second blocks and an hour of them per session: what a production
	/// chain runs.
	impl<T: Config> Default for GenesisConfig<T> {
		fn default() -> Self {
			Self {
				authorities: Vec::new(),
				session_length: 600u32.into(),
				block_time_ms: DEFAULT_BLOCK_TIME_MS,
			}
		}
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			assert!(
				!self.session_length.is_zero(),
				"authority-set: session_length must be at least one block"
			);
			assert!(
				(MIN_BLOCK_TIME_MS..=MAX_BLOCK_TIME_MS).contains(&self.block_time_ms)
					&& self.block_time_ms % 2 == 0,
				"authority-set: block_time_ms must be even and within 1000..=60000"
			);
			BlockTimeMs::<T>::put(self.block_time_ms);
			let mut seen = alloc::collections::BTreeSet::new();
			for who in &self.authorities {
				assert!(seen.insert(who), "authority-set: duplicate authority in genesis");
			}
			let authorities: BoundedVec<_, T::MaxAuthorities> = self
				.authorities
				.clone()
				.try_into()
				.expect("authority-set: more genesis authorities than MaxAuthorities");
			MinAuthorities::<T>::put(authorities.len().max(1) as u32);
			Authorities::<T>::put(authorities);
			SessionLength::<T>::put(self.session_length);
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// The account's node becomes an authority from the next session rotation on.
		AuthorityAdded { who: T::AccountId },
		/// The account's node stops being an authority from the next session rotation on.
		AuthorityRemoved { who: T::AccountId },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account is already an authority.
		AlreadyAuthority,
		/// The account is not an authority.
		NotAuthority,
		/// The set is at `MaxAuthorities`.
		TooManyAuthorities,
		/// Removing the account would leave fewer authorities than the chain started with.
		TooFewAuthorities,
		/// The account has not registered its node's session keys with `Session::set_keys`.
		NoSessionKeys,
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Make `who`'s node an authority. Council only.
		#[pallet::call_index(0)]
		#[pallet::weight(<T as Config>::WeightInfo::add_authority())]
		pub fn add_authority(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::CouncilOrigin::ensure_origin(origin)?;
			ensure!(pallet_session::NextKeys::<T>::contains_key(&who), Error::<T>::NoSessionKeys);
			Authorities::<T>::try_mutate(|set| {
				ensure!(!set.contains(&who), Error::<T>::AlreadyAuthority);
				set.try_push(who.clone()).map_err(|_| Error::<T>::TooManyAuthorities)
			})?;
			PendingChange::<T>::put(true);
			Self::deposit_event(Event::AuthorityAdded { who });
			Ok(())
		}

		/// Stop `who`'s node from being an authority. Council only.
		#[pallet::call_index(1)]
		#[pallet::weight(<T as Config>::WeightInfo::remove_authority())]
		pub fn remove_authority(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::CouncilOrigin::ensure_origin(origin)?;
			Authorities::<T>::try_mutate(|set| {
				let at = set.iter().position(|a| a == &who).ok_or(Error::<T>::NotAuthority)?;
				ensure!(
					set.len() as u32 > MinAuthorities::<T>::get(),
					Error::<T>::TooFewAuthorities
				);
				set.remove(at);
				Ok::<_, Error<T>>(())
			})?;
			PendingChange::<T>::put(true);
			Self::deposit_event(Event::AuthorityRemoved { who });
			Ok(())
		}

		/// Authorise a runtime upgrade to the code with this hash. Two thirds of the council
		/// only; anyone may then submit the code with `System::apply_authorized_upgrade`, which
		/// checks the hash and the spec version. There is no sudo key: this is the only way to
		/// upgrade.
		#[pallet::call_index(2)]
		#[pallet::weight(<T as Config>::WeightInfo::authorize_upgrade())]
		pub fn authorize_upgrade(origin: OriginFor<T>, code_hash: T::Hash) -> DispatchResult {
			T::UpgradeOrigin::ensure_origin(origin)?;
			frame_system::Pallet::<T>::do_authorize_upgrade(code_hash, true);
			Ok(())
		}
	}

	impl<T: Config> pallet_session::SessionManager<T::AccountId> for Pallet<T> {
		fn new_session(_: u32) -> Option<Vec<T::AccountId>> {
			PendingChange::<T>::take().then(|| Authorities::<T>::get().into_inner())
		}

		fn new_session_genesis(_: u32) -> Option<Vec<T::AccountId>> {
			Some(Authorities::<T>::get().into_inner())
		}

		fn end_session(_: u32) {}
		fn start_session(_: u32) {}
	}

	/// The session length from genesis, for `pallet_session::PeriodicSessions`.
	pub struct SessionPeriod<T>(PhantomData<T>);
	impl<T: Config> Get<BlockNumberFor<T>> for SessionPeriod<T> {
		fn get() -> BlockNumberFor<T> {
			SessionLength::<T>::get()
		}
	}
}
