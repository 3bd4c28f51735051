//! `verai sentinel release TXHASH`: end a hold on a node running the sentinel in `hold`
//! mode. The key signs (EIP-191) `verai_releaseHeld:<chainId>:<txHash>:<release|drop>`; the
//! node accepts it only from its configured release keys.

use super::client::{RpcArgs, SignerArgs, call, chain_id, connect};
use alloy_primitives::B256;
use alloy_signer::SignerSync;
use clap::Args;
use eyre::WrapErr;
use jsonrpsee::rpc_params;

/// `verai sentinel release`.
#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// The held transaction.
    tx: B256,
    /// Drop it from the pool instead of releasing it.
    #[arg(long)]
    drop: bool,
    #[command(flatten)]
    rpc: RpcArgs,
    #[command(flatten)]
    signer: SignerArgs,
}

pub async fn run(a: ReleaseArgs) -> eyre::Result<()> {
    let client = connect(&a.rpc.rpc)?;
    let chain = chain_id(&client, &a.rpc.rpc).await?;
    let signer = a.signer.signer(chain)?;
    let message = verai_node::release_message(chain, &a.tx, a.drop);
    let sig = signer
        .sign_message_sync(message.as_bytes())
        .wrap_err("signing the release")?;
    let action = if a.drop { "drop" } else { "release" };
    let sig_hex = format!("0x{}", hex::encode(sig.as_bytes()));
    let was_held: bool = call(
        &client,
        &a.rpc.rpc,
        "verai_releaseHeld",
        rpc_params![a.tx, action, sig_hex],
    )
    .await?;
    if a.rpc.json {
        println!(
            "{}",
            serde_json::json!({ "tx": a.tx, "action": action, "wasHeld": was_held, "by": signer.address() })
        );
    } else if was_held {
        println!("{action}: {} (signed by {})", a.tx, signer.address());
    } else {
        println!(
            "{} was not held (already released, dropped, expired or included)",
            a.tx
        );
    }
    Ok(())
}
