#!/usr/bin/env bash
# Sentinel fraud model against Python gradient-boosted baselines, on the same stratified
# folds, in one run. See bench/README.md.
#
#   bench/sentinel/run.sh [DATA] [FOLDS]     (defaults: ../shared/data/eth-fraud/train.csv, 5)
#
# Builds `verai` (release) unless VERAI_BIN points at one, creates a Python venv under
# bench/sentinel/.venv with pinned xgboost-cpu and scikit-learn (first run only), trains a
# model (its recipe is what `eval --folds` cross-validates), runs
# `verai sentinel eval --folds K --export-folds`, then the baselines on the exported folds.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
repo="$(cd "$here/../.." && pwd -P)"
# shared/ sits beside the clone (CI) or two levels up (a worktree under wt/).
default_data="$repo/../shared/data/eth-fraud/train.csv"
[ -f "$default_data" ] || default_data="$repo/../../shared/data/eth-fraud/train.csv"
data="${1:-$default_data}"
folds="${2:-5}"
seed="${SEED:-42}"

if [ -z "${VERAI_BIN:-}" ]; then
    (cd "$repo" && cargo build --release -q -p verai)
    VERAI_BIN="${CARGO_TARGET_DIR:-$repo/target}/release/verai"
fi

venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check \
        numpy==2.3.5 scikit-learn==1.7.2 xgboost-cpu==3.2.0 >&2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$VERAI_BIN" sentinel train --data "$data" --out "$work/model.json" --seed "$seed" --json >"$work/train.json"
"$VERAI_BIN" sentinel eval --model "$work/model.json" --data "$data" --folds "$folds" \
    --export-folds "$work/folds.csv" --json >"$work/rust.json"
"$venv/bin/python" "$here/baseline.py" --data "$data" --folds "$work/folds.csv" --seed "$seed" \
    >"$work/py.json"

"$venv/bin/python" - "$work/rust.json" "$work/py.json" "$data" <<'PY'
import json, sys
rust = json.load(open(sys.argv[1])); py = json.load(open(sys.argv[2]))
cv = rust["cv"]; p = cv["pooled"]
print(f"Sentinel fraud model vs gradient-boosted baselines, stratified {cv['folds']}-fold CV")
print(f"data {sys.argv[3]} ({py['rows']} rows, {py['fraud_rows']} fraud), sha256 {rust['data_sha256']}")
print(f"same folds for all (SplitMix64 seed {cv['seed']}, exported by verai); pooled out-of-fold, fraud class, p >= 0.5")
print()
print(f"{'model':<34}{'F1':>8}{'prec':>8}{'recall':>8}{'AUC':>8}{'F1 mean±sd':>16}{'time':>8}")
rows = [("verai (forust-ml, Rust)", p["f1"], p["precision"], p["recall"], p["roc_auc"],
         f"{cv['f1_mean']:.4f}±{cv['f1_std']:.4f}", rust["seconds"])]
for key, label in [("xgboost", "xgboost-cpu (Python)"), ("sklearn_hgb", "sklearn HistGradientBoosting")]:
    b = py[key]
    import statistics
    rows.append((label, b["f1"], b["precision"], b["recall"], b["roc_auc"],
                 f"{b['f1_mean']:.4f}±{statistics.pstdev(b['per_fold_f1']):.4f}", b["seconds"]))
for r in rows:
    print(f"{r[0]:<34}{r[1]:>8.4f}{r[2]:>8.4f}{r[3]:>8.4f}{r[4]:>8.4f}{r[5]:>16}{r[6]:>7.1f}s")
best = max(py["xgboost"]["f1"], py["sklearn_hgb"]["f1"])
print()
print(f"goal: F1 >= 0.95 and >= best baseline ({best:.4f}): "
      f"{'met' if p['f1'] >= 0.95 and p['f1'] >= best else 'NOT met'} (verai {p['f1']:.4f})")
PY
