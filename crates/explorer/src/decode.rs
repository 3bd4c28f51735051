//! Calldata and logs in words: the native modules' ABIs first, then contracts whose
//! deployed code matches a compiled source of this repository (verified by exact bytecode
//! match), then a small table of common signatures (4-byte guesses, labelled as such).
//!
//! A 4-byte guess is never presented as fact: two functions can share a selector, so the
//! page says where each decoding came from.

use alloy_dyn_abi::{DynSolValue, EventExt, JsonAbiExt};
use alloy_json_abi::{Event, Function, JsonAbi};
use alloy_primitives::{Address, B256, Bytes, keccak256};
use std::collections::HashMap;

/// Where a decoding came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "name")]
pub enum Source {
    /// A native module's interface.
    Module(String),
    /// A contract whose code matches a compiled source exactly.
    Verified(String),
    /// A common signature with this selector; other functions may share it.
    Guess,
}

impl Source {
    /// A short label for pages.
    pub fn label(&self) -> String {
        match self {
            Self::Module(n) => format!("module {n}"),
            Self::Verified(n) => format!("verified source {n}"),
            Self::Guess => "4-byte guess".into(),
        }
    }
}

/// A decoded call or log.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Decoded {
    /// Where the ABI came from.
    pub source: Source,
    /// Function or event name.
    pub name: String,
    /// `(name, type, value)` of each argument.
    pub args: Vec<(String, String, String)>,
}

/// The compiled artifacts shipped with the node (`contracts/out`), for decoding.
const ARTIFACTS: [(&str, &str); 12] = [
    (
        "IMarket",
        include_str!("../../../contracts/out/IMarket.json"),
    ),
    (
        "InferenceBuyer",
        include_str!("../../../contracts/out/InferenceBuyer.json"),
    ),
    (
        "IProvenance",
        include_str!("../../../contracts/out/IProvenance.json"),
    ),
    (
        "IInference",
        include_str!("../../../contracts/out/IInference.json"),
    ),
    (
        "IInferenceConsumer",
        include_str!("../../../contracts/out/IInferenceConsumer.json"),
    ),
    (
        "IOracleHub",
        include_str!("../../../contracts/out/IOracleHub.json"),
    ),
    (
        "OracleHub",
        include_str!("../../../contracts/out/OracleHub.json"),
    ),
    (
        "VeraiToken",
        include_str!("../../../contracts/out/VeraiToken.json"),
    ),
    (
        "SupplyChain",
        include_str!("../../../contracts/out/SupplyChain.json"),
    ),
    (
        "ForecastConsumer",
        include_str!("../../../contracts/out/ForecastConsumer.json"),
    ),
    (
        "ProvenanceExample",
        include_str!("../../../contracts/out/ProvenanceExample.json"),
    ),
    (
        "AuditDemoBank",
        include_str!("../../../contracts/out/AuditDemoBank.json"),
    ),
];

/// Common signatures for 4-byte guesses.
const COMMON: [&str; 12] = [
    "function transfer(address to, uint256 amount)",
    "function transferFrom(address from, address to, uint256 amount)",
    "function approve(address spender, uint256 amount)",
    "function balanceOf(address owner)",
    "function allowance(address owner, address spender)",
    "function totalSupply()",
    "function mint(address to, uint256 amount)",
    "function burn(uint256 amount)",
    "function deposit()",
    "function withdraw(uint256 amount)",
    "function multicall(bytes[] data)",
    "function safeTransferFrom(address from, address to, uint256 tokenId)",
];

const COMMON_EVENTS: [&str; 3] = [
    "event Transfer(address indexed from, address indexed to, uint256 value)",
    "event Approval(address indexed owner, address indexed spender, uint256 value)",
    "event OwnershipTransferred(address indexed previousOwner, address indexed newOwner)",
];

/// Decoders by address, code and selector.
#[derive(Debug, Default)]
pub struct Decoder {
    modules: HashMap<Address, (String, JsonAbi)>,
    verified: HashMap<B256, (String, JsonAbi)>,
    functions: HashMap<[u8; 4], Function>,
    events: HashMap<B256, Event>,
}

fn abi_of(artifact: &str) -> Option<(JsonAbi, Bytes)> {
    let v: serde_json::Value = serde_json::from_str(artifact).ok()?;
    let abi: JsonAbi = serde_json::from_value(v["abi"].clone()).ok()?;
    let code = v["deployedBytecode"]
        .as_str()
        .and_then(|c| c.parse::<Bytes>().ok())
        .unwrap_or_default();
    Some((abi, code))
}

impl Decoder {
    /// The decoder of the shipped modules and contracts.
    pub fn new() -> Self {
        let mut d = Self::default();
        for (name, artifact) in ARTIFACTS {
            let Some((abi, code)) = abi_of(artifact) else {
                continue;
            };
            match name {
                "IProvenance" => {
                    d.modules
                        .insert(verai_provenance::ADDRESS, (name.into(), abi.clone()));
                }
                "IInference" => {
                    d.modules
                        .insert(verai_inference_module::ADDRESS, (name.into(), abi.clone()));
                }
                "IMarket" => {
                    d.modules
                        .insert(verai_market::ADDRESS, (name.into(), abi.clone()));
                }
                _ if !code.is_empty() => {
                    d.verified
                        .insert(keccak256(&code), (name.into(), abi.clone()));
                }
                _ => {}
            }
        }
        for sig in COMMON {
            if let Ok(f) = Function::parse(sig) {
                d.functions.insert(f.selector().0, f);
            }
        }
        for sig in COMMON_EVENTS {
            if let Ok(e) = Event::parse(sig) {
                d.events.insert(e.selector(), e);
            }
        }
        d
    }

