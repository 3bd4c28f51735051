#!/usr/bin/env python3
"""Build the ONNX models Verai ships for examples, tests and benchmarks. Seeded: rerunning
writes the same files.

  python3 -m venv /tmp/venv-ml && /tmp/venv-ml/bin/pip install numpy onnx
  /tmp/venv-ml/bin/python models/train.py

- models/demand_forecast.onnx: an MLP (8 -> 16 -> 16 -> 1, ReLU) trained with Adam on a
  synthetic retail demand series written to models/demand_data.csv: for each day, the last
  seven days' unit sales and a promotion flag -> the next day's sales. Sales are in hundreds
  of units. The supply-chain example contract reorders when the forecast passes a threshold.
- models/cnn_small.onnx: a small convolutional net (1x16x16 -> conv 8 -> pool -> conv 16 ->
  pool -> dense 10), seeded random weights: a latency benchmark model, not a classifier.
- crates/ai/inference/tests/fixtures/: models that must be refused (softmax, dynamic shape).
"""
import csv
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "models")
FIXTURES = os.path.join(ROOT, "crates", "ai", "inference", "tests", "fixtures")
OPSET = [helper.make_opsetid("", 13)]


def save(model, path):
    onnx.checker.check_model(model)
    # Fixed producer fields so the bytes (and the model hash) do not depend on versions.
    model.producer_name = "verai-models"
    model.producer_version = "1"
    # IR 8 (ONNX 1.13+): what onnxruntime and tract both read; opset 13 needs at least 7.
    model.ir_version = 8
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
    print(f"wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes)")


def demand_series(rng, days=1500):
    t = np.arange(days)
    weekly = np.array([0.8, 0.9, 1.0, 1.0, 1.2, 1.6, 1.4])[t % 7]
    trend = 1.0 + 0.0004 * t
    promo = (rng.random(days) < 0.12).astype(np.float64)
    noise = rng.normal(0, 0.08, days)
    sales = 3.0 * weekly * trend * (1 + 0.5 * promo) + noise
    return np.maximum(sales, 0), promo


def demand_forecast():
    rng = np.random.default_rng(20261122)
    sales, promo = demand_series(rng)
    x, y = [], []
    for d in range(7, len(sales)):
        x.append(np.concatenate([sales[d - 7 : d], [promo[d]]]))
        y.append([sales[d]])
    x, y = np.array(x, dtype=np.float64), np.array(y, dtype=np.float64)
    with open(os.path.join(MODELS, "demand_data.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([f"sales_t-{7 - i}" for i in range(7)] + ["promo", "sales_next"])
        for a, b in zip(x, y):
            w.writerow([f"{v:.4f}" for v in a] + [f"{b[0]:.4f}"])
    split = int(len(x) * 0.8)
    sizes = [8, 16, 16, 1]
    params = []
    for i in range(3):
        w = rng.normal(0, np.sqrt(2 / sizes[i]), (sizes[i], sizes[i + 1]))
        params += [w, np.zeros(sizes[i + 1])]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    lr, b1, b2 = 3e-3, 0.9, 0.999
    step = 0
    for epoch in range(300):
        order = rng.permutation(split)
        for s in range(0, split, 64):
            idx = order[s : s + 64]
            xb, yb = x[idx], y[idx]
            h1 = np.maximum(xb @ params[0] + params[1], 0)
            h2 = np.maximum(h1 @ params[2] + params[3], 0)
            out = h2 @ params[4] + params[5]
            g = 2 * (out - yb) / len(idx)
            grads = [None] * 6
            grads[4], grads[5] = h2.T @ g, g.sum(0)
            g2 = (g @ params[4].T) * (h2 > 0)
            grads[2], grads[3] = h1.T @ g2, g2.sum(0)
            g1 = (g2 @ params[2].T) * (h1 > 0)
            grads[0], grads[1] = xb.T @ g1, g1.sum(0)
            step += 1
            for i in range(6):
                m[i] = b1 * m[i] + (1 - b1) * grads[i]
                v[i] = b2 * v[i] + (1 - b2) * grads[i] ** 2
                mh, vh = m[i] / (1 - b1**step), v[i] / (1 - b2**step)
                params[i] -= lr * mh / (np.sqrt(vh) + 1e-8)

    def predict(a):
        h1 = np.maximum(a @ params[0] + params[1], 0)
        h2 = np.maximum(h1 @ params[2] + params[3], 0)
        return h2 @ params[4] + params[5]

    test_mae = np.abs(predict(x[split:]) - y[split:]).mean()
    naive_mae = np.abs(x[split:, 6:7] - y[split:]).mean()
    print(f"demand_forecast: held-out MAE {test_mae:.3f} (yesterday's sales as forecast: {naive_mae:.3f})")

    inits = []
    nodes = []
    prev = "input"
    for i in range(3):
        wn, bn = f"w{i}", f"b{i}"
        inits.append(numpy_helper.from_array(params[2 * i].astype(np.float32), wn))
        inits.append(numpy_helper.from_array(params[2 * i + 1].astype(np.float32), bn))
        out = "output" if i == 2 else f"h{i}"
        lin = out if i == 2 else f"z{i}"
        nodes.append(helper.make_node("Gemm", [prev, wn, bn], [lin], name=f"dense{i}"))
        if i < 2:
            nodes.append(helper.make_node("Relu", [lin], [out], name=f"relu{i}"))
        prev = out
    graph = helper.make_graph(
        nodes,
        "demand_forecast",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1])],
        inits,
    )
    save(helper.make_model(graph, opset_imports=OPSET), os.path.join(MODELS, "demand_forecast.onnx"))


