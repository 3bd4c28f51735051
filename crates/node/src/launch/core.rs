//! A node without RPC: chain state plus consensus plus the node's p2p protocols, over any
//! p2p network (authenticated `lookup` in production, the simulated network in tests).

use crate::{
    NodeError,
    app::App,
    chain::Chain,
    launch::open::{ChainConfig, open_blobs, open_chain},
    net::{
        blobs::{BlobExchange, serve},
        peers::{genesis_handshake, gossip_in, gossip_out},
    },
};
use alloy_primitives::{Address, B256};
use commonware_p2p::{Blocker, Provider, Receiver, Sender};
use commonware_runtime::{Clock, Metrics, Spawner, Storage, Supervisor};
use futures::channel::oneshot;
use rand::{CryptoRng, Rng};
use std::sync::Arc;
use verai_consensus::{
    Channels, ConsensusHandle, PrivateKey, PublicKey, Timeouts, ValidatorConfig, start_validator,
};
use verai_primitives::{AccountState, Block, RecoveredTx};
use verai_storage::StateContext;

/// What a node runs on: the engine's five channels, the node's two, and the p2p oracle.
pub struct NodeNetwork<S, R, B, P> {
    /// Consensus and marshal channels.
    pub channels: Channels<S, R>,
    /// Genesis handshake.
    pub hello: (S, R),
    /// Mempool gossip.
    pub txs: (S, R),
    /// Blob exchange.
    pub blobs: (S, R),
    /// Blocks misbehaving peers.
    pub blocker: B,
    /// Peer sets.
    pub peer_provider: P,
}

/// Identity, validator set and timing of one validator.
#[derive(Debug)]
pub struct CoreConfig {
    /// Chain state.
    pub chain: ChainConfig,
    /// Our consensus and p2p key.
    pub signer: PrivateKey,
    /// The fixed validator set, ours included.
    pub validators: Vec<PublicKey>,
    /// Consensus timing.
    pub timeouts: Timeouts,
}

/// A running validator without RPC.
pub struct Core<E: StateContext> {
    pub(crate) chain: Arc<Chain<E>>,
    /// Finalized blocks and certificates.
    pub consensus: ConsensusHandle,
}

impl<E: StateContext> Clone for Core<E> {
    fn clone(&self) -> Self {
        Self {
            chain: self.chain.clone(),
            consensus: self.consensus.clone(),
        }
    }
}

impl<E: StateContext> Core<E> {
    /// Submit a raw EIP-2718 transaction as a client would (it is gossiped to peers). A
    /// provenance record's blob missing here is fetched from peers first.
    pub async fn submit_raw(&self, raw: &[u8]) -> Result<B256, NodeError> {
        let tx = RecoveredTx::decode(raw)?;
        self.chain
            .fetch_blobs(&tx)
            .await
            .map_err(|e| NodeError::Rejected(e.to_string()))?;
        self.chain
            .submit_local(tx)
            .map_err(|e| NodeError::Rejected(e.to_string()))
    }

    /// Height of the latest applied finalized block.
    pub fn latest(&self) -> u64 {
        self.chain.latest()
    }

    /// The finalized block at `number`, from the index.
    pub fn block(&self, number: u64) -> Result<Option<Arc<Block>>, NodeError> {
        if number > self.chain.latest() {
            return Ok(None);
        }
        Ok(self.chain.block_and_receipts(number)?.map(|(b, _)| b))
    }

    /// Receipt statuses of the finalized block at `number` (true: success), in order.
    pub fn receipt_statuses(&self, number: u64) -> Result<Option<Vec<bool>>, NodeError> {
        if number > self.chain.latest() {
            return Ok(None);
        }
        Ok(self
            .chain
            .block_and_receipts(number)?
            .map(|(_, receipts)| receipts.iter().map(|r| r.receipt.status()).collect()))
    }

    /// The genesis block hash.
    pub fn genesis_hash(&self) -> B256 {
        self.chain.genesis().hash()
    }

    /// An account in the finalized state.
    pub fn account(&self, address: &Address) -> Result<AccountState, NodeError> {
        self.chain.account(address)
    }

    /// The node's blob store.
    pub fn blobs(&self) -> Option<Arc<verai_provenance::blob::BlobStore>> {
        self.chain.blob_exchange().map(|ex| ex.store().clone())
    }

    /// Transactions waiting in the pool.
    pub fn pool_len(&self) -> usize {
        self.chain.pool().len()
    }

    /// True once a finalized block failed to apply (the node stops applying blocks).
    pub fn halted(&self) -> bool {
        self.chain.halted()
    }
}

/// Open the chain, agree on genesis with the validators, then start consensus and gossip.
///
/// Returns only once a quorum of validators shares this node's genesis hash, or with
/// [`NodeError::GenesisMismatch`] once `f + 1` of them report another.
pub async fn start_core<E, S, R, B, P>(
    context: E,
    config: CoreConfig,
    network: NodeNetwork<S, R, B, P>,
) -> Result<Core<E>, NodeError>
where
    E: StateContext + Supervisor + Clock + Rng + CryptoRng + Spawner + Storage + Metrics,
    S: Sender<PublicKey = PublicKey>,
    R: Receiver<PublicKey = PublicKey>,
    B: Blocker<PublicKey = PublicKey>,
    P: Provider<PublicKey = PublicKey>,
{
    let chain = open_chain(&context, &config.chain).await?;
    let me = commonware_cryptography::Signer::public_key(&config.signer);
    if !config.validators.contains(&me) {
        return Err(verai_consensus::ConsensusError::NotAValidator.into());
    }
    let (decided, decision) = oneshot::channel();
    let genesis = chain.genesis().hash();
    let validators = config.validators.clone();
    context
        .child("hello")
        .spawn(move |ctx| genesis_handshake(ctx, me, validators, genesis, network.hello, decided));
    decision
        .await
        .map_err(|_| NodeError::Inconsistent("the genesis handshake stopped".into()))??;

    let store = open_blobs(&config.chain)?;
    let (blobs_out, blobs_in) = network.blobs;
    let exchange = Arc::new(BlobExchange::new(store, blobs_out));
    chain.set_blobs(exchange.clone());
    context
        .child("blobs")
        .spawn(move |_| serve(exchange, blobs_in));
    let (txs_out, txs_in) = network.txs;
    context.child("gossip_out").spawn({
        let chain = chain.clone();
        move |_| gossip_out(chain, txs_out)
    });
    context.child("gossip_in").spawn({
        let chain = chain.clone();
        move |_| gossip_in(chain, txs_in)
    });
    let validator = start_validator(
        context.child("consensus"),
        ValidatorConfig {
            signer: config.signer,
            validators: config.validators,
            partition_prefix: config.chain.partition.clone(),
            blocker: network.blocker,
            peer_provider: network.peer_provider,
            timeouts: config.timeouts,
            mailbox_size: std::num::NonZeroUsize::new(1024).unwrap_or(std::num::NonZeroUsize::MIN),
            max_block_bytes: verai_primitives::MAX_BLOCK_BYTES,
        },
        network.channels,
        App {
            chain: chain.clone(),
        },
    )
    .await?;
    Ok(Core {
        chain,
        consensus: validator.handle,
    })
}
