//! Helpers for the end-to-end tests: start a dev node, wait for its JSON-RPC,
//! run real clients (`cast`, node + ethers) against it.
//!
//! The node under test is `verai node --dev --ephemeral --rpc-port PORT`.
//! With `VERAI_E2E_NODE=anvil` the helper starts anvil instead (chain id 1337,
//! same mnemonic and balances), which is how these tests were written and how
//! a failure can be checked against the reference implementation.
//!
//! The JavaScript side (cast, anvil, ethers, solc-js) lives in `tests/e2e` at
//! the repository root and is installed by `scripts/test.sh`
//! (`npm ci --prefix tests/e2e`). Missing tools fail the tests loudly: they are
//! never skipped.
#![allow(dead_code)] // not every test binary uses every helper

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Dev account 0 of the standard test mnemonic (public, test-only key).
pub const DEV_KEY_0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
pub const DEV_ADDR_0: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
pub const DEV_ADDR_1: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
pub const CHAIN_ID: u64 = 1337;
/// keccak256("Transfer(address,address,uint256)")
pub const TRANSFER_TOPIC: &str =
    "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";

const SETUP_HINT: &str = "run `scripts/test.sh` from the repository root \
     (it runs `npm ci --prefix tests/e2e`), or just `npm ci --prefix tests/e2e`";

fn env_secs(name: &str, default: u64) -> Duration {
    let secs = std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    Duration::from_secs(secs)
}

/// Time allowed for the node to answer `eth_chainId` after it was started.
pub fn startup_timeout() -> Duration {
    env_secs("VERAI_E2E_STARTUP_SECS", 60)
}

/// Time allowed for one client command (a `cast` call, the whole ethers suite).
pub fn command_timeout() -> Duration {
    env_secs("VERAI_E2E_COMMAND_SECS", 120)
}

/// This crate's directory, read when the test runs: cargo and nextest set it, and a build
/// cache shared between clones at different paths would keep the compile-time one.
pub fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
}

/// The repository root (two levels above this crate's manifest).
pub fn repo_root() -> PathBuf {
    manifest_dir()
        .join("../..")
        .canonicalize()
        .expect("repository root exists")
}

/// `tests/e2e` at the repository root.
pub fn e2e_dir() -> PathBuf {
    repo_root().join("tests/e2e")
}

fn require_file(path: &Path, what: &str) -> PathBuf {
    assert!(
        path.is_file(),
        "{what} not found at {}: {SETUP_HINT}",
        path.display()
    );
    path.to_path_buf()
}

/// The npm-installed Foundry binary `tool` ("cast" or "anvil").
pub fn foundry_bin(tool: &str) -> PathBuf {
    let platform = match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => "linux-amd64",
        ("linux", "aarch64") => "linux-arm64",
        ("macos", "x86_64") => "darwin-amd64",
        ("macos", "aarch64") => "darwin-arm64",
        (os, arch) => panic!("no @foundry-rs/{tool} binary package for {os}/{arch}"),
    };
    let path = e2e_dir()
        .join("node_modules/@foundry-rs")
        .join(format!("{tool}-{platform}"))
        .join("bin")
        .join(tool);
    require_file(&path, tool)
}

/// `node` must be on PATH, and ethers installed under tests/e2e/node_modules.
pub fn require_node_tools() {
    let ok = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "`node` is not on PATH: install Node.js (20 or later), then {SETUP_HINT}"
    );
    require_file(
        &e2e_dir().join("node_modules/ethers/package.json"),
        "the ethers package",
    );
}

/// A free TCP port on 127.0.0.1 (the OS picks one; a collision with another
/// process between here and the node's bind is retried by [`Node::start`]).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

