use core::fmt;

use crate::{OrderId, ZoneId, MAX_ENERGY_WH, MAX_FEE_PER_KWH, MAX_PRICE_PER_KWH, MAX_ZONES};

/// Why an instance was refused. Each variant is named after the rule the input broke and
/// carries the offending id and value, so that a pallet, the gateway and the CLI can all tell
/// the submitter exactly what to fix.
///
/// Validation walks zones and orders in ascending id order, so the same bad instance gives the
/// same error whichever order its zones and orders are listed in.
// The fields are the offending ids and values each variant's doc names.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Error {
	/// The instance has no zones, or none of them is without a parent.
	NoRoot,
	/// More than one zone has no parent; the grid must be a single tree.
	SecondRoot { first: ZoneId, second: ZoneId },
	/// Two zones share an id.
	DuplicateZone { zone: ZoneId },
	/// More zones than [`MAX_ZONES`].
	TooManyZones { count: usize },
	/// A zone names a parent that is not in the instance.
	UnknownParent { zone: ZoneId, parent: ZoneId },
	/// Following parents from `zone` loops without reaching the root; `zone` is the lowest id
	/// on the loop.
	ParentCycle { zone: ZoneId },
	/// The root has no edge above it, so it cannot carry a fee or a capacity.
	RootEdge { zone: ZoneId },
	/// An edge fee below zero.
	NegativeFee { zone: ZoneId, fee_per_kwh: i64 },
	/// An edge fee above [`MAX_FEE_PER_KWH`].
	FeeOutOfRange { zone: ZoneId, fee_per_kwh: i64 },
	/// Two orders share an id.
	DuplicateOrder { order: OrderId },
	/// An order names a zone that is not in the instance.
	UnknownZone { order: OrderId, zone: ZoneId },
	/// An order for zero Wh.
	ZeroEnergy { order: OrderId },
	/// An order above [`MAX_ENERGY_WH`].
	EnergyOutOfRange { order: OrderId, energy_wh: u64 },
	/// A limit whose magnitude exceeds [`MAX_PRICE_PER_KWH`].
	LimitOutOfRange { order: OrderId, limit_per_kwh: i64 },
	/// All orders together exceed [`crate::MAX_TOTAL_ENERGY_WH`].
	TotalEnergyOutOfRange { total_wh: u128 },
	/// No price balances `zone`. Cannot happen for an instance that passed validation (the
	/// engine's invariants guarantee a price); it exists so that a defect surfaces as an error
	/// the runtime can handle instead of a panic inside a block.
	NoClearingPrice { zone: ZoneId },
}

impl fmt::Display for Error {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match *self {
            Error::NoRoot => write!(f, "no root zone (a zone without parent)"),
            Error::SecondRoot { first, second } => {
                write!(f, "second root zone {second} (zone {first} is already a root)")
            }
            Error::DuplicateZone { zone } => write!(f, "duplicate zone id {zone}"),
            Error::TooManyZones { count } => {
                write!(f, "{count} zones, at most {MAX_ZONES} allowed")
            }
            Error::UnknownParent { zone, parent } => {
                write!(f, "zone {zone} has unknown parent zone {parent}")
            }
            Error::ParentCycle { zone } => write!(f, "parent cycle through zone {zone}"),
            Error::RootEdge { zone } => {
                write!(f, "root zone {zone} has no parent edge, so no fee or capacity")
            }
            Error::NegativeFee { zone, fee_per_kwh } => {
                write!(f, "negative fee {fee_per_kwh} on zone {zone}")
            }
            Error::FeeOutOfRange { zone, fee_per_kwh } => write!(
                f,
                "fee {fee_per_kwh} on zone {zone} out of range (at most {MAX_FEE_PER_KWH})"
            ),
            Error::DuplicateOrder { order } => write!(f, "duplicate order id {order}"),
            Error::UnknownZone { order, zone } => {
                write!(f, "order {order} names unknown zone {zone}")
            }
            Error::ZeroEnergy { order } => write!(f, "order {order} has zero energy"),
            Error::EnergyOutOfRange { order, energy_wh } => write!(
                f,
                "energy {energy_wh} Wh of order {order} out of range (at most {MAX_ENERGY_WH})"
            ),
            Error::LimitOutOfRange {
                order,
                limit_per_kwh,
            } => write!(
                f,
                "limit {limit_per_kwh} of order {order} out of range (magnitude at most {MAX_PRICE_PER_KWH})"
            ),
            Error::TotalEnergyOutOfRange { total_wh } => write!(
                f,
                "total energy {total_wh} Wh out of range (at most {})",
                crate::MAX_TOTAL_ENERGY_WH
            ),
            Error::NoClearingPrice { zone } => {
                write!(f, "internal error: no clearing price for zone {zone}")
            }
        }
	}
}
