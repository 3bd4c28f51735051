//! Signing transfers from many keys, nonces tracked locally after the first look-up.

use crate::WorkloadError;
use alloy_consensus::TxEip1559;
use alloy_eips::{BlockId, BlockNumberOrTag};
use alloy_primitives::{Address, B256, TxKind, U256};
use alloy_signer_local::PrivateKeySigner;
use std::collections::HashMap;
use verai_client::{Client, api::EthApiClient, sign};

/// Gas of a plain transfer.
pub const TRANSFER_GAS: u64 = 21_000;
/// Fee cap of the workload's transactions (10 gwei: far above a dev chain's base fee).
pub const MAX_FEE: u128 = 10_000_000_000;
/// Priority fee (1 gwei).
pub const TIP: u128 = 1_000_000_000;

/// Sends value transfers, keeping each sender's next nonce.
#[derive(Debug)]
pub struct Sender {
    /// The node.
    pub client: Client,
    chain_id: u64,
    nonces: HashMap<Address, u64>,
}

impl Sender {
    /// A sender on the node `client` serves.
    pub async fn new(client: Client) -> Result<Self, WorkloadError> {
        let chain_id = client.chain_id().await?;
        Ok(Self {
            client,
            chain_id,
            nonces: HashMap::new(),
        })
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    async fn nonce(&mut self, a: Address) -> Result<u64, WorkloadError> {
        if let Some(n) = self.nonces.get(&a) {
            return Ok(*n);
        }
        let pending = Some(BlockId::Number(BlockNumberOrTag::Pending));
        Ok(self.client.get_transaction_count(a, pending).await?.to())
    }

    /// Sign and send a transfer of `value` wei; returns its hash.
    pub async fn transfer(
        &mut self,
        from: &PrivateKeySigner,
        to: Address,
        value: U256,
    ) -> Result<B256, WorkloadError> {
        let nonce = self.nonce(from.address()).await?;
        let tx = TxEip1559 {
            chain_id: self.chain_id,
            nonce,
            gas_limit: TRANSFER_GAS,
            max_fee_per_gas: MAX_FEE,
            max_priority_fee_per_gas: TIP,
            to: TxKind::Call(to),
            value,
            ..Default::default()
        };
        let hash = self.client.send_raw_transaction(sign(from, tx)?).await?;
        self.nonces.insert(from.address(), nonce + 1);
        Ok(hash)
    }

    /// A balance in the latest finalized state.
    pub async fn balance(&self, a: Address) -> Result<U256, WorkloadError> {
        Ok(self.client.get_balance(a, None).await?)
    }
}
