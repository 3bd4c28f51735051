//! `verai block N|latest [--verify]`.

use super::common::RpcArgs;
use alloy_eips::BlockNumberOrTag;
use clap::Args;
use eyre::bail;
use verai_client::{api::EthApiClient, verify};

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
    let tag = match a.number.as_str() {
        "latest" => BlockNumberOrTag::Latest,
        n => match n.parse::<u64>() {
            Ok(n) => BlockNumberOrTag::Number(n),
            Err(_) => bail!("{:?} is not a block number", a.number),
        },
    };
    let client = a.rpc.client()?;
    let Some(block) = client.get_block_by_number(tag, false).await? else {
        bail!("block {} not found", a.number)
    };
    let h = &block.header;
    if a.verify {
        let validators = verify::validators(a.genesis.as_deref(), client.chain_id().await?)?;
        let r = verify::block::verify(&client, h.number, &validators).await?;
        a.rpc.print(serde_json::to_value(&r)?, || {
            format!(
                "block {} {} is final\n  header decoded locally; its hash is what the certificate signs\n  finalization at view {} of block {} signed by a quorum of {} validator(s)\n  state root {}",
                r.number, r.hash, r.view, r.finalized_height, r.validators, r.state_root
            )
        });
        return Ok(());
    }
    let hashes: Vec<String> = block
        .transactions
        .hashes()
        .map(|t| format!("  {t}"))
        .collect();
    a.rpc.print(serde_json::to_value(&block)?, || {
        format!(
            "number        {}\nhash          {}\nparent        {}\ntimestamp     {}\nstate root    {}\ntx root       {}\nreceipts root {}\ngas used      {}\nbase fee      {}\ntransactions  {}\n{}",
            h.number,
            h.hash,
            h.parent_hash,
            h.timestamp,
            h.state_root,
            h.transactions_root,
            h.receipts_root,
            h.gas_used,
            h.base_fee_per_gas.unwrap_or_default(),
            hashes.len(),
            hashes.join("\n")
        )
        .trim_end()
        .to_string()
    });
    Ok(())
}
