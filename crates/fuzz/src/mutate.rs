//! A small seeded mutator for the short runs: byte flips, insertions, deletions, splices of
//! interesting values and truncations, the moves libFuzzer starts with (without its
//! coverage guidance, which the long runs have).

/// The sentinel's SplitMix64, seeded, so a failing short run replays from its seed.
#[derive(Debug, Clone)]
pub struct Rng(verai_sentinel::rng::SplitMix64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(verai_sentinel::rng::SplitMix64::new(seed))
    }

    fn byte(&mut self) -> u8 {
        self.0.next_u64() as u8
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            self.0.below(n as u64) as usize
        }
    }
}

/// Values that tend to sit at boundaries of lengths and counts.
const INTERESTING: [&[u8]; 10] = [
    &[0x00],
    &[0xff],
    &[0x7f],
    &[0x80],
    &[0xff, 0xff, 0xff, 0xff],
    &[0x00, 0x00, 0x00, 0x00],
    &[0x7f, 0xff, 0xff, 0xff],
    &[0xb8, 0xff],
    &[0xf9, 0xff, 0xff],
    &[0xc0],
];

/// One to four random edits of `base`.
pub fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    let mut out = base.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(7) {
            // Flip a bit.
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            // Replace a byte.
            1 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = rng.byte();
            }
            // Insert random bytes.
            2 => {
                let i = rng.below(out.len() + 1);
                let n = 1 + rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.byte()).collect();
                out.splice(i..i, bytes);
            }
            // Delete a run.
            3 if !out.is_empty() => {
                let i = rng.below(out.len());
                let n = 1 + rng.below((out.len() - i).min(32));
                out.drain(i..i + n);
            }
            // Splice an interesting value over a place.
            4 => {
                let v = INTERESTING[rng.below(INTERESTING.len())];
                let i = rng.below(out.len() + 1);
                let end = (i + v.len()).min(out.len());
                out.splice(i..end, v.iter().copied());
            }
            // Truncate.
            5 if !out.is_empty() => {
                let n = rng.below(out.len());
                out.truncate(n);
            }
            // Duplicate a run (repeated structures: lists, nested RLP).
            _ if !out.is_empty() => {
                let i = rng.below(out.len());
                let n = 1 + rng.below((out.len() - i).min(64));
                let run = out[i..i + n].to_vec();
                let at = rng.below(out.len() + 1);
                out.splice(at..at, run);
            }
            _ => out.push(rng.byte()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_are_deterministic_and_change_something() {
        let base = b"hello fuzz".to_vec();
        let a: Vec<Vec<u8>> = {
            let mut r = Rng::new(5);
            (0..100).map(|_| mutate(&mut r, &base)).collect()
        };
        let b: Vec<Vec<u8>> = {
            let mut r = Rng::new(5);
            (0..100).map(|_| mutate(&mut r, &base)).collect()
        };
        assert_eq!(a, b);
        assert!(a.iter().filter(|m| **m != base).count() > 90);
    }
}
