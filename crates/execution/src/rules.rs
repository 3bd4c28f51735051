//! The chain's block rules, as pure functions: what the child of a block must look like
//! (base fee, parameters, canonical header fields) before and after it is executed.
//!
//! A proposer builds a header with [`child_params`] and [`header`]; a validator checks a
//! proposal's header with [`check_header`] before executing it, then compares gas, receipts
//! root, bloom and state root with its own execution. Both sides use these functions, so
//! they cannot disagree about the rules.

use crate::{BlockParams, ExecutedBlock};
use alloy_consensus::{EMPTY_OMMER_ROOT_HASH, Header};
use alloy_eips::eip1559::BaseFeeParams;
use alloy_primitives::{Address, B64, B256, Bytes, U256};
use verai_primitives::{Block, transactions_root};

/// How far ahead of a validator's clock a proposal's timestamp may be.
pub const MAX_CLOCK_DRIFT_MS: u64 = 15_000;

/// The expected base fee of the child of `parent` (EIP-1559).
pub fn next_base_fee(parent: &Header) -> u64 {
    parent
        .next_block_base_fee(BaseFeeParams::ethereum())
        .unwrap_or(verai_primitives::INITIAL_BASE_FEE)
}

/// Block parameters for the child of `parent` at `timestamp` (never before the parent's).
pub fn child_params(
    chain_id: u64,
    parent: &Block,
    timestamp: u64,
    beneficiary: Address,
) -> BlockParams {
    BlockParams {
        chain_id,
        number: parent.number() + 1,
        timestamp: timestamp.max(parent.header.timestamp),
        beneficiary,
        gas_limit: parent.header.gas_limit,
        base_fee: next_base_fee(&parent.header),
        // PREVRANDAO is the parent hash: deterministic, and not a source of randomness.
        prevrandao: parent.hash(),
    }
}

/// The header of a block built with `params` on `parent`, executed to `result`, whose state
/// root is `state_root`.
pub fn header(
    params: &BlockParams,
    parent: &Block,
    result: &ExecutedBlock,
    state_root: B256,
) -> Header {
    Header {
        parent_hash: parent.hash(),
        ommers_hash: EMPTY_OMMER_ROOT_HASH,
        beneficiary: params.beneficiary,
        state_root,
        transactions_root: transactions_root(&result.transactions),
        receipts_root: result.receipts_root,
        logs_bloom: result.logs_bloom,
        difficulty: U256::ZERO,
        number: params.number,
        gas_limit: params.gas_limit,
        gas_used: result.gas_used,
        timestamp: params.timestamp,
        extra_data: Bytes::new(),
        mix_hash: params.prevrandao,
        nonce: B64::ZERO,
        base_fee_per_gas: Some(params.base_fee),
        ..Default::default()
    }
}

/// Check what can be checked of `block`'s header without executing it, against its parent
/// and the validator's clock (`now_ms`, unix milliseconds); `Err` says what is wrong.
pub fn check_header(parent: &Block, block: &Block, now_ms: u64) -> Result<(), &'static str> {
    let h = &block.header;
    if h.parent_hash != parent.hash() || h.number != parent.number() + 1 {
        return Err("not a child of its parent");
    }
    if h.gas_limit != parent.header.gas_limit {
        return Err("gas limit changed");
    }
    if h.timestamp < parent.header.timestamp {
        return Err("timestamp before parent's");
    }
    if h.timestamp.saturating_mul(1000) > now_ms.saturating_add(MAX_CLOCK_DRIFT_MS) {
        return Err("timestamp too far in the future");
    }
    if h.base_fee_per_gas != Some(next_base_fee(&parent.header)) {
        return Err("wrong base fee");
    }
    if h.ommers_hash != EMPTY_OMMER_ROOT_HASH
        || !h.difficulty.is_zero()
        || !h.extra_data.is_empty()
        || h.mix_hash != parent.hash()
    {
        return Err("non-canonical header fields");
    }
    if h.transactions_root != transactions_root(&block.transactions) {
        return Err("wrong transactions root");
    }
    Ok(())
}

/// Check `block`'s execution results against the header: gas used, receipts root and
/// bloom (the state root is compared by the caller, who computes it).
pub fn check_executed(block: &Block, result: &ExecutedBlock) -> Result<(), &'static str> {
    let h = &block.header;
    if result.gas_used != h.gas_used {
        return Err("wrong gas used");
    }
    if result.receipts_root != h.receipts_root || result.logs_bloom != h.logs_bloom {
        return Err("wrong receipts root or logs bloom");
    }
    Ok(())
}
