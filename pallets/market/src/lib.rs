//! # Market
//!
//! The energy community's market on the chain: who may do what, the DSO's grid, the orders for
//! each 15-minute slot, and the clearing of every slot at its gate closure.
//!
//! - **Roles.** The utilities' council appoints the community manager, the DSO and the utility.
//!   The manager admits participants (an account and its metering points, each in a zone of the
//!   grid), suspends and reinstates them, and appoints technicians. Each call checks its own
//!   role and refuses everyone else with a named error.
//! - **Grid.** The DSO keeps a tree of zones; each edge has a fee per kWh, a capacity per slot
//!   and a traffic light (yellow adds the DSO's surcharge, red closes the edge). A change is in
//!   force for every slot whose gate has not closed; each cleared slot keeps a copy of the grid
//!   it was cleared with.
//! - **Orders.** A participant places bids and asks from one of its metering points for a slot
//!   whose gate is still open, and may cancel them until gate closure. An order holds the funds
//!   its settlement could need ([`types::hold_for`]); clearing and cancelling release the rest.
//!   Standing orders (limits and a daily budget for ex-post trading on metered energy) are kept
//!   here for settlement.
//! - **Clearing** ([`tick_impls`]). From the first block whose timestamp is at or after a slot's
//!   gate closure, right after the inherents — so before any transaction of that block — the
//!   slot is cleared with [`lem_clearing`]: its book is collected a page at a time, the engine
//!   runs once, and the fills are applied a page at a time, each block doing what its share for
//!   per-block work allows ([`TICK_SHARE`]). A small book clears in its gate closure's block.
//!   Once every fill is stored the result goes into [`ClearedSlots`] and is announced.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use tick_impls::{FillChunk, FILLS_PER_CHUNK, TICK_SHARE};
pub use types::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod demo;
pub mod runtime_api;
pub mod tick_impls;
pub mod types;
pub mod weights;

/// What benchmarks of this and dependent pallets need from the runtime.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper {
	/// Makes `unix_seconds` the time of the current block.
	fn set_time(unix_seconds: u64);
}

/// Empty slots the clearing cursor passes at most per block, so that a chain that stood still
/// for hours catches up over several blocks instead of one overweight block.
pub const MAX_SLOTS_PASSED_PER_BLOCK: u32 = 64;

/// Slots with a grid change that settlement may lag behind: a day of 15-minute slots each with
/// a change of its own. A change beyond waits for settlement (`TooManyGridChanges`).
pub const MAX_GRID_CHANGES: u32 = 96;

/// Utilities a participant's debts are collected for, or paid by, in one go: the one that
/// supplies it and those the council replaced, which rarely number more. The rest wait for
/// the next go (`pay_debt`, `settle_debts`, or any release of its funds).
pub const MAX_SUPPLIERS_SETTLED: u32 = 4;

