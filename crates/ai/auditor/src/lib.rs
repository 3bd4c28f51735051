//! Verai auditor: vulnerability scanning of Solidity source and EVM bytecode.
//!
//! Two front ends produce the same [`Report`]:
//! - [`audit_source`] parses Solidity 0.4.x to 0.8.x with `solang-parser` (pure Rust),
//!   extracts per-function facts ([`source::facts`]: external calls, state writes,
//!   guards, block-variable reads, loops) and runs rule detectors over them;
//! - [`audit_bytecode`] disassembles deployed EVM code, builds basic blocks and a
//!   control-flow graph, and runs storage/call detectors over it.
//!
//! Findings carry a category named exactly as in SmartBugs' `vulnerabilities.json`
//! ([`Category`]), the lines (source) or byte offsets (bytecode) they concern, a
//! confidence, an explanation and a suggested fix. A per-contract risk level comes from
//! a gradient-boosted-trees model over the report's features ([`risk`]).
//!
//! Invariants: analysis is a pure function of its input (deterministic order of
//! findings, no I/O); every input is bounded ([`MAX_SOURCE_BYTES`], [`MAX_CODE_BYTES`]).

pub mod bytecode;
pub mod detect;
pub mod report;
pub mod risk;
pub mod source;

use serde::{Deserialize, Serialize};

/// Largest Solidity source accepted (bytes). Real contracts are far below this.
pub const MAX_SOURCE_BYTES: usize = 2 * 1024 * 1024;
/// Largest bytecode accepted (bytes): twice EIP-170's 24,576-byte limit on deployed code,
/// so init code (EIP-3860 allows 49,152) fits too.
pub const MAX_CODE_BYTES: usize = 49_152;

/// Errors of the auditor; each names what was wrong with the input.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("source is empty")]
    EmptySource,
    #[error("source is {0} bytes, above the {MAX_SOURCE_BYTES}-byte limit")]
    SourceTooLarge(usize),
    #[error("unsupported pragma `solidity {0}`: the auditor handles 0.4.x to 0.8.x")]
    UnsupportedPragma(String),
    #[error("cannot parse Solidity: line {line}: {message}")]
    Parse { line: usize, message: String },
    #[error("bytecode is empty (no contract at this address?)")]
    EmptyBytecode,
    #[error("bytecode is {0} bytes, above the {MAX_CODE_BYTES}-byte limit")]
    BytecodeTooLarge(usize),
    #[error("bytecode is not valid hex: {0}")]
    BadHex(String),
    #[error("risk model: {0}")]
    Model(String),
}

/// Vulnerability category, spelled as in SmartBugs' `vulnerabilities.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Reentrancy,
    UncheckedLowLevelCalls,
    AccessControl,
    Arithmetic,
    BadRandomness,
    DenialOfService,
    TimeManipulation,
    FrontRunning,
    ShortAddresses,
    Other,
}

impl Category {
    /// Every category, in a fixed order (feature vectors rely on it).
    pub const ALL: [Category; 10] = [
        Category::Reentrancy,
        Category::UncheckedLowLevelCalls,
        Category::AccessControl,
        Category::Arithmetic,
        Category::BadRandomness,
        Category::DenialOfService,
        Category::TimeManipulation,
        Category::FrontRunning,
        Category::ShortAddresses,
        Category::Other,
    ];

    /// The name used in `vulnerabilities.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Reentrancy => "reentrancy",
            Category::UncheckedLowLevelCalls => "unchecked_low_level_calls",
            Category::AccessControl => "access_control",
            Category::Arithmetic => "arithmetic",
            Category::BadRandomness => "bad_randomness",
            Category::DenialOfService => "denial_of_service",
            Category::TimeManipulation => "time_manipulation",
            Category::FrontRunning => "front_running",
            Category::ShortAddresses => "short_addresses",
            Category::Other => "other",
        }
    }
}

/// How sure a detector is that a finding is a real vulnerability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