    /// The compiled source the code hashing to `code_hash` matches, if any.
    pub fn verified_name(&self, code_hash: &B256) -> Option<&str> {
        self.verified.get(code_hash).map(|(n, _)| n.as_str())
    }

    /// The module at `address`, if it is one.
    pub fn module_name(&self, address: &Address) -> Option<&str> {
        self.modules.get(address).map(|(n, _)| n.as_str())
    }

    fn abi_for(&self, to: &Address, code_hash: Option<&B256>) -> Option<(Source, &JsonAbi)> {
        if let Some((n, abi)) = self.modules.get(to) {
            return Some((Source::Module(n.clone()), abi));
        }
        let (n, abi) = self.verified.get(code_hash?)?;
        Some((Source::Verified(n.clone()), abi))
    }

    /// Decode calldata sent to `to` (whose code hashes to `code_hash`, if it has code).
    pub fn call(&self, to: &Address, code_hash: Option<&B256>, input: &[u8]) -> Option<Decoded> {
        let selector: [u8; 4] = input.get(..4)?.try_into().ok()?;
        let (source, f) = match self.abi_for(to, code_hash) {
            Some((source, abi)) => {
                let f = abi.functions().find(|f| f.selector().0 == selector)?;
                (source, f)
            }
            None => (Source::Guess, self.functions.get(&selector)?),
        };
        let values = f.abi_decode_input(&input[4..]).ok()?;
        Some(Decoded {
            source,
            name: f.name.clone(),
            args: f
                .inputs
                .iter()
                .zip(&values)
                .map(|(p, v)| (p.name.clone(), p.ty.clone(), show(v)))
                .collect(),
        })
    }

    /// Decode a log emitted by `address` (whose code hashes to `code_hash`).
    pub fn log(
        &self,
        address: &Address,
        code_hash: Option<&B256>,
        topics: &[B256],
        data: &[u8],
    ) -> Option<Decoded> {
        let topic0 = topics.first()?;
        let (source, e) = match self.abi_for(address, code_hash) {
            Some((source, abi)) => (source, abi.events().find(|e| e.selector() == *topic0)?),
            None => (Source::Guess, self.events.get(topic0)?),
        };
        let decoded = e.decode_log_parts(topics.iter().copied(), data).ok()?;
        let (mut indexed, mut body) = (decoded.indexed.iter(), decoded.body.iter());
        let args = e
            .inputs
            .iter()
            .map(|p| {
                let v = if p.indexed {
                    indexed.next()
                } else {
                    body.next()
                };
                (
                    p.name.clone(),
                    p.ty.clone(),
                    v.map(show).unwrap_or_default(),
                )
            })
            .collect();
        Some(Decoded {
            source,
            name: e.name.clone(),
            args,
        })
    }
}

/// A value for people: numbers in decimal, bytes in hex, strings quoted, lists bracketed
/// (long bytes shortened).
pub fn show(v: &DynSolValue) -> String {
    match v {
        DynSolValue::Bool(b) => b.to_string(),
        DynSolValue::Int(i, _) => i.to_string(),
        DynSolValue::Uint(u, _) => u.to_string(),
        DynSolValue::FixedBytes(w, n) => format!("0x{}", alloy_primitives::hex::encode(&w[..*n])),
        DynSolValue::Address(a) => a.to_string(),
        DynSolValue::Function(f) => f.to_string(),
        DynSolValue::Bytes(b) if b.len() > 64 => format!(
            "0x{}… ({} bytes)",
            alloy_primitives::hex::encode(&b[..32]),
            b.len()
        ),
        DynSolValue::Bytes(b) => format!("0x{}", alloy_primitives::hex::encode(b)),
        DynSolValue::String(s) => format!("{s:?}"),
        DynSolValue::Array(a) | DynSolValue::FixedArray(a) | DynSolValue::Tuple(a) => {
            let parts: Vec<String> = a.iter().take(16).map(show).collect();
            let more = if a.len() > 16 {
                format!(", … ({} in all)", a.len())
            } else {
                String::new()
            };
            format!("[{}{more}]", parts.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_sol_types::SolCall;

    #[test]
    fn modules_verified_sources_and_guesses() {
        let d = Decoder::new();
        let call = verai_provenance::IProvenance::recordUsageCall {
            modelId: 7,
            r#ref: B256::repeat_byte(1),
        };
        let got = d
            .call(&verai_provenance::ADDRESS, None, &call.abi_encode())
            .unwrap();
        assert_eq!(got.source, Source::Module("IProvenance".into()));
        assert_eq!(got.name, "recordUsage");
        assert_eq!(got.args[0].2, "7");
        // An unknown contract: a labelled guess.
        let mut transfer = Function::parse(COMMON[0]).unwrap().selector().to_vec();
        transfer.extend([0u8; 12]);
        transfer.extend([0x11u8; 20]);
        transfer.extend(alloy_primitives::U256::from(5).to_be_bytes::<32>());
        let got = d.call(&Address::repeat_byte(9), None, &transfer).unwrap();
        assert_eq!(got.source, Source::Guess);
        assert_eq!(got.args[1].2, "5");
        // Garbage is not decoded.
        assert!(d.call(&Address::repeat_byte(9), None, &[1, 2, 3]).is_none());
        assert!(
            d.call(&Address::repeat_byte(9), None, &[0xde, 0xad, 0xbe, 0xef, 1])
                .is_none()
        );
        // The token's code is a verified source.
        let (_, artifact) = ARTIFACTS.iter().find(|(n, _)| *n == "VeraiToken").unwrap();
        let token = abi_of(artifact).unwrap().1;
        assert_eq!(d.verified_name(&keccak256(&token)), Some("VeraiToken"));
    }
}
