#!/usr/bin/env python3
"""EZKL's zero-knowledge proof of one inference of the MLP (models/demand_forecast.onnx):
settings, calibration, circuit, a local SRS from gen_srs (test-only, no download), keys,
witness, then the timed proof and its verification. Weights are fixed in the circuit
(param_visibility "fixed"); input and output public.

  python3 bench/inference/ezkl_prove.py [--json]
"""
import argparse
import asyncio
import inspect
import json
import os
import tempfile
import time

import ezkl

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def call(f, *args, **kw):
    r = f(*args, **kw)
    if inspect.iscoroutine(r):
        r = asyncio.run(r)
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    model = os.path.join(ROOT, "models", "demand_forecast.onnx")
    d = tempfile.mkdtemp(prefix="ezkl-")
    p = lambda n: os.path.join(d, n)
    data = {"input_data": [[2.4, 2.7, 3.0, 3.0, 3.6, 4.8, 4.2, 1.0]]}
    with open(p("input.json"), "w") as f:
        json.dump(data, f)
    args = ezkl.PyRunArgs()
    args.input_visibility = "public"
    args.output_visibility = "public"
    args.param_visibility = "fixed"
    t = {}
    s = time.perf_counter()
    assert call(ezkl.gen_settings, model, p("settings.json"), py_run_args=args)
    call(ezkl.calibrate_settings, p("input.json"), model, p("settings.json"), "resources")
    assert call(ezkl.compile_circuit, model, p("model.compiled"), p("settings.json"))
    logrows = json.load(open(p("settings.json")))["run_args"]["logrows"]
    call(ezkl.gen_srs, p("kzg.srs"), logrows)
    t["setup_s"] = time.perf_counter() - s
    s = time.perf_counter()
    assert call(ezkl.setup, p("model.compiled"), p("vk.key"), p("pk.key"), p("kzg.srs"))
    t["keygen_s"] = time.perf_counter() - s
    s = time.perf_counter()
    call(ezkl.gen_witness, p("input.json"), p("model.compiled"), p("witness.json"))
    t["witness_s"] = time.perf_counter() - s
    s = time.perf_counter()
    assert call(ezkl.prove, p("witness.json"), p("model.compiled"), p("pk.key"), p("proof.json"), p("kzg.srs"))
    t["prove_s"] = time.perf_counter() - s
    s = time.perf_counter()
    ok = call(ezkl.verify, p("proof.json"), p("settings.json"), p("vk.key"), p("kzg.srs"))
    t["verify_s"] = time.perf_counter() - s
    res = {"ezkl": ezkl.__version__, "logrows": logrows, "verified": bool(ok), **t}
    if a.json:
        print(json.dumps(res))
    else:
        print(f"ezkl {ezkl.__version__}: logrows {logrows}, prove {t['prove_s']:.2f} s, verify {t['verify_s']:.3f} s, witness {t['witness_s']:.2f} s, keygen {t['keygen_s']:.2f} s (verified: {ok})")


if __name__ == "__main__":
    main()
