//! `verai infer`: run a registered model in a block, list a model's inferences, and verify
//! an inference record without trusting the node.
//!
//! `verify RECORD` fetches the audit record, its input and output (from the
//! `InferenceRecorded` log), the model's bytes, a proof of the record's slots and of the
//! model hash slot, and the block's certificate. It checks the slots against the state
//! root and the certificate against the validator set (as `verai provenance verify`
//! does), that the model bytes, input and output hash to the proven values, and that
//! re-running the model here gives the proven output hash.

use super::client::{RpcArgs, SignerArgs, TransactError, call, chain_id, connect, transact};
use super::model::{json_log, receipt_logs, view};
use super::proof::{Expected, verify_slots};
use alloy_primitives::{B256, Bytes, U256};
use alloy_sol_types::{SolCall, SolEvent};
use clap::{Args, Subcommand};
use eyre::{WrapErr, bail, eyre};
use jsonrpsee::{http_client::HttpClient, rpc_params};
use std::{path::PathBuf, time::Duration};
use verai_inference::{Model, f32_bytes, f32_values, sha256, tensor_hash};
use verai_inference_module::{ADDRESS, IInference, layout};
use verai_rpc::{CertificateResponse, ProofResponse};

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
    #[command(flatten)]
    signer: SignerArgs,
    #[command(flatten)]
    rpc: RpcArgs,
    /// Seconds to wait for inclusion (or, with `--oracle`, for the quorum).
    #[arg(long, default_value_t = 60)]
    timeout: u64,
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
        Some(InferCommand::Verify(v)) => verify(v).await,
        Some(InferCommand::History(h)) => history(h).await,
        None => infer(a.run).await,
    }
}

/// Parse `--input`: JSON text, or the path of a file holding it.
pub fn parse_input(arg: &str) -> eyre::Result<Vec<f32>> {
    let text = if arg.trim_start().starts_with('[') {
        arg.to_string()
    } else {
        std::fs::read_to_string(arg).wrap_err_with(|| format!("reading input file {arg}"))?
    };
    let v: serde_json::Value =
        serde_json::from_str(&text).wrap_err("--input is not a JSON array of numbers")?;
    let mut out = Vec::new();
    fn walk(v: &serde_json::Value, out: &mut Vec<f32>) -> eyre::Result<()> {
        match v {
            serde_json::Value::Array(a) => a.iter().try_for_each(|x| walk(x, out)),
            serde_json::Value::Number(n) => {
                let x = n.as_f64().ok_or_else(|| eyre!("{n} is not a number"))? as f32;
                if !x.is_finite() {
                    bail!("{n} does not fit an f32");
                }
                out.push(x);
                Ok(())
            }
            other => bail!("input holds {other}, expected numbers"),
        }
    }
    walk(&v, &mut out)?;
    Ok(out)
}

fn inference_log(topics: Vec<B256>, data: &[u8]) -> Option<IInference::InferenceRecorded> {
    (topics.first() == Some(&IInference::InferenceRecorded::SIGNATURE_HASH))
        .then(|| IInference::InferenceRecorded::decode_raw_log(topics, data).ok())
        .flatten()
}

async fn infer(a: RunArgs) -> eyre::Result<()> {
    let (Some(model), Some(input)) = (a.model, a.input.as_deref()) else {
        bail!("give a model id and --input");
    };
    let x = parse_input(input)?;
    if a.oracle {
        let hub = a.hub.ok_or_else(|| eyre!("--oracle needs --hub"))?;
        let tx = super::oracle::Tx {
            signer: a.signer.clone(),
            rpc: a.rpc.clone(),
            timeout: a.timeout,
        };
        let fee = super::send::parse_value(&a.fee)?;
        let asked = super::oracle::ask(&tx, hub, model, &x, fee, false, None, true).await?;
        if a.rpc.json {
            println!("{}", asked.json());
        } else if let Some((out, record)) = &asked.answer {
            println!("output   {out:?}");
            println!("record   {record} (oracle quorum; verify with: verai infer verify {record})");
        }
        return Ok(());
    }
    let rpc = &a.rpc.rpc;
    let client = connect(rpc)?;
    let chain = chain_id(&client, rpc).await?;
    let signer = a.signer.signer(chain)?;
    let call_data = IInference::inferRawCall {
        modelId: model,
        input: f32_bytes(&x).into(),
    }
    .abi_encode();
    let receipt = match transact(
        &client,
        rpc,
        &signer,
        chain,
        ADDRESS,
        call_data.into(),
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
            bail!("refused: {why}")
        }
        Err(TransactError::Other(e)) => return Err(e),
    };
    let ev = receipt_logs(&receipt)
        .into_iter()
        .find_map(|(t, d)| inference_log(t, &d))
        .ok_or_else(|| eyre!("the receipt has no InferenceRecorded event"))?;
    let output = f32_values(&ev.output).ok_or_else(|| eyre!("output is not f32 values"))?;
    let gas = receipt["gasUsed"]
        .as_str()
        .and_then(|g| u64::from_str_radix(g.trim_start_matches("0x"), 16).ok())
        .unwrap_or_default();
    if a.rpc.json {
        println!(
            "{}",
            serde_json::json!({
                "output": output,
                "record": ev.id,
                "model": model,
                "gasUsed": gas,
                "outputHash": B256::from(tensor_hash(&output)),
                "transaction": receipt["transactionHash"],
                "blockNumber": receipt["blockNumber"],
            })
        );
    } else {
        println!("output   {output:?}");
        println!(
            "record   {} (verify with: verai infer verify {})",
            ev.id, ev.id
        );
        println!("gas used {gas}");
    }
    Ok(())
}

