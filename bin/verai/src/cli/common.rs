//! What the client subcommands share: `--rpc`, `--json`, the signer flags, amounts.

use alloy_primitives::{Address, U256};
use alloy_signer_local::PrivateKeySigner;
use clap::Args;
use eyre::{WrapErr, bail};
use std::{path::PathBuf, time::Duration};
use verai_client::Client;

/// Options every client subcommand takes.
#[derive(Debug, Args, Clone)]
pub struct RpcArgs {
    /// JSON-RPC endpoint of a node.
    #[arg(long, env = "VERAI_RPC", default_value = "http://127.0.0.1:8545")]
    pub rpc: String,
    /// Print one JSON object on stdout instead of text.
    #[arg(long)]
    pub json: bool,
    /// File with the node's JWT secret (hex): sent as a token, it lifts the blob quota.
    #[arg(long, env = "VERAI_RPC_JWT", value_name = "FILE")]
    pub rpc_jwt: Option<PathBuf>,
}

impl RpcArgs {
    /// A client of the node (with a token when `--rpc-jwt` names the secret).
    pub fn client(&self) -> eyre::Result<Client> {
        let secret = match &self.rpc_jwt {
            Some(path) => Some(
                verai_client::api::auth::parse_secret(
                    &std::fs::read_to_string(path)
                        .wrap_err_with(|| format!("reading {}", path.display()))?,
                )
                .map_err(|e| eyre::eyre!("{}: {e}", path.display()))?,
            ),
            None => None,
        };
        Ok(Client::connect_with(&self.rpc, secret.as_ref())?)
    }

    /// Print `json` with `--json`, else `text()`.
    pub fn print(&self, json: serde_json::Value, text: impl FnOnce() -> String) {
        if self.json {
            println!("{json}");
        } else {
            println!("{}", text());
        }
    }
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
    /// Key file: a JSON keystore (as `verai keys new`, geth and foundry write) or a hex key.
    #[arg(long)]
    pub keystore: Option<PathBuf>,
    /// File holding the keystore's password (else `VERAI_KEYSTORE_PASSWORD`, else a prompt).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
}

impl SignerArgs {
    /// The signer to use on a chain.
    pub fn signer(&self, chain_id: u64) -> eyre::Result<PrivateKeySigner> {
        let encrypted = self.keystore.as_deref().is_some_and(|p| {
            std::fs::read_to_string(p).is_ok_and(|t| t.trim_start().starts_with('{'))
        });
        let password = if encrypted {
            Some(password(self.password_file.as_deref(), false)?)
        } else {
            None
        };
        Ok(verai_client::signer::choose(
            self.private_key.as_deref(),
            self.keystore.as_deref(),
            password.as_deref(),
            chain_id,
        )?)
    }
}

/// A keystore password: from `file`, else `VERAI_KEYSTORE_PASSWORD`, else asked on the
/// terminal without echo (twice when `new`).
pub fn password(file: Option<&std::path::Path>, new: bool) -> eyre::Result<String> {
    if let Some(f) = file {
        let text =
            std::fs::read_to_string(f).wrap_err_with(|| format!("reading {}", f.display()))?;
        return Ok(text.trim_end_matches(['\n', '\r']).to_string());
    }
    if let Ok(p) = std::env::var("VERAI_KEYSTORE_PASSWORD") {
        return Ok(p);
    }
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        bail!("a keystore password is needed: pass --password-file or set VERAI_KEYSTORE_PASSWORD");
    }
    let p = rpassword::prompt_password("keystore password: ")?;
    if new && rpassword::prompt_password("again: ")? != p {
        bail!("the two passwords differ");
    }
    Ok(p)
}

/// A signing session: the node, the chain and the key.
pub struct Wallet {
    pub client: Client,
    pub chain_id: u64,
    pub signer: PrivateKeySigner,
    pub timeout: Duration,
}

/// Options of subcommands that send a transaction.
#[derive(Debug, Args, Clone)]
pub struct TxArgs {
    #[command(flatten)]
    pub signer: SignerArgs,
    #[command(flatten)]
    pub rpc: RpcArgs,
    /// Seconds to wait for inclusion.
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
}

