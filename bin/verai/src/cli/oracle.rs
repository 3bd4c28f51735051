//! `verai oracle`: the oracle path for inference jobs too large for a block.
//!
//! The coordinator is a Solidity contract (`contracts/src/OracleHub.sol`): bonds, requests,
//! quorum, fee split, slashing, refunds and the requester's callback live on chain. `run` is
//! the worker: it follows the hub's `InferenceRequested` events, fetches the model (from the
//! inference module, or a provenance model record's blob `verai_getBlob`, checked against
//! its content hash), runs it with the same engine and instruction set as the validators
//! (off-chain size limits), and submits the output in a signed transaction.

use super::client::{RpcArgs, SignerArgs, TransactError, call, chain_id, connect, transact_value};
use super::model::{json_log, view};
use super::send::parse_value;
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::{SolCall, SolEvent};
use clap::{Args, Subcommand, ValueEnum};
use eyre::{WrapErr, bail, eyre};
use jsonrpsee::{core::client::ClientT, http_client::HttpClient, rpc_params};
use std::{collections::HashSet, time::Duration};
use verai_inference::{Limits, Model, f32_bytes, f32_values, sha256};
use verai_inference_module::IInference;

alloy_sol_types::sol! {
    /// The parts of `contracts/src/OracleHub.sol` the CLI uses.
    interface IOracleHub {
        event InferenceRequested(uint256 indexed id, uint64 indexed modelId, address indexed requester, bytes input, bytes32 inputBlob, uint256 fee, uint64 deadline);
        event InferenceFinalized(uint256 indexed id, bytes32 outputHash, bytes output, uint64 recordId, bool callbackOk);
        function register() external payable;
        function requestInference(uint64 modelId, bytes calldata input, address callback) external payable returns (uint256 id);
        function requestInferenceBlob(uint64 modelId, bytes32 inputBlob, address callback) external payable returns (uint256 id);
        function submitResult(uint256 id, bytes calldata output) external;
        function refund(uint256 id) external;
        function withdraw() external;
        function requests(uint256 id) external view returns (address requester, uint64 modelId, uint64 deadline, uint8 status, bytes32 inputHash, address callback, uint256 fee, bytes32 outputHash, uint64 recordId);
        function submitted(uint256 id, address oracle) external view returns (bytes32);
        function bond(address oracle) external view returns (uint256);
        function credit(address who) external view returns (uint256);
        function disagreements(address oracle) external view returns (uint256);
    }
}

/// The hub's compiled artifact (committed; `node tests/e2e/compile.mjs` rebuilds it).
const HUB_ARTIFACT: &str = include_str!("../../../../contracts/out/OracleHub.json");

/// `verai oracle ...`
#[derive(Debug, Subcommand)]
pub enum OracleCommand {
    /// Deploy an oracle hub.
    Deploy(DeployArgs),
    /// Join a hub as an oracle, staking a bond.
    Register(RegisterArgs),
    /// Run an oracle worker until stopped.
    Run(RunArgs),
    /// Ask the hub's oracles for an inference.
    Request(RequestArgs),
    /// Show a request.
    Status(StatusArgs),
    /// Refund an expired request, or withdraw your credit.
    Refund(StatusArgs),
    /// Withdraw fees, slashed bonds and refunds credited to you.
    Withdraw(HubArgs),
}

#[derive(Debug, Args, Clone)]
pub struct Tx {
    #[command(flatten)]
    pub signer: SignerArgs,
    #[command(flatten)]
    pub rpc: RpcArgs,
    /// Seconds to wait for inclusion.
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Matching results needed to finalize.
    #[arg(long, default_value_t = 2)]
    quorum: u8,
    /// Smallest bond (VAI, or `<n>wei`).
    #[arg(long, default_value = "1")]
    min_bond: String,
    /// Blocks after which an unanswered request can be refunded.
    #[arg(long, default_value_t = 20)]
    timeout_blocks: u64,
    /// Share of a dissenting oracle's bond it loses (basis points).
    #[arg(long, default_value_t = 5000)]
    slash_bps: u16,
    #[command(flatten)]
    tx: Tx,
}

