//! A follower's upstream validator, through the typed JSON-RPC client: certified blocks to
//! sync, blobs to fetch, and transactions (with their blobs) to forward.

use crate::{NodeError, chain::Chain, net::blobs::BlobFetchError};
use alloy_consensus::Transaction as _;
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::Bytes;
use jsonrpsee::http_client::HttpClient;
use std::sync::Arc;
use tracing::warn;
use verai_primitives::{Block, RecoveredTx};
use verai_provenance::{blob::BlobStore, refs::blob_refs};
use verai_rpc::{
    api::{DebugApiClient, EthApiClient, ProvenanceApiClient, VeraiApiClient},
    types::CertificateResponse,
};
use verai_storage::StateContext;

fn upstream_error(e: impl std::fmt::Display) -> NodeError {
    NodeError::Upstream(e.to_string())
}

/// The upstream's finalized height.
pub(crate) async fn height(c: &HttpClient) -> Result<u64, NodeError> {
    Ok(c.block_number().await.map_err(upstream_error)?.to())
}

/// A finalized block of the upstream, decoded (bounded), `None` if it has none there.
pub(crate) async fn block(c: &HttpClient, number: u64) -> Result<Option<Block>, NodeError> {
    let raw = c
        .get_raw_block(BlockNumberOrTag::Number(number))
        .await
        .map_err(upstream_error)?;
    raw.map(|r| Block::decode(&r).map_err(NodeError::from))
        .transpose()
}

/// The finalization certificate of block `number`, `None` if the upstream has none.
pub(crate) async fn certificate(
    c: &HttpClient,
    number: u64,
) -> Result<Option<CertificateResponse>, NodeError> {
    c.get_certificate(BlockNumberOrTag::Number(number))
        .await
        .map_err(upstream_error)
}

/// The blobs `tx` names that are missing here, from the upstream (checked against their
/// hash); refused when the upstream has not got one either.
pub(crate) async fn fetch_blobs(
    client: &HttpClient,
    store: &BlobStore,
    tx: &RecoveredTx,
) -> Result<(), String> {
    for hash in blob_refs(tx.envelope.to(), tx.envelope.input()) {
        if store.contains(&hash.0) {
            continue;
        }
        let got = client
            .get_blob(hash)
            .await
            .map_err(|e| format!("the upstream did not answer for blob {hash}: {e}"))?;
        let Some(bytes) = got else {
            return Err(BlobFetchError::Missing(hash).to_string());
        };
        store
            .put_expecting(&hash.0, &bytes[..])
            .map_err(|e| format!("blob {hash} from the upstream: {e}"))?;
    }
    Ok(())
}

/// Send the blobs a forwarded transaction names to the upstream (it admits the transaction
/// only with them).
async fn push_blobs(client: &HttpClient, store: &BlobStore, raw: &[u8]) {
    use alloy_eips::eip2718::Decodable2718 as _;
    let Ok(envelope) = alloy_consensus::TxEnvelope::decode_2718(&mut &raw[..]) else {
        return;
    };
    for hash in blob_refs(envelope.to(), envelope.input()) {
        let Ok(Some(bytes)) = store.get(&hash.0) else {
            continue;
        };
        if let Err(e) = client.put_blob(Bytes::from(bytes)).await {
            warn!(%e, %hash, "the upstream refused a blob");
        }
    }
}

/// Send transactions submitted here to the upstream, with their blobs.
pub(crate) async fn forward<E: StateContext>(
    chain: Arc<Chain<E>>,
    client: HttpClient,
    blobs: Arc<BlobStore>,
) {
    loop {
        chain.outbox_ready().notified().await;
        for tx in chain.take_outbox() {
            push_blobs(&client, &blobs, &tx).await;
            if let Err(e) = client.send_raw_transaction(tx).await {
                warn!(%e, "the upstream refused a forwarded transaction");
            }
        }
    }
}
