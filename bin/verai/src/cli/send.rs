//! `verai send --to ADDR --value AMOUNT`: sign an EIP-1559 transfer locally and wait for it.

use super::common::{TxArgs, address, parse_value};
use clap::Args;
use verai_client::Tx;

/// Arguments of `verai send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// Recipient.
    #[arg(long)]
    to: String,
    /// Amount: VAI with decimals (`1.5`), or wei with a `wei` suffix (`1000wei`).
    #[arg(long)]
    value: String,
    #[command(flatten)]
    tx: TxArgs,
}
// `--timeout 0` sends without waiting for the receipt.

pub async fn run(a: SendArgs) -> eyre::Result<()> {
    let to = address(&a.to)?;
    let value = parse_value(&a.value)?;
    let w = a.tx.wallet().await?;
    let tx = Tx::call(to, Vec::new()).value(value);
    if a.tx.timeout == 0 {
        let hash = w.client.send(&w.signer, w.chain_id, &tx).await?;
        a.tx.rpc.print(
            serde_json::json!({ "id": hash, "transactionHash": hash }),
            || hash.to_string(),
        );
        return Ok(());
    }
    let r = w.send(tx).await?;
    let (hash, block) = (r.transaction_hash, r.block_number);
    a.tx.rpc.print(
        serde_json::json!({ "id": hash, "transactionHash": hash, "blockNumber": block }),
        || format!("{hash} included in block {}", block.unwrap_or_default()),
    );
    Ok(())
}
