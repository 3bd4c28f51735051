//! Human-readable messages for the module's revert data.

use crate::IInference::IInferenceErrors as E;
use alloy_sol_types::SolInterface;

/// A sentence for `IInference` (or, from a model registration, `IProvenance`) revert data;
/// `None` if the data is neither's error.
pub fn explain(data: &[u8]) -> Option<String> {
    let Ok(e) = E::abi_decode(data) else {
        return verai_provenance::explain(data);
    };
    Some(match e {
        E::ModelRejected(x) => format!("model rejected: {}", x.reason),
        E::UnknownModel(x) => format!("no model with id {} is registered for inference", x.modelId),
        E::BadInput(x) => format!("bad input: {}", x.reason),
        E::InferenceFailed(x) => format!("inference failed: {}", x.reason),
        E::UnknownInference(x) => format!("unknown inference record {}", x.id),
        E::ValueNotAccepted(_) => "the inference module does not accept value".into(),
        E::UnknownSelector(x) => format!("unknown function selector {}", x.selector),
    })
}
