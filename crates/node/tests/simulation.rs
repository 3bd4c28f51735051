//! Deterministic simulations of a 4-validator Verai network: the real node (execution,
//! QMDB, redb index, pool, gossip, genesis handshake) on Commonware's deterministic runtime
//! and simulated p2p network, seeded and bounded in virtual time.
//!
//! Each scenario runs over `VERAI_SIM_SEEDS` seeds (default: a few, to fit CI; set it to
//! thousands on demand), or over the one seed in `VERAI_SIM_SEED` to replay a failure. A
//! failing run prints its seed and the command that replays it.
//!
//! Invariants checked after every run:
//! - safety: at every height, all nodes that have it hold the same block (hash, so the same
//!   state root) and no node halted on a state-root mismatch;
//! - every accepted transaction is in exactly one finalized block;
//! - liveness where the scenario allows it: all nodes reach the target height.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod sim;
mod support;

use alloy_primitives::B256;
use commonware_runtime::{Clock as _, Runner as _, deterministic};
use rand::RngExt as _;
use sim::*;
use std::time::Duration;

#[test]
fn healthy_network_agrees_at_every_height() {
    for_seeds("healthy_network_agrees_at_every_height", 3, |seed| {
        simulate(seed, |context, dir| async move {
            let mut net = Net::started(&context, &dir, seed, link(10, 3, 100), 1).await;
            for _ in 0..5 {
                net.submit(20, &all()).await;
                context.sleep(Duration::from_millis(300)).await;
            }
            assert!(
                net.wait_included(&context, &all(), Duration::from_secs(60))
                    .await,
                "transactions not finalized"
            );
            net.check_safety();
            net.check_all_included();
            net.stop_all();
        });
    });
}

#[test]
fn one_crashed_validator_does_not_stop_the_others() {
    for_seeds(
        "one_crashed_validator_does_not_stop_the_others",
        3,
        |seed| {
            simulate(seed, |context, dir| async move {
                let mut net = Net::started(&context, &dir, seed, link(10, 3, 100), 2).await;
                let victim = (seed % N as u64) as usize;
                net.crash(victim);
                let rest: Vec<usize> = all().into_iter().filter(|&i| i != victim).collect();
                let h = net.min_height(&rest);
                net.submit(30, &rest).await;
                assert!(
                    net.wait_height(&context, &rest, h + 5, Duration::from_secs(60))
                        .await,
                    "three validators stopped finalizing"
                );
                assert!(
                    net.wait_included(&context, &rest, Duration::from_secs(60))
                        .await
                );
                net.check_safety();
                net.check_all_included();
                net.stop_all();
            });
        },
    );
}

#[test]
fn crashed_validator_restarts_from_storage_and_catches_up() {
    for_seeds(
        "crashed_validator_restarts_from_storage_and_catches_up",
        2,
        |seed| {
            simulate(seed, |context, dir| async move {
                let mut net = Net::new(&context, &dir, seed, link(10, 3, 100)).await;
                for i in 0..N {
                    net.start(&context, i).await;
                }
                net.submit(20, &all()).await;
                assert!(
                    net.wait_height(&context, &all(), 3, Duration::from_secs(30))
                        .await
                );
                // Crash in the middle of work: transactions are in flight.
                let victim = (seed % N as u64) as usize;
                net.submit(20, &all()).await;
                let jitter = net.rng.random_range(0..200);
                context.sleep(Duration::from_millis(jitter)).await;
                net.crash(victim);
                let rest: Vec<usize> = all().into_iter().filter(|&i| i != victim).collect();
                net.submit(20, &rest).await;
                let h = net.min_height(&rest) + 8;
                assert!(
                    net.wait_height(&context, &rest, h, Duration::from_secs(60))
                        .await
                );
                net.start(&context, victim).await;
                assert!(
                    net.wait_height(&context, &all(), h + 2, Duration::from_secs(120))
                        .await,
                    "restarted validator did not catch up"
                );
                assert!(
                    net.wait_included(&context, &all(), Duration::from_secs(60))
                        .await
                );
                net.check_safety();
                net.check_all_included();
                net.stop_all();
            });
        },
    );
}

