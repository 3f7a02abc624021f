#!/usr/bin/env python3
"""The digits classifier of examples/digits.rs, trained the same way with PyTorch and JAX.

Same network (examples/digits.nn: 64 -> 32 tanh -> 10, softmax, cross-entropy on one-hot
labels, per-sample loss plus 0.0005 * (sum(W1^2) + sum(W2^2)), batch mean), same data
(examples/data/digits.csv, pixels / 16, a fifth held out), same algorithm (Glorot-uniform
weights, zero biases, 30 epochs of mini-batch SGD, batches of 16 in a reshuffled order each
epoch, learning rate 0.1), in float64 on one CPU thread.

The split, the starting weights and the batch order come from NumPy's generator seeded with
14, and both frameworks get the very same ones, so their losses agree to rounding (checked
here); the Rust example draws its own with rand's StdRng, so its figures agree only
statistically. The time is the training loop only (no accuracy evaluation), the best of
--repeats runs.

A framework that cannot be imported is recorded with the reason, not timed. Run in
bench/.venv (bench/setup-venv); writes bench/results/digits.json and prints one row per
framework.
"""

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.join(ROOT, "examples", "data", "digits.csv")
RESULTS = os.path.join(HERE, "results")

SEED = 14
TEST_FRACTION = 0.2
EPOCHS = 30
BATCH = 16
LR = 0.1
DECAY = 0.0005


def load():
    raw = np.loadtxt(DATA, delimiter=",", dtype=np.float64)
    labels = raw[:, 0].astype(np.int64)
    x = raw[:, 1:] / 16.0
    t = np.eye(10)[labels]
    return x, t, labels


def setup():
    x, t, labels = load()
    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(labels))
    test_len = int(round(len(labels) * TEST_FRACTION))
    test, train = order[:test_len], order[test_len:]
    limit1 = np.sqrt(6.0 / (64 + 32))
    limit2 = np.sqrt(6.0 / (32 + 10))
    params = {
        "W1": rng.uniform(-limit1, limit1, (32, 64)),
        "b1": np.zeros(32),
        "W2": rng.uniform(-limit2, limit2, (10, 32)),
        "b2": np.zeros(10),
    }
    epochs = [rng.permutation(len(train)) for _ in range(EPOCHS)]
    return {
        "x_train": x[train], "t_train": t[train], "y_train": labels[train],
        "x_test": x[test], "t_test": t[test], "y_test": labels[test],
        "params": params, "epochs": epochs,
    }


def batches(setup_, epoch):
    order = setup_["epochs"][epoch]
    for start in range(0, len(order), BATCH):
        rows = order[start:start + BATCH]
        yield setup_["x_train"][rows], setup_["t_train"][rows]


def accuracy(forward, params, x, y):
    return float(np.mean(np.argmax(forward(params, x), axis=1) == y))


def run_torch(s, repeats):
    import torch

    torch.set_num_threads(1)

    def forward(p, x):
        h = torch.tanh(x @ p["W1"].T + p["b1"])
        return h @ p["W2"].T + p["b2"]

    best, losses, final = None, None, None
    for _ in range(repeats):
        p = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in s["params"].items()}
        batches_t = [[(torch.tensor(x), torch.tensor(t)) for x, t in batches(s, e)] for e in range(EPOCHS)]
        epoch_losses = []
        start = time.perf_counter()
        for epoch in range(EPOCHS):
            total = 0.0
            for x, t in batches_t[epoch]:
                z = forward(p, x)
                per_sample = -(t * torch.log_softmax(z, dim=1)).sum(dim=1) + DECAY * ((p["W1"] ** 2).sum() + (p["W2"] ** 2).sum())
                loss = per_sample.mean()
                loss.backward()
                with torch.no_grad():
                    for v in p.values():
                        v -= LR * v.grad
                        v.grad = None
                total += loss.item()
            epoch_losses.append(total / len(batches_t[epoch]))
        elapsed = time.perf_counter() - start
        if best is None or elapsed < best:
            best = elapsed
        losses = epoch_losses
        final = {k: v.detach().numpy() for k, v in p.items()}

    def np_forward(p, x):
        return np.tanh(x @ p["W1"].T + p["b1"]) @ p["W2"].T + p["b2"]

    return {
        "framework": f"PyTorch {torch.__version__} (eager, float64, 1 thread)",
        "seconds": best,
        "losses": losses,
        "train_accuracy": accuracy(np_forward, final, s["x_train"], s["y_train"]),
        "test_accuracy": accuracy(np_forward, final, s["x_test"], s["y_test"]),
    }


