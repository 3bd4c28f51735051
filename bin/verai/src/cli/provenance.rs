//! `verai provenance`: register datasets, models and training runs; query lineage and
//! usage; verify a record against the validators without trusting the node.

use super::common::{RpcArgs, TxArgs, address};
use alloy_primitives::{B256, Bytes};
use alloy_sol_types::SolCall;
use clap::{Args, Subcommand, ValueEnum};
use eyre::{WrapErr, bail, eyre};
use std::{io::Write as _, path::PathBuf};
use verai_client::{
    Client, Tx,
    api::ProvenanceApiClient,
    content::{hash_file, hash_path},
    receipt_events, verify,
};
use verai_provenance::{ADDRESS, IProvenance, Kind, RecordView};

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

/// Signing options and `--timeout`.
type Common = TxArgs;

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
    /// With `--upload`: keep the file private, served only to you and to holders of a
    /// current licence grant (`verai market fetch`).
    #[arg(long, requires = "upload")]
    private: bool,
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
            let (hash, size) = hash_path(&a.path, &mut progress())?;
            let uri = upload(&a.common, a.upload, a.private, &a.path, hash, a.uri).await?;
            let call = IProvenance::registerCall {
                kind: Kind::Dataset as u8,
                contentHash: hash.into(),
                uri,
                license: a.license,
                contributors: contributors(&a.contributors)?,
                parents: a.parents,
            };
            register(&a.common, call.abi_encode(), size).await
        }
        P::RegisterModel(a) => {
            let (hash, size) = hash_file(&a.file, &mut progress())?;
            let uri = upload(&a.common, a.upload, false, &a.file, hash, a.uri).await?;
            let call = IProvenance::registerCall {
                kind: Kind::Model as u8,
                contentHash: hash.into(),
                uri,
                license: a.license,
                contributors: contributors(&a.contributors)?,
                parents: a.trained_on,
            };
            register(&a.common, call.abi_encode(), size).await
        }
        P::RecordTraining(a) => {
            let (hash, size) = hash_file(&a.params, &mut |_, _| {})?;
            let call = IProvenance::recordTrainingCall {
                paramsHash: hash.into(),
                uri: a.uri,
                license: a.license,
                inputs: a.inputs,
                output: a.output,
            };
            register(&a.common, call.abi_encode(), size).await
        }
        P::RecordUsage(a) => {
            let call = IProvenance::recordUsageCall {
                modelId: a.id,
                r#ref: a.reference,
            };
            let block = send(&a.common, call.abi_encode()).await?.1;
            a.common
                .rpc
                .print(serde_json::json!({ "id": a.id, "block": block }), || {
                    format!("usage of record {} logged in block {block}", a.id)
                });
            Ok(())
        }
        P::Transfer(a) => {
            let to = address(&a.to)?;
            let call = IProvenance::transferOwnershipCall {
                id: a.id,
                newOwner: to,
            };
            let block = send(&a.common, call.abi_encode()).await?.1;
            a.common.rpc.print(
                serde_json::json!({ "id": a.id, "owner": to, "block": block }),
                || format!("record {} transferred to {to} in block {block}", a.id),
            );
            Ok(())
        }
        P::Deprecate(a) => {
            let call = IProvenance::deprecateCall { id: a.id };
            let block = send(&a.common, call.abi_encode()).await?.1;
            a.common
                .rpc
                .print(serde_json::json!({ "id": a.id, "block": block }), || {
                    format!("record {} deprecated in block {block}", a.id)
                });
            Ok(())
        }
        P::Show(a) => {
            let r = get_record(&a.common.rpc.client()?, a.id).await?;
            a.common
                .rpc
                .print(serde_json::to_value(&r)?, || record_text(&r));
            Ok(())
        }
        P::Lineage(a) => lineage(a).await,
        P::Usage(a) => {
            let client = a.common.rpc.client()?;
            let u = client.get_usage(a.id, Some(0), Some(1000)).await?;
            a.common.rpc.print(serde_json::to_value(&u)?, || {
                let mut out = format!("record {}: {} use(s)", a.id, u.count);
                for e in &u.entries {
                    out += &format!(
                        "\n  #{} by {} in block {} (ref {})",
                        e.index, e.user, e.block_number, e.reference
                    );
                }
                out
            });
            Ok(())
        }
        P::Verify(a) => verify_cmd(a).await,
    }
}

/// A progress line on stderr while hashing large files (at least 32 MiB) on a terminal.
fn progress() -> impl FnMut(u64, u64) {
    use std::io::IsTerminal;
    let tty = std::io::stderr().is_terminal();
    let mut shown = u64::MAX;
    move |done, total| {
        if !tty || total < 32 << 20 {
            return;
        }
        let pct = done.saturating_mul(100) / total;
        if pct != shown {
            shown = pct;
            let bar = "#".repeat((pct / 4) as usize);
            eprint!(
                "\rhashing [{bar:<25}] {pct:>3}% {} / {} MiB",
                done >> 20,
                total >> 20
            );
            if done >= total {
                eprintln!();
            }
            let _ = std::io::stderr().flush();
        }
    }
}

