//! `verai audit`: exit codes, JSON and SARIF shape, bad input, `--address` over RPC.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};

mod common;
use common::manifest_dir;

const CATEGORIES: [&str; 10] = [
    "reentrancy",
    "unchecked_low_level_calls",
    "access_control",
    "arithmetic",
    "bad_randomness",
    "denial_of_service",
    "time_manipulation",
    "front_running",
    "short_addresses",
    "other",
];

fn fixture(kind: &str, name: &str) -> PathBuf {
    manifest_dir()
        .join("../../crates/ai/auditor/tests/fixtures")
        .join(kind)
        .join(name)
}

fn audit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_verai"))
        .arg("audit")
        .args(args)
        .output()
        .unwrap()
}

fn stdout_json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

#[test]
fn exit_code_follows_fail_on() {
    let vuln = fixture("vulnerable", "reentrancy.sol");
    let fixed = fixture("fixed", "reentrancy.sol");
    let v = vuln.to_str().unwrap();
    let f = fixed.to_str().unwrap();
    assert_eq!(
        audit(&[v]).status.code(),
        Some(0),
        "no --fail-on: findings alone do not fail"
    );
    assert_eq!(audit(&[v, "--fail-on", "high"]).status.code(), Some(1));
    assert_eq!(audit(&[v, "--fail-on", "critical"]).status.code(), Some(1));
    assert_eq!(audit(&[f, "--fail-on", "medium"]).status.code(), Some(0));
    let text = String::from_utf8(audit(&[v]).stdout).unwrap();
    assert!(
        text.contains("reentrancy") && text.contains("fix:"),
        "{text}"
    );
}

#[test]
fn json_reports_findings_with_lines() {
    let o = audit(&[
        fixture("vulnerable", "unchecked.sol").to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success());
    let j = stdout_json(&o);
    let report = &j["files"][0]["report"];
    let findings = report["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["category"] == "unchecked_low_level_calls" && f["lines"][0] == 8)
    );
    assert!(
        ["low", "medium", "high", "critical"].contains(&report["risk"]["level"].as_str().unwrap())
    );
}

#[test]
fn sarif_shape() {
    let o = audit(&[
        fixture("vulnerable", "dos.sol").to_str().unwrap(),
        "--format",
        "sarif",
    ]);
    assert!(o.status.success());
    let s = stdout_json(&o);
    assert_eq!(s["version"], "2.1.0");
    let run = &s["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "verai-audit");
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let cat = r["properties"]["category"].as_str().unwrap();
        assert!(CATEGORIES.contains(&cat), "{cat}");
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        for loc in r["locations"].as_array().unwrap() {
            let region = &loc["physicalLocation"]["region"];
            let (start, end) = (
                region["startLine"].as_u64().unwrap(),
                region["endLine"].as_u64().unwrap(),
            );
            assert!(start >= 1 && end >= start);
            assert!(
                loc["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .ends_with("dos.sol")
            );
        }
        let rule = r["ruleId"].as_str().unwrap();
        assert!(
            run["tool"]["driver"]["rules"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["id"] == rule)
        );
    }
}

#[test]
fn bad_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.sol");
    std::fs::write(&bad, "pragma solidity ^0.4.24;\ncontract { ").unwrap();
    let o = audit(&[bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot parse Solidity"));
    let old = dir.path().join("old.sol");
    std::fs::write(&old, "pragma solidity ^0.3.0;\ncontract C {}").unwrap();
    let o = audit(&[old.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unsupported pragma"));
    let missing = audit(&[dir.path().join("missing.sol").to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn directory_run_continues_past_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a_bad.sol"), "contract {").unwrap();
    std::fs::copy(
        fixture("vulnerable", "origin.sol"),
        dir.path().join("b_good.sol"),
    )
    .unwrap();
    let o = audit(&[dir.path().to_str().unwrap(), "--json"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "a bad file makes the run fail, after the rest"
    );
    let j = stdout_json(&o);
    let files = j["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["ok"], false);
    assert!(files[0]["error"].as_str().unwrap().contains("parse"));
    assert_eq!(files[1]["ok"], true);
    assert_eq!(j["summary"]["failed"], 1);
    // SARIF lists the bad file as a notification.
    let s = stdout_json(&audit(&[dir.path().to_str().unwrap(), "--format", "sarif"]));
    let notes = s["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert_eq!(notes.len(), 1);
}

/// A one-shot JSON-RPC server answering `eth_getCode` with `code`.
fn fake_rpc(code: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut len = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
                if line == "\r\n" || line.is_empty() {
                    break;
                }
            }
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            let req: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(req["method"], verai_client::api::wire::GET_CODE);
            let resp =
                serde_json::json!({"jsonrpc": "2.0", "id": req["id"], "result": code}).to_string();
            write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{resp}",
                resp.len()
            )
            .unwrap();
        }
    });
    url
}

#[test]
fn address_audits_deployed_code() {
    // CALLVALUE SELFDESTRUCT: anyone can destroy it.
    let url = fake_rpc("0x34ff");
    let addr = "0x000000000000000000000000000000000000dEaD";
    let o = audit(&[
        "--address",
        addr,
        "--rpc",
        &url,
        "--json",
        "--fail-on",
        "critical",
    ]);
    let j = stdout_json(&o);
    let report = &j["files"][0]["report"];
    assert_eq!(report["kind"], "bytecode");
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["category"] == "access_control")
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "unprotected selfdestruct is critical"
    );

    let url = fake_rpc("0x");
    let o = audit(&["--address", addr, "--rpc", &url]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("empty"));
}
