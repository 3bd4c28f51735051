//! The market queries of the `verai_` namespace, read from the finalized state of the
//! market's account (and the registry's, for licence terms and owners).
//!
//! Listing pages are keyset pages over the market's own id-ordered indexes (by record, by
//! seller, by kind): the cursor is found by binary search in the index, so page 1,000 costs
//! what page 1 does. Every answer is bounded ([`MAX_LISTINGS_PAGE`], [`MAX_EARNINGS_PAGE`],
//! a stack's 4,096 accounts).

use crate::{
    Backend,
    error::{LIMIT_EXCEEDED, err, invalid_params},
    provenance::module_err,
    slots::StateSlots,
};
use alloy_primitives::{Address, U256};
use jsonrpsee::core::RpcResult;
use std::sync::Arc;
use verai_market::{ADDRESS, Kind, layout, read, split};
use verai_provenance::{licence, read::Slots};
use verai_rpc_api::{
    MarketApiServer,
    types::{
        EarningsReport, GrantFilter, GrantView, ListingFilter, ListingPage, ListingView,
        MAX_EARNINGS_PAGE, MAX_LISTINGS_PAGE, MethodView, StackEarning, StackView, TermsView,
    },
};

/// Implementation over a [`Backend`].
pub struct MarketRpc<B> {
    pub(crate) backend: Arc<B>,
}

impl<B: Backend> MarketRpc<B> {
    fn market(&self) -> StateSlots {
        StateSlots::new(self.backend.state(), ADDRESS)
    }

    fn registry(&self) -> StateSlots {
        StateSlots::new(self.backend.state(), verai_provenance::ADDRESS)
    }

    /// The finalized head's timestamp: "now" for grants.
    fn now(&self) -> RpcResult<u64> {
        let head = self.backend.latest();
        Ok(self
            .backend
            .block(head)
            .map_err(|e| err(crate::error::INTERNAL, e.to_string()))?
            .map(|b| b.header.timestamp)
            .unwrap_or_default())
    }

    fn view(&self, m: &mut StateSlots, id: u64) -> RpcResult<Option<ListingView>> {
        let Some(l) = read::listing(m, id).map_err(module_err)? else {
            return Ok(None);
        };
        let terms = if l.termsHash.is_zero() {
            None
        } else {
            licence::terms(&mut self.registry(), l.termsHash)
                .map_err(module_err)?
                .map(|t| TermsView {
                    hash: l.termsHash,
                    spdx: t.spdx,
                    commercial_use: t.commercialUse,
                    derivatives: t.derivatives,
                    attribution: t.attribution,
                    duration: t.duration,
                    perpetual: t.perpetual,
                })
        };
        let rating = (!l.ratingWeight.is_zero()).then(|| {
            // For display only: the ratio of two integers as a float.
            f64::from(&l.ratingSum) / f64::from(&l.ratingWeight)
        });
        Ok(Some(ListingView {
            id,
            record_id: l.recordId,
            kind: Kind::from_u8(l.kind)
                .map(Kind::name)
                .unwrap_or("unknown")
                .into(),
            seller: l.seller,
            token: l.token,
            price: l.price,
            terms,
            endpoint: (!l.endpoint.is_empty()).then_some(l.endpoint),
            methods: l
                .methods
                .into_iter()
                .map(|m| MethodView {
                    name: m.name,
                    price: m.price,
                    free_calls: m.freeCalls,
                })
                .collect(),
            active: l.active,
            created_at: l.createdAt,
            sales: l.sales,
            revenue: l.revenue,
            rating,
            rating_weight: l.ratingWeight,
        }))
    }
}

