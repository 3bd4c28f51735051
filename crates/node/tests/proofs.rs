//! `verai_getProof` against the state root of a finalized block, checked with the client-side
//! verifier; tampered proofs are rejected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use alloy_primitives::{Address, B256, Bytes, U256};
use serde_json::json;
use support::*;
use verai_primitives::{AccountState, StateKey};
use verai_storage::{StateProof, verify_state_proof};

fn check(root: B256, key: &StateKey, value: Option<&[u8]>, proof: &Bytes) -> bool {
    let Ok(p) = StateProof::from_bytes(proof.clone()) else {
        return false;
    };
    verify_state_proof(root, key, value, &p).is_ok()
}

#[test]
fn account_and_storage_proofs_verify_and_tampering_fails() {
    let dir = tempfile::tempdir().unwrap();
    with_node(dir.path(), |addr| async move {
        tokio::task::spawn_blocking(move || {
            let hash = ok(
                addr,
                "eth_sendRawTransaction",
                json!([signed(0, 0, None, 0, storage_contract(), 200_000)]),
            );
            let r = receipt(addr, &hash);
            let contract: Address = serde_json::from_value(r["contractAddress"].clone()).unwrap();

            let resp = ok(addr, "verai_getProof", json!([contract, ["0x0", "0x1"]]));
            let proof: verai_rpc::types::ProofResponse = serde_json::from_value(resp).unwrap();
            // The root is the state root of the block the node names.
            let block = ok(
                addr,
                "eth_getBlockByNumber",
                json!([format!("{:#x}", proof.block_number), false]),
            );
            let header_root: B256 = serde_json::from_value(block["stateRoot"].clone()).unwrap();
            assert_eq!(header_root, proof.state_root);
            assert_eq!(
                serde_json::from_value::<B256>(block["hash"].clone()).unwrap(),
                proof.block_hash
            );

            // Account: present, with code.
            let acc = proof.account.clone().expect("contract exists");
            let decoded = AccountState::decode(&acc).unwrap();
            assert_ne!(decoded.code_hash, verai_primitives::KECCAK_EMPTY);
            assert!(check(
                header_root,
                &StateKey::Account(contract),
                Some(&acc),
                &proof.account_proof
            ));
            // Slot 0 holds 42; slot 1 is absent (proof of exclusion).
            let s0 = &proof.storage_proof[0];
            assert_eq!(
                s0.value.as_ref().map(|v| U256::from_be_slice(v)),
                Some(U256::from(42))
            );
            assert!(check(
                header_root,
                &StateKey::Storage(contract, U256::ZERO),
                s0.value.as_deref().map(|v| &**v),
                &s0.proof
            ));
            let s1 = &proof.storage_proof[1];
            assert!(s1.value.is_none());
            assert!(check(
                header_root,
                &StateKey::Storage(contract, U256::from(1)),
                None,
                &s1.proof
            ));

            // Tampering: another value, another key, another root, a flipped proof byte.
            let mut bad = acc.to_vec();
            bad[10] ^= 1;
            assert!(!check(
                header_root,
                &StateKey::Account(contract),
                Some(&bad),
                &proof.account_proof
            ));
            assert!(!check(
                header_root,
                &StateKey::Account(Address::repeat_byte(1)),
                Some(&acc),
                &proof.account_proof
            ));
            assert!(!check(
                B256::repeat_byte(9),
                &StateKey::Account(contract),
                Some(&acc),
                &proof.account_proof
            ));
            let forty_three = U256::from(43).to_be_bytes::<32>();
            assert!(!check(
                header_root,
                &StateKey::Storage(contract, U256::ZERO),
                Some(&forty_three),
                &s0.proof
            ));
            assert!(!check(
                header_root,
                &StateKey::Storage(contract, U256::from(1)),
                Some(&forty_three),
                &s1.proof
            ));
            for i in [
                0,
                proof.account_proof.len() / 2,
                proof.account_proof.len() - 1,
            ] {
                let mut p = proof.account_proof.to_vec();
                p[i] ^= 0x01;
                assert!(
                    !check(
                        header_root,
                        &StateKey::Account(contract),
                        Some(&acc),
                        &Bytes::from(p)
                    ),
                    "flipped byte {i}"
                );
            }

            // A dev account's balance is proven too.
            let dev: Address = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
                .parse()
                .unwrap();
            let p: verai_rpc::types::ProofResponse =
                serde_json::from_value(ok(addr, "verai_getProof", json!([dev]))).unwrap();
            let acc = p.account.clone().unwrap();
            let bal = ok(addr, "eth_getBalance", json!([dev, "latest"]));
            assert_eq!(
                AccountState::decode(&acc).unwrap().balance,
                serde_json::from_value::<U256>(bal).unwrap()
            );
            assert!(check(
                p.state_root,
                &StateKey::Account(dev),
                Some(&acc),
                &p.account_proof
            ));

            // The certificate of that block exists.
            let c = ok(
                addr,
                "verai_getCertificate",
                json!([format!("{:#x}", p.block_number)]),
            );
            assert!(c["certificate"].as_str().unwrap().len() > 10, "{c}");
        })
        .await
        .unwrap();
    });
}
