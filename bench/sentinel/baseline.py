"""Gradient-boosted baselines for the sentinel's fraud model, on exported folds.

Reads the data set CSV and a fold file (`row,fold,flag`, written by
`verai sentinel eval --folds K --export-folds FILE`), trains XGBoost and scikit-learn's
HistGradientBoostingClassifier on each fold's complement and scores the fold, and prints one
JSON object with the pooled out-of-fold metrics of each (fraud class, threshold 0.5).

Features: every numeric account column of the data set (the same 45 the Rust model reads;
`id`, `Index`, `Address` and the token-name columns are left out, as in Rust); empty cells
are missing values (NaN), which both libraries handle natively.
"""

import argparse
import csv
import json
import math
import time

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import confusion_matrix, f1_score, precision_score, recall_score, roc_auc_score
from xgboost import XGBClassifier

SKIP = {"id", "Index", "Address", "FLAG", "ERC20 most sent token type", "ERC20_most_rec_token_type"}


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header = [h.strip() for h in rows[0]]
    cols = [i for i, h in enumerate(header) if h not in SKIP]
    flag = header.index("FLAG")
    x = np.array([[float(r[i]) if r[i].strip() != "" else math.nan for i in cols] for r in rows[1:]])
    y = np.array([int(r[flag]) for r in rows[1:]])
    return x, y, [header[i] for i in cols]


def metrics(y, p):
    pred = (p >= 0.5).astype(int)
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
    return {
        "precision": precision_score(y, pred),
        "recall": recall_score(y, pred),
        "f1": f1_score(y, pred),
        "roc_auc": roc_auc_score(y, p),
        "confusion": {"tp": int(tp), "fp": int(fp), "tn": int(tn), "fn": int(fn)},
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--folds", required=True)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    x, y, names = load(a.data)
    with open(a.folds, newline="") as f:
        fr = list(csv.DictReader(f))
    fold = np.array([int(r["fold"]) for r in fr])
    assert len(fold) == len(y), "fold file does not match the data"
    assert all(int(r["flag"]) == y[i] for i, r in enumerate(fr)), "fold file labels differ"
    k = int(fold.max()) + 1
    models = {
        # Same recipe size as the Rust model: 400 trees, depth 6, rate 0.05, 80 % rows/columns.
        "xgboost": lambda: XGBClassifier(
            n_estimators=400, learning_rate=0.05, max_depth=6, subsample=0.8,
            colsample_bytree=0.8, tree_method="hist", random_state=a.seed, n_jobs=2,
        ),
        # scikit-learn's histogram gradient boosting with its defaults (100 iterations).
        "sklearn_hgb": lambda: HistGradientBoostingClassifier(random_state=a.seed),
    }
    out = {"rows": int(len(y)), "fraud_rows": int(y.sum()), "features": len(names), "folds": k}
    for name, make in models.items():
        oof = np.zeros(len(y))
        per_fold = []
        t0 = time.time()
        for i in range(k):
            test = fold == i
            m = make()
            m.fit(x[~test], y[~test])
            oof[test] = m.predict_proba(x[test])[:, 1]
            per_fold.append(f1_score(y[test], (oof[test] >= 0.5).astype(int)))
        res = metrics(y, oof)
        res["per_fold_f1"] = per_fold
        res["f1_mean"] = float(np.mean(per_fold))
        res["seconds"] = time.time() - t0
        out[name] = res
    print(json.dumps(out, default=float))


if __name__ == "__main__":
    main()
