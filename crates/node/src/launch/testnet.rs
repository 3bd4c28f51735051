//! A local network of validator processes on 127.0.0.1 (`verai testnet init|run`).
//!
//! [`init`] writes, under a directory: `genesis.json` (chain id, the dev accounts funded, the
//! validator set), `keys/validator-K.key` (mode 0600) and `node-K.toml` per validator, with
//! ports `rpc_port + K`, `p2p_port + K` and `metrics_port + K`. [`supervise`] starts one
//! `verai node --config DIR/node-K.toml` process per config and keeps the network running
//! while validators come and go: a validator that exits is reported (with how many remain
//! and whether they still make a quorum), and the others keep going, so the network shows
//! the fault tolerance it has. Ctrl-C stops them all; so does the last one exiting.

use crate::NodeError;
use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};
use verai_consensus::{GenesisFile, GenesisValidator, Signer as _};
use verai_primitives::ChainSpec;

/// What [`init`] writes.
#[derive(Debug, Clone)]
pub struct InitParams {
    /// Number of validators (tolerates `(N - 1) / 3` faulty ones).
    pub validators: u16,
    /// Directory to write (must not hold a testnet already).
    pub dir: PathBuf,
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// RPC port of validator 0; validator K uses this + K.
    pub rpc_port: u16,
    /// P2p port of validator 0.
    pub p2p_port: u16,
    /// Metrics port of validator 0 (0 disables metrics).
    pub metrics_port: u16,
    /// Explorer port of validator 0 (0 disables the explorer).
    pub explorer_port: u16,
    /// Produce a block at least every this many seconds, even when empty.
    pub block_time: Option<u64>,
}

fn config_err(what: impl Into<String>) -> NodeError {
    NodeError::Config(what.into())
}

fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> NodeError + '_ {
    move |e| config_err(format!("{}: {e}", path.display()))
}

/// Write a testnet's genesis, keys and configs; returns its chain spec.
pub fn init(p: &InitParams) -> Result<ChainSpec, NodeError> {
    if p.validators == 0 {
        return Err(config_err("--validators must be at least 1"));
    }
    let genesis_path = p.dir.join("genesis.json");
    if genesis_path.exists() {
        return Err(config_err(format!(
            "{} exists: choose another --dir or delete it",
            genesis_path.display()
        )));
    }
    let last = p.validators - 1;
    for base in [p.rpc_port, p.p2p_port, p.metrics_port, p.explorer_port] {
        if base != 0 && base.checked_add(last).is_none() {
            return Err(config_err(format!("port {base} + {last} overflows")));
        }
    }
    let keys = p.dir.join("keys");
    std::fs::create_dir_all(&keys).map_err(io_at(&keys))?;
    let mut validators = Vec::new();
    for k in 0..p.validators {
        let mut seed = [0u8; 32];
        use rand::TryRng as _;
        rand::rngs::SysRng
            .try_fill_bytes(&mut seed)
            .map_err(|e| config_err(format!("no system randomness: {e}")))?;
        let signer = verai_consensus::private_key_from_bytes(&seed)?;
        let key_file = keys.join(format!("validator-{k}.key"));
        write_private(
            &key_file,
            &format!("{}\n", alloy_primitives::hex::encode(seed)),
        )?;
        validators.push(GenesisValidator {
            public_key: alloy_primitives::hex::encode(signer.public_key()),
            p2p: SocketAddr::from(([127, 0, 0, 1], p.p2p_port + k)),
        });
    }
    let dev = ChainSpec::dev();
    let genesis = GenesisFile {
        chain_id: p.chain_id,
        gas_limit: dev.gas_limit,
        timestamp: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        alloc: dev.alloc,
        validators,
    };
    let json = serde_json::to_vec_pretty(&genesis).map_err(|e| config_err(e.to_string()))?;
    std::fs::write(&genesis_path, json).map_err(io_at(&genesis_path))?;
    for k in 0..p.validators {
        let offset = |base: u16| if base == 0 { 0 } else { base + k };
        let (metrics, explorer) = (offset(p.metrics_port), offset(p.explorer_port));
        let path = p.dir.join(format!("node-{k}.toml"));
        let mut toml = format!(
            "# Validator {k}: `verai node --config {}`\ndatadir = \"node-{k}\"\ngenesis = \"genesis.json\"\nvalidator_key = \"keys/validator-{k}.key\"\nrpc_port = {}\np2p_port = {}\nmetrics_port = {metrics}\nexplorer_port = {explorer}\n",
            path.display(),
            p.rpc_port + k,
            p.p2p_port + k,
        );
        if let Some(bt) = p.block_time {
            toml.push_str(&format!("block_time = {bt}\n"));
        }
        std::fs::write(&path, toml).map_err(io_at(&path))?;
    }
    Ok(genesis.spec()?)
}

/// Write a file only its owner can read (a key).
pub fn write_private(path: &Path, contents: &str) -> Result<(), NodeError> {
    #[cfg(unix)]
    {
        use std::{io::Write, os::unix::fs::OpenOptionsExt};
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(io_at(path))?;
        f.write_all(contents.as_bytes()).map_err(io_at(path))
    }
    #[cfg(not(unix))]
    {
        std::fs::write(path, contents).map_err(io_at(path))
    }
}

