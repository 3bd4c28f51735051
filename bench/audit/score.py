#!/usr/bin/env python3
"""Scores `verai audit` on the SmartBugs curated set against Slither and Mythril.

Matching rule (the same for every tool): a labelled line (file, line, category) is
found when some finding of the tool on that file has that category and names that
line; a finding matches no label when none of its lines is labelled with its category
in that file. Prints per category and in total: labelled lines found, findings, those
matching no label, and seconds per contract.

  python3 bench/audit/score.py                      # verai + slither (all) + mythril (sample)
  python3 bench/audit/score.py --only verai         # just verai
  python3 bench/audit/score.py --mythril-sample 10 --mythril-timeout 60

Peers come from bench/audit/setup.sh (venvs and solc-js under bench/audit/.peers).
Slither's detectors map to categories as SmartBugs' vulnerabilities_mapping.csv does,
plus today's names of the same checks (arbitrary-send-eth, unchecked-send,
unchecked-lowlevel) and weak-prng for bad randomness. Mythril maps by SWC id.
"""

import argparse
import csv
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PEERS = os.path.join(HERE, ".peers")
CATEGORIES = [
    "reentrancy", "unchecked_low_level_calls", "access_control", "arithmetic",
    "bad_randomness", "denial_of_service", "time_manipulation", "front_running",
    "short_addresses", "other",
]

SLITHER_MAP = {
    # SmartBugs mapping (vulnerabilities_mapping.csv), slither rows
    "arbitrary-send": "access_control", "controlled-delegatecall": "access_control",
    "suicidal": "access_control", "tx-origin": "access_control",
    "calls-loop": "denial_of_service",
    "incorrect-equality": "other", "locked-ether": "other", "uninitialized-local": "other",
    "uninitialized-state": "other", "uninitialized-storage": "other",
    "low-level-calls": "unchecked_low_level_calls", "unused-return": "unchecked_low_level_calls",
    "reentrancy-benign": "reentrancy", "reentrancy-eth": "reentrancy",
    "reentrancy-no-eth": "reentrancy",
    "timestamp": "time_manipulation",
    # current names of the same checks, and weak-prng
    "arbitrary-send-eth": "access_control", "unchecked-send": "unchecked_low_level_calls",
    "unchecked-lowlevel": "unchecked_low_level_calls", "weak-prng": "bad_randomness",
}

MYTHRIL_SWC = {
    "107": "reentrancy", "104": "unchecked_low_level_calls", "101": "arithmetic",
    "106": "access_control", "105": "access_control", "112": "access_control",
    "115": "access_control", "116": "time_manipulation", "120": "bad_randomness",
    "114": "front_running", "113": "denial_of_service", "128": "denial_of_service",
}


def load_labels(data):
    with open(os.path.join(data, "vulnerabilities.json")) as f:
        entries = json.load(f)
    labels = defaultdict(set)  # path -> {(line, category)}
    for e in entries:
        for v in e["vulnerabilities"]:
            for line in v["lines"]:
                labels[e["path"]].add((line, v["category"]))
    versions = {}
    with open(os.path.join(data, "versions.csv")) as f:
        for row in csv.DictReader(f):
            versions[row["file"]] = row["compiled version"]
    return [e["path"] for e in entries], labels, versions


