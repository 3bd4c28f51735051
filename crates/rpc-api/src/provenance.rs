//! The provenance queries of the `verai_` namespace and the blob store.

use crate::types::{BlobReceipt, Lineage, ListFilter, PrivateBlobRequest, RecordList, UsageLog};
use alloy_primitives::{B256, Bytes};
use jsonrpsee::{core::RpcResult, proc_macros::rpc};
use verai_provenance::RecordView;

/// Datasets, models, training runs and inferences, read from the registry's state (every
/// answer is what `verai_getProof` can prove); blobs beside it, by SHA-256.
#[rpc(server, client, namespace = "verai")]
pub trait ProvenanceApi {
    /// A provenance record by id, `null` if none.
    #[method(name = "getRecord")]
    async fn get_record(&self, id: u64) -> RpcResult<Option<RecordView>>;
    /// The record of a kind (`dataset`, `model`, `training-run`, `inference`) with a content
    /// hash, `null` if none (records are unique by kind and hash).
    #[method(name = "findRecord")]
    async fn find_record(&self, kind: String, content_hash: B256) -> RpcResult<Option<RecordView>>;
    /// Records by owner or kind (or all), in id order.
    #[method(name = "listRecords")]
    async fn list_records(&self, filter: Option<ListFilter>) -> RpcResult<RecordList>;
    /// Ancestors or descendants of a record, breadth first.
    #[method(name = "getLineage")]
    async fn get_lineage(
        &self,
        id: u64,
        direction: Option<String>,
        max_depth: Option<u32>,
        limit: Option<usize>,
    ) -> RpcResult<Lineage>;
    /// The usage log of a model.
    #[method(name = "getUsage")]
    async fn get_usage(
        &self,
        id: u64,
        offset: Option<u64>,
        limit: Option<u64>,
    ) -> RpcResult<UsageLog>;
    /// Store a blob (content-addressed by SHA-256) beside the node's storage. Without a
    /// token, bounded per client (bytes per hour, calls per minute).
    #[method(name = "putBlob", with_extensions)]
    async fn put_blob(&self, data: Bytes) -> RpcResult<BlobReceipt>;
    /// A stored blob, `null` if absent; a private blob is refused (see `getPrivateBlob`).
    #[method(name = "getBlob")]
    async fn get_blob(&self, hash: B256) -> RpcResult<Option<Bytes>>;
    /// Store a private blob: served only by `getPrivateBlob`, never to peers or followers.
    #[method(name = "putPrivateBlob", with_extensions)]
    async fn put_private_blob(&self, data: Bytes) -> RpcResult<BlobReceipt>;
    /// A private blob for a request signed by the owner or a current grantee of the
    /// record whose content it is (EIP-712 `BlobAccess`, see `verai_market::access`).
    #[method(name = "getPrivateBlob")]
    async fn get_private_blob(&self, request: PrivateBlobRequest) -> RpcResult<Bytes>;
}
