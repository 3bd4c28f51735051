//! `verai model register FILE`: check an ONNX model, store it on chain through the
//! inference module, and record it in the provenance registry; `verai model show ID`.

use super::common::{RpcArgs, TxArgs};
use alloy_primitives::B256;
use alloy_sol_types::SolCall;
use clap::{Args, Subcommand};
use eyre::{WrapErr, bail, eyre};
use std::path::PathBuf;
use verai_client::{Tx, api::ProvenanceApiClient, receipt_events};
use verai_inference_module::{ADDRESS, IInference};

/// `verai model ...`
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Register an ONNX model for in-block inference.
    Register(RegisterArgs),
    /// Show a registered model: hash, shapes, cost.
    Show(ShowArgs),
}

#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// The ONNX file.
    file: PathBuf,
    /// A name for people (kept in the record's URI as `blob:<hash>#<name>`).
    #[arg(long)]
    name: String,
    /// SPDX licence id, or `sha256:<hex>` of a licence document.
    #[arg(long)]
    license: String,
    /// Records (datasets, training runs) the model was trained on; repeat.
    #[arg(long = "trained-on")]
    trained_on: Vec<u64>,
    #[command(flatten)]
    tx: TxArgs,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The model's id (its provenance record id).
    id: u64,
    #[command(flatten)]
    rpc: RpcArgs,
}

pub async fn run(c: ModelCommand) -> eyre::Result<()> {
    match c {
        ModelCommand::Register(a) => register(a).await,
        ModelCommand::Show(a) => {
            let client = a.rpc.client()?;
            let m = client
                .view(ADDRESS, &IInference::getModelCall { modelId: a.id })
                .await?;
            a.rpc.print(model_json(&m), || model_text(&m));
            Ok(())
        }
    }
}

fn model_json(m: &IInference::Model) -> serde_json::Value {
    serde_json::json!({
        "modelId": m.modelId,
        "contentHash": m.contentHash,
        "size": m.size,
        "ops": m.ops,
        "gasPerCall": m.gasPerCall,
        "inputShape": m.inputShape,
        "outputShape": m.outputShape,
    })
}

fn model_text(m: &IInference::Model) -> String {
    format!(
        "model {}\n  content hash  {}\n  size          {} bytes\n  input shape   {:?}\n  output shape  {:?}\n  operations    {} per inference\n  gas per call  {} (plus the audit record)",
        m.modelId, m.contentHash, m.size, m.inputShape, m.outputShape, m.ops, m.gasPerCall
    )
}

async fn register(a: RegisterArgs) -> eyre::Result<()> {
    let bytes = std::fs::read(&a.file).wrap_err_with(|| format!("reading {}", a.file.display()))?;
    // The same check every validator runs: a refused model costs no transaction.
    let local = verai_inference::Model::load(&bytes)
        .map_err(|e| eyre!("{} refused: {e}", a.file.display()))?;
    let hash = B256::from(local.hash());
    let w = a.tx.wallet().await?;
    // Also keep the file in the node's blob store, so `blob:<hash>` resolves there.
    let stored = w.client.put_blob(bytes.clone().into()).await?;
    if stored.hash != hash {
        bail!("the node stored the file as {}, not {hash}", stored.hash);
    }
    let call = IInference::registerModelCall {
        onnx: bytes.into(),
        uri: format!("blob:{hash}#{}", a.name),
        license: a.license,
        parents: a.trained_on,
    };
    let receipt = w.send(Tx::call(ADDRESS, call.abi_encode())).await?;
    let id = receipt_events::<IInference::ModelRegistered>(&receipt)
        .first()
        .map(|e| e.modelId)
        .ok_or_else(|| eyre!("the receipt has no ModelRegistered event"))?;
    let m = w
        .client
        .view(ADDRESS, &IInference::getModelCall { modelId: id })
        .await?;
    let mut json = model_json(&m);
    json["id"] = id.into();
    json["transaction"] = serde_json::to_value(receipt.transaction_hash)?;
    json["name"] = a.name.clone().into();
    a.tx.rpc.print(json, || {
        format!(
            "registered {} as model {id}\n{}",
            a.file.display(),
            model_text(&m)
        )
    });
    Ok(())
}
