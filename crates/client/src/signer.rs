//! Which key signs: a hex key, a key file, or on the dev chain its first account.
//!
//! Key files are Web3 secret storage (the JSON keystore geth, foundry and wallets use:
//! scrypt and AES-128-CTR, through `eth-keystore`), or, for scripts that ask for it, a hex
//! key in a file of mode 0600.

use crate::ClientError;
use alloy_signer_local::PrivateKeySigner;
use std::path::Path;
use verai_primitives::{DEV_CHAIN_ID, dev_signers};

/// The signer from a hex private key, else a key file (as `verai keys new` writes; a JSON
/// keystore is opened with `password`), else on chain id 1337 the first dev account;
/// otherwise an error saying what to pass.
pub fn choose(
    private_key: Option<&str>,
    keystore: Option<&Path>,
    password: Option<&str>,
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
        if k.trim_start().starts_with('{') {
            let password = password.ok_or_else(|| {
                ClientError::Signer(format!(
                    "{} is an encrypted keystore: give its password (--password-file or VERAI_KEYSTORE_PASSWORD)",
                    path.display()
                ))
            })?;
            return decrypt(path, password);
        }
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

/// Open the JSON keystore at `path` with `password`.
pub fn decrypt(path: &Path, password: &str) -> Result<PrivateKeySigner, ClientError> {
    PrivateKeySigner::decrypt_keystore(path, password).map_err(|e| {
        ClientError::Signer(format!(
            "cannot open the keystore {}: a wrong password or a damaged file ({e})",
            path.display()
        ))
    })
}

/// Write `signer`'s key to `dir/<address>.json` as a JSON keystore under `password`; the path.
pub fn encrypt(
    dir: &Path,
    signer: &PrivateKeySigner,
    password: &str,
) -> Result<std::path::PathBuf, ClientError> {
    let name = format!("{}.json", signer.address());
    PrivateKeySigner::encrypt_keystore(
        dir,
        &mut rand08::thread_rng(),
        signer.to_bytes(),
        password,
        Some(&name),
    )
    .map_err(|e| {
        ClientError::Signer(format!("cannot write a keystore in {}: {e}", dir.display()))
    })?;
    Ok(dir.join(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keystores_round_trip_and_refuse_a_wrong_password() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let signer = PrivateKeySigner::random();
        let path = encrypt(dir.path(), &signer, "correct horse").expect("written");
        let text = std::fs::read_to_string(&path).expect("readable");
        assert!(
            text.contains("\"crypto\"")
                && !text.contains(&alloy_primitives::hex::encode(signer.to_bytes()))
        );
        let back = choose(None, Some(&path), Some("correct horse"), 1).expect("opens");
        assert_eq!(back.address(), signer.address());
        let e = choose(None, Some(&path), Some("wrong"), 1).expect_err("refused");
        assert!(e.to_string().contains("wrong password"), "{e}");
        let e = choose(None, Some(&path), None, 1).expect_err("needs a password");
        assert!(e.to_string().contains("give its password"), "{e}");
    }
}
