//! The native modules of a Verai chain: the one list every validator runs.
//!
//! Execution receives this list as a [`ModuleSet`] and knows no module by name; each
//! module is a crate of its own under `crates/modules/`. Which modules exist, and at which
//! address, is consensus configuration: adding one here is a hard fork, and every
//! validator of a network must run the same binary list.
//!
//! | address     | module     | crate                    |
//! |-------------|------------|--------------------------|
//! | `0x…0a01`   | provenance | `verai-provenance`       |
//! | `0x…0a02`   | inference  | `verai-inference-module` |
//! | `0x…0a03`   | market     | `verai-market`           |

use std::sync::{Arc, OnceLock};
use verai_primitives::ModuleSet;

/// The chain's native modules, in address order.
pub fn native_modules() -> ModuleSet {
    static MODULES: OnceLock<ModuleSet> = OnceLock::new();
    MODULES
        .get_or_init(|| {
            ModuleSet::new(vec![
                Arc::new(verai_provenance::Provenance),
                Arc::new(verai_inference_module::Inference),
                Arc::new(verai_market::Market),
            ])
        })
        .clone()
}

/// A sentence for revert data from any native module; `None` when no module knows it.
pub fn explain(data: &[u8]) -> Option<String> {
    native_modules().explain(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_are_at_their_reserved_addresses() {
        let m = native_modules();
        let found: Vec<_> = m.iter().map(|m| (m.name(), m.address())).collect();
        assert_eq!(
            found,
            vec![
                ("provenance", verai_primitives::module_address(1)),
                ("inference", verai_primitives::module_address(2)),
                ("market", verai_primitives::module_address(3)),
            ]
        );
    }
}
