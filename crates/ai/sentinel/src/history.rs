//! The anomaly detector's training history: the features of recent finalized transactions,
//! at most [`PER_SECOND`] rows per second of chain time and [`TX_HISTORY`] in all.
//!
//! Each second's rows are a uniform sample of that second's transactions (reservoir
//! sampling, seeded: the same blocks give the same history). A chain below `PER_SECOND`
//! transactions a second keeps every row. Why a cap per second: a loaded node finalizes
//! thousands of transactions a second, and a history of the last `TX_HISTORY` of them
//! spanned about a second and a half. Its time features ("seconds since last send") were
//! then nearly constant, and a forest fitted on it found the first transactions of each new
//! second novel (about 500 false alerts per throughput bench run). With the cap, the
//! history spans at least `TX_HISTORY / PER_SECOND` = 64 seconds, and no burst (or
//! spammer) fills more than its share of it.
//!
//! The current second's sample is history at once; it is final when a block of a later
//! second arrives.

use crate::features::TxFeatures;
use crate::rng::SplitMix64;
use std::collections::VecDeque;

/// Rows kept for refitting the anomaly detector.
pub const TX_HISTORY: usize = 8192;

/// Rows kept per second of chain time (block timestamps), at most.
pub const PER_SECOND: usize = 128;

/// The history. Invariant: `past.len() + current.len() <= TX_HISTORY` and
/// `current.len() <= PER_SECOND`.
#[derive(Debug, Clone)]
pub struct TxHistory {
    /// Rows of seconds before `second`, oldest first.
    past: VecDeque<TxFeatures>,
    /// The sample of `second`'s transactions.
    current: Vec<TxFeatures>,
    /// The second being sampled.
    second: Option<u64>,
    /// Transactions of `second` seen so far.
    seen: u64,
    rng: SplitMix64,
    /// Rows added so far (a replacement in a full sample adds none).
    added: u64,
}

impl Default for TxHistory {
    fn default() -> Self {
        Self {
            past: VecDeque::new(),
            current: Vec::new(),
            second: None,
            seen: 0,
            rng: SplitMix64::new(0x5e47_1e17),
            added: 0,
        }
    }
}

impl TxHistory {
    /// Offers the features of a transaction finalized at `second` (non-decreasing; a
    /// different second than the last starts a new sample).
    pub fn push(&mut self, second: u64, row: TxFeatures) {
        if self.second != Some(second) {
            self.past.extend(self.current.drain(..));
            self.second = Some(second);
            self.seen = 0;
        }
        self.seen += 1;
        if self.current.len() < PER_SECOND {
            if self.past.len() + self.current.len() == TX_HISTORY {
                self.past.pop_front();
            }
            self.current.push(row);
            self.added += 1;
        } else {
            // Algorithm R: the k-th row replaces a random one with probability PER_SECOND/k.
            let j = self.rng.below(self.seen);
            if let Some(slot) = usize::try_from(j)
                .ok()
                .and_then(|j| self.current.get_mut(j))
            {
                *slot = row;
            }
        }
    }

    /// The rows, oldest second first.
    pub fn iter(&self) -> impl Iterator<Item = &TxFeatures> {
        self.past.iter().chain(self.current.iter())
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.past.len() + self.current.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Rows added since the history began: a refit schedule counts new rows with it.
    pub fn added(&self) -> u64 {
        self.added
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::N_TX;

    fn row(i: usize) -> TxFeatures {
        [i as f64; N_TX]
    }

    #[test]
    fn a_quiet_chain_keeps_every_row_in_order() {
        let mut h = TxHistory::default();
        for i in 0..300 {
            h.push(i as u64 / 3, row(i));
        }
        let got: Vec<f64> = h.iter().map(|r| r[0]).collect();
        assert_eq!(got, (0..300).map(|i| i as f64).collect::<Vec<_>>());
        assert_eq!(h.added(), 300);
    }

    #[test]
    fn a_busy_second_keeps_a_uniform_sample_and_the_total_is_bounded() {
        let mut h = TxHistory::default();
        // 10,000 transactions in second 7: 128 kept, spread over the whole second.
        for i in 0..10_000 {
            h.push(7, row(i));
        }
        assert_eq!(h.len(), PER_SECOND);
        assert_eq!(h.added(), PER_SECOND as u64);
        let late = h.iter().filter(|r| r[0] >= 5_000.0).count();
        assert!(
            (40..=88).contains(&late),
            "{late} of 128 from the second half"
        );
        // 100 busy seconds: the history holds the last 64 of them, 128 rows each.
        for s in 8..108u64 {
            for i in 0..1_000 {
                h.push(s, row(s as usize * 1_000 + i));
            }
        }
        assert_eq!(h.len(), TX_HISTORY);
        let oldest = h.iter().map(|r| r[0]).fold(f64::INFINITY, f64::min);
        assert!(oldest >= 44_000.0, "oldest row {oldest}");
        // The same blocks give the same history.
        let mut again = TxHistory::default();
        for i in 0..10_000 {
            again.push(7, row(i));
        }
        for s in 8..108u64 {
            for i in 0..1_000 {
                again.push(s, row(s as usize * 1_000 + i));
            }
        }
        assert!(h.iter().eq(again.iter()));
    }
}
