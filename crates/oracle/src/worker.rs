//! An oracle worker: serves a hub's requests until stopped.

use crate::{IOracleHub, OracleError, request::model_bytes};
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{Address, B256, U256};
use alloy_rpc_types_eth::Filter;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent};
use std::{collections::HashSet, time::Duration};
use tracing::{info, warn};
use verai_client::{
    Client, Tx,
    api::{EthApiClient, ProvenanceApiClient},
};
use verai_inference::{Limits, Model, f32_bytes, f32_values, sha256};

/// Faults a worker can inject, for tests of the quorum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Add 1.0 to every output value before submitting.
    WrongOutput,
}

/// Gas added to a result's estimate: the estimate sees the quorum as it was, and this
/// result may be the one completing it (fee split, slashing, the audit record, a callback
/// of up to 500k gas).
const QUORUM_GAS: u64 = 1_500_000;

/// One oracle serving one hub.
#[derive(Debug)]
pub struct Worker {
    /// The node.
    pub client: Client,
    /// The oracle's key (bonded at the hub).
    pub signer: PrivateKeySigner,
    /// The chain.
    pub chain_id: u64,
    /// The hub.
    pub hub: Address,
    /// Time between polls for new requests.
    pub poll: Duration,
    /// Misbehave on purpose (testing only).
    pub fault: Option<Fault>,
    /// How long to wait for a result's inclusion.
    pub timeout: Duration,
}

impl Worker {
    /// The oracle's bond at the hub; zero means it is not registered.
    pub async fn bond(&self) -> Result<U256, OracleError> {
        Ok(self
            .client
            .view(
                self.hub,
                &IOracleHub::bondCall {
                    oracle: self.signer.address(),
                },
            )
            .await?)
    }

    /// Serve requests until the task is dropped; `on_result` sees each submitted output.
    pub async fn run(&self, mut on_result: impl FnMut(U256, &[f32])) -> Result<(), OracleError> {
        if self.bond().await?.is_zero() {
            return Err(OracleError::Invalid(format!(
                "{} has no bond at hub {}: run `verai oracle register --hub {}` first",
                self.signer.address(),
                self.hub,
                self.hub
            )));
        }
        let mut from = 0u64;
        let mut done: HashSet<U256> = HashSet::new();
        loop {
            let filter = Filter::new()
                .address(self.hub)
                .from_block(BlockNumberOrTag::Number(from))
                .to_block(BlockNumberOrTag::Latest)
                .event_signature(IOracleHub::InferenceRequested::SIGNATURE_HASH);
            let logs = match self.client.get_logs(filter).await {
                Ok(l) => l,
                Err(e) => {
                    warn!(%e, "polling for requests");
                    tokio::time::sleep(self.poll.max(Duration::from_millis(500))).await;
                    continue;
                }
            };
            for l in &logs {
                from = from.max(l.block_number.unwrap_or(from));
                let Ok(ev) = IOracleHub::InferenceRequested::decode_log_data(l.data()) else {
                    continue;
                };
                if !done.insert(ev.id) {
                    continue;
                }
                match self.serve(&ev).await {
                    Ok(Some(out)) => on_result(ev.id, &out),
                    Ok(None) => {}
                    Err(e) => warn!(request = %ev.id, %e, "request not served"),
                }
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    /// Run one request and submit the output; `None` when this oracle already answered.
    async fn serve(
        &self,
        ev: &IOracleHub::InferenceRequested,
    ) -> Result<Option<Vec<f32>>, OracleError> {
        let mine = self
            .client
            .view(
                self.hub,
                &IOracleHub::submittedCall {
                    id: ev.id,
                    oracle: self.signer.address(),
                },
            )
            .await?;
        if !mine.is_zero() {
            return Ok(None);
        }
        let model_err = |reason: String| OracleError::Model {
            model: ev.modelId,
            reason,
        };
        let bytes = model_bytes(&self.client, ev.modelId).await?;
        let model =
            Model::load_with(&bytes, Limits::OFFCHAIN).map_err(|e| model_err(e.to_string()))?;
        let raw = if ev.inputBlob.is_zero() {
            ev.input.to_vec()
        } else {
            let blob = self.client.get_blob(ev.inputBlob).await?.ok_or_else(|| {
                OracleError::Invalid(format!(
                    "{} has no input blob {}",
                    self.client.url(),
                    ev.inputBlob
                ))
            })?;
            if B256::from(sha256(&blob)) != ev.inputBlob {
                return Err(OracleError::Invalid(format!(
                    "input blob does not hash to {}",
                    ev.inputBlob
                )));
            }
            blob.to_vec()
        };
        let x = f32_values(&raw)
            .ok_or_else(|| OracleError::Invalid("input is not f32 values".into()))?;
        let mut out = model.run(&x).map_err(|e| model_err(e.to_string()))?;
        if self.fault == Some(Fault::WrongOutput) {
            out.iter_mut().for_each(|v| *v += 1.0);
        }
        let input = IOracleHub::submitResultCall {
            id: ev.id,
            output: f32_bytes(&out).into(),
        }
        .abi_encode();
        let tx = Tx::call(self.hub, input)
            .extra_gas(QUORUM_GAS)
            .timeout(self.timeout);
        self.client
            .transact(&self.signer, self.chain_id, tx)
            .await?;
        info!(request = %ev.id, ?out, "submitted");
        Ok(Some(out))
    }
}
