//! Per-contract risk level from a learned model over analysis features.
//!
//! Features ([`features`], [`FEATURE_NAMES`]): for each category the number of
//! findings (capped at 10), their highest severity and confidence; then counts that
//! describe the contract (functions, payable entry points, low-level and external
//! calls, selfdestruct, pragma minor version).
//!
//! Model: ordinal classification with three binary gradient-boosted-tree models
//! (`forust-ml`, log-loss) for risk >= medium, >= high, >= critical. The level is the
//! highest threshold whose raw margin is above 0 (= probability 0.5), compared on the
//! margin, without `exp`, so that the decision does not depend on the maths library.
//! The model file (`model/risk.json`: feature names, three forust JSON dumps, training
//! metadata) is embedded at compile time; its SHA-256 is reported with every
//! assessment. Training is seeded and single-threaded, hence reproducible.
//!
//! Without a model file (an empty JSON `null`), the level falls back to the highest
//! severity among findings of medium or high confidence, and `method` says `rules`.

use crate::source::Program;
use crate::{AuditError, Category, Confidence, InputKind, Report, Severity};
use forust_ml::GradientBooster;
use forust_ml::data::Matrix;
use forust_ml::objective::ObjectiveType;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// The shipped model (see `model/README.md` in this crate for how it is trained).
pub const MODEL_JSON: &str = include_str!("../model/risk.json");

pub const FEATURE_NAMES: [&str; 40] = [
    "reentrancy_n",
    "reentrancy_sev",
    "reentrancy_conf",
    "unchecked_n",
    "unchecked_sev",
    "unchecked_conf",
    "access_n",
    "access_sev",
    "access_conf",
    "arithmetic_n",
    "arithmetic_sev",
    "arithmetic_conf",
    "randomness_n",
    "randomness_sev",
    "randomness_conf",
    "dos_n",
    "dos_sev",
    "dos_conf",
    "time_n",
    "time_sev",
    "time_conf",
    "frontrun_n",
    "frontrun_sev",
    "frontrun_conf",
    "short_n",
    "short_sev",
    "short_conf",
    "other_n",
    "other_sev",
    "other_conf",
    "findings",
    "contracts",
    "functions",
    "payable_entries",
    "low_level_calls",
    "external_calls",
    "selfdestructs",
    "pragma_minor",
    "unchecked_arithmetic",
    "bytecode",
];

/// The risk level of one contract and how it was obtained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskAssessment {
    pub level: Severity,
    /// P(risk >= medium), P(>= high), P(>= critical), for display.
    pub probabilities: [f64; 3],
    /// `gbt` (the learned model) or `rules` (no model shipped).
    pub method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_sha256: Option<String>,
}

impl Default for RiskAssessment {
    fn default() -> Self {
        RiskAssessment {
            level: Severity::Low,
            probabilities: [0.0; 3],
            method: "rules".into(),
            model_sha256: None,
        }
    }
}

/// The model file: three boosters and what they were trained on.
#[derive(Debug, Serialize, Deserialize)]
pub struct ModelFile {
    pub features: Vec<String>,
    /// forust JSON dumps for >= medium, >= high, >= critical.
    pub boosters: Vec<String>,
    pub seed: u64,
    pub samples: usize,
    pub note: String,
}

struct Loaded {
    boosters: Vec<GradientBooster>,
    sha256: String,
}

fn loaded() -> Result<Option<&'static Loaded>, AuditError> {
    static CELL: OnceLock<Result<Option<Loaded>, String>> = OnceLock::new();
    let r = CELL.get_or_init(|| {
        let file: Option<ModelFile> =
            serde_json::from_str(MODEL_JSON).map_err(|e| format!("model/risk.json: {e}"))?;
        let Some(file) = file else { return Ok(None) };
        if file.features.len() != FEATURE_NAMES.len() || file.boosters.len() != 3 {
            return Err("model/risk.json does not match this version's features".into());
        }
        let boosters = file
            .boosters
            .iter()
            .map(|b| GradientBooster::from_json(b).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Loaded {
            boosters,
            sha256: model_sha256(),
        }))
    });
    match r {
        Ok(m) => Ok(m.as_ref()),
        Err(e) => Err(AuditError::Model(e.clone())),
    }
}

/// SHA-256 (hex) of the embedded model file.
pub fn model_sha256() -> String {
    hex::encode(Sha256::digest(MODEL_JSON.as_bytes()))
}

