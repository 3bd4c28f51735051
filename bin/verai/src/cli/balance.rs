//! `verai balance ADDR`.

use super::common::{RpcArgs, address, format_ether};
use clap::Args;
use verai_client::api::EthApiClient;

/// Arguments of `verai balance`.
#[derive(Debug, Args)]
pub struct BalanceArgs {
    /// The account.
    address: String,
    #[command(flatten)]
    rpc: RpcArgs,
}

pub async fn run(a: BalanceArgs) -> eyre::Result<()> {
    let addr = address(&a.address)?;
    let wei = a.rpc.client()?.get_balance(addr, None).await?;
    a.rpc.print(
        serde_json::json!({ "address": addr, "wei": wei.to_string(), "ether": format_ether(wei) }),
        || format!("{} VAI ({wei} wei)", format_ether(wei)),
    );
    Ok(())
}
