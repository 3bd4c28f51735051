//! Human-readable messages for the module's revert data.

use crate::IProvenance::IProvenanceErrors as E;
use alloy_sol_types::SolInterface;

/// A sentence for `IProvenance` revert data, `None` if the data is not one of its errors.
pub fn explain(data: &[u8]) -> Option<String> {
    let e = E::abi_decode(data).ok()?;
    Some(match e {
        E::EmptyHash(_) => "content hash is empty (zero)".into(),
        E::InvalidKind(x) => format!("invalid record kind {}", x.kind),
        E::UriTooLong(x) => format!("URI too long: {} bytes, at most {}", x.length, x.max),
        E::EmptyLicense(_) => "licence is empty".into(),
        E::LicenseTooLong(x) => format!("licence too long: {} bytes, at most {}", x.length, x.max),
        E::TooManyParents(x) => format!("too many parents: {}, at most {}", x.count, x.max),
        E::TooManyContributors(x) => {
            format!("too many contributors: {}, at most {}", x.count, x.max)
        }
        E::DuplicateParent(x) => format!("parent {} listed twice", x.id),
        E::UnknownRecord(x) => format!("unknown record {}", x.id),
        E::DuplicateRecord(x) => format!(
            "a record of this kind with this content hash exists already: id {}",
            x.existing
        ),
        E::SharesNotTenThousand(x) => format!(
            "contributor shares sum to {} basis points, not 10000",
            x.total
        ),
        E::ZeroContributor(_) => "a contributor is the zero address".into(),
        E::LineageCycle(x) => format!(
            "lineage cycle: record {} is already an ancestor of the inputs",
            x.id
        ),
        E::LineageTooDeep(x) => format!("lineage walk too long ({} records)", x.visited),
        E::NotOwner(x) => format!(
            "record {} is owned by {}, not by the caller {}",
            x.id, x.owner, x.caller
        ),
        E::ZeroOwner(_) => "new owner is the zero address".into(),
        E::AlreadyDeprecated(x) => format!("record {} is already deprecated", x.id),
        E::NotAModel(x) => format!("record {} is not a model", x.id),
        E::NotATrainingOutput(x) => format!("record {} cannot be a training output", x.id),
        E::InvalidTerms(x) => format!("invalid licence terms: {}", x.reason),
        E::UnknownTerms(x) => format!("no licence terms are registered under {}", x.termsHash),
        E::DerivativesNotAllowed(x) => format!(
            "record {} is under {}, which forbids derivative works; only its owner may derive from it",
            x.parent, x.license
        ),
        E::CommercialUseNotAllowed(x) => format!(
            "record {} is under the non-commercial licence {}; a record derived from it must be non-commercial too",
            x.parent, x.license
        ),
        E::ValueNotAccepted(_) => "the registry does not accept value".into(),
        E::UnknownSelector(x) => format!("unknown function selector {}", x.selector),
    })
}
