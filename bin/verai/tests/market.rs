//! The market end to end on `verai node --dev`, driven by the CLI and `cast`:
//!
//! - dataset A (owner 1) and dataset B (owner 2; contributors 70/30) train model M (owner
//!   3), which passes 40 % of its revenue to its parents;
//! - a Solidity contract pays for 100 in-block inferences of M, and the oracle path is paid
//!   for one more; A's licence is sold once;
//! - after `verai market claim`, every balance moved by exactly what is expected, to the
//!   wei, and one account's earnings verify against the validators' certificate;
//! - a service channel settles the highest of 100 vouchers, refuses it the second time and
//!   refunds the rest after expiry;
//! - bad input is refused with a reason and moves nothing;
//! - the explorer shows the listing and its royalty stack.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use alloy_primitives::{Address, U256, hex};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use common::{Node, fails, ok_json, verai, wait_for};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use verai_market::{IMarket, channel};

/// Price per inference of M: 0.001 VAI.
const PRICE: u128 = 1_000_000_000_000_000;
/// Price of a licence on A: 0.002 VAI.
const LICENCE: u128 = 2_000_000_000_000_000;

struct Worker(Child);
impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn key(s: &PrivateKeySigner) -> String {
    format!("0x{}", hex::encode(s.to_bytes()))
}

fn balance(node: &Node, a: Address) -> U256 {
    node.cast(&["balance", &a.to_string()]).parse().unwrap()
}

