//! The validator engine: simplex consensus + marshal (block archive, ordered delivery,
//! backfill) + buffered block broadcast, wired to an [`Application`].
//!
//! [`start_validator`] is generic over the runtime (tokio in production, deterministic in
//! tests) and over the p2p network (authenticated `lookup` in production, see
//! [`crate::network`]; the simulated network in tests): it takes five channel pairs, a peer
//! blocker and a peer-set provider.

use crate::{
    Application, ConsensusError,
    application::{Adapter, Finalizer, MarshalMailbox, deliver, finality_proof},
    block::{ConsensusBlock, to_b256, to_digest},
    certificate::{EPOCH, NAMESPACE, PublicKey, Scheme, validator_set},
};
use alloy_primitives::B256;
use commonware_broadcast::buffered;
use commonware_consensus::{
    marshal::{self, Identifier, core::Actor as MarshalActor, standard::Inline},
    simplex::{
        self,
        config::{ForwardPolicy, SkipBudget, SkipPolicy},
        elector::RoundRobin,
    },
    types::{FixedEpocher, Height, ViewDelta},
};
use commonware_cryptography::{
    Digested,
    certificate::{ConstantProvider, Verifier as _},
    ed25519,
    sha256::Sha256,
};
use commonware_p2p::{Blocker, Provider, Receiver, Sender};
use commonware_parallel::Sequential;
use commonware_runtime::{
    Clock, Handle, Metrics, Spawner, Storage,
    buffer::paged::{CacheRef, page_size},
};
use commonware_storage::archive::immutable;
use commonware_utils::{NZU64, NZUsize, NonZeroDuration};
use futures::future::try_join_all;
use rand::{CryptoRng, Rng};
use std::{
    num::{NonZeroU64, NonZeroUsize},
    sync::Arc,
    time::Duration,
};
use tracing::{error, warn};
use verai_primitives::{Block, MAX_BLOCK_BYTES};

/// One epoch forever: the validator set is fixed.
const EPOCH_LENGTH: NonZeroU64 = NZU64!(u64::MAX);
const ITEMS_PER_SECTION: NonZeroU64 = NZU64!(4_096);
const PRUNABLE_ITEMS_PER_SECTION: NonZeroU64 = NZU64!(1_024);
const FREEZER_TABLE_INITIAL_SIZE: u32 = 1 << 12;
const FREEZER_TABLE_RESIZE_FREQUENCY: u8 = 4;
const FREEZER_TABLE_RESIZE_CHUNK_SIZE: u32 = 1 << 14;
const FREEZER_VALUE_TARGET_SIZE: u64 = 256 * 1024 * 1024;
const REPLAY_BUFFER: NonZeroUsize = NZUsize!(1024 * 1024);
const WRITE_BUFFER: NonZeroUsize = NZUsize!(64 * 1024);
const PAGE_CACHE_PAGES: NonZeroUsize = NZUsize!(2_048);
const MAX_REPAIR: NonZeroUsize = NZUsize!(16);
const MAX_PENDING_ACKS: NonZeroUsize = NZUsize!(16);
const BUFFER_DEQUE_SIZE: usize = 16;

/// Consensus timing. See [`Timeouts::dev`] and [`Timeouts::network`].
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// How long a view waits for the leader's proposal (and how long
    /// [`Application::propose`] may take) before nullifying the view.
    pub leader: Duration,
    /// How long a view waits for certification progress before nullifying. `> leader`.
    pub certification: Duration,
    /// Delay before re-broadcasting a nullify vote when stuck in a view.
    pub timeout_retry: Duration,
    /// Inactive-leader skip timeout. `> certification` and `> timeout_retry`.
    pub skip: Duration,
    /// Timeout of a request to a peer (missing certificates, backfilled blocks).
    pub fetch: Duration,
    /// Delay before retrying a fetch that got no answer.
    pub fetch_retry: Duration,
    /// Pause after [`Application::propose`] returns `None`, before the view is given up.
    pub idle_backoff: Duration,
}

impl Timeouts {
    /// A one-validator dev chain: no network, so views finalize as soon as the application
    /// proposes; the leader timeout only bounds how long `propose` may wait for transactions.
    pub fn dev() -> Self {
        Self {
            leader: Duration::from_secs(2),
            certification: Duration::from_secs(3),
            timeout_retry: Duration::from_secs(1),
            skip: Duration::from_secs(4),
            fetch: Duration::from_secs(1),
            fetch_retry: Duration::from_millis(100),
            idle_backoff: Duration::from_millis(250),
        }
    }

