//! Who is calling, and how much a caller may write to this node's own storage.
//!
//! The server puts a [`Caller`] into every request's extensions: the peer's IP address and
//! whether the request carried a valid token. The token is an engine-API-style JWT
//! (`Authorization: Bearer <jwt>`, HS256 with the node's 32-byte secret, `iat` within
//! [`JWT_MAX_SKEW_SECS`] of the node's clock), so a leaked header is good for a minute.
//!
//! Node-local writes (blobs today) are what anyone reaching the port could otherwise use
//! to fill the disk. An unauthenticated caller gets [`WriteLimits`] per IP address: bytes per
//! hour and calls per minute; an authenticated one is bounded only by the store's total
//! size. Usage is counted in fixed windows, and the table of callers is bounded (the oldest
//! entries are dropped first), so the accounting itself cannot grow without limit.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};
pub use verai_rpc_api::auth::{JWT_MAX_SKEW_SECS, jwt, parse_secret, verify_jwt};

/// Most callers tracked at once.
const MAX_TRACKED: usize = 10_000;

/// The caller of a request, as the server saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    /// Peer IP address.
    pub addr: IpAddr,
    /// Whether the request carried a valid token.
    pub authenticated: bool,
}

/// Who may write what: the token secret and the limits of callers without a token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccessOptions {
    /// The secret of the tokens that lift write quotas (`None`: no token is valid).
    pub jwt_secret: Option<[u8; 32]>,
    /// Limits of node-local writes by callers without a token.
    pub write_limits: WriteLimits,
}

/// Limits of unauthenticated node-local writes, per IP address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteLimits {
    /// Bytes stored per hour.
    pub bytes_per_hour: u64,
    /// Write calls per minute.
    pub calls_per_minute: u32,
}

impl Default for WriteLimits {
    /// 64 MiB per hour and 60 calls per minute: room for a person uploading datasets and
    /// models by hand, not for someone filling the disk.
    fn default() -> Self {
        Self {
            bytes_per_hour: 64 * 1024 * 1024,
            calls_per_minute: 60,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Usage {
    hour_start: Instant,
    bytes: u64,
    minute_start: Instant,
    calls: u32,
}

/// Per-caller accounting of node-local writes.
#[derive(Debug)]
pub struct WriteQuotas {
    limits: WriteLimits,
    usage: Mutex<HashMap<IpAddr, Usage>>,
}

/// Why a write was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuotaError {
    /// Too many calls this minute.
    #[error(
        "too many writes from {addr}: {limit} per minute for a client without a token; wait, or send a token (--rpc-jwt)"
    )]
    Rate {
        /// The caller.
        addr: IpAddr,
        /// Calls per minute.
        limit: u32,
    },
    /// Too many bytes this hour.
    #[error(
        "blob quota exceeded for {addr}: {used} of {limit} bytes stored this hour, {size} more asked; wait, or send a token (--rpc-jwt)"
    )]
    Bytes {
        /// The caller.
        addr: IpAddr,
        /// Stored this hour.
        used: u64,
        /// The limit.
        limit: u64,
        /// This write.
        size: u64,
    },
}

impl WriteQuotas {
    /// Quotas with `limits`.
    pub fn new(limits: WriteLimits) -> Self {
        Self {
            limits,
            usage: Mutex::new(HashMap::new()),
        }
    }

    /// The limits.
    pub fn limits(&self) -> WriteLimits {
        self.limits
    }

    /// Count a write of `size` bytes by `caller` at `now`, or refuse it (counting nothing).
    pub fn charge(&self, caller: Caller, size: u64, now: Instant) -> Result<(), QuotaError> {
        if caller.authenticated {
            return Ok(());
        }
        let mut map = self.usage.lock().unwrap_or_else(|p| p.into_inner());
        if !map.contains_key(&caller.addr) && map.len() >= MAX_TRACKED {
            // Forget callers whose windows have ended; if all are live, the oldest hour.
            map.retain(|_, u| now.duration_since(u.hour_start) < Duration::from_secs(3600));
            if map.len() >= MAX_TRACKED
                && let Some(oldest) = map
                    .iter()
                    .min_by_key(|(_, u)| u.hour_start)
                    .map(|(a, _)| *a)
            {
                map.remove(&oldest);
            }
        }
        let u = map.entry(caller.addr).or_insert(Usage {
            hour_start: now,
            bytes: 0,
            minute_start: now,
            calls: 0,
        });
        if now.duration_since(u.hour_start) >= Duration::from_secs(3600) {
            u.hour_start = now;
            u.bytes = 0;
        }
        if now.duration_since(u.minute_start) >= Duration::from_secs(60) {
            u.minute_start = now;
            u.calls = 0;
        }
        if u.calls >= self.limits.calls_per_minute {
            return Err(QuotaError::Rate {
                addr: caller.addr,
                limit: self.limits.calls_per_minute,
            });
        }
        if u.bytes.saturating_add(size) > self.limits.bytes_per_hour {
            return Err(QuotaError::Bytes {
                addr: caller.addr,
                used: u.bytes,
                limit: self.limits.bytes_per_hour,
                size,
            });
        }
        u.calls += 1;
        u.bytes += size;
        Ok(())
    }

    /// Give back a charge whose write then failed (an invalid blob stores nothing).
    pub fn refund(&self, caller: Caller, size: u64) {
        if caller.authenticated {
            return;
        }
        let mut map = self.usage.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(u) = map.get_mut(&caller.addr) {
            u.bytes = u.bytes.saturating_sub(size);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_count_per_caller_and_refuse_past_the_limit() {
        let q = WriteQuotas::new(WriteLimits {
            bytes_per_hour: 100,
            calls_per_minute: 3,
        });
        let a = Caller {
            addr: "10.0.0.1".parse().unwrap(),
            authenticated: false,
        };
        let b = Caller {
            addr: "10.0.0.2".parse().unwrap(),
            authenticated: false,
        };
        let t0 = Instant::now();
        q.charge(a, 60, t0).unwrap();
        assert!(matches!(
            q.charge(a, 41, t0),
            Err(QuotaError::Bytes { used: 60, .. })
        ));
        q.charge(a, 40, t0).unwrap();
        q.charge(b, 100, t0).unwrap();
        q.charge(a, 0, t0).unwrap();
        // A fourth call in the minute (refused calls do not count).
        assert!(matches!(q.charge(a, 0, t0), Err(QuotaError::Rate { .. })));
        // A new minute allows calls; a new hour, bytes.
        let later = t0 + Duration::from_secs(61);
        assert!(matches!(
            q.charge(a, 1, later),
            Err(QuotaError::Bytes { .. })
        ));
        q.charge(a, 0, later).unwrap();
        q.charge(a, 100, t0 + Duration::from_secs(3_601)).unwrap();
        // Authenticated callers are not counted.
        let auth = Caller {
            authenticated: true,
            ..a
        };
        q.charge(auth, 10_000, t0).unwrap();
    }
}
