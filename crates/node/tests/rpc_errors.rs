//! Bad input gets an EIP-1474 error and the node keeps serving.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::json;
use support::*;

#[test]
fn bad_input_is_refused_with_eip1474_codes() {
    let dir = tempfile::tempdir().unwrap();
    with_node(dir.path(), |addr| async move {
        tokio::task::spawn_blocking(move || {
            let to = Some(alloy_primitives::Address::repeat_byte(0x11));
            // Every wire name clients use in batches and tests is a served method: an unknown
            // one would be -32601.
            for name in verai_rpc::api::wire::ALL {
                let r = call(addr, name, json!([{ "bad": [] }, "nonsense", 7]));
                assert_ne!(r["error"]["code"], -32601, "{name} is not served: {r}");
            }
            // Malformed RLP.
            let name = verai_rpc::api::wire::SEND_RAW_TRANSACTION;
            let (code, msg) = err_code(addr, name, json!(["0x02f8deadbeef"]));
            assert_eq!(code, -32602, "{msg}");
            // Bad signature: flip a byte inside the signature's r value.
            let mut raw = signed(0, 0, to, 1, vec![], 21_000).to_vec();
            let n = raw.len();
            raw[n - 40] ^= 0xff;
            let (code, msg) = err_code(
                addr,
                "eth_sendRawTransaction",
                json!([alloy_primitives::hex::encode_prefixed(&raw)]),
            );
            assert!(
                code == -32602 || code == -32000,
                "bad signature: {code} {msg}"
            );
            // Wrong chain id.
            let s = &verai_primitives::dev_signers(1)[0];
            let raw = sign_with(s, 1, 0, to, 1, vec![], 21_000);
            let (code, msg) = err_code(addr, "eth_sendRawTransaction", json!([raw]));
            assert_eq!(code, -32000, "{msg}");
            assert!(msg.contains("chain id"), "{msg}");
            // Insufficient funds: a fresh key with no balance.
            let poor = alloy_signer_local::PrivateKeySigner::random();
            let raw = sign_with(&poor, 1337, 0, to, 1, vec![], 21_000);
            let (code, msg) = err_code(addr, "eth_sendRawTransaction", json!([raw]));
            assert_eq!(code, -32000);
            assert!(msg.contains("insufficient funds"), "{msg}");
            // Gas above the block limit.
            let raw = signed(0, 0, to, 1, vec![], 31_000_000);
            let (code, msg) = err_code(addr, "eth_sendRawTransaction", json!([raw]));
            assert_eq!(code, -32000);
            assert!(msg.contains("gas limit"), "{msg}");
            // Nonce too low: include nonce 0, then send another nonce 0.
            let hash = ok(
                addr,
                "eth_sendRawTransaction",
                json!([signed(0, 0, to, 1, vec![], 21_000)]),
            );
            receipt(addr, &hash);
            let (code, msg) = err_code(
                addr,
                "eth_sendRawTransaction",
                json!([signed(0, 0, to, 2, vec![], 21_000)]),
            );
            assert_eq!(code, -32000);
            assert!(msg.contains("nonce too low"), "{msg}");
            // Unknown method.
            let (code, _) = err_code(addr, "eth_noSuchMethod", json!([]));
            assert_eq!(code, -32601);
            // Wrong params.
            let (code, _) = err_code(addr, "eth_getBalance", json!(["not-an-address", "latest"]));
            assert_eq!(code, -32602);
            let (code, _) = err_code(addr, "eth_getBlockByNumber", json!([]));
            assert_eq!(code, -32602);
            // Malformed JSON.
            let (_, body) = post_raw(addr, b"{\"jsonrpc\":\"2.0\",");
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["error"]["code"], -32700);
            // Oversized body (over the 5 MiB limit).
            let big = format!(
                "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[\"{}\"]}}",
                "a".repeat(6 * 1024 * 1024)
            );
            let (status, body) = post_raw(addr, big.as_bytes());
            assert!(
                status == 413 || body.contains("-32007") || body.contains("too big"),
                "oversized: {status} {body}"
            );
            // A batch is answered call by call; one over the 1,000-call limit is refused.
            let call = |id: usize| json!({"jsonrpc": "2.0", "id": id, "method": "eth_chainId"});
            let (_, body) = post_raw(addr, json!([call(1), call(2)]).to_string().as_bytes());
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            let replies = v.as_array().unwrap();
            let mut ids: Vec<_> = replies.iter().filter_map(|r| r["id"].as_u64()).collect();
            ids.sort_unstable();
            assert_eq!(ids, [1, 2], "{body}");
            assert!(replies.iter().all(|r| r["result"] == "0x539"), "{body}");
            let big: Vec<_> = (0..1_001).map(call).collect();
            let (_, body) = post_raw(addr, json!(big).to_string().as_bytes());
            assert!(
                body.contains("-32010") || body.contains("too large") || body.contains("exceeded"),
                "oversized batch: {body}"
            );
            // The node still serves and still produces blocks.
            assert_eq!(ok(addr, "eth_chainId", json!([])), json!("0x539"));
            let hash = ok(
                addr,
                "eth_sendRawTransaction",
                json!([signed(0, 1, to, 1, vec![], 21_000)]),
            );
            assert_eq!(receipt(addr, &hash)["status"], json!("0x1"));
        })
        .await
        .unwrap();
    });
}

#[test]
fn reverts_carry_code_3_and_data() {
    let dir = tempfile::tempdir().unwrap();
    with_node(dir.path(), |addr| async move {
        tokio::task::spawn_blocking(move || {
            // Init code that reverts with empty data: PUSH1 0 PUSH1 0 REVERT.
            let (code, msg) = err_code(
                addr,
                "eth_call",
                json!([{ "data": "0x60006000fd" }, "latest"]),
            );
            assert_eq!(code, 3, "{msg}");
            let (code, _) = err_code(addr, "eth_estimateGas", json!([{ "data": "0x60006000fd" }]));
            assert_eq!(code, 3);
            // Historical state is refused clearly.
            let (code, msg) = err_code(
                addr,
                "eth_getBalance",
                json!(["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "0x99"]),
            );
            assert_eq!(code, -32001, "{msg}");
        })
        .await
        .unwrap();
    });
}
