//! `verai`: the Verai node and its command-line client.

mod cli;

use clap::Parser;

fn main() -> eyre::Result<()> {
    let args = cli::Cli::parse();
    cli::run(args)
}
