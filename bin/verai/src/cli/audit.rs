//! `verai audit FILE.sol|DIR|--address ADDR`: vulnerability scan of Solidity source or
//! deployed bytecode (see the `verai-auditor` crate).
//!
//! Exit codes: 0 clean (or below `--fail-on`), 1 a contract's risk reached `--fail-on`,
//! 2 an input could not be audited (a directory run still audits and reports the rest).

use super::common::address;
use clap::{Args, ValueEnum};
use eyre::{WrapErr, bail};
use std::path::{Path, PathBuf};
use verai_auditor::report::{self, Outcome};
use verai_auditor::{Confidence, MAX_SOURCE_BYTES, Severity};
use verai_client::{Client, api::EthApiClient};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Level {
    Critical,
    High,
    Medium,
    Low,
}

/// Arguments of `verai audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// A Solidity file, or a directory scanned recursively for `*.sol`.
    #[arg(required_unless_present = "address", conflicts_with = "address")]
    path: Option<PathBuf>,
    /// Audit the code deployed at this address instead (eth_getCode).
    #[arg(long)]
    address: Option<String>,
    /// JSON-RPC endpoint for `--address`.
    #[arg(long, env = "VERAI_RPC", default_value = "http://127.0.0.1:8545")]
    rpc: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Shorthand for `--format json`.
    #[arg(long, conflicts_with = "format")]
    json: bool,
    /// Exit with status 1 when a contract's risk is at least this level.
    #[arg(long, value_enum)]
    fail_on: Option<Level>,
    /// Show findings of at least this confidence (low ones are hints; the risk level
    /// always counts every finding).
    #[arg(long, value_enum, default_value = "medium")]
    min_confidence: Conf,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Conf {
    Low,
    Medium,
    High,
}

pub fn run(a: AuditArgs) -> eyre::Result<()> {
    let mut outcomes = match (&a.path, &a.address) {
        (_, Some(addr)) => vec![super::common::block_on(fetch_and_audit(addr, &a.rpc))?],
        (Some(p), None) if p.is_dir() => audit_dir(p)?,
        (Some(p), None) => vec![audit_file(p)],
        (None, None) => bail!("give a file, a directory or --address"),
    };
    let min = match a.min_confidence {
        Conf::Low => Confidence::Low,
        Conf::Medium => Confidence::Medium,
        Conf::High => Confidence::High,
    };
    for o in &mut outcomes {
        if let Ok(r) = &mut o.result {
            r.keep_confidence(min);
        }
    }
    let format = if a.json { Format::Json } else { a.format };
    match format {
        Format::Text => print!("{}", report::text(&outcomes)),
        Format::Json => println!("{}", report::json(&outcomes)),
        Format::Sarif => println!(
            "{}",
            serde_json::to_string_pretty(&report::sarif(&outcomes))?
        ),
    }
    for o in &outcomes {
        if let Err(e) = &o.result {
            eprintln!("error: {}: {e}", o.path);
        }
    }
    let failed = outcomes.iter().any(|o| o.result.is_err());
    let threshold = a.fail_on.map(|l| match l {
        Level::Critical => Severity::Critical,
        Level::High => Severity::High,
        Level::Medium => Severity::Medium,
        Level::Low => Severity::Low,
    });
    let hit = threshold.is_some_and(|t| report::max_risk(&outcomes).is_some_and(|r| r >= t));
    if failed {
        std::process::exit(2);
    }
    if hit {
        std::process::exit(1);
    }
    Ok(())
}

fn audit_file(p: &Path) -> Outcome {
    let path = p.display().to_string();
    let result = read_bounded(p)
        .and_then(|src| verai_auditor::audit_source(&src).map_err(|e| e.to_string()));
    Outcome { path, result }
}

fn read_bounded(p: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(p).map_err(|e| format!("cannot read: {e}"))?;
    if meta.len() > MAX_SOURCE_BYTES as u64 {
        return Err(format!(
            "file is {} bytes, above the {MAX_SOURCE_BYTES}-byte limit",
            meta.len()
        ));
    }
    let bytes = std::fs::read(p).map_err(|e| format!("cannot read: {e}"))?;
    String::from_utf8(bytes).map_err(|_| "file is not UTF-8 text".to_string())
}

/// Every `*.sol` under `dir`, sorted, each audited on its own.
fn audit_dir(dir: &Path) -> eyre::Result<Vec<Outcome>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).wrap_err_with(|| format!("reading {}", d.display()))? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "sol") {
                files.push(p);
            }
        }
    }
    files.sort();
    if files.is_empty() {
        bail!("no .sol files under {}", dir.display());
    }
    Ok(files.iter().map(|p| audit_file(p)).collect())
}

async fn fetch_and_audit(addr: &str, rpc: &str) -> eyre::Result<Outcome> {
    let a = address(addr)?;
    let code = Client::connect(rpc)?.get_code(a, None).await?;
    let result = verai_auditor::audit_bytecode(&code).map_err(|e| e.to_string());
    Ok(Outcome {
        path: format!("{a}"),
        result,
    })
}