/// The `InferenceRecorded` log of record `id`.
async fn record_log(
    client: &HttpClient,
    rpc: &str,
    id: u64,
    block: u64,
) -> eyre::Result<IInference::InferenceRecorded> {
    let filter = serde_json::json!({
        "address": ADDRESS,
        "fromBlock": format!("{block:#x}"),
        "toBlock": format!("{block:#x}"),
        "topics": [IInference::InferenceRecorded::SIGNATURE_HASH, B256::from(U256::from(id))],
    });
    let logs: Vec<serde_json::Value> =
        call(client, rpc, "eth_getLogs", rpc_params![filter]).await?;
    logs.iter()
        .filter_map(json_log)
        .find_map(|(t, d)| inference_log(t, &d))
        .ok_or_else(|| eyre!("{rpc} has no InferenceRecorded log for record {id} in block {block}"))
}

async fn verify(a: VerifyArgs) -> eyre::Result<()> {
    let (rpc, id) = (&a.rpc.rpc, a.record);
    let client = connect(rpc)?;
    let chain = chain_id(&client, rpc).await?;
    let validators = super::validators::load(a.genesis.as_deref(), chain)?;
    let rec = view(&client, rpc, IInference::getInferenceCall { id }).await?;
    let fail = |what: String| eyre!("verification of inference {id} FAILED: {what}");

    // 1. The record's slots and the model hash, proven and finalized.
    let slots = layout::inference_slots(id);
    let model_slot = layout::model_hash(rec.modelId);
    let word = |b: B256| U256::from_be_bytes(b.0);
    let expected = [
        Expected {
            name: "model, block and path",
            slot: slots[0],
            value: layout::pack_inference(rec.modelId, rec.blockNumber, rec.path),
        },
        Expected {
            name: "input hash",
            slot: slots[1],
            value: word(rec.inputHash),
        },
        Expected {
            name: "output hash",
            slot: slots[2],
            value: word(rec.outputHash),
        },
        Expected {
            name: "requester",
            slot: slots[3],
            value: word(rec.requester.into_word()),
        },
        Expected {
            name: "reporter",
            slot: slots[4],
            value: word(rec.reporter.into_word()),
        },
        Expected {
            name: "model hash",
            slot: model_slot,
            value: word(rec.modelHash),
        },
    ];
    let keys: Vec<U256> = expected.iter().map(|e| e.slot).collect();
    let proof: ProofResponse =
        call(&client, rpc, "verai_getProof", rpc_params![ADDRESS, keys]).await?;
    let cert: Option<CertificateResponse> = call(
        &client,
        rpc,
        "verai_getCertificate",
        rpc_params![format!("{:#x}", proof.block_number)],
    )
    .await?;
    let cert =
        cert.ok_or_else(|| eyre!("{rpc} has no certificate for block {}", proof.block_number))?;
    let proven = verify_slots(ADDRESS, &expected, &proof, &cert.certificate, &validators)
        .map_err(|e| fail(e.to_string()))?;
    let mut checks = proven.checks;

    if rec.path == verai_inference_module::Path::Oracle as u8 {
        // Agreed off chain: the record proves who reported which hashes, not the output.
        checks.push(format!(
            "oracle path: output hash {} agreed by a quorum at hub {}; not re-run (the model may be too large for a block)",
            rec.outputHash, rec.reporter
        ));
        return report(&a, id, &rec, proven.proof_bytes, checks, None);
    }
    let ev = record_log(&client, rpc, id, rec.blockNumber).await?;

    // 2. Input and output from the log hash to the proven values.
    if B256::from(sha256(&ev.input)) != rec.inputHash {
        return Err(fail(
            "the logged input does not hash to the recorded input hash".into(),
        ));
    }
    if B256::from(sha256(&ev.output)) != rec.outputHash {
        return Err(fail(
            "the logged output does not hash to the recorded output hash".into(),
        ));
    }
    checks.push(format!(
        "input ({} bytes) and output ({} bytes) hash to the proven hashes",
        ev.input.len(),
        ev.output.len()
    ));

    // 3. The model's bytes hash to the proven model hash; re-running gives the output.
    let bytes = match &a.model {
        Some(p) => std::fs::read(p).wrap_err_with(|| format!("reading {}", p.display()))?,
        None => view(
            &client,
            rpc,
            IInference::modelBytesCall {
                modelId: rec.modelId,
            },
        )
        .await?
        .to_vec(),
    };
    if B256::from(sha256(&bytes)) != rec.modelHash {
        return Err(fail(format!(
            "the model bytes hash to {}, the proven model hash is {}",
            B256::from(sha256(&bytes)),
            rec.modelHash
        )));
    }
    let model = Model::load(&bytes).map_err(|e| fail(format!("model: {e}")))?;
    let input = f32_values(&ev.input).ok_or_else(|| fail("input is not f32 values".into()))?;
    let out = model.run(&input).map_err(|e| fail(e.to_string()))?;
    let got = B256::from(tensor_hash(&out));
    if got != rec.outputHash {
        return Err(fail(format!(
            "re-running model {} here gives output hash {got}, the record says {}",
            rec.modelId, rec.outputHash
        )));
    }
    checks.push(format!(
        "model {} (hash {}) re-run here on {}: output hash {got} matches",
        rec.modelId,
        rec.modelHash,
        verai_inference::isa()
    ));
    report(&a, id, &rec, proven.proof_bytes, checks, Some(out))
}

