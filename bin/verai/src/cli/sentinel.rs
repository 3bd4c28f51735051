//! `verai sentinel train|eval`: train the fraud model on the data set's CSV and evaluate it.
//! `alerts`, `release` and `simulate` talk to a node running the sentinel (their own files).

use clap::{Args, Subcommand};
use eyre::WrapErr;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use verai_sentinel::model::{feature_rows, train};
use verai_sentinel::{
    CvSummary, Dataset, Metrics, Model, TrainParams, cross_validate, evaluate, stratified_folds,
};

/// Sentinel subcommands.
#[derive(Debug, Subcommand)]
pub enum SentinelCommand {
    /// Train the fraud model on a CSV with the data set's header.
    Train(TrainArgs),
    /// Evaluate a model on a CSV (with `--folds K`, cross-validate its recipe on the CSV).
    Eval(EvalArgs),
    /// List a node's sentinel alerts (`verai_getAlerts`), or follow them as they come.
    Alerts(super::sentinel_alerts::AlertsArgs),
    /// Release or drop a transaction the node holds (signed by a release key).
    Release(super::sentinel_release::ReleaseArgs),
    /// Drive a dev node with normal users and a phishing sweep; report what was flagged.
    Simulate(super::sentinel_simulate::SimulateArgs),
}

/// `verai sentinel train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Training data (CSV with the data set's header), read in place.
    #[arg(long)]
    data: PathBuf,
    /// Where to write the model file (JSON).
    #[arg(long)]
    out: PathBuf,
    /// Seed of the booster's sampling and of the CV folds.
    #[arg(long, default_value_t = TrainParams::default().seed)]
    seed: u64,
    /// Run stratified k-fold cross-validation first and store its figures in the model.
    #[arg(long)]
    folds: Option<usize>,
    /// Number of trees.
    #[arg(long, default_value_t = TrainParams::default().iterations)]
    iterations: usize,
    /// One JSON object on stdout.
    #[arg(long)]
    json: bool,
}

/// `verai sentinel eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Model file.
    #[arg(long)]
    model: PathBuf,
    /// Data (CSV with the data set's header), read in place.
    #[arg(long)]
    data: PathBuf,
    /// Stratified k-fold cross-validation of the model's recipe on the data.
    #[arg(long)]
    folds: Option<usize>,
    /// Fold seed for `--folds` (default: the model's seed).
    #[arg(long)]
    seed: Option<u64>,
    /// With `--folds`: write the fold of every row (`row,fold,flag`; row 0 is the first
    /// data line) so other tools can use exactly the same folds.
    #[arg(long, requires = "folds")]
    export_folds: Option<PathBuf>,
    /// One JSON object on stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(c: SentinelCommand) -> eyre::Result<()> {
    match c {
        SentinelCommand::Train(a) => run_train(a),
        SentinelCommand::Eval(a) => run_eval(a),
        SentinelCommand::Alerts(a) => super::common::block_on(super::sentinel_alerts::run(a)),
        SentinelCommand::Release(a) => super::common::block_on(super::sentinel_release::run(a)),
        SentinelCommand::Simulate(a) => super::common::block_on(super::sentinel_simulate::run(a)),
    }
}

fn load(path: &Path) -> eyre::Result<Dataset> {
    Dataset::load(path).wrap_err_with(|| format!("loading {}", path.display()))
}

