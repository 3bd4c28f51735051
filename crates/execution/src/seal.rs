//! Receipt sealing: each receipt's logs bloom, its EIP-2718 encoding, the block's bloom and
//! its receipts root, computed while the block executes.
//!
//! Ethereum requires all four, and together they cost more than half of executing a plain
//! ERC-20 transfer (keccak of every log address and topic for the blooms, keccak of every
//! ~400-byte encoded receipt for the trie). Two things make them cheap:
//! - **Bloom hashes are memoized per block.** A block's logs repeat a few contract addresses
//!   and topics (the token, `Transfer`, its frequent senders and recipients), so each
//!   distinct one is hashed once.
//! - **The trie is built as receipts arrive.** The receipts trie is keyed by `rlp(index)`,
//!   and its leaves must be added in key order: 1, 2, ..., 127, then 0, then 128, 129, ...
//!   (`rlp(0)` is `0x80`). That order depends only on the number of receipts, so when it is
//!   known up front (verifying a proposal: every transaction must succeed) each leaf is hashed
//!   as soon as its receipt and its predecessors in key order are in. When it is not (building
//!   a proposal, where transactions may be left out), leaves wait for [`Sealer::finish`].
//!
//! [`execute_block`](crate::execute_block) runs a [`Sealer`] on a helper thread for large
//! blocks, so that this work overlaps with the EVM's. The output is a pure function of the
//! receipts: the same on one thread or two, checked against alloy's
//! `ordered_trie_root_with_encoder` in the tests.

use alloy_consensus::{Receipt, ReceiptEnvelope, ReceiptWithBloom, TxType};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{
    Address, B256, Bloom, BloomInput, Log, keccak256,
    map::{AddressHashMap, B256HashMap},
};
use alloy_trie::{EMPTY_ROOT_HASH, HashBuilder, Nibbles, root::adjust_index_for_rlp};

/// Distinct hashes kept per block before the memo starts over (bounds its memory).
const MEMO_LIMIT: usize = 1 << 16;

/// keccak256 of log addresses and topics, memoized.
#[derive(Default)]
pub(crate) struct BloomMemo {
    addresses: AddressHashMap<B256>,
    topics: B256HashMap<B256>,
}

impl BloomMemo {
    fn address(&mut self, a: &Address) -> B256 {
        if self.addresses.len() >= MEMO_LIMIT {
            self.addresses.clear();
        }
        *self.addresses.entry(*a).or_insert_with(|| keccak256(a))
    }

    fn topic(&mut self, t: &B256) -> B256 {
        if self.topics.len() >= MEMO_LIMIT {
            self.topics.clear();
        }
        *self.topics.entry(*t).or_insert_with(|| keccak256(t))
    }

    /// The bloom of `logs`, as `Receipt::bloom_slow` computes it.
    pub(crate) fn bloom(&mut self, logs: &[Log]) -> Bloom {
        let mut bloom = Bloom::ZERO;
        for log in logs {
            bloom.accrue(BloomInput::Hash(self.address(&log.address)));
            for t in log.topics() {
                bloom.accrue(BloomInput::Hash(self.topic(t)));
            }
        }
        bloom
    }
}

/// The receipts trie, fed in receipt order, hashed in key order.
struct RootBuilder {
    /// Number of receipts, when known.
    len: Option<usize>,
    /// Position in key order of the next leaf to add.
    next: usize,
    /// Encoded receipts not yet added, by receipt index.
    pending: Vec<Option<Vec<u8>>>,
    hb: HashBuilder,
}

impl RootBuilder {
    fn new(len: Option<usize>) -> Self {
        Self {
            len,
            next: 0,
            pending: Vec::with_capacity(len.unwrap_or(0)),
            hb: HashBuilder::default(),
        }
    }

    fn push(&mut self, index: usize, encoded: Vec<u8>) {
        if self.pending.len() <= index {
            self.pending.resize_with(index + 1, || None);
        }
        self.pending[index] = Some(encoded);
        self.drain();
    }

    /// Add every leaf whose turn has come and whose receipt is in.
    fn drain(&mut self) {
        let Some(len) = self.len else { return };
        while self.next < len {
            let index = adjust_index_for_rlp(self.next, len);
            let Some(encoded) = self.pending.get_mut(index).and_then(Option::take) else {
                return;
            };
            let key = alloy_rlp::encode_fixed_size(&index);
            self.hb.add_leaf(Nibbles::unpack(&key), &encoded);
            self.next += 1;
        }
    }

