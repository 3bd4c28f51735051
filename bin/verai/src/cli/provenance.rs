//! `verai provenance`: register datasets, models and training runs; query lineage and
//! usage; verify a record against the validators without trusting the node.

mod content;
mod verify;

use super::client::{
    RpcArgs, SignerArgs, TransactError, address, call, chain_id, connect, transact,
};
use alloy_primitives::{B256, Bytes, U256};
use alloy_sol_types::{SolCall, SolEvent};
use clap::{Args, Subcommand, ValueEnum};
use eyre::{WrapErr, bail, eyre};
use jsonrpsee::{http_client::HttpClient, rpc_params};
use std::{path::PathBuf, time::Duration};
use verai_provenance::{ADDRESS, IProvenance, Kind, RecordView};
use verai_rpc::{CertificateResponse, Lineage, ProofResponse, UsageLog};

/// `verai provenance ...`
#[derive(Debug, Subcommand)]
pub enum ProvenanceCommand {
    /// Register a dataset: a file, or a directory (hashed as a sorted manifest).
    RegisterDataset(RegisterDataset),
    /// Register a model file trained on registered records.
    RegisterModel(RegisterModel),
    /// Record a training run: its inputs, its output model and its parameters file.
    RecordTraining(RecordTraining),
    /// Log a use of a model (an inference, a licence grant).
    RecordUsage(RecordUsage),
    /// Give a record to another owner.
    Transfer(Transfer),
    /// Mark a record deprecated.
    Deprecate(IdArgs),
    /// Show a record.
    Show(IdArgs),
    /// Show a record's ancestors (or descendants).
    Lineage(LineageArgs),
    /// Show a model's usage log.
    Usage(IdArgs),
    /// Verify a record against the validators' certificate, trusting no node.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub struct Common {
    #[command(flatten)]
    signer: SignerArgs,
    #[command(flatten)]
    rpc: RpcArgs,
    /// Seconds to wait for inclusion.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
}

