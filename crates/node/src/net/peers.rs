//! The node's own p2p protocols beside consensus: the genesis handshake and mempool gossip.
//!
//! # Genesis handshake ([`CHANNEL_HELLO`](verai_consensus::network::CHANNEL_HELLO))
//!
//! A message is 33 bytes: a kind (`0` asks, `1` answers) and the sender's genesis hash;
//! anything else is ignored, as is a sender outside the validator set. Until it has decided,
//! a node asks every validator it has not heard from every [`HELLO_INTERVAL`]; it always
//! answers. It joins consensus once a quorum of validators (itself included) reported its
//! genesis hash, and refuses to join ([`NodeError::GenesisMismatch`]) once `f + 1`
//! validators (so at least one honest one) reported another. A validator with another
//! genesis is logged once and otherwise ignored.
//!
//! # Mempool gossip ([`CHANNEL_TXS`](verai_consensus::network::CHANNEL_TXS))
//!
//! A message is an RLP list of EIP-2718 transaction encodings: at most [`MAX_GOSSIP_TXS`]
//! entries and [`MAX_GOSSIP_BYTES`] bytes. Transactions a client submitted to this node are
//! collected for [`GOSSIP_LINGER`] (so that a burst travels as one message and stays under
//! the channel's rate limit) and sent to every validator. Received transactions enter the
//! pool like a client's but are not forwarded: validators form a full mesh, so one hop
//! reaches every future proposer.

use crate::{NodeError, chain::Chain};
use alloy_primitives::{B256, Bytes};
use alloy_rlp::Decodable;
use commonware_p2p::{Receiver, Recipients, Sender};
use commonware_runtime::{Clock, IoBuf};
use futures::{channel::oneshot, future::Either};
use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
    time::Duration,
};
use tracing::{debug, error, info, warn};
use verai_consensus::PublicKey;
use verai_primitives::RecoveredTx;
use verai_storage::StateContext;

/// How often an undecided node asks for genesis hashes.
pub const HELLO_INTERVAL: Duration = Duration::from_millis(500);
/// Most transactions in one gossip message.
pub const MAX_GOSSIP_TXS: usize = 4_096;
/// Largest gossip message in bytes.
pub const MAX_GOSSIP_BYTES: usize = 1 << 20;
/// How long submitted transactions wait to be batched.
pub const GOSSIP_LINGER: Duration = Duration::from_millis(5);

const ASK: u8 = 0;
const ANSWER: u8 = 1;

fn hello(kind: u8, genesis: B256) -> IoBuf {
    let mut m = Vec::with_capacity(33);
    m.push(kind);
    m.extend_from_slice(genesis.as_slice());
    IoBuf::from(m)
}

/// Run the genesis handshake for ever; `decided` receives the join decision once.
pub(crate) async fn genesis_handshake<E, S, R>(
    clock: E,
    me: PublicKey,
    validators: Vec<PublicKey>,
    genesis: B256,
    (mut sender, mut receiver): (S, R),
    decided: oneshot::Sender<Result<(), NodeError>>,
) where
    E: Clock,
    S: Sender<PublicKey = PublicKey>,
    R: Receiver<PublicKey = PublicKey>,
{
    let members: BTreeSet<PublicKey> = validators.iter().cloned().collect();
    let n = members.len();
    let f = n.saturating_sub(1) / 3;
    let quorum = n - f;
    let mut agree: BTreeSet<PublicKey> = BTreeSet::from([me.clone()]);
    let mut disagree: BTreeMap<PublicKey, B256> = BTreeMap::new();
    let mut decided = Some(decided);
    let mut next_ask = clock.current();
    loop {
        if decided.is_some() {
            if agree.len() >= quorum {
                info!(peers = agree.len() - 1, %genesis, "validators share our genesis: joining");
                if let Some(d) = decided.take() {
                    let _ = d.send(Ok(()));
                }
            } else if disagree.len() > f {
                let theirs: Vec<String> = disagree
                    .iter()
                    .map(|(k, h)| format!("{k} has {h}"))
                    .collect();
                if let Some(d) = decided.take() {
                    let _ = d.send(Err(NodeError::GenesisMismatch {
                        ours: genesis,
                        theirs: theirs.join(", "),
                    }));
                }
                return;
            } else if clock.current() >= next_ask {
                let unknown: Vec<PublicKey> = members
                    .iter()
                    .filter(|k| !agree.contains(*k) && !disagree.contains_key(*k))
                    .cloned()
                    .collect();
                if !unknown.is_empty() {
                    sender.send(Recipients::Some(unknown), hello(ASK, genesis), true);
                }
                next_ask = clock.current() + HELLO_INTERVAL;
            }
        }
        let recv = receiver.recv();
        let received = if decided.is_some() {
            let tick = clock.sleep_until(next_ask);
            futures::pin_mut!(recv, tick);
            match futures::future::select(recv, tick).await {
                Either::Left((r, _)) => r,
                Either::Right(_) => continue,
            }
        } else {
            // Decided: only answer.
            recv.await
        };
        let Ok((peer, msg)) = received else {
            return;
        };
        let Some((kind, theirs)) = parse_hello(msg.as_ref()) else {
            continue;
        };
        if !members.contains(&peer) {
            continue;
        }
        if kind == ASK {
            sender.send(Recipients::One(peer.clone()), hello(ANSWER, genesis), true);
        }
        if theirs == genesis {
            disagree.remove(&peer);
            agree.insert(peer);
        } else if disagree.insert(peer.clone(), theirs).is_none() {
            agree.remove(&peer);
            error!(%peer, ours = %genesis, %theirs, "validator has a different genesis: ignoring it");
        }
    }
}

