//! The supervised fraud model: gradient-boosted trees trained with `forust-ml`, stored as
//! our own JSON model file and scored by our own tree walk.
//!
//! Model file (`format` = [`MODEL_FORMAT`]), one JSON object:
//! - `features`: the model's input names, which must equal [`model_feature_names`];
//! - `base_score`: the starting log-odds margin;
//! - `trees`: per tree, its nodes in `forust` numbering (node 0 is the root, children have
//!   larger numbers than their parent). Each node has `f` (feature index), `t` (threshold:
//!   `x < t` goes left), `l`, `r`, `m` (left, right and missing-value children; `l = 0`
//!   marks a leaf; `m` is `l` or `r`, as forust grows it) and `w` (the node's weight: the
//!   leaf value for leaves, the weight the node would have as a leaf for inner nodes, used
//!   to attribute a score to features);
//! - `metadata`: training data SHA-256 (the model's parent), rows, seed, parameters, the
//!   decision threshold, and cross-validation figures when training ran them.
//!
//! The model hash is the SHA-256 of the file's bytes. The margin is `base_score` plus the
//! leaf values, added in tree order in `f64` (the same order `forust` uses, so both agree bit
//! for bit; a test checks it). Decisions compare the margin with `logit(threshold)`, never
//! calling `exp()`, whose last bits depend on the maths library.

use crate::dataset::Dataset;
use crate::error::ModelError;
use crate::features::{ModelFeatures, N_MODEL, model_feature_names, model_features};
use forust_ml::GradientBooster;
use forust_ml::data::Matrix;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The model file format this build reads and writes.
pub const MODEL_FORMAT: &str = "verai-sentinel-gbt/1";
/// Largest model file accepted.
pub const MAX_MODEL_BYTES: u64 = 64 << 20;
/// Most trees accepted in a model file.
pub const MAX_TREES: usize = 10_000;
/// Most nodes accepted in one tree.
pub const MAX_NODES_PER_TREE: usize = 1 << 16;

/// Training parameters (the model's recipe, stored in its metadata).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainParams {
    /// Number of trees.
    pub iterations: usize,
    /// Shrinkage applied to each tree.
    pub learning_rate: f32,
    /// Maximum tree depth.
    pub max_depth: usize,
    /// L2 regularization of leaf weights.
    pub l2: f32,
    /// Minimum hessian sum in a leaf.
    pub min_leaf_weight: f32,
    /// Share of rows sampled per tree (1 = all).
    pub subsample: f32,
    /// Share of features sampled per tree (1 = all).
    pub colsample_bytree: f64,
    /// Histogram bins per feature.
    pub nbins: u16,
    /// Seed of the booster's sampling and of the cross-validation folds.
    pub seed: u64,
    /// Probability at or above which an account is classified fraud.
    pub threshold: f64,
}

impl Default for TrainParams {
    fn default() -> Self {
        Self {
            iterations: 400,
            learning_rate: 0.05,
            max_depth: 6,
            l2: 1.0,
            min_leaf_weight: 1.0,
            subsample: 0.8,
            colsample_bytree: 0.8,
            nbins: 256,
            seed: 42,
            threshold: 0.5,
        }
    }
}

impl TrainParams {
    fn validate(&self) -> Result<(), ModelError> {
        let bad = |m: &str| Err(ModelError::Param(m.to_string()));
        if self.iterations == 0 || self.iterations > MAX_TREES {
            return bad("iterations must be in 1..=10000");
        }
        if !(self.threshold > 0.0 && self.threshold < 1.0) {
            return bad("threshold must be in (0, 1)");
        }
        if !(self.subsample > 0.0 && self.subsample <= 1.0) {
            return bad("subsample must be in (0, 1]");
        }
        if !(self.colsample_bytree > 0.0 && self.colsample_bytree <= 1.0) {
            return bad("colsample_bytree must be in (0, 1]");
        }
        Ok(())
    }
}

/// Metadata stored with a model. The default (empty hash, no rows) is for models built in
/// tests, never for a trained file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelMetadata {
    /// SHA-256 (hex) of the training data file: the model's parent record.
    pub training_data_sha256: String,
    /// Training rows.
    pub rows: u64,
    /// Fraud rows among them.
    pub fraud_rows: u64,
    /// The recipe.
    pub params: TrainParams,
    /// Cross-validation run at training time, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cv: Option<crate::metrics::CvSummary>,
    /// What wrote the file.
    pub created_by: String,
}

/// One tree node as stored (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StoredNode {
    /// Feature index.
    pub f: u32,
    /// Threshold: `x < t` goes left.
    pub t: f64,
    /// Left child; 0 marks a leaf.
    pub l: u32,
    /// Right child.
    pub r: u32,
    /// Child for a missing (`NaN`) value.
    pub m: u32,
    /// Node weight (leaf value for leaves).
    pub w: f32,
}