/// The position in the id-ordered list at `base` of the first id above `after`.
fn seek(s: &mut StateSlots, base: U256, n: u64, after: u64) -> RpcResult<u64> {
    let (mut lo, mut hi) = (0u64, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let id = read::get_u64(s, base + U256::from(mid + 1)).map_err(module_err)?;
        if id <= after {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
}

#[jsonrpsee::core::async_trait]
impl<B: Backend> MarketApiServer for MarketRpc<B> {
    async fn list_listings(&self, filter: Option<ListingFilter>) -> RpcResult<ListingPage> {
        let f = filter.unwrap_or_default();
        let limit = f.limit.unwrap_or(20);
        if limit > MAX_LISTINGS_PAGE {
            return Err(err(
                LIMIT_EXCEEDED,
                format!("limit {limit} exceeds {MAX_LISTINGS_PAGE}"),
            ));
        }
        let kind = f
            .kind
            .as_deref()
            .map(|k| {
                Kind::parse(k).ok_or_else(|| {
                    invalid_params(format!("unknown kind {k:?} (access, per-call, service)"))
                })
            })
            .transpose()?;
        let after = f.after.unwrap_or(0);
        let mut m = self.market();
        // The most selective index, then the other filters on each listing's head.
        let base = match (f.record_id, f.seller, kind) {
            (Some(r), _, _) => Some(layout::by_record(r)),
            (None, Some(s), _) => Some(layout::by_seller(s)),
            (None, None, Some(k)) => Some(layout::by_kind(k as u8)),
            (None, None, None) => None,
        };
        let (n, mut pos) = match base {
            Some(b) => {
                let n = read::get_u64(&mut m, b).map_err(module_err)?;
                (n, seek(&mut m, b, n, after)?)
            }
            None => {
                let n = read::listing_count(&mut m).map_err(module_err)?;
                (n, after.min(n))
            }
        };
        let mut listings = Vec::new();
        let mut last = None;
        while pos < n && (listings.len() as u64) < limit {
            let id = match base {
                Some(b) => read::get_u64(&mut m, b + U256::from(pos + 1)).map_err(module_err)?,
                None => pos + 1,
            };
            pos += 1;
            last = Some(id);
            let Some(h) = read::head(&mut m, id).map_err(module_err)? else {
                continue;
            };
            let keep = f.record_id.is_none_or(|r| h.record == r)
                && kind.is_none_or(|k| h.kind == k as u8)
                && f.active.is_none_or(|a| h.active == a);
            if !keep {
                continue;
            }
            let Some(v) = self.view(&mut m, id)? else {
                continue;
            };
            if f.seller.is_some_and(|s| v.seller != s) {
                continue;
            }
            listings.push(v);
        }
        Ok(ListingPage {
            listings,
            next_cursor: if pos < n { last } else { None },
        })
    }

    async fn get_listing(&self, id: u64) -> RpcResult<Option<ListingView>> {
        self.view(&mut self.market(), id)
    }

    async fn get_earnings(
        &self,
        account: Address,
        token: Option<Address>,
        offset: Option<u64>,
        limit: Option<u64>,
    ) -> RpcResult<EarningsReport> {
        let limit = limit.unwrap_or(MAX_EARNINGS_PAGE);
        if limit > MAX_EARNINGS_PAGE {
            return Err(err(
                LIMIT_EXCEEDED,
                format!("limit {limit} exceeds {MAX_EARNINGS_PAGE}"),
            ));
        }
        let token = token.unwrap_or_default();
        let block_number = self.backend.latest();
        let mut m = self.market();
        let (total, rows) = read::earnings(&mut m, account, token, offset.unwrap_or(0), limit)
            .map_err(module_err)?;
        let mut stacks = Vec::with_capacity(rows.len());
        for e in rows {
            let stack = read::stack(&mut m, e.stack).map_err(module_err)?;
            let credited = stack
                .iter()
                .position(|p| p.0 == account)
                .map(|i| split::credited(e.revenue, &stack)[i])
                .unwrap_or(e.entitled);
            stacks.push(StackEarning {
                stack_id: e.stack,
                record_id: e.record,
                weight: U256::from(e.weight),
                revenue: e.revenue,
                entitled: e.entitled,
                claimed: e.claimed,
                claimable: e.claimable(),
                credited,
            });
        }
        Ok(EarningsReport {
            account,
            token,
            block_number,
            total_stacks: total,
            claimable: stacks.iter().map(|s| s.claimable).sum(),
            claimed: stacks.iter().map(|s| s.claimed).sum(),
            credited: stacks.iter().map(|s| s.credited).sum(),
            stacks,
        })
    }

    async fn get_grants(&self, filter: GrantFilter) -> RpcResult<Vec<GrantView>> {
        let mut m = self.market();
        let pairs: Vec<(u64, Address)> = match (filter.account, filter.record_id) {
            (Some(a), None) => {
                let (_, records) = read::list(&mut m, layout::grants_of(a), 0, MAX_LISTINGS_PAGE)
                    .map_err(module_err)?;
                records.into_iter().map(|r| (r, a)).collect()
            }
            (None, Some(r)) => {
                let base = layout::grantees(r);
                let n = read::get_u64(&mut m, base).map_err(module_err)?;
                let mut out = Vec::new();
                for i in 0..n.min(MAX_LISTINGS_PAGE) {
                    let w = m.slot(base + U256::from(i + 1)).map_err(module_err)?;
                    out.push((r, layout::to_address(w)));
                }
                out
            }
            _ => return Err(invalid_params("give exactly one of account and recordId")),
        };
        let now = self.now()?;
        let mut out = Vec::with_capacity(pairs.len());
        for (record, account) in pairs {
            let g = read::grant(&mut m, record, account).map_err(module_err)?;
            out.push(GrantView {
                record_id: record,
                account,
                listing_id: g.listingId,
                terms_hash: g.termsHash,
                expiry: (g.expiry != read::PERPETUAL).then_some(g.expiry),
                valid: read::grant_valid(&g, now),
            });
        }
        Ok(out)
    }

    async fn get_stack(&self, record: u64) -> RpcResult<Option<StackView>> {
        let mut m = self.market();
        let id = read::stack_of(&mut m, record).map_err(module_err)?;
        if id == 0 {
            return Ok(None);
        }
        let p = read::policy(&mut m, record).map_err(module_err)?;
        let shares = read::stack(&mut m, id)
            .map_err(module_err)?
            .into_iter()
            .map(|(a, w)| (a, U256::from(w)))
            .collect();
        Ok(Some(StackView {
            stack_id: id,
            record_id: record,
            owner_bps: p.owner_bps,
            upstream_bps: p.upstream_bps,
            all_ancestors: p.all_ancestors,
            shares,
            revenue: read::revenue(&mut m, id, Address::ZERO).map_err(module_err)?,
        }))
    }
}