def score(name, paths, labels, findings, seconds, out):
    """findings: path -> [(category, [lines])]."""
    found = defaultdict(int)
    total = defaultdict(int)
    nfind = defaultdict(int)
    unmatched = defaultdict(int)
    for p in paths:
        lab = labels[p]
        for (_, c) in lab:
            total[c] += 1
        fs = findings.get(p, [])
        for (line, c) in lab:
            if any(fc == c and line in fl for fc, fl in fs):
                found[c] += 1
        for fc, fl in fs:
            nfind[fc] += 1
            if not any((l, fc) in lab for l in fl):
                unmatched[fc] += 1
    out.write(f"\n== {name}: {len(paths)} contracts, {seconds / max(len(paths), 1):.3f} s per contract\n")
    out.write(f"{'category':28} {'found':>9} {'labelled':>8} {'recall':>7} {'findings':>8} {'no label':>8} {'precision':>9}\n")
    for c in CATEGORIES + ["total"]:
        if c == "total":
            f, t = sum(found.values()), sum(total.values())
            n, u = sum(nfind.values()), sum(unmatched.values())
        else:
            f, t, n, u = found[c], total[c], nfind[c], unmatched[c]
        if t == 0 and n == 0:
            continue
        rec = f"{100 * f / t:.0f}%" if t else "-"
        prec = f"{100 * (n - u) / n:.0f}%" if n else "-"
        out.write(f"{c:28} {f:>9} {t:>8} {rec:>7} {n:>8} {u:>8} {prec:>9}\n")
    return {c: (found[c], total[c]) for c in CATEGORIES}


MIN_CONFIDENCE = "medium"


def run_verai(verai, data, paths):
    if not os.path.exists(verai):
        sys.exit(f"{verai} not found: cargo build --release -p verai (or pass --verai)")
    t0 = time.time()
    r = subprocess.run([verai, "audit", "--format", "json", "--min-confidence", MIN_CONFIDENCE,
                        os.path.join(data, "dataset")],
                       capture_output=True, text=True)
    secs = time.time() - t0
    doc = json.loads(r.stdout)
    findings = {}
    errors = []
    for f in doc["files"]:
        rel = os.path.relpath(f["path"], data)
        if not f["ok"]:
            errors.append((rel, f["error"]))
            continue
        findings[rel] = [(x["category"], x["lines"]) for x in f["report"]["findings"]]
    for rel, e in errors:
        print(f"verai could not audit {rel}: {e}", file=sys.stderr)
    return findings, secs


def wrapper(version):
    v = version
    parts = [int(x) for x in v.split(".")]
    if parts < [0, 4, 13] or not os.path.exists(os.path.join(PEERS, "bin", f"solc-{v}")):
        v = "0.4.26"
    return os.path.join(PEERS, "bin", f"solc-{v}"), v


def prepared_copy(src_path, version, tmp):
    """A copy whose pragma the chosen compiler accepts (same lines)."""
    with open(src_path, encoding="utf8", errors="replace") as f:
        text = f.read()
    text = re.sub(r"pragma\s+solidity\s+[^;]*;", f"pragma solidity {version};", text)
    d = tempfile.mkdtemp(dir=tmp)
    dst = os.path.join(d, os.path.basename(src_path))
    with open(dst, "w", encoding="utf8") as f:
        f.write(text)
    return d, dst


def run_slither(data, paths, versions, tmp):
    exe = os.path.join(PEERS, "slither", "bin", "slither")
    findings = {}
    t0 = time.time()
    for p in paths:
        solc, v = wrapper(versions.get(p, "0.4.26"))
        d, dst = prepared_copy(os.path.join(data, p), v, tmp)
        out = os.path.join(d, "out.json")
        subprocess.run([exe, d, "--solc", solc, "--solc-standard-json", "--json", out],
                       capture_output=True, text=True, timeout=300)
        fs = []
        try:
            with open(out) as f:
                doc = json.load(f)
            for det in (doc.get("results") or {}).get("detectors", []):
                cat = SLITHER_MAP.get(det.get("check"))
                if not cat:
                    continue
                lines = set()
                for el in det.get("elements", []):
                    sm = el.get("source_mapping") or {}
                    lines.update(sm.get("lines") or [])
                fs.append((cat, sorted(lines)))
        except (OSError, json.JSONDecodeError):
            print(f"slither failed on {p}", file=sys.stderr)
        findings[p] = fs
    return findings, time.time() - t0


