//! Each detector on small contracts: a vulnerable version (its `// expect: CATEGORY
//! LINE...` comment names the category and the lines a finding must name) and a fixed
//! version of the same name, which must get no finding of that category.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use verai_auditor::{Category, audit_source};

mod support;
use support::manifest_dir;

fn fixture(dir: &str, name: &str) -> String {
    let p = manifest_dir().join("tests/fixtures").join(dir).join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn expectation(src: &str) -> (Category, Vec<u32>) {
    let line = src
        .lines()
        .find_map(|l| l.trim().strip_prefix("// expect:"))
        .expect("expect comment");
    let mut parts = line.split_whitespace();
    let cat: Category =
        serde_json::from_value(serde_json::Value::String(parts.next().unwrap().into())).unwrap();
    (cat, parts.map(|n| n.parse().unwrap()).collect())
}

fn check(name: &str) {
    let vuln = fixture("vulnerable", name);
    let (cat, lines) = expectation(&vuln);
    let report = audit_source(&vuln).unwrap();
    for l in &lines {
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.category == cat && f.lines.contains(l)),
            "{name}: no {cat:?} finding names line {l}: {:#?}",
            report.findings
        );
    }
    for f in report.findings.iter().filter(|f| f.category == cat) {
        assert!(!f.explanation.is_empty() && !f.fix.is_empty());
    }
    let fixed = audit_source(&fixture("fixed", name)).unwrap();
    let wrong: Vec<_> = fixed
        .findings
        .iter()
        .filter(|f| f.category == cat)
        .collect();
    assert!(
        wrong.is_empty(),
        "{name}: fixed version still has {cat:?}: {wrong:#?}"
    );
}

#[test]
fn reentrancy() {
    check("reentrancy.sol");
}

#[test]
fn reentrancy_solidity_08() {
    check("reentrancy_08.sol");
}

#[test]
fn unchecked_low_level_calls() {
    check("unchecked.sol");
}

#[test]
fn tx_origin() {
    check("origin.sol");
}

#[test]
fn unprotected_selfdestruct() {
    check("selfdestruct.sol");
}

#[test]
fn unprotected_owner_setter() {
    check("owner_setter.sol");
}

#[test]
fn delegatecall() {
    check("delegatecall.sol");
}

#[test]
fn arithmetic() {
    check("arithmetic.sol");
}

#[test]
fn bad_randomness() {
    check("randomness.sol");
}

#[test]
fn denial_of_service() {
    check("dos.sol");
}

#[test]
fn time_manipulation() {
    check("time.sol");
}

#[test]
fn front_running() {
    check("front_running.sol");
}

#[test]
fn uninitialized_storage_pointer() {
    check("storage_pointer.sol");
}

#[test]
fn arithmetic_is_not_reported_from_0_8() {
    let src =
        "pragma solidity ^0.8.0;\ncontract C { uint x; function f(uint a) public { x += a; } }";
    let r = audit_source(src).unwrap();
    assert!(
        r.findings
            .iter()
            .all(|f| f.category != Category::Arithmetic)
    );
}

#[test]
fn old_syntax_parses() {
    let src = r#"pragma solidity ^0.4.11;
contract Old {
    address owner;
    function Old() { owner = msg.sender; }
    function get() constant returns (uint) { var x = 1; return x; }
    function pay(address a) { if (!a.call.value(1)()) throw; }
    function h() returns (bytes32) { return sha3("x"); }
    function end() { if (msg.sender != owner) throw; suicide(owner); }
}"#;
    let r = audit_source(src).unwrap();
    assert_eq!(r.contracts, vec!["Old".to_string()]);
    assert!(
        r.findings
            .iter()
            .all(|f| f.category != Category::AccessControl)
    );
}

#[test]
fn narrow_integers_wrap_even_in_locals() {
    let src = "pragma solidity ^0.5.0;\ncontract C {\n function f(uint8 p) public pure returns (uint8) {\n  uint8 v = 0;\n  v = v + p;\n  return v;\n }\n}";
    let r = audit_source(src).unwrap();
    assert!(
        r.findings
            .iter()
            .any(|f| f.category == Category::Arithmetic && f.lines == vec![5]),
        "{:#?}",
        r.findings
    );
    let wide = src.replace("uint8", "uint256");
    let r = audit_source(&wide).unwrap();
    assert!(
        r.findings
            .iter()
            .all(|f| f.category != Category::Arithmetic)
    );
}

#[test]
fn block_value_in_a_state_initializer_taints_its_uses() {
    let src = "pragma solidity ^0.4.24;\ncontract R {\n uint256 private salt = block.timestamp;\n function roll() public view returns (uint256) {\n  return uint256(blockhash(salt % 100));\n }\n}";
    let r = audit_source(src).unwrap();
    let f = r
        .findings
        .iter()
        .find(|f| f.category == Category::BadRandomness)
        .expect("finding");
    assert!(f.lines.contains(&3) && f.lines.contains(&5), "{f:#?}");
}