#[test]
fn partition_two_two_halts_safely_and_heals() {
    for_seeds("partition_two_two_halts_safely_and_heals", 2, |seed| {
        simulate(seed, |context, dir| async move {
            let healthy = link(10, 3, 100);
            let mut net = Net::new(&context, &dir, seed, healthy.clone()).await;
            for i in 0..N {
                net.start(&context, i).await;
            }
            assert!(
                net.wait_height(&context, &all(), 2, Duration::from_secs(30))
                    .await
            );
            let (left, right) = ([0, 1], [2, 3]);
            net.set_links(&left, &right, None).await;
            net.set_links(&right, &left, None).await;
            // Let in-flight views settle, then nothing may finalize on either side.
            context.sleep(Duration::from_secs(3)).await;
            let before: Vec<u64> = all()
                .iter()
                .map(|&i| net.core(i).unwrap().latest())
                .collect();
            net.submit(10, &left).await;
            net.submit(10, &right).await;
            context.sleep(Duration::from_secs(20)).await;
            let during: Vec<u64> = all()
                .iter()
                .map(|&i| net.core(i).unwrap().latest())
                .collect();
            assert_eq!(before, during, "a minority side finalized a block");
            net.check_safety();
            net.set_links(&left, &right, Some(healthy.clone())).await;
            net.set_links(&right, &left, Some(healthy)).await;
            let top = *during.iter().max().unwrap();
            assert!(
                net.wait_height(&context, &all(), top + 3, Duration::from_secs(120))
                    .await,
                "no progress after healing"
            );
            assert!(
                net.wait_included(&context, &all(), Duration::from_secs(60))
                    .await
            );
            net.check_safety();
            net.check_all_included();
            net.stop_all();
        });
    });
}

#[test]
fn slow_lossy_links_stay_safe_and_live() {
    for_seeds("slow_lossy_links_stay_safe_and_live", 2, |seed| {
        simulate(seed, |context, dir| async move {
            // 80-200 ms links that drop a fifth of the messages.
            let mut net = Net::new(&context, &dir, seed, link(140, 60, 80)).await;
            for i in 0..N {
                net.start(&context, i).await;
            }
            assert!(
                net.wait_height(&context, &all(), 1, Duration::from_secs(120))
                    .await,
                "lossy network did not start"
            );
            for _ in 0..4 {
                net.submit(10, &all()).await;
                context.sleep(Duration::from_secs(1)).await;
            }
            assert!(
                net.wait_included(&context, &all(), Duration::from_secs(240))
                    .await,
                "lossy network did not finalize the transactions"
            );
            net.check_safety();
            net.check_all_included();
            net.stop_all();
        });
    });
}

#[test]
fn whole_network_power_loss_recovers_from_storage() {
    for_seeds(
        "whole_network_power_loss_recovers_from_storage",
        1,
        |seed| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().to_path_buf();
            let config = deterministic::Config::new()
                .with_seed(seed)
                .with_timeout(Some(Duration::from_secs(600)));
            // Run, then crash every node at once (unsynced writes resolved by the runtime).
            let (before, checkpoint) = deterministic::Runner::new(config).start_and_recover({
                let path = path.clone();
                |context| async move {
                    let mut net = Net::new(&context, &path, seed, link(10, 3, 100)).await;
                    for i in 0..N {
                        net.start(&context, i).await;
                    }
                    net.submit(40, &all()).await;
                    assert!(
                        net.wait_included(&context, &all(), Duration::from_secs(60))
                            .await
                    );
                    net.check_safety();
                    let blocks: Vec<B256> = {
                        let core = net.core(0).unwrap();
                        (0..=core.latest())
                            .map(|h| core.block(h).unwrap().unwrap().hash())
                            .collect()
                    };
                    let accepted = net.accepted.clone();
                    net.stop_all();
                    (blocks, accepted)
                }
            });
            deterministic::Runner::from(checkpoint).start(|context| async move {
                let mut net = Net::new(&context, &path, seed + 1, link(10, 3, 100)).await;
                net.accepted = before.1.clone();
                // Dev accounts continue from their stored nonces.
                for i in 0..N {
                    net.start(&context, i).await;
                }
                let target = before.0.len() as u64 + 2;
                assert!(
                    net.wait_height(&context, &all(), target, Duration::from_secs(120))
                        .await,
                    "network did not resume after the crash"
                );
                let core = net.core(0).unwrap();
                for (h, hash) in before.0.iter().enumerate() {
                    assert_eq!(
                        core.block(h as u64).unwrap().unwrap().hash(),
                        *hash,
                        "history changed"
                    );
                }
                for (a, s) in net.accounts.iter().enumerate() {
                    net.nonces[a] = core.account(&s.address()).unwrap().nonce;
                }
                drop(core);
                net.submit(10, &all()).await;
                assert!(
                    net.wait_included(&context, &all(), Duration::from_secs(60))
                        .await
                );
                net.check_safety();
                net.check_all_included();
                net.stop_all();
            });
            drop(dir);
        },
    );
}
