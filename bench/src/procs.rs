//! Node processes for the process-level benchmarks and soak runs: a local testnet from
//! `verai testnet init` whose validators can be killed and restarted one by one, a dev node
//! on a kept data directory, and what `/proc` says about them.

use eyre::{WrapErr, bail};
use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};
use verai_client::Client;

/// A base port with `n` free consecutive-ish ports (spread by this process id so runs in
/// parallel rarely collide).
pub fn free_base(n: u16) -> u16 {
    (0..500u16)
        .map(|i| 21_000 + (std::process::id() as u16 % 97) * 100 + i * 7)
        .find(|base| (0..n).all(|k| std::net::TcpListener::bind(("127.0.0.1", base + k)).is_ok()))
        .unwrap_or(40_000)
}

/// Sends SIGTERM (`hard`: SIGKILL) to `child` and reaps it.
pub fn stop(child: &mut Child, hard: bool) {
    let signal = if hard { "-KILL" } else { "-TERM" };
    let _ = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status();
    let _ = child.wait();
}

/// Resident memory of a process in KiB (`VmRSS` in `/proc/PID/status`).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Open file descriptors of a process.
pub fn open_fds(pid: u32) -> Option<usize> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

/// Waits until the node at `c` answers, up to `limit`.
pub async fn wait_ready(c: &Client, limit: Duration) -> eyre::Result<()> {
    let deadline = Instant::now() + limit;
    while c.chain_id().await.is_err() {
        if Instant::now() > deadline {
            bail!("a node did not answer within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Validator processes of a local testnet, each restartable; all stopped on drop.
pub struct Testnet {
    binary: PathBuf,
    dir: tempfile::TempDir,
    children: Vec<Option<Child>>,
    /// Each validator's RPC URL.
    pub urls: Vec<String>,
}

impl Testnet {
    /// `verai testnet init` of `validators` in a temporary directory, then every validator
    /// started.
    pub fn start(binary: &Path, validators: u16) -> eyre::Result<Self> {
        let dir = tempfile::tempdir()?;
        let rpc = free_base(validators);
        let p2p = free_base(validators) + 1_000;
        let out = Command::new(binary)
            .args(["testnet", "init", "--metrics-port", "0", "--validators"])
            .arg(validators.to_string())
            .arg("--dir")
            .arg(dir.path())
            .args([
                "--rpc-port",
                &rpc.to_string(),
                "--p2p-port",
                &p2p.to_string(),
            ])
            .output()
            .wrap_err_with(|| format!("running {}", binary.display()))?;
        if !out.status.success() {
            bail!("testnet init: {}", String::from_utf8_lossy(&out.stderr));
        }
        let mut net = Self {
            binary: binary.to_path_buf(),
            dir,
            children: (0..validators).map(|_| None).collect(),
            urls: (0..validators)
                .map(|k| format!("http://127.0.0.1:{}", rpc + k))
                .collect(),
        };
        for k in 0..usize::from(validators) {
            net.restart(k)?;
        }
        Ok(net)
    }

    /// Starts validator `k` (again) on its data directory; its log is appended to.
    pub fn restart(&mut self, k: usize) -> eyre::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join(format!("node-{k}.log")))?;
        let child = Command::new(&self.binary)
            .arg("node")
            .arg("--config")
            .arg(self.dir.path().join(format!("node-{k}.toml")))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?;
        self.children[k] = Some(child);
        Ok(())
    }

    /// Kills validator `k` with SIGKILL (no chance to flush anything).
    pub fn kill(&mut self, k: usize) {
        if let Some(mut c) = self.children[k].take() {
            stop(&mut c, true);
        }
    }

    /// Validator `k`'s process id while it runs.
    pub fn pid(&self, k: usize) -> Option<u32> {
        self.children[k].as_ref().map(Child::id)
    }

    /// The directory holding the configuration, data and logs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Testnet {
    fn drop(&mut self) {
        for c in self.children.iter_mut().flatten() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
        }
        for c in self.children.iter_mut().flatten() {
            let _ = c.wait();
        }
    }
}

/// `verai node --dev` on a data directory that outlives it (so it can be killed and
/// started again on the same state).
pub fn start_dev(binary: &Path, datadir: &Path, port: u16, log: &Path) -> eyre::Result<Child> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    Ok(Command::new(binary)
        .args(["node", "--dev", "--no-explorer", "--metrics-port", "0"])
        .arg("--datadir")
        .arg(datadir)
        .args(["--rpc-port", &port.to_string()])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()?)
}
