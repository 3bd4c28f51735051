//! `verai audit-train`: trains the auditor's risk model and prints cross-validation.
//!
//! Samples: every contract of a SmartBugs-style data set (`vulnerabilities.json` with
//! `path` and `vulnerabilities[].category`), labelled with the highest risk its
//! categories imply (`verai_auditor::risk::category_risk`), plus every `*.sol` under
//! `--safe` labelled low. Features come from the auditor's own findings, so the model
//! learns how much each kind of finding means. Seeded and single-threaded: the same
//! inputs give the same model file, byte for byte.

use clap::Args;
use eyre::{WrapErr, bail};
use std::path::PathBuf;
use verai_auditor::risk::{self, Sample};
use verai_auditor::{Category, Severity};

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Data set root holding `vulnerabilities.json`.
    #[arg(long)]
    data: PathBuf,
    /// Directory of contracts without known vulnerabilities (labelled low).
    #[arg(long)]
    safe: Option<PathBuf>,
    /// Write the trained model here (e.g. crates/ai/auditor/model/risk.json).
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long, default_value_t = 5)]
    folds: usize,
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

#[derive(serde::Deserialize)]
struct Entry {
    path: String,
    vulnerabilities: Vec<Vuln>,
}

#[derive(serde::Deserialize)]
struct Vuln {
    category: Category,
}

pub fn run(a: TrainArgs) -> eyre::Result<()> {
    let labels = a.data.join("vulnerabilities.json");
    let text = std::fs::read_to_string(&labels)
        .wrap_err_with(|| format!("reading {}", labels.display()))?;
    let entries: Vec<Entry> =
        serde_json::from_str(&text).wrap_err("parsing vulnerabilities.json")?;
    let mut samples = Vec::new();
    let mut rules = Vec::new();
    let mut skipped = 0;
    let mut add =
        |name: String, src: &str, y: Severity| match verai_auditor::audit_source_with_features(src)
        {
            Ok((report, x)) => {
                rules.push(risk::rule_level(&report));
                samples.push(Sample { name, x, y });
            }
            Err(e) => {
                eprintln!("skipping {name}: {e}");
                skipped += 1;
            }
        };
    for e in &entries {
        let y = e
            .vulnerabilities
            .iter()
            .map(|v| risk::category_risk(v.category))
            .max()
            .unwrap_or(Severity::Low);
        let src = std::fs::read_to_string(a.data.join(&e.path))
            .wrap_err_with(|| format!("reading {}", e.path))?;
        add(e.path.clone(), &src, y);
    }
    if let Some(dir) = &a.safe {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .wrap_err_with(|| format!("reading {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "sol"))
            .collect();
        files.sort();
        for p in files {
            let src = std::fs::read_to_string(&p)?;
            add(p.display().to_string(), &src, Severity::Low);
        }
    }
    if samples.len() < 10 {
        bail!("only {} samples: not enough to train", samples.len());
    }
    let mut counts = [0usize; 4];
    for s in &samples {
        counts[s.y as usize] += 1;
    }
    println!(
        "samples: {} (low {}, medium {}, high {}, critical {}), skipped {skipped}",
        samples.len(),
        counts[0],
        counts[1],
        counts[2],
        counts[3]
    );
    let (model, baseline) = risk::cross_validate(&samples, &rules, a.folds, a.seed)?;
    for (name, r) in [
        ("gbt model", &model),
        ("rule baseline (max finding severity)", &baseline),
    ] {
        println!(
            "{name}: {}-fold CV accuracy {:.3}, within one level {:.3}, macro-F1 {:.3}",
            r.folds, r.accuracy, r.within_one, r.macro_f1
        );
        println!(
            "  confusion (rows truth low..critical, cols predicted): {:?}",
            r.confusion
        );
    }
    if let Some(out) = &a.out {
        // Only the data set's folder name: the model bytes must not depend on where
        // the checkout lives.
        let note = format!(
            "verai audit-train --data .../{} {} --folds {} --seed {}",
            a.data
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            a.safe
                .as_ref()
                .map(|s| format!("--safe {}", s.display()))
                .unwrap_or_default(),
            a.folds,
            a.seed
        );
        let json = risk::train(&samples, a.seed, &note)?;
        std::fs::write(out, &json).wrap_err_with(|| format!("writing {}", out.display()))?;
        use sha2::Digest;
        let sha = hex::encode(sha2::Sha256::digest(json.as_bytes()));
        println!(
            "model written to {} ({} bytes, sha256 {sha})",
            out.display(),
            json.len()
        );
    }
    Ok(())
}
