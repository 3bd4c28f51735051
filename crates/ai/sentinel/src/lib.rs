//! The sentinel: fraud and anomaly scoring of accounts and transactions.
//!
//! - [`dataset`]: the Ethereum fraud data set, loaded with strict validation;
//! - [`features`]: the data set's account features and the model's inputs;
//! - [`model`]: gradient-boosted trees trained with `forust-ml`, our JSON model file, margin
//!   scoring compared with `logit(threshold)`; [`compiled`]: its trees laid out for scoring;
//! - [`cv`], [`metrics`]: stratified k-fold cross-validation, precision / recall / F1 /
//!   ROC-AUC;
//! - [`store`]: the incremental per-account feature store fed finalized blocks, and the
//!   per-transaction features;
//! - [`history`]: the anomaly detector's training history, sampled per second of chain
//!   time;
//! - [`chain`]: a finalized block and its receipts to the store's input;
//! - [`anomaly`]: a seeded isolation forest over transaction features;
//! - [`scorer`]: the [`Sentinel`] scorer and its [`Policy`] (allow / flag / hold);
//! - [`screen`]: the node's admission screen over all of it, and its settings.
//!
//! Everything here is deterministic: the same data, parameters and seed give the same model
//! file, byte for byte.

pub mod anomaly;
pub mod chain;
pub mod compiled;
pub mod cv;
pub mod dataset;
pub mod error;
pub mod features;
pub mod history;
pub mod metrics;
pub mod model;
pub mod rng;
pub mod scorer;
pub mod screen;
pub mod store;

pub use cv::{CvSummary, cross_validate, stratified_folds};
pub use dataset::Dataset;
pub use error::{DatasetError, ModelError};
pub use features::{ModelFeatures, RawFeatures, model_features};
pub use metrics::{Metrics, evaluate};
pub use model::{Model, TrainParams, logit};
pub use scorer::{AccountRisk, Action, Policy, RiskCache, Score, Sentinel, Verdict};
pub use store::{BlockActivity, ChainTx, FeatureStore, TokenTransfer, TxView};
