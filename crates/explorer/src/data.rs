//! What the pages show, read through the same handlers JSON-RPC serves (so a page and an
//! RPC call can never disagree) plus the index's browsing tables.

use crate::decode::{Decoded, Decoder};
use alloy_consensus::{Transaction as _, Typed2718 as _};
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_rpc_types_eth::{Block, TransactionReceipt};
use std::sync::Arc;
use verai_consensus::PublicKey;
use verai_primitives::{AccountState, KECCAK_EMPTY, StateKey};
use verai_rpc::api::jsonrpsee::types::ErrorObjectOwned;
use verai_rpc::{
    Backend, BackendError, Handlers,
    api::{EthApiServer, VeraiApiServer},
};

/// A failure while reading for a page or a query: the JSON-RPC error code and message.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ReadError {
    /// EIP-1474 code, as JSON-RPC would answer.
    pub code: i32,
    /// What went wrong.
    pub message: String,
}

impl From<ErrorObjectOwned> for ReadError {
    fn from(e: ErrorObjectOwned) -> Self {
        Self {
            code: e.code(),
            message: e.message().to_string(),
        }
    }
}

impl From<BackendError> for ReadError {
    fn from(e: BackendError) -> Self {
        ErrorObjectOwned::from(e).into()
    }
}

/// Result of a read.
pub type Read<T> = Result<T, ReadError>;

/// The explorer's view of one node.
pub struct Explorer<B> {
    /// The node's storage and pool.
    pub backend: Arc<B>,
    /// The JSON-RPC method implementations over it.
    pub rpc: Handlers<B>,
    /// The validator set certificates are checked against.
    pub validators: Vec<PublicKey>,
    /// Calldata and log decoding.
    pub decoder: Decoder,
}

/// A transaction in a list.
#[derive(Debug, Clone)]
pub struct TxSummary {
    pub hash: B256,
    pub block: u64,
    pub index: u32,
    pub from: Address,
    pub to: Option<Address>,
    pub created: Option<Address>,
    pub value: U256,
    pub success: bool,
    pub gas_used: u64,
    pub method: String,
}

/// A log with its decoding.
#[derive(Debug, Clone)]
pub struct LogView {
    pub index: u64,
    pub address: Address,
    pub topics: Vec<B256>,
    pub data: Bytes,
    pub decoded: Option<Decoded>,
}

/// A transaction page.
#[derive(Debug, Clone)]
pub struct TxView {
    pub summary: TxSummary,
    pub nonce: u64,
    pub gas_limit: u64,
    pub effective_gas_price: u128,
    pub input: Bytes,
    pub decoded: Option<Decoded>,
    pub logs: Vec<LogView>,
    pub tx_type: u8,
    pub timestamp: u64,
}

/// Whether a block's finality was checked here against the validator set.
#[derive(Debug, Clone)]
pub enum Finality {
    /// The certificate verifies: signed by a quorum of `validators`, at `view`.
    Proven { view: u64, validators: usize },
    /// No certificate here (yet).
    Missing,
    /// The certificate does not verify (why).
    Invalid(String),
}

impl<B: Backend> Explorer<B> {
    /// Height of the latest finalized block.
    pub fn head(&self) -> u64 {
        self.backend.latest()
    }

    /// The block at `n` (with transaction hashes), `None` if unknown.
    pub fn block(&self, n: u64) -> Read<Option<Block>> {
        Ok(self
            .rpc
            .eth
            .get_block_by_number(BlockNumberOrTag::Number(n), false)?)
    }

    /// The number of the block with `hash`.
    pub fn block_number(&self, hash: &B256) -> Read<Option<u64>> {
        Ok(self.backend.block_number(hash)?)
    }

    /// When this node applied block `n` as final (unix ms).
    pub fn finalized_at(&self, n: u64) -> Read<Option<u64>> {
        Ok(self.backend.finalized_at(n)?)
    }

    /// Check block `n`'s finalization certificate against the validator set.
    pub async fn finality(&self, n: u64, hash: B256) -> Finality {
        match self
            .rpc
            .verai
            .get_certificate(BlockNumberOrTag::Number(n))
            .await
        {
            Ok(Some(c)) => {
                match verai_consensus::verify_certificate(&self.validators, hash, n, &c.certificate)
                {
                    Ok(f) => Finality::Proven {
                        view: f.view,
                        validators: self.validators.len(),
                    },
                    Err(e) => Finality::Invalid(e.to_string()),
                }
            }
            Ok(None) => Finality::Missing,
            Err(e) => Finality::Invalid(e.message().to_string()),
        }
    }

    /// The code hash of `a` in the latest state, `None` for an account without code.
    pub fn code_hash(&self, a: &Address) -> Option<B256> {
        let raw = self.backend.state().get(&StateKey::Account(*a)).ok()??;
        let acc = AccountState::decode(&raw).ok()?;
        (acc.code_hash != KECCAK_EMPTY).then_some(acc.code_hash)
    }

    /// The account of `a` in the latest state.
    pub fn account(&self, a: &Address) -> AccountState {
        self.backend
            .state()
            .get(&StateKey::Account(*a))
            .ok()
            .flatten()
            .and_then(|raw| AccountState::decode(&raw).ok())
            .unwrap_or_default()
    }

