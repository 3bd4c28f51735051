//! Sending transactions: estimate, sign, send, wait for the receipt, explain a revert.

use crate::{Client, ClientError};
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::{BlockId, BlockNumberOrTag, eip2718::Encodable2718};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_rpc_types_eth::{TransactionInput, TransactionReceipt, TransactionRequest};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use std::time::{Duration, Instant};
use verai_rpc_api::{EthApiClient, codes};

/// A transaction to send with [`Client::transact`].
#[derive(Debug, Clone)]
pub struct Tx {
    /// The recipient; `None` deploys `input` as init code.
    pub to: Option<Address>,
    /// Wei sent with it.
    pub value: U256,
    /// Calldata or init code.
    pub input: Bytes,
    /// Gas added to the node's estimate, for calls whose path depends on transactions
    /// included before them (an oracle's result may be the one that completes a quorum).
    pub extra_gas: u64,
    /// How long to wait for the receipt.
    pub timeout: Duration,
}

impl Tx {
    /// A call of `to` with `input`, no value, waiting up to 60 s.
    pub fn call(to: Address, input: impl Into<Bytes>) -> Self {
        Self {
            to: Some(to),
            value: U256::ZERO,
            input: input.into(),
            extra_gas: 0,
            timeout: Duration::from_secs(60),
        }
    }

    /// A deployment of `init` code.
    pub fn deploy(init: impl Into<Bytes>) -> Self {
        Self {
            to: None,
            ..Self::call(Address::ZERO, init)
        }
    }

    /// With `value` wei.
    pub fn value(mut self, value: U256) -> Self {
        self.value = value;
        self
    }

    /// Waiting up to `timeout`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// With `gas` added to the estimate.
    pub fn extra_gas(mut self, gas: u64) -> Self {
        self.extra_gas = gas;
        self
    }
}

/// Why a revert happened, from its data: a native module's error, `Error(string)`,
/// `Panic(uint256)`, or a known custom error; `None` for data nobody decodes.
pub fn explain_revert(data: &[u8]) -> Option<String> {
    verai_modules::explain(data).or_else(|| alloy_sol_types::decode_revert_reason(data))
}

/// A failed `eth_call` / `eth_estimateGas` as a [`ClientError`]: reverts are explained.
pub(crate) fn revert_error(e: jsonrpsee::core::ClientError) -> ClientError {
    if let jsonrpsee::core::ClientError::Call(o) = &e
        && o.code() == codes::REVERTED
    {
        let data = o
            .data()
            .and_then(|d| serde_json::from_str::<Bytes>(d.get()).ok());
        let reason = match data.as_deref() {
            Some(d) => explain_revert(d).unwrap_or_else(|| {
                format!(
                    "{} (revert data {})",
                    o.message(),
                    data.clone().unwrap_or_default()
                )
            }),
            None => o.message().to_string(),
        };
        return ClientError::Reverted { reason, data };
    }
    ClientError::Rpc(e)
}

impl Client {
    /// Sign an EIP-1559 transaction with `signer` for `chain_id`, send it, and wait for its
    /// receipt. The gas limit is the node's estimate plus a fifth (plus `tx.extra_gas`); a
    /// transaction the node predicts to revert is not sent ([`ClientError::Reverted`]), and
    /// one that fails on chain is [`ClientError::Failed`].
    pub async fn transact(
        &self,
        signer: &PrivateKeySigner,
        chain_id: u64,
        tx: Tx,
    ) -> Result<TransactionReceipt, ClientError> {
        let hash = self.send(signer, chain_id, &tx).await?;
        let receipt = self.wait_for_receipt(hash, tx.timeout).await?;
        if !receipt.status() {
            return Err(ClientError::Failed(hash));
        }
        Ok(receipt)
    }

    /// Sign and send `tx` without waiting; returns its hash.
    pub async fn send(
        &self,
        signer: &PrivateKeySigner,
        chain_id: u64,
        tx: &Tx,
    ) -> Result<B256, ClientError> {
        let from = signer.address();
        let req = TransactionRequest {
            from: Some(from),
            to: Some(tx.to.map(TxKind::Call).unwrap_or(TxKind::Create)),
            value: Some(tx.value),
            input: TransactionInput::new(tx.input.clone()),
            ..Default::default()
        };
        let gas = EthApiClient::estimate_gas(self, req, None)
            .await
            .map_err(revert_error)?
            .to::<u64>();
        let pending = Some(BlockId::Number(BlockNumberOrTag::Pending));
        let nonce = self.get_transaction_count(from, pending).await?.to::<u64>();
        let gas_price = self.gas_price().await?;
        let tip = self.max_priority_fee_per_gas().await?;
        let unsigned = TxEip1559 {
            chain_id,
            nonce,
            gas_limit: gas.saturating_add(gas / 5).saturating_add(tx.extra_gas),
            max_fee_per_gas: gas_price.saturating_mul(U256::from(2)).saturating_to(),
            max_priority_fee_per_gas: tip.saturating_to(),
            to: tx.to.map(TxKind::Call).unwrap_or(TxKind::Create),
            value: tx.value,
            input: tx.input.clone(),
            access_list: Default::default(),
        };
        let raw = sign(signer, unsigned)?;
        Ok(self.send_raw_transaction(raw).await?)
    }

    /// Send signed transactions in one request, a JSON-RPC batch (as viem's and ethers'
    /// batching transports do); each result in order, the node's words on a refusal.
    pub async fn send_raw_batch(
        &self,
        txs: &[Bytes],
    ) -> Result<Vec<Result<B256, String>>, ClientError> {
        use jsonrpsee::core::{client::ClientT, params::BatchRequestBuilder};
        let mut batch = BatchRequestBuilder::new();
        for tx in txs {
            batch
                .insert(
                    verai_rpc_api::wire::SEND_RAW_TRANSACTION,
                    jsonrpsee::rpc_params![tx],
                )
                .map_err(|e| ClientError::Input(e.to_string()))?;
        }
        let replies = self.batch_request::<B256>(batch).await?;
        Ok(replies
            .into_iter()
            .map(|r| r.map_err(|e| e.message().to_string()))
            .collect())
    }

    /// Poll for a receipt: every 10 ms for the first second (a dev node finalizes within
    /// tens of milliseconds), then backing off to 200 ms, until `timeout`.
    pub async fn wait_for_receipt(
        &self,
        hash: B256,
        timeout: Duration,
    ) -> Result<TransactionReceipt, ClientError> {
        let start = Instant::now();
        let mut pause = Duration::from_millis(10);
        loop {
            if let Some(r) = self.get_transaction_receipt(hash).await? {
                return Ok(r);
            }
            if start.elapsed() > timeout {
                return Err(ClientError::NotIncluded {
                    hash,
                    secs: timeout.as_secs(),
                });
            }
            tokio::time::sleep(pause).await;
            if start.elapsed() > Duration::from_secs(1) {
                pause = (pause * 2).min(Duration::from_millis(200));
            }
        }
    }
}

/// Sign an EIP-1559 transaction: its EIP-2718 bytes.
pub fn sign(signer: &PrivateKeySigner, tx: TxEip1559) -> Result<Bytes, ClientError> {
    let sig = signer
        .sign_hash_sync(&tx.signature_hash())
        .map_err(|e| ClientError::Signer(e.to_string()))?;
    Ok(TxEnvelope::from(tx.into_signed(sig)).encoded_2718().into())
}
