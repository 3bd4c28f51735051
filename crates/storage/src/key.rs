//! The QMDB key of a state key: a short hash prefix for an even spread, then the key itself.
//!
//! Layout (61 bytes): `keccak256(key_bytes)[..8] ‖ key_bytes ‖ zero padding`, where
//! `key_bytes` is [`StateKey::to_bytes`] (21, 53 or 33 bytes; its tag byte fixes the length).
//! The hash prefix spreads keys evenly over QMDB's ordered index (its translator keeps the first
//! 8 bytes), so one contract's many storage slots do not collide there; keeping the key itself
//! (rather than only its hash) lets the state be listed back from QMDB, for example to rebuild
//! the [`crate::StateStore`] copy.

use alloy_primitives::keccak256;
use commonware_utils::sequence::FixedBytes;
use verai_primitives::StateKey;

/// Length of a QMDB key.
pub const QKEY_LEN: usize = 8 + 53;

/// A QMDB key.
pub type QKey = FixedBytes<QKEY_LEN>;

/// The QMDB key of `key`.
pub fn qkey(key: &StateKey) -> QKey {
    let bytes = key.to_bytes();
    let mut out = [0u8; QKEY_LEN];
    out[..8].copy_from_slice(&keccak256(&bytes)[..8]);
    out[8..8 + bytes.len()].copy_from_slice(&bytes);
    FixedBytes::new(out)
}

/// The state key inside a QMDB key, or `None` if the bytes are not a well-formed key
/// (wrong tag, non-zero padding or wrong hash prefix).
pub fn state_key(q: &[u8]) -> Option<StateKey> {
    if q.len() != QKEY_LEN {
        return None;
    }
    let len = match q[8] {
        1 => 21,
        2 => 53,
        3 => 33,
        _ => return None,
    };
    let body = &q[8..8 + len];
    if q[8 + len..].iter().any(|b| *b != 0) || keccak256(body)[..8] != q[..8] {
        return None;
    }
    StateKey::from_bytes(body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Address, B256, U256};

    #[test]
    fn roundtrip() {
        let a = Address::repeat_byte(9);
        for k in [
            StateKey::Account(a),
            StateKey::Storage(a, U256::MAX),
            StateKey::Code(B256::repeat_byte(3)),
        ] {
            assert_eq!(state_key(&qkey(&k)), Some(k));
        }
        let mut bad = qkey(&StateKey::Account(a)).to_vec();
        bad[0] ^= 1;
        assert_eq!(state_key(&bad), None);
        assert_eq!(state_key(&[0u8; 3]), None);
    }
}
