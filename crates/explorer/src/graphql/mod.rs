//! GraphQL at `/graphql`: geth's EIP-1767 schema first (so existing GraphQL clients work),
//! Verai's records beside it, keyset pagination for long lists.
//!
//! Every EIP-1767 field is resolved through the JSON-RPC handlers, so it holds what the
//! matching JSON-RPC call returns on the same chain, and errors carry the JSON-RPC code in
//! `extensions.code` (EIP-1474). Bounds: query depth ≤ [`MAX_DEPTH`], complexity ≤
//! [`MAX_COMPLEXITY`] (a list field costs its `first` times its children), `blocks` at
//! most [`MAX_BLOCKS`] blocks, `logs` the limits of `eth_getLogs`, pages at most
//! [`verai_storage::MAX_PAGE`] entries. Over a bound: `Query is nested too deep.` or
//! `Query is too complex.`, or the JSON-RPC error.

mod eth;
mod market;
pub mod scalars;
mod verai;

use crate::data::{Explorer, ReadError};
use alloy_eips::BlockNumberOrTag;
use alloy_rpc_types_eth::{Filter, FilterBlockOption};
use async_graphql::{EmptySubscription, ErrorExtensions, Object, Result, Schema};
use eth::{Block, FilterCriteria, Log, Pending, SyncState, Transaction};
use scalars::{Address, BigInt, Bytes, Bytes32, Long};
use std::{ops::Deref, sync::Arc};
use verai::{AlertPage, Inference, Lineage, LogPage, Record, TxPage};
use verai_rpc::{
    Backend,
    api::{EthApiServer, ProvenanceApiServer, codes},
};

/// Deepest query accepted.
pub const MAX_DEPTH: usize = 12;
/// Most complex query accepted.
pub const MAX_COMPLEXITY: usize = 20_000;
/// Most blocks one `blocks(from, to)` returns.
pub const MAX_BLOCKS: u64 = 1_000;

/// The explorer, shared by every resolver.
pub struct Gql<B>(pub(crate) Arc<Explorer<B>>);

impl<B> Clone for Gql<B> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<B> Deref for Gql<B> {
    type Target = Explorer<B>;
    fn deref(&self) -> &Explorer<B> {
        &self.0
    }
}

/// An error with its JSON-RPC code in `extensions.code`.
pub(crate) fn coded(code: i32, message: String) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code))
}

/// A read error as GraphQL reports it.
pub(crate) fn gql_err(e: ReadError) -> async_graphql::Error {
    coded(e.code, e.message)
}

impl<B: Backend> Gql<B> {
    /// Logs through `eth_getLogs` (its limits and codes).
    pub(crate) fn logs_rpc(&self, f: Filter) -> Result<Vec<alloy_rpc_types_eth::Log>> {
        self.rpc.eth.get_logs(f).map_err(|e| gql_err(e.into()))
    }

    pub(crate) fn logs(&self, f: Filter) -> Result<Vec<Log<B>>> {
        Ok(self
            .logs_rpc(f)?
            .into_iter()
            .map(|l| Log { x: self.clone(), l })
            .collect())
    }

    /// Account, call and estimate fields exist at the latest block only (no historical
    /// state), as in JSON-RPC.
    pub(crate) fn latest_only(&self, n: u64) -> Result<()> {
        let latest = self.backend.latest();
        if n == latest {
            return Ok(());
        }
        Err(coded(
            codes::NOT_FOUND,
            format!("historical state is not kept: only block {latest} (latest) can be queried"),
        ))
    }
}

/// Complexity weights of lists whose length the query does not bound: what such a list
/// typically holds (a block's transactions, a transaction's logs, a filter's logs).
pub(crate) const LIST_TXS: usize = 200;
pub(crate) const LIST_TX_LOGS: usize = 10;
pub(crate) const LIST_LOGS: usize = 1_000;

/// `blocks(from, to)` costs its block count times a block's complexity.
fn blocks_cost(from: Option<Long>, to: Option<Long>, child: usize) -> usize {
    let n = match (from, to) {
        (Some(f), Some(t)) => t.0.saturating_sub(f.0).saturating_add(1).min(MAX_BLOCKS),
        _ => MAX_BLOCKS,
    };
    (n as usize).saturating_mul(child)
}

/// The query root.
pub struct QueryRoot<B>(pub(crate) Gql<B>);

fn page_size(first: Option<i32>) -> Result<usize> {
    let first = first.unwrap_or(100);
    if first < 1 || first as usize > verai_storage::MAX_PAGE {
        return Err(coded(
            codes::LIMIT_EXCEEDED,
            format!("first must be in 1..={}", verai_storage::MAX_PAGE),
        ));
    }
    Ok(first as usize)
}

