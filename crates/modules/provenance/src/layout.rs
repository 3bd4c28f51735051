//! Storage layout of the module's account: where every value lives.
//!
//! Every slot is `keccak256("verai.provenance." ‖ tag ‖ arg₁ ‖ arg₂ …)`, each argument a
//! 32-byte big-endian word (addresses and hashes left-padded), so slots of different tags
//! never collide and a list's entries can sit at `base + i` (a keccak output plus a small
//! offset cannot land on another keccak output in practice).
//!
//! | value | slot | content |
//! |---|---|---|
//! | record count | [`count`] | ids run `1..=count` |
//! | commitment | [`commitment`]`(id)` | `keccak256(abi.encode(RecordBody))`, never zero for a record |
//! | body | [`body`]`(id)` | byte length; the ABI-encoded [`crate::RecordBody`] in the 32-byte words at `+1, +2, …` |
//! | owner | [`owner`]`(id)` | address |
//! | flags | [`flags`]`(id)` | bit 0: deprecated; bits 8..16: the kind |
//! | by hash | [`by_hash`]`(kind, hash)` | id of the record with this kind and content hash |
//! | lineage up | [`up`]`(id)` | count; entries at `+1+i`: the parents, then links added by training |
//! | lineage down | [`down`]`(id)` | count; entries at `+1+i`: records naming `id` as parent or link |
//! | by kind | [`by_kind`]`(kind)` | count; ids at `+1+i` |
//! | by owner | [`by_owner`]`(addr)` | count; ids at `+1+i` (an id stays after a transfer: filter by current owner) |
//! | licence terms | [`terms`]`(hash)` | byte length; the ABI-encoded `LicenseTerms` in the words at `+1, +2, …` |
//! | usage | [`usage`]`(id)` | count; entry `i` at `+1+2i`: `user(20) ‖ block(6) ‖ timestamp(6)`, and `+2+2i`: the 32-byte reference |

use alloy_primitives::{Address, B256, U256};

fn slot(tag: &str, args: &[B256]) -> U256 {
    verai_primitives::module::storage_slot("verai.provenance.", tag, args)
}

use verai_primitives::module::word;

/// The record count.
pub fn count() -> U256 {
    slot("count", &[])
}
/// The commitment (body hash) of record `id`.
pub fn commitment(id: u64) -> U256 {
    slot("commitment", &[word(id)])
}
/// Length of the body of `id`; its words follow.
pub fn body(id: u64) -> U256 {
    slot("body", &[word(id)])
}
/// The owner of `id`.
pub fn owner(id: u64) -> U256 {
    slot("owner", &[word(id)])
}
/// The flags of `id`.
pub fn flags(id: u64) -> U256 {
    slot("flags", &[word(id)])
}
/// The id registered for (kind, hash).
pub fn by_hash(kind: u8, hash: B256) -> U256 {
    slot("hash", &[word(u64::from(kind)), hash])
}
/// Parents and links of `id` (list).
pub fn up(id: u64) -> U256 {
    slot("up", &[word(id)])
}
/// Children of `id` (list).
pub fn down(id: u64) -> U256 {
    slot("down", &[word(id)])
}
/// Records of a kind (list).
pub fn by_kind(kind: u8) -> U256 {
    slot("kind", &[word(u64::from(kind))])
}
/// Records ever owned by `owner` (list).
pub fn by_owner(owner: Address) -> U256 {
    slot("owned", &[owner.into_word()])
}
/// Licence terms stored under `hash`.
pub fn terms(hash: B256) -> U256 {
    slot("terms", &[hash])
}
/// Usage log of `id`.
pub fn usage(id: u64) -> U256 {
    slot("usage", &[word(id)])
}

/// Bit 0 of [`flags`].
pub const FLAG_DEPRECATED: u64 = 1;

/// Pack a usage entry's first word.
pub fn pack_usage(user: Address, block: u64, timestamp: u64) -> U256 {
    let mut w = [0u8; 32];
    w[..20].copy_from_slice(user.as_slice());
    w[20..26].copy_from_slice(&block.to_be_bytes()[2..]);
    w[26..].copy_from_slice(&timestamp.to_be_bytes()[2..]);
    U256::from_be_bytes(w)
}

/// Unpack a usage entry's first word: (user, block, timestamp).
pub fn unpack_usage(w: U256) -> (Address, u64, u64) {
    let b = w.to_be_bytes::<32>();
    let mut block = [0u8; 8];
    block[2..].copy_from_slice(&b[20..26]);
    let mut ts = [0u8; 8];
    ts[2..].copy_from_slice(&b[26..]);
    (
        Address::from_slice(&b[..20]),
        u64::from_be_bytes(block),
        u64::from_be_bytes(ts),
    )
}

/// A 32-byte word as an address (its low 20 bytes).
pub fn to_address(w: U256) -> Address {
    Address::from_word(B256::from(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_distinct() {
        let all = [
            count(),
            commitment(1),
            commitment(2),
            body(1),
            owner(1),
            flags(1),
            up(1),
            down(1),
            by_kind(0),
            by_kind(1),
            usage(1),
            terms(B256::ZERO),
            by_hash(0, B256::ZERO),
            by_hash(1, B256::ZERO),
        ];
        let set: std::collections::HashSet<_> = all.iter().collect();
        assert_eq!(set.len(), all.len());
    }

    #[test]
    fn usage_packing_round_trips() {
        let user = Address::repeat_byte(0xab);
        let w = pack_usage(user, 123_456, 1_700_000_000);
        assert_eq!(unpack_usage(w), (user, 123_456, 1_700_000_000));
    }
}
