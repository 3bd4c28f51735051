//! Licence terms and their inheritance along lineage.
//!
//! Terms are a typed struct ([`LicenseTerms`]) stored once under the keccak hash of their ABI
//! encoding; a record is under typed terms when its licence string is `terms:0x<hash>`.
//! Other licence strings are read as SPDX ids: the Creative Commons `-ND` family forbids
//! derivatives, the `-NC` family commercial use. A string that says neither (an SPDX id such
//! as `MIT`, or `sha256:<hex>` of a custom text) restricts nothing the chain can check.
//!
//! Inheritance, checked when a record is registered:
//! - a parent whose licence forbids derivatives may be derived only by its owner;
//! - a record with a non-commercial parent must itself be non-commercial.

use crate::{
    IProvenance::{self, LicenseTerms},
    layout,
    read::{self, Slots},
};
use alloy_primitives::{Address, B256, keccak256};
use alloy_sol_types::{SolError, SolValue};
use verai_primitives::{Host, ModuleError, module::gas};

/// Longest SPDX id accepted in typed terms (bytes).
pub const MAX_SPDX_BYTES: usize = 64;
/// Prefix of a licence string naming typed terms: `terms:0x` and 64 hex digits.
pub const TERMS_PREFIX: &str = "terms:0x";

fn revert(e: impl SolError) -> ModuleError {
    ModuleError::Revert(e.abi_encode().into())
}

/// What a licence forbids that the chain enforces.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Restrictions {
    /// Derivative works are not allowed.
    pub no_derivatives: bool,
    /// Commercial use is not allowed.
    pub non_commercial: bool,
}

/// The hash under which `terms` are stored.
pub fn terms_hash(terms: &LicenseTerms) -> B256 {
    keccak256(terms.abi_encode())
}

/// The licence string that puts a record under the terms `hash`.
pub fn terms_licence(hash: B256) -> String {
    format!("{TERMS_PREFIX}{}", hex::encode(hash))
}

/// Check `terms` for what a grant needs: a bounded SPDX id and an explicit duration.
pub fn check_terms(terms: &LicenseTerms) -> Result<(), ModuleError> {
    let invalid = |reason: &str| {
        revert(IProvenance::InvalidTerms {
            reason: reason.into(),
        })
    };
    if terms.spdx.is_empty() {
        return Err(invalid("the SPDX id is empty"));
    }
    if terms.spdx.len() > MAX_SPDX_BYTES {
        return Err(invalid("the SPDX id is longer than 64 bytes"));
    }
    match (terms.perpetual, terms.duration) {
        (true, 0) | (false, 1..) => Ok(()),
        (true, _) => Err(invalid("perpetual terms cannot have a duration")),
        (false, 0) => Err(invalid(
            "a duration of zero must be marked perpetual explicitly",
        )),
    }
}

/// Store `terms` (idempotent: the same terms give the same hash and are written once).
pub fn register_terms(host: &mut dyn Host, terms: &LicenseTerms) -> Result<B256, ModuleError> {
    check_terms(terms)?;
    let bytes = terms.abi_encode();
    host.charge(gas::HASH_WORD * (bytes.len() as u64).div_ceil(32))?;
    let hash = keccak256(&bytes);
    let base = layout::terms(hash);
    if !host.sload(base)?.is_zero() {
        return Ok(hash);
    }
    crate::words::write_bytes(host, base, &bytes)?;
    let d = alloy_sol_types::SolEvent::encode_log_data(&IProvenance::TermsRegistered {
        termsHash: hash,
        spdx: terms.spdx.clone(),
    });
    host.log(d.topics().to_vec(), d.data)?;
    Ok(hash)
}

/// The terms stored under `hash`, `None` when there are none.
pub fn terms(
    s: &mut (impl Slots + ?Sized),
    hash: B256,
) -> Result<Option<LicenseTerms>, ModuleError> {
    let base = layout::terms(hash);
    if s.slot(base)?.is_zero() {
        return Ok(None);
    }
    let bytes = crate::words::bytes_at(s, base, 4096)?;
    LicenseTerms::abi_decode(&bytes)
        .map(Some)
        .map_err(|e| ModuleError::Fatal(format!("terms {hash}: corrupt: {e}")))
}

