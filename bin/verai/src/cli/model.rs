//! `verai model register FILE`: check an ONNX model, store it on chain through the
//! inference module, and record it in the provenance registry.

use super::client::{RpcArgs, SignerArgs, TransactError, call, chain_id, connect, transact};
use alloy_primitives::{B256, Bytes};
use alloy_sol_types::{SolCall, SolEvent};
use clap::{Args, Subcommand};
use eyre::{WrapErr, bail, eyre};
use jsonrpsee::{core::client::ClientT, http_client::HttpClient, rpc_params};
use std::{path::PathBuf, time::Duration};
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
    signer: SignerArgs,
    #[command(flatten)]
    rpc: RpcArgs,
    /// Seconds to wait for inclusion.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
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
            let client = connect(&a.rpc.rpc)?;
            let m = get_model(&client, &a.rpc.rpc, a.id).await?;
            if a.rpc.json {
                println!("{}", model_json(&m));
            } else {
                print_model(&m);
            }
            Ok(())
        }
    }
}

/// `eth_call` a view of the inference module and decode its answer.
pub async fn view<C: SolCall>(client: &HttpClient, rpc: &str, c: C) -> eyre::Result<C::Return> {
    let req = serde_json::json!({ "to": ADDRESS, "data": Bytes::from(c.abi_encode()) });
    let out: Result<Bytes, _> = client
        .request::<Bytes, _>("eth_call", rpc_params![req, "latest"])
        .await;
    match out {
        Ok(b) => C::abi_decode_returns(&b).map_err(|e| eyre!("bad answer from {rpc}: {e}")),
        Err(jsonrpsee::core::ClientError::Call(e)) => {
            let why = e
                .data()
                .and_then(|d| serde_json::from_str::<Bytes>(d.get()).ok())
                .and_then(|d| verai_inference_module::explain(&d))
                .unwrap_or_else(|| e.message().to_string());
            bail!("{why}")
        }
        Err(e) => Err(eyre!("eth_call on {rpc}: {e}")),
    }
}

pub async fn get_model(client: &HttpClient, rpc: &str, id: u64) -> eyre::Result<IInference::Model> {
    view(client, rpc, IInference::getModelCall { modelId: id }).await
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

fn print_model(m: &IInference::Model) {
    println!("model {}", m.modelId);
    println!("  content hash  {}", m.contentHash);
    println!("  size          {} bytes", m.size);
    println!("  input shape   {:?}", m.inputShape);
    println!("  output shape  {:?}", m.outputShape);
    println!("  operations    {} per inference", m.ops);
    println!("  gas per call  {} (plus the audit record)", m.gasPerCall);
}

async fn register(a: RegisterArgs) -> eyre::Result<()> {
    let bytes = std::fs::read(&a.file).wrap_err_with(|| format!("reading {}", a.file.display()))?;
    // The same check every validator runs: a refused model costs no transaction.
    let local = verai_inference::Model::load(&bytes)
        .map_err(|e| eyre!("{} refused: {e}", a.file.display()))?;
    let hash = B256::from(local.hash());
    let rpc = &a.rpc.rpc;
    let client = connect(rpc)?;
    // Also keep the file in the node's blob store, so `blob:<hash>` resolves there.
    let stored: verai_rpc::BlobReceipt = call(
        &client,
        rpc,
        "verai_putBlob",
        rpc_params![Bytes::from(bytes.clone())],
    )
    .await?;
    if stored.hash != hash {
        bail!("the node stored the file as {}, not {hash}", stored.hash);
    }
    let chain = chain_id(&client, rpc).await?;
    let signer = a.signer.signer(chain)?;
    let input = IInference::registerModelCall {
        onnx: bytes.into(),
        uri: format!("blob:{hash}#{}", a.name),
        license: a.license,
        parents: a.trained_on,
    }
    .abi_encode();
    let receipt = match transact(
        &client,
        rpc,
        &signer,
        chain,
        ADDRESS,
        input.into(),
        Duration::from_secs(a.timeout),
    )
    .await
    {
        Ok(r) => r,
        Err(TransactError::Reverted { message, data }) => {
            let why = data
                .as_deref()
                .and_then(|d| verai_inference_module::explain(d))
                .unwrap_or(message);
            bail!("refused by the chain: {why}")
        }
        Err(TransactError::Other(e)) => return Err(e),
    };
    let id = receipt_logs(&receipt)
        .into_iter()
        .find_map(|(topics, data)| {
            (topics.first() == Some(&IInference::ModelRegistered::SIGNATURE_HASH))
                .then(|| IInference::ModelRegistered::decode_raw_log(topics, &data).ok())
                .flatten()
        })
        .map(|e| e.modelId)
        .ok_or_else(|| eyre!("the receipt has no ModelRegistered event"))?;
    let m = get_model(&client, rpc, id).await?;
    if a.rpc.json {
        let mut v = model_json(&m);
        v["transaction"] = receipt["transactionHash"].clone();
        v["name"] = a.name.into();
        println!("{v}");
    } else {
        println!("registered {} as model {id}", a.file.display());
        print_model(&m);
    }
    Ok(())
}

/// (topics, data) of each log in a JSON receipt.
pub fn receipt_logs(receipt: &serde_json::Value) -> Vec<(Vec<B256>, Vec<u8>)> {
    receipt["logs"]
        .as_array()
        .map(|logs| logs.iter().filter_map(json_log).collect())
        .unwrap_or_default()
}

/// (topics, data) of one JSON log.
pub fn json_log(l: &serde_json::Value) -> Option<(Vec<B256>, Vec<u8>)> {
    let topics = l["topics"]
        .as_array()?
        .iter()
        .map(|t| t.as_str()?.parse::<B256>().ok())
        .collect::<Option<Vec<_>>>()?;
    let data = l["data"].as_str()?.parse::<Bytes>().ok()?;
    Some((topics, data.to_vec()))
}