/// Feature vector of a report (and of its source model, when there is one).
pub fn features(report: &Report, program: Option<&Program<'_>>) -> Vec<f64> {
    let mut v = Vec::with_capacity(FEATURE_NAMES.len());
    for cat in Category::ALL {
        let fs: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.category == cat)
            .collect();
        v.push(fs.len().min(10) as f64);
        v.push(
            fs.iter()
                .map(|f| f.severity as u8 as f64 + 1.0)
                .fold(0.0, f64::max),
        );
        v.push(
            fs.iter()
                .map(|f| f.confidence as u8 as f64 + 1.0)
                .fold(0.0, f64::max),
        );
    }
    v.push(report.findings.len().min(50) as f64);
    let (mut funcs, mut payable, mut low, mut ext, mut sd) = (0, 0, 0, 0, 0);
    if let Some(p) = program {
        for c in &p.contracts {
            for f in &c.functions {
                funcs += 1;
                payable += usize::from(f.public && f.payable);
                sd += f.facts.selfdestructs.len();
                for call in &f.facts.calls {
                    match call.kind {
                        crate::source::facts::CallKind::LowLevel(_) => low += 1,
                        crate::source::facts::CallKind::External => ext += 1,
                        _ => {}
                    }
                }
            }
        }
    }
    v.push(program.map_or(0, |p| p.contracts.len()) as f64);
    v.extend([funcs, payable, low, ext, sd].map(|x| x.min(100) as f64));
    v.push(
        program
            .and_then(|p| p.version)
            .map_or(-1.0, |(_, m)| m as f64),
    );
    v.push(program.map_or(0.0, |p| f64::from(u8::from(p.unchecked_arithmetic()))));
    v.push(f64::from(u8::from(report.kind == InputKind::Bytecode)));
    v
}

/// Rule-based level: the highest severity among findings of at least medium confidence.
pub fn rule_level(report: &Report) -> Severity {
    report
        .findings
        .iter()
        .filter(|f| f.confidence >= Confidence::Medium)
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::Low)
}

/// Assesses a report with the shipped model (or the rule fallback).
pub fn assess(
    report: &Report,
    program: Option<&Program<'_>>,
) -> Result<RiskAssessment, AuditError> {
    let Some(model) = loaded()? else {
        return Ok(RiskAssessment {
            level: rule_level(report),
            ..RiskAssessment::default()
        });
    };
    let x = features(report, program);
    let margins = margins(&model.boosters, &x);
    Ok(RiskAssessment {
        level: level_from_margins(&margins),
        probabilities: margins.map(|m| (1.0 / (1.0 + (-m).exp()) * 1000.0).round() / 1000.0),
        method: "gbt".into(),
        model_sha256: Some(model.sha256.clone()),
    })
}

fn margins(boosters: &[GradientBooster], x: &[f64]) -> [f64; 3] {
    let m = Matrix::new(x, 1, x.len());
    let mut out = [0.0; 3];
    for (o, b) in out.iter_mut().zip(boosters) {
        *o = b
            .predict(&m, false)
            .first()
            .copied()
            .unwrap_or(f64::NEG_INFINITY);
    }
    out
}

/// Highest threshold whose margin is positive; ordinal thresholds are made monotone.
fn level_from_margins(m: &[f64; 3]) -> Severity {
    if m[0] <= 0.0 {
        Severity::Low
    } else if m[1] <= 0.0 {
        Severity::Medium
    } else if m[2] <= 0.0 {
        Severity::High
    } else {
        Severity::Critical
    }
}

/// One labelled training example.
#[derive(Debug, Clone)]
pub struct Sample {
    pub name: String,
    pub x: Vec<f64>,
    pub y: Severity,
}

fn booster(seed: u64) -> GradientBooster {
    GradientBooster::default()
        .set_objective_type(ObjectiveType::LogLoss)
        .set_iterations(25)
        .set_learning_rate(0.3)
        .set_max_depth(3)
        .set_min_leaf_weight(1.0)
        .set_seed(seed)
        .set_parallel(false)
}

/// Column-major matrix data of samples.
fn column_major(samples: &[&Sample]) -> Vec<f64> {
    let cols = FEATURE_NAMES.len();
    let mut d = vec![0.0; samples.len() * cols];
    for (r, s) in samples.iter().enumerate() {
        for c in 0..cols {
            d[c * samples.len() + r] = s.x.get(c).copied().unwrap_or(0.0);
        }
    }
    d
}

fn fit(samples: &[&Sample], seed: u64) -> Result<Vec<GradientBooster>, AuditError> {
    let data = column_major(samples);
    let m = Matrix::new(&data, samples.len(), FEATURE_NAMES.len());
    let mut out = Vec::new();
    for (k, threshold) in [Severity::Medium, Severity::High, Severity::Critical]
        .iter()
        .enumerate()
    {
        let y: Vec<f64> = samples
            .iter()
            .map(|s| f64::from(u8::from(s.y >= *threshold)))
            .collect();
        let mut b = booster(seed + k as u64);
        b.fit_unweighted(&m, &y, None)
            .map_err(|e| AuditError::Model(e.to_string()))?;
        out.push(b);
    }
    Ok(out)
}

