//! The market's pages: listings (keyset pages, filter by kind), one listing with its
//! record's royalty stack and its latest payments, and an account's earnings.

use super::{Ctx, bad_input, failed, not_found, render};
use crate::data::vai;
use alloy_primitives::{Address, U256};
use alloy_rpc_types_eth::Filter;
use alloy_sol_types::SolEvent;
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    response::Response,
};
use serde::Deserialize;
use verai_market::{ADDRESS as MARKET, IMarket, split::WEIGHT};
use verai_rpc::{
    Backend,
    api::{EthApiServer, MarketApiServer},
    types::{ListingFilter, ListingView},
};

/// (id, kind, record, price, sales, revenue, rating, active)
type Row = (u64, String, u64, String, u64, String, String, bool);

#[derive(Template)]
#[template(path = "market.html")]
struct MarketPage {
    kind: String,
    rows: Vec<Row>,
    next: Option<u64>,
}

#[derive(Deserialize)]
pub(crate) struct MarketQuery {
    kind: Option<String>,
    after: Option<u64>,
}

fn row(l: &ListingView) -> Row {
    (
        l.id,
        l.kind.clone(),
        l.record_id,
        vai(l.price),
        l.sales,
        vai(l.revenue),
        l.rating.map_or("-".into(), |r| format!("{r:.2}")),
        l.active,
    )
}

pub(crate) async fn market<B: Backend>(State(x): Ctx<B>, Query(q): Query<MarketQuery>) -> Response {
    let kind = q.kind.filter(|k| !k.is_empty());
    let filter = ListingFilter {
        kind: kind.clone(),
        after: q.after,
        limit: Some(50),
        ..Default::default()
    };
    let page = match x.rpc.market.list_listings(Some(filter)).await {
        Ok(p) => p,
        Err(e) if e.code() == verai_rpc::api::codes::INVALID_PARAMS => {
            return bad_input(e.message());
        }
        Err(e) => return failed(e.into()),
    };
    render(MarketPage {
        kind: kind.unwrap_or_default(),
        rows: page.listings.iter().map(row).collect(),
        next: page.next_cursor,
    })
}

#[derive(Template)]
#[template(path = "listing.html")]
struct ListingPage {
    l: ListingView,
    price: String,
    revenue: String,
    terms: String,
    /// (account, share %, claimable now in this stack)
    shares: Vec<(Address, String)>,
    stack: Option<(u64, u16, u16, bool, String)>,
    /// (block, payer, amount, kind)
    payments: Vec<(u64, Address, String, &'static str)>,
}

fn payment_kind(k: u8) -> &'static str {
    match k {
        0 => "licence",
        1 => "inference fee",
        2 => "service",
        _ => "direct",
    }
}

pub(crate) async fn listing<B: Backend>(State(x): Ctx<B>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<u64>() else {
        return bad_input(&format!("{id:?} is not a listing id."));
    };
    let m = &x.rpc.market;
    let l = match m.get_listing(id).await {
        Ok(Some(l)) => l,
        Ok(None) => return not_found(&format!("Listing {id}")),
        Err(e) => return failed(e.into()),
    };
    let stack = match m.get_stack(l.record_id).await {
        Ok(s) => s,
        Err(e) => return failed(e.into()),
    };
    let shares = stack
        .as_ref()
        .map(|s| {
            s.shares
                .iter()
                .map(|(a, w)| {
                    let pct = f64::from(w) / (WEIGHT as f64) * 100.0;
                    (*a, format!("{pct:.4} %"))
                })
                .collect()
        })
        .unwrap_or_default();
    // The record's latest payments: `Paid` logs with its id as first topic.
    let filter = Filter::new()
        .address(MARKET)
        .event_signature(IMarket::Paid::SIGNATURE_HASH)
        .topic1(U256::from(l.record_id))
        .from_block(0u64);
    let payments = match x.rpc.eth.get_logs(filter) {
        Ok(logs) => logs
            .iter()
            .rev()
            .take(50)
            .filter_map(|log| {
                let p = IMarket::Paid::decode_log_data(log.data()).ok()?;
                Some((
                    log.block_number.unwrap_or_default(),
                    p.payer,
                    vai(p.amount),
                    payment_kind(p.kind),
                ))
            })
            .collect(),
        // Too many to list (the log limit): show none rather than fail the page.
        Err(_) => vec![],
    };
    let terms = l
        .terms
        .as_ref()
        .map(|t| {
            format!(
                "{} · commercial use {} · derivatives {} · attribution {} · {}",
                t.spdx,
                if t.commercial_use { "yes" } else { "no" },
                if t.derivatives { "yes" } else { "no" },
                if t.attribution {
                    "required"
                } else {
                    "not required"
                },
                if t.perpetual {
                    "perpetual".to_string()
                } else {
                    format!("{} s per purchase", t.duration)
                }
            )
        })
        .unwrap_or_default();
    render(ListingPage {
        price: vai(l.price),
        revenue: vai(l.revenue),
        terms,
        shares,
        stack: stack.map(|s| {
            (
                s.stack_id,
                s.owner_bps,
                s.upstream_bps,
                s.all_ancestors,
                vai(s.revenue),
            )
        }),
        payments,
        l,
    })
}
