//! Subcommands, one file each.

mod balance;
mod block;
mod client;
mod keys;
mod node;
mod provenance;
mod send;

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
    /// Provenance registry: datasets, models, training runs, lineage, verification.
    #[command(subcommand)]
    Provenance(provenance::ProvenanceCommand),
}

/// Dispatch to the subcommand.
pub fn run(cli: Cli) -> eyre::Result<()> {
    match cli.command {
        Command::Node(a) => node::run(a),
        Command::Keys(c) => keys::run(c),
        Command::Send(a) => client::block_on(send::run(a)),
        Command::Balance(a) => client::block_on(balance::run(a)),
        Command::Block(a) => client::block_on(block::run(a)),
        Command::Provenance(c) => client::block_on(provenance::run(c)),
    }
}