    /// A multi-validator network (local testnet or LAN/WAN).
    pub fn network() -> Self {
        Self {
            leader: Duration::from_secs(1),
            certification: Duration::from_secs(2),
            timeout_retry: Duration::from_secs(1),
            skip: Duration::from_secs(3),
            fetch: Duration::from_secs(1),
            fetch_retry: Duration::from_millis(100),
            idle_backoff: Duration::from_millis(250),
        }
    }

    fn check(&self) -> Result<(), ConsensusError> {
        let ok = self.leader > Duration::ZERO
            && self.certification > self.leader
            && self.timeout_retry > Duration::ZERO
            && self.skip > self.certification
            && self.skip > self.timeout_retry
            && self.fetch > Duration::ZERO
            && self.idle_backoff < self.leader;
        if ok {
            Ok(())
        } else {
            Err(ConsensusError::InvalidConfig(
                "timeouts must satisfy 0 < leader < certification < skip, retry < skip, idle_backoff < leader",
            ))
        }
    }
}

/// Configuration of one validator.
pub struct ValidatorConfig<B, P> {
    /// This validator's ed25519 key (p2p identity and vote signing key).
    pub signer: ed25519::PrivateKey,
    /// The fixed validator set (any order; it is sorted). Must contain `signer`'s key.
    pub validators: Vec<PublicKey>,
    /// Prefix of every storage partition (one node per prefix; keep it across restarts).
    pub partition_prefix: String,
    /// Blocks misbehaving peers (the p2p oracle).
    pub blocker: B,
    /// Peer sets to send to (the p2p oracle, or the simulated network's manager).
    pub peer_provider: P,
    /// Consensus timing.
    pub timeouts: Timeouts,
    /// Capacity of internal mailboxes.
    pub mailbox_size: NonZeroUsize,
    /// Largest accepted block encoding in bytes (capped at [`MAX_BLOCK_BYTES`]); must be the
    /// same on every validator.
    pub max_block_bytes: usize,
}

/// The five p2p channels the engine uses, as (sender, receiver) pairs.
pub struct Channels<S, R> {
    /// Simplex votes ([`crate::network::CHANNEL_VOTES`]).
    pub votes: (S, R),
    /// Simplex certificates ([`crate::network::CHANNEL_CERTIFICATES`]).
    pub certificates: (S, R),
    /// Simplex certificate fetches ([`crate::network::CHANNEL_RESOLVER`]).
    pub resolver: (S, R),
    /// Block broadcast ([`crate::network::CHANNEL_BROADCAST`]).
    pub broadcast: (S, R),
    /// Marshal backfill of blocks and finalizations ([`crate::network::CHANNEL_BACKFILL`]).
    pub backfill: (S, R),
}

/// Read access to what consensus finalized (for RPC); cheap to clone.
#[derive(Clone)]
pub struct ConsensusHandle {
    marshal: MarshalMailbox,
}

impl ConsensusHandle {
    /// Encoded [`FinalityProof`](crate::FinalityProof) of the finalized block at `height`
    /// (what `verai_getCertificate` returns), or `None` if not finalized or not stored here.
    pub async fn certificate(&self, height: u64) -> Option<Vec<u8>> {
        finality_proof(&self.marshal, height)
            .await
            .map(|p| p.encode())
    }

    /// The finalized block at `height`, from marshal's archive.
    pub async fn finalized_block(&self, height: u64) -> Option<Arc<Block>> {
        let block: Digested<ConsensusBlock> = self.marshal.get_block(Height::new(height)).await?;
        Some(block.inner().0.clone())
    }

    /// Height and hash of the highest finalized block known to this node.
    pub async fn latest_finalized(&self) -> Option<(u64, B256)> {
        let (height, digest) = self.marshal.get_info(Identifier::Latest).await?;
        Some((height.get(), to_b256(&digest)))
    }

    /// Height of the finalized block with hash `hash`, if stored.
    pub async fn finalized_by_hash(&self, hash: B256) -> Option<u64> {
        let digest = to_digest(hash);
        let (height, _) = self.marshal.get_info(Identifier::Digest(digest)).await?;
        Some(height.get())
    }
}

