//! P2p wiring: channel numbers, rate limits, message size, and the authenticated `lookup`
//! network for production (fixed validators at known addresses).
//!
//! Every validator must use the same channel numbers, namespace and maximum message size.

use crate::{
    block::ConsensusBlock,
    certificate::{PublicKey, Scheme},
    engine::Channels,
};
use commonware_consensus::{
    marshal::{self, standard::Standard},
    simplex,
};
use commonware_cryptography::{ChaCha20Poly1305, Signer as _, ed25519};
use commonware_p2p::{Address, AddressableManager as _, Channel, authenticated::lookup};
use commonware_runtime::{Clock, Handle, Metrics, Network as RNetwork, Quota, Resolver, Spawner};
use commonware_stream::{
    cups::{self, Cups},
    sake::{self, Sake},
};
use commonware_utils::{NZU32, NZUsize, ordered::Map};
use rand::CryptoRng;
use std::{net::SocketAddr, time::Duration};

/// Simplex votes.
pub const CHANNEL_VOTES: Channel = 0;
/// Simplex certificates (notarizations, nullifications, finalizations).
pub const CHANNEL_CERTIFICATES: Channel = 1;
/// Simplex certificate fetches.
pub const CHANNEL_RESOLVER: Channel = 2;
/// Proposed blocks.
pub const CHANNEL_BROADCAST: Channel = 3;
/// Marshal backfill (blocks and finalizations by height or digest).
pub const CHANNEL_BACKFILL: Channel = 4;
/// The node's genesis handshake (not used by the engine).
pub const CHANNEL_HELLO: Channel = 5;
/// The node's mempool gossip (not used by the engine).
pub const CHANNEL_TXS: Channel = 6;
/// The node's blob exchange (not used by the engine).
pub const CHANNEL_BLOBS: Channel = 7;

/// All channels with their per-peer rate limit.
pub fn channel_quotas() -> [(Channel, Quota); 5] {
    [
        (CHANNEL_VOTES, Quota::per_second(NZU32!(10_000))),
        (CHANNEL_CERTIFICATES, Quota::per_second(NZU32!(10_000))),
        (CHANNEL_RESOLVER, Quota::per_second(NZU32!(1_000))),
        (CHANNEL_BROADCAST, Quota::per_second(NZU32!(1_000))),
        (CHANNEL_BACKFILL, Quota::per_second(NZU32!(1_000))),
    ]
}

/// The node's own channels (genesis handshake, mempool gossip, blob exchange) with their
/// per-peer rate limit.
pub fn node_channel_quotas() -> [(Channel, Quota); 3] {
    [
        (CHANNEL_HELLO, Quota::per_second(NZU32!(100))),
        (CHANNEL_TXS, Quota::per_second(NZU32!(2_000))),
        (CHANNEL_BLOBS, Quota::per_second(NZU32!(100))),
    ]
}

/// Largest payload any component sends, for `validators` validators and blocks of at most
/// `max_block_bytes`: the network's `max_message_size`.
pub fn max_message_size(validators: u32, max_block_bytes: usize) -> u32 {
    let consensus = simplex::max_payload_size::<Scheme, crate::Digest>(validators);
    let marshal =
        marshal::max_payload_size::<Standard<ConsensusBlock>, Scheme>(validators, &max_block_bytes);
    commonware_p2p::max_message_size(&[consensus, marshal])
}

/// Where a validator listens and who its peers are.
#[derive(Clone, Debug)]
pub struct LookupConfig {
    /// Application namespace for the p2p handshake (e.g. `b"verai-devnet-1337"`).
    pub namespace: Vec<u8>,
    /// Address to listen on (e.g. `127.0.0.1:30303`).
    pub listen: SocketAddr,
    /// Every validator (including this one) and the address it listens on.
    pub peers: Vec<(PublicKey, SocketAddr)>,
    /// Largest block in bytes (see [`max_message_size`]).
    pub max_block_bytes: usize,
    /// Allow private addresses (127.0.0.1, 10.x, ...): true for local networks.
    pub allow_private_ips: bool,
}

/// The lookup network's sender and receiver types.
pub type LookupSender<E> = lookup::Sender<PublicKey, E>;
/// The lookup network's receiver type.
pub type LookupReceiver = lookup::Receiver<PublicKey>;

/// A started authenticated p2p network: channels for the engine, the oracle (blocker and peer
/// provider) and the network task.
pub struct LookupNetwork<E: Clock> {
    /// Channels to pass to [`start_validator`](crate::start_validator).
    pub channels: Channels<LookupSender<E>, LookupReceiver>,
    /// The node's genesis handshake channel ([`CHANNEL_HELLO`]).
    pub hello: (LookupSender<E>, LookupReceiver),
    /// The node's mempool gossip channel ([`CHANNEL_TXS`]).
    pub txs: (LookupSender<E>, LookupReceiver),
    /// The node's blob exchange channel ([`CHANNEL_BLOBS`]).
    pub blobs: (LookupSender<E>, LookupReceiver),
    /// Blocker and peer-set provider for [`ValidatorConfig`](crate::ValidatorConfig).
    pub oracle: lookup::Oracle<PublicKey>,
    /// The network task.
    pub task: Handle<()>,
}

/// Starts the authenticated `lookup` p2p network (encrypted, ed25519-authenticated streams)
/// for a fixed validator set at known addresses.
pub fn start_lookup<E>(
    context: E,
    signer: ed25519::PrivateKey,
    config: LookupConfig,
) -> Result<LookupNetwork<E>, crate::ConsensusError>
where
    E: Spawner + Clock + CryptoRng + RNetwork + Resolver + Metrics,
{
    let peers: Map<PublicKey, Address> = Map::try_from(
        config
            .peers
            .iter()
            .map(|(key, addr)| (key.clone(), Address::from(*addr)))
            .collect::<Vec<_>>(),
    )
    .map_err(|_| crate::ConsensusError::InvalidValidatorSet("duplicate peer key"))?;
    let me = signer.public_key();
    if !config.peers.iter().any(|(key, _)| *key == me) {
        return Err(crate::ConsensusError::NotAValidator);
    }
    let count = u32::try_from(peers.len())
        .map_err(|_| crate::ConsensusError::InvalidValidatorSet("too many peers"))?;
    let handshake = Cups::<_, ChaCha20Poly1305>::new(
        Sake {
            signer,
            synchrony_bound: Duration::from_secs(5),
            max_handshake_age: Duration::from_secs(10),
            version: sake::Version::V1,
        },
        cups::Version::V1,
    );
    let max_peers =
        NZUsize!(1024).min(std::num::NonZeroUsize::new(peers.len() + 1).unwrap_or(NZUsize!(1)));
    let mut p2p = lookup::Config::local(
        handshake,
        &config.namespace,
        config.listen,
        max_peers,
        max_message_size(count, config.max_block_bytes),
        NZUsize!(1_024),
    );
    p2p.allow_private_ips = config.allow_private_ips;
    let (mut network, mut oracle) = lookup::Network::new(context, p2p);
    let _ = oracle.track(0, peers);

    let [votes, certificates, resolver, broadcast, backfill] =
        channel_quotas().map(|(channel, quota)| network.register(channel, quota));
    let [hello, txs, blobs] =
        node_channel_quotas().map(|(channel, quota)| network.register(channel, quota));
    let task = network.start();
    Ok(LookupNetwork {
        channels: Channels {
            votes,
            certificates,
            resolver,
            broadcast,
            backfill,
        },
        hello,
        txs,
        blobs,
        oracle,
        task,
    })
}
