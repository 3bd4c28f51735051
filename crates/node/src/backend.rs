//! The RPC backend over the chain state.

use crate::{
    NodeError,
    chain::Chain,
    launch::upstream,
    services::sentinel::{AlertQuery, NodeSentinel, query},
};
use alloy_primitives::{Address, B256, Bytes};
use std::sync::Arc;
use tokio::sync::broadcast;
use verai_consensus::ConsensusHandle;
use verai_execution::{BlockParams, ModuleSet, StateReader, rules::child_params};
use verai_mempool::PoolError;
use verai_primitives::{Block, RecoveredTx, StateKey, StoredReceipt};
use verai_rpc::{
    Backend, BackendError, ProofKey,
    types::{
        AlertFilter, AlertPage, AuditDoc, DEFAULT_ALERTS_PAGE, HeldTx, ProofResponse,
        SentinelStatus, StorageProofEntry,
    },
};
use verai_storage::{LogLocation, LogQuery, StateContext, StorageError};

/// What RPC reads: the chain plus the consensus engine's certificate store (`None` on a
/// follower, which keeps verified certificates in its index).
pub(crate) struct NodeBackend<E: StateContext> {
    pub(crate) chain: Arc<Chain<E>>,
    pub(crate) consensus: Option<ConsensusHandle>,
    pub(crate) blobs: Arc<verai_provenance::blob::BlobStore>,
    /// A follower's upstream validator (blobs come from it); `None` on a validator.
    pub(crate) upstream: Option<jsonrpsee::http_client::HttpClient>,
    /// The sentinel, when this node runs it.
    pub(crate) sentinel: Option<Arc<NodeSentinel>>,
}

fn internal(e: impl std::fmt::Display) -> BackendError {
    BackendError::Internal(e.to_string())
}

impl From<NodeError> for BackendError {
    fn from(e: NodeError) -> Self {
        internal(e)
    }
}

impl<E: StateContext> NodeBackend<E> {
    fn sentinel(&self) -> Result<&Arc<NodeSentinel>, BackendError> {
        self.sentinel.as_ref().ok_or_else(verai_rpc::sentinel_off)
    }
}

impl<E: StateContext> Backend for NodeBackend<E> {
    fn alerts(&self, f: &AlertFilter) -> Result<AlertPage, BackendError> {
        self.sentinel()?;
        let q = AlertQuery {
            address: f.address,
            from_block: f.from_block,
            to_block: f.to_block,
            from_time: f.from_time,
            to_time: f.to_time,
            after: f.cursor.unwrap_or(0),
            limit: f.limit.unwrap_or(DEFAULT_ALERTS_PAGE),
        };
        let (alerts, next_cursor) = query(&self.chain, &q)?;
        Ok(AlertPage {
            alerts,
            next_cursor,
        })
    }

    fn subscribe_alerts(&self) -> Option<broadcast::Receiver<serde_json::Value>> {
        self.sentinel.as_ref().map(|s| s.subscribe())
    }

    fn held(&self) -> Result<Vec<HeldTx>, BackendError> {
        self.sentinel()?;
        Ok(self
            .chain
            .pool()
            .held()
            .into_iter()
            .map(|(hash, until)| HeldTx { hash, until })
            .collect())
    }

    fn release_held(&self, tx: B256, drop: bool, signature: &Bytes) -> Result<bool, BackendError> {
        self.sentinel()?
            .release(&self.chain, tx, drop, signature)
            .map_err(|e| BackendError::Refused(e.to_string()))
    }

    fn sentinel_status(&self) -> Result<SentinelStatus, BackendError> {
        Ok(self.sentinel()?.status())
    }