/// A model file's contents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// [`MODEL_FORMAT`].
    pub format: String,
    /// Input names, equal to [`model_feature_names`].
    pub features: Vec<String>,
    /// Starting margin (log-odds).
    pub base_score: f64,
    /// Trees, each a node list.
    pub trees: Vec<Vec<StoredNode>>,
    /// Provenance and recipe.
    pub metadata: ModelMetadata,
}

/// `ln(p / (1 - p))`: the margin equivalent of a probability threshold, computed once when a
/// model or policy is loaded.
pub fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

/// `1 / (1 + exp(-m))`: for display only; decisions use margins.
pub fn probability(margin: f64) -> f64 {
    1.0 / (1.0 + (-margin).exp())
}

/// Model inputs of every row of a data set.
pub fn feature_rows(ds: &Dataset) -> Vec<ModelFeatures> {
    ds.rows.iter().map(model_features).collect()
}

/// Trains a model on the given rows of a data set.
pub fn train(
    ds: &Dataset,
    x: &[ModelFeatures],
    rows: &[usize],
    params: &TrainParams,
) -> Result<Model, ModelError> {
    params.validate()?;
    if rows.is_empty() {
        return Err(ModelError::Param("no training rows".into()));
    }
    // Column-major, as forust expects.
    let n = rows.len();
    let mut data = vec![0f64; n * N_MODEL];
    for (i, &r) in rows.iter().enumerate() {
        for (j, v) in x[r].iter().enumerate() {
            data[j * n + i] = *v;
        }
    }
    let y: Vec<f64> = rows.iter().map(|&r| f64::from(ds.labels[r])).collect();
    let booster = fit_booster(&data, n, &y, params)?;
    let trees = booster
        .trees
        .iter()
        .map(|t| {
            t.nodes
                .iter()
                .map(|nd| StoredNode {
                    f: nd.split_feature as u32,
                    t: nd.split_value,
                    l: if nd.is_leaf { 0 } else { nd.left_child as u32 },
                    r: if nd.is_leaf { 0 } else { nd.right_child as u32 },
                    m: if nd.is_leaf {
                        0
                    } else {
                        nd.missing_node as u32
                    },
                    w: nd.weight_value,
                })
                .collect()
        })
        .collect();
    let model = Model {
        format: MODEL_FORMAT.to_string(),
        features: model_feature_names(),
        base_score: booster.base_score,
        trees,
        metadata: ModelMetadata {
            training_data_sha256: ds.sha256_hex(),
            rows: n as u64,
            fraud_rows: rows.iter().filter(|&&r| ds.labels[r] == 1).count() as u64,
            params: params.clone(),
            cv: None,
            created_by: concat!("verai-sentinel ", env!("CARGO_PKG_VERSION")).to_string(),
        },
    };
    model.validate()?;
    Ok(model)
}

/// Fits a `forust` booster on column-major data (`rows` rows of [`N_MODEL`] columns).
fn fit_booster(
    data: &[f64],
    rows: usize,
    y: &[f64],
    params: &TrainParams,
) -> Result<GradientBooster, ModelError> {
    let matrix = Matrix::new(data, rows, N_MODEL);
    let mut booster = GradientBooster::default()
        .set_iterations(params.iterations)
        .set_learning_rate(params.learning_rate)
        .set_max_depth(params.max_depth)
        .set_l2(params.l2)
        .set_min_leaf_weight(params.min_leaf_weight)
        .set_subsample(params.subsample)
        .set_colsample_bytree(params.colsample_bytree)
        .set_nbins(params.nbins)
        .set_seed(params.seed)
        .set_initialize_base_score(true)
        .set_parallel(true);
    if params.subsample < 1.0 {
        booster = booster.set_sample_method(forust_ml::sampler::SampleMethod::Random);
    }
    booster
        .fit_unweighted(&matrix, y, None)
        .map_err(|e| ModelError::Train(e.to_string()))?;
    Ok(booster)
}

