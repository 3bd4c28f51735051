//! Keys and values of the chain state, the one layout shared by execution and storage.
//!
//! Key bytes: `0x01 ‖ address` (account), `0x02 ‖ address ‖ slot (32 bytes, big-endian)`
//! (storage), `0x03 ‖ code hash` (contract code). Values: an account is
//! `nonce (8, BE) ‖ balance (32, BE) ‖ code hash (32)` = 72 bytes; a storage slot is its
//! 32-byte big-endian word; code is the raw bytecode. A zero storage word is deleted, not
//! stored, so the state commits to the same set of keys whatever the write history.

use crate::PrimitivesError;
use alloy_primitives::{Address, B256, U256, keccak256};
use std::collections::BTreeMap;

/// Keccak of empty code: the code hash of accounts without code.
pub const KECCAK_EMPTY: B256 =
    alloy_primitives::b256!("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");

/// One entry of the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StateKey {
    /// Nonce, balance and code hash of an account.
    Account(Address),
    /// One storage slot of a contract.
    Storage(Address, U256),
    /// Contract code by its keccak hash.
    Code(B256),
}

impl StateKey {
    const ACCOUNT: u8 = 1;
    const STORAGE: u8 = 2;
    const CODE: u8 = 3;

    /// The key's canonical bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Self::Account(a) => [&[Self::ACCOUNT][..], a.as_slice()].concat(),
            Self::Storage(a, s) => [
                &[Self::STORAGE][..],
                a.as_slice(),
                &s.to_be_bytes::<32>()[..],
            ]
            .concat(),
            Self::Code(h) => [&[Self::CODE][..], h.as_slice()].concat(),
        }
    }

    /// Parse canonical key bytes.
    pub fn from_bytes(b: &[u8]) -> Result<Self, PrimitivesError> {
        let bad = || PrimitivesError::Malformed {
            what: "state key",
            reason: format!("{} bytes", b.len()),
        };
        match (b.first(), b.len()) {
            (Some(&Self::ACCOUNT), 21) => Ok(Self::Account(Address::from_slice(&b[1..]))),
            (Some(&Self::STORAGE), 53) => Ok(Self::Storage(
                Address::from_slice(&b[1..21]),
                U256::from_be_slice(&b[21..]),
            )),
            (Some(&Self::CODE), 33) => Ok(Self::Code(B256::from_slice(&b[1..]))),
            _ => Err(bad()),
        }
    }

    /// A fixed 32-byte digest of the key, for stores that need fixed-size keys.
    pub fn digest(&self) -> B256 {
        keccak256(self.to_bytes())
    }
}

/// The account part of the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountState {
    /// Number of transactions sent (or contracts created, for a contract).
    pub nonce: u64,
    /// Balance in wei.
    pub balance: U256,
    /// Keccak of the account's code ([`KECCAK_EMPTY`] when none).
    pub code_hash: B256,
}

impl Default for AccountState {
    fn default() -> Self {
        Self {
            nonce: 0,
            balance: U256::ZERO,
            code_hash: KECCAK_EMPTY,
        }
    }
}

impl AccountState {
    /// Encoded size.
    pub const LEN: usize = 72;

    /// Encode to 72 bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        out.extend_from_slice(&self.nonce.to_be_bytes());
        out.extend_from_slice(&self.balance.to_be_bytes::<32>());
        out.extend_from_slice(self.code_hash.as_slice());
        out
    }

    /// Decode from exactly 72 bytes.
    pub fn decode(b: &[u8]) -> Result<Self, PrimitivesError> {
        if b.len() != Self::LEN {
            return Err(PrimitivesError::Malformed {
                what: "account",
                reason: format!("{} bytes, expected {}", b.len(), Self::LEN),
            });
        }
        let mut nonce = [0u8; 8];
        nonce.copy_from_slice(&b[..8]);
        Ok(Self {
            nonce: u64::from_be_bytes(nonce),
            balance: U256::from_be_slice(&b[8..40]),
            code_hash: B256::from_slice(&b[40..72]),
        })
    }
}

/// The writes of one block: each key's new value, `None` for a deletion. Ordered, so that
/// applying it is deterministic.
pub type Changeset = BTreeMap<StateKey, Option<Vec<u8>>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_roundtrip() {
        let a = Address::repeat_byte(7);
        for k in [
            StateKey::Account(a),
            StateKey::Storage(a, U256::from(99)),
            StateKey::Code(B256::repeat_byte(1)),
        ] {
            assert_eq!(StateKey::from_bytes(&k.to_bytes()).unwrap(), k);
        }
        assert!(StateKey::from_bytes(&[9, 1, 2]).is_err());
        assert!(StateKey::from_bytes(&[]).is_err());
    }

    #[test]
    fn account_roundtrip() {
        let acc = AccountState {
            nonce: 3,
            balance: U256::from(10).pow(U256::from(20)),
            code_hash: KECCAK_EMPTY,
        };
        assert_eq!(AccountState::decode(&acc.encode()).unwrap(), acc);
        assert!(AccountState::decode(&[0; 71]).is_err());
    }
}
