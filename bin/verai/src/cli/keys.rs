//! `verai keys new|list`: account keys in a directory, one file per account: a JSON keystore
//! (Web3 secret storage: scrypt, AES-128-CTR) by default, or a hex key in a file of mode 0600
//! with `--plaintext`.

use alloy_signer_local::PrivateKeySigner;
use clap::{Args, Subcommand};
use eyre::WrapErr;
use std::path::PathBuf;
use verai_primitives::dev_signers;

/// Key subcommands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate a key and store it encrypted as `DIR/<address>.json` (`--plaintext`: a hex
    /// key in `DIR/<address>.key`, mode 0600).
    New {
        #[command(flatten)]
        args: KeysArgs,
        /// File holding the password (else `VERAI_KEYSTORE_PASSWORD`, else a prompt).
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
        /// Store the key unencrypted (for throwaway test accounts).
        #[arg(long, conflicts_with = "password_file")]
        plaintext: bool,
    },
    /// List stored keys (with `--dev`, the ten dev accounts and their keys).
    List {
        #[command(flatten)]
        args: KeysArgs,
        /// Show the well-known dev accounts instead.
        #[arg(long)]
        dev: bool,
    },
}

/// Where keys live.
#[derive(Debug, Args)]
pub struct KeysArgs {
    /// Key directory (default: the user's data directory, `verai/keys`).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// One JSON object on stdout.
    #[arg(long)]
    json: bool,
}

fn key_dir(dir: &Option<PathBuf>) -> eyre::Result<PathBuf> {
    match dir {
        Some(d) => Ok(d.clone()),
        None => Ok(dirs::data_dir()
            .ok_or_else(|| eyre::eyre!("no user data directory; pass --dir"))?
            .join("verai/keys")),
    }
}

pub fn run(c: KeysCommand) -> eyre::Result<()> {
    match c {
        KeysCommand::New {
            args: a,
            password_file,
            plaintext,
        } => {
            let dir = key_dir(&a.dir)?;
            std::fs::create_dir_all(&dir)
                .wrap_err_with(|| format!("creating {}", dir.display()))?;
            let signer = PrivateKeySigner::random();
            let path = if plaintext {
                let path = dir.join(format!("{}.key", signer.address()));
                verai_node::testnet::write_private(
                    &path,
                    &format!("0x{}\n", alloy_primitives::hex::encode(signer.to_bytes())),
                )?;
                path
            } else {
                let password = super::common::password(password_file.as_deref(), true)?;
                verai_client::signer::encrypt(&dir, &signer, &password)?
            };
            if a.json {
                println!(
                    "{}",
                    serde_json::json!({ "id": signer.address(), "address": signer.address(), "keystore": path })
                );
            } else {
                println!("{}  {}", signer.address(), path.display());
            }
        }
        KeysCommand::List { args, dev } => {
            let mut rows = Vec::new();
            if dev {
                for s in dev_signers(10) {
                    rows.push((
                        s.address().to_string(),
                        format!("0x{}", alloy_primitives::hex::encode(s.to_bytes())),
                    ));
                }
            } else {
                let dir = key_dir(&args.dir)?;
                if dir.exists() {
                    for entry in std::fs::read_dir(&dir)? {
                        let path = entry?.path();
                        if path.extension().is_some_and(|e| e == "key" || e == "json")
                            && let Some(stem) = path.file_stem()
                        {
                            rows.push((
                                stem.to_string_lossy().into_owned(),
                                path.display().to_string(),
                            ));
                        }
                    }
                }
                rows.sort();
            }
            if args.json {
                let list: Vec<_> = rows
                    .iter()
                    .map(|(a, k)| serde_json::json!({ "address": a, "key": k }))
                    .collect();
                println!("{}", serde_json::json!({ "keys": list }));
            } else {
                for (a, k) in rows {
                    println!("{a}  {k}");
                }
            }
        }
    }
    Ok(())
}