/// The node configs of a testnet directory, in validator order.
pub fn configs(dir: &Path) -> Result<Vec<PathBuf>, NodeError> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_at(dir))? {
        let path = entry.map_err(io_at(dir))?.path();
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
        return Err(config_err(format!(
            "no node-K.toml in {}: run `verai testnet init --dir {}` first",
            dir.display(),
            dir.display()
        )));
    }
    Ok(found.into_iter().map(|(_, p)| p).collect())
}

/// Run every validator of `dir` as a process of `exe` (`verai`), each logging beside its
/// config; `say` reports what happens. Returns once Ctrl-C or SIGTERM arrives, or every
/// validator has exited.
pub fn supervise(dir: &Path, exe: &Path, mut say: impl FnMut(&str)) -> Result<(), NodeError> {
    let mut children: Vec<(PathBuf, Option<Child>)> = Vec::new();
    for config in configs(dir)? {
        let child = spawn(exe, &config, false)?;
        let port = std::fs::read_to_string(&config)
            .ok()
            .and_then(|t| {
                t.lines()
                    .find_map(|l| l.strip_prefix("rpc_port = ").map(str::to_owned))
            })
            .unwrap_or_else(|| "?".into());
        say(&format!(
            "{}: http://127.0.0.1:{port} (log: {})",
            config.display(),
            config.with_extension("log").display()
        ));
        children.push((config, Some(child)));
    }
    // Leftover requests of an earlier run mean nothing now.
    for (config, _) in &children {
        let _ = std::fs::remove_file(control(config, "stop"));
        let _ = std::fs::remove_file(control(config, "start"));
    }
    let n = children.len();
    let quorum = n - (n - 1) / 3;
    say(&format!(
        "{n} validators running (a quorum is {quorum}); Ctrl-C stops them"
    ));
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(super::process::wait_for_signal());
            }
            stop.store(true, Ordering::SeqCst);
        });
    }
    let mut warned = false;
    while !stop.load(Ordering::SeqCst) {
        for (config, slot) in &mut children {
            // `verai testnet stop|start K` leave a request beside the config.
            if control(config, "stop").exists() {
                if let Some(c) = slot.as_mut() {
                    terminate(c);
                    let _ = c.wait();
                    say(&format!("{} stopped on request", config.display()));
                }
                *slot = None;
                let _ = std::fs::remove_file(control(config, "stop"));
                continue;
            }
            if control(config, "start").exists() {
                if slot.is_none() {
                    *slot = Some(spawn(exe, config, true)?);
                    say(&format!("{} started on request", config.display()));
                }
                let _ = std::fs::remove_file(control(config, "start"));
            }
            if let Some(status) = slot.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                *slot = None;
                say(&format!(
                    "{} exited with {status}; the others keep running",
                    config.display()
                ));
            }
        }
        let alive = children.iter().filter(|(_, c)| c.is_some()).count();
        if alive >= quorum {
            warned = false;
        }
        if alive == 0 && !children.iter().any(|(c, _)| control(c, "start").exists()) {
            return Err(config_err(
                "every validator exited (see the logs beside the configs)",
            ));
        }
        if alive < quorum && !warned {
            warned = true;
            say(&format!(
                "{alive} of {n} validators running: below a quorum of {quorum}, the chain stalls"
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    for (_, child) in children.iter_mut() {
        if let Some(c) = child {
            terminate(c);
        }
    }
    for (_, child) in children.iter_mut() {
        if let Some(c) = child {
            let _ = c.wait();
        }
    }
    Ok(())
}

/// The file asking the supervisor of `config`'s testnet to `what` (stop or start) it.
fn control(config: &Path, what: &str) -> PathBuf {
    config.with_extension(what)
}

/// Start `verai node --config CONFIG`, logging beside the config (appending on a restart).
fn spawn(exe: &Path, config: &Path, append: bool) -> Result<Child, NodeError> {
    let log = config.with_extension("log");
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(append)
        .write(true)
        .truncate(!append)
        .open(&log)
        .map_err(io_at(&log))?;
    let err = out.try_clone().map_err(io_at(&log))?;
    Command::new(exe)
        .arg("node")
        .arg("--config")
        .arg(config)
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(io_at(config))
}

/// Ask the supervisor running the testnet in `dir` (`verai testnet run`) to stop or start
/// validator `k`, and wait until it has (at most 30 s).
pub fn request(dir: &Path, k: usize, start: bool) -> Result<(), NodeError> {
    let configs = configs(dir)?;
    let config = configs.get(k).ok_or_else(|| {
        config_err(format!(
            "{} has validators 0 to {}, not {k}",
            dir.display(),
            configs.len().saturating_sub(1)
        ))
    })?;
    let file = control(config, if start { "start" } else { "stop" });
    std::fs::write(&file, b"").map_err(io_at(&file))?;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while file.exists() {
        if std::time::Instant::now() > deadline {
            let _ = std::fs::remove_file(&file);
            return Err(config_err(format!(
                "no `verai testnet run --dir {}` answered within 30 s: is the testnet running?",
                dir.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

/// Ask a node to stop cleanly (SIGTERM), as Ctrl-C would.
fn terminate(child: &mut Child) {
    #[cfg(unix)]
    {
        // The `kill` command avoids unsafe libc calls.
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
