//! Watching a simulated network: how long finalization stalls, sampling while waiting, and
//! the warnings nodes log.

use super::{Ctx, Net};
use commonware_runtime::Clock as _;
use std::{
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

/// The lowest finalized height of some nodes over time, and its longest stall.
pub struct Liveness {
    nodes: Vec<usize>,
    last: u64,
    since: SystemTime,
    pub longest: Duration,
}

impl Liveness {
    pub fn new(context: &Ctx, nodes: &[usize]) -> Self {
        Self {
            nodes: nodes.to_vec(),
            last: 0,
            since: context.current(),
            longest: Duration::ZERO,
        }
    }

    /// Record the heights now; returns the lowest.
    pub fn sample(&mut self, context: &Ctx, net: &Net) -> u64 {
        let now = context.current();
        let lowest = net.min_height(&self.nodes);
        if lowest > self.last {
            (self.last, self.since) = (lowest, now);
        }
        if self.last >= 1 {
            self.longest = self.longest.max(now.duration_since(self.since).unwrap());
        }
        lowest
    }

    /// Assert that the longest stall is within `bound`.
    pub fn check(&self, seed: u64, bound: Duration) {
        assert!(
            self.longest <= bound,
            "seed {seed}: no new finalized height for {:?} (bound {bound:?})",
            self.longest
        );
    }
}

/// Sample every 50 ms (virtual) until `done` returns true; false if `limit` passes first.
pub async fn until(context: &Ctx, limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = context.current() + limit;
    while context.current() < deadline {
        if done() {
            return true;
        }
        context.sleep(Duration::from_millis(50)).await;
    }
    false
}

/// Warnings logged on this thread while the guard lives (the deterministic runtime runs every
/// task on the thread that started it): why nodes refused what they refused.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    pub fn capture() -> (Self, tracing::subscriber::DefaultGuard) {
        let logs = Self::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    /// Lines holding every one of `parts`.
    pub fn count(&self, parts: &[&str]) -> usize {
        let text = String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned();
        text.lines()
            .filter(|l| parts.iter().all(|p| l.contains(p)))
            .count()
    }
}