#[Object(name = "Query")]
impl<B: Backend> QueryRoot<B> {
    /// A block by number or by hash; the latest without either.
    async fn block(&self, number: Option<Long>, hash: Option<Bytes32>) -> Result<Option<Block<B>>> {
        let x = &self.0;
        match (number, hash) {
            (Some(_), Some(_)) => Err(coded(
                codes::INVALID_PARAMS,
                "only one of number or hash must be specified".into(),
            )),
            (Some(n), None) => x.block_at(n.0),
            (None, Some(h)) => match x.block_number(&h.0).map_err(gql_err)? {
                Some(n) => x.block_at(n),
                None => Ok(None),
            },
            (None, None) => x.block_at(x.head()),
        }
    }

    /// Blocks `from..=to` (`to` defaults to the latest), at most [`MAX_BLOCKS`].
    #[graphql(complexity = "blocks_cost(from, to, child_complexity)")]
    async fn blocks(&self, from: Option<Long>, to: Option<Long>) -> Result<Vec<Block<B>>> {
        let x = &self.0;
        let Some(from) = from else {
            return Err(coded(
                codes::INVALID_PARAMS,
                "from block number must be specified".into(),
            ));
        };
        let to = to.map_or(x.head(), |t| t.0.min(x.head()));
        if from.0 > to {
            return Ok(Vec::new());
        }
        if to - from.0 >= MAX_BLOCKS {
            return Err(coded(
                codes::LIMIT_EXCEEDED,
                format!("at most {MAX_BLOCKS} blocks per query"),
            ));
        }
        let mut out = Vec::new();
        for n in from.0..=to {
            match x.block_at(n)? {
                Some(b) => out.push(b),
                None => break,
            }
        }
        Ok(out)
    }

    /// The pool.
    async fn pending(&self) -> Pending<B> {
        Pending { x: self.0.clone() }
    }

    /// A transaction by hash (finalized, else pooled), `null` if unknown.
    async fn transaction(&self, hash: Bytes32) -> Result<Option<Transaction<B>>> {
        self.0.transaction(hash.0)
    }

    /// Logs matching a filter, with `eth_getLogs`'s limits (use `logsPage` for long lists).
    #[graphql(complexity = "LIST_LOGS * child_complexity")]
    async fn logs(&self, filter: FilterCriteria) -> Result<Vec<Log<B>>> {
        let x = &self.0;
        let option = FilterBlockOption::Range {
            from_block: Some(
                filter
                    .from_block
                    .map_or(BlockNumberOrTag::Latest, |b| BlockNumberOrTag::Number(b.0)),
            ),
            to_block: Some(
                filter
                    .to_block
                    .map_or(BlockNumberOrTag::Latest, |b| BlockNumberOrTag::Number(b.0)),
            ),
        };
        x.logs(eth::filter(option, &filter.addresses, &filter.topics))
    }

    /// The suggested gas price.
    async fn gas_price(&self) -> Result<BigInt> {
        self.0
            .rpc
            .eth
            .gas_price()
            .map(BigInt)
            .map_err(|e| gql_err(e.into()))
    }

    /// The suggested tip.
    async fn max_priority_fee_per_gas(&self) -> Result<BigInt> {
        self.0
            .rpc
            .eth
            .max_priority_fee_per_gas()
            .map(BigInt)
            .map_err(|e| gql_err(e.into()))
    }

    /// Always `null`: a node serves what it has finalized.
    async fn syncing(&self) -> Option<SyncState> {
        None
    }

    /// The EIP-155 chain id.
    #[graphql(name = "chainID")]
    async fn chain_id(&self) -> BigInt {
        BigInt(alloy_primitives::U256::from(self.0.backend.chain_id()))
    }

    // --- Verai ---

    /// Market listings in id order after `after`, filtered by kind (`access`, `per-call`,
    /// `service`), record, seller and whether they still sell.
    #[graphql(complexity = "first.unwrap_or(20).max(1) as usize * child_complexity")]
    #[allow(clippy::too_many_arguments)] // GraphQL arguments: the query's filters.
    async fn listings(
        &self,
        kind: Option<String>,
        record_id: Option<Long>,
        seller: Option<Address>,
        active: Option<bool>,
        first: Option<i32>,
        after: Option<Long>,
    ) -> Result<market::ListingPage> {
        let first = first.unwrap_or(20);
        if !(1..=verai_rpc::types::MAX_LISTINGS_PAGE as i32).contains(&first) {
            return Err(coded(
                codes::LIMIT_EXCEEDED,
                "first must be in 1..=100".into(),
            ));
        }
        self.0
            .listings(verai_rpc::types::ListingFilter {
                kind,
                record_id: record_id.map(|r| r.0),
                seller: seller.map(|s| s.0),
                active,
                after: after.map(|a| a.0),
                limit: Some(first as u64),
            })
            .await
    }

