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
    /// Check the block's finality certificate against the validator set, trusting no node.
    #[arg(long)]
    verify: bool,
    /// Genesis file of the network (its validators); not needed on the dev chain.
    #[arg(long)]
    genesis: Option<std::path::PathBuf>,
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
    if a.verify {
        return verify(&a, &client, &block).await;
    }
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

/// Fetch the raw block and its certificate, and check both locally.
async fn verify(
    a: &BlockArgs,
    client: &jsonrpsee::http_client::HttpClient,
    block: &serde_json::Value,
) -> eyre::Result<()> {
    let number = block["number"].clone();
    let chain_id = super::client::chain_id(client, &a.rpc.rpc).await?;
    let validators = super::validators::load(a.genesis.as_deref(), chain_id)?;
    let raw: Option<alloy_primitives::Bytes> = call(
        client,
        &a.rpc.rpc,
        "debug_getRawBlock",
        rpc_params![number.clone()],
    )
    .await?;
    let Some(raw) = raw else {
        bail!("the node has no raw block {number}")
    };
    let decoded = verai_primitives::Block::decode(&raw)?;
    let cert: Option<serde_json::Value> = call(
        client,
        &a.rpc.rpc,
        "verai_getCertificate",
        rpc_params![number.clone()],
    )
    .await?;
    let Some(cert) = cert else {
        bail!("the node has no certificate for block {number}")
    };
    let bytes: alloy_primitives::Bytes = serde_json::from_value(cert["certificate"].clone())?;
    let height = decoded.number();
    let fin = verai_consensus::verify_certificate(&validators, decoded.hash(), height, &bytes)
        .map_err(|e| eyre::eyre!("block {height} is NOT proven final: {e}"))?;
    if a.rpc.json {
        println!(
            "{}",
            serde_json::json!({
                "number": height, "hash": decoded.hash(), "stateRoot": decoded.header.state_root,
                "verified": true, "validators": validators.len(), "view": fin.view,
                "finalizedHeight": fin.finalized_height, "finalizedHash": fin.finalized_hash,
            })
        );
    } else {
        println!("block {height} {} is final", decoded.hash());
        println!("  header decoded locally; its hash is what the certificate signs");
        println!(
            "  finalization at view {} of block {} signed by a quorum of {} validator(s)",
            fin.view,
            fin.finalized_height,
            validators.len()
        );
        println!("  state root {}", decoded.header.state_root);
    }
    Ok(())
}
