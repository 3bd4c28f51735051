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
    #[arg(
        long,
        visible_alias = "key",
        env = "VERAI_PRIVATE_KEY",
        conflicts_with = "keystore"
    )]
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

/// Sign an EIP-1559 call to `to` with `input`, send it, and wait up to `timeout` for its
/// receipt. The gas limit is the node's estimate plus a fifth; a call the node predicts to
/// revert is not sent, and its revert data is returned as the error's JSON-RPC data.
pub async fn transact(
    client: &HttpClient,
    rpc: &str,
    signer: &PrivateKeySigner,
    chain_id: u64,
    to: Address,
    input: alloy_primitives::Bytes,
    timeout: std::time::Duration,
) -> Result<serde_json::Value, TransactError> {
    let value = alloy_primitives::U256::ZERO;
    transact_value(
        client,
        rpc,
        signer,
        chain_id,
        Some(to),
        value,
        input,
        0,
        timeout,
    )
    .await
}

/// [`transact`] sending `value` wei with the call; `to: None` deploys `input` as init code.
/// `extra_gas` is added to the estimate, for calls whose path depends on transactions
/// included before them (an oracle's result may be the one that completes a quorum).
#[allow(clippy::too_many_arguments)]
pub async fn transact_value(
    client: &HttpClient,
    rpc: &str,
    signer: &PrivateKeySigner,
    chain_id: u64,
    to: Option<Address>,
    value: alloy_primitives::U256,
    input: alloy_primitives::Bytes,
    extra_gas: u64,
    timeout: std::time::Duration,
) -> Result<serde_json::Value, TransactError> {
    use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
    use alloy_eips::eip2718::Encodable2718;
    use alloy_primitives::{B256, TxKind, U64, U256};
    use alloy_signer::SignerSync;

    let from = signer.address();
    let req = serde_json::json!({ "from": from, "to": to, "data": input, "value": value });
    let gas: U64 = match client.request("eth_estimateGas", rpc_params![req]).await {
        Ok(g) => g,
        Err(jsonrpsee::core::ClientError::Call(e)) => {
            let data = e
                .data()
                .and_then(|d| serde_json::from_str::<alloy_primitives::Bytes>(d.get()).ok());
            return Err(TransactError::Reverted {
                message: e.message().to_string(),
                data,
            });
        }
        Err(e) => {
            return Err(TransactError::Other(eyre::eyre!(
                "eth_estimateGas on {rpc}: {e}"
            )));
        }
    };
    let nonce: U64 = call(
        client,
        rpc,
        "eth_getTransactionCount",
        rpc_params![from, "pending"],
    )
    .await?;
    let gas_price: U256 = call(client, rpc, "eth_gasPrice", rpc_params![]).await?;
    let tip: U256 = call(client, rpc, "eth_maxPriorityFeePerGas", rpc_params![]).await?;
    let gas = gas.to::<u64>();
    let tx = TxEip1559 {
        chain_id,
        nonce: nonce.to(),
        gas_limit: gas.saturating_add(gas / 5).saturating_add(extra_gas),
        max_fee_per_gas: gas_price.saturating_mul(U256::from(2)).to(),
        max_priority_fee_per_gas: tip.to(),
        to: to.map(TxKind::Call).unwrap_or(TxKind::Create),
        value,
        input,
        access_list: Default::default(),
    };
    let sig = signer
        .sign_hash_sync(&tx.signature_hash())
        .map_err(|e| TransactError::Other(e.into()))?;
    let raw = TxEnvelope::from(tx.into_signed(sig)).encoded_2718();
    let hash: B256 = call(
        client,
        rpc,
        "eth_sendRawTransaction",
        rpc_params![alloy_primitives::Bytes::from(raw)],
    )
    .await?;
    let deadline = std::time::Instant::now() + timeout;
    // Poll every 10 ms for the first second (a dev node finalizes within tens of
    // milliseconds), then back off to 200 ms.
    let fast_until = std::time::Instant::now() + std::time::Duration::from_secs(1);
    let mut pause = std::time::Duration::from_millis(10);
    loop {
        let receipt: Option<serde_json::Value> =
            call(client, rpc, "eth_getTransactionReceipt", rpc_params![hash]).await?;
        if let Some(r) = receipt {
            if r.get("status").and_then(|s| s.as_str()) != Some("0x1") {
                return Err(TransactError::Other(eyre::eyre!(
                    "transaction {hash} failed on chain"
                )));
            }
            return Ok(r);
        }
        if std::time::Instant::now() > deadline {
            return Err(TransactError::Other(eyre::eyre!(
                "transaction {hash} not included within {} s",
                timeout.as_secs()
            )));
        }
        tokio::time::sleep(pause).await;
        if std::time::Instant::now() > fast_until {
            pause = (pause * 2).min(std::time::Duration::from_millis(200));
        }
    }
}

/// Why [`transact`] failed.
#[derive(Debug)]
pub enum TransactError {
    /// The node predicts a revert; `data` is the revert data, if any.
    Reverted {
        /// The node's message.
        message: String,
        /// ABI-encoded revert data.
        data: Option<alloy_primitives::Bytes>,
    },
    /// Anything else.
    Other(eyre::Report),
}

impl From<eyre::Report> for TransactError {
    fn from(e: eyre::Report) -> Self {
        Self::Other(e)
    }
}