fn bar(total: u64, hidden: bool) -> ProgressBar {
    if hidden {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(total);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
    {
        pb.set_style(style);
    }
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

fn run_train(a: TrainArgs) -> eyre::Result<()> {
    let ds = load(&a.data)?;
    let params = TrainParams {
        seed: a.seed,
        iterations: a.iterations,
        ..TrainParams::default()
    };
    let x = feature_rows(&ds);
    let folds = a.folds.unwrap_or(0);
    let pb = bar(folds as u64 + 1, a.json);
    let cv = if folds > 0 {
        pb.set_message(format!("cross-validating, fold 1 of {folds}"));
        let cv = cross_validate(&ds, &x, &params, folds, |done, k| {
            pb.inc(1);
            pb.set_message(if done < k {
                format!("cross-validating, fold {} of {k}", done + 1)
            } else {
                "training on all rows".to_string()
            });
        })?;
        Some(cv)
    } else {
        pb.set_message("training on all rows");
        None
    };
    let rows: Vec<usize> = (0..ds.len()).collect();
    let mut model = train(&ds, &x, &rows, &params)?;
    pb.inc(1);
    pb.finish_and_clear();
    model.metadata.cv = cv.clone();
    let hash = model
        .save(&a.out)
        .wrap_err_with(|| format!("writing {}", a.out.display()))?;
    let hash = hex::encode(hash);
    if a.json {
        let out = serde_json::json!({
            "id": hash,
            "model_sha256": hash,
            "model": a.out,
            "training_data_sha256": ds.sha256_hex(),
            "rows": ds.len(),
            "fraud_rows": ds.fraud_count(),
            "trees": model.trees.len(),
            "params": params,
            "cv": cv,
        });
        println!("{out}");
    } else {
        println!("model        {}", a.out.display());
        println!("model sha256 {hash}");
        println!(
            "trained on   {} rows ({} fraud), data sha256 {}",
            ds.len(),
            ds.fraud_count(),
            ds.sha256_hex()
        );
        println!(
            "recipe       {} trees, depth {}, learning rate {}, seed {}",
            params.iterations, params.max_depth, params.learning_rate, params.seed
        );
        if let Some(cv) = &cv {
            print_cv(cv, params.threshold);
        }
    }
    Ok(())
}

fn run_eval(a: EvalArgs) -> eyre::Result<()> {
    let (model, hash) =
        Model::load(&a.model).wrap_err_with(|| format!("loading {}", a.model.display()))?;
    let hash = hex::encode(hash);
    let ds = load(&a.data)?;
    let x = feature_rows(&ds);
    let threshold = model.metadata.params.threshold;
    match a.folds {
        None => {
            let margins = model.margins(&x);
            let m = evaluate(&margins, &ds.labels, model.decision_margin());
            if a.json {
                let out = serde_json::json!({
                    "model_sha256": hash,
                    "data_sha256": ds.sha256_hex(),
                    "threshold": threshold,
                    "metrics": m,
                });
                println!("{out}");
            } else {
                println!(
                    "model {hash} on {} (sha256 {})",
                    a.data.display(),
                    ds.sha256_hex()
                );
                print_metrics("", &m, threshold);
            }
        }
        Some(k) => {
            let mut params = model.metadata.params.clone();
            if let Some(seed) = a.seed {
                params.seed = seed;
            }
            if let Some(path) = &a.export_folds {
                write_folds(path, &stratified_folds(&ds.labels, k, params.seed), &ds)?;
            }
            let pb = bar(k as u64, a.json);
            pb.set_message(format!("fold 1 of {k}"));
            let started = std::time::Instant::now();
            let cv = cross_validate(&ds, &x, &params, k, |done, k| {
                pb.inc(1);
                pb.set_message(format!("fold {} of {k}", (done + 1).min(k)));
            })?;
            pb.finish_and_clear();
            let secs = started.elapsed().as_secs_f64();
            if a.json {
                let out = serde_json::json!({
                    "model_sha256": hash,
                    "data_sha256": ds.sha256_hex(),
                    "params": params,
                    "cv": cv,
                    "seconds": secs,
                });
                println!("{out}");
            } else {
                println!(
                    "recipe of model {hash} cross-validated on {} (sha256 {}), {secs:.1} s",
                    a.data.display(),
                    ds.sha256_hex()
                );
                print_cv(&cv, threshold);
            }
        }
    }
    Ok(())
}

fn write_folds(path: &Path, folds: &[usize], ds: &Dataset) -> eyre::Result<()> {
    let mut out = String::from("row,fold,flag\n");
    for (i, f) in folds.iter().enumerate() {
        out.push_str(&format!("{i},{f},{}\n", ds.labels[i]));
    }
    let mut file =
        std::fs::File::create(path).wrap_err_with(|| format!("creating {}", path.display()))?;
    file.write_all(out.as_bytes())?;
    Ok(())
}

fn print_cv(cv: &CvSummary, threshold: f64) {
    println!(
        "stratified {}-fold cross-validation (fold seed {}), out-of-fold predictions:",
        cv.folds, cv.seed
    );
    print_metrics("  ", &cv.pooled, threshold);
    let f1s: Vec<String> = cv.per_fold.iter().map(|m| format!("{:.4}", m.f1)).collect();
    println!(
        "  per-fold F1  {}  (mean {:.4} ± {:.4})",
        f1s.join(" "),
        cv.f1_mean,
        cv.f1_std
    );
}

fn print_metrics(indent: &str, m: &Metrics, threshold: f64) {
    let c = m.confusion;
    println!(
        "{indent}rows {}, fraud class, threshold p >= {threshold}",
        m.rows
    );
    println!("{indent}precision    {:.4}", m.precision);
    println!("{indent}recall       {:.4}", m.recall);
    println!("{indent}F1           {:.4}", m.f1);
    println!("{indent}ROC-AUC      {:.4}", m.roc_auc);
    println!("{indent}accuracy     {:.4}", m.accuracy);
    println!("{indent}confusion    predicted fraud  predicted normal");
    println!("{indent}  fraud      {:>15}  {:>16}", c.tp, c.fn_);
    println!("{indent}  normal     {:>15}  {:>16}", c.fp, c.tn);
}
