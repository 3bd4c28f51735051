//! `verai testnet init|run|stop|start`: a local network of validator processes on 127.0.0.1
//! (`verai_node::testnet`: `init` writes a genesis, keys and one config per validator; `run`
//! starts a process per validator and keeps the network up while validators come and go).

use clap::{Args, Subcommand};
use eyre::WrapErr;
use std::path::PathBuf;
use verai_node::testnet::{InitParams, init, request, supervise};

/// Testnet subcommands.
#[derive(Debug, Subcommand)]
pub enum TestnetCommand {
    /// Write keys, a genesis and one config per validator.
    Init(InitArgs),
    /// Start every validator of a testnet directory as its own process.
    Run(RunArgs),
    /// Stop validator K of a running testnet (the others keep running).
    Stop(ControlArgs),
    /// Start validator K of a running testnet again.
    Start(ControlArgs),
}

/// Arguments of `verai testnet stop|start`.
#[derive(Debug, Args)]
pub struct ControlArgs {
    /// The validator's index (its `node-K.toml`).
    k: usize,
    /// Directory of the running testnet.
    #[arg(long)]
    dir: PathBuf,
}

/// Arguments of `verai testnet init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Number of validators (tolerates `(N - 1) / 3` faulty ones).
    #[arg(long, default_value_t = 4)]
    validators: u16,
    /// Directory to write (must not hold a testnet already).
    #[arg(long)]
    dir: PathBuf,
    /// EIP-155 chain id (1337: the dev accounts and tools' defaults work).
    #[arg(long, default_value_t = verai_primitives::DEV_CHAIN_ID)]
    chain_id: u64,
    /// RPC port of validator 0; validator K uses this + K.
    #[arg(long, default_value_t = 8545)]
    rpc_port: u16,
    /// P2p port of validator 0; validator K uses this + K.
    #[arg(long, default_value_t = 30300)]
    p2p_port: u16,
    /// Metrics port of validator 0; validator K uses this + K (0 disables metrics).
    #[arg(long, default_value_t = 9100)]
    metrics_port: u16,
    /// Explorer port of validator 0; validator K uses this + K (0 disables the explorer).
    #[arg(long, default_value_t = 8700)]
    explorer_port: u16,
    /// Produce a block at least every this many seconds, even when empty.
    #[arg(long)]
    block_time: Option<u64>,
}

/// Arguments of `verai testnet run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Directory written by `verai testnet init`.
    #[arg(long)]
    dir: PathBuf,
}

pub fn run(c: TestnetCommand) -> eyre::Result<()> {
    match c {
        TestnetCommand::Init(a) => {
            let spec = init(&InitParams {
                validators: a.validators,
                dir: a.dir.clone(),
                chain_id: a.chain_id,
                rpc_port: a.rpc_port,
                p2p_port: a.p2p_port,
                metrics_port: a.metrics_port,
                explorer_port: a.explorer_port,
                block_time: a.block_time,
            })?;
            println!(
                "testnet of {} validators in {} (chain id {}, validator set digest {})",
                a.validators,
                a.dir.display(),
                spec.chain_id,
                spec.extra
            );
            println!("start it with: verai testnet run --dir {}", a.dir.display());
            Ok(())
        }
        TestnetCommand::Run(a) => {
            let exe = std::env::current_exe().wrap_err("locating the verai binary")?;
            Ok(supervise(&a.dir, &exe, |line| println!("{line}"))?)
        }
        TestnetCommand::Stop(a) => {
            request(&a.dir, a.k, false)?;
            println!("validator {} stopped", a.k);
            Ok(())
        }
        TestnetCommand::Start(a) => {
            request(&a.dir, a.k, true)?;
            println!("validator {} started", a.k);
            Ok(())
        }
    }
}
