//! `verai keys new|list`: account keys in a directory, one hex key file per account.

use alloy_signer_local::PrivateKeySigner;
use clap::{Args, Subcommand};
use eyre::WrapErr;
use std::path::PathBuf;
use verai_primitives::dev_signers;

/// Key subcommands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate a key and store it as `DIR/<address>.key` (mode 0600).
    New(KeysArgs),
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
        KeysCommand::New(a) => {
            let dir = key_dir(&a.dir)?;
            std::fs::create_dir_all(&dir)
                .wrap_err_with(|| format!("creating {}", dir.display()))?;
            let signer = PrivateKeySigner::random();
            let path = dir.join(format!("{}.key", signer.address()));
            verai_node::testnet::write_private(
                &path,
                &format!("0x{}\n", alloy_primitives::hex::encode(signer.to_bytes())),
            )?;
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
                        if path.extension().is_some_and(|e| e == "key")
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