/// Send the transactions clients submitted here to every validator, in batches.
pub(crate) async fn gossip_out<E: StateContext, S: Sender<PublicKey = PublicKey>>(
    chain: Arc<Chain<E>>,
    mut sender: S,
) {
    loop {
        chain.outbox_ready().notified().await;
        chain.clock().sleep(GOSSIP_LINGER).await;
        let txs = chain.take_outbox();
        for batch in batches(&txs) {
            let mut out = Vec::new();
            alloy_rlp::encode_list::<_, Bytes>(batch, &mut out);
            sender.send(Recipients::All, IoBuf::from(out), false);
        }
    }
}

/// Split `txs` into messages within the count and byte bounds.
fn batches(txs: &[Bytes]) -> Vec<&[Bytes]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, tx) in txs.iter().enumerate() {
        // RLP adds at most 4 bytes per entry below 16 MiB, plus the list header.
        let size = tx.len() + 4;
        if i > start && (i - start == MAX_GOSSIP_TXS || bytes + size > MAX_GOSSIP_BYTES - 8) {
            out.push(&txs[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < txs.len() {
        out.push(&txs[start..]);
    }
    out
}

/// Parse a genesis handshake message, `kind ‖ genesis hash` (33 bytes): (kind, hash);
/// `None` for anything else.
pub fn parse_hello(msg: &[u8]) -> Option<(u8, B256)> {
    let (&kind, hash) = msg.split_first()?;
    if kind > ANSWER || hash.len() != 32 {
        return None;
    }
    Some((kind, B256::from_slice(hash)))
}

/// Decode a gossip message within its bounds.
pub fn decode_batch(msg: &[u8]) -> Result<Vec<Bytes>, &'static str> {
    if msg.len() > MAX_GOSSIP_BYTES {
        return Err("gossip message too large");
    }
    let mut slice = msg;
    let txs = Vec::<Bytes>::decode(&mut slice).map_err(|_| "malformed gossip message")?;
    if !slice.is_empty() {
        return Err("trailing bytes after gossip message");
    }
    if txs.len() > MAX_GOSSIP_TXS {
        return Err("too many transactions in gossip message");
    }
    Ok(txs)
}

/// Admit transactions gossiped by peers.
pub(crate) async fn gossip_in<E: StateContext, R: Receiver<PublicKey = PublicKey>>(
    chain: Arc<Chain<E>>,
    mut receiver: R,
) {
    while let Ok((peer, msg)) = receiver.recv().await {
        let txs = match decode_batch(msg.as_ref()) {
            Ok(t) => t,
            Err(e) => {
                warn!(%peer, e, "dropping gossip");
                continue;
            }
        };
        let (mut added, mut refused, mut waiting) = (0usize, 0usize, 0usize);
        for raw in txs {
            let Ok(tx) = RecoveredTx::decode(&raw) else {
                refused += 1;
                continue;
            };
            if !chain.missing_blobs(&tx).is_empty() {
                if admit_after_fetch(&chain, tx) {
                    waiting += 1;
                } else {
                    refused += 1;
                }
                continue;
            }
            match chain.admit(tx) {
                Ok(_) => added += 1,
                // Duplicates and stale nonces are normal: several peers may send the same.
                Err(_) => refused += 1,
            }
        }
        debug!(%peer, added, refused, waiting, "gossiped transactions");
    }
}

/// Admit a gossiped transaction in its own task once the blobs it names are here (see
/// [`crate::net::blobs`]); false when it cannot wait (no exchange, or too many waiting).
fn admit_after_fetch<E: StateContext>(chain: &Arc<Chain<E>>, tx: RecoveredTx) -> bool {
    let Some(place) = chain.blob_exchange().and_then(|ex| ex.reserve()) else {
        return false;
    };
    let waiting = chain.clone();
    chain
        .clock()
        .child("blob_admit")
        .spawn(move |_| async move {
            let _place = place;
            match waiting.fetch_blobs(&tx).await {
                Ok(()) => {
                    let _ = waiting.admit(tx);
                }
                Err(e) => debug!(tx = %tx.hash, %e, "gossiped transaction dropped"),
            }
        });
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_rlp::Encodable;

    #[test]
    fn batches_respect_bounds_and_round_trip() {
        let txs: Vec<Bytes> = (0..10_000u32)
            .map(|i| Bytes::from(vec![(i % 251) as u8; 100 + (i % 7) as usize]))
            .collect();
        let parts = batches(&txs);
        assert_eq!(parts.iter().map(|b| b.len()).sum::<usize>(), txs.len());
        let mut all = Vec::new();
        for b in parts {
            let mut out = Vec::new();
            alloy_rlp::encode_list::<_, Bytes>(b, &mut out);
            assert!(out.len() <= MAX_GOSSIP_BYTES);
            all.extend(decode_batch(&out).unwrap());
        }
        assert_eq!(all, txs);
        let big: Vec<Bytes> = (0..20).map(|_| Bytes::from(vec![1u8; 120_000])).collect();
        for b in batches(&big) {
            let mut out = Vec::new();
            alloy_rlp::encode_list::<_, Bytes>(b, &mut out);
            assert!(out.len() <= MAX_GOSSIP_BYTES, "{}", out.len());
        }
    }

    #[test]
    fn bad_gossip_is_refused() {
        assert!(decode_batch(&[0xff]).is_err());
        assert!(decode_batch(&vec![0u8; MAX_GOSSIP_BYTES + 1]).is_err());
        let mut out = Vec::new();
        vec![Bytes::from_static(b"x"); MAX_GOSSIP_TXS + 1].encode(&mut out);
        assert!(decode_batch(&out).is_err());
        let mut ok = Vec::new();
        vec![Bytes::from_static(b"x")].encode(&mut ok);
        ok.push(0);
        assert!(decode_batch(&ok).is_err(), "trailing bytes");
    }
}
