#!/usr/bin/env python3
"""The convolutional digits network of examples/digits_cnn.rs, trained the same way with JAX.

Same network (examples/digits_cnn.nn: sixteen 3x3 filters over the 1x8x8 image, a bias per
filter, relu, 2x2 max pooling, a dense layer 144 -> 10, cross-entropy with an integer label,
per-sample loss plus 0.0005 * (sum(K1^2) + sum(W2^2)), batch mean), same data
(examples/data/digits.csv, pixels / 16, a fifth held out), same algorithm (30 epochs of
mini-batch SGD, batches of 16 in a reshuffled order each epoch, learning rate 0.1), in
float64 on one CPU thread. JAX's own `conv_general_dilated` and `reduce_window`, under
`jit(value_and_grad)` per batch.

Starting weights: uniform in +-sqrt(6 / (fan_in + fan_out)) scaled for relu as
`Params::init` draws them (He: +-sqrt(6 / fan_in)), from NumPy's generator seeded with 14, so
the figures agree with the Rust example's only statistically. The time is the training loop
only (no accuracy evaluation), the best of --repeats runs. Writes
bench/results/digits_cnn.json and prints one row.
"""

import argparse
import json
import os
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
FILTERS = 16


def setup():
    raw = np.loadtxt(DATA, delimiter=",", dtype=np.float64)
    labels = raw[:, 0].astype(np.int64)
    x = (raw[:, 1:] / 16.0).reshape(-1, 1, 8, 8)
    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(labels))
    test_len = int(round(len(labels) * TEST_FRACTION))
    test, train = order[:test_len], order[test_len:]
    he = lambda fan_in: np.sqrt(6.0 / fan_in)
    params = {
        "K1": rng.uniform(-he(9), he(9), (FILTERS, 1, 3, 3)),
        "b1": np.zeros(FILTERS),
        "W2": rng.uniform(-he(FILTERS * 9), he(FILTERS * 9), (10, FILTERS, 3, 3)),
        "b2": np.zeros(10),
    }
    epochs = [rng.permutation(len(train)) for _ in range(EPOCHS)]
    return {
        "x_train": x[train], "y_train": labels[train],
        "x_test": x[test], "y_test": labels[test],
        "params": params, "epochs": epochs,
    }


def run_jax(s, repeats):
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def forward(p, x):
        z = jax.lax.conv_general_dilated(x, p["K1"], (1, 1), "VALID",
                                         dimension_numbers=("NCHW", "OIHW", "NCHW"))
        a = jax.nn.relu(z + p["b1"][None, :, None, None])
        pooled = jax.lax.reduce_window(a, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
        return jnp.einsum("kfij,bfij->bk", p["W2"], pooled) + p["b2"]

    def batch_loss(p, x, y):
        logits = forward(p, x)
        nll = -jnp.take_along_axis(jax.nn.log_softmax(logits, axis=1), y[:, None], axis=1)[:, 0]
        return jnp.mean(nll + DECAY * ((p["K1"] ** 2).sum() + (p["W2"] ** 2).sum()))

    @jax.jit
    def step(p, x, y):
        loss, g = jax.value_and_grad(batch_loss)(p, x, y)
        return jax.tree_util.tree_map(lambda v, d: v - LR * d, p, g), loss

    predict = jax.jit(forward)
    batches = [[(jnp.asarray(s["x_train"][rows]), jnp.asarray(s["y_train"][rows]))
                for rows in (order[i:i + BATCH] for i in range(0, len(order), BATCH))]
               for order in s["epochs"]]
    warm = {k: jnp.asarray(v) for k, v in s["params"].items()}
    for x, y in {tuple(x.shape): (x, y) for x, y in batches[0]}.values():
        step(warm, x, y)[1].block_until_ready()
    best, final, losses = None, None, None
    for _ in range(repeats):
        p = {k: jnp.asarray(v) for k, v in s["params"].items()}
        epoch_losses = []
        start = time.perf_counter()
        for epoch in range(EPOCHS):
            step_losses = []
            for x, y in batches[epoch]:
                p, loss = step(p, x, y)
                step_losses.append(loss)
            epoch_losses.append(float(jnp.mean(jnp.stack(step_losses))))
        jax.tree_util.tree_map(lambda v: v.block_until_ready(), p)
        elapsed = time.perf_counter() - start
        if best is None or elapsed < best:
            best, final, losses = elapsed, p, epoch_losses
    accuracy = lambda x, y: float(np.mean(np.argmax(np.asarray(predict(final, jnp.asarray(x))), axis=1) == y))
    return {
        "framework": f"JAX {jax.__version__} (jit(value_and_grad) per batch, float64, CPU)",
        "seconds": best,
        "losses": losses,
        "train_accuracy": accuracy(s["x_train"], s["y_train"]),
        "test_accuracy": accuracy(s["x_test"], s["y_test"]),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    s = setup()
    try:
        row = {"name": "jax", **run_jax(s, args.repeats)}
    except ImportError as e:
        row = {"name": "jax", "unavailable": f"cannot import: {e}"}
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "digits_cnn.json"), "w") as f:
        json.dump(row, f, indent=1)
    if "seconds" in row:
        print(f"{row['framework']}: {row['seconds']:.3f} s for {EPOCHS} epochs, "
              f"final loss {row['losses'][-1]:.4f}, train {100 * row['train_accuracy']:.1f}%, "
              f"test {100 * row['test_accuracy']:.1f}%")
    else:
        print(f"jax: {row['unavailable']}")


if __name__ == "__main__":
    main()
