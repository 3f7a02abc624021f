#!/usr/bin/env python3
"""The Elman network of benches/nets/elman.nn (input 8, hidden 64, 32 steps, an output of 2
per step, 0.5 * the squared error summed over the steps, the batch mean) with JAX:
`jit(value_and_grad)` of the loss written with `lax.scan` over time, in float64, on the
same numbers as `cargo bench --bench elman` (benches/batch_support.rs's `numbers`, the
parameters in the order of the generated `Params::flat`). One sample, and a batch of 64 on
one and on two threads (XLA's CPU client sized by --xla_force_host_platform_device_count is
not what limits threads; the intra-op pool is, set here through XLA_FLAGS before import).

Prints the loss (which must equal the Rust benchmark's) and the times; writes
bench/results/elman_jax.json. Run with bench/.venv's python.
"""

import json
import os
import sys
import time

THREADS = int(sys.argv[1]) if len(sys.argv) > 1 else 1
os.environ["XLA_FLAGS"] = (
    f"--xla_cpu_multi_thread_eigen={'true' if THREADS > 1 else 'false'} "
    f"intra_op_parallelism_threads={THREADS}"
)
os.environ.setdefault("OMP_NUM_THREADS", str(THREADS))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)

HERE = os.path.dirname(os.path.abspath(__file__))
BATCH, STEPS, INPUT, HIDDEN, OUT = 64, 32, 8, 64, 2


def numbers(seed, n, scale):
    """benches/batch_support.rs's `numbers`: splitmix64, uniform in [-scale, scale)."""
    out = np.empty(n)
    state = seed & 0xFFFFFFFFFFFFFFFF
    mask = 0xFFFFFFFFFFFFFFFF
    for i in range(n):
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        z ^= z >> 31
        out[i] = ((z >> 11) / float(1 << 53) * 2.0 - 1.0) * scale
    return out


def flat_params(shapes, scale):
    """`numbers(7, ..., scale)` cut into named arrays in the order of the generated
    `Params::flat`: `shapes` is a list of (name, shape)."""
    flat = numbers(7, sum(int(np.prod(shape)) for _, shape in shapes), scale)
    out, at = {}, 0
    for name, shape in shapes:
        size = int(np.prod(shape))
        out[name] = jnp.asarray(flat[at:at + size].reshape(shape))
        at += size
    return out


def params():
    return flat_params([("W", (HIDDEN, HIDDEN)), ("U", (HIDDEN, INPUT)), ("b", (HIDDEN,)),
                        ("V", (OUT, HIDDEN)), ("c", (OUT,))], 0.2)


def loss(p, x, y):
    """The batch mean of the per-sample loss; x [B][T][8], y [B][T][2]."""
    def step(h, xy):
        x_t, y_t = xy
        h = jnp.tanh(h @ p["W"].T + x_t @ p["U"].T + p["b"])
        o = h @ p["V"].T + p["c"]
        return h, 0.5 * jnp.sum((o - y_t) ** 2, axis=1)
    h0 = jnp.zeros((x.shape[0], HIDDEN))
    _, per_step = jax.lax.scan(step, h0, (jnp.swapaxes(x, 0, 1), jnp.swapaxes(y, 0, 1)))
    return jnp.mean(jnp.sum(per_step, axis=0))


def timed(f, *args):
    f(*args)[0].block_until_ready()
    best = []
    for _ in range(7):
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < 0.1:
            f(*args)[0].block_until_ready()
            calls += 1
        best.append((time.perf_counter() - start) / calls)
    return sorted(best)[3]


def measure(name, loss_fn, p, x, y, rows):
    """Times `jit(value_and_grad(loss_fn))` on one sample and on `rows` rows, prints both
    with the loss, and writes bench/results/{name}_jax_{THREADS}.json."""
    grad = jax.jit(jax.value_and_grad(loss_fn))
    value, _ = grad(p, x, y)
    one = timed(grad, p, x[:1], y[:1])
    batch = timed(grad, p, x, y)
    print(f"JAX {jax.__version__}, {THREADS} thread(s): loss {float(value):.12f}")
    print(f"  gradient, one sample: {one * 1e6:.1f} us")
    print(f"  gradient, {rows} rows: {batch * 1e6:.1f} us")
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    path = os.path.join(HERE, "results", f"{name}_jax_{THREADS}.json")
    with open(path, "w") as f:
        json.dump({"loss": float(value), "per_sample_us": one * 1e6,
                   "batch_us": batch * 1e6, "threads": THREADS}, f)


def main():
    p = params()
    x = jnp.asarray(numbers(8, BATCH * STEPS * INPUT, 1.0).reshape(BATCH, STEPS, INPUT))
    y = jnp.asarray(numbers(9, BATCH * STEPS * OUT, 1.0).reshape(BATCH, STEPS, OUT))
    measure("elman", loss, p, x, y, BATCH)


if __name__ == "__main__":
    main()
