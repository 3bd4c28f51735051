//! `verai oracle`: the oracle path for inference jobs too large for a block
//! (`verai-oracle`: the hub contract, requests, and the worker).

use super::common::{TxArgs, parse_input, parse_value};
use alloy_primitives::{Address, U256};
use alloy_sol_types::SolCall;
use clap::{Args, Subcommand, ValueEnum};
use std::time::Duration;
use verai_client::Tx;
use verai_oracle::{DeployParams, Fault, IOracleHub, Request, Worker};

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
    tx: TxArgs,
}

#[derive(Debug, Args)]
pub struct HubArgs {
    /// The hub's address.
    #[arg(long)]
    hub: Address,
    #[command(flatten)]
    tx: TxArgs,
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
pub enum FaultArg {
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
    fault: Option<FaultArg>,
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
        OracleCommand::Deploy(a) => {
            let w = a.tx.wallet().await?;
            let params = DeployParams {
                quorum: a.quorum,
                min_bond: parse_value(&a.min_bond)?,
                timeout_blocks: a.timeout_blocks,
                slash_bps: a.slash_bps,
            };
            let tx = Tx::deploy(Vec::new()).timeout(w.timeout);
            let (hub, hash) =
                verai_oracle::deploy(&w.client, &w.signer, w.chain_id, &params, tx).await?;
            a.tx.rpc.print(
                serde_json::json!({ "id": hub, "hub": hub, "transaction": hash }),
                || format!("oracle hub deployed at {hub}"),
            );
            Ok(())
        }
        OracleCommand::Register(a) => {
            let value = parse_value(&a.bond)?;
            let tx = Tx::call(a.hub.hub, IOracleHub::registerCall {}.abi_encode()).value(value);
            send(&a.hub, tx, "registered").await
        }
        OracleCommand::Run(a) => {
            let w = a.hub.tx.wallet().await?;
            let worker = Worker {
                client: w.client,
                signer: w.signer,
                chain_id: w.chain_id,
                hub: a.hub.hub,
                poll: Duration::from_millis(a.poll_ms),
                fault: a.fault.map(|FaultArg::WrongOutput| Fault::WrongOutput),
                timeout: w.timeout,
            };
            let bond = worker.bond().await?;
            println!(
                "oracle {} serving hub {} (bond {bond} wei){}",
                worker.signer.address(),
                worker.hub,
                if worker.fault.is_some() {
                    " WITH INJECTED FAULT"
                } else {
                    ""
                }
            );
            worker
                .run(|id, out| println!("request {id}: submitted output {out:?}"))
                .await?;
            Ok(())
        }
        OracleCommand::Request(a) => {
            let w = a.hub.tx.wallet().await?;
            let request = Request {
                hub: a.hub.hub,
                model: a.model,
                input: parse_input(&a.input)?,
                fee: parse_value(&a.fee)?,
                as_blob: a.input_blob,
                callback: a.callback,
                wait: a.wait,
                timeout: w.timeout,
            };
            let answer = verai_oracle::ask(&w.client, &w.signer, w.chain_id, &request).await?;
            a.hub.tx.rpc.print(serde_json::to_value(&answer)?, || {
                match (&answer.output, answer.record) {
                    (Some(out), Some(record)) => format!(
                        "request {} sent\noutput {out:?}\nrecord {record} (verify with: verai infer verify {record})",
                        answer.request
                    ),
                    _ => format!(
                        "request {} sent\nsee: verai oracle status {} --hub {}",
                        answer.request, answer.request, a.hub.hub
                    ),
                }
            });
            Ok(())
        }
        OracleCommand::Status(a) => {
            let client = a.hub.tx.rpc.client()?;
            let s = verai_oracle::status(&client, a.hub.hub, a.id).await?;
            let json = serde_json::to_value(&s)?;
            a.hub.tx.rpc.print(json.clone(), || {
                serde_json::to_string_pretty(&json).unwrap_or_default()
            });
            Ok(())
        }
        OracleCommand::Refund(a) => {
            let input = IOracleHub::refundCall {
                id: U256::from(a.id),
            }
            .abi_encode();
            send(&a.hub, Tx::call(a.hub.hub, input), "refunded").await
        }
        OracleCommand::Withdraw(a) => {
            let input = IOracleHub::withdrawCall {}.abi_encode();
            send(&a, Tx::call(a.hub, input), "withdrawn").await
        }
    }
}

async fn send(hub: &HubArgs, tx: Tx, what: &str) -> eyre::Result<()> {
    let r = hub.tx.wallet().await?.send(tx).await?;
    let (hash, block) = (r.transaction_hash, r.block_number.unwrap_or_default());
    hub.tx.rpc.print(
        serde_json::json!({ "transaction": hash, "blockNumber": block }),
        || format!("{what} in block {block} ({hash})"),
    );
    Ok(())
}
