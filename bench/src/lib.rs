//! The ERC-20 transfer workload shared by the benchmarks: deterministic senders, the token
//! deployment and funding, and pre-signed transfers.
//!
//! Every benchmark runs the same signed transactions against each peer, so the numbers
//! differ only by the node under test.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, U256, keccak256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolValue;
use std::path::Path;
use verai_primitives::dev_signers;

pub mod procs;

/// Gas limit of one token transfer (the real use is about 35k-52k).
pub const TRANSFER_GAS: u64 = 60_000;
/// Fee cap of every benchmark transaction: high enough to stay above any base fee reached.
pub const MAX_FEE: u128 = 100_000_000_000;
/// Tokens each sender is given.
pub const SENDER_TOKENS: u64 = 1_000_000;

/// The workload's keys and transactions.
pub struct Workload {
    /// The deployer and funder (dev account 0).
    pub funder: PrivateKeySigner,
    /// Transaction senders.
    pub senders: Vec<PrivateKeySigner>,
    /// The token's address (dev account 0's first creation).
    pub token: Address,
    /// Deployment, then ETH and tokens to each sender, all from `funder`, in nonce order.
    pub setup: Vec<Bytes>,
    /// `transfers[i]` are sender i's transfers, in nonce order.
    pub transfers: Vec<Vec<Bytes>>,
}

/// A deterministic key for sender `i`.
pub fn sender_key(i: u64) -> PrivateKeySigner {
    let seed = keccak256([b"verai-bench-sender".as_slice(), &i.to_be_bytes()].concat());
    PrivateKeySigner::from_bytes(&seed)
        .expect("a keccak output is a valid key with overwhelming probability")
}

/// Sign an EIP-1559 transaction.
pub fn sign(
    s: &PrivateKeySigner,
    chain_id: u64,
    nonce: u64,
    to: TxKind,
    value: U256,
    input: Vec<u8>,
    gas: u64,
) -> Bytes {
    let tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit: gas,
        max_fee_per_gas: MAX_FEE,
        max_priority_fee_per_gas: 1_000_000_000,
        to,
        value,
        input: input.into(),
        access_list: Default::default(),
    };
    let sig = s
        .sign_hash_sync(&tx.signature_hash())
        .expect("signing with a local key");
    TxEnvelope::from(tx.into_signed(sig)).encoded_2718().into()
}

/// `transfer(to, amount)` call data.
pub fn transfer_call(to: Address, amount: U256) -> Vec<u8> {
    let mut data = vec![0xa9, 0x05, 0x9c, 0xbb];
    data.extend((to, amount).abi_encode_params());
    data
}

/// `balanceOf(owner)` call data.
pub fn balance_of_call(owner: Address) -> Vec<u8> {
    let mut data = vec![0x70, 0xa0, 0x82, 0x31];
    data.extend(owner.abi_encode());
    data
}

/// The recipient of every transfer (one fixed address, so the result is easy to check).
pub fn recipient() -> Address {
    Address::repeat_byte(0xbe)
}

/// The repository root, read when the program runs (`cargo run` sets `CARGO_MANIFEST_DIR`):
/// a build cache shared between clones at different paths keeps the compile-time path.
pub fn repo_root() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
        .join("..")
}

/// The release `verai` binary: under `$CARGO_TARGET_DIR` when set, else `target/`.
pub fn verai_binary() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
        .join("release/verai")
}

/// Read the token's creation bytecode from the committed artifact.
pub fn token_bytecode(repo_root: &Path) -> eyre::Result<Vec<u8>> {
    let path = repo_root.join("contracts/out/VeraiToken.json");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    let hex = json["bytecode"]
        .as_str()
        .ok_or_else(|| eyre::eyre!("no bytecode in {}", path.display()))?;
    Ok(alloy_primitives::hex::decode(hex)?)
}

