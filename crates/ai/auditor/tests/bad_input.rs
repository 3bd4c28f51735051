//! Bad input gives a typed error, never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use verai_auditor::{
    AuditError, MAX_CODE_BYTES, MAX_SOURCE_BYTES, audit_bytecode, audit_source, decode_hex_code,
};

#[test]
fn unparsable_source() {
    let e = audit_source("pragma solidity ^0.4.24;\ncontract { function ( }").unwrap_err();
    assert!(matches!(e, AuditError::Parse { line: 2, .. }), "{e}");
}

#[test]
fn unsupported_pragma() {
    for p in ["^0.3.6", "^0.9.0", ">=1.0.0"] {
        let e = audit_source(&format!("pragma solidity {p};\ncontract C {{}}")).unwrap_err();
        assert!(matches!(e, AuditError::UnsupportedPragma(_)), "{p}: {e}");
    }
}

#[test]
fn empty_and_huge_source() {
    assert!(matches!(audit_source("  \n"), Err(AuditError::EmptySource)));
    let huge = "/".repeat(MAX_SOURCE_BYTES + 1);
    assert!(matches!(
        audit_source(&huge),
        Err(AuditError::SourceTooLarge(_))
    ));
}

#[test]
fn empty_huge_and_bad_bytecode() {
    assert!(matches!(
        decode_hex_code("0x"),
        Err(AuditError::EmptyBytecode)
    ));
    assert!(matches!(
        audit_bytecode(&[]),
        Err(AuditError::EmptyBytecode)
    ));
    let huge = format!("0x{}", "00".repeat(MAX_CODE_BYTES + 1));
    assert!(matches!(
        decode_hex_code(&huge),
        Err(AuditError::BytecodeTooLarge(_))
    ));
    assert!(matches!(
        decode_hex_code("0xzz"),
        Err(AuditError::BadHex(_))
    ));
}