/// Output of a finished client command.
#[derive(Debug)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` with a deadline, capturing stdout and stderr. The child is
/// killed when the deadline passes, and the function then panics.
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> Output {
    let mut described = format!("{cmd:?}");
    if described.len() > 300 {
        let cut = (0..=300)
            .rev()
            .find(|&i| described.is_char_boundary(i))
            .unwrap_or(0);
        described.truncate(cut);
        described.push_str("...");
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {described}: {e}"));
    let mut out_pipe = child.stdout.take().expect("piped stdout");
    let mut err_pipe = child.stderr.take().expect("piped stderr");
    // Drain both pipes on threads so a chatty child never blocks on a full pipe.
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                let stderr = err_reader.join().unwrap_or_default();
                panic!(
                    "timed out after {timeout:?}: {described}\nstderr:\n{}",
                    String::from_utf8_lossy(&stderr)
                );
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("waiting for {described}: {e}"),
        }
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    Output {
        status,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Which node implementation the tests run against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Verai,
    Anvil,
}

impl NodeKind {
    /// `VERAI_E2E_NODE=anvil` selects anvil; unset or `verai` selects verai.
    pub fn from_env() -> Self {
        match std::env::var("VERAI_E2E_NODE").as_deref() {
            Err(_) | Ok("") | Ok("verai") => NodeKind::Verai,
            Ok("anvil") => NodeKind::Anvil,
            Ok(other) => panic!("VERAI_E2E_NODE={other}: expected `verai` or `anvil`"),
        }
    }
}

#[derive(Debug)]
pub enum StartError {
    /// The process exited before answering (maybe its port was taken).
    Exited(String),
    Other(String),
}

/// A running dev node, killed when dropped.
#[derive(Debug)]
pub struct Node {
    child: Child,
    pub kind: NodeKind,
    pub port: u16,
    pub rpc_url: String,
    log_path: PathBuf,
}

impl Node {
    /// Starts a fresh dev node on a free port and waits until `eth_chainId`
    /// answers (at most [`startup_timeout`]).
    pub fn start() -> Node {
        Node::start_in(None)
    }

    /// Starts a verai dev node keeping its data in `datadir` (so that it can be stopped and
    /// started again on the same chain); `None` for an `--ephemeral` node (or anvil).
    pub fn start_in(datadir: Option<&Path>) -> Node {
        let kind = if datadir.is_some() {
            NodeKind::Verai
        } else {
            NodeKind::from_env()
        };
        // A port picked by `free_port` can be taken by someone else before the
        // node binds it: retry a few times when the node exits early. A node
        // that hangs without answering is not retried.
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Node::try_start(kind, datadir, &[]) {
                Ok(node) => return node,
                Err(StartError::Exited(e)) if attempt < 3 => {
                    eprintln!("node start attempt {attempt} failed, retrying: {e}");
                }
                Err(StartError::Exited(e) | StartError::Other(e)) => panic!("{e}"),
            }
        }
    }

    /// Starts an ephemeral verai dev node with extra `verai node` arguments.
    pub fn start_with_args(extra: &[&str]) -> Node {
        Node::start_in_with_args(None, extra)
    }

    /// Starts a verai dev node in `datadir` (ephemeral when `None`) with extra arguments.
    pub fn start_in_with_args(datadir: Option<&Path>, extra: &[&str]) -> Node {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Node::try_start(NodeKind::Verai, datadir, extra) {
                Ok(node) => return node,
                Err(StartError::Exited(e)) if attempt < 3 => {
                    eprintln!("node start attempt {attempt} failed, retrying: {e}");
                }
                Err(StartError::Exited(e) | StartError::Other(e)) => panic!("{e}"),
            }
        }
    }

    fn try_start(
        kind: NodeKind,
        datadir: Option<&Path>,
        extra: &[&str],
    ) -> Result<Node, StartError> {
        let port = free_port();
        let cmd = match kind {
            NodeKind::Verai => {
                let mut c = Command::new(env!("CARGO_BIN_EXE_verai"));
                c.args(["node", "--dev", "--metrics-port", "0"]);
                // The explorer only where a test asks for it (its default port is shared).
                if !extra.contains(&"--explorer-port") {
                    c.arg("--no-explorer");
                }
                match datadir {
                    Some(d) => c.arg("--datadir").arg(d),
                    None => c.arg("--ephemeral"),
                };
                c.arg("--rpc-port").arg(port.to_string()).args(extra);
                c
            }
            NodeKind::Anvil => {
                let mut c = Command::new(foundry_bin("anvil"));
                c.args(["--chain-id", &CHAIN_ID.to_string(), "--port"])
                    .arg(port.to_string());
                c
            }
        };
        let mut node = Node::spawn(cmd, kind, port)?;
        let described = format!("{kind:?} node on port {port}");
        node.wait_ready(&described)?;
        Ok(node)
    }

    /// Starts `cmd` (a node answering JSON-RPC on `port`) without waiting for it.
    pub fn spawn(mut cmd: Command, kind: NodeKind, port: u16) -> Result<Node, StartError> {
        let log_path =
            std::env::temp_dir().join(format!("verai-e2e-{}-{port}.log", std::process::id()));
        let log = File::create(&log_path)
            .map_err(|e| StartError::Other(format!("create {log_path:?}: {e}")))?;
        let log_err = log
            .try_clone()
            .map_err(|e| StartError::Other(format!("clone log handle: {e}")))?;
        let child = cmd
            .env("NO_COLOR", "1") // plain node logs (tracing-subscriber honours it)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| StartError::Other(format!("cannot start {cmd:?}: {e}")))?;
        Ok(Node {
            child,
            kind,
            port,
            rpc_url: format!("http://127.0.0.1:{port}"),
            log_path,
        })
    }

    /// Wait until the node answers `eth_chainId` (at most [`startup_timeout`]).
    pub fn wait_ready(&mut self, described: &str) -> Result<(), StartError> {
        let timeout = startup_timeout();
        let deadline = Instant::now() + timeout;
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(StartError::Exited(format!(
                    "node exited during start-up ({status}): {described}\n--- node log ---\n{}",
                    self.log_tail()
                )));
            }
            let probe = serde_json::json!({
                "jsonrpc": "2.0", "id": 1, "method": verai_client::api::wire::CHAIN_ID, "params": []
            });
            if let Ok(body) = rpc_raw(addr, &probe.to_string())
                && body.contains("\"result\"")
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(StartError::Other(format!(
                    "node did not answer eth_chainId within {timeout:?}: {described}\n--- node log ---\n{}",
                    self.log_tail()
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The last lines the node printed (for failure messages).
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }

    /// A typed client of this node.
    pub fn client(&self) -> verai_client::Client {
        verai_client::Client::connect(&self.rpc_url).expect("a valid URL")
    }

    /// One typed call (`f` gets a client); its result as the JSON the wire carries.
    /// Panics on an error, with the node's log.
    pub fn call<T, E, F, Fut>(&self, f: F) -> serde_json::Value
    where
        T: serde::Serialize,
        E: std::fmt::Display,
        F: FnOnce(verai_client::Client) -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        match self.try_call(f) {
            Ok(v) => v,
            Err(e) => panic!("call failed: {e}\n--- node log ---\n{}", self.log_tail()),
        }
    }

    /// [`Node::call`] returning the error instead of panicking.
    pub fn try_call<T, E, F, Fut>(&self, f: F) -> Result<serde_json::Value, String>
    where
        T: serde::Serialize,
        E: std::fmt::Display,
        F: FnOnce(verai_client::Client) -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let out = rt.block_on(f(self.client())).map_err(|e| e.to_string())?;
        Ok(serde_json::to_value(out).expect("results serialize"))
    }

    /// Runs `cast SUBCOMMAND --rpc-url URL ARGS...`, asserts success, returns
    /// trimmed stdout.
    pub fn cast(&self, args: &[&str]) -> String {
        let out = self.cast_output(args);
        assert!(
            out.status.success(),
            "cast {} failed ({}):\nstdout:\n{}\nstderr:\n{}\n--- node log ---\n{}",
            shorten_args(args),
            out.status,
            out.stdout,
            out.stderr,
            self.log_tail()
        );
        out.stdout.trim().to_string()
    }

    /// Runs `cast SUBCOMMAND --rpc-url URL ARGS...` and returns its output,
    /// successful or not. The URL goes right after the subcommand: after
    /// trailing positional arguments (`--create CODE SIG ARGS...`) cast would
    /// take it for one more argument.
    pub fn cast_output(&self, args: &[&str]) -> Output {
        let (subcommand, rest) = args.split_first().expect("a cast subcommand");
        let mut cmd = Command::new(foundry_bin("cast"));
        cmd.arg(subcommand)
            .args(["--rpc-url", &self.rpc_url])
            .args(rest)
            // Keep cast's own time limit for a receipt below ours.
            .env("ETH_TIMEOUT", "60")
            // No colours or interactive prompts in captured output.
            .env("NO_COLOR", "1")
            .env_remove("ETH_RPC_URL");
        run_with_timeout(&mut cmd, command_timeout())
    }

    /// Like [`Node::cast`], and parses stdout as JSON (for `--json` commands).
    pub fn cast_json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.cast(args);
        serde_json::from_str(&out).unwrap_or_else(|e| {
            panic!(
                "cast {}: output is not JSON ({e}): {out}",
                shorten_args(args)
            )
        })
    }
}

