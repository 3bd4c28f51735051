//! Signed transactions with their sender recovered once, at admission.
//!
//! Accepted types: legacy (with or without EIP-155), EIP-2930 and EIP-1559. Blob (EIP-4844)
//! and set-code (EIP-7702) transactions are refused: this chain has no blob market and does
//! not run Prague's account delegation yet.

use crate::{MAX_TX_BYTES, PrimitivesError};
use alloy_consensus::{Transaction, TxEnvelope, transaction::SignerRecoverable};
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_primitives::{Address, B256};

/// A transaction whose signature has been checked, with the sender and hash cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveredTx {
    /// The signed transaction.
    pub envelope: TxEnvelope,
    /// The recovered sender.
    pub sender: Address,
    /// Transaction hash (keccak of the EIP-2718 encoding).
    pub hash: B256,
    /// Length of the EIP-2718 encoding in bytes.
    pub encoded_len: usize,
}

impl RecoveredTx {
    /// Decode an EIP-2718 envelope without recovering the signer.
    pub(crate) fn decode_envelope(raw: &[u8]) -> Result<TxEnvelope, PrimitivesError> {
        if raw.len() > MAX_TX_BYTES {
            return Err(PrimitivesError::TooLarge {
                what: "transaction",
                size: raw.len(),
                limit: MAX_TX_BYTES,
            });
        }
        let mut slice = raw;
        let tx = TxEnvelope::decode_2718(&mut slice).map_err(|e| PrimitivesError::Malformed {
            what: "transaction",
            reason: e.to_string(),
        })?;
        if !slice.is_empty() {
            return Err(PrimitivesError::Malformed {
                what: "transaction",
                reason: "trailing bytes after transaction".into(),
            });
        }
        match tx {
            TxEnvelope::Eip4844(_) => Err(PrimitivesError::UnsupportedTxType(3)),
            TxEnvelope::Eip7702(_) => Err(PrimitivesError::UnsupportedTxType(4)),
            _ => Ok(tx),
        }
    }

    /// Decode raw network bytes (as sent to `eth_sendRawTransaction`) and recover the sender.
    pub fn decode(raw: &[u8]) -> Result<Self, PrimitivesError> {
        let envelope = Self::decode_envelope(raw)?;
        Self::recover(envelope)
    }

    /// Recover the sender of an already decoded transaction.
    pub fn recover(envelope: TxEnvelope) -> Result<Self, PrimitivesError> {
        let sender = envelope
            .recover_signer()
            .map_err(|_| PrimitivesError::InvalidSignature)?;
        let hash = *envelope.tx_hash();
        let encoded_len = envelope.encode_2718_len();
        Ok(Self {
            envelope,
            sender,
            hash,
            encoded_len,
        })
    }

    /// Sender nonce.
    pub fn nonce(&self) -> u64 {
        self.envelope.nonce()
    }

    /// Gas limit.
    pub fn gas_limit(&self) -> u64 {
        self.envelope.gas_limit()
    }

    /// Chain id, if the signature commits to one (pre-EIP-155 legacy transactions do not).
    pub fn chain_id(&self) -> Option<u64> {
        self.envelope.chain_id()
    }

    /// Maximum fee per gas the sender pays (gas price for legacy and EIP-2930).
    pub fn max_fee_per_gas(&self) -> u128 {
        self.envelope.max_fee_per_gas()
    }

    /// The tip per gas paid to the proposer at `base_fee`, or `None` if the fee cap is below it.
    pub fn effective_tip(&self, base_fee: u64) -> Option<u128> {
        self.envelope.effective_tip_per_gas(base_fee)
    }
}

/// Ethereum transactions root (ordered Merkle-Patricia trie of EIP-2718 encodings).
pub fn transactions_root(txs: &[TxEnvelope]) -> B256 {
    alloy_consensus::proofs::calculate_transaction_root(txs)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::dev_signers;
    use alloy_consensus::{SignableTransaction, TxEip1559};
    use alloy_primitives::{TxKind, U256};
    use alloy_signer::SignerSync;

    pub(crate) fn signed_transfer(nonce: u64) -> TxEnvelope {
        let signer = &dev_signers(1)[0];
        let tx = TxEip1559 {
            chain_id: 1337,
            nonce,
            gas_limit: 21_000,
            max_fee_per_gas: 2_000_000_000,
            max_priority_fee_per_gas: 1,
            to: TxKind::Call(Address::repeat_byte(0x11)),
            value: U256::from(5),
            ..Default::default()
        };
        let sig = signer.sign_hash_sync(&tx.signature_hash()).unwrap();
        tx.into_signed(sig).into()
    }

    #[test]
    fn recovers_sender_and_roundtrips() {
        let tx = signed_transfer(0);
        let raw = tx.encoded_2718();
        let rec = RecoveredTx::decode(&raw).unwrap();
        assert_eq!(rec.sender, dev_signers(1)[0].address());
        assert_eq!(rec.hash, *tx.tx_hash());
        assert_eq!(rec.encoded_len, raw.len());
    }

    #[test]
    fn rejects_bad_input() {
        let raw = signed_transfer(0).encoded_2718();
        assert!(matches!(
            RecoveredTx::decode(&raw[..raw.len() - 1]),
            Err(PrimitivesError::Malformed { .. })
        ));
        let mut trailing = raw.clone();
        trailing.push(1);
        assert!(RecoveredTx::decode(&trailing).is_err());
        assert!(matches!(
            RecoveredTx::decode(&vec![2u8; MAX_TX_BYTES + 1]),
            Err(PrimitivesError::TooLarge { .. })
        ));
        assert!(RecoveredTx::decode(&[]).is_err());
    }
}
