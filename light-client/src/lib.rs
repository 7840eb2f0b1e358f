//! lem's light client: what a gateway or an auditor knows about the chain without trusting any
//! node.
//!
//! Trust starts at a raw chain spec ([`chain_spec`]): its genesis state gives the genesis
//! header and the first GRANDPA authority set. From there, [`finality`] follows the sets the
//! council hands finality to, checking every justification ([`justification`]) against the set
//! it tracks, and [`storage`] reads values out of proofs against a finalized header's state
//! root. These are plain functions over bytes, with no I/O, so they run the same in a test, a
//! fuzzer and on the box.
//!
//! [`client`] (feature `client`) is the thin adapter: JSON-RPC over WebSocket to a list of
//! nodes, dropping any that lies (a justification or proof that does not check, a header off
//! the finalized chain, a head that goes back or stops).

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "std")]
pub mod chain_spec;
#[cfg(feature = "client")]
pub mod client;
pub mod finality;
pub mod header;
pub mod hex;
pub mod justification;
pub mod storage;

pub use finality::{Checkpoint, FinalityError, Progress};
pub use header::{Hash, Header};
pub use justification::AuthoritySet;
