//! The provenance queries of the `verai_` namespace, read from the finalized state of the
//! registry's account (no separate index: every answer is what `verai_getProof` can prove),
//! and the blob store (`verai_putBlob`, `verai_getBlob`, and their private forms); blob
//! writes count against the caller's quota (see [`crate::access`]).
//!
//! Every list and walk is bounded ([`MAX_LIST`], [`MAX_WALK`]).

use crate::{
    Backend,
    access::{Caller, WriteQuotas},
    error::{INTERNAL, INVALID_INPUT, LIMIT_EXCEEDED, NOT_FOUND, err, invalid_params},
    slots::StateSlots,
};
use alloy_primitives::{B256, Bytes};
use http::Extensions;
use jsonrpsee::{core::RpcResult, types::ErrorObjectOwned};
use std::sync::Arc;
use verai_primitives::ModuleError;
use verai_provenance::{
    ADDRESS, Kind, RecordView, UsageView,
    blob::BlobError,
    layout,
    read::{self, Direction},
};
use verai_rpc_api::{
    ProvenanceApiServer,
    types::{
        BlobReceipt, Lineage, ListFilter, MAX_LIST, MAX_WALK, PrivateBlobRequest, RecordList,
        UsageLog,
    },
};

/// Implementation over a [`Backend`].
pub struct ProvenanceRpc<B> {
    pub(crate) backend: Arc<B>,
    /// Node-local write limits of callers without a token.
    pub(crate) quotas: Arc<WriteQuotas>,
}

/// The caller of a request (a local call with no server in between counts as local).
fn caller(ext: &Extensions) -> Caller {
    ext.get::<Caller>().copied().unwrap_or(Caller {
        addr: std::net::IpAddr::from([127, 0, 0, 1]),
        authenticated: false,
    })
}

impl<B: Backend> ProvenanceRpc<B> {
    /// Store `data` (privately or not) for `caller`, within its quota.
    async fn put(&self, ext: &Extensions, data: Bytes, private: bool) -> RpcResult<BlobReceipt> {
        let Some(store) = self.backend.blobs() else {
            return Err(err(NOT_FOUND, "this node keeps no blob store"));
        };
        let who = caller(ext);
        let size = data.len() as u64;
        self.quotas
            .charge(who, size, std::time::Instant::now())
            .map_err(|e| err(LIMIT_EXCEEDED, e.to_string()))?;
        // File I/O off the async workers.
        let result = tokio::task::spawn_blocking(move || {
            if private {
                store.put_private(&data[..])
            } else {
                store.put(&data[..])
            }
        })
        .await
        .map_err(|e| err(INTERNAL, e.to_string()))?;
        match result {
            Ok((hash, size)) => Ok(BlobReceipt {
                hash: hash.into(),
                size,
            }),
            Err(e) => {
                self.quotas.refund(who, size);
                Err(match e {
                    BlobError::TooLarge { .. }
                    | BlobError::Empty
                    | BlobError::Private
                    | BlobError::AlreadyPublic => invalid_params(e.to_string()),
                    BlobError::Full { .. } => err(LIMIT_EXCEEDED, e.to_string()),
                    e => err(INTERNAL, e.to_string()),
                })
            }
        }
    }
}

fn slots<B: Backend>(backend: &B) -> StateSlots {
    StateSlots::new(backend.state(), ADDRESS)
}

pub(crate) fn module_err(e: ModuleError) -> ErrorObjectOwned {
    err(INTERNAL, format!("provenance state: {e}"))
}

fn record(s: &mut StateSlots, id: u64) -> RpcResult<Option<RecordView>> {
    Ok(read::record(s, id)
        .map_err(module_err)?
        .map(RecordView::from))
}

fn limit(l: Option<u64>) -> RpcResult<u64> {
    match l {
        None => Ok(100),
        Some(l) if l <= MAX_LIST => Ok(l),
        Some(l) => Err(err(LIMIT_EXCEEDED, format!("limit {l} exceeds {MAX_LIST}"))),
    }
}

#[jsonrpsee::core::async_trait]
impl<B: Backend> ProvenanceApiServer for ProvenanceRpc<B> {
    async fn get_record(&self, id: u64) -> RpcResult<Option<RecordView>> {
        record(&mut slots(&*self.backend), id)
    }

    async fn find_record(&self, kind: String, content_hash: B256) -> RpcResult<Option<RecordView>> {
        let kind = Kind::parse(&kind).ok_or_else(|| {
            invalid_params(format!(
                "unknown kind {kind:?} (dataset, model, training-run, inference)"
            ))
        })?;
        let mut s = slots(&*self.backend);
        let id =
            read::get_u64(&mut s, layout::by_hash(kind as u8, content_hash)).map_err(module_err)?;
        if id == 0 {
            return Ok(None);
        }
        record(&mut s, id)
    }

