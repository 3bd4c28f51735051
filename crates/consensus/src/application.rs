//! The application interface Verai implements on top of consensus, and its adapters.
//!
//! [`Application`] is what the node implements: build a block, verify a block, apply a
//! finalized block. [`Adapter`] turns it into Commonware's marshal-level application (the
//! marshal [`Inline`](commonware_consensus::marshal::standard::Inline) wrapper fetches parents,
//! checks parent digest and height, and handles certification), and [`Finalizer`] plus
//! [`deliver`] turn marshal's finalized-block stream into exactly-once, in-order
//! [`Application::finalized`] calls with a finality proof.

use crate::{
    block::{ConsensusBlock, Digest, to_digest},
    certificate::{FinalityProof, MAX_PROOF_HEADERS, PublicKey, Scheme},
};
use alloy_rlp::Encodable as _;
use commonware_actor::Feedback;
use commonware_consensus::{
    Heightable as _, Reporter,
    marshal::{Update, ancestry::Ancestry, core::Mailbox, standard::Standard},
    simplex::types::Context,
    types::Height,
};
use commonware_cryptography::{Digested, Digestible as _};
use commonware_runtime::Clock;
use commonware_utils::{Acknowledgement as _, SystemTimeExt as _, acknowledgement::Exact};
use futures::{StreamExt as _, channel::mpsc};
use std::{future::Future, sync::Arc, time::Duration};
use tracing::{debug, error, warn};
use verai_primitives::Block;

/// What the chain does on top of consensus; implemented by the node.
///
/// All methods may be called concurrently (the type is cloned into consensus tasks).
pub trait Application: Clone + Send + Sync + 'static {
    /// The genesis block (height 0). Must be identical on every validator.
    fn genesis(&self) -> Block;

    /// Height of the last finalized block whose effects are durably applied (0 after genesis).
    ///
    /// Read once at start: finalized blocks at or below it are not delivered again.
    fn last_applied_height(&self) -> u64;

    /// Build a child of `parent` from the mempool. The parent may be notarized but not yet
    /// finalized. `timestamp_ms` is the runtime clock in milliseconds since the Unix epoch.
    ///
    /// The future may wait (for transactions, say); if it does not finish within the leader
    /// timeout, consensus drops it (so it must be cancellation-safe), nullifies the view and
    /// asks again in the next one. Returning `None` skips the view the same way, after
    /// [`Timeouts::idle_backoff`](crate::Timeouts::idle_backoff). An empty block is a valid
    /// proposal. See the crate docs, "Empty views".
    fn propose(
        &self,
        parent: &Block,
        timestamp_ms: u64,
    ) -> impl Future<Output = Option<Block>> + Send;

    /// Execute `block` on top of `parent` and check its header (roots, gas, number, parent
    /// hash, timestamp). The adapter has already checked `block.parent_hash() == parent.hash()`
    /// and `block.number() == parent.number() + 1`.
    ///
    /// Must be deterministic: every honest validator must reach the same verdict.
    fn verify(&self, parent: &Block, block: &Block) -> impl Future<Output = bool> + Send;

    /// Whether the state after `block` is available here: the finalized head, or a block
    /// this process executed. A notarized block executed only in the memory of a process
    /// that then crashed is not; consensus may still build on it after the restart (it
    /// cannot skip a notarized parent), so the adapter verifies such ancestors again, oldest
    /// first, before proposing or verifying a child. The default (always available) suits
    /// an application without execution state.
    fn has_state_after(&self, block: &Block) -> bool {
        let _ = block;
        true
    }

    /// A finalized block, delivered in height order exactly once per run (and again after a
    /// restart for heights above [`Self::last_applied_height`]), with its encoded
    /// [`FinalityProof`] (empty if the proof could not be assembled, which is logged).
    ///
    /// Consensus does not wait for this future to propose or vote, but marshal holds at most a
    /// bounded number of unacknowledged blocks, so a slow `finalized` eventually stalls
    /// delivery (not safety).
    fn finalized(&self, block: Arc<Block>, certificate: Vec<u8>)
    -> impl Future<Output = ()> + Send;
}

/// Marshal mailbox type used by the adapter.
pub type MarshalMailbox = Mailbox<Scheme, Standard<ConsensusBlock>>;

