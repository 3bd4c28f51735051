//! Blob exchange between validators: the blobs a provenance record names are on a node
//! before the record's transaction is admitted there.
//!
//! # Admission
//!
//! A transaction that calls the provenance module with a `blob:<sha256>` URI (see
//! [`verai_provenance::refs`]) is admitted only once that blob is in this node's store. A
//! missing blob is asked of every peer; the transaction waits (at most [`FETCH_TIMEOUT`],
//! asking again every [`ASK_INTERVAL`]) and is refused with [`BlobFetchError`] when no peer
//! has it. A client's transaction waits in its `eth_sendRawTransaction` call; a gossiped one
//! waits in its own task, so a peer cannot stall gossip. Since every node that admitted such
//! a transaction holds its blobs, the proposer and every node that gossips it can serve them.
//! Block verification does not look at blobs: availability is not a consensus rule, and a
//! block must not be valid on one validator and invalid on another for lack of a file.
//!
//! # Protocol ([`CHANNEL_BLOBS`](verai_consensus::network::CHANNEL_BLOBS))
//!
//! - `0 ‖ hash` (33 bytes): a request;
//! - `1 ‖ hash ‖ bytes`: the blob;
//! - `2 ‖ hash`: not here.
//!
//! An answer is kept only if this node asked for it, its bytes fit the store's limit and hash
//! to `hash` ([`BlobStore::put_expecting`] checks while writing); anything else is dropped.

use alloy_primitives::B256;
use commonware_p2p::{Receiver, Recipients, Sender};
use commonware_runtime::{Clock, IoBuf};
use futures::{channel::oneshot, future::Either};
use std::{
    collections::{BTreeSet, HashMap},
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};
use tracing::{debug, info, warn};
use verai_consensus::PublicKey;
use verai_provenance::blob::BlobStore;

/// How long an admission waits for a missing blob.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// How often a missing blob is asked for again while waiting.
pub const ASK_INTERVAL: Duration = Duration::from_secs(1);
/// Most gossiped transactions waiting for blobs at once; more are dropped (their sender
/// still holds them, and the proposer has the blob).
pub const MAX_WAITING_ADMISSIONS: usize = 256;

const REQUEST: u8 = 0;
const FOUND: u8 = 1;
const ABSENT: u8 = 2;

/// A blob a transaction needs could not be had.
#[derive(Debug, thiserror::Error)]
pub enum BlobFetchError {
    /// No peer had it within the timeout (or every peer said it has not got it).
    #[error(
        "the record names blob {0}, which neither this node nor its peers have: upload it \
         with verai_putBlob first"
    )]
    Missing(B256),
    /// The local store failed.
    #[error("blob store: {0}")]
    Store(#[from] verai_provenance::blob::BlobError),
}

type SendFn =
    Box<dyn Fn(Recipients<PublicKey>, Vec<u8>) -> Vec<PublicKey> + std::marker::Send + Sync>;

/// Waiting fetches of one blob.
#[derive(Default)]
struct Wanted {
    waiters: Vec<oneshot::Sender<bool>>,
    /// Peers we asked, and those that answered "not here".
    asked: BTreeSet<PublicKey>,
    absent: BTreeSet<PublicKey>,
}

/// The node's side of the exchange: its store, the requests in flight, and the channel.
pub struct BlobExchange {
    store: Arc<BlobStore>,
    wanted: Mutex<HashMap<B256, Wanted>>,
    send: SendFn,
    waiting: AtomicUsize,
}

/// A gossiped transaction's place among those waiting for blobs; freed on drop.
pub(crate) struct Waiting(Arc<BlobExchange>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::AcqRel);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn message(kind: u8, hash: &B256, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(33 + body.len());
    m.push(kind);
    m.extend_from_slice(hash.as_slice());
    m.extend_from_slice(body);
    m
}

impl BlobExchange {
    /// An exchange over `sender` for `store`; run [`serve`] with the matching receiver.
    pub fn new<S: Sender<PublicKey = PublicKey>>(store: Arc<BlobStore>, sender: S) -> Self {
        let sender = Mutex::new(sender);
        Self {
            store,
            wanted: Mutex::new(HashMap::new()),
            send: Box::new(move |to, msg| lock(&sender).send(to, IoBuf::from(msg), false)),
            waiting: AtomicUsize::new(0),
        }
    }

