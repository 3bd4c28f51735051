//! The node's own AI in the provenance registry: the sentinel's fraud model (with its
//! training data as parent), the auditor's risk model, and every deploy audit (an inference
//! record whose parent is the risk model, plus a usage entry on the model).
//!
//! Records are ordinary transactions signed by the node's operator key (`--operator-key`;
//! on the dev chain a dedicated dev account), admitted to this node's pool like a client's
//! (and gossiped), one at a time in arrival order so that nonces never race. A record that
//! already exists (same kind and content hash, looked up with `findByHash` on the finalized
//! state) is reused, so restarts register nothing twice. Failures are logged and retried a
//! few times; they never stop the node.

use crate::chain::Chain;
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_primitives::{B256, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent};
use std::{
    sync::{Arc, OnceLock},
    time::Duration,
};
use tokio::sync::{broadcast::error::RecvError, mpsc};
use tracing::{info, warn};
use verai_execution::{CallRequest, call, estimate_gas, rules::next_base_fee};
use verai_primitives::RecoveredTx;
use verai_provenance::{ADDRESS, IProvenance};
use verai_storage::StateContext;

/// Record kinds of the registry (IProvenance.sol).
const DATASET: u8 = 0;
const MODEL: u8 = 1;
const INFERENCE: u8 = 3;

/// The priority fee the registrar pays (as clients are told to, see `eth_maxPriorityFeePerGas`).
const TIP: u128 = 1_000_000_000;

/// How long a registration waits to be finalized.
const INCLUSION_TIMEOUT: Duration = Duration::from_secs(60);

/// A model the node's own AI runs, to record in provenance.
#[derive(Debug, Clone)]
pub struct OwnModel {
    /// What it is, for logs.
    pub name: &'static str,
    /// SHA-256 of the model file.
    pub hash: [u8; 32],
    /// URI of the model record.
    pub uri: String,
    /// SHA-256 of the training data and its URI, if known.
    pub data: Option<([u8; 32], String)>,
    /// Licence of the records.
    pub license: String,
    /// Receives the model's record id.
    pub id: Arc<OnceLock<u64>>,
}

/// What to record.
#[derive(Debug)]
pub(crate) enum Job {
    /// A model, with the data set it was trained on as parent (registered first if absent).
    Model(OwnModel),
    /// An AI decision made with a recorded model: an inference record (content hash: the
    /// decision's bytes) with the model as parent, and a usage entry on the model.
    Decision {
        /// The model's record id (from a [`Job::Model`]).
        model: Arc<OnceLock<u64>>,
        /// SHA-256 of the decision (e.g. an audit report).
        hash: [u8; 32],
        /// What was decided about, e.g. `verai-audit:code/0x…`.
        uri: String,
    },
}

/// A handle that queues jobs; the worker ends when every handle is dropped.
#[derive(Clone, Debug)]
pub(crate) struct Registrar {
    tx: mpsc::UnboundedSender<Job>,
}

impl Registrar {
    /// Start the worker on the current tokio runtime.
    pub(crate) fn spawn<E: StateContext>(chain: Arc<Chain<E>>, signer: PrivateKeySigner) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
        tokio::spawn(async move {
            let w = Worker { chain, signer };
            while let Some(job) = rx.recv().await {
                w.run(job).await;
            }
        });
        Self { tx }
    }

    /// Queue a job (dropped silently once the node is shutting down).
    pub(crate) fn submit(&self, job: Job) {
        let _ = self.tx.send(job);
    }
}

/// Why a registration failed.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("the model has no provenance record")]
    NoModel,
    #[error("refused: {0}")]
    Refused(String),
    #[error("not finalized within {} s", INCLUSION_TIMEOUT.as_secs())]
    Timeout,
    #[error("{0}")]
    Node(String),
}

struct Worker<E: StateContext> {
    chain: Arc<Chain<E>>,
    signer: PrivateKeySigner,
}

impl<E: StateContext> Worker<E> {
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