impl Node {
    /// Sends SIGTERM and waits (bounded) for a clean exit; returns whether it exited cleanly.
    pub fn terminate(&mut self) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "node did not exit within 30 s of SIGTERM\n--- node log ---\n{}",
            self.log_tail()
        );
    }

    /// Wait (bounded) for the process to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// SIGKILL: the process dies wherever it is, mid-write included.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops the node: SIGTERM first, so that it shuts down cleanly (an
    /// `--ephemeral` node deletes its temporary data directory on the way
    /// out), then SIGKILL if it is still running after a few seconds.
    fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        // std has no SIGTERM and this crate forbids unsafe code: use kill(1)
        // on the one process we started, by its id.
        let termed = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if termed {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            eprintln!("node did not exit within 10 s of SIGTERM; killing it");
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
        // Keep the log of a failed test (or of every test with
        // VERAI_E2E_KEEP_LOGS=1) for inspection; remove it otherwise.
        let keep = std::env::var_os("VERAI_E2E_KEEP_LOGS").is_some_and(|v| v != "0");
        if std::thread::panicking() || keep {
            eprintln!("node log kept at {}", self.log_path.display());
        } else {
            let _ = std::fs::remove_file(&self.log_path);
        }
    }
}

/// Joins command arguments for a message, eliding long ones (bytecode).
pub fn shorten_args(args: &[&str]) -> String {
    args.iter()
        .map(|a| {
            if a.len() > 80 {
                format!("{}...({} chars)", &a[..40], a.len())
            } else {
                (*a).to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// POSTs one JSON-RPC body with HTTP/1.1 over a fresh connection and returns
/// the response body. Deliberately dependency-free (std only).
pub fn rpc_raw(addr: SocketAddr, body: &str) -> Result<String, String> {
    let timeout = Duration::from_secs(10);
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .map_err(|e| e.to_string())?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("malformed HTTP response: {response}"))?;
    if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
        return Err(format!("HTTP error: {head}"));
    }
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return Ok(dechunk(body));
    }
    Ok(body.to_string())
}

/// One HTTP/1.1 request over a fresh connection: `(status, body)`; `body` is sent with a
/// JSON content type when given (a POST), otherwise the request is a GET.
pub fn http(addr: SocketAddr, path: &str, body: Option<&str>) -> Result<(u16, String), String> {
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    let timeout = Some(Duration::from_secs(30));
    stream
        .set_read_timeout(timeout)
        .map_err(|e| e.to_string())?;
    let request = match body {
        Some(b) => format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{b}",
            b.len()
        ),
        None => format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    };
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .map_err(|e| e.to_string())?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("malformed HTTP response: {response}"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    Ok((status, body))
}

/// Decodes an HTTP/1.1 chunked body (some servers chunk even small answers).
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size_line, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("0").trim(), 16)
            .unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// The compiled token: `contracts/out/VeraiToken.json` (abi, bytecode).
