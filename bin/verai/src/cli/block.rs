//! `verai block N|latest`.

use super::client::{RpcArgs, call, connect};
use clap::Args;
use eyre::bail;
use jsonrpsee::rpc_params;

/// Arguments of `verai block`.
#[derive(Debug, Args)]
pub struct BlockArgs {
    /// Block number, or `latest`.
    #[arg(default_value = "latest")]
    number: String,
    #[command(flatten)]
    rpc: RpcArgs,
}

pub async fn run(a: BlockArgs) -> eyre::Result<()> {
    let tag = if a.number == "latest" {
        "latest".to_string()
    } else {
        match a.number.parse::<u64>() {
            Ok(n) => format!("{n:#x}"),
            Err(_) => bail!("{:?} is not a block number", a.number),
        }
    };
    let client = connect(&a.rpc.rpc)?;
    let block: Option<serde_json::Value> = call(
        &client,
        &a.rpc.rpc,
        "eth_getBlockByNumber",
        rpc_params![tag, false],
    )
    .await?;
    let Some(block) = block else {
        bail!("block {} not found", a.number)
    };
    if a.rpc.json {
        println!("{block}");
        return Ok(());
    }
    let field = |k: &str| {
        block
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("-")
            .to_string()
    };
    let num = |k: &str| {
        u64::from_str_radix(field(k).trim_start_matches("0x"), 16)
            .map(|n| n.to_string())
            .unwrap_or_else(|_| field(k))
    };
    println!("number        {}", num("number"));
    println!("hash          {}", field("hash"));
    println!("parent        {}", field("parentHash"));
    println!("timestamp     {}", num("timestamp"));
    println!("state root    {}", field("stateRoot"));
    println!("tx root       {}", field("transactionsRoot"));
    println!("receipts root {}", field("receiptsRoot"));
    println!("gas used      {}", num("gasUsed"));
    println!("base fee      {}", num("baseFeePerGas"));
    let txs = block
        .get("transactions")
        .and_then(|t| t.as_array())
        .cloned()
        .unwrap_or_default();
    println!("transactions  {}", txs.len());
    for t in txs {
        println!("  {}", t.as_str().unwrap_or("-"));
    }
    Ok(())
}
