//! The JSON-RPC target's server: a dev node started once in this process (real consensus,
//! real server), and a kept-alive HTTP connection to it.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpStream},
    sync::{Mutex, OnceLock},
    time::Duration,
};

/// The node's RPC address (started on first use; it runs until the process exits).
fn node() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use commonware_runtime::Runner as _;
            let dir = tempfile::tempdir().expect("a temporary directory");
            let runtime = commonware_runtime::tokio::Config::new()
                .with_storage_directory(dir.path().join("consensus"));
            commonware_runtime::tokio::Runner::new(runtime).start(|context| async move {
                let config = dev_config(dir.path());
                let node = verai_node::run(context, config)
                    .await
                    .expect("the node starts");
                let _ = tx.send(node.rpc_addr);
                // Keep the node (and its directory) for the life of the process.
                let _keep = (node, dir);
                futures_pending().await;
            });
        });
        rx.recv_timeout(Duration::from_secs(60))
            .expect("the node answers within 60 s")
    })
}

async fn futures_pending() {
    std::future::pending::<()>().await
}

fn dev_config(dir: &std::path::Path) -> verai_node::NodeConfig {
    use commonware_cryptography::Signer as _;
    let signer = verai_consensus::PrivateKey::from_seed(7);
    let spec = verai_primitives::ChainSpec::dev();
    verai_node::NodeConfig {
        datadir: dir.to_path_buf(),
        pool: verai_mempool::PoolConfig::new(spec.chain_id, spec.gas_limit),
        spec,
        modules: verai_modules::native_modules(),
        rpc_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        rpc_access: Default::default(),
        blob_capacity: 64 << 20,
        explorer_addr: None,
        keys: verai_node::ValidatorKeys {
            validators: vec![(signer.public_key(), SocketAddr::from(([127, 0, 0, 1], 0)))],
            signer,
            p2p_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        },
        producer: verai_node::ProducerConfig::default(),
        timeouts: verai_consensus::Timeouts::dev(),
        audit_deploys: None,
        sentinel: None,
        sentinel_model: None,
        operator: None,
    }
}

fn connect() -> TcpStream {
    let s = TcpStream::connect(node()).expect("the node still accepts connections");
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let _ = s.set_nodelay(true);
    s
}

/// POST `body` to the node and read the whole answer. A connection the server closed is
/// opened again; a server that no longer accepts connections, or takes 30 s to answer, is a
/// crash.
pub fn post(body: &[u8]) {
    static CONN: Mutex<Option<BufReader<TcpStream>>> = Mutex::new(None);
    let mut guard = CONN.lock().unwrap_or_else(|p| p.into_inner());
    for attempt in 0..2 {
        let conn = guard.get_or_insert_with(|| BufReader::new(connect()));
        match exchange(conn, body) {
            Ok(()) => return,
            Err(e) => {
                *guard = None;
                assert!(attempt == 0, "the server did not answer: {e}");
            }
        }
    }
}

fn exchange(conn: &mut BufReader<TcpStream>, body: &[u8]) -> std::io::Result<()> {
    let head = format!(
        "POST / HTTP/1.1\r\nHost: fuzz\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let stream = conn.get_mut();
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    // Status line and headers, then exactly Content-Length bytes.
    let mut line = String::new();
    let mut length = 0usize;
    let mut status = 0u16;
    loop {
        line.clear();
        if conn.read_line(&mut line)? == 0 {
            return Err(std::io::Error::other("connection closed"));
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some(code) = l.strip_prefix("HTTP/1.1 ") {
            status = code.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
        }
        if let Some(v) = l
            .to_ascii_lowercase()
            .strip_prefix("content-length:")
            .map(|v| v.trim().to_owned())
        {
            length = v.parse().unwrap_or(0);
        }
    }
    let mut answer = vec![0u8; length];
    conn.read_exact(&mut answer)?;
    assert!(
        status != 0 && status < 500,
        "the server answered HTTP {status}"
    );
    Ok(())
}
