//! The shipped risk model: its hash, and that it ranks a vulnerable contract above
//! its fixed version.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use verai_auditor::risk::{MODEL_JSON, model_sha256};
use verai_auditor::{Severity, audit_source};

mod support;
use support::manifest_dir;

#[test]
fn model_hash_matches_the_published_one() {
    let published = include_str!("../model/risk.json.sha256");
    assert_eq!(published.split_whitespace().next().unwrap(), model_sha256());
    assert!(
        MODEL_JSON.len() < 256 * 1024,
        "model file grew: {} bytes",
        MODEL_JSON.len()
    );
}

#[test]
fn vulnerable_ranks_above_fixed() {
    let dir = manifest_dir().join("tests/fixtures").display().to_string();
    for name in ["reentrancy.sol", "selfdestruct.sol", "origin.sol"] {
        let v = audit_source(&std::fs::read_to_string(format!("{dir}/vulnerable/{name}")).unwrap())
            .unwrap();
        let f =
            audit_source(&std::fs::read_to_string(format!("{dir}/fixed/{name}")).unwrap()).unwrap();
        assert_eq!(v.risk.method, "gbt");
        assert_eq!(
            v.risk.model_sha256.as_deref(),
            Some(model_sha256().as_str())
        );
        assert!(v.risk.level >= Severity::High, "{name}: {:?}", v.risk);
        assert!(
            f.risk.level < v.risk.level,
            "{name}: fixed {:?} vs {:?}",
            f.risk,
            v.risk
        );
    }
}

#[test]
fn assessment_is_deterministic() {
    let src =
        std::fs::read_to_string(manifest_dir().join("tests/fixtures/vulnerable/dos.sol")).unwrap();
    let a = audit_source(&src).unwrap();
    let b = audit_source(&src).unwrap();
    assert_eq!(a.risk, b.risk);
    assert_eq!(a.findings, b.findings);
}