impl TxArgs {
    /// Connect and choose the signer.
    pub async fn wallet(&self) -> eyre::Result<Wallet> {
        let client = self.rpc.client()?;
        let chain_id = client.chain_id().await?;
        Ok(Wallet {
            signer: self.signer.signer(chain_id)?,
            client,
            chain_id,
            timeout: Duration::from_secs(self.timeout),
        })
    }
}

impl Wallet {
    /// Send `tx` (its timeout set to the wallet's) and wait for the receipt.
    pub async fn send(
        &self,
        tx: verai_client::Tx,
    ) -> eyre::Result<alloy_rpc_types_eth::TransactionReceipt> {
        let tx = tx.timeout(self.timeout);
        Ok(self
            .client
            .transact(&self.signer, self.chain_id, tx)
            .await?)
    }
}

impl Wallet {
    /// Send `call` to the contract or module at `to` with `value`, and wait for the receipt.
    pub async fn call(
        &self,
        to: Address,
        call: impl alloy_sol_types::SolCall,
        value: U256,
    ) -> eyre::Result<alloy_rpc_types_eth::TransactionReceipt> {
        self.send(verai_client::Tx::call(to, call.abi_encode()).value(value))
            .await
    }
}

/// Parse an address argument.
pub fn address(s: &str) -> eyre::Result<Address> {
    s.parse()
        .wrap_err_with(|| format!("{s:?} is not an address"))
}

/// Run a client future on a small runtime.
pub fn block_on<T, F: std::future::Future<Output = eyre::Result<T>>>(f: F) -> eyre::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(f)
}

/// Format wei as ether with up to 18 decimals, trailing zeros trimmed.
pub fn format_ether(wei: U256) -> String {
    let unit = U256::from(10u64).pow(U256::from(18u64));
    let (whole, frac) = (wei / unit, wei % unit);
    if frac.is_zero() {
        return whole.to_string();
    }
    let frac = format!("{:0>18}", frac.to_string());
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

/// Parse an amount in VAI (18 decimals) or in wei (`<n>wei`).
pub fn parse_value(s: &str) -> eyre::Result<U256> {
    let s = s.trim();
    if let Some(wei) = s.strip_suffix("wei") {
        return wei
            .trim()
            .parse::<U256>()
            .wrap_err_with(|| format!("{s:?} is not an amount of wei"));
    }
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 18 || whole.is_empty() && frac.is_empty() {
        bail!("{s:?} is not an amount of VAI (at most 18 decimals)");
    }
    format!("{whole}{frac:0<18}")
        .parse::<U256>()
        .wrap_err_with(|| format!("{s:?} is not an amount of VAI"))
}

/// Parse an `--input`: a JSON array of numbers (nested arrays are flattened), or the path
/// of a file holding one.
pub fn parse_input(arg: &str) -> eyre::Result<Vec<f32>> {
    let text = if arg.trim_start().starts_with('[') {
        arg.to_string()
    } else {
        std::fs::read_to_string(arg).wrap_err_with(|| format!("reading input file {arg}"))?
    };
    let v: serde_json::Value =
        serde_json::from_str(&text).wrap_err("--input is not a JSON array of numbers")?;
    fn walk(v: &serde_json::Value, out: &mut Vec<f32>) -> eyre::Result<()> {
        match v {
            serde_json::Value::Array(a) => a.iter().try_for_each(|x| walk(x, out)),
            serde_json::Value::Number(n) => {
                let x = n
                    .as_f64()
                    .ok_or_else(|| eyre::eyre!("{n} is not a number"))?
                    as f32;
                if !x.is_finite() {
                    bail!("{n} does not fit an f32");
                }
                out.push(x);
                Ok(())
            }
            other => bail!("input holds {other}, expected numbers"),
        }
    }
    let mut out = Vec::new();
    walk(&v, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(parse_value("1").unwrap(), U256::from(10u64.pow(18)));
        assert_eq!(parse_value("0.5").unwrap(), U256::from(5 * 10u64.pow(17)));
        assert_eq!(parse_value("7wei").unwrap(), U256::from(7));
        assert!(parse_value("1.0000000000000000001").is_err());
        assert!(parse_value("abc").is_err());
        assert!(parse_value(".").is_err());
        assert_eq!(
            format_ether(U256::from(15) * U256::from(10u64.pow(17))),
            "1.5"
        );
    }
}