pub fn token_artifact() -> serde_json::Value {
    let path = repo_root().join("contracts/out/VeraiToken.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: run `node tests/e2e/compile.mjs` (or {SETUP_HINT})",
            path.display()
        )
    });
    serde_json::from_str(&text).expect("artifact is JSON")
}

/// Parses a JSON-RPC quantity ("0x1a") or a decimal string as u128.
pub fn quantity(v: &serde_json::Value) -> u128 {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("not a string quantity: {v}"));
    match s.strip_prefix("0x") {
        Some(hex) => u128::from_str_radix(hex, 16),
        None => s.parse(),
    }
    .unwrap_or_else(|e| panic!("bad quantity {s}: {e}"))
}

/// A JSON-RPC proxy in front of `node` that lets `edit` alter each answer's `result`
/// (given the request's method): a node that lies, for verification tests. One request per
/// connection (it answers `Connection: close`).
pub fn tampering_proxy(
    node: SocketAddr,
    edit: impl Fn(&str, &mut serde_json::Value) + Send + 'static,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = listener.local_addr().expect("bound address");
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut reader = BufReader::new(conn.try_clone().expect("clone the socket"));
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let l = line.to_ascii_lowercase();
                if let Some(v) = l.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0u8; len];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let body = String::from_utf8_lossy(&body).to_string();
            let method = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["method"].as_str().map(str::to_owned))
                .unwrap_or_default();
            let answer = rpc_raw(node, &body).unwrap_or_default();
            let mut v: serde_json::Value = serde_json::from_str(&answer).unwrap_or_default();
            let r = &mut v["result"];
            edit(&method, r);
            let out = v.to_string();
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{out}",
                out.len()
            );
        }
    });
    format!("http://{addr}")
}

/// Flip the hex digit at `i` (keeping the string valid hex).
pub fn flip_hex(s: &str, i: usize) -> String {
    let mut b = s.as_bytes().to_vec();
    b[i] = if b[i] == b'0' { b'1' } else { b'0' };
    String::from_utf8(b).expect("hex stays ASCII")
}

/// Run `verai ARGS --rpc RPC` (bounded in time, without backtraces in its errors).
pub fn verai(rpc: &str, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_verai"));
    c.args(args).args(["--rpc", rpc]);
    c.env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE");
    run_with_timeout(&mut c, command_timeout())
}

/// Run `verai ARGS --json`, expect success, return stdout parsed as JSON.
pub fn ok_json(rpc: &str, args: &[&str]) -> serde_json::Value {
    let mut a = args.to_vec();
    a.push("--json");
    let out = verai(rpc, &a);
    assert!(
        out.status.success(),
        "verai {args:?} failed: {}",
        out.stderr
    );
    serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

/// Run `verai ARGS`, expect failure, return stderr.
pub fn fails(rpc: &str, args: &[&str]) -> String {
    let out = verai(rpc, args);
    assert!(
        !out.status.success(),
        "verai {args:?} should fail: {}",
        out.stdout
    );
    out.stderr
}

/// Wait until `f` holds, polling every 200 ms, for at most `limit`.
pub fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
