//! `verai balance ADDR`.

use super::client::{RpcArgs, address, call, connect, format_ether};
use alloy_primitives::U256;
use clap::Args;
use jsonrpsee::rpc_params;

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
    let client = connect(&a.rpc.rpc)?;
    let wei: U256 = call(
        &client,
        &a.rpc.rpc,
        "eth_getBalance",
        rpc_params![addr, "latest"],
    )
    .await?;
    if a.rpc.json {
        println!(
            "{}",
            serde_json::json!({ "address": addr, "wei": wei.to_string(), "ether": format_ether(wei) })
        );
    } else {
        println!("{} VAI ({wei} wei)", format_ether(wei));
    }
    Ok(())
}
