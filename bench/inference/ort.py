#!/usr/bin/env python3
"""onnxruntime on the same models and inputs as `verai-bench --bin inference`: one thread,
full graph optimization, per-call latency (p50, p99) over the inputs the Rust run wrote, and
the largest difference from verai's outputs (engines never agree bit for bit).

  python3 bench/inference/ort.py [--inputs target/bench-inference] [--json]
"""
import argparse
import json
import os
import time

import numpy as np
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = {"mlp": "models/demand_forecast.onnx", "cnn": "models/cnn_small.onnx"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--inputs", default=os.path.join(ROOT, "target", "bench-inference"))
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    rows = []
    for name, rel in MODELS.items():
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(os.path.join(ROOT, rel), so, providers=["CPUExecutionProvider"])
        inp = sess.get_inputs()[0]
        shape = [int(d) for d in inp.shape]
        per = int(np.prod(shape))
        flat = np.fromfile(os.path.join(a.inputs, f"{name}.f32"), dtype="<f4")
        xs = flat.reshape(-1, *shape)
        for x in xs[:100]:  # warm-up
            sess.run(None, {inp.name: x})
        times = []
        outs = []
        for i, x in enumerate(xs):
            t = time.perf_counter_ns()
            out = sess.run(None, {inp.name: x})[0]
            times.append((time.perf_counter_ns() - t) / 1000.0)
            if i < 100:
                outs.append(out.reshape(-1))
        times.sort()
        verai_out = np.fromfile(os.path.join(a.inputs, f"{name}.out.f32"), dtype="<f4")
        ours = np.concatenate(outs)
        diff = float(np.max(np.abs(ours - verai_out))) if len(verai_out) == len(ours) else None
        rows.append({
            "model": name,
            "runs": len(xs),
            "us_p50": times[len(times) // 2],
            "us_p99": times[min(len(times) - 1, int(round((len(times) - 1) * 0.99)))],
            "us_mean": sum(times) / len(times),
            "max_abs_diff_vs_verai": diff,
            "bit_identical_to_verai": bool(diff == 0.0),
            "inputs_per_call": per,
        })
    res = {"onnxruntime": ort.__version__, "models": rows}
    if a.json:
        print(json.dumps(res))
    else:
        print(f"onnxruntime {ort.__version__} (one thread)")
        for r in rows:
            print(f"  {r['model']:<4} p50 {r['us_p50']:8.1f} µs  p99 {r['us_p99']:8.1f} µs  max |diff| vs verai {r['max_abs_diff_vs_verai']}")


if __name__ == "__main__":
    main()
