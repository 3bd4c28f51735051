//! Node configuration (built by the binary from flags and TOML).

use crate::{DeployAudits, OwnModel, ProducerConfig};
use alloy_signer_local::PrivateKeySigner;
use std::{net::SocketAddr, path::PathBuf};
use verai_consensus::{PrivateKey, PublicKey, Timeouts};
use verai_primitives::{ChainSpec, ModuleSet, sentinel::SentinelConfig};

/// This validator's key and the fixed validator set with their p2p addresses.
pub struct ValidatorKeys {
    /// Our ed25519 key (p2p identity and consensus votes).
    pub signer: PrivateKey,
    /// Every validator's public key and p2p address, ours included.
    pub validators: Vec<(PublicKey, SocketAddr)>,
    /// Where our p2p listens.
    pub p2p_listen: SocketAddr,
}

impl std::fmt::Debug for ValidatorKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValidatorKeys")
            .field("validators", &self.validators.len())
            .finish_non_exhaustive()
    }
}

/// Everything [`crate::run`] needs.
pub struct NodeConfig {
    /// Where the redb index lives (the runtime's storage directory holds QMDB and marshal).
    pub datadir: PathBuf,
    /// The chain.
    pub spec: ChainSpec,
    /// The native modules (consensus configuration: `verai_modules::native_modules()`).
    pub modules: ModuleSet,
    /// JSON-RPC listen address.
    pub rpc_addr: SocketAddr,
    /// Tokens and node-local write limits of JSON-RPC.
    pub rpc_access: verai_rpc::access::AccessOptions,
    /// Most bytes the blob store holds.
    pub blob_capacity: u64,
    /// Where the explorer and GraphQL listen; `None`: off.
    pub explorer_addr: Option<SocketAddr>,
    /// Validator identity and peers.
    pub keys: ValidatorKeys,
    /// Block production.
    pub producer: ProducerConfig,
    /// Consensus timing.
    pub timeouts: Timeouts,
    /// Pool bounds.
    pub pool: verai_mempool::PoolConfig,
    /// Audit every contract finalized blocks deploy (`verai_getAudit`); `None`: off.
    pub audit_deploys: Option<DeployAudits>,
    /// Screen every admitted transaction (`verai_getAlerts`); `None`: off.
    pub sentinel: Option<SentinelConfig>,
    /// The sentinel's model, to record in provenance.
    pub sentinel_model: Option<OwnModel>,
    /// The key the node signs its own provenance records with (its models, each deploy
    /// audit); `None`: the node records nothing.
    pub operator: Option<PrivateKeySigner>,
}

impl std::fmt::Debug for NodeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeConfig")
            .field("datadir", &self.datadir)
            .field("rpc_addr", &self.rpc_addr)
            .field("explorer_addr", &self.explorer_addr)
            .field("keys", &self.keys)
            .field("producer", &self.producer)
            .field("timeouts", &self.timeouts)
            .field("modules", &self.modules)
            .field("audit_deploys", &self.audit_deploys)
            .field("sentinel", &self.sentinel)
            .field("operator", &self.operator.as_ref().map(|s| s.address()))
            .finish_non_exhaustive()
    }
}