/// What a transaction cost its sender in gas.
fn gas_cost(node: &Node, tx: &str) -> U256 {
    let r = node.cast_json(&["receipt", "--json", tx]);
    let n = |k: &str| U256::from(common::quantity(&r[k]));
    n("gasUsed") * n("effectiveGasPrice")
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn royalties_licences_and_channels_end_to_end() {
    common::require_node_tools();
    let explorer_port = common::free_port();
    let node = Node::start_with_args(&["--explorer-port", &explorer_port.to_string()]);
    let rpc = node.rpc_url.clone();
    let keys = verai_primitives::dev_signers(8);
    let (payer, o1, o2, o3, oracle, c1, c2, buyer) = (
        &keys[0], &keys[1], &keys[2], &keys[3], &keys[4], &keys[5], &keys[6], &keys[7],
    );
    let dir = tempfile::tempdir().unwrap();

    // --- Lineage: A (owner 1), B (owner 2, 70/30), M (owner 3) trained on both ---
    let a = ok_json(
        &rpc,
        &[
            "provenance",
            "register-dataset",
            &write(dir.path(), "a.csv", "x,y\n1,2\n"),
            "--license",
            "CC-BY-4.0",
            "--key",
            &key(o1),
        ],
    )["id"]
        .as_u64()
        .unwrap();
    let b = ok_json(
        &rpc,
        &[
            "provenance",
            "register-dataset",
            &write(dir.path(), "b.csv", "x,y\n3,4\n"),
            "--license",
            "CC-BY-4.0",
            "--key",
            &key(o2),
            "--contributor",
            &format!("{}:7000", c1.address()),
            "--contributor",
            &format!("{}:3000", c2.address()),
        ],
    )["id"]
        .as_u64()
        .unwrap();
    let model_file = common::repo_root().join("models/demand_forecast.onnx");
    let m = ok_json(
        &rpc,
        &[
            "model",
            "register",
            model_file.to_str().unwrap(),
            "--name",
            "demand",
            "--license",
            "MIT",
            "--trained-on",
            &a.to_string(),
            "--trained-on",
            &b.to_string(),
            "--key",
            &key(o3),
        ],
    )["modelId"]
        .as_u64()
        .unwrap();

    // A derivative of a no-derivatives dataset is refused, with the reason.
    let nd = ok_json(
        &rpc,
        &[
            "provenance",
            "register-dataset",
            &write(dir.path(), "nd.csv", "secret\n"),
            "--license",
            "CC-BY-ND-4.0",
            "--key",
            &key(o1),
        ],
    )["id"]
        .as_u64()
        .unwrap();
    let e = fails(
        &rpc,
        &[
            "provenance",
            "register-model",
            model_file.to_str().unwrap(),
            "--license",
            "MIT",
            "--trained-on",
            &nd.to_string(),
            "--key",
            &key(o2),
        ],
    );
    assert!(e.contains("forbids derivative works"), "{e}");

    // --- M pays 40 % upstream through every ancestor's stack, and is sold per call ---
    ok_json(
        &rpc,
        &[
            "market",
            "policy",
            &m.to_string(),
            "--upstream-bps",
            "4000",
            "--all-ancestors",
            "--key",
            &key(o3),
        ],
    );
    let per_call = ok_json(
        &rpc,
        &[
            "market",
            "sell",
            &m.to_string(),
            "--kind",
            "per-call",
            "--price",
            &format!("{PRICE}wei"),
            "--key",
            &key(o3),
        ],
    )["id"]
        .as_u64()
        .unwrap();
    let stack = ok_json(&rpc, &["market", "stack", &m.to_string()]);
    assert_eq!(stack["shares"].as_array().unwrap().len(), 4, "{stack}");

    // A's licence: one hour under registered terms.
    let terms = ok_json(
        &rpc,
        &[
            "market",
            "terms",
            "--spdx",
            "CC-BY-4.0",
            "--duration",
            "1h",
            "--key",
            &key(o1),
        ],
    )["termsHash"]
        .as_str()
        .unwrap()
        .to_owned();
    let access = ok_json(
        &rpc,
        &[
            "market",
            "sell",
            &a.to_string(),
            "--kind",
            "access",
            "--price",
            &format!("{LICENCE}wei"),
            "--terms",
            &terms,
            "--key",
            &key(o1),
        ],
    )["id"]
        .as_u64()
        .unwrap();
    // Too little value: refused with the reason, nothing moves.
    let market = verai_market::ADDRESS.to_string();
    let low = node.cast_output(&[
        "send",
        "--private-key",
        &key(buyer),
        &market,
        "buy(uint64)",
        &access.to_string(),
        "--value",
        "1",
    ]);
    assert!(!low.status.success());
    assert!(
        low.stderr
            .contains("the price is 2000000000000000 wei; the call sent 1"),
        "{}",
        low.stderr
    );
    let bought = ok_json(
        &rpc,
        &["market", "buy", &access.to_string(), "--key", &key(buyer)],
    );
    assert!(bought["expiry"].as_u64().unwrap() > 0);
    let grants = ok_json(&rpc, &["market", "grants", "--key", &key(buyer)]);
    assert_eq!(grants[0]["recordId"], a);
    assert_eq!(grants[0]["valid"], true);

    // Private data: served only to its owner and to holders of a current grant.
    let secret = "patient,reading\n1,0.7\n";
    let p = ok_json(
        &rpc,
        &[
            "provenance",
            "register-dataset",
            &write(dir.path(), "p.csv", secret),
            "--license",
            "CC-BY-4.0",
            "--upload",
            "--private",
            "--key",
            &key(o1),
        ],
    )["id"]
        .as_u64()
        .unwrap();
    let hash = alloy_primitives::B256::from(verai_inference::sha256(secret.as_bytes()));
    let public = node.try_call(|c| async move {
        verai_client::api::ProvenanceApiClient::get_blob(&c, hash).await
    });
    assert!(public.unwrap_err().contains("is private"));
    let short = ok_json(
        &rpc,
        &[
            "market",
            "terms",
            "--spdx",
            "CC-BY-4.0",
            "--duration",
            "15s",
            "--key",
            &key(o1),
        ],
    )["termsHash"]
        .as_str()
        .unwrap()
        .to_owned();
    let private_listing = ok_json(
        &rpc,
        &[
            "market",
            "sell",
            &p.to_string(),
            "--kind",
            "access",
            "--price",
            &format!("{LICENCE}wei"),
            "--terms",
            &short,
            "--key",
            &key(o1),
        ],
    )["id"]
        .as_u64()
        .unwrap();
    let out = dir.path().join("fetched.csv");
    let fetch = |who: &PrivateKeySigner| {
        verai(
            &rpc,
            &[
                "market",
                "fetch",
                &p.to_string(),
                "--out",
                out.to_str().unwrap(),
                "--key",
                &key(who),
            ],
        )
    };
    let denied = fetch(buyer);
    assert!(!denied.status.success());
    assert!(
        denied.stderr.contains("nor the holder of a current grant"),
        "{}",
        denied.stderr
    );
    ok_json(
        &rpc,
        &[
            "market",
            "buy",
            &private_listing.to_string(),
            "--key",
            &key(buyer),
        ],
    );
    assert!(fetch(buyer).status.success());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), secret);
    assert!(fetch(o1).status.success(), "the owner reads its own data");

    // --- A contract pays for 100 in-block inferences ---
    let artifact: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::repo_root().join("contracts/out/InferenceBuyer.json"))
            .unwrap(),
    )
    .unwrap();
    let deploy = node.cast_json(&[
        "send",
        "--private-key",
        &key(payer),
        "--json",
        "--create",
        artifact["bytecode"].as_str().unwrap(),
    ]);
    let buyer_contract = deploy["contractAddress"].as_str().unwrap().to_owned();
    let input = "[1000000,1100000,1200000,1200000,1300000,1600000,1500000,0]";
    for _ in 0..4 {
        let tx = node.cast_json(&[
            "send",
            "--private-key",
            &key(payer),
            "--json",
            "--gas-limit",
            "25000000",
            &buyer_contract,
            "run(uint64,int256[],uint256)",
            &m.to_string(),
            input,
            "25",
            "--value",
            &(PRICE * 25).to_string(),
        ]);
        assert_eq!(tx["status"], "0x1", "{tx}");
    }
    assert_eq!(
        node.cast(&["call", &buyer_contract, "runs()(uint256)"]),
        "100"
    );
    // Underpaying inference is refused.
    let under = node.cast_output(&[
        "send",
        "--private-key",
        &key(payer),
        &buyer_contract,
        "run(uint64,int256[],uint256)",
        &m.to_string(),
        input,
        "1",
        "--value",
        "1",
    ]);
    assert!(!under.status.success());

    // --- The oracle path: a hub (quorum 1), one worker, one paid request ---
    let hub = ok_json(
        &rpc,
        &[
            "oracle",
            "deploy",
            "--quorum",
            "1",
            "--timeout-blocks",
            "50",
        ],
    )["hub"]
        .as_str()
        .unwrap()
        .to_owned();
    ok_json(
        &rpc,
        &[
            "oracle",
            "register",
            "--hub",
            &hub,
            "--bond",
            "1",
            "--private-key",
            &key(oracle),
        ],
    );
    let mut c = Command::new(env!("CARGO_BIN_EXE_verai"));
    c.args([
        "oracle",
        "run",
        "--hub",
        &hub,
        "--key",
        &key(oracle),
        "--rpc",
        &rpc,
        "--poll-ms",
        "100",
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .env_remove("RUST_BACKTRACE");
    let _worker = Worker(c.spawn().unwrap());
    let x: Vec<f32> = vec![1.0, 1.1, 1.2, 1.2, 1.3, 1.6, 1.5, 0.0];
    let bytes = format!("0x{}", hex::encode(verai_inference::f32_bytes(&x)));
    let fee = 500_000_000_000_000u128;
    // Less than the model's price is refused by the hub.
    let cheap = node.cast_output(&[
        "send",
        "--private-key",
        &key(payer),
        &hub,
        "requestInference(uint64,bytes,address)",
        &m.to_string(),
        &bytes,
        &Address::ZERO.to_string(),
        "--value",
        "1",
    ]);
    assert!(!cheap.status.success());
    let tx = node.cast_json(&[
        "send",
        "--private-key",
        &key(payer),
        "--json",
        &hub,
        "requestInference(uint64,bytes,address)",
        &m.to_string(),
        &bytes,
        &Address::ZERO.to_string(),
        "--value",
        &(PRICE + fee).to_string(),
    ]);
    assert_eq!(tx["status"], "0x1", "{tx}");
    wait_for("the oracle result", Duration::from_secs(60), || {
        ok_json(&rpc, &["oracle", "status", "1", "--hub", &hub])["status"] == "final"
    });

    // --- Claims: every balance moves by exactly its share ---
    let total = U256::from(PRICE) * U256::from(101u64);
    let pct = |bps: u64| total * U256::from(bps) / U256::from(10_000u64);
    let expected = [
        (o3, pct(6_000)),
        (o1, pct(2_000) + U256::from(2 * LICENCE)),
        (c1, pct(1_400)),
        (c2, pct(600)),
    ];
    let listing = ok_json(&rpc, &["market", "show", &per_call.to_string()]);
    assert_eq!(listing["sales"], 101, "{listing}");
    for (who, want) in expected {
        let e = ok_json(&rpc, &["market", "earnings", &who.address().to_string()]);
        assert_eq!(
            e["claimable"].as_str().map(|s| s.parse::<U256>().unwrap()),
            Some(want),
            "{e}"
        );
        let before = balance(&node, who.address());
        let claimed = ok_json(&rpc, &["market", "claim", "--key", &key(who)]);
        let tx = claimed["transactionHash"].as_str().unwrap();
        let after = balance(&node, who.address());
        assert_eq!(
            after + gas_cost(&node, tx),
            before + want,
            "{} claimed {claimed}",
            who.address()
        );
        // Nothing left; a second claim pays nothing.
        let again = ok_json(&rpc, &["market", "claim", "--key", &key(who)]);
        assert_eq!(again["amount"], "0x0");
    }
    // One account's earnings, verified against the certificate, trusting no node.
    wait_for("finalized claims", Duration::from_secs(30), || {
        let v = ok_json(
            &rpc,
            &["market", "earnings", &o3.address().to_string(), "--verify"],
        );
        v["claimed"].as_str().map(|s| s.parse::<U256>().unwrap()) == Some(pct(6_000))
    });

    // --- A service: 100 vouchers, one claim, a replay refused, a refund after expiry ---
    let service = ok_json(
        &rpc,
        &[
            "market",
            "sell",
            &m.to_string(),
            "--kind",
            "service",
            "--endpoint",
            "http://127.0.0.1:9/v1",
            "--method",
            "predict:0.0001:3",
            "--key",
            &key(o3),
        ],
    )["id"]
        .as_u64()
        .unwrap();
    let client_key = PrivateKeySigner::random();
    node.cast(&[
        "send",
        "--private-key",
        &key(payer),
        &client_key.address().to_string(),
        "--value",
        "1000000000000000000",
    ]);
    let opened = ok_json(
        &rpc,
        &[
            "market",
            "channel",
            "open",
            &service.to_string(),
            "--deposit",
            "0.05",
            "--expires-in",
            "20",
            "--key",
            &key(&client_key),
        ],
    );
    let ch = opened["channel"].as_u64().unwrap();
    let per = U256::from(100_000_000_000_000u64);
    let vouchers: Vec<(u64, U256, String)> = (1..=100u64)
        .map(|n| {
            let v = IMarket::Voucher {
                channelId: ch,
                amount: per * U256::from(n),
                nonce: n,
            };
            let sig = client_key
                .sign_hash_sync(&channel::voucher_hash(&v, 1337))
                .unwrap();
            (n, v.amount, format!("0x{}", hex::encode(sig.as_bytes())))
        })
        .collect();
    // The CLI signs the same voucher bytes for the last call.
    let cli = ok_json(
        &rpc,
        &[
            "market",
            "channel",
            "call",
            &ch.to_string(),
            "--amount",
            &format!("{}wei", vouchers[99].1),
            "--nonce",
            "100",
            "--key",
            &key(&client_key),
        ],
    );
    assert_eq!(cli["signature"], vouchers[99].2.as_str());
    let (n, amount, sig) = &vouchers[99];
    let claim = |args: &[&str]| verai(&rpc, args);
    let paid = ok_json(
        &rpc,
        &[
            "market",
            "channel",
            "claim",
            &ch.to_string(),
            "--amount",
            &amount.to_string(),
            "--nonce",
            &n.to_string(),
            "--signature",
            sig,
            "--key",
            &key(o3),
        ],
    );
    assert_eq!(
        paid["paid"].as_str().unwrap().parse::<U256>().unwrap(),
        *amount
    );
    let replay = claim(&[
        "market",
        "channel",
        "claim",
        &ch.to_string(),
        "--amount",
        &amount.to_string(),
        "--nonce",
        &n.to_string(),
        "--signature",
        sig,
        "--key",
        &key(o3),
    ]);
    assert!(!replay.status.success());
    assert!(
        replay
            .stderr
            .contains("is not above the last claimed nonce"),
        "{}",
        replay.stderr
    );
    // Closing early is the client's to wait for; after expiry it gets the rest.
    let early = fails(
        &rpc,
        &[
            "market",
            "channel",
            "close",
            &ch.to_string(),
            "--key",
            &key(&client_key),
        ],
    );
    assert!(early.contains("may close it only after"), "{early}");
    std::thread::sleep(Duration::from_secs(21));
    // The 15-second grant on the private dataset has expired by now.
    let expired = fetch(buyer);
    assert!(
        !expired.status.success(),
        "an expired grant still opened the data"
    );
    let closed = ok_json(
        &rpc,
        &[
            "market",
            "channel",
            "close",
            &ch.to_string(),
            "--key",
            &key(&client_key),
        ],
    );
    let refund = closed["refund"].as_str().unwrap().parse::<U256>().unwrap();
    assert_eq!(refund, U256::from(50_000_000_000_000_000u128) - *amount);

    // --- The explorer shows the listing and its stack ---
    let explorer = std::net::SocketAddr::from(([127, 0, 0, 1], explorer_port));
    let (status, page) = common::http(explorer, &format!("/listing/{per_call}"), None).unwrap();
    assert_eq!(status, 200);
    assert!(
        page.contains("Royalty stack of record") && page.contains(&o3.address().to_string()),
        "{page}"
    );
    let (status, page) = common::http(explorer, "/market?kind=per-call", None).unwrap();
    assert_eq!(status, 200);
    assert!(page.contains(&format!("/listing/{per_call}")), "{page}");
}
