//! Receipts as stored by the node: the Ethereum receipt plus what RPC needs to serve it.
//!
//! Stored format: RLP list `[receipt_2718, tx_hash, from, to_or_empty, contract_or_empty,
//! gas_used, effective_gas_price]`.

use crate::PrimitivesError;
use alloy_consensus::{ReceiptEnvelope, TxReceipt};
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_primitives::{Address, B256, Bloom, Bytes};
use alloy_rlp::{Decodable, Encodable, Header as RlpHeader};

/// A transaction's receipt with the fields RPC serves beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReceipt {
    /// Status, cumulative gas, bloom and logs, typed like the transaction.
    pub receipt: ReceiptEnvelope,
    /// Hash of the transaction.
    pub tx_hash: B256,
    /// Sender.
    pub from: Address,
    /// Recipient (`None` for a creation).
    pub to: Option<Address>,
    /// Address of the created contract, for a successful creation.
    pub contract_address: Option<Address>,
    /// Gas used by this transaction alone.
    pub gas_used: u64,
    /// Price per gas actually paid.
    pub effective_gas_price: u128,
}

fn opt_addr(a: &Option<Address>) -> Bytes {
    a.map(|a| Bytes::copy_from_slice(a.as_slice()))
        .unwrap_or_default()
}

fn parse_opt_addr(b: &Bytes) -> Result<Option<Address>, PrimitivesError> {
    match b.len() {
        0 => Ok(None),
        20 => Ok(Some(Address::from_slice(b))),
        n => Err(PrimitivesError::Malformed {
            what: "receipt",
            reason: format!("address of {n} bytes"),
        }),
    }
}

impl StoredReceipt {
    /// Encode for storage.
    pub fn encode(&self) -> Vec<u8> {
        let receipt = Bytes::from(self.receipt.encoded_2718());
        let to = opt_addr(&self.to);
        let created = opt_addr(&self.contract_address);
        let payload = receipt.length()
            + self.tx_hash.length()
            + self.from.length()
            + to.length()
            + created.length()
            + self.gas_used.length()
            + self.effective_gas_price.length();
        let mut out = Vec::with_capacity(payload + 4);
        RlpHeader {
            list: true,
            payload_length: payload,
        }
        .encode(&mut out);
        receipt.encode(&mut out);
        self.tx_hash.encode(&mut out);
        self.from.encode(&mut out);
        to.encode(&mut out);
        created.encode(&mut out);
        self.gas_used.encode(&mut out);
        self.effective_gas_price.encode(&mut out);
        out
    }

    /// Decode from storage.
    pub fn decode(mut b: &[u8]) -> Result<Self, PrimitivesError> {
        let m = |e: alloy_rlp::Error| PrimitivesError::Malformed {
            what: "receipt",
            reason: e.to_string(),
        };
        let h = RlpHeader::decode(&mut b).map_err(m)?;
        if !h.list || h.payload_length != b.len() {
            return Err(m(alloy_rlp::Error::UnexpectedLength));
        }
        let raw = Bytes::decode(&mut b).map_err(m)?;
        let receipt = ReceiptEnvelope::decode_2718(&mut raw.as_ref()).map_err(|e| {
            PrimitivesError::Malformed {
                what: "receipt",
                reason: e.to_string(),
            }
        })?;
        Ok(Self {
            receipt,
            tx_hash: B256::decode(&mut b).map_err(m)?,
            from: Address::decode(&mut b).map_err(m)?,
            to: parse_opt_addr(&Bytes::decode(&mut b).map_err(m)?)?,
            contract_address: parse_opt_addr(&Bytes::decode(&mut b).map_err(m)?)?,
            gas_used: u64::decode(&mut b).map_err(m)?,
            effective_gas_price: u128::decode(&mut b).map_err(m)?,
        })
    }
}

/// Ethereum receipts root of a block.
pub fn receipts_root<'a>(receipts: impl IntoIterator<Item = &'a ReceiptEnvelope>) -> B256 {
    let refs: Vec<&ReceiptEnvelope> = receipts.into_iter().collect();
    alloy_consensus::proofs::ordered_trie_root_with_encoder(&refs, |r, buf| r.encode_2718(buf))
}

/// The block's logs bloom: the union of its receipts' blooms.
pub fn logs_bloom<'a>(receipts: impl IntoIterator<Item = &'a ReceiptEnvelope>) -> Bloom {
    let mut bloom = Bloom::ZERO;
    for r in receipts {
        bloom |= r.bloom();
    }
    bloom
}

/// Encode a block's receipts as an RLP list of [`StoredReceipt::encode`] items.
pub fn encode_receipts(receipts: &[StoredReceipt]) -> Vec<u8> {
    let items: Vec<Bytes> = receipts.iter().map(|r| Bytes::from(r.encode())).collect();
    let mut out = Vec::new();
    alloy_rlp::encode_list::<Bytes, Bytes>(&items, &mut out);
    out
}

/// Decode what [`encode_receipts`] wrote.
pub fn decode_receipts(mut b: &[u8]) -> Result<Vec<StoredReceipt>, PrimitivesError> {
    let items = Vec::<Bytes>::decode(&mut b).map_err(|e| PrimitivesError::Malformed {
        what: "receipts",
        reason: e.to_string(),
    })?;
    items.iter().map(|i| StoredReceipt::decode(i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{Receipt, ReceiptWithBloom};
    use alloy_primitives::{Log, LogData};

    #[test]
    fn roundtrip() {
        let log = Log {
            address: Address::repeat_byte(1),
            data: LogData::new_unchecked(vec![B256::repeat_byte(2)], Bytes::from_static(b"hi")),
        };
        let inner = Receipt {
            status: true.into(),
            cumulative_gas_used: 50_000,
            logs: vec![log],
        };
        let receipt = ReceiptEnvelope::Eip1559(ReceiptWithBloom::from(inner));
        let r = StoredReceipt {
            receipt,
            tx_hash: B256::repeat_byte(3),
            from: Address::repeat_byte(4),
            to: None,
            contract_address: Some(Address::repeat_byte(5)),
            gas_used: 21_000,
            effective_gas_price: 1_000_000_007,
        };
        assert_eq!(StoredReceipt::decode(&r.encode()).unwrap(), r);
        assert!(StoredReceipt::decode(&r.encode()[1..]).is_err());
    }
}