    fn audit(&self, address: &Address) -> Result<Option<AuditDoc>, BackendError> {
        let Some(bytes) = self.chain.index().audit(address).map_err(internal)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes).map(Some).map_err(internal)
    }

    fn blobs(&self) -> Option<Arc<verai_provenance::blob::BlobStore>> {
        Some(self.blobs.clone())
    }

    fn chain_id(&self) -> u64 {
        self.chain.spec().chain_id
    }

    fn latest(&self) -> u64 {
        self.chain.latest()
    }

    fn block(&self, number: u64) -> Result<Option<Arc<Block>>, BackendError> {
        if number > self.chain.latest() {
            return Ok(None);
        }
        Ok(self.chain.block_and_receipts(number)?.map(|(b, _)| b))
    }

    fn block_number(&self, hash: &B256) -> Result<Option<u64>, BackendError> {
        self.chain.index().block_number(hash).map_err(internal)
    }

    fn receipts(&self, number: u64) -> Result<Option<Arc<Vec<StoredReceipt>>>, BackendError> {
        if number > self.chain.latest() {
            return Ok(None);
        }
        Ok(self.chain.block_and_receipts(number)?.map(|(_, r)| r))
    }

    fn tx_location(&self, hash: &B256) -> Result<Option<(u64, u32)>, BackendError> {
        match self.chain.index().tx_location(hash).map_err(internal)? {
            Some((n, i)) if n <= self.chain.latest() => Ok(Some((n, i))),
            _ => Ok(None),
        }
    }

    fn logs(
        &self,
        query: &LogQuery,
        limit: usize,
    ) -> Result<Option<Vec<LogLocation>>, BackendError> {
        match self.chain.index().query_logs(query, limit) {
            Ok(r) => Ok(r),
            Err(StorageError::TooManyResults(n)) => {
                Err(BackendError::LimitExceeded(format!("more than {n} logs")))
            }
            Err(e) => Err(internal(e)),
        }
    }

    fn logs_page(
        &self,
        query: &LogQuery,
        after: Option<LogLocation>,
        limit: usize,
    ) -> Result<(Vec<LogLocation>, Option<LogLocation>), BackendError> {
        let mut q = query.clone();
        q.to = q.to.min(self.chain.latest());
        self.chain
            .index()
            .logs_page(&q, after, limit)
            .map_err(internal)
    }

    fn address_txs(
        &self,
        address: &Address,
        before: Option<(u64, u32)>,
        limit: usize,
    ) -> Result<Vec<verai_storage::AddressTx>, BackendError> {
        // Entries above the applied height may exist after a crash mid-write: skip them.
        let latest = self.chain.latest();
        let mut out = self
            .chain
            .index()
            .address_txs(address, before, limit)
            .map_err(internal)?;
        out.retain(|t| t.block <= latest);
        Ok(out)
    }

    fn finalized_at(&self, number: u64) -> Result<Option<u64>, BackendError> {
        if number > self.chain.latest() {
            return Ok(None);
        }
        self.chain.index().finalized_at(number).map_err(internal)
    }

    fn state(&self) -> Arc<dyn StateReader> {
        Arc::new(self.chain.finalized_state())
    }

    fn modules(&self) -> &ModuleSet {
        self.chain.modules()
    }

    fn next_block_params(&self) -> BlockParams {
        // The block a transaction sent now lands in is built now: simulate with the
        // current time (never before the head), as the proposer will.
        let head = self.chain.head();
        child_params(
            self.chain.spec().chain_id,
            &head,
            self.chain.now_secs(),
            self.chain.producer().beneficiary,
        )
    }

    async fn prepare(&self, tx: &RecoveredTx) -> Result<(), BackendError> {
        if let Some(upstream) = &self.upstream {
            return upstream::fetch_blobs(upstream, &self.blobs, tx)
                .await
                .map_err(BackendError::Refused);
        }
        self.chain
            .fetch_blobs(tx)
            .await
            .map_err(|e| BackendError::Refused(e.to_string()))
    }

    fn submit(&self, tx: RecoveredTx) -> Result<B256, PoolError> {
        self.chain.submit_local(tx)
    }

    fn pool_len(&self) -> usize {
        self.chain.pool().len()
    }

    fn pooled(&self, hash: &B256) -> Option<Arc<RecoveredTx>> {
        self.chain.pool().get(hash)
    }

    fn pending_nonce(&self, address: &Address, state_nonce: u64) -> u64 {
        self.chain.pool().pending_nonce(address, state_nonce)
    }

    fn subscribe_blocks(&self) -> broadcast::Receiver<u64> {
        self.chain.subscribe_finalized()
    }

    fn subscribe_pending(&self) -> broadcast::Receiver<B256> {
        self.chain.pool().subscribe()
    }

    async fn prove(&self, keys: Vec<ProofKey>) -> Result<ProofResponse, BackendError> {
        // The read lock keeps QMDB, the index and the store at one height while we prove.
        let guard = self.chain.commitment().read().await;
        let height = guard.height().unwrap_or_default();
        if height != self.chain.latest() {
            return Err(BackendError::Unavailable(
                "node is catching up; retry shortly".into(),
            ));
        }
        let root = guard.root().map_err(internal)?;
        let block_hash = self
            .chain
            .index()
            .block_hash(height)
            .map_err(internal)?
            .unwrap_or_default();
        let mut address = Address::ZERO;
        let mut account = None;
        let mut account_proof = Bytes::new();
        let mut storage_proof = Vec::new();
        for key in keys {
            match key {
                ProofKey::Account(a) => {
                    let (v, p) = guard
                        .get_with_proof(&StateKey::Account(a))
                        .await
                        .map_err(internal)?;
                    address = a;
                    account = v.map(Bytes::from);
                    account_proof = Bytes::copy_from_slice(p.as_bytes());
                }
                ProofKey::Storage(a, slot) => {
                    let (v, p) = guard
                        .get_with_proof(&StateKey::Storage(a, slot))
                        .await
                        .map_err(internal)?;
                    storage_proof.push(StorageProofEntry {
                        key: slot,
                        value: v.map(Bytes::from),
                        proof: Bytes::copy_from_slice(p.as_bytes()),
                    });
                }
            }
        }
        Ok(ProofResponse {
            block_number: height,
            block_hash,
            state_root: root,
            address,
            account,
            account_proof,
            storage_proof,
        })
    }

    async fn certificate(&self, number: u64) -> Result<Option<Bytes>, BackendError> {
        match &self.consensus {
            Some(c) => Ok(c.certificate(number).await.map(Bytes::from)),
            // A follower serves the certificates it fetched and verified.
            None => Ok(self
                .chain
                .index()
                .certificate(number)
                .map_err(internal)?
                .map(Bytes::from)),
        }
    }
}
