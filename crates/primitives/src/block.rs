//! A block: an Ethereum header and the list of transactions it orders.
//!
//! Wire format: RLP list `[header, [tx_2718_bytes, ...]]`, the transactions in their
//! EIP-2718 network form. The block hash is the Ethereum header hash.

use crate::{MAX_BLOCK_BYTES, PrimitivesError, RecoveredTx};
use alloy_consensus::{Header, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::B256;
use alloy_rlp::{Decodable, Encodable, Header as RlpHeader};

/// A block as validators agree on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The Ethereum header; its hash identifies the block.
    pub header: Header,
    /// Transactions in execution order.
    pub transactions: Vec<TxEnvelope>,
    hash: B256,
}

impl Block {
    /// Assemble a block and compute its hash.
    pub fn new(header: Header, transactions: Vec<TxEnvelope>) -> Self {
        let hash = header.hash_slow();
        Self {
            header,
            transactions,
            hash,
        }
    }

    /// The Ethereum block hash (keccak of the RLP header).
    pub fn hash(&self) -> B256 {
        self.hash
    }

    /// Height of the block.
    pub fn number(&self) -> u64 {
        self.header.number
    }

    /// Hash of the parent block.
    pub fn parent_hash(&self) -> B256 {
        self.header.parent_hash
    }

    fn payload_len(&self) -> usize {
        self.header.length() + txs_list_len(&self.transactions)
    }

    /// Encode to the wire format.
    pub fn encode(&self) -> Vec<u8> {
        let payload_length = self.payload_len();
        let mut out = Vec::with_capacity(payload_length + 8);
        RlpHeader {
            list: true,
            payload_length,
        }
        .encode(&mut out);
        self.header.encode(&mut out);
        let txs_payload: usize = self.transactions.iter().map(tx_item_len).sum();
        RlpHeader {
            list: true,
            payload_length: txs_payload,
        }
        .encode(&mut out);
        for tx in &self.transactions {
            let mut raw = Vec::with_capacity(tx.encode_2718_len());
            tx.encode_2718(&mut raw);
            raw.as_slice().encode(&mut out);
        }
        out
    }

    /// Length of [`Block::encode`]'s output without encoding.
    pub fn encoded_len(&self) -> usize {
        let p = self.payload_len();
        p + alloy_rlp::length_of_length(p)
    }

    /// Decode from the wire format, refusing anything above [`MAX_BLOCK_BYTES`].
    pub fn decode(mut bytes: &[u8]) -> Result<Self, PrimitivesError> {
        if bytes.len() > MAX_BLOCK_BYTES {
            return Err(PrimitivesError::TooLarge {
                what: "block",
                size: bytes.len(),
                limit: MAX_BLOCK_BYTES,
            });
        }
        let malformed = |e: alloy_rlp::Error| PrimitivesError::Malformed {
            what: "block",
            reason: e.to_string(),
        };
        let outer = RlpHeader::decode(&mut bytes).map_err(malformed)?;
        if !outer.list || outer.payload_length != bytes.len() {
            return Err(malformed(alloy_rlp::Error::UnexpectedLength));
        }
        let header = Header::decode(&mut bytes).map_err(malformed)?;
        let txs_header = RlpHeader::decode(&mut bytes).map_err(malformed)?;
        if !txs_header.list || txs_header.payload_length != bytes.len() {
            return Err(malformed(alloy_rlp::Error::UnexpectedLength));
        }
        let mut transactions = Vec::new();
        while !bytes.is_empty() {
            let raw = alloy_rlp::Header::decode_bytes(&mut bytes, false).map_err(malformed)?;
            let tx = RecoveredTx::decode_envelope(raw)?;
            transactions.push(tx);
        }
        Ok(Self::new(header, transactions))
    }
}

fn tx_item_len(tx: &TxEnvelope) -> usize {
    let n = tx.encode_2718_len();
    // A byte string of length n: 1 byte when n == 1 and < 0x80 is impossible for a tx.
    n + alloy_rlp::length_of_length(n)
}

fn txs_list_len(txs: &[TxEnvelope]) -> usize {
    let p: usize = txs.iter().map(tx_item_len).sum();
    p + alloy_rlp::length_of_length(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tx::tests::signed_transfer;

    #[test]
    fn roundtrip_empty_and_full() {
        let header = Header {
            number: 7,
            gas_limit: 30_000_000,
            ..Default::default()
        };
        let empty = Block::new(header.clone(), vec![]);
        let bytes = empty.encode();
        assert_eq!(bytes.len(), empty.encoded_len());
        assert_eq!(Block::decode(&bytes).unwrap(), empty);

        let txs = (0..3).map(signed_transfer).collect();
        let full = Block::new(header, txs);
        let bytes = full.encode();
        assert_eq!(bytes.len(), full.encoded_len());
        let back = Block::decode(&bytes).unwrap();
        assert_eq!(back, full);
        assert_eq!(back.hash(), full.hash());
    }

    #[test]
    fn rejects_garbage_and_trailing_bytes() {
        assert!(Block::decode(&[0xc0]).is_err());
        assert!(Block::decode(&[0xff, 0x00, 0x01]).is_err());
        let block = Block::new(Header::default(), vec![]);
        let mut bytes = block.encode();
        bytes.push(0);
        assert!(Block::decode(&bytes).is_err());
    }
}
