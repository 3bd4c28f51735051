//! The sentinel: fraud and anomaly scoring of accounts and transactions.
//!
//! - [`dataset`]: the Ethereum fraud data set, loaded with strict validation;
//! - [`features`]: the data set's account features and the model's inputs;
//! - [`model`]: gradient-boosted trees trained with `forust-ml`, our JSON model file, margin
//!   scoring compared with `logit(threshold)`;
//! - [`cv`], [`metrics`]: stratified k-fold cross-validation, precision / recall / F1 /
//!   ROC-AUC.
//!
//! Everything here is deterministic: the same data, parameters and seed give the same model
//! file, byte for byte.

pub mod cv;
pub mod dataset;
pub mod error;
pub mod features;
pub mod metrics;
pub mod model;
pub mod rng;

pub use cv::{CvSummary, cross_validate, stratified_folds};
pub use dataset::Dataset;
pub use error::{DatasetError, ModelError};
pub use features::{ModelFeatures, RawFeatures, model_features};
pub use metrics::{Metrics, evaluate};
pub use model::{Model, TrainParams, logit};
