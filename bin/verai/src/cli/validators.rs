//! The validator set a client checks certificates against: from a network's genesis file,
//! or on the dev chain (chain id 1337) the dev validator.

use eyre::{WrapErr, bail};
use std::path::Path;
use verai_consensus::PublicKey;
use verai_node::GenesisFile;

/// The validators of `genesis`, or the dev validator when none is given on chain 1337.
pub fn load(genesis: Option<&Path>, chain_id: u64) -> eyre::Result<Vec<PublicKey>> {
    match genesis {
        Some(path) => {
            let bytes =
                std::fs::read(path).wrap_err_with(|| format!("reading {}", path.display()))?;
            let file =
                GenesisFile::parse(&bytes).wrap_err_with(|| format!("in {}", path.display()))?;
            if file.chain_id != chain_id {
                bail!(
                    "{} is for chain id {}, the node serves chain id {chain_id}",
                    path.display(),
                    file.chain_id
                );
            }
            Ok(file.validators()?.into_iter().map(|(k, _)| k).collect())
        }
        None if chain_id == verai_primitives::DEV_CHAIN_ID => {
            use commonware_cryptography::Signer as _;
            Ok(vec![super::node::dev_validator().public_key()])
        }
        None => bail!("pass the network's genesis file (--genesis) to know its validators"),
    }
}