    /// The transactions of block `n` as summaries (senders from the receipts: no signature
    /// recovery).
    pub fn block_txs(&self, n: u64) -> Read<Vec<TxSummary>> {
        let (Some(block), Some(receipts)) = (self.backend.block(n)?, self.backend.receipts(n)?)
        else {
            return Ok(Vec::new());
        };
        Ok(block
            .transactions
            .iter()
            .zip(receipts.iter())
            .enumerate()
            .map(|(i, (tx, r))| TxSummary {
                hash: r.tx_hash,
                block: n,
                index: i as u32,
                from: r.from,
                to: r.to,
                created: r.contract_address,
                value: tx.value(),
                success: r.receipt.status(),
                gas_used: r.gas_used,
                method: self.method_name(r.to, tx.input()),
            })
            .collect())
    }

    fn method_name(&self, to: Option<Address>, input: &[u8]) -> String {
        let Some(to) = to else {
            return "create".into();
        };
        if input.is_empty() {
            return "transfer".into();
        }
        match self.decoder.call(&to, self.code_hash(&to).as_ref(), input) {
            Some(d) => d.name,
            None => format!(
                "0x{}",
                alloy_primitives::hex::encode(&input[..input.len().min(4)])
            ),
        }
    }

    /// A transaction with its receipt, decoding and logs; `None` if not finalized here.
    pub fn tx(&self, hash: &B256) -> Read<Option<TxView>> {
        let Some(rpc_tx) = self.rpc.eth.get_transaction_by_hash(*hash)? else {
            return Ok(None);
        };
        let Some(receipt) = self.rpc.eth.get_transaction_receipt(*hash)? else {
            return Ok(None);
        };
        let block = receipt.block_number.unwrap_or_default();
        let timestamp = self
            .backend
            .block(block)?
            .map(|b| b.header.timestamp)
            .unwrap_or_default();
        let to = rpc_tx.inner.to();
        let input = rpc_tx.inner.input().clone();
        let decoded = to.and_then(|t| self.decoder.call(&t, self.code_hash(&t).as_ref(), &input));
        let logs = self.logs_of(&receipt);
        let summary = TxSummary {
            hash: *hash,
            block,
            index: receipt.transaction_index.unwrap_or_default() as u32,
            from: receipt.from,
            to,
            created: receipt.contract_address,
            value: rpc_tx.inner.value(),
            success: receipt.status(),
            gas_used: receipt.gas_used,
            method: decoded
                .as_ref()
                .map(|d| d.name.clone())
                .unwrap_or_else(|| self.method_name(to, &input)),
        };
        Ok(Some(TxView {
            summary,
            nonce: rpc_tx.inner.nonce(),
            gas_limit: rpc_tx.inner.gas_limit(),
            effective_gas_price: receipt.effective_gas_price,
            input,
            decoded,
            logs,
            tx_type: rpc_tx.inner.ty(),
            timestamp,
        }))
    }

    fn logs_of(&self, receipt: &TransactionReceipt) -> Vec<LogView> {
        receipt
            .inner
            .logs()
            .iter()
            .map(|l| {
                let topics = l.topics().to_vec();
                let data = l.data().data.clone();
                let decoded = self.decoder.log(
                    &l.address(),
                    self.code_hash(&l.address()).as_ref(),
                    &topics,
                    &data,
                );
                LogView {
                    index: l.log_index.unwrap_or_default(),
                    address: l.address(),
                    topics,
                    data,
                    decoded,
                }
            })
            .collect()
    }

    /// Transactions touching `a`, newest first, before `before`.
    pub fn address_txs(
        &self,
        a: &Address,
        before: Option<(u64, u32)>,
        limit: usize,
    ) -> Read<Vec<TxSummary>> {
        let entries = self.backend.address_txs(a, before, limit)?;
        let mut out = Vec::with_capacity(entries.len());
        let mut cached: Option<(u64, Vec<TxSummary>)> = None;
        for e in entries {
            if cached.as_ref().is_none_or(|(b, _)| *b != e.block) {
                cached = Some((e.block, self.block_txs(e.block)?));
            }
            if let Some((_, txs)) = &cached
                && let Some(t) = txs.get(e.index as usize)
            {
                out.push(t.clone());
            }
        }
        Ok(out)
    }
}

/// The page's value of an amount of wei, in VAI with up to 6 decimals.
pub fn vai(wei: U256) -> String {
    let unit = U256::from(10u64).pow(U256::from(18));
    let whole = wei / unit;
    let frac = (wei % unit) / U256::from(10u64).pow(U256::from(12));
    if frac.is_zero() {
        format!("{whole} VAI")
    } else {
        let f = format!("{:06}", frac.to::<u64>());
        format!("{whole}.{} VAI", f.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        assert_eq!(vai(U256::ZERO), "0 VAI");
        assert_eq!(vai(U256::from(1_500_000_000_000_000_000u128)), "1.5 VAI");
        assert_eq!(vai(U256::from(1u64)), "0 VAI");
    }
}
