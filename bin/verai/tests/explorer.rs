//! The explorer and GraphQL on a dev node after a scripted scenario: transfers, an ERC-20
//! token, a dataset → model lineage, inferences, a sentinel alert and a deploy audit.
//!
//! Pages are loaded in headless Chromium (Debian's `chromium` and `chromedriver`, driven
//! over WebDriver by `thirtyfour`), their values checked and screenshots saved under
//! `$CARGO_TARGET_TMPDIR/explorer-screenshots/`. GraphQL's EIP-1767 answers are compared
//! with JSON-RPC's on the same chain; over-limit queries and bad input get clear errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{Address, B256};
use common::{DEV_ADDR_1, DEV_KEY_0, Node, http, quantity};
use serde_json::{Value, json};
use std::{
    net::SocketAddr,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};
use thirtyfour::prelude::*;
use verai_client::api::{EthApiClient, VeraiApiClient};

fn shared_data() -> Option<PathBuf> {
    ["../shared", "../../shared"]
        .iter()
        .map(|s| common::repo_root().join(s).join("data/eth-fraud/train.csv"))
        .find(|p| p.exists())
}

fn verai(node: &Node, args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_verai"))
        .args(args)
        .args(["--rpc", &node.rpc_url, "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "verai {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn deploy(node: &Node, artifact: &str, ctor: &[&str]) -> String {
    let a: Value = serde_json::from_str(
        &std::fs::read_to_string(common::repo_root().join("contracts/out").join(artifact)).unwrap(),
    )
    .unwrap();
    let mut args = vec![
        "send",
        "--private-key",
        DEV_KEY_0,
        "--json",
        "--create",
        a["bytecode"].as_str().unwrap(),
    ];
    args.extend_from_slice(ctor);
    let r = node.cast_json(&args);
    assert_eq!(r["status"], "0x1", "{r}");
    r["contractAddress"].as_str().unwrap().to_owned()
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn gql(addr: SocketAddr, query: &str) -> Value {
    let body = json!({ "query": query }).to_string();
    let (_, text) = http(addr, "/graphql", Some(&body)).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// chromedriver on a free port, killed on drop.
struct Driver(Child, u16);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn chromedriver() -> Driver {
    for bin in ["/usr/bin/chromedriver", "/usr/bin/chromium"] {
        assert!(
            std::path::Path::new(bin).exists(),
            "{bin} is missing: install Debian's chromium and chromium-driver (scripts/test.sh does)"
        );
    }
    let port = common::free_port();
    let child = Command::new("/usr/bin/chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    wait_for("chromedriver", || {
        std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
    });
    Driver(child, port)
}

async fn browser(driver: &Driver, profile: &std::path::Path) -> WebDriver {
    let mut caps = DesiredCapabilities::chrome();
    caps.set_binary("/usr/bin/chromium").unwrap();
    for flag in [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1000",
    ] {
        caps.add_arg(flag).unwrap();
    }
    caps.add_arg(&format!("--user-data-dir={}", profile.display()))
        .unwrap();
    WebDriver::new(format!("http://127.0.0.1:{}", driver.1), caps)
        .await
        .expect("a browser session")
}

fn screenshots() -> PathBuf {
    let dir = option_env!("CARGO_TARGET_TMPDIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join("explorer-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn pages_and_graphql_show_the_chain() {
    common::require_node_tools();
    // The sentinel's model is trained on the fraud data set beside the clone; without it
    // (as in sentinel_node) the sentinel's page is checked to say it is off.
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("sentinel.json");
    let sentinel = shared_data().map(|data| {
        let out = Command::new(env!("CARGO_BIN_EXE_verai"))
            .args(["sentinel", "train", "--iterations", "40", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(&model)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        model.to_str().unwrap().to_owned()
    });
    if sentinel.is_none() {
        eprintln!("../shared/data/eth-fraud/train.csv is not here: no sentinel alerts");
    }
    let explorer_port = common::free_port().to_string();
    let mut args = vec!["--explorer-port", &explorer_port, "--audit-deploys"];
    if let Some(m) = &sentinel {
        // Every transaction's sender scores above this: each one raises an alert.
        args.extend(["--sentinel", m, "--sentinel-flag-risk", "0.0001"]);
    }
    let node = Node::start_with_args(&args);
    let explorer_port: u16 = explorer_port.parse().unwrap();
    let ex = SocketAddr::from(([127, 0, 0, 1], explorer_port));

    // --- The scenario ---
    let transfer = verai(&node, &["send", "--to", DEV_ADDR_1, "--value", "1.5"]);
    let transfer_hash = transfer["transactionHash"].as_str().unwrap().to_owned();
    let token = deploy(
        &node,
        "VeraiToken.json",
        &[
            "constructor(string,string,uint256)",
            "Verai",
            "VAI",
            "1000000",
        ],
    );
    let token_tx = node.cast_json(&[
        "send",
        "--private-key",
        DEV_KEY_0,
        "--json",
        &token,
        "transfer(address,uint256)",
        DEV_ADDR_1,
        "250",
    ]);
    let token_tx_hash = token_tx["transactionHash"].as_str().unwrap().to_owned();
    let bank = deploy(&node, "AuditDemoBank.json", &[]);
    let files = tempfile::tempdir().unwrap();
    std::fs::write(files.path().join("a.csv"), "x,y\n1,2\n").unwrap();
    std::fs::write(files.path().join("b.csv"), "x,y\n3,4\n").unwrap();
    let a = verai(
        &node,
        &[
            "provenance",
            "register-dataset",
            files.path().join("a.csv").to_str().unwrap(),
            "--license",
            "CC0-1.0",
        ],
    )["id"]
        .as_u64()
        .unwrap();
    let b = verai(
        &node,
        &[
            "provenance",
            "register-dataset",
            files.path().join("b.csv").to_str().unwrap(),
            "--license",
            "CC-BY-4.0",
        ],
    )["id"]
        .as_u64()
        .unwrap();
    let onnx = common::repo_root().join("models/demand_forecast.onnx");
    let m = verai(
        &node,
        &[
            "model",
            "register",
            onnx.to_str().unwrap(),
            "--name",
            "demand",
            "--license",
            "MIT",
            "--trained-on",
            &a.to_string(),
            "--trained-on",
            &b.to_string(),
        ],
    )["id"]
        .as_u64()
        .unwrap();
    for _ in 0..2 {
        verai(
            &node,
            &[
                "infer",
                &m.to_string(),
                "--input",
                "[2.4,2.7,3.0,3.0,3.6,4.8,4.2,1]",
            ],
        );
    }
    let client = node.client();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let bank_addr: Address = bank.parse().unwrap();
    wait_for("the bank's audit", || {
        rt.block_on(client.get_audit(bank_addr)).unwrap().is_some()
    });
    if sentinel.is_some() {
        wait_for("a sentinel alert", || {
            let (_, page) = http(ex, "/sentinel", None).unwrap();
            page.contains("badge warn")
        });
    }

    // --- GraphQL answers what JSON-RPC answers ---
    let head = rt.block_on(client.block_number()).unwrap().to::<u64>();
    for n in [1, head / 2, head] {
        let rpc = rt
            .block_on(client.get_block_by_number(BlockNumberOrTag::Number(n), false))
            .unwrap()
            .unwrap();
        let g = gql(
            ex,
            &format!(
                "{{ block(number: {n}) {{ number hash parent {{ hash }} stateRoot receiptsRoot transactionsRoot gasUsed gasLimit timestamp baseFeePerGas transactionCount }} }}"
            ),
        );
        let gb = &g["data"]["block"];
        let h = &rpc.header;
        assert_eq!(gb["hash"], format!("{:#x}", h.hash), "{g}");
        assert_eq!(gb["stateRoot"], format!("{:#x}", h.state_root));
        assert_eq!(gb["receiptsRoot"], format!("{:#x}", h.receipts_root));
        assert_eq!(
            gb["transactionsRoot"],
            format!("{:#x}", h.transactions_root)
        );
        assert_eq!(quantity(&gb["number"]), u128::from(h.number));
        assert_eq!(quantity(&gb["gasUsed"]), u128::from(h.gas_used));
        assert_eq!(quantity(&gb["timestamp"]), u128::from(h.timestamp));
        assert_eq!(
            quantity(&gb["transactionCount"]),
            rpc.transactions.len() as u128
        );
        if n > 0 {
            assert_eq!(gb["parent"]["hash"], format!("{:#x}", h.parent_hash));
        }
    }
    let th: B256 = token_tx_hash.parse().unwrap();
    let tx = rt
        .block_on(client.get_transaction_by_hash(th))
        .unwrap()
        .unwrap();
    let receipt = rt
        .block_on(client.get_transaction_receipt(th))
        .unwrap()
        .unwrap();
    let g = gql(
        ex,
        &format!(
            "{{ transaction(hash: \"{token_tx_hash}\") {{ hash nonce from {{ address }} to {{ address }} value gas inputData status gasUsed cumulativeGasUsed effectiveGasPrice block {{ number }} index logs {{ index topics data account {{ address }} }} }} }}"
        ),
    );
    let gt = &g["data"]["transaction"];
    let rpc_tx = serde_json::to_value(&tx).unwrap();
    let rpc_receipt = serde_json::to_value(&receipt).unwrap();
    assert_eq!(gt["hash"], rpc_tx["hash"], "{g}");
    assert_eq!(
        gt["from"]["address"].as_str().unwrap(),
        rpc_tx["from"].as_str().unwrap().to_lowercase()
    );
    assert_eq!(gt["to"]["address"].as_str().unwrap(), token.to_lowercase());
    assert_eq!(quantity(&gt["nonce"]), quantity(&rpc_tx["nonce"]));
    assert_eq!(quantity(&gt["gas"]), quantity(&rpc_tx["gas"]));
    assert_eq!(gt["inputData"], rpc_tx["input"]);
    assert_eq!(quantity(&gt["status"]), quantity(&rpc_receipt["status"]));
    assert_eq!(quantity(&gt["gasUsed"]), quantity(&rpc_receipt["gasUsed"]));
    assert_eq!(
        quantity(&gt["cumulativeGasUsed"]),
        quantity(&rpc_receipt["cumulativeGasUsed"])
    );
    assert_eq!(
        quantity(&gt["effectiveGasPrice"]),
        quantity(&rpc_receipt["effectiveGasPrice"])
    );
    assert_eq!(
        quantity(&gt["block"]["number"]),
        quantity(&rpc_receipt["blockNumber"])
    );
    let rpc_logs = rpc_receipt["logs"].as_array().unwrap();
    let g_logs = gt["logs"].as_array().unwrap();
    assert_eq!(g_logs.len(), rpc_logs.len());
    for (gl, rl) in g_logs.iter().zip(rpc_logs) {
        assert_eq!(gl["topics"], rl["topics"]);
        assert_eq!(gl["data"], rl["data"]);
        assert_eq!(quantity(&gl["index"]), quantity(&rl["logIndex"]));
    }
    // Logs by filter, and the same through keyset pages of one.
    let rpc_logs = rt
        .block_on(
            client.get_logs(
                alloy_rpc_types_eth::Filter::new()
                    .address(token.parse::<Address>().unwrap())
                    .from_block(0u64),
            ),
        )
        .unwrap();
    let g = gql(
        ex,
        &format!(
            "{{ logs(filter: {{ fromBlock: 0, addresses: [\"{token}\"] }}) {{ index topics data transaction {{ hash }} }} }}"
        ),
    );
    let g_logs = g["data"]["logs"].as_array().unwrap();
    assert_eq!(g_logs.len(), rpc_logs.len(), "{g}");
    for (gl, rl) in g_logs.iter().zip(&rpc_logs) {
        assert_eq!(gl["data"], json!(rl.data().data));
        assert_eq!(
            gl["transaction"]["hash"],
            json!(rl.transaction_hash.unwrap())
        );
    }
    let mut paged = Vec::new();
    let mut after = Value::Null;
    loop {
        let q = format!(
            "{{ logsPage(filter: {{ addresses: [\"{token}\"] }}, first: 1, after: {after}) {{ logs {{ data }} nextCursor }} }}"
        );
        let g = gql(ex, &q);
        let page = &g["data"]["logsPage"];
        paged.extend(
            page["logs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["data"].clone()),
        );
        if page["nextCursor"].is_null() {
            break;
        }
        after = page["nextCursor"].clone();
    }
    assert_eq!(
        paged,
        g_logs.iter().map(|l| l["data"].clone()).collect::<Vec<_>>()
    );
    // Accounts.
    let dev0: Address = common::DEV_ADDR_0.parse().unwrap();
    let balance = rt.block_on(client.get_balance(dev0, None)).unwrap();
    let g = gql(
        ex,
        &format!(
            "{{ block {{ account(address: \"{}\") {{ balance transactionCount }} }} }}",
            common::DEV_ADDR_0
        ),
    );
    assert_eq!(
        g["data"]["block"]["account"]["balance"],
        format!("{balance:#x}"),
        "{g}"
    );
    // Verai's records: the lineage has both datasets as parents of the model.
    let g = gql(
        ex,
        &format!(
            "{{ lineage(id: {m}) {{ edges nodes {{ id kind }} }} record(id: {m}) {{ kind parents }} }}"
        ),
    );
    assert_eq!(g["data"]["record"]["kind"], "model", "{g}");
    assert_eq!(
        g["data"]["lineage"]["nodes"].as_array().unwrap().len(),
        2,
        "{g}"
    );
    // Bounds: depth, complexity, malformed input, unknown ids.
    let deep = "{ block { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { number } } } } } } } } } } } } }";
    let g = gql(ex, deep);
    assert_eq!(
        g["errors"][0]["message"], "Query is nested too deep.",
        "{g}"
    );
    let g = gql(
        ex,
        "{ blocks(from: 0) { transactions { logs { transaction { logs { data } } } } } }",
    );
    assert_eq!(g["errors"][0]["message"], "Query is too complex.", "{g}");
    let g = gql(ex, "{ block(number: \"zz\") { number } }");
    assert!(
        g["errors"][0]["message"].as_str().unwrap().contains("Long"),
        "{g}"
    );
    let g = gql(ex, "{ logsPage(filter: { addresses: [] }) { nextCursor } }");
    assert_eq!(g["errors"][0]["extensions"]["code"], -32602, "{g}");
    let g = gql(
        ex,
        "{ block(number: 999999) { number } transaction(hash: \"0x0000000000000000000000000000000000000000000000000000000000000001\") { hash } }",
    );
    assert!(
        g["data"]["block"].is_null() && g["data"]["transaction"].is_null(),
        "{g}"
    );
    let (status, _) = http(ex, "/graphql", Some("{not json")).unwrap();
    assert!((400..500).contains(&status), "{status}");

    // --- Friendly pages for bad input ---
    for (path, status, says) in [
        ("/block/zzz", 400, "Not understood"),
        ("/block/99999999", 404, "Not found"),
        ("/tx/0x1234", 400, "Not understood"),
        ("/address/not-an-address", 400, "Not understood"),
        ("/record/77777", 404, "Not found"),
        (
            "/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
            400,
            "&#34;&#60;script&#62;",
        ),
        ("/no/such/page", 404, "Not found"),
    ] {
        let (got, body) = http(ex, path, None).unwrap();
        assert_eq!(got, status, "{path}: {body}");
        assert!(body.contains(says), "{path}: {body}");
    }
    let long = format!("/search?q={}", "9".repeat(300));
    assert_eq!(http(ex, &long, None).unwrap().0, 400);

    // --- In a browser ---
    let driver = chromedriver();
    let profile = tempfile::tempdir().unwrap();
    let shots = screenshots();
    rt.block_on(async {
        let br = browser(&driver, profile.path()).await;
        let url = |p: &str| format!("http://{ex}{p}");
        let text = |id: &'static str| {
            let br = &br;
            async move { br.find(By::Id(id)).await.unwrap().text().await.unwrap() }
        };
        br.goto(url("/")).await.unwrap();
        let shown: u64 = text("head").await.parse().unwrap();
        assert!(shown >= head, "{shown} < {head}");
        assert!(br.find_all(By::Css("#blocks tr")).await.unwrap().len() > 1);
        br.screenshot(&shots.join("home.png")).await.unwrap();

        br.goto(url("/block/1")).await.unwrap();
        assert!(
            text("finality").await.starts_with("final"),
            "{}",
            text("finality").await
        );
        br.screenshot(&shots.join("block.png")).await.unwrap();

        br.goto(url(&format!("/tx/{transfer_hash}"))).await.unwrap();
        assert_eq!(text("value").await, "1.5 VAI");
        assert_eq!(text("status").await, "success");

        br.goto(url(&format!("/tx/{token_tx_hash}"))).await.unwrap();
        let method = text("method").await;
        assert!(
            method.contains("transfer") && method.contains("verified source VeraiToken"),
            "{method}"
        );
        let logs = text("logs").await;
        assert!(logs.contains("Transfer") && logs.contains("250"), "{logs}");
        br.screenshot(&shots.join("transaction.png")).await.unwrap();

        br.goto(url(&format!("/address/{}", common::DEV_ADDR_0)))
            .await
            .unwrap();
        let tokens = text("tokens").await;
        assert!(
            tokens.to_lowercase().contains(&token.to_lowercase()),
            "{tokens}"
        );
        assert!(tokens.contains("999750"), "{tokens}");
        assert!(br.find_all(By::Css(".txs tr")).await.unwrap().len() >= 6);
        br.screenshot(&shots.join("address.png")).await.unwrap();

        br.goto(url(&format!("/address/{bank}"))).await.unwrap();
        let risk = text("risk").await;
        assert!(risk.contains("high") || risk.contains("critical"), "{risk}");
        assert!(text("findings").await.contains("reentrancy"));
        br.screenshot(&shots.join("audited-contract.png"))
            .await
            .unwrap();

        // The lineage graph shows every edge: a → m and b → m.
        br.goto(url(&format!("/record/{m}"))).await.unwrap();
        let edges = br.find_all(By::Css("#lineage path.edge")).await.unwrap();
        let mut drawn = Vec::new();
        for e in edges {
            drawn.push((
                e.attr("data-from").await.unwrap().unwrap(),
                e.attr("data-to").await.unwrap().unwrap(),
            ));
        }
        drawn.sort();
        assert_eq!(
            drawn,
            vec![
                (a.to_string(), m.to_string()),
                (b.to_string(), m.to_string())
            ]
        );
        assert_eq!(text("license").await, "MIT");
        br.screenshot(&shots.join("record.png")).await.unwrap();

        br.goto(url(&format!("/model/{m}"))).await.unwrap();
        assert_eq!(
            br.find_all(By::Css("#inferences tr")).await.unwrap().len(),
            3
        );
        br.screenshot(&shots.join("model.png")).await.unwrap();

        br.goto(url("/sentinel")).await.unwrap();
        if sentinel.is_some() {
            assert!(text("status").await.contains("screened"));
            assert!(br.find_all(By::Css("#alerts tr")).await.unwrap().len() > 1);
        } else {
            assert!(text("status").await.contains("off"));
        }
        br.screenshot(&shots.join("sentinel.png")).await.unwrap();

        // The search box, as a person uses it.
        br.goto(url("/")).await.unwrap();
        let search = br.find(By::Name("q")).await.unwrap();
        search.send_keys(format!("r{m}")).await.unwrap();
        search.send_keys(Key::Enter).await.unwrap();
        wait_until_url(&br, &format!("/record/{m}")).await;
        let search = br.find(By::Name("q")).await.unwrap();
        search.send_keys("not a thing").await.unwrap();
        search.send_keys(Key::Enter).await.unwrap();
        assert!(text("message").await.contains("not a block number"));
        br.screenshot(&shots.join("bad-search.png")).await.unwrap();
        br.quit().await.unwrap();
    });
    println!("screenshots in {}", shots.display());
}

async fn wait_until_url(br: &WebDriver, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let url = br.current_url().await.unwrap();
        if url.path() == path {
            return;
        }
        assert!(Instant::now() < deadline, "still at {url}, expected {path}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
