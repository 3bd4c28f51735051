//! Translation of blocks and transactions into revm's environment.

use alloy_consensus::{Transaction, TxEnvelope};
use alloy_primitives::{Address, B256, U256};
use revm::{
    context::{BlockEnv, CfgEnv, TxEnv},
    primitives::hardfork::SpecId,
};
use verai_primitives::RecoveredTx;

/// The EVM rules every block runs under.
pub const SPEC: SpecId = SpecId::PRAGUE;

/// The block-level inputs of execution, all taken from the header being built or verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockParams {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// Block height.
    pub number: u64,
    /// Block timestamp (seconds).
    pub timestamp: u64,
    /// Receiver of priority fees.
    pub beneficiary: Address,
    /// Block gas limit.
    pub gas_limit: u64,
    /// EIP-1559 base fee of this block.
    pub base_fee: u64,
    /// `PREVRANDAO` value (the header's mix hash).
    pub prevrandao: B256,
}

impl BlockParams {
    /// The parameters a block's header fixes (a header without a base fee has base fee 0).
    pub fn from_header(chain_id: u64, h: &alloy_consensus::Header) -> Self {
        Self {
            chain_id,
            number: h.number,
            timestamp: h.timestamp,
            beneficiary: h.beneficiary,
            gas_limit: h.gas_limit,
            base_fee: h.base_fee_per_gas.unwrap_or_default(),
            prevrandao: h.mix_hash,
        }
    }

    /// The revm block environment.
    pub fn block_env(&self) -> BlockEnv {
        BlockEnv {
            number: U256::from(self.number),
            beneficiary: self.beneficiary,
            timestamp: U256::from(self.timestamp),
            gas_limit: self.gas_limit,
            basefee: self.base_fee,
            difficulty: U256::ZERO,
            prevrandao: Some(self.prevrandao),
            ..Default::default()
        }
    }

    /// The revm configuration (spec, chain id).
    pub fn cfg_env(&self) -> CfgEnv {
        let mut cfg = CfgEnv::new_with_spec(SPEC);
        cfg.set_spec_and_mainnet_gas_params(SPEC);
        cfg.chain_id = self.chain_id;
        cfg
    }
}

/// The revm transaction for a recovered Ethereum transaction.
pub(crate) fn tx_env(tx: &RecoveredTx) -> TxEnv {
    let env = &tx.envelope;
    let (gas_price, gas_priority_fee) = match env {
        TxEnvelope::Legacy(_) | TxEnvelope::Eip2930(_) => (env.max_fee_per_gas(), None),
        _ => (env.max_fee_per_gas(), env.max_priority_fee_per_gas()),
    };
    TxEnv {
        tx_type: env.tx_type() as u8,
        caller: tx.sender,
        gas_limit: env.gas_limit(),
        gas_price,
        kind: env.kind(),
        value: env.value(),
        data: env.input().clone(),
        nonce: env.nonce(),
        chain_id: env.chain_id(),
        access_list: env.access_list().cloned().unwrap_or_default(),
        gas_priority_fee,
        ..Default::default()
    }
}
