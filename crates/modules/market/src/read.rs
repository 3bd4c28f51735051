//! Reads of the market's state, shared by the module (through its host) and by RPC
//! (through the node's state): listings, stacks, earnings, grants and channels.
//!
//! Every list is bounded by the caller's `limit`; a stack has at most
//! [`crate::MAX_STACK_ACCOUNTS`] entries, so every answer's cost is known before it runs.

use crate::{
    IMarket::{Channel, Grant, Listing, RoyaltyPolicy},
    ListingBody, layout,
    layout::{Head, StackState},
    split::{self, Policy, Stack},
};
use alloy_primitives::{Address, U256};
use alloy_sol_types::SolValue;
use verai_primitives::ModuleError;
pub use verai_provenance::read::{Slots, get_u64, list};

/// Grants that never expire carry this expiry.
pub const PERPETUAL: u64 = u64::MAX;

fn corrupt(what: impl std::fmt::Display) -> ModuleError {
    ModuleError::Fatal(format!("market state: {what}"))
}

/// Number of listings.
pub fn listing_count(s: &mut (impl Slots + ?Sized)) -> Result<u64, ModuleError> {
    get_u64(s, layout::listings())
}

/// The head of listing `id`, `None` if there is none.
pub fn head(s: &mut (impl Slots + ?Sized), id: u64) -> Result<Option<Head>, ModuleError> {
    let w = s.slot(layout::head(id))?;
    Ok((!w.is_zero()).then(|| Head::unpack(w)))
}

/// The stored body of listing `id`.
pub fn body(s: &mut (impl Slots + ?Sized), id: u64) -> Result<Option<ListingBody>, ModuleError> {
    if head(s, id)?.is_none() {
        return Ok(None);
    }
    let bytes = verai_provenance::words::bytes_at(s, layout::body(id), 64 * 1024)?;
    ListingBody::abi_decode(&bytes)
        .map(Some)
        .map_err(|e| corrupt(format!("listing {id}: {e}")))
}

/// Listing `id` as the ABI returns it.
pub fn listing(s: &mut (impl Slots + ?Sized), id: u64) -> Result<Option<Listing>, ModuleError> {
    let Some(h) = head(s, id)? else {
        return Ok(None);
    };
    let Some(b) = body(s, id)? else {
        return Ok(None);
    };
    Ok(Some(Listing {
        id,
        recordId: b.recordId,
        kind: b.kind,
        seller: b.seller,
        token: b.token,
        price: s.slot(layout::price(id))?,
        termsHash: b.termsHash,
        endpoint: b.endpoint,
        methods: b.methods,
        active: h.active,
        createdAt: b.createdAt,
        sales: get_u64(s, layout::sales(id))?,
        revenue: s.slot(layout::listing_revenue(id))?,
        ratingWeight: s.slot(layout::rating_weight(id))?,
        ratingSum: s.slot(layout::rating_sum(id))?,
    }))
}

/// The royalty policy of `record` (the default, all to contributors, when none is set).
pub fn policy(s: &mut (impl Slots + ?Sized), record: u64) -> Result<Policy, ModuleError> {
    let w = s.slot(layout::policy(record))?;
    let v = w.as_limbs()[0];
    Ok(Policy {
        owner_bps: v as u16,
        upstream_bps: (v >> 16) as u16,
        all_ancestors: (v >> 32) & 0xff != 0,
    })
}

/// Pack a policy for [`layout::policy`] (with the "set" marker).
pub fn pack_policy(p: Policy) -> U256 {
    U256::from(
        u64::from(p.owner_bps)
            | (u64::from(p.upstream_bps) << 16)
            | (u64::from(p.all_ancestors) << 32)
            | (1u64 << 40),
    )
}

/// The ABI form of a policy.
pub fn policy_abi(p: Policy) -> RoyaltyPolicy {
    RoyaltyPolicy {
        ownerBps: p.owner_bps,
        upstreamBps: p.upstream_bps,
        allAncestors: p.all_ancestors,
    }
}

/// The current (complete) stack id of `record`; 0 when it has none.
pub fn stack_of(s: &mut (impl Slots + ?Sized), record: u64) -> Result<u64, ModuleError> {
    get_u64(s, layout::stack_of(record))
}

/// The state of stack `id`.
pub fn stack_state(s: &mut (impl Slots + ?Sized), id: u64) -> Result<StackState, ModuleError> {
    Ok(StackState::unpack(s.slot(layout::stack_state(id))?))
}

/// The entries of stack `id` (empty when it does not exist).
pub fn stack(s: &mut (impl Slots + ?Sized), id: u64) -> Result<Stack, ModuleError> {
    let st = stack_state(s, id)?;
    let base = layout::stack_entries(id);
    let mut out = Vec::with_capacity(st.accounts as usize);
    for i in 0..st.accounts {
        let (key, w) = layout::unpack_entry(s.slot(base + U256::from(i))?);
        out.push((layout::to_address(key), w));
    }
    Ok(out)
}

