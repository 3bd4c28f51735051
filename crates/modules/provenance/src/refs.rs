//! Which blobs a transaction to the module needs: the `blob:<sha256>` URIs it would record.
//!
//! A record points at a blob when its URI is `blob:0x<64 hex>` (an optional `#fragment`
//! names it for people). Nodes read this before admitting a transaction so that, in a
//! network, the bytes a record names are on the node (fetched from peers if need be) before
//! the record can be written. Only direct calls to the module are read: a contract that
//! registers on a user's behalf builds its URI at run time, which admission cannot see.

use crate::abi::IProvenance::IProvenanceCalls;
use alloy_primitives::{Address, B256};
use alloy_sol_types::SolInterface;

/// URI scheme of a record whose content is a blob.
pub const BLOB_SCHEME: &str = "blob:";

/// The blob a URI names, if it is `blob:0x<64 hex>[#...]` (case-insensitive hex).
pub fn blob_in_uri(uri: &str) -> Option<B256> {
    let rest = uri.strip_prefix(BLOB_SCHEME)?;
    let hash = rest.split_once('#').map_or(rest, |(h, _)| h);
    let hex = hash.strip_prefix("0x").unwrap_or(hash);
    if hex.len() != 64 {
        return None;
    }
    hex.parse::<B256>().ok()
}

/// Blobs named by a transaction's call to the module at `to`; empty for any other call or
/// for calldata that does not decode (the module refuses it anyway).
pub fn blob_refs(to: Option<Address>, input: &[u8]) -> Vec<B256> {
    if to != Some(crate::ADDRESS) {
        return Vec::new();
    }
    let uri = match IProvenanceCalls::abi_decode(input) {
        Ok(IProvenanceCalls::register(c)) => c.uri,
        Ok(IProvenanceCalls::recordTraining(c)) => c.uri,
        _ => return Vec::new(),
    };
    blob_in_uri(&uri).into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::IProvenance;
    use alloy_sol_types::SolCall;

    const H: &str = "0x1111111111111111111111111111111111111111111111111111111111111111";

    #[test]
    fn uris() {
        let h: B256 = H.parse().unwrap();
        assert_eq!(blob_in_uri(&format!("blob:{H}")), Some(h));
        assert_eq!(blob_in_uri(&format!("blob:{H}#demand-mlp")), Some(h));
        assert_eq!(blob_in_uri(&format!("blob:{}", &H[2..])), Some(h));
        assert_eq!(blob_in_uri("blob:demo"), None);
        assert_eq!(blob_in_uri(&format!("ipfs://{H}")), None);
        assert_eq!(blob_in_uri(&format!("blob:{H}00")), None);
    }

    #[test]
    fn register_calls_name_their_blob() {
        let h: B256 = H.parse().unwrap();
        let call = IProvenance::registerCall {
            kind: 0,
            contentHash: h,
            uri: format!("blob:{H}"),
            license: "MIT".into(),
            contributors: vec![],
            parents: vec![],
        }
        .abi_encode();
        assert_eq!(blob_refs(Some(crate::ADDRESS), &call), vec![h]);
        assert!(
            blob_refs(Some(Address::ZERO), &call).is_empty(),
            "another contract"
        );
        assert!(blob_refs(None, &call).is_empty(), "a deployment");
        assert!(
            blob_refs(Some(crate::ADDRESS), &call[..40]).is_empty(),
            "truncated"
        );
        let plain = IProvenance::registerCall {
            kind: 0,
            contentHash: h,
            uri: "https://example.org/data.csv".into(),
            license: "MIT".into(),
            contributors: vec![],
            parents: vec![],
        }
        .abi_encode();
        assert!(blob_refs(Some(crate::ADDRESS), &plain).is_empty());
    }
}