#[derive(Debug, Args)]
pub struct HubArgs {
    /// The hub's address.
    #[arg(long)]
    hub: Address,
    #[command(flatten)]
    tx: Tx,
}

#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// Bond to stake (VAI, or `<n>wei`).
    #[arg(long, default_value = "1")]
    bond: String,
    #[command(flatten)]
    hub: HubArgs,
}

/// Faults a worker can inject, for tests of the quorum.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Fault {
    /// Add 1.0 to every output value before submitting.
    WrongOutput,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Milliseconds between polls for new requests.
    #[arg(long, default_value_t = 200)]
    poll_ms: u64,
    /// Misbehave on purpose (testing only): the hub must outvote and slash this oracle.
    #[arg(long, value_enum)]
    fault: Option<Fault>,
    #[command(flatten)]
    hub: HubArgs,
}

#[derive(Debug, Args)]
pub struct RequestArgs {
    /// The model's id (a provenance model record).
    model: u64,
    /// Input values: a JSON array (nested arrays are flattened), or a file holding one.
    #[arg(long)]
    input: String,
    /// Store the input in the node's blob store and send only its hash (for inputs too
    /// large for a transaction).
    #[arg(long)]
    input_blob: bool,
    /// Wait until the request is final and print the output.
    #[arg(long)]
    wait: bool,
    /// Fee for the agreeing oracles (VAI, or `<n>wei`).
    #[arg(long, default_value = "0.1")]
    fee: String,
    /// Contract to call back with the output (`IInferenceConsumer`).
    #[arg(long)]
    callback: Option<Address>,
    #[command(flatten)]
    hub: HubArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The request id.
    id: u64,
    #[command(flatten)]
    hub: HubArgs,
}

pub async fn run(c: OracleCommand) -> eyre::Result<()> {
    match c {
        OracleCommand::Deploy(a) => deploy(a).await,
        OracleCommand::Register(a) => {
            let value = parse_value(&a.bond)?;
            let r = send(
                &a.hub.tx,
                Some(a.hub.hub),
                value,
                IOracleHub::registerCall {}.abi_encode(),
            )
            .await?;
            print_done(&a.hub.tx, &r, "registered");
            Ok(())
        }
        OracleCommand::Run(a) => worker(a).await,
        OracleCommand::Request(a) => request(a).await,
        OracleCommand::Status(a) => status(a).await,
        OracleCommand::Refund(a) => {
            let input = IOracleHub::refundCall {
                id: U256::from(a.id),
            }
            .abi_encode();
            let r = send(&a.hub.tx, Some(a.hub.hub), U256::ZERO, input).await?;
            print_done(&a.hub.tx, &r, "refunded");
            Ok(())
        }
        OracleCommand::Withdraw(a) => {
            let r = send(
                &a.tx,
                Some(a.hub),
                U256::ZERO,
                IOracleHub::withdrawCall {}.abi_encode(),
            )
            .await?;
            print_done(&a.tx, &r, "withdrawn");
            Ok(())
        }
    }
}

fn print_done(tx: &Tx, r: &serde_json::Value, what: &str) {
    if tx.rpc.json {
        println!(
            "{}",
            serde_json::json!({ "transaction": r["transactionHash"], "blockNumber": r["blockNumber"] })
        );
    } else {
        println!(
            "{what} in block {} ({})",
            r["blockNumber"], r["transactionHash"]
        );
    }
}

async fn send(
    tx: &Tx,
    to: Option<Address>,
    value: U256,
    input: Vec<u8>,
) -> eyre::Result<serde_json::Value> {
    send_with(tx, to, value, input, 0).await
}

async fn send_with(
    tx: &Tx,
    to: Option<Address>,
    value: U256,
    input: Vec<u8>,
    extra_gas: u64,
) -> eyre::Result<serde_json::Value> {
    let rpc = &tx.rpc.rpc;
    let client = connect(rpc)?;
    let chain = chain_id(&client, rpc).await?;
    let signer = tx.signer.signer(chain)?;
    match transact_value(
        &client,
        rpc,
        &signer,
        chain,
        to,
        value,
        input.into(),
        extra_gas,
        Duration::from_secs(tx.timeout),
    )
    .await
    {
        Ok(r) => Ok(r),
        Err(TransactError::Reverted { message, data }) => {
            let why = data
                .as_deref()
                .and_then(|d| verai_inference_module::explain(d))
                .or_else(|| {
                    data.as_ref()
                        .map(|d| format!("{message} (revert data {d})"))
                })
                .unwrap_or(message);
            bail!("refused: {why}")
        }
        Err(TransactError::Other(e)) => Err(e),
    }
}