def cnn_small():
    rng = np.random.default_rng(7)

    def t(name, shape, fan_in):
        return numpy_helper.from_array(
            rng.normal(0, np.sqrt(2 / fan_in), shape).astype(np.float32), name
        )

    inits = [
        t("c1w", (8, 1, 3, 3), 9),
        numpy_helper.from_array(np.zeros(8, np.float32), "c1b"),
        t("c2w", (16, 8, 3, 3), 72),
        numpy_helper.from_array(np.zeros(16, np.float32), "c2b"),
        t("dw", (256, 10), 256),
        numpy_helper.from_array(np.zeros(10, np.float32), "db"),
    ]
    nodes = [
        helper.make_node("Conv", ["input", "c1w", "c1b"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2], name="pool1"),
        helper.make_node("Conv", ["p1", "c2w", "c2b"], ["c2"], pads=[1, 1, 1, 1], name="conv2"),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("MaxPool", ["r2"], ["p2"], kernel_shape=[2, 2], strides=[2, 2], name="pool2"),
        helper.make_node("Flatten", ["p2"], ["f"], axis=1, name="flatten"),
        helper.make_node("Gemm", ["f", "dw", "db"], ["output"], name="dense"),
    ]
    graph = helper.make_graph(
        nodes,
        "cnn_small",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 16, 16])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 10])],
        inits,
    )
    save(helper.make_model(graph, opset_imports=OPSET), os.path.join(MODELS, "cnn_small.onnx"))


def refused_fixtures():
    os.makedirs(FIXTURES, exist_ok=True)
    w = numpy_helper.from_array(np.ones((4, 3), np.float32), "w")
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["input", "w"], ["z"], name="dense"),
            helper.make_node("Softmax", ["z"], ["output"], name="probabilities"),
        ],
        "softmax",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3])],
        [w],
    )
    save(helper.make_model(graph, opset_imports=OPSET), os.path.join(FIXTURES, "softmax.onnx"))
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["input", "w"], ["output"], name="dense")],
        "dynamic",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 3])],
        [w],
    )
    save(helper.make_model(graph, opset_imports=OPSET), os.path.join(FIXTURES, "dynamic.onnx"))


if __name__ == "__main__":
    demand_forecast()
    cnn_small()
    refused_fixtures()