impl Model {
    /// Checks the structure: format, feature list, node indices (children after their parent,
    /// so every walk ends) and bounds.
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |m: String| Err(ModelError::Invalid(m));
        if self.format != MODEL_FORMAT {
            return bad(format!(
                "format {:?}, expected {MODEL_FORMAT:?}",
                self.format
            ));
        }
        if self.features != model_feature_names() {
            return bad("feature list differs from this build's model features".into());
        }
        if !self.base_score.is_finite() {
            return bad("base_score is not finite".into());
        }
        let th = self.metadata.params.threshold;
        if !(th > 0.0 && th < 1.0) {
            return bad("threshold must be in (0, 1)".into());
        }
        if self.trees.is_empty() || self.trees.len() > MAX_TREES {
            return bad(format!(
                "{} trees (1..={MAX_TREES} allowed)",
                self.trees.len()
            ));
        }
        for (ti, tree) in self.trees.iter().enumerate() {
            if tree.is_empty() || tree.len() > MAX_NODES_PER_TREE {
                return bad(format!("tree {ti} has {} nodes", tree.len()));
            }
            for (ni, nd) in tree.iter().enumerate() {
                if !nd.w.is_finite() {
                    return bad(format!("tree {ti} node {ni}: weight is not finite"));
                }
                if nd.l == 0 {
                    continue;
                }
                let ok = |c: u32| (c as usize) > ni && (c as usize) < tree.len();
                if !(ok(nd.l) && ok(nd.r) && ok(nd.m)) || nd.f as usize >= N_MODEL {
                    return bad(format!("tree {ti} node {ni}: bad child or feature index"));
                }
                if nd.m != nd.l && nd.m != nd.r {
                    return bad(format!(
                        "tree {ti} node {ni}: the missing-value child is neither child"
                    ));
                }
                if nd.t.is_nan() {
                    return bad(format!("tree {ti} node {ni}: threshold is NaN"));
                }
            }
        }
        Ok(())
    }

    /// The file bytes (compact JSON, a trailing newline).
    pub fn to_bytes(&self) -> Result<Vec<u8>, ModelError> {
        let mut v = serde_json::to_vec(self)?;
        v.push(b'\n');
        Ok(v)
    }

    /// Parses and validates model bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        if bytes.len() as u64 > MAX_MODEL_BYTES {
            return Err(ModelError::TooLarge(bytes.len() as u64, MAX_MODEL_BYTES));
        }
        let model: Model = serde_json::from_slice(bytes)?;
        model.validate()?;
        Ok(model)
    }

    /// Writes the model file; returns its hash.
    pub fn save(&self, path: &Path) -> Result<[u8; 32], ModelError> {
        let bytes = self.to_bytes()?;
        std::fs::write(path, &bytes).map_err(|e| ModelError::Io(path.display().to_string(), e))?;
        Ok(Sha256::digest(&bytes).into())
    }

    /// Reads a model file; returns the model and its hash.
    pub fn load(path: &Path) -> Result<(Self, [u8; 32]), ModelError> {
        let io = |e| ModelError::Io(path.display().to_string(), e);
        let len = std::fs::metadata(path).map_err(io)?.len();
        if len > MAX_MODEL_BYTES {
            return Err(ModelError::TooLarge(len, MAX_MODEL_BYTES));
        }
        let bytes = std::fs::read(path).map_err(io)?;
        let model = Self::from_bytes(&bytes)?;
        Ok((model, Sha256::digest(&bytes).into()))
    }

    /// The decision margin: `logit(threshold)`.
    pub fn decision_margin(&self) -> f64 {
        logit(self.metadata.params.threshold)
    }

    /// The raw margin (log-odds of fraud) of one account.
    pub fn margin(&self, x: &ModelFeatures) -> f64 {
        let mut m = self.base_score;
        for tree in &self.trees {
            m += f64::from(tree[leaf(tree, x)].w);
        }
        m
    }

    /// The margin, and each feature's contribution to it added into `contrib` (the change of
    /// node weight along each tree's path, attributed to the split feature).
    pub fn margin_with_contributions(&self, x: &ModelFeatures, contrib: &mut ModelFeatures) -> f64 {
        let mut m = self.base_score;
        for tree in &self.trees {
            let mut i = 0usize;
            loop {
                let nd = tree[i];
                if nd.l == 0 {
                    m += f64::from(nd.w);
                    break;
                }
                let next = child(&nd, x) as usize;
                contrib[nd.f as usize] += f64::from(tree[next].w) - f64::from(nd.w);
                i = next;
            }
        }
        m
    }

    /// Margins of many rows.
    pub fn margins(&self, x: &[ModelFeatures]) -> Vec<f64> {
        x.iter().map(|r| self.margin(r)).collect()
    }
}

#[inline]
fn child(nd: &StoredNode, x: &ModelFeatures) -> u32 {
    let v = x[nd.f as usize];
    if v.is_nan() {
        nd.m
    } else if v < nd.t {
        nd.l
    } else {
        nd.r
    }
}