/// Adapts an [`Application`] to Commonware's marshal application trait.
#[derive(Clone)]
pub struct Adapter<A> {
    app: A,
    idle_backoff: Duration,
}

impl<A: Application> Adapter<A> {
    /// Wraps `app`; `idle_backoff` delays a declined proposal (see [`Application::propose`]).
    pub fn new(app: A, idle_backoff: Duration) -> Self {
        Self { app, idle_backoff }
    }
}

impl<E, A> commonware_consensus::Application<E> for Adapter<A>
where
    E: Clock + Send + Sync + 'static,
    A: Application,
{
    type SigningScheme = Scheme;
    type Context = Context<Digest, PublicKey>;
    type Block = ConsensusBlock;
    type Input = ();

    fn propose(
        &mut self,
        (runtime, _context): (E, Self::Context),
        mut ancestry: impl Ancestry<Self::Block>,
        _input: (),
    ) -> impl Future<Output = Option<Digested<Self::Block>>> + Send {
        let app = self.app.clone();
        let idle_backoff = self.idle_backoff;
        async move {
            let parent = ancestry.next().await?;
            if !catch_up(&app, &parent, &mut ancestry).await {
                return None;
            }
            let parent = parent.inner().block();
            let now_ms = runtime.current().epoch_millis();
            let Some(block) = app.propose(parent, now_ms).await else {
                debug!(parent = parent.number(), "application declined to propose");
                runtime.sleep(idle_backoff).await;
                return None;
            };
            if block.parent_hash() != parent.hash()
                || Some(block.number()) != parent.number().checked_add(1)
            {
                error!(
                    parent = parent.number(),
                    number = block.number(),
                    "application proposed a block that is not a child of its parent"
                );
                return None;
            }
            let digest = to_digest(block.hash());
            Some(Digested::precomputed(ConsensusBlock::new(block), digest))
        }
    }

    fn verify(
        &mut self,
        _context: (E, Self::Context),
        mut ancestry: impl Ancestry<Self::Block>,
    ) -> impl Future<Output = bool> + Send {
        let app = self.app.clone();
        async move {
            let Some(block) = ancestry.next().await else {
                return false;
            };
            let Some(parent) = ancestry.next().await else {
                return false;
            };
            if !catch_up(&app, &parent, &mut ancestry).await {
                return false;
            }
            let (block, parent) = (block.inner().block(), parent.inner().block());
            // Inline already checked these; keep the application's contract explicit.
            if block.parent_hash() != parent.hash()
                || Some(block.number()) != parent.number().checked_add(1)
            {
                return false;
            }
            app.verify(parent, block).await
        }
    }
}

/// Ancestors of `from` that are not executed here at most; past it, the head is behind.
const MAX_CATCH_UP: usize = 256;

/// Makes the state after `from` available: walks `ancestry` (from's parent, grandparent,
/// ...) back to a block whose state is known, then verifies each missing block on its
/// parent, oldest first. False if an ancestor cannot be fetched or fails verification.
async fn catch_up<A: Application>(
    app: &A,
    from: &Digested<ConsensusBlock>,
    ancestry: &mut impl Ancestry<ConsensusBlock>,
) -> bool {
    if app.has_state_after(from.inner().block()) {
        return true;
    }
    let mut missing = vec![from.clone()];
    loop {
        let Some(ancestor) = ancestry.next().await else {
            warn!(
                block = from.inner().block().number(),
                "an ancestor of a block to build on is not available"
            );
            return false;
        };
        let known = app.has_state_after(ancestor.inner().block());
        missing.push(ancestor);
        if known {
            break;
        }
        if missing.len() > MAX_CATCH_UP {
            warn!(
                block = from.inner().block().number(),
                "too many unexecuted ancestors to catch up"
            );
            return false;
        }
    }
    debug!(
        blocks = missing.len() - 1,
        "executing notarized ancestors again (after a restart)"
    );
    for pair in missing.windows(2).rev() {
        let (block, parent) = (pair[0].inner().block(), pair[1].inner().block());
        if !app.verify(parent, block).await {
            warn!(
                number = block.number(),
                "a notarized ancestor fails verification here"
            );
            return false;
        }
    }
    true
}

