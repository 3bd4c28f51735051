//! `verai testnet init|run`: a local network of validator processes on 127.0.0.1.
//!
//! `init` writes, under `DIR`: `genesis.json` (chain id, the dev accounts funded, the
//! validator set), `keys/validator-K.key` (mode 0600) and `node-K.toml` per validator, with
//! ports `rpc_port + K`, `p2p_port + K` and `metrics_port + K`. `run` starts one
//! `verai node --config DIR/node-K.toml` process per config, prints their RPC URLs, and
//! stops them all on Ctrl-C (or when one exits).

use crate::cli::keys::write_private;
use clap::{Args, Subcommand};
use commonware_cryptography::Signer as _;
use eyre::{WrapErr, bail};
use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command},
    time::Duration,
};
use verai_node::{GenesisFile, GenesisValidator};
use verai_primitives::ChainSpec;

/// Testnet subcommands.
#[derive(Debug, Subcommand)]
pub enum TestnetCommand {
    /// Write keys, a genesis and one config per validator.
    Init(InitArgs),
    /// Start every validator of a testnet directory as its own process.
    Run(RunArgs),
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
        TestnetCommand::Init(a) => init(a),
        TestnetCommand::Run(a) => run_all(a),
    }
}

fn init(a: InitArgs) -> eyre::Result<()> {
    if a.validators == 0 {
        bail!("--validators must be at least 1");
    }
    let genesis_path = a.dir.join("genesis.json");
    if genesis_path.exists() {
        bail!(
            "{} exists: choose another --dir or delete it",
            genesis_path.display()
        );
    }
    let last = a.validators - 1;
    for base in [a.rpc_port, a.p2p_port, a.metrics_port] {
        if base != 0 && base.checked_add(last).is_none() {
            bail!("port {base} + {last} overflows");
        }
    }
    std::fs::create_dir_all(a.dir.join("keys"))
        .wrap_err_with(|| format!("creating {}", a.dir.display()))?;
    let mut validators = Vec::new();
    for k in 0..a.validators {
        let mut seed = [0u8; 32];
        getrandom(&mut seed)?;
        let signer = verai_consensus::private_key_from_bytes(&seed)?;
        let key_file = a.dir.join(format!("keys/validator-{k}.key"));
        write_private(
            &key_file,
            &format!("{}\n", alloy_primitives::hex::encode(seed)),
        )?;
        validators.push(GenesisValidator {
            public_key: alloy_primitives::hex::encode(signer.public_key()),
            p2p: SocketAddr::from(([127, 0, 0, 1], a.p2p_port + k)),
        });
    }
    let dev = ChainSpec::dev();
    let genesis = GenesisFile {
        chain_id: a.chain_id,
        gas_limit: dev.gas_limit,
        timestamp: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        alloc: dev.alloc,
        validators,
    };
    std::fs::write(&genesis_path, serde_json::to_vec_pretty(&genesis)?)
        .wrap_err_with(|| format!("writing {}", genesis_path.display()))?;
    for k in 0..a.validators {
        let metrics = if a.metrics_port == 0 {
            0
        } else {
            a.metrics_port + k
        };
        let mut toml = format!(
            "# Validator {k}: `verai node --config {}`\ndatadir = \"node-{k}\"\ngenesis = \"genesis.json\"\nvalidator_key = \"keys/validator-{k}.key\"\nrpc_port = {}\np2p_port = {}\nmetrics_port = {metrics}\n",
            a.dir.join(format!("node-{k}.toml")).display(),
            a.rpc_port + k,
            a.p2p_port + k,
        );
        if let Some(bt) = a.block_time {
            toml.push_str(&format!("block_time = {bt}\n"));
        }
        let path = a.dir.join(format!("node-{k}.toml"));
        std::fs::write(&path, toml).wrap_err_with(|| format!("writing {}", path.display()))?;
    }
    let spec = genesis.spec()?;
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

fn getrandom(buf: &mut [u8]) -> eyre::Result<()> {
    use rand::TryRng as _;
    rand::rngs::SysRng
        .try_fill_bytes(buf)
        .map_err(|e| eyre::eyre!("no system randomness: {e}"))
}

/// The node configs of a testnet directory, in validator order.
fn configs(dir: &Path) -> eyre::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).wrap_err_with(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if let Some(k) = name
            .strip_prefix("node-")
            .and_then(|r| r.strip_suffix(".toml"))
            .and_then(|k| k.parse::<u32>().ok())
        {
            found.push((k, path));
        }
    }
    found.sort();
    if found.is_empty() {
        bail!(
            "no node-K.toml in {}: run `verai testnet init --dir {}` first",
            dir.display(),
            dir.display()
        );
    }
    Ok(found.into_iter().map(|(_, p)| p).collect())
}

fn run_all(a: RunArgs) -> eyre::Result<()> {
    let exe = std::env::current_exe().wrap_err("locating the verai binary")?;
    let mut children: Vec<(PathBuf, Child)> = Vec::new();
    for config in configs(&a.dir)? {
        let log = config.with_extension("log");
        let out =
            std::fs::File::create(&log).wrap_err_with(|| format!("creating {}", log.display()))?;
        let child = Command::new(&exe)
            .arg("node")
            .arg("--config")
            .arg(&config)
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .wrap_err_with(|| format!("starting {}", config.display()))?;
        children.push((config, child));
    }
    for (config, _) in &children {
        let text = std::fs::read_to_string(config)?;
        let port = text
            .lines()
            .find_map(|l| l.strip_prefix("rpc_port = "))
            .unwrap_or("?");
        println!(
            "{}: http://127.0.0.1:{port} (log: {})",
            config.display(),
            config.with_extension("log").display()
        );
    }
    println!("{} validators running; Ctrl-C stops them", children.len());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let stop = stop.clone();
        std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(crate::cli::node::wait_for_signal());
            }
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
        });
    }
    let mut failed = None;
    while !stop.load(std::sync::atomic::Ordering::SeqCst) && failed.is_none() {
        for (config, child) in &mut children {
            if let Ok(Some(status)) = child.try_wait() {
                failed = Some(format!("{} exited with {status}", config.display()));
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    for (_, child) in &mut children {
        terminate(child);
    }
    for (_, child) in &mut children {
        let _ = child.wait();
    }
    match failed {
        Some(f) => bail!("{f}; stopped the others (see the logs beside the configs)"),
        None => Ok(()),
    }
}

/// Ask a node to stop cleanly (SIGTERM), as Ctrl-C would.
fn terminate(child: &mut Child) {
    #[cfg(unix)]
    {
        // SAFETY-free: the `kill` command avoids unsafe libc calls.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
    }
    #[cfg(not(unix))]
    {
        let _ = child.kill();
    }
}
