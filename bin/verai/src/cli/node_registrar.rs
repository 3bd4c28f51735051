//! The node's own AI in the provenance registry: the sentinel's fraud model (with its
//! training data as parent), the auditor's risk model, and every deploy audit (an inference
//! record whose parent is the risk model, plus a usage entry on the model).
//!
//! Records are ordinary transactions signed by the node's operator key (`--operator-key`;
//! on the dev chain a dedicated dev account), sent to the node's own RPC, one at a time in
//! arrival order so that nonces never race. A record that already exists (same kind and
//! content hash, looked up with `findByHash`) is reused, so restarts register nothing twice.
//! Failures are logged and retried a few times; they never stop the node.

use super::client::{TransactError, connect, transact};
use alloy_primitives::{B256, Bytes, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent};
use jsonrpsee::{core::client::ClientT, http_client::HttpClient, rpc_params};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::mpsc;
use tracing::{info, warn};
use verai_provenance::{ADDRESS, IProvenance};

/// Record kinds of the registry (IProvenance.sol).
const DATASET: u8 = 0;
const MODEL: u8 = 1;
const INFERENCE: u8 = 3;

/// What to record.
#[derive(Debug)]
pub enum Job {
    /// A model, with the data set it was trained on as parent (registered first if absent).
    Model {
        /// What it is, for logs.
        name: &'static str,
        /// SHA-256 of the model file.
        hash: [u8; 32],
        /// URI of the model record.
        uri: String,
        /// SHA-256 of the training data and its URI, if known.
        data: Option<([u8; 32], String)>,
        /// Licence of the records.
        license: String,
        /// Receives the model's record id.
        id: Arc<OnceLock<u64>>,
    },
    /// An AI decision made with a recorded model: an inference record (content hash: the
    /// decision's bytes) with the model as parent, and a usage entry on the model.
    Decision {
        /// The model's record id (from a [`Job::Model`]).
        model: Arc<OnceLock<u64>>,
        /// SHA-256 of the decision (e.g. an audit report).
        hash: [u8; 32],
        /// What was decided about, e.g. `verai-audit:0x…`.
        uri: String,
    },
}

/// A handle that queues jobs.
#[derive(Clone, Debug)]
pub struct Registrar {
    tx: mpsc::UnboundedSender<Job>,
}

impl Registrar {
    /// Starts the worker on the current tokio runtime; it ends when every handle is dropped.
    pub fn spawn(rpc: String, signer: PrivateKeySigner, chain_id: u64) -> eyre::Result<Self> {
        let client = connect(&rpc)?;
        let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
        tokio::spawn(async move {
            let w = Worker {
                client,
                rpc,
                signer,
                chain_id,
            };
            while let Some(job) = rx.recv().await {
                w.run(job).await;
            }
        });
        Ok(Self { tx })
    }

    /// Queues a job (dropped silently once the node is shutting down).
    pub fn submit(&self, job: Job) {
        let _ = self.tx.send(job);
    }
}

struct Worker {
    client: HttpClient,
    rpc: String,
    signer: PrivateKeySigner,
    chain_id: u64,
}

impl Worker {
    async fn run(&self, job: Job) {
        for attempt in 1..=5u32 {
            match self.try_run(&job).await {
                Ok(()) => return,
                Err(e) if attempt < 5 => {
                    warn!(%e, attempt, "provenance registration failed; retrying");
                    tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
                }
                Err(e) => warn!(%e, ?job, "provenance registration given up"),
            }
        }
    }

    async fn try_run(&self, job: &Job) -> eyre::Result<()> {
        match job {
            Job::Model {
                name,
                hash,
                uri,
                data,
                license,
                id,
            } => {
                let mut parents = Vec::new();
                if let Some((data_hash, data_uri)) = data {
                    parents.push(
                        self.ensure(DATASET, *data_hash, data_uri, license, &[])
                            .await?,
                    );
                }
                let model = self.ensure(MODEL, *hash, uri, license, &parents).await?;
                let _ = id.set(model);
                info!(
                    name,
                    record = model,
                    ?parents,
                    "model recorded in provenance"
                );
            }
            Job::Decision { model, hash, uri } => {
                // The model's record comes first in the queue; it may have failed.
                let Some(&m) = model.get() else {
                    eyre::bail!("the model has no provenance record");
                };
                let before = self.find(INFERENCE, *hash).await?;
                let record = self.ensure(INFERENCE, *hash, uri, "CC0-1.0", &[m]).await?;
                if before == 0 {
                    let call = IProvenance::recordUsageCall {
                        modelId: m,
                        r#ref: B256::from(*hash),
                    };
                    self.send(call.abi_encode().into()).await?;
                }
                info!(record, model = m, uri, "AI decision recorded in provenance");
            }
        }
        Ok(())
    }

    /// The id of the record with this kind and hash, registering it when there is none.
    async fn ensure(
        &self,
        kind: u8,
        hash: [u8; 32],
        uri: &str,
        license: &str,
        parents: &[u64],
    ) -> eyre::Result<u64> {
        let found = self.find(kind, hash).await?;
        if found != 0 {
            return Ok(found);
        }
        let call = IProvenance::registerCall {
            kind,
            contentHash: B256::from(hash),
            uri: uri.to_string(),
            license: license.to_string(),
            contributors: vec![],
            parents: parents.to_vec(),
        };
        let receipt = self.send(call.abi_encode().into()).await?;
        super::model::receipt_logs(&receipt)
            .into_iter()
            .find(|(t, _)| t.first() == Some(&IProvenance::RecordRegistered::SIGNATURE_HASH))
            .and_then(|(t, _)| t.get(1).map(|w| U256::from_be_bytes(w.0).saturating_to()))
            .ok_or_else(|| eyre::eyre!("no RecordRegistered event in the receipt"))
    }

    async fn find(&self, kind: u8, hash: [u8; 32]) -> eyre::Result<u64> {
        let c = IProvenance::findByHashCall {
            kind,
            contentHash: B256::from(hash),
        };
        let req = serde_json::json!({ "to": ADDRESS, "data": Bytes::from(c.abi_encode()) });
        let out: Bytes = self
            .client
            .request("eth_call", rpc_params![req, "latest"])
            .await
            .map_err(|e| eyre::eyre!("findByHash on {}: {e}", self.rpc))?;
        Ok(IProvenance::findByHashCall::abi_decode_returns(&out)?)
    }

    async fn send(&self, input: Bytes) -> eyre::Result<serde_json::Value> {
        let r = transact(
            &self.client,
            &self.rpc,
            &self.signer,
            self.chain_id,
            ADDRESS,
            input,
            Duration::from_secs(30),
        )
        .await;
        match r {
            Ok(receipt) => Ok(receipt),
            Err(TransactError::Reverted { message, data }) => {
                let why = data
                    .as_deref()
                    .and_then(|d| verai_provenance::explain(d))
                    .unwrap_or(message);
                Err(eyre::eyre!("refused: {why}"))
            }
            Err(TransactError::Other(e)) => Err(e),
        }
    }
}