    /// A place for one more gossiped transaction to wait, if fewer than
    /// [`MAX_WAITING_ADMISSIONS`] do.
    pub(crate) fn reserve(self: &Arc<Self>) -> Option<Waiting> {
        self.waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_WAITING_ADMISSIONS).then_some(n + 1)
            })
            .ok()
            .map(|_| Waiting(self.clone()))
    }

    /// The local store.
    pub fn store(&self) -> &Arc<BlobStore> {
        &self.store
    }

    /// Make sure every blob of `hashes` is in the store, fetching missing ones from peers.
    pub async fn ensure(&self, clock: &impl Clock, hashes: &[B256]) -> Result<(), BlobFetchError> {
        for hash in hashes {
            self.fetch(clock, *hash).await?;
        }
        Ok(())
    }

    async fn fetch(&self, clock: &impl Clock, hash: B256) -> Result<(), BlobFetchError> {
        if self.store.contains(&hash.0) {
            return Ok(());
        }
        let (tx, mut rx) = oneshot::channel();
        lock(&self.wanted).entry(hash).or_default().waiters.push(tx);
        let deadline = clock.current() + FETCH_TIMEOUT;
        loop {
            // Asked after registering, so an answer cannot slip between the two.
            self.ask(hash);
            let next = (clock.current() + ASK_INTERVAL).min(deadline);
            let tick = clock.sleep_until(next);
            futures::pin_mut!(tick);
            match futures::future::select(&mut rx, tick).await {
                Either::Left((Ok(true), _)) => return Ok(()),
                Either::Left(_) => return Err(BlobFetchError::Missing(hash)),
                Either::Right(_) if clock.current() >= deadline => {
                    self.give_up(hash);
                    // It may have arrived just now.
                    return if self.store.contains(&hash.0) {
                        Ok(())
                    } else {
                        Err(BlobFetchError::Missing(hash))
                    };
                }
                Either::Right(_) => {}
            }
        }
    }

    fn ask(&self, hash: B256) {
        let asked = (self.send)(Recipients::All, message(REQUEST, &hash, &[]));
        let mut wanted = lock(&self.wanted);
        let Some(w) = wanted.get_mut(&hash) else {
            return;
        };
        w.asked.extend(asked);
        if w.asked.is_empty() {
            debug!(%hash, "no peer to ask for a blob");
        }
        Self::settle_if_all_absent(&mut wanted, hash);
    }

    /// Every asked peer said "not here": fail the waiters now rather than at the timeout.
    fn settle_if_all_absent(wanted: &mut HashMap<B256, Wanted>, hash: B256) {
        if let Some(w) = wanted.get(&hash)
            && !w.asked.is_empty()
            && w.asked.is_subset(&w.absent)
            && let Some(w) = wanted.remove(&hash)
        {
            for waiter in w.waiters {
                let _ = waiter.send(false);
            }
        }
    }

    fn give_up(&self, hash: B256) {
        if let Some(w) = lock(&self.wanted).remove(&hash) {
            for waiter in w.waiters {
                let _ = waiter.send(false);
            }
        }
    }

    /// Handle one message from `peer`.
    fn handle(&self, peer: PublicKey, msg: &[u8]) {
        let Some(m) = parse(msg) else {
            return;
        };
        match m {
            Message::Request(hash) => {
                let answer = match self.store.get(&hash.0) {
                    Ok(Some(bytes)) => message(FOUND, &hash, &bytes),
                    Ok(None) => message(ABSENT, &hash, &[]),
                    Err(e) => {
                        warn!(%hash, %e, "cannot read a blob a peer asked for");
                        message(ABSENT, &hash, &[])
                    }
                };
                (self.send)(Recipients::One(peer), answer);
            }
            Message::Found(hash, body) => {
                // Unasked answers are dropped; the store enforces the size limit and the hash.
                if !lock(&self.wanted).contains_key(&hash) {
                    return;
                }
                match self.store.put_expecting(&hash.0, body) {
                    Ok(size) => {
                        info!(%hash, size, %peer, "fetched a blob from a peer");
                        if let Some(w) = lock(&self.wanted).remove(&hash) {
                            for waiter in w.waiters {
                                let _ = waiter.send(true);
                            }
                        }
                    }
                    Err(e) => warn!(%hash, %peer, %e, "a fetched blob is not kept"),
                }
            }
            Message::Absent(hash) => {
                let mut wanted = lock(&self.wanted);
                if let Some(w) = wanted.get_mut(&hash) {
                    w.absent.insert(peer);
                    Self::settle_if_all_absent(&mut wanted, hash);
                }
            }
        }
    }
}

/// A message of the blob channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<'a> {
    /// `0 ‖ hash`: does the peer have this blob?
    Request(B256),
    /// `1 ‖ hash ‖ bytes`: here it is (checked against the hash when stored).
    Found(B256, &'a [u8]),
    /// `2 ‖ hash`: the peer does not have it.
    Absent(B256),
}

/// Parse a message from a peer; `None` for anything malformed (dropped, never answered).
pub fn parse(msg: &[u8]) -> Option<Message<'_>> {
    let (&kind, rest) = msg.split_first()?;
    let hash = B256::try_from(rest.get(..32)?).ok()?;
    let body = &rest[32..];
    match (kind, body.is_empty()) {
        (REQUEST, true) => Some(Message::Request(hash)),
        (FOUND, _) => Some(Message::Found(hash, body)),
        (ABSENT, true) => Some(Message::Absent(hash)),
        _ => None,
    }
}

/// Answer peers' requests and take their answers, for ever.
pub(crate) async fn serve<R: Receiver<PublicKey = PublicKey>>(
    exchange: Arc<BlobExchange>,
    mut receiver: R,
) {
    while let Ok((peer, msg)) = receiver.recv().await {
        exchange.handle(peer, msg.as_ref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_have_the_documented_layout() {
        let h = B256::repeat_byte(7);
        let m = message(FOUND, &h, b"abc");
        assert_eq!(m[0], 1);
        assert_eq!(&m[1..33], h.as_slice());
        assert_eq!(&m[33..], b"abc");
        assert_eq!(message(REQUEST, &h, &[]).len(), 33);
    }
}
