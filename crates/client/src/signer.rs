//! Which key signs: a hex key, a key file, or on the dev chain its first account.

use crate::ClientError;
use alloy_signer_local::PrivateKeySigner;
use std::path::Path;
use verai_primitives::{DEV_CHAIN_ID, dev_signers};

/// The signer from a hex private key, else a key file (as `verai keys new` writes), else on
/// chain id 1337 the first dev account; otherwise an error saying what to pass.
pub fn choose(
    private_key: Option<&str>,
    keystore: Option<&Path>,
    chain_id: u64,
) -> Result<PrivateKeySigner, ClientError> {
    if let Some(k) = private_key {
        return parse(k).map_err(|_| {
            ClientError::Signer("--private-key is not a valid hex private key".into())
        });
    }
    if let Some(path) = keystore {
        let k = std::fs::read_to_string(path).map_err(|source| ClientError::Io {
            path: path.display().to_string(),
            source,
        })?;
        return parse(&k).map_err(|_| {
            ClientError::Signer(format!(
                "{} does not hold a hex private key",
                path.display()
            ))
        });
    }
    if chain_id == DEV_CHAIN_ID {
        return dev_signers(1)
            .pop()
            .ok_or_else(|| ClientError::Signer("no dev account".into()));
    }
    Err(ClientError::Signer(format!(
        "no signer: pass --private-key or --keystore (the dev default applies only on chain id {DEV_CHAIN_ID})"
    )))
}

/// A hex private key (with or without `0x`, surrounding white space ignored).
pub fn parse(hex: &str) -> Result<PrivateKeySigner, ClientError> {
    hex.trim()
        .parse()
        .map_err(|e| ClientError::Signer(format!("not a hex private key: {e}")))
}
