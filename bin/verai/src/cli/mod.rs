//! Subcommands, one file each.

mod audit;
mod audit_train;
mod balance;
mod block;
mod common;
mod infer;
mod keys;
mod market;
mod market_channel;
mod model;
mod node;
mod node_file;
mod node_sentinel;
mod oracle;
mod provenance;
mod send;
mod sentinel;
mod sentinel_alerts;
mod sentinel_release;
mod sentinel_simulate;
mod testnet;

use clap::{Parser, Subcommand};

/// Verai: an AI-native blockchain node.
#[derive(Debug, Parser)]
#[command(name = "verai", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a node (`--dev` for a local one-validator chain).
    Node(node::NodeArgs),
    /// Manage account keys.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Send value to an address.
    Send(send::SendArgs),
    /// Show an account's balance.
    Balance(balance::BalanceArgs),
    /// Show a block.
    Block(block::BlockArgs),
    /// A local network of validator processes.
    #[command(subcommand)]
    Testnet(testnet::TestnetCommand),
    /// Scan Solidity source or deployed bytecode for vulnerabilities.
    Audit(audit::AuditArgs),
    /// Train the auditor's risk model and print its cross-validation.
    AuditTrain(audit_train::TrainArgs),
    /// Fraud model: train and evaluate; alerts, holds and a traffic simulator for a node
    /// running the sentinel.
    #[command(subcommand)]
    Sentinel(sentinel::SentinelCommand),
    /// ONNX models for in-block inference: register, show.
    #[command(subcommand)]
    Model(model::ModelCommand),
    /// Run a registered model in a block; `verify` and `history` of inference records.
    Infer(infer::InferArgs),
    /// The oracle path: a hub contract and workers for models too large for a block.
    #[command(subcommand)]
    Oracle(oracle::OracleCommand),
    /// Provenance registry: datasets, models, training runs, lineage, verification.
    #[command(subcommand)]
    Provenance(provenance::ProvenanceCommand),
    /// The market: listings, licence grants, royalties along lineage, service channels.
    #[command(subcommand)]
    Market(market::MarketCommand),
}

/// Dispatch to the subcommand.
pub fn run(cli: Cli) -> eyre::Result<()> {
    match cli.command {
        Command::Node(a) => node::run(a),
        Command::Keys(c) => keys::run(c),
        Command::Send(a) => common::block_on(send::run(a)),
        Command::Balance(a) => common::block_on(balance::run(a)),
        Command::Block(a) => common::block_on(block::run(a)),
        Command::Testnet(c) => testnet::run(c),
        Command::Audit(a) => audit::run(a),
        Command::AuditTrain(a) => audit_train::run(a),
        Command::Sentinel(c) => sentinel::run(c),
        Command::Provenance(c) => common::block_on(provenance::run(c)),
        Command::Model(c) => common::block_on(model::run(c)),
        Command::Infer(a) => common::block_on(infer::run(a)),
        Command::Oracle(c) => common::block_on(oracle::run(c)),
        Command::Market(c) => common::block_on(market::run(c)),
    }
}

/// Log to stderr, at `info` unless `RUST_LOG` says otherwise.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
