//! Starting the HTTP + WebSocket server.

use crate::access::{AccessOptions, Caller, WriteLimits, WriteQuotas, verify_jwt};
use crate::{
    Backend, eth::Eth, market::MarketRpc, provenance::ProvenanceRpc, pubsub::PubSub,
    sentinel::SentinelRpc, verai::Verai,
};
use jsonrpsee::{
    Methods, RpcModule,
    server::{
        BatchRequestConfig, Server, ServerConfig, ServerHandle, serve_with_graceful_shutdown,
        stop_channel,
    },
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
    /// Subscriptions one WebSocket connection may hold.
    pub max_subscriptions_per_connection: u32,
    /// Tokens and write limits.
    pub access: AccessOptions,
}

impl RpcConfig {
    /// Defaults on `addr`: 5 MiB requests (room for a 128 KiB transaction many times over),
    /// 64 MiB responses, 256 connections, batches of at most 1,000 calls (geth's limit), 64
    /// subscriptions per connection, no token, [`WriteLimits::default`].
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            max_request_bytes: 5 * 1024 * 1024,
            max_response_bytes: 64 * 1024 * 1024,
            max_connections: 256,
            max_batch: 1_000,
            client_version: format!("verai/v{}", env!("CARGO_PKG_VERSION")),
            max_subscriptions_per_connection: 64,
            access: AccessOptions::default(),
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
    /// The handlers over `backend` (writes limited by the default [`WriteLimits`]).
    pub fn new(backend: Arc<B>, client_version: String) -> Self {
        Self {
            eth: Eth {
                backend: backend.clone(),
                client_version,
            },
            provenance: ProvenanceRpc {
                backend: backend.clone(),
                quotas: Arc::new(WriteQuotas::new(WriteLimits::default())),
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
    module_with(backend, client_version, WriteLimits::default())
}

fn module_with<B: Backend>(
    backend: Arc<B>,
    client_version: String,
    write_limits: WriteLimits,
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
        quotas: Arc::new(WriteQuotas::new(write_limits)),
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
///
/// Each request carries its [`Caller`] (peer address, valid token or not) in its
/// extensions, for the methods that limit node-local writes.
pub async fn start<B: Backend>(
    config: RpcConfig,
    backend: Arc<B>,
) -> std::io::Result<(SocketAddr, ServerHandle)> {
    let limits = ServerConfig::builder()
        .max_request_body_size(config.max_request_bytes)
        .max_response_body_size(config.max_response_bytes)
        .max_connections(config.max_connections)
        .max_subscriptions_per_connection(config.max_subscriptions_per_connection)
        .set_batch_request_config(BatchRequestConfig::Limit(config.max_batch))
        .build();
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    let methods: Methods = module_with(backend, config.client_version, config.access.write_limits)
        .map_err(std::io::Error::other)?
        .into();
    let builder = Server::builder().set_config(limits).to_service_builder();
    let (stop, handle) = stop_channel();
    let secret = config.access.jwt_secret;
    tokio::spawn(async move {
        loop {
            let (socket, peer) = tokio::select! {
                r = listener.accept() => match r {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::warn!(error = %e, "RPC accept failed");
                        continue;
                    }
                },
                () = stop.clone().shutdown() => break,
            };
            let (builder, methods, stop2) = (builder.clone(), methods.clone(), stop.clone());
            let svc = tower::service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
                let authenticated = secret.is_some_and(|s| {
                    bearer(req.headers()).is_some_and(|t| verify_jwt(&s, t, unix_now()))
                });
                req.extensions_mut().insert(Caller {
                    addr: peer.ip(),
                    authenticated,
                });
                let mut svc = builder.clone().build(methods.clone(), stop2.clone());
                async move { tower::Service::call(&mut svc, req).await }
            });
            tokio::spawn(serve_with_graceful_shutdown(
                socket,
                svc,
                stop.clone().shutdown(),
            ));
        }
    });
    Ok((addr, handle))
}

fn bearer(headers: &http::HeaderMap) -> Option<&str> {
    headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
