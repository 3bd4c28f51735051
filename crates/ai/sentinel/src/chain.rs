//! From a finalized block and its receipts to the feature store's [`BlockActivity`].
//!
//! Each transaction contributes its sender and recipient (from the receipt, where the
//! sender was recovered at admission), its value (from the transaction) and the effective
//! gas price; failed transactions count too (the data set's transaction counts include them;
//! they move no value, so their value is taken as zero). A successful creation's contract
//! address is recorded as a contract. ERC-20 transfers are the logs with topic0
//! `Transfer(address,address,uint256)`, exactly three topics (ERC-721 has four) and 32
//! bytes of data; other logs, and malformed ones, are ignored. Token decimals are not in
//! the logs: 18 is assumed. Whether a recipient has code is asked of the caller (state).
//!
//! Sender balances before each transaction are reconstructed from the balances after the
//! block by undoing the block's transactions from last to first (value and fee). Value moved
//! inside contract calls and the proposer's tips are not undone, so a balance is exact for
//! plain transfers and an estimate otherwise; it only feeds the anomaly detector's history.

use crate::store::{BlockActivity, ChainTx, TokenTransfer};
use alloy_consensus::Transaction;
use alloy_primitives::{Address, B256, U256, b256, map::AddressHashMap};
use verai_primitives::{Block, StoredReceipt};

/// keccak256("Transfer(address,address,uint256)").
pub const TRANSFER_TOPIC: B256 =
    b256!("ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");

/// Builds the store's input for one finalized block. `receipts` are the block's, in
/// transaction order; `has_code` tells whether an address held code after the block and
/// `balance_of` its balance after the block. Returns `None` when the receipts do not match
/// the transactions in number.
pub fn block_activity(
    block: &Block,
    receipts: &[StoredReceipt],
    has_code: impl Fn(&Address) -> bool,
    balance_of: impl Fn(&Address) -> U256,
) -> Option<BlockActivity> {
    if block.transactions.len() != receipts.len() {
        return None;
    }
    let created: Vec<Address> = receipts.iter().filter_map(|r| r.contract_address).collect();
    let before = balances_before(block, receipts, balance_of);
    // Once per address and block: a busy block sends most of its calls to a few contracts,
    // and `has_code` reads the node's state.
    let mut code: AddressHashMap<bool> = AddressHashMap::default();
    let mut is_contract = |a: &Address| {
        *code
            .entry(*a)
            .or_insert_with(|| created.contains(a) || has_code(a))
    };
    let mut txs = Vec::with_capacity(receipts.len());
    let mut transfers = Vec::new();
    for ((tx, r), sender_balance) in block.transactions.iter().zip(receipts).zip(before) {
        let ok = r.receipt.status();
        txs.push(ChainTx {
            from: r.from,
            to: r.to,
            value: if ok { tx.value() } else { U256::ZERO },
            gas_price: r.effective_gas_price,
            to_is_contract: r.to.as_ref().is_some_and(&mut is_contract),
            sender_balance,
        });
        for log in r.receipt.logs() {
            let topics = log.topics();
            if topics.len() != 3 || topics[0] != TRANSFER_TOPIC || log.data.data.len() != 32 {
                continue;
            }
            let to = Address::from_word(topics[2]);
            transfers.push(TokenTransfer {
                token: log.address,
                from: Address::from_word(topics[1]),
                to,
                amount: U256::from_be_slice(&log.data.data),
                decimals: 18,
                to_is_contract: is_contract(&to),
            });
        }
    }
    Some(BlockActivity {
        number: block.number(),
        timestamp: block.header.timestamp,
        txs,
        transfers,
    })
}