impl Workload {
    /// `senders` senders with `per_sender` transfers each, on `chain_id`.
    pub fn new(
        repo_root: &Path,
        chain_id: u64,
        senders: u64,
        per_sender: u64,
    ) -> eyre::Result<Self> {
        let funder = dev_signers(1).remove(0);
        let token = funder.address().create(0);
        let supply = U256::from(SENDER_TOKENS) * U256::from(senders + 1);
        let mut init = token_bytecode(repo_root)?;
        init.extend(("Verai Bench".to_string(), "VBT".to_string(), supply).abi_encode_params());
        let mut setup = vec![sign(
            &funder,
            chain_id,
            0,
            TxKind::Create,
            U256::ZERO,
            init,
            3_000_000,
        )];
        let keys: Vec<PrivateKeySigner> = (0..senders).map(sender_key).collect();
        let mut nonce = 1;
        let eth = U256::from(10u64).pow(U256::from(18u64));
        for k in &keys {
            setup.push(sign(
                &funder,
                chain_id,
                nonce,
                TxKind::Call(k.address()),
                eth,
                vec![],
                21_000,
            ));
            setup.push(sign(
                &funder,
                chain_id,
                nonce + 1,
                TxKind::Call(token),
                U256::ZERO,
                transfer_call(k.address(), U256::from(SENDER_TOKENS)),
                TRANSFER_GAS,
            ));
            nonce += 2;
        }
        let transfers = keys
            .iter()
            .map(|k| {
                (0..per_sender)
                    .map(|n| {
                        sign(
                            k,
                            chain_id,
                            n,
                            TxKind::Call(token),
                            U256::ZERO,
                            transfer_call(recipient(), U256::from(1)),
                            TRANSFER_GAS,
                        )
                    })
                    .collect()
            })
            .collect();
        Ok(Self {
            funder,
            senders: keys,
            token,
            setup,
            transfers,
        })
    }

    /// Total measured transfers.
    pub fn len(&self) -> usize {
        self.transfers.iter().map(Vec::len).sum()
    }

    /// Whether there are no transfers.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// CPU time (user + system) a process has used so far, from `/proc/PID/stat` (Linux; clock
/// ticks of 10 ms, the kernel's `USER_HZ` on every Linux target).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// `values` with `decimals` digits each, joined by " / " (for a row of per-run figures).
pub fn joined(values: &[f64], decimals: usize) -> String {
    values
        .iter()
        .map(|v| format!("{v:.decimals$}"))
        .collect::<Vec<_>>()
        .join(" / ")
}

/// A distribution-free confidence interval for the median of `sorted` (ascending): the
/// order statistics `[x_(k), x_(n+1-k)]` of the sign test, with the largest `k` whose
/// coverage `1 - 2 P(Binomial(n, 1/2) < k)` is at least `level`. Returns the bounds and that
/// coverage; `None` when `n` is too small to reach `level` (fewer than 5 values for 90 %).
pub fn median_interval(sorted: &[f64], level: f64) -> Option<(f64, f64, f64)> {
    let n = sorted.len();
    // P(B <= j) for j = 0..n, with B ~ Binomial(n, 1/2), from exact binomial terms.
    let mut term = 0.5f64.powi(i32::try_from(n).ok()?);
    let mut below = 0.0;
    let mut best = None;
    for k in 1..=n / 2 {
        below += term; // P(B <= k - 1)
        term *= (n - (k - 1)) as f64 / k as f64;
        let coverage = 1.0 - 2.0 * below;
        if coverage < level {
            break;
        }
        best = Some((sorted[k - 1], sorted[n - k], coverage));
    }
    best
}

/// Run a benchmark's `main`: an error is printed for people (each cause once, no source
/// location; a backtrace only with `RUST_BACKTRACE`), with a failing exit status.
pub fn report_errors(result: eyre::Result<()>) -> std::process::ExitCode {
    let Err(e) = result else {
        return std::process::ExitCode::SUCCESS;
    };
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if parts.last().is_none_or(|p| !p.contains(&text)) {
            parts.push(text);
        }
    }
    eprintln!("error: {}", parts.join(": "));
    if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
        eprintln!("\n{e:?}");
    }
    std::process::ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use super::median_interval;

    #[test]
    fn median_interval_follows_the_sign_test() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        // n = 20: P(B <= 5) = 0.0207, P(B <= 6) = 0.0577, so k = 6 at 90 %: x_(6)..x_(15).
        let (lo, hi, c) = median_interval(&v, 0.90).unwrap();
        assert_eq!((lo, hi), (6.0, 15.0));
        assert!((c - 0.9586).abs() < 1e-4, "{c}");
        // Five values reach 93.75 % only with the extremes; four cannot reach 90 %.
        assert_eq!(
            median_interval(&v[..5], 0.90).map(|r| (r.0, r.1)),
            Some((1.0, 5.0))
        );
        assert!(median_interval(&v[..4], 0.90).is_none());
    }
}