/// Impact if the finding is real; also the contract risk scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses `critical|high|medium|low`.
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "critical" => Some(Severity::Critical),
            "high" => Some(Severity::High),
            "medium" => Some(Severity::Medium),
            "low" => Some(Severity::Low),
            _ => None,
        }
    }
}

/// One vulnerability found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub category: Category,
    /// Stable detector id (e.g. `reentrancy-eth`).
    pub detector: String,
    pub severity: Severity,
    pub confidence: Confidence,
    /// 1-based source lines, ascending; empty for bytecode findings.
    pub lines: Vec<u32>,
    /// Bytecode offsets (program counters), ascending; empty for source findings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub offsets: Vec<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    pub explanation: String,
    pub fix: String,
}

/// A cheap gas-saving suggestion (not a vulnerability).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GasHint {
    pub line: u32,
    pub message: String,
}

/// What was analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputKind {
    Source,
    Bytecode,
}

/// The result of one audit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub kind: InputKind,
    /// The pragma's version constraint, when the source has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pragma: Option<String>,
    pub contracts: Vec<String>,
    pub findings: Vec<Finding>,
    pub gas: Vec<GasHint>,
    pub risk: risk::RiskAssessment,
    /// Findings left out by [`Report::keep_confidence`] (the risk still counts them).
    #[serde(default)]
    pub hidden: usize,
}

impl Report {
    /// Keeps only findings of at least `min` confidence; the risk level, computed on
    /// all findings, is unchanged.
    pub fn keep_confidence(&mut self, min: Confidence) {
        let before = self.findings.len();
        self.findings.retain(|f| f.confidence >= min);
        self.hidden += before - self.findings.len();
    }
}

/// Audits Solidity source text.
pub fn audit_source(src: &str) -> Result<Report, AuditError> {
    audit_source_with_features(src).map(|(r, _)| r)
}

/// Audits Solidity source text and also returns the risk model's feature vector.
pub fn audit_source_with_features(src: &str) -> Result<(Report, Vec<f64>), AuditError> {
    let parsed = source::Parsed::new(src)?;
    let program = source::Program::build(&parsed)?;
    let mut findings = detect::run(&program);
    sort_findings(&mut findings);
    let gas = detect::gas::hints(&program);
    let contracts = program.contracts.iter().map(|c| c.name.clone()).collect();
    let mut report = Report {
        kind: InputKind::Source,
        pragma: program.pragma.clone(),
        contracts,
        findings,
        gas,
        risk: risk::RiskAssessment::default(),
        hidden: 0,
    };
    report.risk = risk::assess(&report, Some(&program))?;
    let x = risk::features(&report, Some(&program));
    Ok((report, x))
}

/// Audits EVM bytecode (deployed or init code).
pub fn audit_bytecode(code: &[u8]) -> Result<Report, AuditError> {
    let mut findings = bytecode::analyse(code)?;
    sort_findings(&mut findings);
    let mut report = Report {
        kind: InputKind::Bytecode,
        pragma: None,
        contracts: Vec::new(),
        findings,
        gas: Vec::new(),
        risk: risk::RiskAssessment::default(),
        hidden: 0,
    };
    report.risk = risk::assess(&report, None)?;
    Ok(report)
}

/// Parses hex bytecode (with or without `0x`, surrounding whitespace allowed), bounded.
pub fn decode_hex_code(text: &str) -> Result<Vec<u8>, AuditError> {
    let t = text.trim();
    let t = t.strip_prefix("0x").unwrap_or(t);
    if t.is_empty() {
        return Err(AuditError::EmptyBytecode);
    }
    if t.len() / 2 > MAX_CODE_BYTES {
        return Err(AuditError::BytecodeTooLarge(t.len() / 2));
    }
    hex::decode(t).map_err(|e| AuditError::BadHex(e.to_string()))
}

fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.lines.first(), a.offsets.first(), a.category, &a.detector).cmp(&(
            b.lines.first(),
            b.offsets.first(),
            b.category,
            &b.detector,
        ))
    });
}
