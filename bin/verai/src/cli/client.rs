//! Shared pieces of the client subcommands: RPC connection, signer selection, output.

use alloy_primitives::Address;
use alloy_signer_local::PrivateKeySigner;
use clap::Args;
use eyre::{WrapErr, bail};
use jsonrpsee::{
    core::client::ClientT,
    http_client::{HttpClient, HttpClientBuilder},
    rpc_params,
};
use std::path::PathBuf;
use verai_primitives::{DEV_CHAIN_ID, dev_signers};

/// Options every client subcommand takes.
#[derive(Debug, Args, Clone)]
pub struct RpcArgs {
    /// JSON-RPC endpoint of a node.
    #[arg(long, env = "VERAI_RPC", default_value = "http://127.0.0.1:8545")]
    pub rpc: String,
    /// Print one JSON object on stdout instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Options of subcommands that sign.
#[derive(Debug, Args, Clone)]
pub struct SignerArgs {
    /// Private key (hex). On chain id 1337 the first dev account is the default.
    #[arg(long, env = "VERAI_PRIVATE_KEY", conflicts_with = "keystore")]
    pub private_key: Option<String>,
    /// File holding a hex private key (as written by `verai keys new`).
    #[arg(long)]
    pub keystore: Option<PathBuf>,
}

impl SignerArgs {
    /// The signer to use on a chain.
    pub fn signer(&self, chain_id: u64) -> eyre::Result<PrivateKeySigner> {
        if let Some(k) = &self.private_key {
            return k
                .trim()
                .parse()
                .wrap_err("--private-key is not a valid hex private key");
        }
        if let Some(path) = &self.keystore {
            let k = std::fs::read_to_string(path)
                .wrap_err_with(|| format!("reading {}", path.display()))?;
            return k
                .trim()
                .parse()
                .wrap_err_with(|| format!("{} does not hold a hex private key", path.display()));
        }
        if chain_id == DEV_CHAIN_ID {
            return Ok(dev_signers(1).remove(0));
        }
        bail!(
            "no signer: pass --private-key or --keystore (the dev default applies only on chain id {DEV_CHAIN_ID})"
        )
    }
}

/// Connect to a node over HTTP.
pub fn connect(rpc: &str) -> eyre::Result<HttpClient> {
    HttpClientBuilder::default()
        .request_timeout(std::time::Duration::from_secs(30))
        .build(rpc)
        .wrap_err_with(|| format!("invalid RPC URL {rpc}"))
}

/// Call a method, with the endpoint in the error.
pub async fn call<R: serde::de::DeserializeOwned>(
    client: &HttpClient,
    rpc: &str,
    method: &str,
    params: jsonrpsee::core::params::ArrayParams,
) -> eyre::Result<R> {
    client
        .request(method, params)
        .await
        .wrap_err_with(|| format!("{method} on {rpc}"))
}

/// The node's chain id.
pub async fn chain_id(client: &HttpClient, rpc: &str) -> eyre::Result<u64> {
    let id: alloy_primitives::U64 = call(client, rpc, "eth_chainId", rpc_params![]).await?;
    Ok(id.to::<u64>())
}

/// Parse an address argument.
pub fn address(s: &str) -> eyre::Result<Address> {
    s.parse()
        .wrap_err_with(|| format!("{s:?} is not an address"))
}

/// Run a client future on a small runtime.
pub fn block_on<F: std::future::Future<Output = eyre::Result<()>>>(f: F) -> eyre::Result<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(f)
}

/// Format wei as ether with up to 18 decimals, trailing zeros trimmed.
pub fn format_ether(wei: alloy_primitives::U256) -> String {
    let unit = alloy_primitives::U256::from(10u64).pow(alloy_primitives::U256::from(18u64));
    let (whole, frac) = (wei / unit, wei % unit);
    if frac.is_zero() {
        return whole.to_string();
    }
    let frac = format!("{:0>18}", frac.to_string());
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

/// Run a future returning a value on a small runtime.
pub fn block_on_value<T, F: std::future::Future<Output = eyre::Result<T>>>(
    f: F,
) -> eyre::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(f)
}
