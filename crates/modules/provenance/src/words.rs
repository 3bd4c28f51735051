//! Byte strings in storage words: the length at a base slot, then 32-byte words at
//! `base+1, base+2, …` (the last zero-padded). Record bodies and licence terms are stored so.

use alloy_primitives::U256;
use verai_primitives::{Host, ModuleError};

/// Read access to the module account's storage.
pub trait Slots {
    /// The word at `slot` (zero when unset).
    fn slot(&mut self, slot: U256) -> Result<U256, ModuleError>;
}

impl<T: Host + ?Sized> Slots for T {
    fn slot(&mut self, slot: U256) -> Result<U256, ModuleError> {
        self.sload(slot)
    }
}

/// A slot value as a u64, refusing corrupt (over-wide) values.
pub fn get_u64(s: &mut (impl Slots + ?Sized), slot: U256) -> Result<u64, ModuleError> {
    let v = s.slot(slot)?;
    u64::try_from(v).map_err(|_| ModuleError::Fatal(format!("slot {slot:#x}: {v} is not a u64")))
}

/// Store `bytes` at `base`: the length, then 32-byte words at `base+1…`.
pub fn write_bytes(host: &mut dyn Host, base: U256, bytes: &[u8]) -> Result<(), ModuleError> {
    host.sstore(base, U256::from(bytes.len()))?;
    for (i, chunk) in bytes.chunks(32).enumerate() {
        let mut w = [0u8; 32];
        w[..chunk.len()].copy_from_slice(chunk);
        host.sstore(base + U256::from(i + 1), U256::from_be_bytes(w))?;
    }
    Ok(())
}

/// Bytes stored at `base` (length at `base`, 32-byte words at `base+1…`), refusing a
/// stored length over `max` as corrupt state.
pub fn bytes_at(
    s: &mut (impl Slots + ?Sized),
    base: U256,
    max: u64,
) -> Result<Vec<u8>, ModuleError> {
    let len = get_u64(s, base)?;
    if len > max {
        return Err(ModuleError::Fatal(format!(
            "slot {base:#x}: {len} bytes stored, at most {max} expected"
        )));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    for i in 0..len.div_ceil(32) {
        let w = s.slot(base + U256::from(i + 1))?;
        bytes.extend_from_slice(&w.to_be_bytes::<32>());
    }
    bytes.truncate(len as usize);
    Ok(bytes)
}