async fn deploy(a: DeployArgs) -> eyre::Result<()> {
    let artifact: serde_json::Value = serde_json::from_str(HUB_ARTIFACT)?;
    let code = artifact["bytecode"]
        .as_str()
        .ok_or_else(|| eyre!("OracleHub artifact has no bytecode"))?
        .parse::<Bytes>()?;
    use alloy_sol_types::{SolType, sol_data::Uint};
    type Ctor = (Uint<8>, Uint<256>, Uint<64>, Uint<16>);
    let args = Ctor::abi_encode_params(&(
        a.quorum,
        parse_value(&a.min_bond)?,
        a.timeout_blocks,
        a.slash_bps,
    ));
    let mut init = code.to_vec();
    init.extend(args);
    let r = send(&a.tx, None, U256::ZERO, init).await?;
    let hub = r["contractAddress"].clone();
    if a.tx.rpc.json {
        println!(
            "{}",
            serde_json::json!({ "hub": hub, "transaction": r["transactionHash"] })
        );
    } else {
        println!(
            "oracle hub deployed at {}",
            hub.as_str().unwrap_or_default()
        );
    }
    Ok(())
}

async fn request(a: RequestArgs) -> eyre::Result<()> {
    let x = super::infer::parse_input(&a.input)?;
    let fee = parse_value(&a.fee)?;
    let asked = ask(
        &a.hub.tx,
        a.hub.hub,
        a.model,
        &x,
        fee,
        a.input_blob,
        a.callback,
        a.wait,
    )
    .await?;
    if a.hub.tx.rpc.json {
        println!("{}", asked.json());
    } else {
        println!("request {} sent", asked.request);
        match &asked.answer {
            Some((out, record)) => println!(
                "output {out:?}\nrecord {record} (verify with: verai infer verify {record})"
            ),
            None => println!(
                "see: verai oracle status {} --hub {}",
                asked.request, a.hub.hub
            ),
        }
    }
    Ok(())
}

/// What [`ask`] got back.
pub struct Asked {
    /// The request id.
    pub request: u64,
    /// Output and audit record id, when waited for.
    pub answer: Option<(Vec<f32>, u64)>,
}

impl Asked {
    /// `{"request", "output", "record"}`.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "request": self.request,
            "output": self.answer.as_ref().map(|(o, _)| o),
            "record": self.answer.as_ref().map(|(_, r)| r),
        })
    }
}

