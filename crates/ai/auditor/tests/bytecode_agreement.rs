//! Source and bytecode analysis agree on contracts compiled with solc-js.
//!
//! Each file in tests/fixtures/agreement names, in its `// agree:` comment, the
//! categories both analyses must report (among those bytecode can see: reentrancy,
//! unchecked calls, access control, time manipulation, bad randomness). The file is
//! compiled with the solc-js version tests/e2e pins (installed by scripts/test.sh),
//! its deployed code audited with `audit_bytecode`, its source with `audit_source`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use verai_auditor::{Category, Confidence, audit_bytecode, audit_source, decode_hex_code};

mod support;
use support::manifest_dir;

const COMPARABLE: [Category; 5] = [
    Category::Reentrancy,
    Category::UncheckedLowLevelCalls,
    Category::AccessControl,
    Category::TimeManipulation,
    Category::BadRandomness,
];

fn root() -> PathBuf {
    manifest_dir().join("../../..").canonicalize().unwrap()
}

fn categories(findings: &[verai_auditor::Finding], min: Confidence) -> BTreeSet<Category> {
    findings
        .iter()
        .filter(|f| f.confidence >= min && COMPARABLE.contains(&f.category))
        .map(|f| f.category)
        .collect()
}

#[test]
fn source_and_bytecode_agree() {
    let root = root();
    assert!(
        root.join("tests/e2e/node_modules/solc/package.json")
            .exists(),
        "solc-js missing: run scripts/test.sh (or npm ci --prefix tests/e2e) first"
    );
    let dir = manifest_dir().join("tests/fixtures/agreement");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 6);
    let out = Command::new("node")
        .arg(manifest_dir().join("tests/solc_compile.mjs"))
        .arg(&root)
        .args(&files)
        .output()
        .expect("node");
    assert!(
        out.status.success(),
        "solc: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let codes: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&out.stdout).unwrap();
    let mut failures = Vec::new();
    for file in files {
        let src = std::fs::read_to_string(&file).unwrap();
        let expected: BTreeSet<Category> = src
            .lines()
            .find_map(|l| l.trim().strip_prefix("// agree:"))
            .expect("agree comment")
            .split_whitespace()
            .map(|c| serde_json::from_value(serde_json::Value::String(c.into())).unwrap())
            .collect();
        let name = file.file_stem().unwrap().to_str().unwrap();
        let code = decode_hex_code(codes[name].as_str().unwrap()).unwrap();
        let from_code = categories(&audit_bytecode(&code).unwrap().findings, Confidence::Low);
        let from_source = categories(&audit_source(&src).unwrap().findings, Confidence::Medium);
        if from_code != expected || from_source != expected {
            failures.push(format!(
                "{name}: expected {expected:?}, source {from_source:?}, bytecode {from_code:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