#[derive(Debug, Args)]
pub struct RegisterDataset {
    /// File or directory.
    path: PathBuf,
    /// SPDX licence id, or `sha256:<hex>` of a licence document.
    #[arg(long)]
    license: String,
    /// Where the content can be fetched.
    #[arg(long, default_value = "")]
    uri: String,
    /// Records this dataset derives from.
    #[arg(long = "parent")]
    parents: Vec<u64>,
    /// Contributor as ADDRESS:BASIS_POINTS (repeat; shares sum to 10000). Default: you, 10000.
    #[arg(long = "contributor")]
    contributors: Vec<String>,
    /// Also store the file in the node's blob store (`verai_putBlob`); without `--uri`
    /// the record's URI becomes `blob:<sha256>`.
    #[arg(long)]
    upload: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
pub struct RegisterModel {
    /// The model file.
    file: PathBuf,
    /// Records it was trained on (datasets, a base model).
    #[arg(long = "trained-on", num_args = 1..)]
    trained_on: Vec<u64>,
    /// SPDX licence id, or `sha256:<hex>` of a licence document.
    #[arg(long)]
    license: String,
    /// Where the model can be fetched.
    #[arg(long, default_value = "")]
    uri: String,
    /// Contributor as ADDRESS:BASIS_POINTS (repeat).
    #[arg(long = "contributor")]
    contributors: Vec<String>,
    /// Also store the file in the node's blob store (`verai_putBlob`), where oracle workers
    /// fetch it; without `--uri` the record's URI becomes `blob:<sha256>`.
    #[arg(long)]
    upload: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
pub struct RecordTraining {
    /// Input records.
    #[arg(long, num_args = 1.., required = true)]
    inputs: Vec<u64>,
    /// The model it produced (must be yours).
    #[arg(long)]
    output: u64,
    /// The training parameters file (its SHA-256 is the run's content hash).
    #[arg(long)]
    params: PathBuf,
    /// Licence of the run record.
    #[arg(long, default_value = "NOASSERTION")]
    license: String,
    /// Where the run's logs or parameters are.
    #[arg(long, default_value = "")]
    uri: String,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
pub struct RecordUsage {
    /// The model.
    id: u64,
    /// A 32-byte reference (e.g. an input hash); zero by default.
    #[arg(long = "ref", default_value_t = B256::ZERO)]
    reference: B256,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
pub struct Transfer {
    /// The record.
    id: u64,
    /// New owner.
    #[arg(long)]
    to: String,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
pub struct IdArgs {
    /// The record.
    id: u64,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Tree,
    Json,
    Dot,
}

#[derive(Debug, Args)]
pub struct LineageArgs {
    /// The record.
    id: u64,
    /// Walk to the records derived from it instead of its sources.
    #[arg(long)]
    descendants: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Tree)]
    format: Format,
    /// Most levels to walk.
    #[arg(long, default_value_t = 32)]
    depth: u32,
    /// Most records to show.
    #[arg(long, default_value_t = 1000)]
    limit: usize,
    #[command(flatten)]
    rpc: RpcArgs,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The record.
    id: u64,
    /// The network's genesis file: its validator set is what certificates are checked
    /// against. Not needed on the dev chain (chain id 1337).
    #[arg(long, conflicts_with = "validators")]
    genesis: Option<std::path::PathBuf>,
    /// A validator public key (hex), instead of `--genesis`; repeat for each.
    #[arg(long = "validator")]
    validators: Vec<String>,
    #[command(flatten)]
    rpc: RpcArgs,
}

pub async fn run(c: ProvenanceCommand) -> eyre::Result<()> {
    use ProvenanceCommand as P;
    match c {
        P::RegisterDataset(a) => {
            let (hash, size) = content::hash_path(&a.path)?;
            let mut uri = a.uri;
            if a.upload {
                upload(&a.common.rpc.rpc, &a.path, hash).await?;
                if uri.is_empty() {
                    uri = format!("blob:{}", B256::from(hash));
                }
            }
            let call = IProvenance::registerCall {
                kind: Kind::Dataset as u8,
                contentHash: hash.into(),
                uri,
                license: a.license,
                contributors: contributors(&a.contributors)?,
                parents: a.parents,
            };
            register(&a.common, call.abi_encode().into(), size).await
        }
        P::RegisterModel(a) => {
            let (hash, size) = content::hash_file(&a.file, true)?;
            let mut uri = a.uri;
            if a.upload {
                upload(&a.common.rpc.rpc, &a.file, hash).await?;
                if uri.is_empty() {
                    uri = format!("blob:{}", B256::from(hash));
                }
            }
            let call = IProvenance::registerCall {
                kind: Kind::Model as u8,
                contentHash: hash.into(),
                uri,
                license: a.license,
                contributors: contributors(&a.contributors)?,
                parents: a.trained_on,
            };
            register(&a.common, call.abi_encode().into(), size).await
        }
        P::RecordTraining(a) => {
            let (hash, size) = content::hash_file(&a.params, false)?;
            let call = IProvenance::recordTrainingCall {
                paramsHash: hash.into(),
                uri: a.uri,
                license: a.license,
                inputs: a.inputs,
                output: a.output,
            };
            register(&a.common, call.abi_encode().into(), size).await
        }
        P::RecordUsage(a) => {
            let call = IProvenance::recordUsageCall {
                modelId: a.id,
                r#ref: a.reference,
            };
            let r = send(&a.common, call.abi_encode().into()).await?;
            done(
                &a.common.rpc,
                serde_json::json!({ "id": a.id, "block": r.1 }),
                || format!("usage of record {} logged in block {}", a.id, r.1),
            )
        }
        P::Transfer(a) => {
            let to = address(&a.to)?;
            let call = IProvenance::transferOwnershipCall {
                id: a.id,
                newOwner: to,
            };
            let r = send(&a.common, call.abi_encode().into()).await?;
            done(
                &a.common.rpc,
                serde_json::json!({ "id": a.id, "owner": to, "block": r.1 }),
                || format!("record {} transferred to {to} in block {}", a.id, r.1),
            )
        }
        P::Deprecate(a) => {
            let call = IProvenance::deprecateCall { id: a.id };
            let r = send(&a.common, call.abi_encode().into()).await?;
            done(
                &a.common.rpc,
                serde_json::json!({ "id": a.id, "block": r.1 }),
                || format!("record {} deprecated in block {}", a.id, r.1),
            )
        }
        P::Show(a) => {
            let (client, rpc) = (connect(&a.common.rpc.rpc)?, &a.common.rpc.rpc);
            let r = get_record(&client, rpc, a.id).await?;
            if a.common.rpc.json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
                print_record(&r);
            }
            Ok(())
        }
        P::Lineage(a) => lineage(a).await,
        P::Usage(a) => {
            let (client, rpc) = (connect(&a.common.rpc.rpc)?, &a.common.rpc.rpc);
            let u: UsageLog =
                call(&client, rpc, "verai_getUsage", rpc_params![a.id, 0, 1000]).await?;
            if a.common.rpc.json {
                println!("{}", serde_json::to_string(&u)?);
            } else {
                println!("record {}: {} use(s)", a.id, u.count);
                for e in &u.entries {
                    println!(
                        "  #{} by {} in block {} (ref {})",
                        e.index, e.user, e.block_number, e.reference
                    );
                }
            }
            Ok(())
        }
        P::Verify(a) => verify_cmd(a).await,
    }
}

/// Store a file in the node's blob store and check the node names it by the same hash.
async fn upload(rpc: &str, path: &std::path::Path, hash: [u8; 32]) -> eyre::Result<()> {
    if !path.is_file() {
        bail!("--upload takes a file, not a directory");
    }
    let bytes = std::fs::read(path).wrap_err_with(|| format!("reading {}", path.display()))?;
    let client = connect(rpc)?;
    let r: verai_rpc::BlobReceipt = call(
        &client,
        rpc,
        "verai_putBlob",
        rpc_params![Bytes::from(bytes)],
    )
    .await?;
    if r.hash != B256::from(hash) {
        bail!(
            "the node stored the blob as {}, not {}",
            r.hash,
            B256::from(hash)
        );
    }
    Ok(())
}

/// Parse `ADDRESS:BPS` contributors.
fn contributors(v: &[String]) -> eyre::Result<Vec<IProvenance::Contributor>> {
    v.iter()
        .map(|s| {
            let (a, b) = s
                .split_once(':')
                .ok_or_else(|| eyre!("contributor {s:?} is not ADDRESS:BASIS_POINTS"))?;
            Ok(IProvenance::Contributor {
                account: address(a)?,
                shareBps: b
                    .parse()
                    .wrap_err_with(|| format!("share {b:?} is not a number of basis points"))?,
            })
        })
        .collect()
}

/// Send a call to the registry; returns (receipt, block number). A predicted revert is
/// reported with the registry's reason.
async fn send(c: &Common, input: Bytes) -> eyre::Result<(serde_json::Value, u64)> {
    let rpc = &c.rpc.rpc;
    let client = connect(rpc)?;
    let chain = chain_id(&client, rpc).await?;
    let signer = c.signer.signer(chain)?;
    match transact(
        &client,
        rpc,
        &signer,
        chain,
        ADDRESS,
        input,
        Duration::from_secs(c.timeout),
    )
    .await
    {
        Ok(r) => {
            let block = r
                .get("blockNumber")
                .and_then(|b| b.as_str())
                .and_then(|b| u64::from_str_radix(b.trim_start_matches("0x"), 16).ok())
                .unwrap_or_default();
            Ok((r, block))
        }
        Err(TransactError::Reverted { message, data }) => {
            let why = data
                .as_deref()
                .and_then(|d| verai_provenance::explain(d))
                .unwrap_or(message);
            bail!("refused by the provenance registry: {why}")
        }
        Err(TransactError::Other(e)) => Err(e),
    }
}

/// Send a registering call and print the new record's id.
async fn register(c: &Common, input: Bytes, size: u64) -> eyre::Result<()> {
    let (receipt, block) = send(c, input).await?;
    let logs = receipt
        .get("logs")
        .and_then(|l| l.as_array())
        .cloned()
        .unwrap_or_default();
    let mut ids = Vec::new();
    for l in &logs {
        let topics: Vec<B256> =
            serde_json::from_value(l.get("topics").cloned().unwrap_or_default())
                .unwrap_or_default();
        if topics.first() == Some(&IProvenance::RecordRegistered::SIGNATURE_HASH)
            && let Some(t) = topics.get(1)
        {
            ids.push(U256::from_be_bytes(t.0).saturating_to::<u64>());
        }
    }
    let id = *ids
        .first()
        .ok_or_else(|| eyre!("no RecordRegistered event in the receipt"))?;
    let tx = receipt.get("transactionHash").cloned().unwrap_or_default();
    done(
        &c.rpc,
        serde_json::json!({ "id": id, "block": block, "transactionHash": tx, "bytesHashed": size }),
        || format!("registered record {id} in block {block}"),
    )
}

fn done(rpc: &RpcArgs, json: serde_json::Value, text: impl FnOnce() -> String) -> eyre::Result<()> {
    if rpc.json {
        println!("{json}");
    } else {
        println!("{}", text());
    }
    Ok(())
}

async fn get_record(client: &HttpClient, rpc: &str, id: u64) -> eyre::Result<RecordView> {
    let r: Option<RecordView> = call(client, rpc, "verai_getRecord", rpc_params![id]).await?;
    r.ok_or_else(|| eyre!("no record {id} on {rpc}"))
}

fn print_record(r: &RecordView) {
    println!(
        "record {} ({}){}",
        r.id,
        r.kind,
        if r.deprecated { " [deprecated]" } else { "" }
    );
    println!("  content hash  {}", r.content_hash);
    println!("  uri           {}", r.uri);
    println!("  licence       {}", r.license);
    println!("  owner         {}", r.owner);
    println!("  creator       {}", r.creator);
    for c in &r.contributors {
        println!("  contributor   {} {} bps", c.account, c.share_bps);
    }
    println!("  parents       {:?}", r.parents);
    if !r.links.is_empty() {
        println!("  produced by   {:?}", r.links);
    }
    println!(
        "  block         {} (timestamp {})",
        r.block_number, r.timestamp
    );
}

async fn lineage(a: LineageArgs) -> eyre::Result<()> {
    let (client, rpc) = (connect(&a.rpc.rpc)?, &a.rpc.rpc);
    let dir = if a.descendants {
        "descendants"
    } else {
        "ancestors"
    };
    let l: Lineage = call(
        &client,
        rpc,
        "verai_getLineage",
        rpc_params![a.id, dir, a.depth, a.limit],
    )
    .await?;
    let format = if a.rpc.json { Format::Json } else { a.format };
    match format {
        Format::Json => println!("{}", serde_json::to_string(&l)?),
        Format::Dot => {
            println!("digraph lineage {{");
            println!("  \"{}\" [shape=box];", l.root.id);
            let mut edges = vec![(l.root.id, l.edges.clone())];
            edges.extend(l.nodes.iter().map(|n| (n.id, n.edges.clone())));
            for (id, es) in edges {
                for e in es {
                    // Edges point from source to derived record.
                    let (from, to) = if a.descendants { (id, e) } else { (e, id) };
                    println!("  \"{from}\" -> \"{to}\";");
                }
            }
            println!("}}");
        }
        Format::Tree => {
            let edges: std::collections::HashMap<u64, Vec<u64>> =
                std::iter::once((l.root.id, l.edges.clone()))
                    .chain(l.nodes.iter().map(|n| (n.id, n.edges.clone())))
                    .collect();
            let mut kinds = std::collections::HashMap::new();
            for n in std::iter::once(l.root.id).chain(l.nodes.iter().map(|n| n.id)) {
                if let Ok(r) = get_record(&client, rpc, n).await {
                    kinds.insert(n, format!("{} {}", r.kind, short(&r.content_hash)));
                }
            }
            println!(
                "{} {}",
                l.root.id,
                kinds.get(&l.root.id).cloned().unwrap_or_default()
            );
            let mut stack = vec![(l.root.id, 0usize, vec![l.root.id])];
            while let Some((id, depth, path)) = stack.pop() {
                let kids = edges.get(&id).cloned().unwrap_or_default();
                for k in kids.iter().rev() {
                    if path.contains(k) || depth as u32 >= a.depth {
                        continue;
                    }
                    let mut p = path.clone();
                    p.push(*k);
                    stack.push((*k, depth + 1, p));
                }
                if depth > 0 {
                    println!(
                        "{}└─ {} {}",
                        "   ".repeat(depth - 1),
                        id,
                        kinds.get(&id).cloned().unwrap_or_default()
                    );
                }
            }
            if l.truncated {
                println!("(truncated at {} records)", a.limit);
            }
        }
    }
    Ok(())
}

fn short(h: &B256) -> String {
    let s = h.to_string();
    format!("{}…", &s[..10])
}

async fn verify_cmd(a: VerifyArgs) -> eyre::Result<()> {
    let (client, rpc) = (connect(&a.rpc.rpc)?, &a.rpc.rpc);
    let chain = chain_id(&client, rpc).await?;
    let validators = if a.validators.is_empty() {
        super::validators::load(a.genesis.as_deref(), chain)?
    } else {
        a.validators
            .iter()
            .map(|v| {
                let b = hex::decode(v.trim_start_matches("0x"))
                    .wrap_err_with(|| format!("validator {v:?} is not hex"))?;
                Ok(verai_consensus::public_key_from_bytes(&b)?)
            })
            .collect::<eyre::Result<Vec<_>>>()?
    };
    let record = get_record(&client, rpc, a.id).await?;
    let slots = verify::slots(a.id).to_vec();
    let proof: ProofResponse =
        call(&client, rpc, "verai_getProof", rpc_params![ADDRESS, slots]).await?;
    let cert: Option<CertificateResponse> = call(
        &client,
        rpc,
        "verai_getCertificate",
        rpc_params![format!("{:#x}", proof.block_number)],
    )
    .await?;
    let cert =
        cert.ok_or_else(|| eyre!("{rpc} has no certificate for block {}", proof.block_number))?;
    let report = verify::verify(&record, &proof, &cert.certificate, &validators)
        .map_err(|e| eyre!("verification of record {} FAILED: {e}", a.id))?;
    if a.rpc.json {
        println!(
            "{}",
            serde_json::json!({ "id": a.id, "verified": true, "report": report })
        );
    } else {
        println!(
            "record {} verified against block {}:",
            a.id, report.block_number
        );
        for c in &report.checks {
            println!("  ✓ {c}");
        }
        println!("  ({} proof bytes)", report.proof_bytes);
    }
    Ok(())
}
