//! Starting the HTTP + WebSocket server.

use crate::{
    Backend, eth::Eth, market::MarketRpc, provenance::ProvenanceRpc, pubsub::PubSub,
    sentinel::SentinelRpc, verai::Verai,
};
use jsonrpsee::{
    RpcModule,
    server::{BatchRequestConfig, Server, ServerConfig, ServerHandle},
};
use std::{net::SocketAddr, sync::Arc};
use verai_rpc_api::{
    DebugApiServer, EthApiServer, EthPubSubApiServer, MarketApiServer, NetApiServer,
    ProvenanceApiServer, SentinelApiServer, VeraiApiServer, Web3ApiServer,
};

/// Server limits and identity.
#[derive(Debug, Clone)]
pub struct RpcConfig {
    /// Listen address.
    pub addr: SocketAddr,
    /// Largest request body (bytes); larger ones are refused before parsing.
    pub max_request_bytes: u32,
    /// Largest response body (bytes).
    pub max_response_bytes: u32,
    /// Concurrent connections.
    pub max_connections: u32,
    /// Most calls in one JSON-RPC batch; a larger batch is refused whole.
    pub max_batch: u32,
    /// `web3_clientVersion`.
    pub client_version: String,
}

impl RpcConfig {
    /// Defaults on `addr`: 5 MiB requests (room for a 128 KiB transaction many times over),
    /// 64 MiB responses, 256 connections, batches of at most 1,000 calls (geth's limit).
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            max_request_bytes: 5 * 1024 * 1024,
            max_response_bytes: 64 * 1024 * 1024,
            max_connections: 256,
            max_batch: 1_000,
            client_version: format!("verai/v{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// The method implementations over one backend, for callers in this process that serve the
/// same data another way (the explorer's pages and GraphQL answer what JSON-RPC answers
/// because they call these).
pub struct Handlers<B> {
    /// `eth_`, `net_`, `web3_`.
    pub eth: Eth<B>,
    /// Provenance queries and blobs.
    pub provenance: ProvenanceRpc<B>,
    /// Listings, earnings, grants, stacks.
    pub market: MarketRpc<B>,
    /// The sentinel's methods.
    pub sentinel: SentinelRpc<B>,
    /// Proofs, certificates, audits, raw blocks.
    pub verai: Verai<B>,
}

impl<B: Backend> Handlers<B> {
    /// The handlers over `backend`.
    pub fn new(backend: Arc<B>, client_version: String) -> Self {
        Self {
            eth: Eth {
                backend: backend.clone(),
                client_version,
            },
            provenance: ProvenanceRpc {
                backend: backend.clone(),
            },
            market: MarketRpc {
                backend: backend.clone(),
            },
            sentinel: SentinelRpc {
                backend: backend.clone(),
            },
            verai: Verai { backend },
        }
    }
}

/// Build the module with every namespace, for the server or for in-process calls in tests.
pub fn module<B: Backend>(
    backend: Arc<B>,
    client_version: String,
) -> Result<RpcModule<()>, jsonrpsee::core::RegisterMethodError> {
    let mut m = RpcModule::new(());
    let eth = Eth {
        backend: backend.clone(),
        client_version,
    };
    let eth2 = Eth {
        backend: backend.clone(),
        client_version: eth.client_version.clone(),
    };
    let eth3 = Eth {
        backend: backend.clone(),
        client_version: eth.client_version.clone(),
    };
    m.merge(Web3ApiServer::into_rpc(eth))?;
    m.merge(NetApiServer::into_rpc(eth2))?;
    m.merge(EthApiServer::into_rpc(eth3))?;
    m.merge(EthPubSubApiServer::into_rpc(PubSub {
        backend: backend.clone(),
    }))?;
    m.merge(ProvenanceApiServer::into_rpc(ProvenanceRpc {
        backend: backend.clone(),
    }))?;
    m.merge(MarketApiServer::into_rpc(MarketRpc {
        backend: backend.clone(),
    }))?;
    m.merge(DebugApiServer::into_rpc(Verai {
        backend: backend.clone(),
    }))?;
    m.merge(SentinelApiServer::into_rpc(SentinelRpc {
        backend: backend.clone(),
    }))?;
    m.merge(VeraiApiServer::into_rpc(Verai { backend }))?;
    Ok(m)
}

/// Start serving; the server stops when the handle is stopped or dropped.
pub async fn start<B: Backend>(
    config: RpcConfig,
    backend: Arc<B>,
) -> std::io::Result<(SocketAddr, ServerHandle)> {
    let limits = ServerConfig::builder()
        .max_request_body_size(config.max_request_bytes)
        .max_response_body_size(config.max_response_bytes)
        .max_connections(config.max_connections)
        .set_batch_request_config(BatchRequestConfig::Limit(config.max_batch))
        .build();
    let server = Server::builder()
        .set_config(limits)
        .build(config.addr)
        .await?;
    let addr = server.local_addr()?;
    let module = module(backend, config.client_version).map_err(std::io::Error::other)?;
    Ok((addr, server.start(module)))
}
