//! What RPC needs from the node. The node implements it over its storage, pool and engine.

use alloy_primitives::{Address, B256, Bytes, U256};
use std::{future::Future, sync::Arc};
use tokio::sync::broadcast;
use verai_execution::{BlockParams, StateReader};
use verai_mempool::PoolError;
use verai_primitives::{Block, RecoveredTx, StoredReceipt};
use verai_rpc_api::types::{
    AlertFilter, AlertPage, AuditDoc, HeldTx, ProofResponse, SentinelStatus,
};
use verai_storage::{LogLocation, LogQuery};

/// A failure inside the node while serving a read.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// Storage or decoding failed.
    #[error("internal error: {0}")]
    Internal(String),
    /// The request needs data this node does not keep (e.g. historical state).
    #[error("{0}")]
    Unavailable(String),
    /// The request would read more than the configured limit.
    #[error("query exceeds limit: {0}")]
    LimitExceeded(String),
    /// The request is refused (e.g. a release not signed by a release key).
    #[error("{0}")]
    Refused(String),
}

/// A key to prove with `verai_getProof`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofKey {
    /// An account.
    Account(Address),
    /// A storage slot.
    Storage(Address, U256),
}

/// A value with its proof, as the node returns it before JSON encoding.
#[derive(Debug, Clone)]
pub struct ProvenValue {
    /// The raw value, `None` if absent.
    pub value: Option<Bytes>,
    /// Encoded proof against the state root.
    pub proof: Bytes,
}

/// Read access to the chain and write access to the pool.
pub trait Backend: Send + Sync + 'static {
    /// EIP-155 chain id.
    fn chain_id(&self) -> u64;
    /// Height of the latest finalized block.
    fn latest(&self) -> u64;
    /// A finalized block by height.
    fn block(&self, number: u64) -> Result<Option<Arc<Block>>, BackendError>;
    /// Height of a finalized block by hash.
    fn block_number(&self, hash: &B256) -> Result<Option<u64>, BackendError>;
    /// Receipts of a finalized block.
    fn receipts(&self, number: u64) -> Result<Option<Arc<Vec<StoredReceipt>>>, BackendError>;
    /// Where a finalized transaction is: (block height, index in block).
    fn tx_location(&self, hash: &B256) -> Result<Option<(u64, u32)>, BackendError>;
    /// Locations of logs matching a query, `None` if more than `limit` match.
    fn logs(
        &self,
        query: &LogQuery,
        limit: usize,
    ) -> Result<Option<Vec<LogLocation>>, BackendError>;
    /// One keyset page of the logs matching `query` (which names an address or a topic),
    /// strictly after `after`, and the cursor of the next page.
    fn logs_page(
        &self,
        _query: &LogQuery,
        _after: Option<LogLocation>,
        _limit: usize,
    ) -> Result<(Vec<LogLocation>, Option<LogLocation>), BackendError> {
        Err(BackendError::Unavailable(
            "log pages are not served here".into(),
        ))
    }
    /// Transactions touching an address, newest first, strictly before `before`.
    fn address_txs(
        &self,
        _address: &Address,
        _before: Option<(u64, u32)>,
        _limit: usize,
    ) -> Result<Vec<verai_storage::AddressTx>, BackendError> {
        Err(BackendError::Unavailable(
            "address history is not served here".into(),
        ))
    }
    /// When this node applied block `number` as final (unix milliseconds).
    fn finalized_at(&self, _number: u64) -> Result<Option<u64>, BackendError> {
        Ok(None)
    }
    /// The latest finalized state.
    fn state(&self) -> Arc<dyn StateReader>;
    /// Parameters of the next block, for `eth_call`, `eth_estimateGas` and fee suggestions.
    fn next_block_params(&self) -> BlockParams;
    /// The chain's native modules, for `eth_call` and `eth_estimateGas`.
    fn modules(&self) -> &verai_execution::ModuleSet;
    /// Before [`submit`](Self::submit): get what the transaction needs beside it (the blobs
    /// a provenance record names, from peers), or refuse it.
    fn prepare(
        &self,
        _tx: &RecoveredTx,
    ) -> impl std::future::Future<Output = Result<(), BackendError>> + Send {
        async { Ok(()) }
    }
    /// Admit a transaction to the pool.
    fn submit(&self, tx: RecoveredTx) -> Result<B256, PoolError>;
    /// Transactions waiting in the pool.
    fn pool_len(&self) -> usize {
        0
    }
    /// A pooled (not yet finalized) transaction.
    fn pooled(&self, hash: &B256) -> Option<Arc<RecoveredTx>>;
    /// Next nonce counting pooled transactions.
    fn pending_nonce(&self, address: &Address, state_nonce: u64) -> u64;
    /// Heights of newly finalized blocks, in order.
    fn subscribe_blocks(&self) -> broadcast::Receiver<u64>;
    /// Hashes of newly pooled transactions.
    fn subscribe_pending(&self) -> broadcast::Receiver<B256>;
    /// Prove keys against the latest finalized state root, all from one state.
    fn prove(
        &self,
        keys: Vec<ProofKey>,
    ) -> impl Future<Output = Result<ProofResponse, BackendError>> + Send;
    /// The stored audit report (JSON) of the contract at `address`, when the node audits
    /// deployments.
    fn audit(&self, _address: &Address) -> Result<Option<AuditDoc>, BackendError> {
        Ok(None)
    }

    /// Stored sentinel alerts matching a filter (`limit` set by the caller).
    fn alerts(&self, _filter: &AlertFilter) -> Result<AlertPage, BackendError> {
        Err(sentinel_off())
    }
    /// New sentinel alerts as they are stored; `None` when the sentinel is off.
    fn subscribe_alerts(&self) -> Option<broadcast::Receiver<serde_json::Value>> {
        None
    }
    /// Transactions held out of this node's proposals.
    fn held(&self) -> Result<Vec<HeldTx>, BackendError> {
        Err(sentinel_off())
    }
    /// End a hold after checking the release signature; whether it was held.
    fn release_held(
        &self,
        _tx: B256,
        _drop: bool,
        _signature: &Bytes,
    ) -> Result<bool, BackendError> {
        Err(sentinel_off())
    }
    /// The sentinel's counters and description.
    fn sentinel_status(&self) -> Result<SentinelStatus, BackendError> {
        Err(sentinel_off())
    }

    /// The blob store, if this node keeps one.
    fn blobs(&self) -> Option<Arc<verai_provenance::blob::BlobStore>> {
        None
    }
    /// The encoded finalization certificate of a finalized block.
    fn certificate(
        &self,
        number: u64,
    ) -> impl Future<Output = Result<Option<Bytes>, BackendError>> + Send;
}

/// The error of a sentinel method on a node that does not run the sentinel.
pub fn sentinel_off() -> BackendError {
    BackendError::Unavailable(
        "the sentinel is off on this node (verai node --sentinel MODEL)".into(),
    )
}