/// A running validator.
pub struct Validator {
    /// Read access to finalized blocks and certificates.
    pub handle: ConsensusHandle,
    /// Completes when any engine component stops (or the runtime shuts down).
    pub task: Handle<()>,
}

/// Starts a validator: simplex + marshal + block broadcast, delivering finalized blocks to
/// `app`. Works for one validator (the dev chain) and for N.
///
/// Storage: every partition starts with `config.partition_prefix` (the runtime's storage
/// maps partitions to files under its directory). Restarting with the same prefix resumes.
pub async fn start_validator<E, A, B, P, S, R>(
    context: E,
    config: ValidatorConfig<B, P>,
    channels: Channels<S, R>,
    app: A,
) -> Result<Validator, ConsensusError>
where
    E: Clock + Rng + CryptoRng + Spawner + Storage + Metrics,
    A: Application,
    B: Blocker<PublicKey = PublicKey>,
    P: Provider<PublicKey = PublicKey>,
    S: Sender<PublicKey = PublicKey>,
    R: Receiver<PublicKey = PublicKey>,
{
    config.timeouts.check()?;
    if config.max_block_bytes == 0 || config.max_block_bytes > MAX_BLOCK_BYTES {
        return Err(ConsensusError::InvalidConfig(
            "max_block_bytes out of range",
        ));
    }
    let participants = validator_set(&config.validators)?;
    let me = commonware_cryptography::Signer::public_key(&config.signer);
    let scheme = Scheme::signer(NAMESPACE, participants, config.signer)
        .ok_or(ConsensusError::NotAValidator)?;
    let timeouts = config.timeouts;
    let prefix = config.partition_prefix;
    let mailbox_size = config.mailbox_size;
    let fetch_timeout = NonZeroDuration::new(timeouts.fetch).ok_or(
        ConsensusError::InvalidConfig("fetch timeout must be positive"),
    )?;

    let genesis = ConsensusBlock::new(app.genesis());
    if genesis.block().number() != 0 {
        return Err(ConsensusError::InvalidConfig("genesis must be at height 0"));
    }
    let genesis_digest = to_digest(genesis.block().hash());
    let genesis = Digested::precomputed(genesis, genesis_digest);

    // Block broadcast (proposals travel whole to every validator).
    let (buffer, buffer_mailbox) = buffered::Engine::new(
        context.child("buffer"),
        buffered::Config {
            public_key: me.clone(),
            mailbox_size,
            deque_size: BUFFER_DEQUE_SIZE,
            priority: false,
            codec_config: config.max_block_bytes,
            peer_provider: config.peer_provider.clone(),
            strategy: Sequential,
        },
    );

    // Marshal's archives: finalizations and finalized blocks, by height and by digest.
    let page_cache = CacheRef::new(page_size(4_096), PAGE_CACHE_PAGES);
    let archive_config = |name: &str, codec_config| immutable::Config {
        metadata_partition: format!("{prefix}-{name}-metadata"),
        freezer_table_partition: format!("{prefix}-{name}-freezer-table"),
        freezer_table_initial_size: FREEZER_TABLE_INITIAL_SIZE,
        freezer_table_resize_frequency: FREEZER_TABLE_RESIZE_FREQUENCY,
        freezer_table_resize_chunk_size: FREEZER_TABLE_RESIZE_CHUNK_SIZE,
        freezer_key_partition: format!("{prefix}-{name}-freezer-key"),
        freezer_key_page_cache: page_cache.clone(),
        freezer_value_partition: format!("{prefix}-{name}-freezer-value"),
        freezer_value_target_size: FREEZER_VALUE_TARGET_SIZE,
        freezer_value_compression: None,
        ordinal_partition: format!("{prefix}-{name}-ordinal"),
        items_per_section: ITEMS_PER_SECTION,
        freezer_key_write_buffer: WRITE_BUFFER,
        freezer_value_write_buffer: WRITE_BUFFER,
        ordinal_write_buffer: WRITE_BUFFER,
        replay_buffer: REPLAY_BUFFER,
        codec_config,
    };
    let finalizations = immutable::Archive::init(
        context.child("finalizations"),
        archive_config(
            "finalizations",
            Scheme::certificate_codec_config_unbounded(),
        ),
    )
    .await
    .map_err(|_| ConsensusError::InvalidConfig("cannot open the finalizations archive"))?;
    let blocks = immutable::Archive::init(
        context.child("blocks"),
        archive_config("blocks", config.max_block_bytes),
    )
    .await
    .map_err(|_| ConsensusError::InvalidConfig("cannot open the blocks archive"))?;

    let epocher = FixedEpocher::new(EPOCH_LENGTH);
    let view_retention = ViewDelta::new(256);
    let (marshal_actor, marshal_mailbox, _floor) = MarshalActor::init(
        context.child("marshal"),
        finalizations,
        blocks,
        marshal::Config {
            provider: ConstantProvider::new(scheme.clone()),
            epocher: epocher.clone(),
            start: marshal::Start::Genesis(genesis),
            partition_prefix: format!("{prefix}-marshal"),
            mailbox_size,
            view_retention: ViewDelta::new(view_retention.get().saturating_mul(10)),
            prunable_items_per_section: PRUNABLE_ITEMS_PER_SECTION,
            page_cache: page_cache.clone(),
            replay_buffer: REPLAY_BUFFER,
            key_write_buffer: WRITE_BUFFER,
            value_write_buffer: WRITE_BUFFER,
            block_codec_config: config.max_block_bytes,
            max_repair: MAX_REPAIR,
            max_pending_acks: MAX_PENDING_ACKS,
            strategy: Sequential,
        },
    )
    .await;

    // Backfill resolver (missing blocks and finalizations from peers).
    let backfill = marshal::resolver::p2p::init(
        context.child("backfill"),
        marshal::resolver::p2p::Config {
            public_key: me,
            peer_provider: config.peer_provider,
            blocker: config.blocker.clone(),
            mailbox_size,
            fetch_timeout,
            fetch_retry_delay: timeouts.fetch_retry,
            priority_requests: false,
            priority_responses: false,
        },
        channels.backfill,
    );

    // The application, wrapped for marshal (inline verification: our blocks do not embed
    // the consensus context, see the crate docs).
    let adapter = Adapter::new(app.clone(), timeouts.idle_backoff);
    let inline = Inline::new(
        context.child("inline"),
        adapter,
        marshal_mailbox.clone(),
        epocher,
    );

    let consensus = simplex::Engine::new(
        context.child("simplex"),
        simplex::Config {
            scheme,
            elector: RoundRobin::<Sha256>::default(),
            blocker: config.blocker,
            automaton: inline.clone(),
            relay: inline.clone(),
            reporter: inline,
            strategy: Sequential,
            partition: format!("{prefix}-simplex"),
            mailbox_size,
            epoch: EPOCH,
            floor: simplex::Floor::Genesis(genesis_digest),
            replay_buffer: REPLAY_BUFFER,
            write_buffer: WRITE_BUFFER,
            page_cache,
            leader_timeout: timeouts.leader,
            certification_timeout: timeouts.certification,
            timeout_retry: timeouts.timeout_retry,
            view_retention,
            skip: SkipPolicy::Enabled {
                timeout: timeouts.skip,
                budget: SkipBudget::Participants,
            },
            fetch_timeout,
            fetch_retry_delay: timeouts.fetch_retry,
            forward: ForwardPolicy::SilentLeader,
            track_historical_votes: false,
        },
    );

    // Start: delivery first, then marshal, then consensus (so replayed events find a reader).
    let (finalizer, deliveries) = Finalizer::new();
    let delivery_marshal = marshal_mailbox.clone();
    let delivery = context.child("delivery").spawn(move |runtime| async move {
        deliver(runtime, app, delivery_marshal, deliveries).await;
    });
    let buffer_task = buffer.start(channels.broadcast);
    let marshal_task = marshal_actor.start(finalizer, buffer_mailbox, backfill);
    let consensus_task = consensus.start(channels.votes, channels.certificates, channels.resolver);

    let task = context.child("supervisor").spawn(move |_| async move {
        match try_join_all([buffer_task, marshal_task, consensus_task, delivery]).await {
            Ok(_) => warn!("consensus engine stopped"),
            Err(e) => error!(?e, "consensus engine failed"),
        }
    });

    Ok(Validator {
        handle: ConsensusHandle {
            marshal: marshal_mailbox,
        },
        task,
    })
}