def run_jax(s, repeats):
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def forward(p, x):
        h = jnp.tanh(x @ p["W1"].T + p["b1"])
        return h @ p["W2"].T + p["b2"]

    def batch_loss(p, x, t):
        z = forward(p, x)
        per_sample = -(t * jax.nn.log_softmax(z, axis=1)).sum(axis=1) + DECAY * ((p["W1"] ** 2).sum() + (p["W2"] ** 2).sum())
        return per_sample.mean()

    @jax.jit
    def step(p, x, t):
        loss, g = jax.value_and_grad(batch_loss)(p, x, t)
        return jax.tree_util.tree_map(lambda v, d: v - LR * d, p, g), loss

    best, losses, final = None, None, None
    batches_j = [[(jnp.asarray(x), jnp.asarray(t)) for x, t in batches(s, e)] for e in range(EPOCHS)]
    # Compile both batch shapes (full and the last, shorter one) before timing.
    warm = {k: jnp.asarray(v) for k, v in s["params"].items()}
    for x, t in {tuple(x.shape): (x, t) for x, t in batches_j[0]}.values():
        step(warm, x, t)[1].block_until_ready()
    for _ in range(repeats):
        p = {k: jnp.asarray(v) for k, v in s["params"].items()}
        epoch_losses = []
        start = time.perf_counter()
        for epoch in range(EPOCHS):
            step_losses = []
            for x, t in batches_j[epoch]:
                p, loss = step(p, x, t)
                step_losses.append(loss)
            epoch_losses.append(float(jnp.mean(jnp.stack(step_losses))))
        jax.tree_util.tree_map(lambda v: v.block_until_ready(), p)
        elapsed = time.perf_counter() - start
        if best is None or elapsed < best:
            best = elapsed
        losses = epoch_losses
        final = {k: np.asarray(v) for k, v in p.items()}

    def np_forward(p, x):
        return np.tanh(x @ p["W1"].T + p["b1"]) @ p["W2"].T + p["b2"]

    return {
        "framework": f"JAX {jax.__version__} (jit(value_and_grad) per batch, float64, CPU)",
        "seconds": best,
        "losses": losses,
        "train_accuracy": accuracy(np_forward, final, s["x_train"], s["y_train"]),
        "test_accuracy": accuracy(np_forward, final, s["x_test"], s["y_test"]),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    s = setup()
    rows = []
    for name, run in (("pytorch", run_torch), ("jax", run_jax)):
        try:
            rows.append({"name": name, **run(s, args.repeats)})
        except ImportError as e:
            rows.append({"name": name, "unavailable": f"cannot import: {e}"})
    timed = [r for r in rows if "losses" in r]
    if len(timed) == 2:
        a, b = timed[0]["losses"], timed[1]["losses"]
        worst = max(abs(x - y) / max(abs(x), 1.0) for x, y in zip(a, b))
        if worst > 1e-9:
            print(f"error: PyTorch and JAX losses differ by {worst:.2e} (relative)", file=sys.stderr)
            sys.exit(1)
    os.makedirs(RESULTS, exist_ok=True)
    out = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "epochs": EPOCHS, "batch": BATCH, "lr": LR, "decay": DECAY,
        "train_samples": len(s["y_train"]), "test_samples": len(s["y_test"]),
        "rows": rows,
    }
    with open(os.path.join(RESULTS, "digits.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(f"digits, {EPOCHS} epochs of mini-batch SGD (batch {BATCH}, lr {LR}) over {len(s['y_train'])} samples")
    for r in rows:
        if "unavailable" in r:
            print(f"  {r['name']:<8} {r['unavailable']}")
        else:
            print(f"  {r['framework']:<60} {r['seconds']:8.3f} s  final loss {r['losses'][-1]:.4f}  "
                  f"train {100 * r['train_accuracy']:.1f}%  test {100 * r['test_accuracy']:.1f}%")


if __name__ == "__main__":
    main()
