//! `verai node --config FILE`: the TOML form of `verai node`'s options (flags win over it).
//! A file of its own so that the fuzz targets parse exactly what the node parses.

use serde::Deserialize;
use std::{net::IpAddr, path::PathBuf};

/// The same options from a TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub dev: Option<bool>,
    pub datadir: Option<PathBuf>,
    pub rpc_addr: Option<IpAddr>,
    pub rpc_port: Option<u16>,
    pub p2p_port: Option<u16>,
    pub metrics_port: Option<u16>,
    pub explorer_port: Option<u16>,
    pub rpc_jwt_secret: Option<PathBuf>,
    pub blob_quota_mb: Option<u64>,
    pub blob_store_mb: Option<u64>,
    pub block_time: Option<u64>,
    pub min_block_interval: Option<u64>,
    pub genesis: Option<PathBuf>,
    pub validator_key: Option<PathBuf>,
    pub follow: Option<String>,
    pub audit_deploys: Option<bool>,
    pub sentinel: Option<verai_sentinel::screen::Settings>,
    pub operator_key: Option<String>,
}

impl FileConfig {
    /// Parse the file's text; unknown keys are refused.
    pub fn parse(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }
}
