//! `verai sentinel train|eval` on a small generated CSV with the data set's header:
//! reproducible model files, metrics as JSON, folds exported, and clear errors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

const HEADER: &str = "id,Index,Address,FLAG,Avg min between sent tnx,Avg min between received tnx,Time Diff between first and last (Mins),Sent tnx,Received Tnx,Number of Created Contracts,Unique Received From Addresses,Unique Sent To Addresses,min value received,max value received ,avg val received,min val sent,max val sent,avg val sent,min value sent to contract,max val sent to contract,avg value sent to contract,total transactions (including tnx to create contract,total Ether sent,total ether received,total ether sent contracts,total ether balance, Total ERC20 tnxs, ERC20 total Ether received, ERC20 total ether sent, ERC20 total Ether sent contract, ERC20 uniq sent addr, ERC20 uniq rec addr, ERC20 uniq sent addr.1, ERC20 uniq rec contract addr, ERC20 avg time between sent tnx, ERC20 avg time between rec tnx, ERC20 avg time between rec 2 tnx, ERC20 avg time between contract tnx, ERC20 min val rec, ERC20 max val rec, ERC20 avg val rec, ERC20 min val sent, ERC20 max val sent, ERC20 avg val sent, ERC20 min val sent contract, ERC20 max val sent contract, ERC20 avg val sent contract, ERC20 uniq sent token name, ERC20 uniq rec token name, ERC20 most sent token type, ERC20_most_rec_token_type";

/// 300 accounts: fraud ones receive from many distinct addresses and sweep out everything.
fn write_csv(path: &Path) {
    let mut out = String::from(HEADER);
    out.push('\n');
    for i in 0..300u32 {
        let fraud = i % 4 == 0;
        let jitter = f64::from(i % 13);
        let (recv, uniq_from, balance) = if fraud {
            (40.0 + jitter, 38.0 + jitter, 0.001)
        } else {
            (5.0 + jitter, 2.0, 3.0 + jitter)
        };
        let mut cells = vec![
            i.to_string(),
            i.to_string(),
            format!("0x{:040x}", i + 1),
            u8::from(fraud).to_string(),
        ];
        let mut nums = vec![0f64; 45];
        nums[1] = 30.0 + jitter; // avg min between received
        nums[3] = 3.0; // sent
        nums[4] = recv;
        nums[6] = uniq_from;
        nums[7] = 2.0;
        nums[17] = recv + 3.0;
        nums[21] = balance;
        cells.extend(nums.iter().map(f64::to_string));
        cells.push("0".into());
        cells.push(if fraud {
            String::new()
        } else {
            "Tether".into()
        });
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
}

fn verai(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_verai"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn train_eval_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.csv");
    write_csv(&data);
    let (d, m1, m2) = (
        data.to_str().unwrap(),
        dir.path().join("m1.json"),
        dir.path().join("m2.json"),
    );
    let train = |out: &Path| {
        let o = verai(&[
            "sentinel",
            "train",
            "--data",
            d,
            "--out",
            out.to_str().unwrap(),
            "--iterations",
            "40",
            "--json",
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let a = train(&m1);
    let b = train(&m2);
    assert_eq!(
        a["model_sha256"], b["model_sha256"],
        "training is reproducible"
    );
    assert_eq!(a["id"], a["model_sha256"]);
    assert_eq!(std::fs::read(&m1).unwrap(), std::fs::read(&m2).unwrap());

    let m1s = m1.to_str().unwrap();
    let eval = |data: &str, extra: &[&str]| {
        let mut args = vec!["sentinel", "eval", "--model", m1s, "--data", data];
        args.extend(extra);
        verai(&args)
    };
    let o = verai(&["sentinel", "eval", "--model", m1s, "--data", d, "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["metrics"]["rows"], 300);
    assert!(v["metrics"]["f1"].as_f64().unwrap() > 0.9, "{v}");

    let folds = dir.path().join("folds.csv");
    let o = eval(
        d,
        &[
            "--folds",
            "3",
            "--export-folds",
            folds.to_str().unwrap(),
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["cv"]["per_fold"].as_array().unwrap().len(), 3);
    let fold_lines = std::fs::read_to_string(&folds).unwrap();
    assert_eq!(fold_lines.lines().count(), 301);
    assert!(fold_lines.starts_with("row,fold,flag\n0,"));

    // Text output names the metrics.
    let o = eval(d, &[]);
    let text = String::from_utf8_lossy(&o.stdout);
    for word in ["precision", "recall", "F1", "ROC-AUC", "confusion"] {
        assert!(text.contains(word), "{text}");
    }

    // Bad data: non-zero exit, the column (and line) on stderr.
    let bad = dir.path().join("bad.csv");
    let eval_fails = |contents: &str| -> String {
        std::fs::write(&bad, contents).unwrap();
        let o = eval(bad.to_str().unwrap(), &[]);
        assert!(!o.status.success());
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let body = std::fs::read_to_string(&data).unwrap();
    let mut lines: Vec<String> = body.lines().map(String::from).collect();
    let mut cells: Vec<&str> = lines[7].split(',').collect();
    cells[7] = "three"; // "Sent tnx"
    lines[7] = cells.join(",");
    let err = eval_fails(&lines.join("\n"));
    assert!(
        err.contains("\"Sent tnx\"") && err.contains("line 8"),
        "{err}"
    );
    let err = eval_fails(&body.replace("Sent tnx,", ""));
    assert!(err.contains("missing column \"Sent tnx\""), "{err}");
    // A model file that is not one.
    std::fs::write(&bad, "{}").unwrap();
    let o = verai(&[
        "sentinel",
        "eval",
        "--model",
        bad.to_str().unwrap(),
        "--data",
        d,
    ]);
    assert!(!o.status.success());
}