/// Trains the three boosters on all samples and returns the model file's JSON.
pub fn train(samples: &[Sample], seed: u64, note: &str) -> Result<String, AuditError> {
    let refs: Vec<&Sample> = samples.iter().collect();
    let boosters = fit(&refs, seed)?;
    let file = ModelFile {
        features: FEATURE_NAMES.iter().map(|s| s.to_string()).collect(),
        boosters: boosters
            .iter()
            .map(|b| b.json_dump().map_err(|e| AuditError::Model(e.to_string())))
            .collect::<Result<_, _>>()?,
        seed,
        samples: samples.len(),
        note: note.to_string(),
    };
    serde_json::to_string(&file).map_err(|e| AuditError::Model(e.to_string()))
}

/// Cross-validation result: confusion matrix (rows = truth, cols = predicted, in
/// low..critical order) and the rule baseline's on the same folds.
#[derive(Debug, Clone, Serialize)]
pub struct CvReport {
    pub folds: usize,
    pub confusion: [[usize; 4]; 4],
    pub accuracy: f64,
    pub within_one: f64,
    pub macro_f1: f64,
}

impl CvReport {
    fn from_pairs(folds: usize, pairs: &[(Severity, Severity)]) -> CvReport {
        let mut confusion = [[0usize; 4]; 4];
        for (t, p) in pairs {
            confusion[*t as usize][*p as usize] += 1;
        }
        let n = pairs.len().max(1) as f64;
        let acc = pairs.iter().filter(|(t, p)| t == p).count() as f64 / n;
        let w1 = pairs
            .iter()
            .filter(|(t, p)| (*t as i32 - *p as i32).abs() <= 1)
            .count() as f64
            / n;
        let mut f1s = Vec::new();
        for (k, row) in confusion.iter().enumerate() {
            let tp = row[k] as f64;
            let fp: f64 = (0..4)
                .filter(|r| *r != k)
                .map(|r| confusion[r][k] as f64)
                .sum();
            let fn_: f64 = (0..4)
                .filter(|c| *c != k)
                .map(|c| confusion[k][c] as f64)
                .sum();
            if tp + fp + fn_ > 0.0 {
                f1s.push(2.0 * tp / (2.0 * tp + fp + fn_));
            }
        }
        let macro_f1 = f1s.iter().sum::<f64>() / f1s.len().max(1) as f64;
        CvReport {
            folds,
            confusion,
            accuracy: acc,
            within_one: w1,
            macro_f1,
        }
    }
}

/// Stratified k-fold cross-validation (seeded fold assignment), for the model and for
/// the rule baseline ([`rule_level`] needs the reports: pass their levels in `rules`).
pub fn cross_validate(
    samples: &[Sample],
    rules: &[Severity],
    k: usize,
    seed: u64,
) -> Result<(CvReport, CvReport), AuditError> {
    let k = k.max(2);
    // Deterministic shuffle within each class (xorshift), then round-robin folds.
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut fold = vec![0usize; samples.len()];
    for level in [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ] {
        let mut idx: Vec<usize> = (0..samples.len())
            .filter(|i| samples[*i].y == level)
            .collect();
        for i in (1..idx.len()).rev() {
            let j = (next() % (i as u64 + 1)) as usize;
            idx.swap(i, j);
        }
        for (n, i) in idx.into_iter().enumerate() {
            fold[i] = n % k;
        }
    }
    let mut pairs = Vec::new();
    let mut rule_pairs = Vec::new();
    for f in 0..k {
        let train: Vec<&Sample> = samples
            .iter()
            .enumerate()
            .filter(|(i, _)| fold[*i] != f)
            .map(|(_, s)| s)
            .collect();
        let boosters = fit(&train, seed)?;
        for (i, s) in samples.iter().enumerate().filter(|(i, _)| fold[*i] == f) {
            pairs.push((s.y, level_from_margins(&margins(&boosters, &s.x))));
            rule_pairs.push((s.y, rules.get(i).copied().unwrap_or(Severity::Low)));
        }
    }
    Ok((
        CvReport::from_pairs(k, &pairs),
        CvReport::from_pairs(k, &rule_pairs),
    ))
}

/// Risk implied by a ground-truth vulnerability category (the training target).
pub fn category_risk(c: Category) -> Severity {
    match c {
        Category::Reentrancy | Category::AccessControl => Severity::Critical,
        Category::UncheckedLowLevelCalls
        | Category::Arithmetic
        | Category::BadRandomness
        | Category::DenialOfService
        | Category::Other => Severity::High,
        Category::TimeManipulation | Category::FrontRunning => Severity::Medium,
        Category::ShortAddresses => Severity::Low,
    }
}
