//! Valid inputs each target starts from, and the module state the ABI targets run on.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use alloy_signer::SignerSync;
use alloy_sol_types::SolCall;
use std::{path::PathBuf, sync::OnceLock};
use verai_inference_module::IInference;
use verai_market::IMarket;
use verai_primitives::{Block, Header, dev_signers, testing::MemHost};
use verai_provenance::IProvenance;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// No seeds: the target starts from nothing (random bytes).
pub fn none() -> Vec<Vec<u8>> {
    vec![]
}

fn signed(nonce: u64, input: Vec<u8>) -> TxEnvelope {
    let s = &dev_signers(1)[0];
    let tx = TxEip1559 {
        chain_id: 1337,
        nonce,
        gas_limit: 100_000,
        max_fee_per_gas: 2_000_000_000,
        max_priority_fee_per_gas: 1,
        to: TxKind::Call(Address::repeat_byte(7)),
        value: U256::from(5),
        input: input.into(),
        access_list: Default::default(),
    };
    let sig = s
        .sign_hash_sync(&tx.signature_hash())
        .expect("a local key signs");
    TxEnvelope::from(tx.into_signed(sig))
}

/// Signed transactions.
pub fn txs() -> Vec<Vec<u8>> {
    vec![
        signed(0, vec![]).encoded_2718(),
        signed(9, vec![1, 2, 3, 4]).encoded_2718(),
    ]
}

fn block() -> Block {
    Block::new(
        Header {
            number: 3,
            gas_limit: 30_000_000,
            ..Default::default()
        },
        vec![signed(0, vec![]), signed(1, vec![0xaa; 40])],
    )
}

/// Encoded blocks.
pub fn blocks() -> Vec<Vec<u8>> {
    vec![
        block().encode(),
        Block::new(Header::default(), vec![]).encode(),
    ]
}

/// Blocks as the consensus codec writes them.
pub fn consensus_blocks() -> Vec<Vec<u8>> {
    use commonware_codec::Encode as _;
    vec![
        verai_consensus::ConsensusBlock::new(block())
            .encode()
            .to_vec(),
    ]
}

/// The four validators' keys the consensus seeds are signed with (seeds 0..4, as the
/// targets' verifier expects).
fn validator_keys() -> Vec<verai_consensus::PrivateKey> {
    use commonware_cryptography::Signer as _;
    (0..4u64)
        .map(verai_consensus::PrivateKey::from_seed)
        .collect()
}

fn signing_schemes() -> Vec<verai_consensus::Scheme> {
    use commonware_cryptography::Signer as _;
    let keys = validator_keys();
    let public: Vec<_> = keys.iter().map(|k| k.public_key()).collect();
    let set = verai_consensus::validator_set(&public).expect("four distinct keys");
    keys.into_iter()
        .filter_map(|k| verai_consensus::Scheme::signer(verai_consensus::NAMESPACE, set.clone(), k))
        .collect()
}

use commonware_consensus::simplex::types as st;
use commonware_consensus::types::{Round, View};
type D = verai_consensus::Digest;
type S = verai_consensus::Scheme;

/// A proposal for `block()` at view 5 of the current epoch.
fn proposal() -> st::Proposal<D> {
    st::Proposal::new(
        Round::new(verai_consensus::EPOCH, View::new(5)),
        View::new(4),
        verai_consensus::to_digest(block().hash()),
    )
}

/// Signed votes of each kind, as the voter channel carries them.
pub fn votes() -> Vec<Vec<u8>> {
    use commonware_codec::Encode as _;
    let schemes = signing_schemes();
    let s = &schemes[0];
    let p = proposal();
    let mut out = Vec::new();
    if let Some(v) = st::Notarize::<S, D>::sign(s, p.clone()) {
        out.push(st::Vote::<S, D>::Notarize(v).encode().to_vec());
    }
    if let Some(v) = st::Finalize::<S, D>::sign(s, p.clone()) {
        out.push(st::Vote::<S, D>::Finalize(v).encode().to_vec());
    }
    if let Some(v) = st::Nullify::<S>::sign::<D>(s, p.round) {
        out.push(st::Vote::<S, D>::Nullify(v).encode().to_vec());
    }
    out
}