def run_mythril(data, paths, versions, tmp, timeout):
    exe = os.path.join(PEERS, "mythril", "bin", "myth")
    env = dict(os.environ, SOLCX_BINARY_PATH=os.path.join(PEERS, "bin"))
    findings = {}
    t0 = time.time()
    for p in paths:
        solc, v = wrapper(versions.get(p, "0.4.26"))
        _, dst = prepared_copy(os.path.join(data, p), v, tmp)
        env["SOLC"] = solc
        try:
            r = subprocess.run([exe, "analyze", dst, "--solv", v, "--execution-timeout", str(timeout),
                                "-o", "json"], capture_output=True, text=True, env=env,
                               timeout=timeout * 4 + 60)
            doc = json.loads(r.stdout or "{}")
        except (subprocess.TimeoutExpired, json.JSONDecodeError):
            print(f"mythril failed on {p}", file=sys.stderr)
            doc = {}
        fs = []
        for issue in doc.get("issues", []) or []:
            cat = MYTHRIL_SWC.get(str(issue.get("swc-id")))
            if cat and issue.get("lineno"):
                fs.append((cat, [issue["lineno"]]))
        findings[p] = fs
    return findings, time.time() - t0


def main():
    ap = argparse.ArgumentParser()
    # shared/ sits beside the repository (a worktree under wt/ has it two levels up).
    default_data = next((d for d in (os.path.join(REPO, up, "shared", "data", "smartbugs-curated")
                                     for up in ("..", os.path.join("..", "..")))
                         if os.path.exists(d)), None)
    ap.add_argument("--data", default=default_data)
    ap.add_argument("--verai", default=None, help="verai binary (default: release build)")
    ap.add_argument("--only", choices=["verai", "slither", "mythril"], action="append")
    ap.add_argument("--mythril-sample", type=int, default=12)
    ap.add_argument("--mythril-timeout", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--min-confidence", default="medium", choices=["low", "medium", "high"],
                    help="verai's --min-confidence (its default: medium)")
    a = ap.parse_args()
    global MIN_CONFIDENCE
    MIN_CONFIDENCE = a.min_confidence
    data = os.path.abspath(a.data)
    paths, labels, versions = load_labels(data)
    tools = a.only or ["verai", "slither", "mythril"]
    out = sys.stdout
    out.write(f"SmartBugs curated: {len(paths)} contracts, "
              f"{sum(len(v) for v in labels.values())} labelled lines\n")
    out.write("rule: a labelled line counts when a finding of its category names it\n")
    results = {}
    if "verai" in tools:
        target = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
        verai = a.verai or os.path.join(target, "release", "verai")
        f, s = run_verai(verai, data, paths)
        results["verai"] = score(f"verai audit (--min-confidence {MIN_CONFIDENCE})", paths, labels, f, s, out)
    tmp = tempfile.mkdtemp(prefix="verai-audit-bench-")
    try:
        if "slither" in tools:
            f, s = run_slither(data, paths, versions, tmp)
            results["slither"] = score("Slither 0.11.6", paths, labels, f, s, out)
        if "mythril" in tools and a.mythril_sample > 0:
            sample = sorted(random.Random(a.seed).sample(paths, min(a.mythril_sample, len(paths))))
            f, s = run_mythril(data, sample, versions, tmp, a.mythril_timeout)
            score(f"Mythril 0.24.8 (sample of {len(sample)}, --execution-timeout {a.mythril_timeout})",
                  sample, labels, f, s, out)
            if "verai" in results:
                vf, vs = run_verai_subset(a, data, paths, sample)
                score(f"verai audit on the same {len(sample)}", sample, labels, vf, vs, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if "verai" in results and "slither" in results:
        out.write("\nper category, labelled lines found: verai vs slither\n")
        for c in CATEGORIES:
            (vf, t), (sf, _) = results["verai"][c], results["slither"][c]
            mark = "ok" if vf > sf or (vf == sf and vf == t) else ("=" if vf == sf else "BELOW")
            out.write(f"  {c:28} {vf:>3} vs {sf:>3} of {t:>3}  {mark}\n")


def run_verai_subset(a, data, paths, sample):
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
    verai = a.verai or os.path.join(target, "release", "verai")
    f, s = run_verai(verai, data, paths)
    return {p: f.get(p, []) for p in sample}, s * len(sample) / len(paths)


if __name__ == "__main__":
    main()
