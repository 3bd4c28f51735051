//! The market in GraphQL: listings (keyset pages), an account's earnings, licence grants,
//! a record's royalty stack. Each field is the matching `verai_` JSON-RPC answer.

use super::{
    Gql, gql_err,
    scalars::{Address, BigInt, Bytes32, Long},
};
use async_graphql::{Result, SimpleObject};
use verai_rpc::{
    Backend,
    api::MarketApiServer,
    types::{EarningsReport, GrantFilter, GrantView, ListingFilter, ListingView, StackView},
};

/// A service method.
#[derive(SimpleObject)]
pub struct Method {
    name: String,
    price: BigInt,
    free_calls: i32,
}

/// A listing of a dataset, a model or a service.
#[derive(SimpleObject)]
pub struct Listing {
    id: Long,
    record_id: Long,
    /// `access`, `per-call` or `service`.
    kind: String,
    seller: Address,
    token: Address,
    price: BigInt,
    terms_hash: Option<Bytes32>,
    spdx: Option<String>,
    perpetual: Option<bool>,
    duration: Option<Long>,
    endpoint: Option<String>,
    methods: Vec<Method>,
    active: bool,
    created_at: Long,
    sales: Long,
    revenue: BigInt,
    /// Weighted by what each rater paid.
    rating: Option<f64>,
    rating_weight: BigInt,
}

impl From<ListingView> for Listing {
    fn from(l: ListingView) -> Self {
        Self {
            id: Long(l.id),
            record_id: Long(l.record_id),
            kind: l.kind,
            seller: Address(l.seller),
            token: Address(l.token),
            price: BigInt(l.price),
            terms_hash: l.terms.as_ref().map(|t| Bytes32(t.hash)),
            spdx: l.terms.as_ref().map(|t| t.spdx.clone()),
            perpetual: l.terms.as_ref().map(|t| t.perpetual),
            duration: l.terms.as_ref().map(|t| Long(t.duration)),
            endpoint: l.endpoint,
            methods: l
                .methods
                .into_iter()
                .map(|m| Method {
                    name: m.name,
                    price: BigInt(m.price),
                    free_calls: m.free_calls.min(i32::MAX as u32) as i32,
                })
                .collect(),
            active: l.active,
            created_at: Long(l.created_at),
            sales: Long(l.sales),
            revenue: BigInt(l.revenue),
            rating: l.rating,
            rating_weight: BigInt(l.rating_weight),
        }
    }
}

/// A page of listings.
#[derive(SimpleObject)]
pub struct ListingPage {
    listings: Vec<Listing>,
    /// Pass as `after` for the next page.
    next_cursor: Option<Long>,
}

/// One account's standing in one stack.
#[derive(SimpleObject)]
pub struct StackEarning {
    stack_id: Long,
    record_id: Long,
    /// Out of 10^27.
    weight: BigInt,
    revenue: BigInt,
    entitled: BigInt,
    claimed: BigInt,
    claimable: BigInt,
    credited: BigInt,
}

/// What an account has earned.
#[derive(SimpleObject)]
pub struct Earnings {
    account: Address,
    block_number: Long,
    total_stacks: Long,
    claimable: BigInt,
    claimed: BigInt,
    credited: BigInt,
    stacks: Vec<StackEarning>,
}

impl From<EarningsReport> for Earnings {
    fn from(e: EarningsReport) -> Self {
        Self {
            account: Address(e.account),
            block_number: Long(e.block_number),
            total_stacks: Long(e.total_stacks),
            claimable: BigInt(e.claimable),
            claimed: BigInt(e.claimed),
            credited: BigInt(e.credited),
            stacks: e
                .stacks
                .into_iter()
                .map(|s| StackEarning {
                    stack_id: Long(s.stack_id),
                    record_id: Long(s.record_id),
                    weight: BigInt(s.weight),
                    revenue: BigInt(s.revenue),
                    entitled: BigInt(s.entitled),
                    claimed: BigInt(s.claimed),
                    claimable: BigInt(s.claimable),
                    credited: BigInt(s.credited),
                })
                .collect(),
        }
    }
}

/// A licence grant.
#[derive(SimpleObject)]
pub struct Grant {
    record_id: Long,
    account: Address,
    listing_id: Long,
    terms_hash: Bytes32,
    /// `null` when perpetual.
    expiry: Option<Long>,
    valid: bool,
}

impl From<GrantView> for Grant {
    fn from(g: GrantView) -> Self {
        Self {
            record_id: Long(g.record_id),
            account: Address(g.account),
            listing_id: Long(g.listing_id),
            terms_hash: Bytes32(g.terms_hash),
            expiry: g.expiry.map(Long),
            valid: g.valid,
        }
    }
}

/// An account's weight in a stack.
#[derive(SimpleObject)]
pub struct Share {
    account: Address,
    weight: BigInt,
}

/// A record's royalty stack.
#[derive(SimpleObject)]
pub struct Stack {
    stack_id: Long,
    record_id: Long,
    owner_bps: i32,
    upstream_bps: i32,
    all_ancestors: bool,
    revenue: BigInt,
    shares: Vec<Share>,
}

impl From<StackView> for Stack {
    fn from(s: StackView) -> Self {
        Self {
            stack_id: Long(s.stack_id),
            record_id: Long(s.record_id),
            owner_bps: s.owner_bps.into(),
            upstream_bps: s.upstream_bps.into(),
            all_ancestors: s.all_ancestors,
            revenue: BigInt(s.revenue),
            shares: s
                .shares
                .into_iter()
                .map(|(a, w)| Share {
                    account: Address(a),
                    weight: BigInt(w),
                })
                .collect(),
        }
    }
}

impl<B: Backend> Gql<B> {
    pub(crate) async fn listings(&self, f: ListingFilter) -> Result<ListingPage> {
        let p = self
            .rpc
            .market
            .list_listings(Some(f))
            .await
            .map_err(|e| gql_err(e.into()))?;
        Ok(ListingPage {
            listings: p.listings.into_iter().map(Listing::from).collect(),
            next_cursor: p.next_cursor.map(Long),
        })
    }

    pub(crate) async fn listing(&self, id: u64) -> Result<Option<Listing>> {
        let l = self
            .rpc
            .market
            .get_listing(id)
            .await
            .map_err(|e| gql_err(e.into()))?;
        Ok(l.map(Listing::from))
    }

    pub(crate) async fn earnings(&self, account: alloy_primitives::Address) -> Result<Earnings> {
        let e = self
            .rpc
            .market
            .get_earnings(account, None, None, None)
            .await
            .map_err(|e| gql_err(e.into()))?;
        Ok(e.into())
    }

    pub(crate) async fn grants(&self, f: GrantFilter) -> Result<Vec<Grant>> {
        let g = self
            .rpc
            .market
            .get_grants(f)
            .await
            .map_err(|e| gql_err(e.into()))?;
        Ok(g.into_iter().map(Grant::from).collect())
    }

    pub(crate) async fn stack(&self, record: u64) -> Result<Option<Stack>> {
        let s = self
            .rpc
            .market
            .get_stack(record)
            .await
            .map_err(|e| gql_err(e.into()))?;
        Ok(s.map(Stack::from))
    }
}
