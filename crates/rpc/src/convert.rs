//! From stored blocks, transactions and receipts to the JSON-RPC types clients expect.

use alloy_consensus::{ReceiptEnvelope, ReceiptWithBloom, transaction::Recovered};
use alloy_primitives::U256;
use alloy_rpc_types_eth::{
    Block as RpcBlock, BlockTransactions, Header as RpcHeader, Log as RpcLog,
    Transaction as RpcTransaction, TransactionReceipt,
};
use verai_primitives::{Block, RecoveredTx, StoredReceipt};

/// A transaction as included in `block` at `index`.
pub fn tx_in_block(block: &Block, index: usize, tx: RecoveredTx) -> RpcTransaction {
    let base_fee = block.header.base_fee_per_gas.unwrap_or_default();
    let effective_gas_price = tx.effective_tip(base_fee).map(|t| t + u128::from(base_fee));
    RpcTransaction {
        inner: Recovered::new_unchecked(tx.envelope, tx.sender),
        block_hash: Some(block.hash()),
        block_number: Some(block.number()),
        transaction_index: Some(index as u64),
        effective_gas_price,
        block_timestamp: Some(block.header.timestamp),
    }
}

/// A pooled transaction, not yet in a block.
pub fn pending_tx(tx: RecoveredTx) -> RpcTransaction {
    RpcTransaction {
        inner: Recovered::new_unchecked(tx.envelope, tx.sender),
        block_hash: None,
        block_number: None,
        transaction_index: None,
        effective_gas_price: None,
        block_timestamp: None,
    }
}

/// A block, with full transactions or only their hashes.
pub fn block(block: &Block, full: bool) -> RpcBlock {
    let transactions = if full {
        BlockTransactions::Full(
            block
                .transactions
                .iter()
                .enumerate()
                .filter_map(|(i, t)| {
                    RecoveredTx::recover(t.clone())
                        .ok()
                        .map(|r| tx_in_block(block, i, r))
                })
                .collect(),
        )
    } else {
        BlockTransactions::Hashes(block.transactions.iter().map(|t| *t.tx_hash()).collect())
    };
    RpcBlock {
        header: RpcHeader {
            hash: block.hash(),
            inner: block.header.clone(),
            total_difficulty: Some(U256::ZERO),
            size: Some(U256::from(block.encoded_len())),
        },
        uncles: vec![],
        transactions,
        withdrawals: None,
    }
}

/// Index of the first log of each receipt in the block (`logIndex` is block-wide).
pub fn first_log_indexes(receipts: &[StoredReceipt]) -> Vec<u64> {
    let mut next = 0u64;
    receipts
        .iter()
        .map(|r| {
            let first = next;
            next += r.receipt.logs().len() as u64;
            first
        })
        .collect()
}

/// The RPC log of log `i` of receipt `tx_index` in `block`.
pub fn log(
    block: &Block,
    r: &StoredReceipt,
    tx_index: usize,
    log_index: u64,
    i: usize,
) -> Option<RpcLog> {
    let inner = r.receipt.logs().get(i)?.clone();
    Some(RpcLog {
        inner,
        block_hash: Some(block.hash()),
        block_number: Some(block.number()),
        block_timestamp: Some(block.header.timestamp),
        transaction_hash: Some(r.tx_hash),
        transaction_index: Some(tx_index as u64),
        log_index: Some(log_index),
        removed: false,
    })
}

/// The receipt of transaction `index` of `block`.
pub fn receipt(
    block: &Block,
    receipts: &[StoredReceipt],
    index: usize,
) -> Option<TransactionReceipt> {
    let r = receipts.get(index)?;
    let first = first_log_indexes(receipts)
        .get(index)
        .copied()
        .unwrap_or_default();
    let logs: Vec<RpcLog> = (0..r.receipt.logs().len())
        .filter_map(|i| log(block, r, index, first + i as u64, i))
        .collect();
    let with_bloom = |rb: &ReceiptWithBloom| ReceiptWithBloom {
        receipt: alloy_consensus::Receipt {
            status: rb.receipt.status,
            cumulative_gas_used: rb.receipt.cumulative_gas_used,
            logs: logs.clone(),
        },
        logs_bloom: rb.logs_bloom,
    };
    let inner = match &r.receipt {
        ReceiptEnvelope::Legacy(rb) => ReceiptEnvelope::Legacy(with_bloom(rb)),
        ReceiptEnvelope::Eip2930(rb) => ReceiptEnvelope::Eip2930(with_bloom(rb)),
        ReceiptEnvelope::Eip1559(rb) => ReceiptEnvelope::Eip1559(with_bloom(rb)),
        ReceiptEnvelope::Eip4844(rb) => ReceiptEnvelope::Eip4844(with_bloom(rb)),
        ReceiptEnvelope::Eip7702(rb) => ReceiptEnvelope::Eip7702(with_bloom(rb)),
    };
    Some(TransactionReceipt {
        inner,
        transaction_hash: r.tx_hash,
        transaction_index: Some(index as u64),
        block_hash: Some(block.hash()),
        block_number: Some(block.number()),
        gas_used: r.gas_used,
        effective_gas_price: r.effective_gas_price,
        blob_gas_used: None,
        blob_gas_price: None,
        from: r.from,
        to: r.to,
        contract_address: r.contract_address,
    })
}