/// With `--upload`, store the file in the node's blob store (checking the node names it by
/// the same hash); the record's URI, `blob:<sha256>` unless one was given.
async fn upload(
    c: &Common,
    upload: bool,
    private: bool,
    path: &std::path::Path,
    hash: [u8; 32],
    uri: String,
) -> eyre::Result<String> {
    if !upload {
        return Ok(uri);
    }
    if !path.is_file() {
        bail!("--upload takes a file, not a directory");
    }
    let bytes = std::fs::read(path).wrap_err_with(|| format!("reading {}", path.display()))?;
    let client = c.rpc.client()?;
    let r = if private {
        client.put_private_blob(Bytes::from(bytes)).await?
    } else {
        client.put_blob(Bytes::from(bytes)).await?
    };
    if r.hash != B256::from(hash) {
        bail!(
            "the node stored the blob as {}, not {}",
            r.hash,
            B256::from(hash)
        );
    }
    Ok(if uri.is_empty() {
        format!("blob:{}", B256::from(hash))
    } else {
        uri
    })
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

/// Send a call to the registry; returns the receipt and its block.
async fn send(
    c: &Common,
    input: Vec<u8>,
) -> eyre::Result<(alloy_rpc_types_eth::TransactionReceipt, u64)> {
    let r = c.wallet().await?.send(Tx::call(ADDRESS, input)).await?;
    let block = r.block_number.unwrap_or_default();
    Ok((r, block))
}

/// Send a registering call and print the new record's id.
async fn register(c: &Common, input: Vec<u8>, size: u64) -> eyre::Result<()> {
    let (receipt, block) = send(c, input).await?;
    let id = receipt_events::<IProvenance::RecordRegistered>(&receipt)
        .first()
        .map(|e| e.id)
        .ok_or_else(|| eyre!("no RecordRegistered event in the receipt"))?;
    let tx = receipt.transaction_hash;
    c.rpc.print(
        serde_json::json!({ "id": id, "block": block, "transactionHash": tx, "bytesHashed": size }),
        || format!("registered record {id} in block {block}"),
    );
    Ok(())
}

async fn get_record(client: &Client, id: u64) -> eyre::Result<RecordView> {
    client
        .get_record(id)
        .await?
        .ok_or_else(|| eyre!("no record {id} on {}", client.url()))
}

fn record_text(r: &RecordView) -> String {
    let mut out = format!(
        "record {} ({}){}\n  content hash  {}\n  uri           {}\n  licence       {}\n  owner         {}\n  creator       {}",
        r.id,
        r.kind,
        if r.deprecated { " [deprecated]" } else { "" },
        r.content_hash,
        r.uri,
        r.license,
        r.owner,
        r.creator
    );
    for c in &r.contributors {
        out += &format!("\n  contributor   {} {} bps", c.account, c.share_bps);
    }
    out += &format!("\n  parents       {:?}", r.parents);
    if !r.links.is_empty() {
        out += &format!("\n  produced by   {:?}", r.links);
    }
    out += &format!(
        "\n  block         {} (timestamp {})",
        r.block_number, r.timestamp
    );
    out
}

async fn lineage(a: LineageArgs) -> eyre::Result<()> {
    let client = a.rpc.client()?;
    let dir = if a.descendants {
        "descendants"
    } else {
        "ancestors"
    };
    let l = client
        .get_lineage(a.id, Some(dir.into()), Some(a.depth), Some(a.limit))
        .await?;
    let format = if a.rpc.json { Format::Json } else { a.format };
    let edges: Vec<(u64, Vec<u64>)> = std::iter::once((l.root.id, l.edges.clone()))
        .chain(l.nodes.iter().map(|n| (n.id, n.edges.clone())))
        .collect();
    match format {
        Format::Json => println!("{}", serde_json::to_string(&l)?),
        Format::Dot => {
            println!("digraph lineage {{");
            println!("  \"{}\" [shape=box];", l.root.id);
            for (id, es) in &edges {
                for e in es {
                    // Edges point from source to derived record.
                    let (from, to) = if a.descendants { (*id, *e) } else { (*e, *id) };
                    println!("  \"{from}\" -> \"{to}\";");
                }
            }
            println!("}}");
        }
        Format::Tree => {
            let edges: std::collections::HashMap<u64, Vec<u64>> = edges.into_iter().collect();
            let mut kinds = std::collections::HashMap::new();
            for n in std::iter::once(l.root.id).chain(l.nodes.iter().map(|n| n.id)) {
                if let Ok(r) = get_record(&client, n).await {
                    kinds.insert(n, format!("{} {}", r.kind, short(&r.content_hash)));
                }
            }
            let label = |id: &u64| kinds.get(id).cloned().unwrap_or_default();
            println!("{} {}", l.root.id, label(&l.root.id));
            let mut stack = vec![(l.root.id, 0usize, vec![l.root.id])];
            while let Some((id, depth, path)) = stack.pop() {
                for k in edges.get(&id).into_iter().flatten().rev() {
                    if path.contains(k) || depth as u32 >= a.depth {
                        continue;
                    }
                    let mut p = path.clone();
                    p.push(*k);
                    stack.push((*k, depth + 1, p));
                }
                if depth > 0 {
                    println!("{}└─ {} {}", "   ".repeat(depth - 1), id, label(&id));
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
    let client = a.rpc.client()?;
    let validators = if a.validators.is_empty() {
        verify::validators(a.genesis.as_deref(), client.chain_id().await?)?
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
    let (_, report) = verify::provenance::fetch_and_verify(&client, a.id, &validators).await?;
    a.rpc.print(
        serde_json::json!({ "id": a.id, "verified": true, "report": report }),
        || {
            let mut out = format!(
                "record {} verified against block {}:",
                a.id, report.block_number
            );
            for c in &report.checks {
                out += &format!("\n  ✓ {c}");
            }
            out + &format!("\n  ({} proof bytes)", report.proof_bytes)
        },
    );
    Ok(())
}
