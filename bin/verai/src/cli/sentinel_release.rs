//! `verai sentinel release TXHASH`: end a hold on a node running the sentinel in `hold`
//! mode. The key signs (EIP-191) `verai_releaseHeld:<chainId>:<txHash>:<release|drop>`; the
//! node accepts it only from its configured release keys.

use super::common::{RpcArgs, SignerArgs};
use alloy_primitives::{B256, Bytes};
use alloy_signer::SignerSync;
use clap::Args;
use verai_client::api::SentinelApiClient;

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
    let client = a.rpc.client()?;
    let chain = client.chain_id().await?;
    let signer = a.signer.signer(chain)?;
    let message = verai_node::release_message(chain, &a.tx, a.drop);
    let sig = signer.sign_message_sync(message.as_bytes())?;
    let action = if a.drop { "drop" } else { "release" };
    let was_held = client
        .release_held(a.tx, action.into(), Bytes::from(sig.as_bytes().to_vec()))
        .await?;
    a.rpc.print(
        serde_json::json!({ "tx": a.tx, "action": action, "wasHeld": was_held, "by": signer.address() }),
        || {
            if was_held {
                format!("{action}: {} (signed by {})", a.tx, signer.address())
            } else {
                format!(
                    "{} was not held (already released, dropped, expired or included)",
                    a.tx
                )
            }
        },
    );
    Ok(())
}