/// A quorum's finalization of `block()`.
fn finalization() -> Option<verai_consensus::Finalization> {
    let schemes = signing_schemes();
    let votes: Vec<_> = schemes
        .iter()
        .filter_map(|s| st::Finalize::<S, D>::sign(s, proposal()))
        .collect();
    let votes = commonware_utils::iter::NonEmpty::try_new(votes.iter())?;
    st::Finalization::from_finalizes(&schemes[0], votes, &commonware_parallel::Sequential).ok()
}

/// Certificates of each kind.
pub fn certificates() -> Vec<Vec<u8>> {
    use commonware_codec::Encode as _;
    let schemes = signing_schemes();
    let mut out = Vec::new();
    let notarizes: Vec<_> = schemes
        .iter()
        .filter_map(|s| st::Notarize::<S, D>::sign(s, proposal()))
        .collect();
    if let Some(n) = commonware_utils::iter::NonEmpty::try_new(notarizes.iter()).and_then(|v| {
        st::Notarization::from_notarizes(&schemes[0], v, &commonware_parallel::Sequential).ok()
    }) {
        out.push(st::Certificate::<S, D>::Notarization(n).encode().to_vec());
    }
    if let Some(f) = finalization() {
        out.push(st::Certificate::<S, D>::Finalization(f).encode().to_vec());
    }
    out
}

/// A finality proof of `block()` (one header, finalized directly).
pub fn finality_proofs() -> Vec<Vec<u8>> {
    use alloy_rlp::Encodable as _;
    let Some(finalization) = finalization() else {
        return vec![];
    };
    let mut header = Vec::new();
    block().header.encode(&mut header);
    vec![
        verai_consensus::FinalityProof {
            finalization,
            headers: vec![header],
        }
        .encode(),
    ]
}

/// The block the finality proof seeds prove (its hash and height).
pub fn proven_block() -> (B256, u64) {
    static PROVEN: OnceLock<(B256, u64)> = OnceLock::new();
    *PROVEN.get_or_init(|| {
        let b = block();
        (b.hash(), b.header.number)
    })
}

/// Gossip batches (an RLP list of encoded transactions, as `verai_node::peers` sends).
pub fn gossip() -> Vec<Vec<u8>> {
    let txs: Vec<Bytes> = txs().into_iter().map(Bytes::from).collect();
    let mut one = Vec::new();
    alloy_rlp::encode_list::<_, Bytes>(&txs, &mut one);
    vec![one]
}

/// Blob channel messages.
pub fn blob_messages() -> Vec<Vec<u8>> {
    let h = [0x42u8; 32];
    vec![
        [&[0u8][..], &h].concat(),
        [&[1u8][..], &h, b"bytes"].concat(),
        [&[2u8][..], &h].concat(),
    ]
}

/// Genesis handshake messages.
pub fn hellos() -> Vec<Vec<u8>> {
    vec![
        [&[0u8][..], &[9u8; 32]].concat(),
        [&[1u8][..], &[9u8; 32]].concat(),
    ]
}

/// A genesis file as `verai testnet init` writes it.
pub fn genesis_files() -> Vec<Vec<u8>> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let ok = verai_node::testnet::init(&verai_node::testnet::InitParams {
        validators: 4,
        dir: dir.path().join("net"),
        chain_id: 1337,
        rpc_port: 8545,
        p2p_port: 30300,
        metrics_port: 0,
        explorer_port: 0,
        block_time: None,
    });
    match ok {
        Ok(_) => std::fs::read(dir.path().join("net/genesis.json"))
            .map(|g| vec![g])
            .unwrap_or_default(),
        Err(_) => vec![],
    }
}

