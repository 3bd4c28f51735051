//! Deterministic simulations of the native modules on a 4-validator network (the harness
//! of `simulation.rs`): in-block inference gives identical blocks on every validator, and a
//! provenance record's blob is fetched from peers before its transaction is admitted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod sim;
mod support;

use alloy_primitives::{Address, B256};
use rand::RngExt as _;
use sim::*;
use std::{path::PathBuf, time::Duration};

/// Sign a call from dev account `account` to `to` and submit it to node `node`.
async fn send(
    net: &mut Net,
    account: usize,
    node: usize,
    to: Address,
    input: Vec<u8>,
) -> Result<B256, verai_node::NodeError> {
    let raw = support::sign_with(
        &net.accounts[account],
        1337,
        net.nonces[account],
        Some(to),
        0,
        input,
        8_000_000,
    );
    let hash = net.core(node).unwrap().submit_raw(&raw).await?;
    net.nonces[account] += 1;
    net.accepted.push(hash);
    net.submitted_to.push(node);
    Ok(hash)
}

/// In-block inference on four validators: two models registered, then inferences on each
/// through random nodes. Every validator runs every model inside block execution; the
/// blocks (and so the state roots and receipts) must be identical everywhere.
#[test]
fn inference_is_identical_on_every_validator() {
    use alloy_sol_types::SolCall as _;
    use verai_inference_module::{ADDRESS, IInference};
    for_seeds("inference_is_identical_on_every_validator", 2, |seed| {
        let repo = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
            .join("../..");
        let models: Vec<Vec<u8>> = ["models/demand_forecast.onnx", "models/cnn_small.onnx"]
            .iter()
            .map(|m| std::fs::read(repo.join(m)).unwrap())
            .collect();
        simulate(seed, |context, dir| async move {
            let mut net = Net::started(&context, &dir, seed, link(10, 3, 100), 1).await;
            for (i, onnx) in models.iter().enumerate() {
                let call = IInference::registerModelCall {
                    onnx: onnx.clone().into(),
                    uri: String::new(),
                    license: "MIT".into(),
                    parents: vec![],
                };
                send(&mut net, i, i, ADDRESS, call.abi_encode())
                    .await
                    .unwrap();
            }
            assert!(
                net.wait_included(&context, &all(), Duration::from_secs(60))
                    .await
            );
            // Models 1 and 2 (provenance ids, in submission order per sender): 8 and 256
            // inputs.
            for k in 0..12u32 {
                let (model, len) = if k % 2 == 0 { (1u64, 8) } else { (2, 256) };
                let x: Vec<u8> = (0..len)
                    .flat_map(|j| ((j as f32 * 0.37 + k as f32).sin()).to_le_bytes())
                    .collect();
                let call = IInference::inferRawCall {
                    modelId: model,
                    input: x.into(),
                };
                let node = net.rng.random_range(0..N);
                send(
                    &mut net,
                    2 + (k as usize % 6),
                    node,
                    ADDRESS,
                    call.abi_encode(),
                )
                .await
                .unwrap();
            }
            assert!(
                net.wait_included(&context, &all(), Duration::from_secs(60))
                    .await,
                "inferences not finalized"
            );
            net.check_safety();
            // Every transaction succeeded, on every node alike.
            let core = net.core(0).unwrap();
            let statuses: Vec<bool> = (1..=core.latest())
                .flat_map(|h| core.receipt_statuses(h).unwrap().unwrap())
                .collect();
            assert_eq!(statuses.len(), 14);
            assert!(statuses.iter().all(|s| *s), "{statuses:?}");
            net.stop_all();
        });
    });
}

/// A dataset record whose URI names a blob that only validator 0 holds, submitted to
/// validator 2: node 2 fetches the blob from its peers before admitting the transaction
/// (and the nodes it gossips to fetch it too); a record naming a blob no node holds is
/// refused and changes nothing.
#[test]
fn record_blobs_are_fetched_from_peers_before_admission() {
    use alloy_sol_types::SolCall as _;
    use verai_provenance::{ADDRESS, IProvenance};
    for_seeds(
        "record_blobs_are_fetched_from_peers_before_admission",
        2,
        |seed| {
            simulate(seed, |context, dir| async move {
                let mut net = Net::started(&context, &dir, seed, link(10, 3, 100), 1).await;
                let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
                let store0 = net.core(0).unwrap().blobs().unwrap();
                let (hash, _) = store0.put(&data[..]).unwrap();
                let hash = B256::from(hash);
                for i in 1..N {
                    assert!(!net.core(i).unwrap().blobs().unwrap().contains(&hash.0));
                }
                let register = |hash: B256| IProvenance::registerCall {
                    kind: 0,
                    contentHash: hash,
                    uri: format!("blob:{hash}#sample.bin"),
                    license: "CC-BY-4.0".into(),
                    contributors: vec![],
                    parents: vec![],
                };
                send(&mut net, 0, 2, ADDRESS, register(hash).abi_encode())
                    .await
                    .expect("admitted once the blob is fetched");
                let fetched = net.core(2).unwrap().blobs().unwrap().get(&hash.0).unwrap();
                assert_eq!(
                    fetched.as_deref(),
                    Some(&data[..]),
                    "node 2 holds the bytes"
                );
                assert!(
                    net.wait_included(&context, &all(), Duration::from_secs(60))
                        .await
                );
                // The nodes that got the transaction by gossip fetched the blob as well.
                for i in 0..N {
                    assert!(
                        net.core(i).unwrap().blobs().unwrap().contains(&hash.0),
                        "node {i} lacks the blob"
                    );
                }

                // No node holds this one: refused (every peer says so), nothing pooled.
                let nobody = B256::repeat_byte(0xab);
                let nonce = net.nonces[1];
                let pooled = net.core(3).unwrap().pool_len();
                let err = send(&mut net, 1, 3, ADDRESS, register(nobody).abi_encode())
                    .await
                    .expect_err("a record naming a blob nobody has");
                assert!(
                    err.to_string().contains("neither this node nor its peers"),
                    "{err}"
                );
                assert_eq!(net.nonces[1], nonce);
                assert_eq!(net.core(3).unwrap().pool_len(), pooled);

                net.check_safety();
                let core = net.core(1).unwrap();
                let statuses: Vec<bool> = (1..=core.latest())
                    .flat_map(|h| core.receipt_statuses(h).unwrap().unwrap())
                    .collect();
                assert_eq!(statuses, vec![true], "the record was written");
                net.stop_all();
            });
        },
    );
}