/// Cumulative revenue of stack `id` in `token`.
pub fn revenue(
    s: &mut (impl Slots + ?Sized),
    id: u64,
    token: Address,
) -> Result<U256, ModuleError> {
    s.slot(layout::revenue(id, token))
}

/// The stacks `account` earns from, with its weight in each, from `offset`, at most `limit`.
pub fn earner_entries(
    s: &mut (impl Slots + ?Sized),
    account: Address,
    offset: u64,
    limit: u64,
) -> Result<(u64, Vec<(u64, u128)>), ModuleError> {
    let base = layout::earner(account);
    let n = get_u64(s, base)?;
    let end = n.min(offset.saturating_add(limit));
    let mut out = Vec::new();
    for i in offset..end {
        let (stack, w) = layout::unpack_entry(s.slot(base + U256::from(i + 1))?);
        out.push((stack.to::<u64>(), w));
    }
    Ok((n, out))
}

/// One account's standing in one stack, in one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Earning {
    /// The stack.
    pub stack: u64,
    /// The record it splits.
    pub record: u64,
    /// The account's weight, out of [`split::WEIGHT`].
    pub weight: u128,
    /// The stack's cumulative revenue.
    pub revenue: U256,
    /// `floor(revenue · weight / WEIGHT)`: what the account may have claimed by now.
    pub entitled: U256,
    /// What it has claimed.
    pub claimed: U256,
}

impl Earning {
    /// What it may claim now.
    pub fn claimable(&self) -> U256 {
        self.entitled.saturating_sub(self.claimed)
    }
}

/// `account`'s earnings in `token` over its stacks (from `offset`, at most `limit` stacks).
pub fn earnings(
    s: &mut (impl Slots + ?Sized),
    account: Address,
    token: Address,
    offset: u64,
    limit: u64,
) -> Result<(u64, Vec<Earning>), ModuleError> {
    let (n, entries) = earner_entries(s, account, offset, limit)?;
    let mut out = Vec::with_capacity(entries.len());
    for (stack, weight) in entries {
        let revenue = revenue(s, stack, token)?;
        let record = stack_state(s, stack)?.record;
        let claimed = s.slot(layout::claimed(stack, account, token))?;
        out.push(Earning {
            stack,
            record,
            weight,
            revenue,
            entitled: split::entitled(revenue, weight),
            claimed,
        });
    }
    Ok((n, out))
}

/// What `account` may claim in `token` now, over every stack it is in.
pub fn claimable(
    s: &mut (impl Slots + ?Sized),
    account: Address,
    token: Address,
) -> Result<U256, ModuleError> {
    let (_, e) = earnings(s, account, token, 0, u64::MAX)?;
    Ok(e.iter().map(Earning::claimable).sum())
}

/// The grant of `record` to `account` (a zero grant when there is none).
pub fn grant(
    s: &mut (impl Slots + ?Sized),
    record: u64,
    account: Address,
) -> Result<Grant, ModuleError> {
    let (listing, expiry) = layout::unpack_grant(s.slot(layout::grant(record, account))?);
    let terms = if listing == 0 {
        Default::default()
    } else {
        body(s, listing)?.map(|b| b.termsHash).unwrap_or_default()
    };
    Ok(Grant {
        listingId: listing,
        termsHash: terms,
        expiry,
    })
}

/// Whether `grant` is valid at `now` (seconds).
pub fn grant_valid(grant: &Grant, now: u64) -> bool {
    grant.listingId != 0 && (grant.expiry == PERPETUAL || grant.expiry > now)
}

/// Channel `id`, `None` if there is none.
pub fn channel(s: &mut (impl Slots + ?Sized), id: u64) -> Result<Option<Channel>, ModuleError> {
    let base = layout::channel(id);
    let first = s.slot(base)?;
    if first.is_zero() {
        return Ok(None);
    }
    let (listing, nonce, expiry, closed) = layout::unpack_channel(first);
    Ok(Some(Channel {
        id,
        listingId: listing,
        client: layout::to_address(s.slot(base + U256::from(1))?),
        provider: layout::to_address(s.slot(base + U256::from(2))?),
        deposit: s.slot(base + U256::from(3))?,
        claimed: s.slot(base + U256::from(4))?,
        nonce,
        expiry,
        closed,
    }))
}

/// The per-call price of model `model`: (listing, price); listing 0 when it has none.
pub fn call_price(s: &mut (impl Slots + ?Sized), model: u64) -> Result<(u64, U256), ModuleError> {
    let id = get_u64(s, layout::call_listing(model))?;
    if id == 0 {
        return Ok((0, U256::ZERO));
    }
    Ok((id, s.slot(layout::price(id))?))
}
