//! Rendering of audit results: text, JSON, and SARIF 2.1.0.
//!
//! All three take the same list of per-input outcomes, so a directory run reports
//! its unreadable or unparsable files beside the audited ones. JSON is one object:
//! `{"files": [{"path", "ok": true, "report"} | {"path", "ok": false, "error"}],
//! "summary": {...}}`. SARIF puts each finding's category in `properties.category`
//! and its lines in `region.startLine`/`endLine` (one location per run of consecutive
//! lines; bytecode findings use `byteOffset`), and each failed input in
//! `invocations[0].toolExecutionNotifications`.

use crate::{Finding, Report, Severity};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The outcome of auditing one input.
#[derive(Debug)]
pub struct Outcome {
    /// File path, or the address for on-chain code.
    pub path: String,
    pub result: Result<Report, String>,
}

/// Highest risk level among successful outcomes.
pub fn max_risk(outcomes: &[Outcome]) -> Option<Severity> {
    outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().ok())
        .map(|r| r.risk.level)
        .max()
}

pub fn json(outcomes: &[Outcome]) -> Value {
    let files: Vec<Value> = outcomes
        .iter()
        .map(|o| match &o.result {
            Ok(r) => json!({"path": o.path, "ok": true, "report": r}),
            Err(e) => json!({"path": o.path, "ok": false, "error": e}),
        })
        .collect();
    json!({"files": files, "summary": summary(outcomes)})
}

fn summary(outcomes: &[Outcome]) -> Value {
    let mut by_cat: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_risk: BTreeMap<&str, usize> = BTreeMap::new();
    let mut findings = 0;
    for r in outcomes.iter().filter_map(|o| o.result.as_ref().ok()) {
        findings += r.findings.len();
        *by_risk.entry(r.risk.level.as_str()).or_default() += 1;
        for f in &r.findings {
            *by_cat.entry(f.category.as_str()).or_default() += 1;
        }
    }
    json!({
        "inputs": outcomes.len(),
        "failed": outcomes.iter().filter(|o| o.result.is_err()).count(),
        "findings": findings,
        "by_category": by_cat,
        "by_risk": by_risk,
        "max_risk": max_risk(outcomes).map(Severity::as_str),
    })
}

pub fn text(outcomes: &[Outcome]) -> String {
    let mut s = String::new();
    for o in outcomes {
        match &o.result {
            Err(e) => s.push_str(&format!("{}: error: {e}\n\n", o.path)),
            Ok(r) => {
                s.push_str(&format!(
                    "{}: risk {} ({}), {} finding(s)\n",
                    o.path,
                    r.risk.level.as_str().to_uppercase(),
                    r.risk.method,
                    r.findings.len()
                ));
                for f in &r.findings {
                    s.push_str(&format!(
                        "  [{}] {} ({}, {} confidence) {}{}\n      {}\n      fix: {}\n",
                        f.severity.as_str(),
                        f.category.as_str(),
                        f.detector,
                        format!("{:?}", f.confidence).to_lowercase(),
                        where_(f),
                        f.function
                            .as_ref()
                            .map(|n| format!(" in {n}"))
                            .unwrap_or_default(),
                        f.explanation,
                        f.fix
                    ));
                }
                if r.hidden > 0 {
                    s.push_str(&format!(
                        "  ({} low-confidence finding(s) hidden: --min-confidence low shows them)\n",
                        r.hidden
                    ));
                }
                for g in &r.gas {
                    s.push_str(&format!("  gas: line {}: {}\n", g.line, g.message));
                }
                s.push('\n');
            }
        }
    }
    let failed = outcomes.iter().filter(|o| o.result.is_err()).count();
    s.push_str(&format!(
        "{} input(s), {} failed, highest risk: {}\n",
        outcomes.len(),
        failed,
        max_risk(outcomes).map_or("none", Severity::as_str)
    ));
    s
}

fn where_(f: &Finding) -> String {
    if !f.lines.is_empty() {
        let l: Vec<String> = f.lines.iter().map(u32::to_string).collect();
        format!("line {}", l.join(","))
    } else {
        let o: Vec<String> = f.offsets.iter().map(|o| format!("0x{o:x}")).collect();
        format!("pc {}", o.join(","))
    }
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// Runs of consecutive lines: [3,4,5,9] -> [(3,5),(9,9)].
fn runs(lines: &[u32]) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    for &l in lines {
        match out.last_mut() {
            Some((_, e)) if *e + 1 == l || *e == l => *e = l,
            _ => out.push((l, l)),
        }
    }
    out
}

pub fn sarif(outcomes: &[Outcome]) -> Value {
    let mut rules: BTreeMap<String, Value> = BTreeMap::new();
    let mut results = Vec::new();
    let mut notes = Vec::new();
    for o in outcomes {
        let r = match &o.result {
            Ok(r) => r,
            Err(e) => {
                notes.push(json!({
                    "level": "error",
                    "message": {"text": e},
                    "locations": [{"physicalLocation": {"artifactLocation": {"uri": o.path}}}],
                }));
                continue;
            }
        };
        for f in &r.findings {
            rules.entry(f.detector.clone()).or_insert_with(|| {
                json!({
                    "id": f.detector,
                    "shortDescription": {"text": f.detector.replace('-', " ")},
                    "properties": {"category": f.category.as_str()},
                })
            });
            let locations: Vec<Value> = if f.lines.is_empty() {
                f.offsets
                    .iter()
                    .map(|off| {
                        json!({"physicalLocation": {
                            "artifactLocation": {"uri": o.path},
                            "region": {"byteOffset": off, "byteLength": 1},
                        }})
                    })
                    .collect()
            } else {
                runs(&f.lines)
                    .into_iter()
                    .map(|(s, e)| {
                        json!({"physicalLocation": {
                            "artifactLocation": {"uri": o.path},
                            "region": {"startLine": s, "endLine": e},
                        }})
                    })
                    .collect()
            };
            results.push(json!({
                "ruleId": f.detector,
                "level": sarif_level(f.severity),
                "message": {"text": format!("{} Fix: {}", f.explanation, f.fix)},
                "locations": locations,
                "properties": {
                    "category": f.category.as_str(),
                    "severity": f.severity.as_str(),
                    "confidence": f.confidence,
                    "contractRisk": r.risk.level.as_str(),
                },
            }));
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "verai-audit",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://example.invalid/verai",
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "invocations": [{
                "executionSuccessful": notes.is_empty(),
                "toolExecutionNotifications": notes,
            }],
            "results": results,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::runs;

    #[test]
    fn line_runs() {
        assert_eq!(runs(&[3, 4, 5, 9]), vec![(3, 5), (9, 9)]);
        assert!(runs(&[]).is_empty());
    }
}