/// The hash a `terms:0x…` licence string names, `None` for any other string.
pub fn parse_terms_licence(licence: &str) -> Option<B256> {
    let hex = licence.strip_prefix(TERMS_PREFIX)?;
    if hex.len() != 64 {
        return None;
    }
    hex.parse::<B256>().ok()
}

/// What an SPDX id forbids: the Creative Commons `-ND` and `-NC` families.
pub fn spdx_restrictions(spdx: &str) -> Restrictions {
    let upper = spdx.to_ascii_uppercase();
    let parts: Vec<&str> = upper.split('-').collect();
    let cc = parts.first() == Some(&"CC");
    Restrictions {
        no_derivatives: cc && parts.contains(&"ND"),
        non_commercial: cc && parts.contains(&"NC"),
    }
}

/// What licence string `licence` forbids; typed terms are read from storage.
pub fn restrictions(
    s: &mut (impl Slots + ?Sized),
    licence: &str,
) -> Result<Restrictions, ModuleError> {
    let Some(hash) = parse_terms_licence(licence) else {
        return Ok(spdx_restrictions(licence));
    };
    let t = terms(s, hash)?.ok_or_else(|| revert(IProvenance::UnknownTerms { termsHash: hash }))?;
    let spdx = spdx_restrictions(&t.spdx);
    Ok(Restrictions {
        no_derivatives: !t.derivatives || spdx.no_derivatives,
        non_commercial: !t.commercialUse || spdx.non_commercial,
    })
}

/// Refuse a record under `licence` derived from `parents` by `caller` when a parent's
/// licence forbids it (see the module docs).
pub fn check_inheritance(
    host: &mut dyn Host,
    caller: Address,
    licence: &str,
    parents: &[u64],
) -> Result<(), ModuleError> {
    if parents.is_empty() {
        return Ok(());
    }
    let own = restrictions(host, licence)?;
    for &p in parents {
        let Some(body) = read::body(host, p)? else {
            return Err(revert(IProvenance::UnknownRecord { id: p }));
        };
        let theirs = restrictions(host, &body.license)?;
        if theirs.no_derivatives {
            let owner = layout::to_address(host.sload(layout::owner(p))?);
            if owner != caller {
                return Err(revert(IProvenance::DerivativesNotAllowed {
                    parent: p,
                    license: body.license,
                }));
            }
        }
        if theirs.non_commercial && !own.non_commercial {
            return Err(revert(IProvenance::CommercialUseNotAllowed {
                parent: p,
                license: body.license,
            }));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spdx_families() {
        assert!(spdx_restrictions("CC-BY-ND-4.0").no_derivatives);
        assert!(!spdx_restrictions("CC-BY-ND-4.0").non_commercial);
        let ncnd = spdx_restrictions("cc-by-nc-nd-4.0");
        assert!(ncnd.no_derivatives && ncnd.non_commercial);
        assert_eq!(spdx_restrictions("MIT"), Restrictions::default());
        assert_eq!(spdx_restrictions("CC-BY-4.0"), Restrictions::default());
        // "ND" inside another word is not the family.
        assert_eq!(spdx_restrictions("LANDSAT-1"), Restrictions::default());
    }

    #[test]
    fn terms_licence_round_trips() {
        let h = B256::repeat_byte(0xab);
        assert_eq!(parse_terms_licence(&terms_licence(h)), Some(h));
        assert_eq!(parse_terms_licence("terms:0xabc"), None);
        assert_eq!(parse_terms_licence("MIT"), None);
    }

    #[test]
    fn durations_must_be_explicit() {
        let mut t = LicenseTerms {
            spdx: "CC-BY-4.0".into(),
            commercialUse: true,
            derivatives: true,
            attribution: true,
            duration: 0,
            perpetual: false,
        };
        assert!(check_terms(&t).is_err());
        t.perpetual = true;
        assert!(check_terms(&t).is_ok());
        t.duration = 10;
        assert!(check_terms(&t).is_err());
        t.perpetual = false;
        assert!(check_terms(&t).is_ok());
    }
}
