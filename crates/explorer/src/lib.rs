//! The block explorer and GraphQL API a Verai node serves.
//!
//! - HTML pages rendered on the server (askama templates, SVG charts and lineage graphs),
//!   working without JavaScript; a small script only refreshes the home page when a block
//!   is finalized. Pages: home, block (with its finality certificate checked against the
//!   validator set), transaction (decoded input and logs), address (balance, tokens,
//!   transactions, code with its audit report), provenance records with their lineage,
//!   models with their inference history, the sentinel's alerts and holds; a search box for
//!   block numbers, hashes, addresses and record ids.
//! - GraphQL at `/graphql` ([`graphql`]): EIP-1767 plus Verai's records, keyset pages.
//!
//! Everything is read through the JSON-RPC handlers (`verai_rpc::Handlers`) and the node's
//! index, over finalized blocks only: a page never shows what JSON-RPC would not.

mod charts;
mod data;
mod decode;
mod graph;
pub mod graphql;
mod pages;

pub use data::{Explorer, ReadError};
pub use decode::{Decoded, Decoder, Source};

use async_graphql_axum::GraphQL;
use axum::{Router, extract::DefaultBodyLimit, response::Html, routing::get};
use std::{net::SocketAddr, sync::Arc};
use tracing::warn;
use verai_consensus::PublicKey;
use verai_rpc::{Backend, Handlers};

/// Where the explorer listens and what it checks certificates against.
#[derive(Debug, Clone)]
pub struct ExplorerConfig {
    /// Listen address.
    pub addr: SocketAddr,
    /// The validator set of the chain (finality badges verify certificates against it).
    pub validators: Vec<PublicKey>,
}

/// Largest GraphQL request body (bytes).
pub const MAX_GRAPHQL_BYTES: usize = 1 << 20;

/// The explorer's routes over `explorer`.
pub fn router<B: Backend>(explorer: Arc<Explorer<B>>) -> Router {
    let schema = graphql::schema(explorer.clone());
    Router::new()
        .route("/", get(pages::home::<B>))
        .route("/block/{id}", get(pages::block::<B>))
        .route("/tx/{hash}", get(pages::tx::<B>))
        .route("/address/{address}", get(pages::address::<B>))
        .route("/record/{id}", get(pages::record::<B>))
        .route("/records", get(pages::records::<B>))
        .route("/model/{id}", get(pages::model::<B>))
        .route("/sentinel", get(pages::sentinel::<B>))
        .route("/market", get(pages::market::<B>))
        .route("/listing/{id}", get(pages::listing::<B>))
        .route("/search", get(pages::search::<B>))
        .route("/api/head", get(pages::head::<B>))
        .route("/static/live.js", get(pages::live_js))
        .route(
            "/graphql",
            get(graphql_page)
                .post_service(GraphQL::new(schema))
                .layer(DefaultBodyLimit::max(MAX_GRAPHQL_BYTES)),
        )
        .fallback(pages::fallback)
        .with_state(explorer)
}

/// A page about the GraphQL endpoint (queries are POSTed).
async fn graphql_page() -> Html<&'static str> {
    Html(include_str!("../templates/graphql.html"))
}

/// The explorer over `backend`, with the RPC handlers it reads through.
pub fn explorer<B: Backend>(backend: Arc<B>, validators: Vec<PublicKey>) -> Arc<Explorer<B>> {
    Arc::new(Explorer {
        rpc: Handlers::new(
            backend.clone(),
            format!("verai/v{}", env!("CARGO_PKG_VERSION")),
        ),
        backend,
        validators,
        decoder: Decoder::new(),
    })
}

/// Start serving on `config.addr` (in the current tokio runtime); returns the address bound.
pub async fn start<B: Backend>(
    config: ExplorerConfig,
    backend: Arc<B>,
) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    let app = router(explorer(backend, config.validators));
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            warn!(%e, "the explorer stopped");
        }
    });
    Ok(addr)
}
