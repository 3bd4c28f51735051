//! The connection: a jsonrpsee HTTP client that says which node did not answer.

use jsonrpsee::{
    core::{
        ClientError as RpcError,
        client::{BatchResponse, ClientT},
        params::BatchRequestBuilder,
        traits::ToRpcParams,
    },
    http_client::{HttpClient, HttpClientBuilder},
    ws_client::{WsClient, WsClientBuilder},
};
use serde::de::DeserializeOwned;
use std::{sync::Arc, time::Duration};

/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A node that could not be reached, and what to do about it.
#[derive(Debug, thiserror::Error)]
#[error("no node answers at {url}: start one with `verai node --dev` or pass --rpc ({cause})")]
pub struct Unreachable {
    /// The endpoint.
    pub url: String,
    /// The transport's own words.
    pub cause: String,
}

/// A typed JSON-RPC client of one node over HTTP. Every `*Client` trait of
/// `verai-rpc-api` is implemented for it (they are implemented for any [`ClientT`]).
#[derive(Clone, Debug)]
pub struct Client {
    http: HttpClient,
    url: Arc<str>,
}

impl Client {
    /// A client of the node at `url` (no request is made yet).
    pub fn connect(url: &str) -> Result<Self, RpcError> {
        Self::connect_with(url, None)
    }

    /// A client that sends a token made with `secret` (see [`verai_rpc_api::auth`]): the
    /// node does not hold its writes to the per-client quotas. The token is made now and is
    /// good for a minute, the life of a command.
    pub fn connect_with(url: &str, secret: Option<&[u8; 32]>) -> Result<Self, RpcError> {
        let mut builder = HttpClientBuilder::default()
            .request_timeout(REQUEST_TIMEOUT)
            .max_request_size(u32::MAX)
            .max_response_size(u32::MAX);
        if let Some(secret) = secret {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let mut headers = jsonrpsee::http_client::HeaderMap::new();
            let value = format!("Bearer {}", verai_rpc_api::auth::jwt(secret, now));
            headers.insert(
                "authorization",
                value
                    .parse()
                    .map_err(|_| RpcError::Custom("a token is not a header value".into()))?,
            );
            builder = builder.set_headers(headers);
        }
        let http = builder
            .build(url)
            .map_err(|e| RpcError::Custom(format!("invalid RPC URL {url}: {e}")))?;
        Ok(Self {
            http,
            url: url.into(),
        })
    }

    /// The endpoint.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The node's chain id.
    pub async fn chain_id(&self) -> Result<u64, RpcError> {
        Ok(verai_rpc_api::EthApiClient::chain_id(self).await?.to())
    }

    fn explain(&self, e: RpcError) -> RpcError {
        match e {
            RpcError::Transport(cause) => RpcError::Transport(Box::new(Unreachable {
                url: self.url.to_string(),
                cause: cause.to_string(),
            })),
            RpcError::RequestTimeout => RpcError::Transport(Box::new(Unreachable {
                url: self.url.to_string(),
                cause: format!("no answer within {} s", REQUEST_TIMEOUT.as_secs()),
            })),
            other => other,
        }
    }
}

impl ClientT for Client {
    fn notification<Params>(
        &self,
        method: &str,
        params: Params,
    ) -> impl Future<Output = Result<(), RpcError>> + Send
    where
        Params: ToRpcParams + Send,
    {
        let sent = self.http.notification(method, params);
        async move { sent.await.map_err(|e| self.explain(e)) }
    }

    fn request<R, Params>(
        &self,
        method: &str,
        params: Params,
    ) -> impl Future<Output = Result<R, RpcError>> + Send
    where
        R: DeserializeOwned,
        Params: ToRpcParams + Send,
    {
        let sent = self.http.request(method, params);
        async move { sent.await.map_err(|e| self.explain(e)) }
    }

    fn batch_request<'a, R>(
        &self,
        batch: BatchRequestBuilder<'a>,
    ) -> impl Future<Output = Result<BatchResponse<'a, R>, RpcError>> + Send
    where
        R: DeserializeOwned + std::fmt::Debug + 'a,
    {
        let sent = self.http.batch_request(batch);
        async move { sent.await.map_err(|e| self.explain(e)) }
    }
}

/// A WebSocket client, for subscriptions (`eth_subscribe`); `url` may be `http://` (the node
/// serves both on one port).
pub async fn connect_ws(url: &str) -> Result<WsClient, RpcError> {
    let ws = url
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1);
    WsClientBuilder::default()
        .build(&ws)
        .await
        .map_err(|e| match e {
            RpcError::Transport(cause) => RpcError::Transport(Box::new(Unreachable {
                url: ws.clone(),
                cause: cause.to_string(),
            })),
            other => other,
        })
}