    async fn try_run(&self, job: &Job) -> Result<(), Failure> {
        match job {
            Job::Model(m) => {
                let mut parents = Vec::new();
                if let Some((data_hash, data_uri)) = &m.data {
                    parents.push(
                        self.ensure(DATASET, *data_hash, data_uri, &m.license, &[])
                            .await?,
                    );
                }
                let model = self
                    .ensure(MODEL, m.hash, &m.uri, &m.license, &parents)
                    .await?;
                let _ = m.id.set(model);
                info!(
                    name = m.name,
                    record = model,
                    ?parents,
                    "model recorded in provenance"
                );
            }
            Job::Decision { model, hash, uri } => {
                // The model's record comes first in the queue; it may have failed.
                let &m = model.get().ok_or(Failure::NoModel)?;
                let before = self.find(INFERENCE, *hash)?;
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
    ) -> Result<u64, Failure> {
        let found = self.find(kind, hash)?;
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
        let logs = self.send(call.abi_encode().into()).await?;
        logs.iter()
            .find_map(|l| IProvenance::RecordRegistered::decode_log(l).ok())
            .map(|e| e.data.id)
            .ok_or_else(|| Failure::Node("no RecordRegistered event in the receipt".into()))
    }

    /// `findByHash` on the finalized state.
    fn find(&self, kind: u8, hash: [u8; 32]) -> Result<u64, Failure> {
        let c = IProvenance::findByHashCall {
            kind,
            contentHash: B256::from(hash),
        };
        let out = self.simulate(c.abi_encode().into(), None)?;
        IProvenance::findByHashCall::abi_decode_returns(&out)
            .map_err(|e| Failure::Node(e.to_string()))
    }

    fn simulate(&self, input: Bytes, gas: Option<u64>) -> Result<Bytes, Failure> {
        let chain = &self.chain;
        let head = chain.head();
        let params = verai_execution::rules::child_params(
            chain.spec().chain_id,
            &head,
            head.header.timestamp,
            chain.producer().beneficiary,
        );
        let req = CallRequest {
            from: Some(self.signer.address()),
            to: Some(ADDRESS),
            gas,
            gas_price: None,
            value: None,
            input,
        };
        let state = chain.finalized_state();
        let out = call(&state, &params, chain.modules(), &req)
            .map_err(|e| Failure::Node(e.to_string()))?;
        if out.success {
            Ok(out.output)
        } else {
            Err(Failure::Refused(
                verai_provenance::explain(&out.output)
                    .unwrap_or_else(|| out.halt.clone().unwrap_or_else(|| "reverted".into())),
            ))
        }
    }

    /// Sign a call of the registry, admit it here, and wait until it is finalized; returns
    /// its logs.
    async fn send(&self, input: Bytes) -> Result<Vec<alloy_primitives::Log>, Failure> {
        let chain = &self.chain;
        let head = chain.head();
        let params = verai_execution::rules::child_params(
            chain.spec().chain_id,
            &head,
            head.header.timestamp,
            chain.producer().beneficiary,
        );
        let me = self.signer.address();
        let req = CallRequest {
            from: Some(me),
            to: Some(ADDRESS),
            gas: None,
            gas_price: None,
            value: None,
            input: input.clone(),
        };
        let gas = match estimate_gas(&chain.finalized_state(), &params, chain.modules(), &req)
            .map_err(|e| Failure::Node(e.to_string()))?
        {
            Ok(g) => g,
            Err(out) => {
                return Err(Failure::Refused(
                    verai_provenance::explain(&out.output)
                        .unwrap_or_else(|| out.halt.unwrap_or_else(|| "reverted".into())),
                ));
            }
        };
        let state_nonce = chain
            .account(&me)
            .map_err(|e| Failure::Node(e.to_string()))?
            .nonce;
        let base_fee = u128::from(next_base_fee(&head.header));
        let tx = TxEip1559 {
            chain_id: chain.spec().chain_id,
            nonce: chain.pool().pending_nonce(&me, state_nonce),
            gas_limit: gas.saturating_add(gas / 5),
            max_fee_per_gas: (base_fee + TIP).saturating_mul(2),
            max_priority_fee_per_gas: TIP,
            to: TxKind::Call(ADDRESS),
            value: U256::ZERO,
            input,
            access_list: Default::default(),
        };
        let sig = self
            .signer
            .sign_hash_sync(&tx.signature_hash())
            .map_err(|e| Failure::Node(e.to_string()))?;
        let envelope = TxEnvelope::from(tx.into_signed(sig));
        let recovered = RecoveredTx::recover(envelope).map_err(|e| Failure::Node(e.to_string()))?;
        let hash = recovered.hash;
        let mut finalized = chain.subscribe_finalized();
        chain
            .submit_local(recovered)
            .map_err(|e| Failure::Refused(e.to_string()))?;
        let wait = async {
            loop {
                if let Some(logs) = self.logs_of(&hash)? {
                    return Ok(logs);
                }
                match finalized.recv().await {
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return Err(Failure::Node("node stopped".into())),
                }
            }
        };
        tokio::time::timeout(INCLUSION_TIMEOUT, wait)
            .await
            .map_err(|_| Failure::Timeout)?
    }

    /// The logs of finalized transaction `hash`; `None` while it is not finalized; refused
    /// when it failed.
    fn logs_of(&self, hash: &B256) -> Result<Option<Vec<alloy_primitives::Log>>, Failure> {
        let chain = &self.chain;
        let node = |e: crate::NodeError| Failure::Node(e.to_string());
        let Some((number, index)) = chain
            .index()
            .tx_location(hash)
            .map_err(|e| node(e.into()))?
        else {
            return Ok(None);
        };
        let Some((_, receipts)) = chain.block_and_receipts(number).map_err(node)? else {
            return Ok(None);
        };
        let r = receipts
            .get(index as usize)
            .ok_or_else(|| Failure::Node(format!("no receipt {index} in block {number}")))?;
        if !r.receipt.status() {
            return Err(Failure::Refused(format!(
                "transaction {hash} failed on chain"
            )));
        }
        Ok(Some(r.receipt.logs().to_vec()))
    }
}