/// Registry calls.
pub fn provenance_calls() -> Vec<Vec<u8>> {
    vec![
        IProvenance::registerCall {
            kind: 0,
            contentHash: B256::repeat_byte(0x55),
            uri: "ipfs://x".into(),
            license: "MIT".into(),
            contributors: vec![],
            parents: vec![1],
        }
        .abi_encode(),
        IProvenance::getRecordCall { id: 1 }.abi_encode(),
        IProvenance::recordTrainingCall {
            paramsHash: B256::repeat_byte(0x56),
            uri: String::new(),
            license: "MIT".into(),
            inputs: vec![1],
            output: 3,
        }
        .abi_encode(),
    ]
}

/// Inference calls.
pub fn inference_calls() -> Vec<Vec<u8>> {
    let input = vec![alloy_primitives::I256::try_from(1_000_000i64).unwrap_or_default(); 8];
    vec![
        IInference::inferCall {
            modelId: 3,
            input: input.clone(),
        }
        .abi_encode(),
        IInference::predictCall { modelId: 3, input }.abi_encode(),
        IInference::getModelCall { modelId: 3 }.abi_encode(),
    ]
}

/// Market calls.
pub fn market_calls() -> Vec<Vec<u8>> {
    vec![
        IMarket::buyCall { listingId: 1 }.abi_encode(),
        IMarket::buildStackCall { recordId: 3 }.abi_encode(),
        IMarket::claimAllCall {
            token: Address::ZERO,
        }
        .abi_encode(),
        IMarket::claimChannelCall {
            channelId: 1,
            amount: U256::from(10),
            nonce: 1,
            signature: Bytes::from(vec![1u8; 65]),
        }
        .abi_encode(),
        IMarket::listCall {
            recordId: 1,
            kind: 2,
            token: Address::ZERO,
            price: U256::from(1),
            termsHash: B256::ZERO,
            endpoint: "http://x".into(),
            methods: vec![IMarket::Method {
                name: "m".into(),
                price: U256::from(1),
                freeCalls: 1,
            }],
        }
        .abi_encode(),
    ]
}

/// The state the ABI targets run on: two datasets, the demand model trained on them, its
/// stack and a per-call listing, a licence listing on dataset 1.
pub fn state() -> &'static MemHost {
    static STATE: OnceLock<MemHost> = OnceLock::new();
    STATE.get_or_init(|| {
        let mut h = MemHost::new();
        let a = Address::repeat_byte(0xa1);
        h.fund(a, U256::from(10u64).pow(U256::from(24)));
        let call = |h: &mut MemHost, m: &dyn verai_primitives::NativeModule, c: Vec<u8>| {
            let _ = h.call(m, a, U256::ZERO, &c);
        };
        for tag in [1u8, 2] {
            let c = IProvenance::registerCall {
                kind: 0,
                contentHash: keccak256([tag]),
                uri: String::new(),
                license: "CC-BY-4.0".into(),
                contributors: vec![],
                parents: vec![],
            };
            call(&mut h, &verai_provenance::Provenance, c.abi_encode());
        }
        if let Ok(onnx) = std::fs::read(repo().join("models/demand_forecast.onnx")) {
            let c = IInference::registerModelCall {
                onnx: onnx.into(),
                uri: String::new(),
                license: "MIT".into(),
                parents: vec![1, 2],
            };
            call(&mut h, &verai_inference_module::Inference, c.abi_encode());
        }
        let terms = verai_provenance::LicenseTerms {
            spdx: "CC-BY-4.0".into(),
            commercialUse: true,
            derivatives: true,
            attribution: true,
            duration: 60,
            perpetual: false,
        };
        let hash = verai_provenance::licence::terms_hash(&terms);
        call(
            &mut h,
            &verai_provenance::Provenance,
            IProvenance::registerTermsCall { terms }.abi_encode(),
        );
        for (record, kind, terms) in [(3u64, 1u8, B256::ZERO), (1, 0, hash)] {
            let c = IMarket::listCall {
                recordId: record,
                kind,
                token: Address::ZERO,
                price: U256::from(1_000),
                termsHash: terms,
                endpoint: String::new(),
                methods: vec![],
            };
            call(&mut h, &verai_market::Market, c.abi_encode());
        }
        h
    })
}

