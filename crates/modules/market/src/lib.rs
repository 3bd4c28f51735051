//! Market: the native module at `0x…0a03`: listings, royalties along lineage, licence
//! grants and service channels.
//!
//! Everything the market knows is storage of its account, so the state root commits to it
//! and `verai_getProof` proves a listing, a grant or an account's earnings against a
//! finalized block. The ABI is `contracts/interfaces/IMarket.sol`, read here by `sol!`.
//!
//! Invariants:
//! - every payment for a record goes to the record's current royalty stack and nowhere
//!   else; its cost does not depend on the size of the lineage (see [`split`], [`stack`]);
//! - a stack's weights sum to exactly [`split::WEIGHT`]; a complete stack never changes;
//! - an account's claims never exceed its entitlements, and a stack's entitlements never
//!   exceed its revenue, so the module can always pay every claim (see [`earnings`]);
//! - a payment must be exactly the price; a refused call reverts with an `IMarket` error and
//!   moves nothing (checks precede writes, and the executor rolls the frame back).
//!
//! Only the native token is accepted for now: a listing priced in an ERC-20 is refused with
//! `TokenNotSupported` (a precompile cannot call a token contract; see ARCHITECTURE.md).
//!
//! Storage layout: see [`layout`].

mod abi;
pub mod access;
pub mod channel;
pub mod earnings;
mod explain;
mod host;
pub mod layout;
pub mod listing;
mod module;
pub mod read;
pub mod split;
pub mod stack;

pub use abi::{IMarket, ListingBody};
pub use explain::explain;
pub use listing::charge_call;
pub use module::{Market, has_access};

use alloy_primitives::Address;

/// The module's address, `0x0000000000000000000000000000000000000a03`.
pub const ADDRESS: Address = verai_primitives::module_address(3);

/// Most accounts in one royalty stack.
pub const MAX_STACK_ACCOUNTS: usize = 4096;
/// Longest service endpoint (bytes).
pub const MAX_ENDPOINT_BYTES: usize = 512;
/// Most methods of one service.
pub const MAX_METHODS: usize = 32;
/// Longest method name (bytes).
pub const MAX_METHOD_NAME_BYTES: usize = 64;

/// What a listing sells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Kind {
    /// A licence grant on a dataset or model.
    Access = 0,
    /// A fee on every inference of a model.
    PerCall = 1,
    /// Calls to an off-chain service, paid over a channel.
    Service = 2,
}

impl Kind {
    /// All kinds, by number.
    pub const ALL: [Kind; 3] = [Kind::Access, Kind::PerCall, Kind::Service];

    /// The kind numbered `n`.
    pub fn from_u8(n: u8) -> Option<Self> {
        Self::ALL.get(usize::from(n)).copied()
    }

    /// Lower-case name (`access`, `per-call`, `service`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Access => "access",
            Kind::PerCall => "per-call",
            Kind::Service => "service",
        }
    }

    /// Parse a name as printed by [`Self::name`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }
}