/// A page of a slot's fills kept in `M` (this pallet's `Fills`, or settlement's ex-post fills),
/// in the order the chain keeps them (not by id), after the one under key `after`: at most
/// [`MAX_PAGE_FILLS`]; a full page may have more after it.
pub fn fills_page<M>(slot: Slot, after: Option<u64>) -> alloc::vec::Vec<Fill>
where
	M: frame_support::storage::IterableStorageDoubleMap<Slot, u64, Fill>,
{
	let page = match after {
		Some(a) => M::iter_prefix_from(slot, M::hashed_key_for(slot, a)),
		None => M::iter_prefix(slot),
	};
	page.map(|(_, fill)| fill).take(MAX_PAGE_FILLS as usize).collect()
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{self, Inspect, InspectHold, Mutate, MutateHold},
			tokens::{Fortitude, Precision, Preservation, Restriction},
			UnixTime,
		},
	};
	use frame_system::pallet_prelude::*;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	pub type BalanceOf<T> = <<T as Config>::Currency as fungible::Inspect<
		<T as frame_system::Config>::AccountId,
	>>::Balance;
	pub type OrderOf<T> = Order<<T as frame_system::Config>::AccountId, BalanceOf<T>>;

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The settlement asset; orders and standing orders hold it.
		type Currency: fungible::Mutate<Self::AccountId, Balance = u128>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		type RuntimeHoldReason: From<HoldReason>;

		/// The utilities' council: appoints the manager, the DSO and the utility.
		type CouncilOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Wall-clock time of the current block; slots are intervals of UTC.
		type Time: UnixTime;

		type WeightInfo: WeightInfo;

		/// Sets the chain's clock in benchmarks, which start at time 0.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper;
	}

	/// Why the market holds a participant's funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// For its open and cleared, not yet settled orders.
		Order,
		/// The daily budget of its standing order.
		StandingOrder,
		/// The deposit the manager requires of it, securing what it owes the utility.
		Deposit,
	}

	/// The community's market parameters.
	#[pallet::storage]
	pub type CommunityParams<T> = StorageValue<_, Community, ValueQuery>;

	/// The account holding each role the council appoints.
	#[pallet::storage]
	pub type Roles<T: Config> = StorageMap<_, Twox64Concat, Role, T::AccountId>;

	/// Technicians appointed by the manager.
	#[pallet::storage]
	pub type Technicians<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, ()>;

	/// The grid in force for every slot whose gate has not closed.
	#[pallet::storage]
	pub type GridInForce<T> = StorageValue<_, Grid, ValueQuery>;

	/// The first slots of the DSO's grid changes that unsettled slots still predate, ascending:
	/// a change made while slot `s`'s gate is open applies from `s` on.
	#[pallet::storage]
	pub type GridChanges<T> =
		StorageValue<_, BoundedVec<Slot, ConstU32<MAX_GRID_CHANGES>>, ValueQuery>;

	/// For each slot in `GridChanges`, the grid in force before it: every slot up to it whose
	/// gate had closed is settled on this grid, whatever the DSO changed after the readings
	/// were public. Dropped once those slots are settled.
	#[pallet::storage]
	pub type GridsBefore<T> = StorageMap<_, Twox64Concat, Slot, Grid>;

	#[pallet::storage]
	pub type Participants<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, Participant>;

	/// Counted, because the community may have at most `MAX_COMMUNITY_METERING_POINTS`.
	#[pallet::storage]
	pub type MeteringPoints<T: Config> =
		CountedStorageMap<_, Twox64Concat, MeteringPointId, MeteringPoint<T::AccountId>>;

	#[pallet::storage]
	pub type NextOrderId<T> = StorageValue<_, OrderId, ValueQuery>;

	/// Every order placed and not cancelled. Cleared orders stay until settlement.
	#[pallet::storage]
	pub type Orders<T: Config> = StorageMap<_, Twox64Concat, OrderId, OrderOf<T>>;

	/// The open order book: each uncleared slot's orders, one key each, so that placing and
	/// cancelling an order touch only its own entry, however full the slot.
	#[pallet::storage]
	pub type SlotOrders<T> =
		StorageDoubleMap<_, Twox64Concat, Slot, Twox64Concat, OrderId, (), OptionQuery>;

	/// How many orders each uncleared slot's book holds.
	#[pallet::storage]
	pub type SlotOrderCount<T> = StorageMap<_, Twox64Concat, Slot, u32, ValueQuery>;

	/// Each account's orders per slot, ascending.
	#[pallet::storage]
	pub type AccountOrders<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		Twox64Concat,
		Slot,
		BoundedVec<OrderId, ConstU32<MAX_ORDERS_PER_ACCOUNT>>,
		ValueQuery,
	>;

	/// Each participant's standing order, by slot: a change applies from the next slot.
	#[pallet::storage]
	pub type StandingOrders<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		Scheduled<Option<StandingOrder<BalanceOf<T>>>>,
	>;

	/// The utility supplying each slot not yet settled: an appointment applies from the next
	/// slot, so that what a delivered slot owes and is owed stays with the utility that
	/// supplied it.
	#[pallet::storage]
	pub type Suppliers<T: Config> = StorageValue<_, Scheduled<Option<T::AccountId>>, ValueQuery>;

	/// What each participant owes a utility that supplied it, beyond what settlement and its
	/// deposit could take: by participant, then utility. Collected first from whatever the
	/// participant receives or has released later; it stays the supplier's when the council
	/// appoints another.
	#[pallet::storage]
	pub type Debts<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		Blake2_128Concat,
		T::AccountId,
		u128,
		ValueQuery,
	>;

	/// What a utility owes each participant beyond what its balance and deposit could pay
	/// (feed-in, corrections in the participant's favour): by participant, then utility. Paid
	/// first from what the utility receives later.
	#[pallet::storage]
	pub type SupplierDebts<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		Blake2_128Concat,
		T::AccountId,
		u128,
		ValueQuery,
	>;

	/// What each utility owes participants in all: what it receives is held for them.
	#[pallet::storage]
	pub type SupplierDebtTotals<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, u128, ValueQuery>;

	/// The next slot to clear; every earlier slot is cleared or had no orders. Set in the first
	/// block.
	#[pallet::storage]
	pub type ClearingCursor<T> = StorageValue<_, Slot>;

	/// Results of cleared slots.
	#[pallet::storage]
	pub type ClearedSlots<T> = StorageMap<_, Twox64Concat, Slot, ClearedSlot>;

	/// Each cleared slot's fills, one per order that took part, kept as long as the slot's
	/// result.
	#[pallet::storage]
	pub type Fills<T> = StorageDoubleMap<_, Twox64Concat, Slot, Twox64Concat, OrderId, Fill>;

	/// The slot being cleared, if its clearing spans blocks, and how far it has come.
	#[pallet::storage]
	pub type Clearing<T> = StorageValue<_, ClearingProgress>;

	/// The book of the slot being cleared, as collected so far.
	#[pallet::storage]
	pub type ClearingInput<T> =
		StorageValue<_, BoundedVec<BookOrder, ConstU32<MAX_ORDERS_PER_SLOT>>, ValueQuery>;

	/// The engine's fills for the slot being cleared, ascending by order id, in chunks of
	/// `FILLS_PER_CHUNK`, each removed once applied.
	#[pallet::storage]
	pub type ClearingFills<T> = StorageMap<_, Twox64Concat, u32, FillChunk>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		pub community: Community,
		pub manager: Option<T::AccountId>,
		pub dso: Option<T::AccountId>,
		pub utility: Option<T::AccountId>,
		pub technicians: Vec<T::AccountId>,
		/// Root first, every parent before its children.
		pub grid: Grid,
		/// Each participant's account, metering points and deposit (held from its balance). The
		/// genesis technicians are assigned every metering point, in turn.
		pub participants: Vec<(T::AccountId, Vec<NewMeteringPoint>, u128)>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			let c = &self.community;
			assert!(c.slot_seconds > 0, "slot length must be positive");
			assert!((1..=MAX_ORDERS_PER_SLOT).contains(&c.max_orders_per_slot));
			assert!((1..=MAX_ORDERS_PER_ACCOUNT).contains(&c.max_orders_per_account));
			assert!((1..=MAX_COMMUNITY_METERING_POINTS).contains(&c.max_metering_points));
			assert!((2..=MAX_ORDER_HORIZON_SLOTS).contains(&c.order_horizon_slots));
			// Some slot within the horizon always has an open gate.
			assert!(
				c.gate_closure_lead_seconds <= (c.order_horizon_slots as u64 - 1) * c.slot_seconds,
				"gate closure lead beyond the order horizon"
			);
			assert!(c.ask_hold_per_kwh <= MAX_PRICE_PER_KWH);
			assert!(c.silent_slots_before_stop > 0, "silent_slots_before_stop must be positive");
			// The engine runs over a whole slot in one block, within the share for per-block
			// work; every other step of clearing goes a page at a time.
			assert!(
				Pallet::<T>::clearing_progresses_within(
					Pallet::<T>::tick_share(),
					c.max_orders_per_slot
				),
				"clearing max_orders_per_slot does not fit a block's share for per-block work"
			);
			CommunityParams::<T>::put(c);
			// One account, one role, as the calls keep it after genesis: a technician does not
			// trade on the meters it installs, nor the DSO or the utility on their own prices.
			let mut holders = alloc::collections::BTreeSet::new();
			let roles = [&self.manager, &self.dso, &self.utility].into_iter().flatten();
			for who in roles.chain(&self.technicians) {
				assert!(
					holders.insert(who),
					"market genesis: RoleConflict: one account, two roles"
				);
			}
			for (role, who) in [
				(Role::Manager, &self.manager),
				(Role::Dso, &self.dso),
				(Role::Utility, &self.utility),
			] {
				if let Some(who) = who {
					Roles::<T>::insert(role, who);
				}
			}
			if let Some(utility) = &self.utility {
				Suppliers::<T>::put(Scheduled::new(Some(utility.clone())));
				assert!(
					Pallet::<T>::hold_supplier_deposit(utility).is_ok(),
					"market genesis: SupplierDepositShort: the utility cannot hold its deposit"
				);
			}
			for t in &self.technicians {
				Technicians::<T>::insert(t, ());
			}
			assert!(self.grid.yellow_surcharge_per_kwh <= MAX_PRICE_PER_KWH);
			let mut grid = Grid::default();
			grid.yellow_surcharge_per_kwh = self.grid.yellow_surcharge_per_kwh;
			for (i, z) in self.grid.zones.iter().enumerate() {
				if i == 0 {
					assert!(z.parent.is_none() && z.capacity_wh.is_none() && z.fee_per_kwh == 0);
				} else {
					let parent = z.parent.expect("only the first zone is the root");
					Pallet::<T>::check_new_zone(&grid, z.id, parent, z.fee_per_kwh)
						.expect("valid zone");
				}
				grid.zones.try_push(z.clone()).expect("bounded like the input");
			}
			GridInForce::<T>::put(grid);
			let mut technicians = self.technicians.iter().cycle();
			for (who, points, deposit) in &self.participants {
				let points: BoundedVec<_, _> =
					points.clone().try_into().expect("too many metering points");
				if let Err(e) = Pallet::<T>::do_admit(who, &points, *deposit) {
					panic!("market genesis: participant refused: {e:?}");
				}
				for p in points.iter() {
					MeteringPoints::<T>::mutate(p.id, |m| {
						m.as_mut().expect("just admitted").technician = technicians.next().cloned()
					});
				}
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		RoleAppointed {
			role: Role,
			who: T::AccountId,
		},
		ParticipantAdmitted {
			who: T::AccountId,
		},
		MeteringPointAdded {
			who: T::AccountId,
			metering_point: MeteringPointId,
			zone: ZoneId,
			rated_power_w: u32,
		},
		ParticipantSuspended {
			who: T::AccountId,
		},
		ParticipantReinstated {
			who: T::AccountId,
		},
		TechnicianAppointed {
			who: T::AccountId,
		},
		TechnicianDismissed {
			who: T::AccountId,
		},
		/// The manager assigned a metering point's gateway key to a technician (or to none).
		TechnicianAssigned {
			metering_point: MeteringPointId,
			technician: Option<T::AccountId>,
		},
		/// The manager set a participant's deposit; `held` is what is held for it now.
		DepositSet {
			who: T::AccountId,
			deposit: BalanceOf<T>,
			held: BalanceOf<T>,
		},
		/// Part of a participant's debt was paid to a utility that supplied it.
		DebtCollected {
			who: T::AccountId,
			supplier: T::AccountId,
			amount: BalanceOf<T>,
			debt: BalanceOf<T>,
		},
		ZoneAdded {
			zone: ZoneId,
			parent: ZoneId,
			fee_per_kwh: u64,
			capacity_wh: Option<u64>,
		},
		EdgeChanged {
			zone: ZoneId,
			fee_per_kwh: u64,
			capacity_wh: Option<u64>,
		},
		TrafficLightChanged {
			zone: ZoneId,
			light: TrafficLight,
		},
		YellowSurchargeChanged {
			per_kwh: u64,
		},
		OrderPlaced {
			order: OrderId,
			owner: T::AccountId,
			slot: Slot,
			side: Side,
			zone: ZoneId,
			energy_wh: u64,
			limit_per_kwh: u64,
			held: BalanceOf<T>,
		},
		OrderCancelled {
			order: OrderId,
			released: BalanceOf<T>,
		},
		/// A participant's standing order, from `from_slot` on.
		StandingOrderSet {
			who: T::AccountId,
			from_slot: Slot,
			buy_limit_per_kwh: u64,
			sell_limit_per_kwh: u64,
			daily_budget: BalanceOf<T>,
		},
		StandingOrderRemoved {
			who: T::AccountId,
			from_slot: Slot,
		},
		/// A slot was cleared; its result is in `ClearedSlots`, its fills in `Fills`.
		SlotCleared {
			slot: Slot,
			orders: u32,
			traded_wh: u64,
			welfare: i128,
			dso_revenue: i128,
		},
		/// An order was (partly) accepted.
		OrderFilled {
			order: OrderId,
			owner: T::AccountId,
			energy_wh: u64,
			price_per_kwh: i64,
			amount: i128,
		},
		/// An order of a participant suspended before gate closure took no part; its funds
		/// were released.
		OrderVoided {
			order: OrderId,
		},
		/// The engine refused the slot (it cannot for input the pallet accepts); every order's
		/// funds were released.
		ClearingFailed {
			slot: Slot,
		},
		/// A utility paid part of what it owed a participant; `debt` is what it still owes it.
		SupplierDebtPaid {
			supplier: T::AccountId,
			to: T::AccountId,
			amount: BalanceOf<T>,
			debt: BalanceOf<T>,
		},
		/// A utility the council replaced has supplied its last slot and owes nothing: its
		/// deposit is released.
		SupplierDepositReleased {
			supplier: T::AccountId,
			amount: BalanceOf<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// Only the community manager may do this.
		NotManager,
		/// Only the DSO may do this.
		NotDso,
		/// Only the utility may do this.
		NotUtility,
		/// The account is not an admitted participant.
		NotParticipant,
		/// The participant is suspended.
		Suspended,
		/// The participant is not suspended.
		NotSuspended,
		AlreadyParticipant,
		AlreadyTechnician,
		NotTechnician,
		/// One account holds at most one of the roles manager, DSO, utility, technician and
		/// participant: technicians may not trade, and no one checks their own work.
		RoleConflict,
		/// A participant needs at least one metering point.
		NoMeteringPoint,
		TooManyMeteringPoints,
		/// The metering point is registered already (possibly twice in the same call).
		MeteringPointTaken,
		/// The community has as many metering points as its `max_metering_points` allows.
		CommunityFull,
		UnknownMeteringPoint,
		/// The metering point belongs to another account.
		NotYourMeteringPoint,
		/// No zone with this id in the grid.
		UnknownZone,
		ZoneExists,
		TooManyZones,
		/// The root (substation) has no edge to set.
		RootHasNoEdge,
		/// A fee or surcharge above `MAX_PRICE_PER_KWH`.
		FeeOutOfRange,
		/// A slot whose gate has closed is still waiting to be cleared with the grid and the
		/// participants as they are; they can change again once it is cleared (a block later).
		ClearingBacklog,
		/// The slot's gate has closed.
		GateClosed,
		/// The slot is further ahead than the community allows orders.
		BeyondHorizon,
		/// Energy must be 1 Wh to `MAX_ORDER_ENERGY_WH`.
		EnergyOutOfRange,
		/// A limit price above `MAX_PRICE_PER_KWH`.
		LimitOutOfRange,
		/// The slot holds the most orders the community allows.
		SlotFull,
		/// The account has the most orders it may have in this slot.
		TooManyOrders,
		/// Not enough free funds to hold what the order or budget needs.
		InsufficientFunds,
		UnknownOrder,
		NotOrderOwner,
		NoStandingOrder,
		/// A change to a later slot while the previous change still applies to a slot not yet
		/// settled; try again once that slot is settled.
		ChangePending,
		/// A rated power of 0 or above `MAX_RATED_POWER_W`.
		RatedPowerOutOfRange,
		/// The account owes the utility more than its deposit covers: it places no orders until
		/// it pays (`pay_debt`).
		Indebted,
		/// Less than the required deposit is held: it places no orders until it is topped up
		/// (`pay_debt`).
		DepositShort,
		/// The DSO changed the grid in `MAX_GRID_CHANGES` slots that settlement has not caught
		/// up with; it can change it again once the oldest of them is settled.
		TooManyGridChanges,
		/// The utility to appoint cannot hold the community's `supplier_deposit`.
		SupplierDepositShort,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// The council appoints the manager, the DSO or the utility, replacing whoever held
		/// the role.
		///
		/// A new utility supplies from the next slot and holds the community's supplier deposit
		/// from now on; the one it replaces keeps what the slots it supplied owe it and are
		/// owed, and its deposit until it owes nothing.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::appoint())]
		pub fn appoint(origin: OriginFor<T>, role: Role, who: T::AccountId) -> DispatchResult {
			T::CouncilOrigin::ensure_origin(origin)?;
			let replaced = Roles::<T>::get(role);
			let again = replaced.as_ref() == Some(&who);
			ensure!(again || !Self::has_role(&who), Error::<T>::RoleConflict);
			if role == Role::Utility && !again {
				let from = CommunityParams::<T>::get().slot_at(Self::now_seconds()) + 1;
				let mut suppliers = Suppliers::<T>::get();
				suppliers.change(from, Some(who.clone())).map_err(|_| Error::<T>::ChangePending)?;
				Self::hold_supplier_deposit(&who)?;
				Suppliers::<T>::put(suppliers);
			}
			Roles::<T>::insert(role, &who);
			// A utility appointed and replaced before it supplied a slot owes nothing.
			if let Some(replaced) = replaced.filter(|_| role == Role::Utility) {
				Self::release_former_supplier(&replaced);
			}
			Self::deposit_event(Event::RoleAppointed { role, who });
			Ok(())
		}

		/// The manager admits an account with its metering points, each in a zone with its
		/// rated power, and holds the deposit it requires from the account's balance.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::admit_participant(metering_points.len() as u32))]
		pub fn admit_participant(
			origin: OriginFor<T>,
			who: T::AccountId,
			metering_points: BoundedVec<NewMeteringPoint, ConstU32<MAX_METERING_POINTS>>,
			deposit: BalanceOf<T>,
		) -> DispatchResult {
			Self::ensure_role(origin, Role::Manager)?;
			Self::do_admit(&who, &metering_points, deposit)
		}

		/// The manager adds a metering point to a participant.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::add_metering_point())]
		pub fn add_metering_point(
			origin: OriginFor<T>,
			who: T::AccountId,
			point: NewMeteringPoint,
		) -> DispatchResult {
			Self::ensure_role(origin, Role::Manager)?;
			let mut participant = Participants::<T>::get(&who).ok_or(Error::<T>::NotParticipant)?;
			Self::check_metering_point(&point)?;
			let NewMeteringPoint { id: metering_point, zone, rated_power_w } = point;
			ensure!(
				MeteringPoints::<T>::count() < CommunityParams::<T>::get().max_metering_points,
				Error::<T>::CommunityFull
			);
			participant
				.metering_points
				.try_push(metering_point)
				.map_err(|_| Error::<T>::TooManyMeteringPoints)?;
			Participants::<T>::insert(&who, participant);
			MeteringPoints::<T>::insert(
				metering_point,
				MeteringPoint { owner: who.clone(), zone, rated_power_w, technician: None },
			);
			Self::deposit_event(Event::MeteringPointAdded {
				who,
				metering_point,
				zone,
				rated_power_w,
			});
			Ok(())
		}

		/// The manager suspends a participant: it can place no orders, and its orders still
		/// open at gate closure take no part in clearing.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::suspend_participant())]
		pub fn suspend_participant(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			Self::ensure_role(origin, Role::Manager)?;
			Self::ensure_no_backlog()?;
			Self::set_status(&who, ParticipantStatus::Active, ParticipantStatus::Suspended)?;
			Self::deposit_event(Event::ParticipantSuspended { who });
			Ok(())
		}

		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::reinstate_participant())]
		pub fn reinstate_participant(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			Self::ensure_role(origin, Role::Manager)?;
			Self::ensure_no_backlog()?;
			Self::set_status(&who, ParticipantStatus::Suspended, ParticipantStatus::Active)?;
			Self::deposit_event(Event::ParticipantReinstated { who });
			Ok(())
		}

		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::appoint_technician())]
		pub fn appoint_technician(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			Self::ensure_role(origin, Role::Manager)?;
			ensure!(!Technicians::<T>::contains_key(&who), Error::<T>::AlreadyTechnician);
			ensure!(!Self::has_role(&who), Error::<T>::RoleConflict);
			Technicians::<T>::insert(&who, ());
			Self::deposit_event(Event::TechnicianAppointed { who });
			Ok(())
		}

		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::dismiss_technician())]
		pub fn dismiss_technician(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			Self::ensure_role(origin, Role::Manager)?;
			Technicians::<T>::take(&who).ok_or(Error::<T>::NotTechnician)?;
			Self::deposit_event(Event::TechnicianDismissed { who });
			Ok(())
		}

		/// The DSO adds a zone below an existing one.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::add_zone())]
		pub fn add_zone(
			origin: OriginFor<T>,
			zone: ZoneId,
			parent: ZoneId,
			fee_per_kwh: u64,
			capacity_wh: Option<u64>,
		) -> DispatchResult {
			Self::change_grid(origin, |grid| {
				Self::check_new_zone(grid, zone, parent, fee_per_kwh)?;
				grid.zones
					.try_push(Zone {
						id: zone,
						parent: Some(parent),
						fee_per_kwh,
						capacity_wh,
						light: TrafficLight::Green,
					})
					.map_err(|_| Error::<T>::TooManyZones.into())
			})?;
			Self::deposit_event(Event::ZoneAdded { zone, parent, fee_per_kwh, capacity_wh });
			Ok(())
		}

		/// The DSO sets the fee and capacity of a zone's edge to its parent.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::set_edge())]
		pub fn set_edge(
			origin: OriginFor<T>,
			zone: ZoneId,
			fee_per_kwh: u64,
			capacity_wh: Option<u64>,
		) -> DispatchResult {
			ensure!(fee_per_kwh <= MAX_PRICE_PER_KWH, Error::<T>::FeeOutOfRange);
			Self::change_grid(origin, |grid| {
				Self::mutate_edge(grid, zone, |z| {
					z.fee_per_kwh = fee_per_kwh;
					z.capacity_wh = capacity_wh;
				})
			})?;
			Self::deposit_event(Event::EdgeChanged { zone, fee_per_kwh, capacity_wh });
			Ok(())
		}

		/// The DSO sets an edge's traffic light.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::set_traffic_light())]
		pub fn set_traffic_light(
			origin: OriginFor<T>,
			zone: ZoneId,
			light: TrafficLight,
		) -> DispatchResult {
			Self::change_grid(origin, |grid| Self::mutate_edge(grid, zone, |z| z.light = light))?;
			Self::deposit_event(Event::TrafficLightChanged { zone, light });
			Ok(())
		}

		/// The DSO sets the surcharge a yellow light adds to an edge's fee.
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::set_yellow_surcharge())]
		pub fn set_yellow_surcharge(origin: OriginFor<T>, per_kwh: u64) -> DispatchResult {
			ensure!(per_kwh <= MAX_PRICE_PER_KWH, Error::<T>::FeeOutOfRange);
			Self::change_grid(origin, |grid| {
				grid.yellow_surcharge_per_kwh = per_kwh;
				Ok(())
			})?;
			Self::deposit_event(Event::YellowSurchargeChanged { per_kwh });
			Ok(())
		}

		/// A participant bids or asks for up to `energy_wh` in `slot` from one of its metering
		/// points, holding what settlement could need.
		#[pallet::call_index(11)]
		#[pallet::weight(T::WeightInfo::place_order())]
		pub fn place_order(
			origin: OriginFor<T>,
			metering_point: MeteringPointId,
			slot: Slot,
			side: Side,
			energy_wh: u64,
			limit_per_kwh: u64,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let participant = Self::active_participant(&who)?;
			Self::ensure_secured(&who, &participant)?;
			let point =
				MeteringPoints::<T>::get(metering_point).ok_or(Error::<T>::UnknownMeteringPoint)?;
			ensure!(point.owner == who, Error::<T>::NotYourMeteringPoint);
			ensure!((1..=MAX_ORDER_ENERGY_WH).contains(&energy_wh), Error::<T>::EnergyOutOfRange);
			ensure!(limit_per_kwh <= MAX_PRICE_PER_KWH, Error::<T>::LimitOutOfRange);
			let community = CommunityParams::<T>::get();
			let now = Self::now_seconds();
			ensure!(now < community.gate_closure(slot), Error::<T>::GateClosed);
			ensure!(
				slot <= community.slot_at(now) + community.order_horizon_slots as u64,
				Error::<T>::BeyondHorizon
			);
			let in_book = SlotOrderCount::<T>::get(slot);
			ensure!(in_book < community.max_orders_per_slot, Error::<T>::SlotFull);
			let mut mine = AccountOrders::<T>::get(&who, slot);
			ensure!(
				mine.len() < community.max_orders_per_account as usize,
				Error::<T>::TooManyOrders
			);
			let held = hold_for(side, energy_wh, limit_per_kwh, &community)
				+ community.order_deposit as u128;
			T::Currency::hold(&HoldReason::Order.into(), &who, held)
				.map_err(|_| Error::<T>::InsufficientFunds)?;

			let order = NextOrderId::<T>::mutate(|next| {
				*next += 1;
				*next - 1
			});
			// It fits: its length was checked against a limit no larger than the bound.
			mine.try_push(order).map_err(|_| Error::<T>::TooManyOrders)?;
			SlotOrders::<T>::insert(slot, order, ());
			SlotOrderCount::<T>::insert(slot, in_book + 1);
			AccountOrders::<T>::insert(&who, slot, mine);
			let zone = point.zone;
			Orders::<T>::insert(
				order,
				Order {
					owner: who.clone(),
					metering_point,
					zone,
					slot,
					side,
					energy_wh,
					limit_per_kwh,
					held,
				},
			);
			Self::deposit_event(Event::OrderPlaced {
				order,
				owner: who,
				slot,
				side,
				zone,
				energy_wh,
				limit_per_kwh,
				held,
			});
			Ok(())
		}

		/// The owner withdraws an order before its slot's gate closes; its funds are released.
		#[pallet::call_index(12)]
		#[pallet::weight(T::WeightInfo::cancel_order())]
		pub fn cancel_order(origin: OriginFor<T>, order: OrderId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let o = Orders::<T>::get(order).ok_or(Error::<T>::UnknownOrder)?;
			ensure!(o.owner == who, Error::<T>::NotOrderOwner);
			let community = CommunityParams::<T>::get();
			ensure!(Self::now_seconds() < community.gate_closure(o.slot), Error::<T>::GateClosed);
			SlotOrders::<T>::remove(o.slot, order);
			SlotOrderCount::<T>::mutate_exists(o.slot, |n| {
				*n = n.map(|n| n - 1).filter(|n| *n > 0)
			});
			AccountOrders::<T>::mutate_exists(&who, o.slot, |ids| Self::forget(ids, order));
			Orders::<T>::remove(order);
			let released =
				T::Currency::release(&HoldReason::Order.into(), &who, o.held, Precision::Exact)?;
			Self::deposit_event(Event::OrderCancelled { order, released });
			Self::collect_debt(&who);
			Ok(())
		}

		/// A participant sets its standing order for ex-post trading, from the next slot on;
		/// the daily budget is held.
		#[pallet::call_index(13)]
		#[pallet::weight(T::WeightInfo::set_standing_order())]
		pub fn set_standing_order(
			origin: OriginFor<T>,
			buy_limit_per_kwh: u64,
			sell_limit_per_kwh: u64,
			daily_budget: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let participant = Self::active_participant(&who)?;
			// A budget is held money that debt collection cannot reach, as an order's is.
			Self::ensure_secured(&who, &participant)?;
			ensure!(
				buy_limit_per_kwh <= MAX_PRICE_PER_KWH && sell_limit_per_kwh <= MAX_PRICE_PER_KWH,
				Error::<T>::LimitOutOfRange
			);
			let order = StandingOrder { buy_limit_per_kwh, sell_limit_per_kwh, daily_budget };
			let from_slot = Self::change_standing_order(&who, Some(order))?;
			Self::deposit_event(Event::StandingOrderSet {
				who,
				from_slot,
				buy_limit_per_kwh,
				sell_limit_per_kwh,
				daily_budget,
			});
			Ok(())
		}

		/// A participant removes its standing order from the next slot on; the budget is
		/// released once no unsettled slot needs it.
		#[pallet::call_index(14)]
		#[pallet::weight(T::WeightInfo::remove_standing_order())]
		pub fn remove_standing_order(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(
				StandingOrders::<T>::get(&who).is_some_and(|s| s.current.is_some()),
				Error::<T>::NoStandingOrder
			);
			let from_slot = Self::change_standing_order(&who, None)?;
			Self::deposit_event(Event::StandingOrderRemoved { who, from_slot });
			Ok(())
		}

		/// The manager assigns a metering point's gateway key to a technician, or to none.
		#[pallet::call_index(15)]
		#[pallet::weight(T::WeightInfo::assign_technician())]
		pub fn assign_technician(
			origin: OriginFor<T>,
			metering_point: MeteringPointId,
			technician: Option<T::AccountId>,
		) -> DispatchResult {
			Self::ensure_role(origin, Role::Manager)?;
			if let Some(t) = &technician {
				ensure!(Technicians::<T>::contains_key(t), Error::<T>::NotTechnician);
			}
			MeteringPoints::<T>::try_mutate(metering_point, |m| {
				let m = m.as_mut().ok_or(Error::<T>::UnknownMeteringPoint)?;
				m.technician = technician.clone();
				Ok::<_, Error<T>>(())
			})?;
			Self::deposit_event(Event::TechnicianAssigned { metering_point, technician });
			Ok(())
		}

		/// The manager sets the deposit a participant must hold. A rise is held at once as far
		/// as the free balance allows; until it is held in full the participant places no
		/// orders.
		#[pallet::call_index(16)]
		#[pallet::weight(T::WeightInfo::set_deposit())]
		pub fn set_deposit(
			origin: OriginFor<T>,
			who: T::AccountId,
			deposit: BalanceOf<T>,
		) -> DispatchResult {
			Self::ensure_role(origin, Role::Manager)?;
			Participants::<T>::try_mutate(&who, |p| {
				let p = p.as_mut().ok_or(Error::<T>::NotParticipant)?;
				p.deposit = deposit;
				Ok::<_, Error<T>>(())
			})?;
			let reason = HoldReason::Deposit.into();
			let held = T::Currency::balance_on_hold(&reason, &who);
			if held > deposit {
				T::Currency::release(&reason, &who, held - deposit, Precision::Exact)?;
			}
			let held = Self::collect_debt(&who);
			Self::deposit_event(Event::DepositSet { who, deposit, held });
			Ok(())
		}

		/// A participant pays what it owes the utility and tops up its deposit from its free
		/// balance, as far as it goes.
		#[pallet::call_index(17)]
		#[pallet::weight(T::WeightInfo::pay_debt())]
		pub fn pay_debt(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(Participants::<T>::contains_key(&who), Error::<T>::NotParticipant);
			Self::collect_debt(&who);
			Ok(())
		}

		/// Anyone settles what `participant` and the utilities that supplied it owe each
		/// other, as far as their funds go: its debts from its free balance, theirs from their
		/// free balance and deposit. Money only moves to whom it is owed, so anyone may ask:
		/// a utility the council replaced collects what it is owed with it, a participant
		/// what such a utility owes it.
		#[pallet::call_index(18)]
		#[pallet::weight(T::WeightInfo::settle_debts())]
		pub fn settle_debts(origin: OriginFor<T>, participant: T::AccountId) -> DispatchResult {
			ensure_signed(origin)?;
			ensure!(Participants::<T>::contains_key(&participant), Error::<T>::NotParticipant);
			let suppliers: Vec<T::AccountId> = SupplierDebts::<T>::iter_key_prefix(&participant)
				.take(MAX_SUPPLIERS_SETTLED as usize)
				.collect();
			for supplier in suppliers {
				Self::pay_supplier_debt(&supplier, &participant);
			}
			Self::collect_debt(&participant);
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		pub fn now_seconds() -> u64 {
			T::Time::now().as_secs()
		}

		fn ensure_role(origin: OriginFor<T>, role: Role) -> Result<T::AccountId, DispatchError> {
			let who = ensure_signed(origin)?;
			if Roles::<T>::get(role).as_ref() != Some(&who) {
				return Err(match role {
					Role::Manager => Error::<T>::NotManager,
					Role::Dso => Error::<T>::NotDso,
					Role::Utility => Error::<T>::NotUtility,
				}
				.into());
			}
			Ok(who)
		}

		/// The DSO changes the grid for the slots whose gate is still open. The slots whose
		/// gate has closed keep the grid they were cleared with, for settlement too: it is kept
		/// in `GridsBefore` until they are settled, so that no slot is settled on a grid chosen
		/// after its readings were public.
		fn change_grid(
			origin: OriginFor<T>,
			change: impl FnOnce(&mut Grid) -> DispatchResult,
		) -> DispatchResult {
			Self::ensure_role(origin, Role::Dso)?;
			Self::ensure_no_backlog()?;
			let before = GridInForce::<T>::get();
			let mut grid = before.clone();
			change(&mut grid)?;
			let from = CommunityParams::<T>::get().last_closed_slot(Self::now_seconds()) + 1;
			GridChanges::<T>::try_mutate(|changes| {
				// A second change for the same slots keeps the grid the first one replaced.
				if changes.last() != Some(&from) {
					changes.try_push(from).map_err(|_| Error::<T>::TooManyGridChanges)?;
					GridsBefore::<T>::insert(from, before);
				}
				Ok::<_, Error<T>>(())
			})?;
			GridInForce::<T>::put(grid);
			Ok(())
		}

		/// Settlement found one of `who`'s meters silent for the community's
		/// `silent_slots_before_stop`: it is suspended, so its orders and standing order stop,
		/// unless a gate-closed slot is still being cleared (then at a later slot's settlement).
		/// Returns whether it was suspended now.
		pub fn suspend_silent(who: &T::AccountId) -> bool {
			if Self::ensure_no_backlog().is_err() || Clearing::<T>::get().is_some() {
				return false;
			}
			let suspended =
				Self::set_status(who, ParticipantStatus::Active, ParticipantStatus::Suspended)
					.is_ok();
			if suspended {
				Self::deposit_event(Event::ParticipantSuspended { who: who.clone() });
			}
			suspended
		}

		/// The grid `slot` is cleared and settled on: the one in force at its gate closure.
		pub fn grid_of(slot: Slot) -> Grid {
			let changed_after = GridChanges::<T>::get().into_iter().find(|from| *from > slot);
			changed_after.and_then(GridsBefore::<T>::get).unwrap_or_else(GridInForce::<T>::get)
		}

		/// `slot` is settled: grids only the slots up to it needed are dropped.
		pub fn grid_settled(slot: Slot) {
			GridChanges::<T>::mutate(|changes| {
				while changes.first().is_some_and(|from| *from <= slot + 1) {
					GridsBefore::<T>::remove(changes.remove(0));
				}
			});
		}

		/// A slot clears with the grid and the participants as they were at its gate closure,
		/// so neither may change while a gate-closed slot still waits to be cleared.
		fn ensure_no_backlog() -> DispatchResult {
			let community = CommunityParams::<T>::get();
			let backlog = ClearingCursor::<T>::get()
				.is_some_and(|next| next <= community.last_closed_slot(Self::now_seconds()));
			ensure!(!backlog, Error::<T>::ClearingBacklog);
			Ok(())
		}

		/// Drops `order` from a list of order ids, and the list once it is empty.
		fn forget<S>(ids: &mut Option<BoundedVec<OrderId, S>>, order: OrderId) {
			if let Some(list) = ids {
				list.retain(|id| *id != order);
				if list.is_empty() {
					*ids = None;
				}
			}
		}

		/// Whether `who` holds a role: one of the council's, technician or participant.
		pub fn has_role(who: &T::AccountId) -> bool {
			[Role::Manager, Role::Dso, Role::Utility]
				.into_iter()
				.any(|role| Roles::<T>::get(role).as_ref() == Some(who))
				|| Technicians::<T>::contains_key(who)
				|| Participants::<T>::contains_key(who)
				|| Self::keeps_supplier_deposit(who)
		}

		/// Whether `who` holds its supplier deposit still: it supplies a slot not yet settled,
		/// or owes a participant. A utility the council replaced has its role until then.
		fn keeps_supplier_deposit(who: &T::AccountId) -> bool {
			Self::supplies(who) || SupplierDebtTotals::<T>::contains_key(who)
		}

		/// Whether `who` supplies a slot not yet settled.
		fn supplies(who: &T::AccountId) -> bool {
			let suppliers = Suppliers::<T>::get();
			suppliers.before.as_ref() == Some(who) || suppliers.current.as_ref() == Some(who)
		}

		/// Orders need the participant's deposit held in full and no debt: what it may come to
		/// owe the utility is then secured.
		fn ensure_secured(who: &T::AccountId, participant: &Participant) -> DispatchResult {
			ensure!(!Self::indebted(who), Error::<T>::Indebted);
			let held = T::Currency::balance_on_hold(&HoldReason::Deposit.into(), who);
			ensure!(held >= participant.deposit, Error::<T>::DepositShort);
			Ok(())
		}

		/// Schedules `order` as `who`'s standing order from the next slot, and holds the larger
		/// of the budgets a slot not yet settled may still need. Returns the slot it applies from.
		fn change_standing_order(
			who: &T::AccountId,
			order: Option<StandingOrder<BalanceOf<T>>>,
		) -> Result<Slot, DispatchError> {
			let from = CommunityParams::<T>::get().slot_at(Self::now_seconds()) + 1;
			let mut schedule = StandingOrders::<T>::get(who).unwrap_or_default();
			schedule.change(from, order).map_err(|_| Error::<T>::ChangePending)?;
			let reason = HoldReason::StandingOrder.into();
			let held = T::Currency::balance_on_hold(&reason, who);
			let needed = Self::budget_needed(&schedule);
			// What is held now: settlement spends from the hold and tops it up only as far as the
			// free balance allows, so it can be below the budget.
			if needed > held {
				T::Currency::hold(&reason, who, needed - held)
					.map_err(|_| Error::<T>::InsufficientFunds)?;
			} else if held > needed {
				T::Currency::release(&reason, who, held - needed, Precision::Exact)?;
				Self::collect_debt(who);
			}
			if schedule.pending() || schedule.current.is_some() {
				StandingOrders::<T>::insert(who, schedule);
			} else {
				StandingOrders::<T>::remove(who);
			}
			Ok(from)
		}

		/// The budget a standing order's schedule holds: the larger of the budgets a slot not
		/// yet settled may be settled with.
		pub fn budget_needed(schedule: &Scheduled<Option<StandingOrder<BalanceOf<T>>>>) -> u128 {
			let budget = |s: &Option<StandingOrder<_>>| s.as_ref().map_or(0, |s| s.daily_budget);
			budget(&schedule.before).max(budget(&schedule.current))
		}

		/// Takes up to `amount` from `who` for `to`: from its free balance (keeping the account
		/// alive), then, if `deposit`, from its deposit. Returns what was taken.
		pub fn take(who: &T::AccountId, to: &T::AccountId, amount: u128, deposit: bool) -> u128 {
			if amount == 0 || who == to {
				return 0;
			}
			let free =
				T::Currency::reducible_balance(who, Preservation::Preserve, Fortitude::Polite)
					.min(amount);
			let mut taken = match T::Currency::transfer(who, to, free, Preservation::Preserve) {
				Ok(_) => free,
				Err(_) => 0,
			};
			if deposit && taken < amount {
				taken += T::Currency::transfer_on_hold(
					&HoldReason::Deposit.into(),
					who,
					to,
					amount - taken,
					Precision::BestEffort,
					Restriction::Free,
					Fortitude::Polite,
				)
				.unwrap_or(0);
			}
			taken
		}

		/// Holds the community's `supplier_deposit` from a utility being appointed.
		fn hold_supplier_deposit(who: &T::AccountId) -> DispatchResult {
			let deposit = CommunityParams::<T>::get().supplier_deposit.into();
			T::Currency::hold(&HoldReason::Deposit.into(), who, deposit)
				.map_err(|_| Error::<T>::SupplierDepositShort.into())
		}

		/// Whether `who` owes any utility anything.
		pub fn indebted(who: &T::AccountId) -> bool {
			Debts::<T>::iter_key_prefix(who).next().is_some()
		}

		/// The utility that supplies `slot`, if it is not settled yet.
		pub fn supplier_of(slot: Slot) -> Option<T::AccountId> {
			Suppliers::<T>::get().for_slot(slot).clone()
		}

		/// Pays what `who` owes the utilities that supplied it from its free balance, as far as
		/// it goes (at most `MAX_SUPPLIERS_SETTLED` of them); once it owes nothing, tops up its
		/// deposit from what is left. Returns what the deposit holds.
		pub fn collect_debt(who: &T::AccountId) -> u128 {
			let suppliers: Vec<T::AccountId> =
				Debts::<T>::iter_key_prefix(who).take(MAX_SUPPLIERS_SETTLED as usize).collect();
			for supplier in suppliers {
				Self::collect_debt_for(who, &supplier);
			}
			Self::top_up_deposit(who)
		}

		/// Holds what `who` is short of its deposit, as far as its free balance goes, unless
		/// it is in debt. Returns what the deposit holds.
		pub fn top_up_deposit(who: &T::AccountId) -> u128 {
			let required = Participants::<T>::get(who).map_or(0, |p| p.deposit);
			Self::hold_up_to(who, HoldReason::Deposit, required)
		}

		/// Pays what `who` owes `supplier` from its free balance, as far as it goes. Returns
		/// what it paid.
		pub fn collect_debt_for(who: &T::AccountId, supplier: &T::AccountId) -> u128 {
			let debt = Debts::<T>::get(who, supplier);
			let amount = Self::take(who, supplier, debt, false);
			if amount > 0 {
				Self::reduce_debt(who, supplier, amount);
				Self::secure_supplier(supplier);
				Self::deposit_event(Event::DebtCollected {
					who: who.clone(),
					supplier: supplier.clone(),
					amount,
					debt: debt - amount,
				});
			}
			amount
		}

		/// `who` could not pay `amount` it owed `supplier`: it owes it from now on.
		pub fn add_debt(who: &T::AccountId, supplier: &T::AccountId, amount: u128) {
			if amount > 0 {
				Debts::<T>::mutate(who, supplier, |d| *d = d.saturating_add(amount));
				Self::offset(who, supplier);
			}
		}

		/// `supplier` could not pay `amount` it owed `to`: it owes it from now on, and what it
		/// receives is held for it.
		pub fn add_supplier_debt(supplier: &T::AccountId, to: &T::AccountId, amount: u128) {
			if amount == 0 {
				return;
			}
			SupplierDebts::<T>::mutate(to, supplier, |d| *d = d.saturating_add(amount));
			SupplierDebtTotals::<T>::mutate(supplier, |d| *d = d.saturating_add(amount));
			Self::offset(to, supplier);
		}

		/// What a participant and a utility owe each other cancels out: neither pays the other
		/// money that would come straight back.
		fn offset(who: &T::AccountId, supplier: &T::AccountId) {
			let amount = Debts::<T>::get(who, supplier).min(SupplierDebts::<T>::get(who, supplier));
			if amount > 0 {
				Self::reduce_debt(who, supplier, amount);
				Self::reduce_supplier_debt(supplier, who, amount);
			}
		}

		fn reduce_debt(who: &T::AccountId, supplier: &T::AccountId, amount: u128) {
			Debts::<T>::mutate_exists(who, supplier, |d| {
				*d = d.map(|d| d.saturating_sub(amount)).filter(|d| *d > 0);
			});
		}

		fn reduce_supplier_debt(supplier: &T::AccountId, to: &T::AccountId, amount: u128) {
			SupplierDebts::<T>::mutate_exists(to, supplier, |d| {
				*d = d.map(|d| d.saturating_sub(amount)).filter(|d| *d > 0);
			});
			SupplierDebtTotals::<T>::mutate_exists(supplier, |d| {
				*d = d.map(|d| d.saturating_sub(amount)).filter(|d| *d > 0);
			});
		}

		/// `supplier` pays what it owes `to` from its free balance, then its deposit, as far
		/// as they go. Returns what it paid.
		pub fn pay_supplier_debt(supplier: &T::AccountId, to: &T::AccountId) -> u128 {
			let debt = SupplierDebts::<T>::get(to, supplier);
			let amount = Self::take(supplier, to, debt, true);
			if amount > 0 {
				Self::reduce_supplier_debt(supplier, to, amount);
				Self::deposit_event(Event::SupplierDebtPaid {
					supplier: supplier.clone(),
					to: to.clone(),
					amount,
					debt: debt - amount,
				});
				Self::release_former_supplier(supplier);
			}
			amount
		}

		/// Holds, as `supplier`'s deposit, its free balance up to the community's supplier
		/// deposit and what it owes participants: what it receives pays them first, and it
		/// cannot move it away. A utility the council replaced holds only what it owes.
		pub fn secure_supplier(supplier: &T::AccountId) {
			let owed = SupplierDebtTotals::<T>::get(supplier);
			let supplying = Self::supplies(supplier);
			let deposit = if supplying { CommunityParams::<T>::get().supplier_deposit } else { 0 };
			Self::hold_short_of(supplier, HoldReason::Deposit, owed.saturating_add(deposit.into()));
		}

		/// Releases the deposit of a utility the council replaced once it supplies no slot
		/// left to settle and owes nothing.
		pub fn release_former_supplier(supplier: &T::AccountId) {
			if Roles::<T>::get(Role::Utility).as_ref() == Some(supplier)
				|| Self::keeps_supplier_deposit(supplier)
			{
				return;
			}
			let reason = HoldReason::Deposit.into();
			let amount = T::Currency::balance_on_hold(&reason, supplier);
			if amount > 0
				&& T::Currency::release(&reason, supplier, amount, Precision::BestEffort).is_ok()
			{
				Self::deposit_event(Event::SupplierDepositReleased {
					supplier: supplier.clone(),
					amount,
				});
			}
		}

		/// Settlement has settled `slot`: once it is the last a replaced utility supplied, that
		/// utility no longer supplies, and its deposit goes back if it owes nothing.
		pub fn supplier_settled(slot: Slot) {
			let mut suppliers = Suppliers::<T>::get();
			let before = suppliers.before.clone();
			if suppliers.settled(slot) {
				Suppliers::<T>::put(suppliers);
				if let Some(former) = before {
					Self::release_former_supplier(&former);
				}
			}
		}

		/// Holds under `reason` what `who` is short of `needed`, as far as its free balance
		/// goes, unless it is in debt: what it has pays its debt first. Returns what is held.
		pub fn hold_up_to(who: &T::AccountId, reason: HoldReason, needed: u128) -> u128 {
			if Self::indebted(who) {
				return T::Currency::balance_on_hold(&reason.into(), who);
			}
			Self::hold_short_of(who, reason, needed)
		}

		/// Holds under `reason` what `who` is short of `needed`, as far as its free balance
		/// goes. Returns what is held.
		fn hold_short_of(who: &T::AccountId, reason: HoldReason, needed: u128) -> u128 {
			let reason = reason.into();
			let held = T::Currency::balance_on_hold(&reason, who);
			if held >= needed {
				return held;
			}
			let free =
				T::Currency::reducible_balance(who, Preservation::Protect, Fortitude::Polite);
			let top_up = (needed - held).min(free);
			if top_up > 0 && T::Currency::hold(&reason, who, top_up).is_ok() {
				return held + top_up;
			}
			held
		}

		fn active_participant(who: &T::AccountId) -> Result<Participant, Error<T>> {
			let p = Participants::<T>::get(who).ok_or(Error::<T>::NotParticipant)?;
			ensure!(p.status == ParticipantStatus::Active, Error::<T>::Suspended);
			Ok(p)
		}

		fn set_status(
			who: &T::AccountId,
			from: ParticipantStatus,
			to: ParticipantStatus,
		) -> DispatchResult {
			Participants::<T>::try_mutate(who, |p| {
				let p = p.as_mut().ok_or(Error::<T>::NotParticipant)?;
				if p.status != from {
					return Err(match to {
						ParticipantStatus::Suspended => Error::<T>::Suspended,
						ParticipantStatus::Active => Error::<T>::NotSuspended,
					}
					.into());
				}
				p.status = to;
				Ok(())
			})
		}

		fn check_metering_point(point: &NewMeteringPoint) -> DispatchResult {
			ensure!(!MeteringPoints::<T>::contains_key(point.id), Error::<T>::MeteringPointTaken);
			ensure!(GridInForce::<T>::get().zone(point.zone).is_some(), Error::<T>::UnknownZone);
			ensure!(
				(1..=MAX_RATED_POWER_W).contains(&point.rated_power_w),
				Error::<T>::RatedPowerOutOfRange
			);
			Ok(())
		}

		pub(crate) fn do_admit(
			who: &T::AccountId,
			points: &BoundedVec<NewMeteringPoint, ConstU32<MAX_METERING_POINTS>>,
			deposit: u128,
		) -> DispatchResult {
			ensure!(!Participants::<T>::contains_key(who), Error::<T>::AlreadyParticipant);
			ensure!(!Self::has_role(who), Error::<T>::RoleConflict);
			ensure!(!points.is_empty(), Error::<T>::NoMeteringPoint);
			ensure!(
				MeteringPoints::<T>::count() as usize + points.len()
					<= CommunityParams::<T>::get().max_metering_points as usize,
				Error::<T>::CommunityFull
			);
			let mut ids = BoundedVec::new();
			for point in points {
				Self::check_metering_point(point)?;
				ensure!(!ids.contains(&point.id), Error::<T>::MeteringPointTaken);
				ids.try_push(point.id).map_err(|_| Error::<T>::TooManyMeteringPoints)?;
			}
			// Holding nothing would still need an account: a participant may be admitted before
			// it holds any money when the manager asks no deposit.
			if deposit > 0 {
				T::Currency::hold(&HoldReason::Deposit.into(), who, deposit)
					.map_err(|_| Error::<T>::InsufficientFunds)?;
			}
			for p in points {
				MeteringPoints::<T>::insert(
					p.id,
					MeteringPoint {
						owner: who.clone(),
						zone: p.zone,
						rated_power_w: p.rated_power_w,
						technician: None,
					},
				);
			}
			Participants::<T>::insert(
				who,
				Participant { status: ParticipantStatus::Active, metering_points: ids, deposit },
			);
			Self::deposit_event(Event::ParticipantAdmitted { who: who.clone() });
			Ok(())
		}

		pub(crate) fn check_new_zone(
			grid: &Grid,
			zone: ZoneId,
			parent: ZoneId,
			fee_per_kwh: u64,
		) -> Result<(), Error<T>> {
			ensure!(grid.zone(zone).is_none(), Error::<T>::ZoneExists);
			ensure!(grid.zone(parent).is_some(), Error::<T>::UnknownZone);
			ensure!(fee_per_kwh <= MAX_PRICE_PER_KWH, Error::<T>::FeeOutOfRange);
			ensure!(grid.zones.len() < MAX_ZONES as usize, Error::<T>::TooManyZones);
			Ok(())
		}

		fn mutate_edge(grid: &mut Grid, zone: ZoneId, f: impl FnOnce(&mut Zone)) -> DispatchResult {
			let z = grid.zone_mut(zone).ok_or(Error::<T>::UnknownZone)?;
			ensure!(z.parent.is_some(), Error::<T>::RootHasNoEdge);
			f(z);
			Ok(())
		}

		/// Every participant's order hold is what its orders say they hold: placing, voiding,
		/// clearing (a page at a time) and cancelling change both together. Reads every order.
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			let mut held = alloc::collections::BTreeMap::<T::AccountId, u128>::new();
			for (_, order) in Orders::<T>::iter() {
				*held.entry(order.owner).or_default() += order.held;
			}
			for (who, _) in Participants::<T>::iter() {
				let on_hold = T::Currency::balance_on_hold(&HoldReason::Order.into(), &who);
				ensure!(
					held.remove(&who).unwrap_or(0) == on_hold,
					"an account's order hold is not what its orders hold"
				);
			}
			ensure!(held.is_empty(), "an order of an account that is no participant");

			let mut owed = alloc::collections::BTreeMap::<T::AccountId, u128>::new();
			for (who, supplier, debt) in SupplierDebts::<T>::iter() {
				ensure!(
					!Debts::<T>::contains_key(&who, &supplier),
					"a participant and a utility owe each other"
				);
				*owed.entry(supplier).or_default() += debt;
			}
			ensure!(
				owed.into_iter()
					.eq(SupplierDebtTotals::<T>::iter()
						.collect::<alloc::collections::BTreeMap<_, _>>()),
				"a utility's debts do not add up to its total"
			);
			Ok(())
		}

		/// The open orders of `slot` (not yet cleared), ascending by id.
		pub fn order_book(slot: Slot) -> Vec<(OrderId, OrderOf<T>)> {
			let mut book: Vec<_> = SlotOrders::<T>::iter_key_prefix(slot)
				.filter_map(|id| Orders::<T>::get(id).map(|o| (id, o)))
				.collect();
			book.sort_by_key(|(id, _)| *id);
			book
		}

		/// An account's orders in slots `from..=to`, each with its fill once cleared.
		pub fn orders_of(
			who: &T::AccountId,
			from: Slot,
			to: Slot,
		) -> Vec<(OrderId, OrderOf<T>, Option<Fill>)> {
			let mut slots: Vec<_> = AccountOrders::<T>::iter_prefix(who)
				.filter(|(slot, _)| (from..=to).contains(slot))
				.collect();
			slots.sort_by_key(|(slot, _)| *slot);
			let mut out = Vec::new();
			for (slot, ids) in slots {
				for id in ids {
					let Some(order) = Orders::<T>::get(id) else { continue };
					out.push((id, order, Fills::<T>::get(slot, id)));
				}
			}
			out
		}

		/// A page of a cleared slot's fills (see [`fills_page`]).
		pub fn fills(slot: Slot, after: Option<OrderId>) -> Vec<Fill> {
			fills_page::<Fills<T>>(slot, after)
		}

		/// A participant with its metering points (and their zones) and standing order.
		pub fn participant(
			who: &T::AccountId,
		) -> Option<runtime_api::ParticipantInfo<BalanceOf<T>>> {
			let p = Participants::<T>::get(who)?;
			let metering_points = p
				.metering_points
				.iter()
				.filter_map(|id| MeteringPoints::<T>::get(id).map(|m| (*id, m.zone)))
				.collect();
			Some(runtime_api::ParticipantInfo {
				status: p.status,
				metering_points,
				standing_order: StandingOrders::<T>::get(who).and_then(|s| s.current),
				deposit: p.deposit,
				deposit_held: T::Currency::balance_on_hold(&HoldReason::Deposit.into(), who),
				debt: Debts::<T>::iter_prefix_values(who).sum(),
				owed_to_it: SupplierDebts::<T>::iter_prefix_values(who).sum(),
			})
		}

		/// Where the market stands in time.
		pub fn clock() -> runtime_api::SlotClock {
			let community = CommunityParams::<T>::get();
			let now = Self::now_seconds();
			runtime_api::SlotClock {
				now_seconds: now,
				current_slot: community.slot_at(now),
				first_open_slot: community.last_closed_slot(now) + 1,
				next_to_clear: ClearingCursor::<T>::get(),
			}
		}
	}
}
