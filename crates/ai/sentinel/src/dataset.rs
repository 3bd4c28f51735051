//! Loading the Ethereum fraud data set (`shared/data/eth-fraud/train.csv` and any CSV with
//! its header), with strict validation.
//!
//! Format: a CSV file with a header row. Columns are found by name (surrounding spaces
//! ignored, as the public file has names like `" Total ERC20 tnxs"`), so their order does not
//! matter and extra columns are ignored. Required: `Address` (non-empty, at most 128
//! characters: the public file holds a few transaction hashes and typos there, and the
//! address is only carried along, never a feature), `FLAG`
//! (`0` or `1`) and every column of [`RAW_FEATURES`]. The account features of
//! [`crate::features::REQUIRED_RAW`] must be finite numbers; the ERC-20 columns may be empty,
//! which the public data set uses for accounts whose token history was not collected: an
//! empty cell loads as `NaN` (missing). `id`, `Index` and the token-name columns are not read:
//! row numbers and names are no evidence of fraud (the `id` column of the public file is
//! sorted by label, so a model that saw it would learn the split, not fraud).
//!
//! Errors name the column and the line (1-based, the header is line 1). Decoding is bounded:
//! at most [`MAX_FILE_BYTES`] bytes and [`MAX_ROWS`] rows.

use crate::error::DatasetError;
use crate::features::{RAW_FEATURES, RawFeatures, is_optional_raw};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Largest data file accepted.
pub const MAX_FILE_BYTES: u64 = 256 << 20;
/// Most data rows accepted.
pub const MAX_ROWS: usize = 2_000_000;

/// A loaded data set: one row of raw account features and a label per account.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Raw features per row, in [`RAW_FEATURES`] order.
    pub rows: Vec<RawFeatures>,
    /// `FLAG` per row: 1 = fraud.
    pub labels: Vec<u8>,
    /// `Address` per row (lower-case hex with `0x`); never a feature.
    pub addresses: Vec<String>,
    /// SHA-256 of the file's bytes: the training data's identity, the model's parent.
    pub sha256: [u8; 32],
}

impl Dataset {
    /// Reads and validates a data file.
    pub fn load(path: &Path) -> Result<Self, DatasetError> {
        let io = |e: std::io::Error| DatasetError::Io(path.display().to_string(), e);
        let len = std::fs::metadata(path).map_err(io)?.len();
        if len > MAX_FILE_BYTES {
            return Err(DatasetError::TooLarge(len, MAX_FILE_BYTES));
        }
        let bytes = std::fs::read(path).map_err(io)?;
        Self::parse(&bytes)
    }