    async fn list_records(&self, filter: Option<ListFilter>) -> RpcResult<RecordList> {
        let f = filter.unwrap_or_default();
        let (offset, limit) = (f.offset.unwrap_or(0), limit(f.limit)?);
        let mut s = slots(&*self.backend);
        let (total, ids) = match (f.owner, f.kind.as_deref()) {
            (Some(_), Some(_)) => {
                return Err(invalid_params("filter by owner or by kind, not both"));
            }
            (Some(owner), None) => read::owned_by(&mut s, owner, offset, limit),
            (None, Some(k)) => {
                let kind = Kind::parse(k).ok_or_else(|| {
                    invalid_params(format!(
                        "unknown kind {k:?} (dataset, model, training-run, inference)"
                    ))
                })?;
                read::list(&mut s, layout::by_kind(kind as u8), offset, limit)
            }
            (None, None) => read::count(&mut s).map(|n| {
                let end = n.min(offset.saturating_add(limit));
                (n, (offset + 1..=end).collect())
            }),
        }
        .map_err(module_err)?;
        let mut records = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(r) = record(&mut s, id)? {
                records.push(r);
            }
        }
        Ok(RecordList { total, records })
    }

    async fn get_lineage(
        &self,
        id: u64,
        direction: Option<String>,
        max_depth: Option<u32>,
        limit: Option<usize>,
    ) -> RpcResult<Lineage> {
        let dir = match direction.as_deref().unwrap_or("ancestors") {
            "ancestors" => Direction::Ancestors,
            "descendants" => Direction::Descendants,
            d => {
                return Err(invalid_params(format!(
                    "direction must be ancestors or descendants, not {d:?}"
                )));
            }
        };
        let limit = limit.unwrap_or(1000);
        if limit > MAX_WALK {
            return Err(err(
                LIMIT_EXCEEDED,
                format!("limit {limit} exceeds {MAX_WALK}"),
            ));
        }
        let mut s = slots(&*self.backend);
        let Some(root) = record(&mut s, id)? else {
            return Err(err(NOT_FOUND, format!("no record {id}")));
        };
        let base = match dir {
            Direction::Ancestors => layout::up(id),
            Direction::Descendants => layout::down(id),
        };
        let (_, edges) = read::list(&mut s, base, 0, u64::MAX).map_err(module_err)?;
        let (nodes, truncated) = read::walk(&mut s, id, dir, max_depth.unwrap_or(u32::MAX), limit)
            .map_err(module_err)?;
        Ok(Lineage {
            root,
            direction: match dir {
                Direction::Ancestors => "ancestors",
                Direction::Descendants => "descendants",
            }
            .into(),
            nodes,
            edges,
            truncated,
        })
    }

    async fn get_usage(
        &self,
        id: u64,
        offset: Option<u64>,
        limit: Option<u64>,
    ) -> RpcResult<UsageLog> {
        let (offset, limit) = (offset.unwrap_or(0), self::limit(limit)?);
        let mut s = slots(&*self.backend);
        if !read::exists(&mut s, id).map_err(module_err)? {
            return Err(err(NOT_FOUND, format!("no record {id}")));
        }
        let count = read::get_u64(&mut s, layout::usage(id)).map_err(module_err)?;
        let mut entries = Vec::new();
        for i in offset..count.min(offset.saturating_add(limit)) {
            if let Some(u) = read::usage_at(&mut s, id, i).map_err(module_err)? {
                entries.push(UsageView::new(i, u));
            }
        }
        Ok(UsageLog { count, entries })
    }

    async fn put_blob(&self, ext: &Extensions, data: Bytes) -> RpcResult<BlobReceipt> {
        self.put(ext, data, false).await
    }

    async fn get_blob(&self, hash: B256) -> RpcResult<Option<Bytes>> {
        let Some(store) = self.backend.blobs() else {
            return Ok(None);
        };
        let got = tokio::task::spawn_blocking(move || {
            if store.is_private(&hash.0) {
                return Err(None);
            }
            store.get(&hash.0).map_err(Some)
        })
        .await
        .map_err(|e| err(INTERNAL, e.to_string()))?;
        match got {
            Ok(b) => Ok(b.map(Bytes::from)),
            Err(None) => Err(err(
                NOT_FOUND,
                format!(
                    "blob {hash} is private: ask verai_getPrivateBlob with a request signed by the owner or a current grantee of its record"
                ),
            )),
            Err(Some(e)) => Err(err(INTERNAL, e.to_string())),
        }
    }

    async fn put_private_blob(&self, ext: &Extensions, data: Bytes) -> RpcResult<BlobReceipt> {
        self.put(ext, data, true).await
    }

    async fn get_private_blob(&self, r: PrivateBlobRequest) -> RpcResult<Bytes> {
        let Some(store) = self.backend.blobs() else {
            return Err(err(NOT_FOUND, "this node keeps no blob store"));
        };
        // Grants expire by the chain's clock; an idle chain's head may lag the wall clock,
        // so the later of the two decides.
        let head = self.backend.latest();
        let head_time = self
            .backend
            .block(head)?
            .map(|b| b.header.timestamp)
            .unwrap_or_default();
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let req = verai_market::access::BlobAccess {
            blob: r.hash,
            recordId: r.record_id,
            signedAt: r.signed_at,
        };
        let state = self.backend.state();
        verai_market::access::check(
            &mut StateSlots::new(state.clone(), ADDRESS),
            &mut StateSlots::new(state, verai_market::ADDRESS),
            &req,
            &r.signature,
            self.backend.chain_id(),
            wall.max(head_time),
        )
        .map_err(|e| match e {
            verai_market::access::AccessError::State(e) => module_err(e),
            other => err(INVALID_INPUT, other.to_string()),
        })?;
        let got = tokio::task::spawn_blocking(move || store.get_private(&r.hash.0))
            .await
            .map_err(|e| err(INTERNAL, e.to_string()))?
            .map_err(|e| err(INTERNAL, e.to_string()))?;
        got.map(Bytes::from).ok_or_else(|| {
            err(
                NOT_FOUND,
                format!("this node keeps no private blob {}", r.hash),
            )
        })
    }
}