/// Send a request to `hub` (the input inline, or as a blob) and, with `wait`, wait until
/// its quorum is reached and return the output.
#[allow(clippy::too_many_arguments)]
pub async fn ask(
    tx: &Tx,
    hub: Address,
    model: u64,
    x: &[f32],
    fee: U256,
    as_blob: bool,
    callback: Option<Address>,
    wait: bool,
) -> eyre::Result<Asked> {
    let rpc = &tx.rpc.rpc;
    let client = connect(rpc)?;
    let bytes = f32_bytes(x);
    let callback = callback.unwrap_or_default();
    let input = if as_blob {
        let stored: verai_rpc::BlobReceipt = call(
            &client,
            rpc,
            "verai_putBlob",
            rpc_params![Bytes::from(bytes.clone())],
        )
        .await?;
        if stored.hash != B256::from(sha256(&bytes)) {
            bail!(
                "the node stored the input as {}, not its SHA-256",
                stored.hash
            );
        }
        IOracleHub::requestInferenceBlobCall {
            modelId: model,
            inputBlob: stored.hash,
            callback,
        }
        .abi_encode()
    } else {
        IOracleHub::requestInferenceCall {
            modelId: model,
            input: bytes.into(),
            callback,
        }
        .abi_encode()
    };
    let r = send(tx, Some(hub), fee, input).await?;
    let request = r["logs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(json_log)
        .find_map(|(t, d)| {
            (t.first() == Some(&IOracleHub::InferenceRequested::SIGNATURE_HASH))
                .then(|| IOracleHub::InferenceRequested::decode_raw_log(t, &d).ok())
                .flatten()
        })
        .map(|e| e.id.saturating_to::<u64>())
        .ok_or_else(|| eyre!("the receipt has no InferenceRequested event"))?;
    if !wait {
        return Ok(Asked {
            request,
            answer: None,
        });
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(tx.timeout);
    loop {
        let st = hub_view(
            &client,
            rpc,
            hub,
            IOracleHub::requestsCall {
                id: U256::from(request),
            },
        )
        .await?;
        match st.status {
            2 => break,
            3 => bail!("request {request} expired and was refunded"),
            _ if std::time::Instant::now() > deadline => {
                bail!(
                    "request {request} not final within {} s (are oracles running?)",
                    tx.timeout
                )
            }
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let filter = serde_json::json!({
        "address": hub, "fromBlock": "0x0", "toBlock": "latest",
        "topics": [IOracleHub::InferenceFinalized::SIGNATURE_HASH, B256::from(U256::from(request))],
    });
    let logs: Vec<serde_json::Value> =
        call(&client, rpc, "eth_getLogs", rpc_params![filter]).await?;
    let ev = logs
        .iter()
        .filter_map(json_log)
        .find_map(|(t, d)| IOracleHub::InferenceFinalized::decode_raw_log(t, &d).ok())
        .ok_or_else(|| eyre!("no InferenceFinalized log for request {request}"))?;
    let out = f32_values(&ev.output).ok_or_else(|| eyre!("output is not f32 values"))?;
    Ok(Asked {
        request,
        answer: Some((out, ev.recordId)),
    })
}

async fn hub_view<C: SolCall>(
    client: &HttpClient,
    rpc: &str,
    hub: Address,
    c: C,
) -> eyre::Result<C::Return> {
    let req = serde_json::json!({ "to": hub, "data": Bytes::from(c.abi_encode()) });
    let out: Bytes = client
        .request("eth_call", rpc_params![req, "latest"])
        .await
        .map_err(|e| eyre!("eth_call on {rpc}: {e}"))?;
    C::abi_decode_returns(&out).map_err(|e| eyre!("bad answer from {rpc}: {e}"))
}

async fn status(a: StatusArgs) -> eyre::Result<()> {
    let rpc = &a.hub.tx.rpc.rpc;
    let client = connect(rpc)?;
    let r = hub_view(
        &client,
        rpc,
        a.hub.hub,
        IOracleHub::requestsCall {
            id: U256::from(a.id),
        },
    )
    .await?;
    let status = ["none", "open", "final", "refunded"]
        .get(r.status as usize)
        .copied()
        .unwrap_or("?");
    let v = serde_json::json!({
        "request": a.id, "status": status, "model": r.modelId, "requester": r.requester,
        "deadline": r.deadline, "fee": r.fee.to_string(), "outputHash": r.outputHash,
        "record": r.recordId, "callback": r.callback,
    });
    if a.hub.tx.rpc.json {
        println!("{v}");
    } else {
        println!("{}", serde_json::to_string_pretty(&v)?);
    }
    Ok(())
}

/// The model's bytes: stored by the inference module, or the blob of its provenance record.
async fn model_bytes(client: &HttpClient, rpc: &str, model: u64) -> eyre::Result<Vec<u8>> {
    if let Ok(b) = view(client, rpc, IInference::modelBytesCall { modelId: model }).await {
        return Ok(b.to_vec());
    }
    let rec: serde_json::Value = call(client, rpc, "verai_getRecord", rpc_params![model]).await?;
    if rec["kind"] != "model" {
        bail!("record {model} is not a model");
    }
    let hash: B256 = rec["contentHash"].as_str().unwrap_or_default().parse()?;
    let blob: Option<Bytes> = call(client, rpc, "verai_getBlob", rpc_params![hash]).await?;
    let blob = blob.ok_or_else(|| eyre!("{rpc} has no blob {hash} for model {model}"))?;
    if B256::from(sha256(&blob)) != hash {
        bail!("blob for model {model} does not hash to its record's content hash");
    }
    Ok(blob.to_vec())
}

async fn worker(a: RunArgs) -> eyre::Result<()> {
    let tx = &a.hub.tx;
    let rpc = &tx.rpc.rpc;
    let client = connect(rpc)?;
    let chain = chain_id(&client, rpc).await?;
    let me = tx.signer.signer(chain)?.address();
    let hub = a.hub.hub;
    let bond = hub_view(&client, rpc, hub, IOracleHub::bondCall { oracle: me }).await?;
    if bond.is_zero() {
        bail!("{me} has no bond at hub {hub}: run `verai oracle register --hub {hub}` first");
    }
    println!(
        "oracle {me} serving hub {hub} (bond {bond} wei){}",
        if a.fault.is_some() {
            " WITH INJECTED FAULT"
        } else {
            ""
        }
    );
    let mut from = 0u64;
    let mut done: HashSet<U256> = HashSet::new();
    loop {
        let filter = serde_json::json!({
            "address": hub, "fromBlock": format!("{from:#x}"), "toBlock": "latest",
            "topics": [IOracleHub::InferenceRequested::SIGNATURE_HASH],
        });
        let logs: Vec<serde_json::Value> =
            match call(&client, rpc, "eth_getLogs", rpc_params![filter]).await {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("polling {rpc}: {e}");
                    tokio::time::sleep(Duration::from_millis(a.poll_ms.max(500))).await;
                    continue;
                }
            };
        for l in &logs {
            let block = l["blockNumber"]
                .as_str()
                .and_then(|b| u64::from_str_radix(b.trim_start_matches("0x"), 16).ok())
                .unwrap_or(from);
            from = from.max(block);
            let Some(ev) = json_log(l)
                .and_then(|(t, d)| IOracleHub::InferenceRequested::decode_raw_log(t, &d).ok())
            else {
                continue;
            };
            if !done.insert(ev.id) {
                continue;
            }
            if let Err(e) = serve(&client, tx, hub, me, &ev, a.fault).await {
                eprintln!("request {}: {e:#}", ev.id);
            }
        }
        tokio::time::sleep(Duration::from_millis(a.poll_ms)).await;
    }
}

async fn serve(
    client: &HttpClient,
    tx: &Tx,
    hub: Address,
    me: Address,
    ev: &IOracleHub::InferenceRequested,
    fault: Option<Fault>,
) -> eyre::Result<()> {
    let rpc = &tx.rpc.rpc;
    let mine = hub_view(
        client,
        rpc,
        hub,
        IOracleHub::submittedCall {
            id: ev.id,
            oracle: me,
        },
    )
    .await?;
    if !mine.is_zero() {
        return Ok(());
    }
    let bytes = model_bytes(client, rpc, ev.modelId).await?;
    let model = Model::load_with(&bytes, Limits::OFFCHAIN)
        .wrap_err_with(|| format!("model {}", ev.modelId))?;
    let raw = if ev.inputBlob.is_zero() {
        ev.input.to_vec()
    } else {
        let blob: Option<Bytes> =
            call(client, rpc, "verai_getBlob", rpc_params![ev.inputBlob]).await?;
        let blob = blob.ok_or_else(|| eyre!("{rpc} has no input blob {}", ev.inputBlob))?;
        if B256::from(sha256(&blob)) != ev.inputBlob {
            bail!("input blob does not hash to {}", ev.inputBlob);
        }
        blob.to_vec()
    };
    let x = f32_values(&raw).ok_or_else(|| eyre!("input is not f32 values"))?;
    let mut out = model.run(&x)?;
    if let Some(Fault::WrongOutput) = fault {
        out.iter_mut().for_each(|v| *v += 1.0);
    }
    let input = IOracleHub::submitResultCall {
        id: ev.id,
        output: f32_bytes(&out).into(),
    }
    .abi_encode();
    // The estimate sees the quorum as it was; this result may be the one completing it
    // (fee split, slashing, the audit record, a callback of up to 500k gas).
    send_with(tx, Some(hub), U256::ZERO, input, 1_500_000).await?;
    println!("request {}: submitted output {out:?}", ev.id);
    Ok(())
}
