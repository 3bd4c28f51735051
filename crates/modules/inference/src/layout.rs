//! Storage layout of the module's account.
//!
//! Every slot is `keccak256("verai.inference." ‖ tag ‖ arg)`, the argument a 32-byte
//! big-endian word, as in the provenance registry.
//!
//! | value | slot | content |
//! |---|---|---|
//! | model meta | [`model`]`(id)` | `size(4) ‖ ops(8)` in the low 12 bytes; zero when no model |
//! | model hash | [`model_hash`]`(id)` | SHA-256 of the ONNX bytes |
//! | shapes | [`shape`]`(id, 0 or 1)` | input (0) or output (1): rank in byte 0, then 4 bytes per dimension |
//! | bytes | [`bytes`]`(id)` | the ONNX bytes in 32-byte words at `+0, +1, …` (the last one zero-padded) |
//! | inference count | [`count`] | ids run `1..=count` |
//! | inference | [`inference`]`(id)` | `+0`: `modelId(8) ‖ block(8) ‖ path(1)` (low bytes), `+1`: input hash, `+2`: output hash, `+3`: requester, `+4`: reporter (oracle path only) |

use alloy_primitives::U256;
use verai_primitives::module::{storage_slot, word};

fn slot(tag: &str, arg: u64) -> U256 {
    storage_slot("verai.inference.", tag, &[word(arg)])
}

/// Size and operation count of model `id`.
pub fn model(id: u64) -> U256 {
    slot("model", id)
}
/// Content hash of model `id`.
pub fn model_hash(id: u64) -> U256 {
    slot("modelhash", id)
}
/// Input (`which` 0) or output (1) shape of model `id`.
pub fn shape(id: u64, which: u64) -> U256 {
    slot(if which == 0 { "inshape" } else { "outshape" }, id)
}
/// First word of the bytes of model `id`.
pub fn bytes(id: u64) -> U256 {
    slot("bytes", id)
}
/// The inference count.
pub fn count() -> U256 {
    slot("count", 0)
}
/// First slot of inference `id`.
pub fn inference(id: u64) -> U256 {
    slot("inference", id)
}

/// The five slots of inference `id`, in layout order: what a proof of it covers.
pub fn inference_slots(id: u64) -> [U256; 5] {
    let base = inference(id);
    [
        base,
        base + U256::from(1),
        base + U256::from(2),
        base + U256::from(3),
        base + U256::from(4),
    ]
}

/// Pack `size ‖ ops`.
pub fn pack_model(size: u32, ops: u64) -> U256 {
    (U256::from(size) << 64usize) | U256::from(ops)
}
/// Unpack `size ‖ ops`.
pub fn unpack_model(v: U256) -> (u32, u64) {
    let ops = (v & U256::from(u64::MAX)).to::<u64>();
    let size: u32 = ((v >> 64usize) & U256::from(u32::MAX)).to::<u32>();
    (size, ops)
}

/// Pack a shape of rank ≤ 7 (dimensions ≤ u32).
pub fn pack_shape(dims: &[u32]) -> U256 {
    let mut b = [0u8; 32];
    b[0] = dims.len() as u8;
    for (i, d) in dims.iter().take(7).enumerate() {
        b[1 + 4 * i..5 + 4 * i].copy_from_slice(&d.to_be_bytes());
    }
    U256::from_be_bytes(b)
}
/// Unpack a shape.
pub fn unpack_shape(v: U256) -> Vec<u32> {
    let b = v.to_be_bytes::<32>();
    let rank = usize::from(b[0]).min(7);
    (0..rank)
        .map(|i| u32::from_be_bytes([b[1 + 4 * i], b[2 + 4 * i], b[3 + 4 * i], b[4 + 4 * i]]))
        .collect()
}

/// Pack `modelId ‖ block ‖ path`.
pub fn pack_inference(model: u64, block: u64, path: u8) -> U256 {
    (U256::from(model) << 72usize) | (U256::from(block) << 8usize) | U256::from(path)
}
/// Unpack `modelId ‖ block ‖ path`.
pub fn unpack_inference(v: U256) -> (u64, u64, u8) {
    let path = (v & U256::from(0xffu8)).to::<u8>();
    let block: u64 = ((v >> 8usize) & U256::from(u64::MAX)).to::<u64>();
    let model: u64 = ((v >> 72usize) & U256::from(u64::MAX)).to::<u64>();
    (model, block, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_round_trips() {
        assert_eq!(
            unpack_model(pack_model(98_304, 123_456_789)),
            (98_304, 123_456_789)
        );
        assert_eq!(
            unpack_shape(pack_shape(&[1, 1, 16, 16])),
            vec![1, 1, 16, 16]
        );
        assert_eq!(unpack_shape(pack_shape(&[])), Vec::<u32>::new());
        assert_eq!(
            unpack_inference(pack_inference(u64::MAX, 42, 1)),
            (u64::MAX, 42, 1)
        );
        assert_ne!(model(1), model_hash(1));
        assert_ne!(shape(1, 0), shape(1, 1));
    }
}
