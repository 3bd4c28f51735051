//! The HTML pages: server-rendered (askama templates), each a read through the
//! [`Explorer`] and a template. Unknown ids and malformed input get a page that says what
//! was not found and how to search, with status 404 or 400; nothing panics on input.

mod ai;
mod chain;
mod market;

use crate::data::{Explorer, ReadError};
use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use std::sync::Arc;
use verai_rpc::Backend;

pub(crate) use ai::{model, record, records, sentinel};
pub(crate) use chain::{address, block, home, tx};
pub(crate) use market::{listing, market};

/// Shared state of the handlers.
pub(crate) type Ctx<B> = State<Arc<Explorer<B>>>;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
}

/// A page that says what went wrong.
pub(crate) fn error(status: StatusCode, title: &str, message: &str) -> Response {
    let page = ErrorPage { title, message };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, message.to_string()).into_response(),
    }
}

/// Not found, with what was looked for.
pub(crate) fn not_found(what: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "Not found",
        &format!("{what} is not known to this node."),
    )
}

/// Malformed input, with what is expected.
pub(crate) fn bad_input(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "Not understood", message)
}

/// A storage or RPC failure.
pub(crate) fn failed(e: ReadError) -> Response {
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Could not read",
        &format!("{} (code {})", e.message, e.code),
    )
}

/// Render a template, or say why not.
pub(crate) fn render(t: impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Could not render",
            &e.to_string(),
        ),
    }
}

#[derive(Deserialize)]
pub(crate) struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// Where a search string leads: a block number, `r<id>` or `record <id>`, a 32-byte hash
/// (a transaction, else a block), an address.
pub(crate) async fn search<B: Backend>(
    State(x): Ctx<B>,
    Query(SearchQuery { q }): Query<SearchQuery>,
) -> Response {
    let q = q.trim();
    if q.len() > 200 {
        return bad_input("That search is too long: search for one id, hash or address.");
    }
    if let Ok(n) = q.parse::<u64>() {
        return Redirect::to(&format!("/block/{n}")).into_response();
    }
    let lower = q.to_ascii_lowercase();
    for prefix in ["record ", "record", "r"] {
        if let Some(id) = lower
            .strip_prefix(prefix)
            .and_then(|r| r.trim().parse::<u64>().ok())
        {
            return Redirect::to(&format!("/record/{id}")).into_response();
        }
    }
    if let Ok(h) = q.parse::<alloy_primitives::B256>() {
        return match x.rpc_tx_known(&h) {
            Ok(true) => Redirect::to(&format!("/tx/{h}")).into_response(),
            Ok(false) => match x.block_number(&h) {
                Ok(Some(n)) => Redirect::to(&format!("/block/{n}")).into_response(),
                Ok(None) => not_found(&format!("Hash {h}")),
                Err(e) => failed(e),
            },
            Err(e) => failed(e),
        };
    }
    if let Ok(a) = q.parse::<alloy_primitives::Address>() {
        return Redirect::to(&format!("/address/{a}")).into_response();
    }
    bad_input(&format!(
        "{q:?} is not a block number, hash, address or record id."
    ))
}

/// `{"number": N, "hash": H}` of the head, for the live updates of the home page.
pub(crate) async fn head<B: Backend>(State(x): Ctx<B>) -> Response {
    let n = x.head();
    let hash = x
        .block(n)
        .ok()
        .flatten()
        .map(|b| b.header.hash)
        .unwrap_or_default();
    axum::Json(serde_json::json!({ "number": n, "hash": hash })).into_response()
}

/// The live-update script.
pub(crate) async fn live_js() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "text/javascript")],
        include_str!("../../static/live.js"),
    )
        .into_response()
}

/// Anything else.
pub(crate) async fn fallback() -> Response {
    not_found("That page")
}

impl<B: Backend> Explorer<B> {
    /// Whether a finalized transaction has this hash.
    pub(crate) fn rpc_tx_known(&self, h: &alloy_primitives::B256) -> Result<bool, ReadError> {
        Ok(self.backend.tx_location(h)?.is_some())
    }
}