/// A finalized block and marshal's acknowledgement for it.
pub type Delivery = (Digested<ConsensusBlock>, Exact);

/// Marshal's reporter: forwards finalized blocks to the [`deliver`] task.
#[derive(Clone)]
pub struct Finalizer {
    sender: mpsc::UnboundedSender<Delivery>,
}

impl Finalizer {
    /// A reporter and the receiving end for [`deliver`]. Unbounded in type, bounded in practice
    /// by marshal's `max_pending_acks`.
    pub fn new() -> (Self, mpsc::UnboundedReceiver<Delivery>) {
        let (sender, receiver) = mpsc::unbounded();
        (Self { sender }, receiver)
    }
}

impl Reporter for Finalizer {
    type Activity = Update<ConsensusBlock>;

    fn report(&mut self, activity: Self::Activity) -> Feedback {
        match activity {
            Update::Block(block, ack) => match self.sender.unbounded_send((block, ack)) {
                Ok(()) => Feedback::Ok,
                Err(_) => Feedback::Closed,
            },
            Update::Tip(..) => Feedback::Ok,
        }
    }
}

/// Assembles the finality proof of the finalized block at `height` from marshal's archives.
///
/// Walks up from `height` until a stored finalization signs the stored block at that height
/// (at most [`MAX_PROOF_HEADERS`] heights). `None` if a block is missing or no finalization
/// is found in range.
pub async fn finality_proof(marshal: &MarshalMailbox, height: u64) -> Option<FinalityProof> {
    let mut headers = Vec::new();
    let mut current = height;
    loop {
        let block = marshal.get_block(Height::new(current)).await?;
        let mut raw = Vec::new();
        block.inner().block().header.encode(&mut raw);
        headers.push(raw);
        if let Some(finalization) = marshal.get_finalization(Height::new(current)).await
            && finalization.proposal.payload == block.digest()
        {
            return Some(FinalityProof {
                finalization,
                headers,
            });
        }
        if headers.len() >= MAX_PROOF_HEADERS {
            return None;
        }
        current = current.checked_add(1)?;
    }
}

/// Proof for a block marshal just finalized; the finalization may trail the block by an
/// instant, so retry briefly before giving up (empty proof).
async fn proof_bytes<E: Clock>(runtime: &E, marshal: &MarshalMailbox, height: u64) -> Vec<u8> {
    for _ in 0..50 {
        if let Some(proof) = finality_proof(marshal, height).await {
            return proof.encode();
        }
        runtime.sleep(Duration::from_millis(20)).await;
    }
    warn!(height, "no finality proof found for a finalized block");
    Vec::new()
}

/// Delivers finalized blocks to the application, in order and exactly once per run.
///
/// At start, re-delivers from marshal's archive the blocks marshal already counts as
/// processed but the application has not applied (`last_applied_height` below marshal's
/// processed height, e.g. after a crash between the two writes). Then applies every block
/// marshal reports, skipping heights already applied and filling any gap from the archive,
/// and acknowledges each block to marshal only after [`Application::finalized`] returns.
pub async fn deliver<E: Clock, A: Application>(
    runtime: E,
    app: A,
    marshal: MarshalMailbox,
    mut receiver: mpsc::UnboundedReceiver<Delivery>,
) {
    let mut last = app.last_applied_height();
    if let Some(processed) = marshal.get_processed().await {
        let top = processed.height().get();
        last = fill(&runtime, &app, &marshal, last, top).await;
    }
    while let Some((block, ack)) = receiver.next().await {
        let height = block.height().get();
        if height <= last {
            ack.acknowledge();
            continue;
        }
        if height > last.saturating_add(1) {
            // Marshal skipped ahead of us (restart): apply the gap from the archive first.
            let filled = fill(&runtime, &app, &marshal, last, height - 1).await;
            if filled + 1 != height {
                error!(
                    height,
                    filled, "cannot deliver a finalized block past a gap"
                );
            }
        }
        let proof = proof_bytes(&runtime, &marshal, height).await;
        app.finalized(block.inner().0.clone(), proof).await;
        last = height;
        ack.acknowledge();
    }
    debug!("finalized block stream closed");
}

