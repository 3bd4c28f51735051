//! The node's limits on what one client may do, end to end on `verai node --dev`: blob
//! writes bounded per client (bytes per hour) unless the request carries a token signed
//! with the node's JWT secret, the blob store bounded in total whoever writes, and
//! subscriptions bounded per WebSocket connection. Request size and batch size are in
//! `crates/node/tests/rpc_errors.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use alloy_primitives::Bytes;
use common::Node;
use verai_client::{
    Client,
    api::{EthPubSubApiClient, ProvenanceApiClient},
};

/// Disk used by the files under `dir`.
fn du(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            total += du(&e.path());
        } else {
            total += e.metadata().unwrap().len();
        }
    }
    total
}

fn blob(tag: u8) -> Bytes {
    // 400 KiB of distinct content.
    let mut b = vec![tag; 400 * 1024];
    b[0] = tag;
    b[1] = 0xb1;
    b.into()
}

#[test]
fn blob_quotas_tokens_and_subscriptions() {
    common::require_node_tools();
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("jwt.hex");
    std::fs::write(&secret_file, "42".repeat(32)).unwrap();
    let datadir = dir.path().join("data");
    let node = Node::start_in_with_args(
        Some(&datadir),
        &[
            "--blob-quota-mb",
            "1",
            "--blob-store-mb",
            "2",
            "--rpc-jwt-secret",
            secret_file.to_str().unwrap(),
        ],
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let anon = Client::connect(&node.rpc_url).unwrap();
        // Two 400 KiB blobs fit the 1 MiB hourly quota; the third does not.
        anon.put_blob(blob(1)).await.unwrap();
        anon.put_blob(blob(2)).await.unwrap();
        let e = anon.put_blob(blob(3)).await.unwrap_err().to_string();
        assert!(e.contains("blob quota exceeded"), "{e}");
        assert!(e.contains("-32005") || e.contains("quota"), "{e}");
        let e = anon
            .put_private_blob(blob(4))
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("blob quota exceeded"), "{e}");
        assert!(
            du(&datadir.join("blobs")) <= 1024 * 1024,
            "the quota bounds the disk"
        );

        // A token made with another secret changes nothing; the node's lifts the quota.
        let wrong = Client::connect_with(&node.rpc_url, Some(&[7u8; 32])).unwrap();
        assert!(wrong.put_blob(blob(5)).await.is_err());
        let secret = verai_client::api::auth::parse_secret(&"42".repeat(32)).unwrap();
        let authed = Client::connect_with(&node.rpc_url, Some(&secret)).unwrap();
        authed.put_blob(blob(6)).await.unwrap();
        authed.put_blob(blob(7)).await.unwrap();
        // The store's 2 MiB bound holds for everyone.
        authed.put_blob(blob(8)).await.unwrap();
        let e = authed.put_blob(blob(9)).await.unwrap_err().to_string();
        assert!(e.contains("blob store is full"), "{e}");
        assert!(du(&datadir.join("blobs")) <= 2 * 1024 * 1024);
        // Reads are not limited by the write quota.
        let got = anon
            .get_blob(alloy_primitives::B256::from(verai_inference::sha256(
                &blob(1),
            )))
            .await
            .unwrap();
        assert_eq!(got.unwrap(), blob(1));

        // 64 subscriptions per WebSocket connection; the 65th is refused, the others live.
        let ws_url = node.rpc_url.replace("http://", "ws://");
        let ws = verai_client::connect_ws(&ws_url).await.unwrap();
        let mut subs = Vec::new();
        for _ in 0..64 {
            subs.push(ws.eth_subscribe("newHeads".into(), None).await.unwrap());
        }
        let e = ws
            .eth_subscribe("newHeads".into(), None)
            .await
            .expect_err("a 65th subscription");
        assert!(!e.to_string().is_empty());
        drop(subs);
    });
}

#[test]
fn keys_are_stored_encrypted_and_sign_with_their_password() {
    common::require_node_tools();
    let node = Node::start();
    let rpc = node.rpc_url.clone();
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("password");
    std::fs::write(&pw, "correct horse battery staple\n").unwrap();
    let keys = dir.path().join("keys");
    // `verai keys` works offline: no --rpc.
    let offline = |args: &[&str]| -> serde_json::Value {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_verai"));
        c.args(args).arg("--json").env_remove("RUST_BACKTRACE");
        let out = common::run_with_timeout(&mut c, common::command_timeout());
        assert!(out.status.success(), "verai {args:?}: {}", out.stderr);
        serde_json::from_str(out.stdout.trim()).unwrap()
    };
    let made = offline(&[
        "keys",
        "new",
        "--dir",
        keys.to_str().unwrap(),
        "--password-file",
        pw.to_str().unwrap(),
    ]);
    let address = made["address"].as_str().unwrap().to_owned();
    let file = made["keystore"].as_str().unwrap().to_owned();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("\"crypto\"") && text.contains("scrypt"),
        "{text}"
    );
    // Fund it, then spend from it with the password; a wrong one is refused.
    node.cast(&[
        "send",
        "--private-key",
        common::DEV_KEY_0,
        &address,
        "--value",
        "1000000000000000000",
    ]);
    let sent = common::ok_json(
        &rpc,
        &[
            "send",
            "--to",
            common::DEV_ADDR_1,
            "--value",
            "0.25",
            "--keystore",
            &file,
            "--password-file",
            pw.to_str().unwrap(),
        ],
    );
    let tx = sent["transactionHash"].as_str().unwrap();
    let receipt = node.cast_json(&["receipt", "--json", tx]);
    assert_eq!(
        receipt["from"].as_str().unwrap().to_lowercase(),
        address.to_lowercase()
    );
    let bad = dir.path().join("bad");
    std::fs::write(&bad, "wrong").unwrap();
    let e = common::fails(
        &rpc,
        &[
            "send",
            "--to",
            common::DEV_ADDR_1,
            "--value",
            "0.25",
            "--keystore",
            &file,
            "--password-file",
            bad.to_str().unwrap(),
        ],
    );
    assert!(e.contains("wrong password"), "{e}");
    let listed = offline(&["keys", "list", "--dir", keys.to_str().unwrap()]);
    assert_eq!(
        listed["keys"][0]["address"]
            .as_str()
            .unwrap()
            .to_lowercase(),
        address.to_lowercase()
    );
}