/// Each transaction's sender balance before it, undoing the block from its end.
fn balances_before(
    block: &Block,
    receipts: &[StoredReceipt],
    balance_of: impl Fn(&Address) -> U256,
) -> Vec<U256> {
    let mut bal: AddressHashMap<U256> = AddressHashMap::default();
    let mut out = vec![U256::ZERO; receipts.len()];
    for (i, (tx, r)) in block.transactions.iter().zip(receipts).enumerate().rev() {
        let value = if r.receipt.status() {
            tx.value()
        } else {
            U256::ZERO
        };
        let fee = U256::from(r.gas_used).saturating_mul(U256::from(r.effective_gas_price));
        if let Some(to) = r.to.filter(|to| *to != r.from) {
            let b = *bal.entry(to).or_insert_with(|| balance_of(&to));
            bal.insert(to, b.saturating_sub(value));
        }
        let moved = if r.to == Some(r.from) {
            U256::ZERO
        } else {
            value
        };
        let b = *bal.entry(r.from).or_insert_with(|| balance_of(&r.from));
        let pre = b.saturating_add(moved).saturating_add(fee);
        bal.insert(r.from, pre);
        out[i] = pre;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{
        Header, Receipt, ReceiptEnvelope, ReceiptWithBloom, Signed, TxEnvelope, TxLegacy,
    };
    use alloy_primitives::{Bytes, Log, LogData, Signature, TxKind, keccak256};

    fn legacy(to: Option<Address>, value: u64) -> TxEnvelope {
        let tx = TxLegacy {
            to: to.map_or(TxKind::Create, TxKind::Call),
            value: U256::from(value),
            ..Default::default()
        };
        TxEnvelope::Legacy(Signed::new_unchecked(
            tx,
            Signature::test_signature(),
            B256::ZERO,
        ))
    }

    fn receipt(from: u8, to: Option<u8>, ok: bool, logs: Vec<Log>) -> StoredReceipt {
        StoredReceipt {
            receipt: ReceiptEnvelope::Legacy(ReceiptWithBloom::from(Receipt {
                status: ok.into(),
                cumulative_gas_used: 21_000,
                logs,
            })),
            tx_hash: B256::ZERO,
            from: Address::repeat_byte(from),
            to: to.map(Address::repeat_byte),
            contract_address: None,
            gas_used: 21_000,
            effective_gas_price: 7,
        }
    }

    #[test]
    fn topic_is_the_transfer_event() {
        assert_eq!(
            TRANSFER_TOPIC,
            keccak256("Transfer(address,address,uint256)")
        );
    }

    #[test]
    fn transactions_and_transfer_logs() {
        let token = Address::repeat_byte(0xee);
        let word = |a: u8| Address::repeat_byte(a).into_word();
        let transfer = Log {
            address: token,
            data: LogData::new_unchecked(
                vec![TRANSFER_TOPIC, word(1), word(3)],
                Bytes::from(U256::from(5u64).to_be_bytes::<32>().to_vec()),
            ),
        };
        // An ERC-721 Transfer (4 topics) and a log with other data are ignored.
        let nft = Log {
            address: token,
            data: LogData::new_unchecked(
                vec![TRANSFER_TOPIC, word(1), word(3), B256::ZERO],
                Bytes::new(),
            ),
        };
        let header = Header {
            number: 9,
            timestamp: 1234,
            ..Default::default()
        };
        let block = Block::new(
            header,
            vec![
                legacy(Some(Address::repeat_byte(2)), 100),
                legacy(Some(token), 50),
            ],
        );
        let receipts = vec![
            receipt(1, Some(2), true, vec![]),
            receipt(1, Some(0xee), false, vec![]),
        ];
        let mut receipts_with_logs = receipts.clone();
        receipts_with_logs[0] = receipt(1, Some(2), true, vec![transfer, nft]);
        let after = |a: &Address| {
            U256::from(if *a == Address::repeat_byte(1) {
                1_000_000u64
            } else {
                0
            })
        };
        let a = block_activity(&block, &receipts_with_logs, |a| *a == token, after).unwrap();
        assert_eq!((a.number, a.timestamp), (9, 1234));
        assert_eq!(a.txs.len(), 2);
        assert_eq!(a.txs[0].value, U256::from(100u64));
        assert!(!a.txs[0].to_is_contract);
        assert_eq!(a.txs[1].value, U256::ZERO); // failed: no value moved
        assert!(a.txs[1].to_is_contract);
        assert_eq!(a.txs[1].gas_price, 7);
        // Balances before: the failed call cost its fee only; the transfer its value and fee.
        assert_eq!(a.txs[1].sender_balance, U256::from(1_000_000u64 + 147_000));
        assert_eq!(
            a.txs[0].sender_balance,
            U256::from(1_000_000u64 + 2 * 147_000 + 100)
        );
        assert_eq!(a.transfers.len(), 1);
        let t = &a.transfers[0];
        assert_eq!(
            (t.token, t.from, t.to),
            (token, Address::repeat_byte(1), Address::repeat_byte(3))
        );
        assert_eq!(t.amount, U256::from(5u64));
        // Mismatched receipts are refused.
        assert!(block_activity(&block, &receipts[..1], |_| false, |_| U256::ZERO).is_none());
    }
}