/// Applies heights `last + 1 ..= top` from the archive; returns the new last applied height.
async fn fill<E: Clock, A: Application>(
    runtime: &E,
    app: &A,
    marshal: &MarshalMailbox,
    mut last: u64,
    top: u64,
) -> u64 {
    while last < top {
        let height = last + 1;
        let Some(block) = marshal.get_block(Height::new(height)).await else {
            error!(
                height,
                "finalized block missing from the archive; cannot re-deliver"
            );
            return last;
        };
        let proof = proof_bytes(runtime, marshal, height).await;
        app.finalized(block.inner().0.clone(), proof).await;
        last = height;
    }
    last
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use commonware_consensus::marshal::ancestry::from_iter;
    use std::sync::Mutex;
    use verai_primitives::Header;

    /// An application that knows the state after the heights in `known` and after what it
    /// verifies (as a restarted node knows its finalized head and what it executed since).
    #[derive(Clone, Default)]
    struct Restarted {
        known: Arc<Mutex<Vec<u64>>>,
        verified: Arc<Mutex<Vec<u64>>>,
        reject: Option<u64>,
    }

    impl Application for Restarted {
        fn genesis(&self) -> Block {
            chain(1).remove(0)
        }
        fn last_applied_height(&self) -> u64 {
            0
        }
        async fn propose(&self, _: &Block, _: u64) -> Option<Block> {
            None
        }
        async fn verify(&self, parent: &Block, block: &Block) -> bool {
            assert!(self.has_state_after(parent), "verified before its parent");
            if self.reject == Some(block.number()) {
                return false;
            }
            self.verified.lock().unwrap().push(block.number());
            self.known.lock().unwrap().push(block.number());
            true
        }
        fn has_state_after(&self, block: &Block) -> bool {
            self.known.lock().unwrap().contains(&block.number())
        }
        async fn finalized(&self, _: Arc<Block>, _: Vec<u8>) {}
    }

    fn chain(n: u64) -> Vec<Block> {
        let mut out: Vec<Block> = Vec::new();
        for number in 0..n {
            let header = Header {
                number,
                parent_hash: out.last().map(Block::hash).unwrap_or_default(),
                ..Default::default()
            };
            out.push(Block::new(header, vec![]));
        }
        out
    }

    fn digested(b: &Block) -> Digested<ConsensusBlock> {
        Digested::precomputed(ConsensusBlock::new(b.clone()), to_digest(b.hash()))
    }

    /// Blocks `from - 1` down to 0, newest first, as marshal's ancestry yields them.
    fn ancestors(blocks: &[Block], from: usize) -> impl Ancestry<ConsensusBlock> {
        from_iter(blocks[..from].iter().rev().map(digested))
    }

    #[test]
    fn notarized_ancestors_lost_in_a_crash_are_verified_again_oldest_first() {
        let blocks = chain(6);
        // Finalized head 1; 2..=4 were notarized and executed by the crashed process only.
        let app = Restarted {
            known: Arc::new(Mutex::new(vec![0, 1])),
            ..Default::default()
        };
        let mut ancestry = ancestors(&blocks, 4);
        assert!(futures::executor::block_on(catch_up(
            &app,
            &digested(&blocks[4]),
            &mut ancestry
        )));
        assert_eq!(*app.verified.lock().unwrap(), vec![2, 3, 4]);
        assert!(app.has_state_after(&blocks[4]));
    }

    #[test]
    fn a_known_parent_needs_nothing_and_a_bad_ancestor_stops_the_catch_up() {
        let blocks = chain(6);
        let app = Restarted {
            known: Arc::new(Mutex::new(vec![0, 1, 2, 3])),
            ..Default::default()
        };
        let mut ancestry = ancestors(&blocks, 3);
        assert!(futures::executor::block_on(catch_up(
            &app,
            &digested(&blocks[3]),
            &mut ancestry
        )));
        assert!(app.verified.lock().unwrap().is_empty());

        let app = Restarted {
            known: Arc::new(Mutex::new(vec![0])),
            reject: Some(2),
            ..Default::default()
        };
        let mut ancestry = ancestors(&blocks, 4);
        assert!(!futures::executor::block_on(catch_up(
            &app,
            &digested(&blocks[4]),
            &mut ancestry
        )));
        assert_eq!(*app.verified.lock().unwrap(), vec![1]);
    }
}
