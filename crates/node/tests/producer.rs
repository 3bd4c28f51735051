//! Block production settings on a running dev node.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::json;
use std::time::{Duration, Instant};
use support::*;
use verai_node::ProducerConfig;

/// With a minimum interval, a transaction sent right after a block waits for the interval
/// to pass since that block was built. (That an idle node builds at once is not asserted:
/// it is a bound on speed, which a loaded CI machine does not keep.)
#[test]
fn min_interval_spaces_blocks_under_load() {
    let dir = tempfile::tempdir().unwrap();
    let producer = ProducerConfig {
        min_interval: Duration::from_secs(2),
        ..Default::default()
    };
    with_node_config(dir.path(), None, producer, |addr| async move {
        tokio::task::spawn_blocking(move || {
            let to = Some(alloy_primitives::Address::repeat_byte(0x22));
            let first = ok(
                addr,
                "eth_sendRawTransaction",
                json!([signed(0, 0, to, 1, vec![], 21_000)]),
            );
            let r1 = receipt(addr, &first);
            // Seen final a little after it was built, so the next block, built at least 2 s
            // after this one, is seen at least 2 s minus that lag later (0.5 s is left for
            // a loaded machine; without the interval the gap is about 0.8 s).
            let seen = Instant::now();
            let second = ok(
                addr,
                "eth_sendRawTransaction",
                json!([signed(0, 1, to, 1, vec![], 21_000)]),
            );
            let r2 = receipt(addr, &second);
            let gap = seen.elapsed();
            assert!(qty(&r2["blockNumber"]) > qty(&r1["blockNumber"]));
            assert!(
                gap >= Duration::from_millis(1_500),
                "next block after {gap:?}"
            );
        })
        .await
        .unwrap();
    });
}
