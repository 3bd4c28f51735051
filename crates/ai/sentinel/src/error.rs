//! Typed errors of the sentinel crate.

use thiserror::Error;

/// Loading a data set failed.
#[derive(Debug, Error)]
pub enum DatasetError {
    /// The file could not be read.
    #[error("cannot read {0}: {1}")]
    Io(String, std::io::Error),
    /// The file is larger than the bound.
    #[error("data file is {0} bytes, more than the limit of {1}")]
    TooLarge(u64, u64),
    /// More rows than the bound.
    #[error("data file has more than {0} rows")]
    TooManyRows(usize),
    /// A required column is not in the header.
    #[error("missing column \"{0}\" in the header (line 1)")]
    MissingColumn(String),
    /// A cell does not hold what its column requires.
    #[error("column \"{column}\", line {line}: {value:?} is not {expected}")]
    Malformed {
        /// Column name.
        column: String,
        /// 1-based line (the header is line 1).
        line: usize,
        /// The offending text (at most 40 characters).
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// The CSV structure is broken (e.g. a row with the wrong number of cells).
    #[error("line {0}: {1}")]
    Csv(usize, String),
    /// No data rows.
    #[error("data file has no rows")]
    Empty,
}

/// Training, loading or evaluating a model failed.
#[derive(Debug, Error)]
pub enum ModelError {
    /// The booster rejected the data or parameters.
    #[error("training failed: {0}")]
    Train(String),
    /// A model file could not be read or written.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    /// A model file is larger than the bound.
    #[error("model file is {0} bytes, more than the limit of {1}")]
    TooLarge(u64, u64),
    /// A model file is not valid JSON of the expected shape.
    #[error("invalid model file: {0}")]
    Json(#[from] serde_json::Error),
    /// A model file is well-formed but inconsistent.
    #[error("invalid model: {0}")]
    Invalid(String),
    /// A parameter is out of range.
    #[error("invalid parameter: {0}")]
    Param(String),
}