    fn root(mut self, len: usize) -> B256 {
        if len == 0 {
            return EMPTY_ROOT_HASH;
        }
        if self.len.is_some_and(|n| n != len) {
            // Fewer receipts than announced: the block failed midway and is discarded.
            return B256::ZERO;
        }
        self.len = Some(len);
        self.drain();
        debug_assert_eq!(self.next, len, "a receipt is missing");
        self.hb.root()
    }
}

/// What sealing a block's receipts produced.
pub(crate) struct Sealed {
    /// One envelope per receipt, in order, bloom included.
    pub(crate) receipts: Vec<ReceiptEnvelope>,
    /// Union of the receipts' blooms.
    pub(crate) logs_bloom: Bloom,
    /// Ethereum receipts root.
    pub(crate) receipts_root: B256,
}

/// Seals a block's receipts one by one; see the module docs.
pub(crate) struct Sealer {
    memo: BloomMemo,
    root: RootBuilder,
    receipts: Vec<ReceiptEnvelope>,
    logs_bloom: Bloom,
}

impl Sealer {
    /// A sealer for a block of `len` receipts, or of a number known only at the end.
    pub(crate) fn new(len: Option<usize>) -> Self {
        Self {
            memo: BloomMemo::default(),
            root: RootBuilder::new(len),
            receipts: Vec::with_capacity(len.unwrap_or(0)),
            logs_bloom: Bloom::ZERO,
        }
    }

    /// Seal the next receipt, typed like its transaction.
    pub(crate) fn push(&mut self, receipt: Receipt, ty: TxType) {
        let logs_bloom = self.memo.bloom(&receipt.logs);
        self.logs_bloom |= logs_bloom;
        let envelope = ReceiptEnvelope::from_typed(
            ty,
            ReceiptWithBloom {
                receipt,
                logs_bloom,
            },
        );
        let mut encoded = Vec::with_capacity(envelope.encode_2718_len());
        envelope.encode_2718(&mut encoded);
        self.root.push(self.receipts.len(), encoded);
        self.receipts.push(envelope);
    }

    /// Receipts sealed so far.
    pub(crate) fn len(&self) -> usize {
        self.receipts.len()
    }

    pub(crate) fn finish(self) -> Sealed {
        let len = self.receipts.len();
        Sealed {
            receipts_root: self.root.root(len),
            logs_bloom: self.logs_bloom,
            receipts: self.receipts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Bytes, LogData};

    fn receipt(i: usize) -> Receipt {
        // A few repeating addresses and topics, as a token's transfers have.
        let topic = |k: usize| B256::with_last_byte((k % 7) as u8);
        let logs = (0..i % 3)
            .map(|j| Log {
                address: Address::with_last_byte((i % 5 + j) as u8),
                data: LogData::new_unchecked(
                    vec![topic(i), topic(i + j + 1)],
                    Bytes::from(vec![i as u8; j * 10]),
                ),
            })
            .collect();
        Receipt {
            status: (!i.is_multiple_of(4)).into(),
            cumulative_gas_used: 21_000 * (i as u64 + 1),
            logs,
        }
    }

    fn expected(n: usize) -> (Vec<ReceiptEnvelope>, B256, Bloom) {
        let envelopes: Vec<ReceiptEnvelope> = (0..n)
            .map(|i| ReceiptEnvelope::Eip1559(ReceiptWithBloom::from(receipt(i))))
            .collect();
        let root = verai_primitives::receipts_root(&envelopes);
        let bloom = verai_primitives::logs_bloom(&envelopes);
        (envelopes, root, bloom)
    }

    #[test]
    fn same_as_alloy_for_every_size_and_mode() {
        for n in [0, 1, 2, 3, 126, 127, 128, 129, 130, 300] {
            let (envelopes, root, bloom) = expected(n);
            for len in [Some(n), None] {
                let mut s = Sealer::new(len);
                for i in 0..n {
                    s.push(receipt(i), TxType::Eip1559);
                }
                let sealed = s.finish();
                assert_eq!(sealed.receipts, envelopes, "n {n}");
                assert_eq!(sealed.receipts_root, root, "n {n} len {len:?}");
                assert_eq!(sealed.logs_bloom, bloom, "n {n}");
            }
        }
    }

    #[test]
    fn memo_bloom_matches_and_stays_bounded() {
        let mut memo = BloomMemo::default();
        for i in 0..50 {
            let r = receipt(i);
            assert_eq!(memo.bloom(&r.logs), r.bloom_slow());
        }
        for i in 0..(MEMO_LIMIT + 10) {
            memo.topic(&B256::from(alloy_primitives::U256::from(i)));
        }
        assert!(memo.topics.len() <= MEMO_LIMIT);
    }
}