fn report(
    a: &VerifyArgs,
    id: u64,
    rec: &IInference::Inference,
    proof_bytes: usize,
    checks: Vec<String>,
    output: Option<Vec<f32>>,
) -> eyre::Result<()> {
    if a.rpc.json {
        println!(
            "{}",
            serde_json::json!({
                "id": id,
                "verified": true,
                "model": rec.modelId,
                "path": if rec.path == 0 { "consensus" } else { "oracle" },
                "blockNumber": rec.blockNumber,
                "requester": rec.requester,
                "reporter": rec.reporter,
                "output": output,
                "proofBytes": proof_bytes,
                "checks": checks,
            })
        );
    } else {
        println!("inference {id} verified:");
        for c in checks {
            println!("  ✓ {c}");
        }
    }
    Ok(())
}

async fn history(a: HistoryArgs) -> eyre::Result<()> {
    let rpc = &a.rpc.rpc;
    let client = connect(rpc)?;
    let filter = serde_json::json!({
        "address": ADDRESS,
        "fromBlock": "0x0",
        "toBlock": "latest",
        "topics": [IInference::InferenceRecorded::SIGNATURE_HASH, null, B256::from(U256::from(a.model))],
    });
    let logs: Vec<serde_json::Value> =
        call(&client, rpc, "eth_getLogs", rpc_params![filter]).await?;
    let mut rows = Vec::new();
    for l in &logs {
        let Some(ev) = json_log(l).and_then(|(t, d)| inference_log(t, &d)) else {
            continue;
        };
        let block = l["blockNumber"]
            .as_str()
            .and_then(|b| u64::from_str_radix(b.trim_start_matches("0x"), 16).ok())
            .unwrap_or_default();
        rows.push(serde_json::json!({
            "record": ev.id,
            "requester": ev.requester,
            "blockNumber": block,
            "inputHash": B256::from(sha256(&ev.input)),
            "outputHash": B256::from(sha256(&ev.output)),
            "output": f32_values(&ev.output).unwrap_or_default(),
            "transaction": l["transactionHash"],
        }));
    }
    if a.rpc.json {
        println!(
            "{}",
            serde_json::json!({ "model": a.model, "inferences": rows })
        );
    } else if rows.is_empty() {
        println!("model {} has no inferences", a.model);
    } else {
        for r in rows {
            println!(
                "record {:>5}  block {:>6}  by {}  output {}",
                r["record"],
                r["blockNumber"],
                r["requester"].as_str().unwrap_or(""),
                r["output"]
            );
        }
    }
    let _: Option<Bytes> = None;
    Ok(())
}