    /// Parses and validates CSV bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, DatasetError> {
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(DatasetError::TooLarge(bytes.len() as u64, MAX_FILE_BYTES));
        }
        let sha256: [u8; 32] = Sha256::digest(bytes).into();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(bytes);
        let header = reader
            .headers()
            .map_err(|e| DatasetError::Csv(1, e.to_string()))?
            .clone();
        let find = |name: &str| -> Result<usize, DatasetError> {
            header
                .iter()
                .position(|h| h.trim() == name)
                .ok_or_else(|| DatasetError::MissingColumn(name.to_string()))
        };
        let address_col = find("Address")?;
        let flag_col = find("FLAG")?;
        let mut feature_cols = [0usize; RAW_FEATURES.len()];
        for (slot, name) in feature_cols.iter_mut().zip(RAW_FEATURES) {
            *slot = find(name)?;
        }

        let mut out = Dataset {
            rows: Vec::new(),
            labels: Vec::new(),
            addresses: Vec::new(),
            sha256,
        };
        for (i, record) in reader.records().enumerate() {
            let line = i + 2;
            if i >= MAX_ROWS {
                return Err(DatasetError::TooManyRows(MAX_ROWS));
            }
            let record = record.map_err(|e| DatasetError::Csv(line, e.to_string()))?;
            let cell = |col: usize| record.get(col).unwrap_or("").trim();
            let malformed =
                |column: &str, value: &str, expected: &'static str| DatasetError::Malformed {
                    column: column.to_string(),
                    line,
                    value: value.chars().take(40).collect(),
                    expected,
                };

            let address = cell(address_col);
            if address.is_empty() || address.len() > 128 {
                return Err(malformed("Address", address, "1 to 128 characters"));
            }
            let label = match cell(flag_col) {
                "0" => 0,
                "1" => 1,
                other => return Err(malformed("FLAG", other, "0 or 1")),
            };
            let mut raw = [0f64; RAW_FEATURES.len()];
            for (k, (&col, name)) in feature_cols.iter().zip(RAW_FEATURES).enumerate() {
                let text = cell(col);
                raw[k] = if text.is_empty() && is_optional_raw(k) {
                    f64::NAN
                } else {
                    match text.parse::<f64>() {
                        Ok(v) if v.is_finite() => v,
                        _ => return Err(malformed(name, text, "a finite number")),
                    }
                };
            }
            out.rows.push(raw);
            out.labels.push(label);
            out.addresses.push(address.to_ascii_lowercase());
        }
        if out.rows.is_empty() {
            return Err(DatasetError::Empty);
        }
        Ok(out)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no rows (never true for a loaded data set).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Number of fraud rows.
    pub fn fraud_count(&self) -> usize {
        self.labels.iter().filter(|&&l| l == 1).count()
    }

    /// The training data hash as lower-case hex.
    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn header() -> String {
        let mut cols = vec!["id", "Index", "Address", "FLAG"];
        cols.extend(RAW_FEATURES);
        cols.join(",")
    }

    fn row(addr: &str, flag: &str, fill: &str) -> String {
        let mut cells = vec!["1".to_string(), "1".into(), addr.into(), flag.into()];
        cells.extend(RAW_FEATURES.iter().map(|_| fill.to_string()));
        cells.join(",")
    }

    const A: &str = "0x4331d79e8652ca85e5c88ee6170cebd8f6499bbd";

    #[test]
    fn parses_valid_rows() {
        let csv = format!(
            "{}\n{}\n{}\n",
            header(),
            row(A, "0", "1.5"),
            row(A, "1", "0")
        );
        let ds = Dataset::parse(csv.as_bytes()).unwrap();
        assert_eq!(ds.len(), 2);
        assert_eq!(ds.labels, vec![0, 1]);
        assert_eq!(ds.rows[0][0], 1.5);
        assert_eq!(ds.fraud_count(), 1);
    }

    #[test]
    fn missing_column_is_named() {
        let csv = format!("{}\n{}\n", header(), row(A, "0", "1")).replace(",Sent tnx,", ",X,");
        match Dataset::parse(csv.as_bytes()) {
            Err(DatasetError::MissingColumn(c)) => assert_eq!(c, "Sent tnx"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_cell_names_column_and_line() {
        let mut bad: Vec<String> = row(A, "0", "1").split(',').map(String::from).collect();
        bad[4 + 3] = "abc".into(); // RAW_FEATURES[3] = "Sent tnx"
        let csv = format!("{}\n{}\n{}\n", header(), row(A, "0", "1"), bad.join(","));
        let err = Dataset::parse(csv.as_bytes()).unwrap_err();
        match &err {
            DatasetError::Malformed { column, line, .. } => {
                assert_eq!(column, "Sent tnx");
                assert_eq!(*line, 3);
            }
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("Sent tnx"));
        assert!(err.to_string().contains("line 3"));
    }

    #[test]
    fn empty_only_allowed_in_erc20_columns() {
        let mut cells: Vec<String> = row(A, "0", "1").split(',').map(String::from).collect();
        let erc20 = 4 + RAW_FEATURES
            .iter()
            .position(|c| *c == "Total ERC20 tnxs")
            .unwrap();
        cells[erc20] = String::new();
        let csv = format!("{}\n{}\n", header(), cells.join(","));
        let ds = Dataset::parse(csv.as_bytes()).unwrap();
        assert!(ds.rows[0][erc20 - 4].is_nan());

        cells[4] = String::new(); // "Avg min between sent tnx" is required
        let csv = format!("{}\n{}\n", header(), cells.join(","));
        assert!(matches!(
            Dataset::parse(csv.as_bytes()),
            Err(DatasetError::Malformed { line: 2, .. })
        ));
    }

    #[test]
    fn bad_flag_address_and_non_finite_rejected() {
        let h = header();
        for bad in [
            row(A, "2", "1"),
            row("", "0", "1"),
            row(A, "0", "inf"),
            row(A, "0", "NaN"),
        ] {
            let csv = format!("{h}\n{bad}\n");
            assert!(Dataset::parse(csv.as_bytes()).is_err(), "{bad}");
        }
        assert!(matches!(
            Dataset::parse(format!("{h}\n").as_bytes()),
            Err(DatasetError::Empty)
        ));
    }

    #[test]
    fn ragged_row_rejected_with_line() {
        let csv = format!("{}\n{},7\n", header(), row(A, "0", "1"));
        assert!(matches!(
            Dataset::parse(csv.as_bytes()),
            Err(DatasetError::Csv(2, _))
        ));
    }
}