fn read_all(dir: &str, ext: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(repo().join(dir)) {
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == ext)
                && let Ok(b) = std::fs::read(&p)
            {
                out.push(b);
            }
        }
    }
    out.sort();
    out
}

/// The repository's ONNX models (the small ones: the large are slow to mutate).
pub fn onnx_models() -> Vec<Vec<u8>> {
    read_all("models", "onnx")
        .into_iter()
        .filter(|m| m.len() < 64 * 1024)
        .collect()
}

/// The repository's Solidity sources.
pub fn solidity() -> Vec<Vec<u8>> {
    read_all("contracts/src", "sol")
}

/// Runtime bytecode of the compiled artifacts.
pub fn bytecode() -> Vec<Vec<u8>> {
    read_all("contracts/out", "json")
        .iter()
        .filter_map(|a| {
            let v: serde_json::Value = serde_json::from_slice(a).ok()?;
            let hex = v["deployedBytecode"].as_str()?;
            alloy_primitives::hex::decode(hex)
                .ok()
                .filter(|b| !b.is_empty())
        })
        .collect()
}

/// A CSV with the data set's header and two rows.
pub fn csv() -> Vec<Vec<u8>> {
    let features = verai_sentinel::features::RAW_FEATURES;
    let mut text = format!("Address,FLAG,{}\n", features.join(","));
    for (addr, flag) in [("0xaa", 0), ("0xbb", 1)] {
        let zeros = vec!["0"; features.len()].join(",");
        text += &format!("{addr},{flag},{zeros}\n");
    }
    vec![text.into_bytes()]
}

/// Model file shapes (the JSON of a sentinel model).
pub fn model_files() -> Vec<Vec<u8>> {
    vec![
        br#"{"format":1,"trees":[],"base_score":0.0}"#.to_vec(),
        b"{}".to_vec(),
    ]
}

/// Node configuration files.
pub fn tomls() -> Vec<Vec<u8>> {
    vec![
        b"dev = true\nrpc_port = 8545\nblock_time = 2\n".to_vec(),
        b"genesis = \"genesis.json\"\nvalidator_key = \"v.key\"\n[sentinel]\nmodel = \"m.json\"\npolicy = \"hold\"\n".to_vec(),
    ]
}

/// JSON-RPC requests of many methods.
pub fn rpc_requests() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (method, params) in [
        ("eth_chainId", serde_json::json!([])),
        (
            "eth_getBalance",
            serde_json::json!(["0x0000000000000000000000000000000000000001", "latest"]),
        ),
        (
            "eth_getLogs",
            serde_json::json!([{ "fromBlock": "0x0", "toBlock": "latest" }]),
        ),
        (
            "eth_call",
            serde_json::json!([{ "to": "0x0000000000000000000000000000000000000a03", "data": "0x1234" }, "latest"]),
        ),
        (
            "eth_sendRawTransaction",
            serde_json::json!([format!(
                "0x{}",
                alloy_primitives::hex::encode(signed(0, vec![]).encoded_2718())
            )]),
        ),
        (
            "verai_getProof",
            serde_json::json!(["0x0000000000000000000000000000000000000a01", ["0x1"]]),
        ),
        (
            "verai_listListings",
            serde_json::json!([{ "kind": "access", "limit": 5 }]),
        ),
        (
            "verai_getLineage",
            serde_json::json!([1, "ancestors", 3, 10]),
        ),
        (
            "verai_getEarnings",
            serde_json::json!(["0x0000000000000000000000000000000000000001"]),
        ),
    ] {
        out.push(
            serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params })
                .to_string()
                .into_bytes(),
        );
    }
    out.push(b"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_blockNumber\"},{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"net_version\"}]".to_vec());
    out
}
