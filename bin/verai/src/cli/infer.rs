//! `verai infer`: run a registered model in a block (or through an oracle hub), list a
//! model's inferences, and verify an inference record without trusting the node
//! (`verai_client::verify::inference`: the record's slots and model hash proven against a
//! finalized state root, input and output hashed, the model re-run here).

use super::common::{RpcArgs, TxArgs, parse_input, parse_value};
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{B256, U256};
use alloy_rpc_types_eth::Filter;
use alloy_sol_types::{SolCall, SolEvent};
use clap::{Args, Subcommand};
use eyre::{WrapErr, eyre};
use std::{path::PathBuf, time::Duration};
use verai_client::{Tx, api::EthApiClient, receipt_events, verify};
use verai_inference::{f32_bytes, f32_values, sha256, tensor_hash};
use verai_inference_module::{ADDRESS, IInference};

/// `verai infer MODEL --input ...`, or a subcommand.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct InferArgs {
    #[command(subcommand)]
    command: Option<InferCommand>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum InferCommand {
    /// Check an inference record against the validators and re-run it here.
    Verify(VerifyArgs),
    /// List a model's inferences.
    History(HistoryArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The model's id.
    #[arg(required = true)]
    model: Option<u64>,
    /// Input values: a JSON array (nested arrays are flattened), or a file holding one.
    #[arg(long, required = true)]
    input: Option<String>,
    /// Ask an oracle hub's quorum instead of running in a block (models too large for one).
    #[arg(long, requires = "hub")]
    oracle: bool,
    /// The oracle hub (with `--oracle`).
    #[arg(long)]
    hub: Option<alloy_primitives::Address>,
    /// Fee for the agreeing oracles (with `--oracle`; VAI, or `<n>wei`).
    #[arg(long, default_value = "0.1")]
    fee: String,
    /// Seconds to wait for inclusion (or, with `--oracle`, for the quorum).
    #[command(flatten)]
    tx: TxArgs,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The inference record's id.
    record: u64,
    /// The network's genesis file (its validator set); not needed on the dev chain.
    #[arg(long)]
    genesis: Option<PathBuf>,
    /// The model file, instead of fetching its bytes from the node.
    #[arg(long)]
    model: Option<PathBuf>,
    #[command(flatten)]
    rpc: RpcArgs,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The model's id.
    model: u64,
    #[command(flatten)]
    rpc: RpcArgs,
}

pub async fn run(a: InferArgs) -> eyre::Result<()> {
    match a.command {
        Some(InferCommand::Verify(v)) => verify_record(v).await,
        Some(InferCommand::History(h)) => history(h).await,
        None => infer(a.run).await,
    }
}

async fn infer(a: RunArgs) -> eyre::Result<()> {
    let (Some(model), Some(input)) = (a.model, a.input.as_deref()) else {
        eyre::bail!("give a model id and --input");
    };
    let x = parse_input(input)?;
    let w = a.tx.wallet().await?;
    if a.oracle {
        let request = verai_oracle::Request {
            hub: a.hub.ok_or_else(|| eyre!("--oracle needs --hub"))?,
            model,
            input: x,
            fee: parse_value(&a.fee)?,
            as_blob: false,
            callback: None,
            wait: true,
            timeout: Duration::from_secs(a.tx.timeout),
        };
        let answer = verai_oracle::ask(&w.client, &w.signer, w.chain_id, &request).await?;
        a.tx.rpc.print(serde_json::to_value(&answer)?, || {
            let record = answer.record.unwrap_or_default();
            format!(
                "output   {:?}\nrecord   {record} (oracle quorum; verify with: verai infer verify {record})",
                answer.output.clone().unwrap_or_default(),
            )
        });
        return Ok(());
    }
    let call = IInference::inferRawCall {
        modelId: model,
        input: f32_bytes(&x).into(),
    };
    let receipt = w.send(Tx::call(ADDRESS, call.abi_encode())).await?;
    let ev = receipt_events::<IInference::InferenceRecorded>(&receipt)
        .pop()
        .ok_or_else(|| eyre!("the receipt has no InferenceRecorded event"))?;
    let output = f32_values(&ev.output).ok_or_else(|| eyre!("output is not f32 values"))?;
    let gas = receipt.gas_used;
    a.tx.rpc.print(
        serde_json::json!({
            "output": output,
            "record": ev.id,
            "model": model,
            "gasUsed": gas,
            "outputHash": B256::from(tensor_hash(&output)),
            "transaction": receipt.transaction_hash,
            "blockNumber": receipt.block_number,
        }),
        || {
            format!(
                "output   {output:?}\nrecord   {} (verify with: verai infer verify {0})\ngas used {gas}",
                ev.id
            )
        },
    );
    Ok(())
}

async fn verify_record(a: VerifyArgs) -> eyre::Result<()> {
    let client = a.rpc.client()?;
    let validators = verify::validators(a.genesis.as_deref(), client.chain_id().await?)?;
    let model = match &a.model {
        Some(p) => Some(std::fs::read(p).wrap_err_with(|| format!("reading {}", p.display()))?),
        None => None,
    };
    let r = verify::inference::verify(&client, a.record, &validators, model).await?;
    a.rpc.print(serde_json::to_value(&r)?, || {
        let mut out = format!("inference {} verified:", a.record);
        for c in &r.checks {
            out += &format!("\n  ✓ {c}");
        }
        out
    });
    Ok(())
}

async fn history(a: HistoryArgs) -> eyre::Result<()> {
    let client = a.rpc.client()?;
    let filter = Filter::new()
        .address(ADDRESS)
        .from_block(BlockNumberOrTag::Earliest)
        .to_block(BlockNumberOrTag::Latest)
        .event_signature(IInference::InferenceRecorded::SIGNATURE_HASH)
        .topic2(B256::from(U256::from(a.model)));
    let logs = client.get_logs(filter).await?;
    let rows: Vec<serde_json::Value> = logs
        .iter()
        .filter_map(|l| {
            let ev = IInference::InferenceRecorded::decode_log_data(l.data()).ok()?;
            Some((l, ev))
        })
        .map(|(l, ev)| {
            serde_json::json!({
                "record": ev.id,
                "requester": ev.requester,
                "blockNumber": l.block_number,
                "inputHash": B256::from(sha256(&ev.input)),
                "outputHash": B256::from(sha256(&ev.output)),
                "output": f32_values(&ev.output).unwrap_or_default(),
                "transaction": l.transaction_hash,
            })
        })
        .collect();
    a.rpc.print(
        serde_json::json!({ "model": a.model, "inferences": rows }),
        || {
            if rows.is_empty() {
                return format!("model {} has no inferences", a.model);
            }
            rows.iter()
                .map(|r| {
                    format!(
                        "record {:>5}  block {:>6}  by {}  output {}",
                        r["record"],
                        r["blockNumber"],
                        r["requester"].as_str().unwrap_or(""),
                        r["output"]
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        },
    );
    Ok(())
}
