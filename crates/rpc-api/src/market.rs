//! The market queries of the `verai_` namespace: listings, earnings, grants, stacks.

use crate::types::{
    EarningsReport, GrantFilter, GrantView, ListingFilter, ListingPage, ListingView, StackView,
};
use alloy_primitives::Address;
use jsonrpsee::{core::RpcResult, proc_macros::rpc};

/// Read from the market module's state (`0x…0a03`) at the finalized head: every answer is
/// what `verai_getProof` can prove.
#[rpc(server, client, namespace = "verai")]
pub trait MarketApi {
    /// Listings in id order after `filter.after`, filtered by kind, record, seller and
    /// whether they still sell; at most `filter.limit` (≤ 100, default 20), with the cursor
    /// of the next page.
    #[method(name = "listListings")]
    async fn list_listings(&self, filter: Option<ListingFilter>) -> RpcResult<ListingPage>;
    /// One listing, `null` if none.
    #[method(name = "getListing")]
    async fn get_listing(&self, id: u64) -> RpcResult<Option<ListingView>>;
    /// What `account` has earned in `token` (native when absent), per stack: entitled,
    /// claimed, claimable, and the credit by largest remainder that sums to each stack's
    /// revenue exactly.
    #[method(name = "getEarnings")]
    async fn get_earnings(
        &self,
        account: Address,
        token: Option<Address>,
        offset: Option<u64>,
        limit: Option<u64>,
    ) -> RpcResult<EarningsReport>;
    /// Licence grants held by an account or on a record.
    #[method(name = "getGrants")]
    async fn get_grants(&self, filter: GrantFilter) -> RpcResult<Vec<GrantView>>;
    /// The current royalty stack of a record, `null` if it has none.
    #[method(name = "getStack")]
    async fn get_stack(&self, record: u64) -> RpcResult<Option<StackView>>;
}