    /// A market listing.
    async fn listing(&self, id: Long) -> Result<Option<market::Listing>> {
        self.0.listing(id.0).await
    }

    /// What `account` has earned from royalties, per stack.
    #[graphql(complexity = "100 * child_complexity")]
    async fn earnings(&self, account: Address) -> Result<market::Earnings> {
        self.0.earnings(account.0).await
    }

    /// Licence grants held by `account` or on `recordId` (exactly one of the two).
    #[graphql(complexity = "100 * child_complexity")]
    async fn grants(
        &self,
        account: Option<Address>,
        record_id: Option<Long>,
    ) -> Result<Vec<market::Grant>> {
        self.0
            .grants(verai_rpc::types::GrantFilter {
                account: account.map(|a| a.0),
                record_id: record_id.map(|r| r.0),
            })
            .await
    }

    /// A record's royalty stack.
    #[graphql(complexity = "1_000 + child_complexity")]
    async fn royalty_stack(&self, record_id: Long) -> Result<Option<market::Stack>> {
        self.0.stack(record_id.0).await
    }

    /// A provenance record.
    async fn record(&self, id: Long) -> Result<Option<Record>> {
        let r = self
            .0
            .rpc
            .provenance
            .get_record(id.0)
            .await
            .map_err(|e| gql_err(e.into()))?;
        Ok(r.map(Record))
    }

    /// Ancestors (default) or descendants of a record, breadth first.
    #[graphql(complexity = "limit.unwrap_or(100).max(1) as usize * child_complexity")]
    async fn lineage(
        &self,
        id: Long,
        direction: Option<String>,
        depth: Option<i32>,
        limit: Option<i32>,
    ) -> Result<Lineage> {
        let limit = limit.unwrap_or(100);
        if !(1..=verai_rpc::types::MAX_WALK as i32).contains(&limit) {
            return Err(coded(codes::LIMIT_EXCEEDED, "limit out of range".into()));
        }
        self.0
            .lineage(
                id.0,
                direction,
                depth.map(|d| d.max(0) as u32),
                limit as usize,
            )
            .await
    }

    /// The latest inferences of a model, newest first.
    #[graphql(complexity = "first.unwrap_or(100).max(1) as usize * child_complexity")]
    async fn inferences(&self, model: Long, first: Option<i32>) -> Result<Vec<Inference>> {
        self.0.inferences(model.0, page_size(first)?)
    }

    /// Sentinel alerts, oldest first, concerning `address` when given.
    #[graphql(complexity = "first.unwrap_or(100).max(1) as usize * child_complexity")]
    async fn alerts(
        &self,
        address: Option<Address>,
        first: Option<i32>,
        after: Option<Long>,
    ) -> Result<AlertPage> {
        self.0
            .alerts(address, page_size(first)?, after.map(|a| a.0))
            .await
    }

    /// A keyset page of the logs matching `filter` (which names addresses or topics), in
    /// chain order; pass `nextCursor` as `after`.
    #[graphql(complexity = "first.unwrap_or(100).max(1) as usize * child_complexity")]
    async fn logs_page(
        &self,
        filter: FilterCriteria,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<LogPage<B>> {
        self.0
            .logs_page(&filter, page_size(first)?, after.as_deref())
    }

    /// A keyset page of the transactions touching `address`, newest first; pass
    /// `nextCursor` as `before`.
    #[graphql(complexity = "first.unwrap_or(100).max(1) as usize * child_complexity")]
    async fn account_transactions(
        &self,
        address: Address,
        first: Option<i32>,
        before: Option<String>,
    ) -> Result<TxPage<B>> {
        self.0
            .account_transactions(address, page_size(first)?, before.as_deref())
    }
}

/// The mutation root.
pub struct MutationRoot<B>(pub(crate) Gql<B>);

#[Object(name = "Mutation")]
impl<B: Backend> MutationRoot<B> {
    /// Submit a signed EIP-2718 transaction; its hash.
    async fn send_raw_transaction(&self, data: Bytes) -> Result<Bytes32> {
        self.0
            .rpc
            .eth
            .send_raw_transaction(data.0)
            .await
            .map(Bytes32)
            .map_err(|e| gql_err(e.into()))
    }
}

/// The schema over one explorer.
pub type VeraiSchema<B> = Schema<QueryRoot<B>, MutationRoot<B>, EmptySubscription>;

/// Build the schema, with its bounds.
pub fn schema<B: Backend>(x: Arc<Explorer<B>>) -> VeraiSchema<B> {
    Schema::build(
        QueryRoot(Gql(x.clone())),
        MutationRoot(Gql(x)),
        EmptySubscription,
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .finish()
}