#[inline]
fn leaf(tree: &[StoredNode], x: &ModelFeatures) -> usize {
    let mut i = 0usize;
    loop {
        let nd = &tree[i];
        if nd.l == 0 {
            return i;
        }
        i = child(nd, x) as usize;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margin_matches_forust_bit_for_bit() {
        // Synthetic rows: fraud when feature 3 is large and feature 10 small, with missing
        // values in an ERC-20 column.
        let mut rng = crate::rng::SplitMix64::new(3);
        let n = 600;
        let rows: Vec<ModelFeatures> = (0..n)
            .map(|i| {
                let mut r = [0f64; N_MODEL];
                for v in r.iter_mut() {
                    *v = rng.unit() * 100.0;
                }
                if i % 7 == 0 {
                    r[25] = f64::NAN;
                }
                r
            })
            .collect();
        let y: Vec<f64> = rows
            .iter()
            .map(|r| f64::from(u8::from(r[3] > 50.0 && r[10] < 60.0)))
            .collect();
        let mut data = vec![0f64; n * N_MODEL];
        for (i, r) in rows.iter().enumerate() {
            for (j, v) in r.iter().enumerate() {
                data[j * n + i] = *v;
            }
        }
        let params = TrainParams {
            iterations: 30,
            ..TrainParams::default()
        };
        let booster = fit_booster(&data, n, &y, &params).unwrap();
        let theirs = booster.predict(&Matrix::new(&data, n, N_MODEL), false);
        let labels: Vec<u8> = y.iter().map(|v| *v as u8).collect();
        let ds = Dataset {
            rows: vec![[0.0; 45]; n],
            labels,
            addresses: vec![String::new(); n],
            sha256: [0; 32],
        };
        let all: Vec<usize> = (0..n).collect();
        let model = train(&ds, &rows, &all, &params).unwrap();
        for (r, t) in rows.iter().zip(&theirs) {
            assert_eq!(model.margin(r).to_bits(), t.to_bits());
        }
        // Deterministic: a second fit gives the same file, byte for byte.
        let again = train(&ds, &rows, &all, &params).unwrap();
        assert_eq!(model.to_bytes().unwrap(), again.to_bytes().unwrap());
        // And it learned something.
        let m = crate::metrics::evaluate(&model.margins(&rows), &ds.labels, 0.0);
        assert!(m.f1 > 0.9, "{m:?}");
    }

    #[test]
    fn logit_inverts_probability() {
        for p in [0.1, 0.5, 0.9, 0.99] {
            assert!((probability(logit(p)) - p).abs() < 1e-12);
        }
        assert_eq!(logit(0.5), 0.0);
    }

    fn stump() -> Model {
        let leaf = |w| StoredNode {
            f: 0,
            t: 0.0,
            l: 0,
            r: 0,
            m: 0,
            w,
        };
        Model {
            format: MODEL_FORMAT.into(),
            features: model_feature_names(),
            base_score: -1.0,
            trees: vec![vec![
                StoredNode {
                    f: 3,
                    t: 10.0,
                    l: 1,
                    r: 2,
                    m: 2,
                    w: 0.0,
                },
                leaf(-0.5),
                leaf(2.0),
            ]],
            metadata: ModelMetadata::default(),
        }
    }

    #[test]
    fn tree_walk_and_contributions() {
        let m = stump();
        m.validate().unwrap();
        let mut x = [0f64; N_MODEL];
        x[3] = 5.0;
        assert_eq!(m.margin(&x), -1.5);
        x[3] = 10.0;
        assert_eq!(m.margin(&x), 1.0);
        x[3] = f64::NAN;
        assert_eq!(m.margin(&x), 1.0);
        let mut c = [0f64; N_MODEL];
        x[3] = 20.0;
        assert_eq!(m.margin_with_contributions(&x, &mut c), 1.0);
        assert_eq!(c[3], 2.0);
    }

    #[test]
    fn rejects_cycles_and_bad_indices() {
        let mut m = stump();
        m.trees[0][1] = StoredNode {
            f: 0,
            t: 0.0,
            l: 1,
            r: 2,
            m: 2,
            w: 0.0,
        };
        assert!(m.validate().is_err());
        let mut m = stump();
        m.trees[0][0].r = 9;
        assert!(m.validate().is_err());
        // A missing-value branch of its own (forust's `create_missing_branch`) is not read.
        let mut m = stump();
        let leaf = m.trees[0][2];
        m.trees[0].push(leaf);
        m.trees[0][0].m = 3;
        assert!(m.validate().is_err());
        m.trees[0][0].m = 1;
        m.validate().unwrap();
        let mut m = stump();
        m.trees[0][0].f = N_MODEL as u32;
        assert!(m.validate().is_err());
        let mut m = stump();
        m.features.pop();
        assert!(m.validate().is_err());
        let bytes = stump().to_bytes().unwrap();
        assert_eq!(Model::from_bytes(&bytes).unwrap(), stump());
        assert!(Model::from_bytes(b"{\"format\":1}").is_err());
    }
}
