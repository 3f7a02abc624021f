#!/usr/bin/env python3
"""The digits CNN of examples/digits_cnn.nn (sixteen 3x3 filters over a 1x8x8 image, a bias per
filter, relu, 2x2 max pooling, a dense layer 144 -> 10, cross-entropy with a label, weight
decay 0.0005 on both weight tensors, the batch mean) with JAX: `jit(value_and_grad)` with
`lax.conv_general_dilated` and `lax.reduce_window`, in float64, on the same numbers as
`cargo bench --bench digits_cnn` (benches/batch_support.rs's `numbers`, the parameters in the
order of the generated `Params::flat`). One sample, and a batch of 256 on one or two threads
(the first argument; XLA's intra-op pool is sized through XLA_FLAGS before import; run under
`taskset` to hold it to those cores, as bench/run-all does).

Prints the loss (which must equal the Rust benchmark's) and the times; writes
bench/results/digits_cnn_jax_THREADS.json. Run with bench/.venv's python.
"""

import numpy as np

# elman_bench sizes XLA's thread pool from the first argument before it imports JAX, and
# holds the generator and the timed, printed and written measurement both scripts share.
from elman_bench import flat_params, measure, numbers

import jax  # noqa: E402  (already imported, with x64 enabled, by elman_bench)
import jax.numpy as jnp  # noqa: E402

BATCH, FILTERS, CLASSES, DECAY = 256, 16, 10, 0.0005
SHAPES = [("K1", (FILTERS, 1, 3, 3)), ("b1", (FILTERS,)), ("W2", (CLASSES, FILTERS, 3, 3)),
          ("b2", (CLASSES,))]


def params():
    return flat_params(SHAPES, 0.3)


def loss(p, x, y):
    """The batch mean of the per-sample loss; x [B][1][8][8], y [B] labels."""
    z = jax.lax.conv_general_dilated(x, p["K1"], (1, 1), "VALID",
                                     dimension_numbers=("NCHW", "OIHW", "NCHW"))
    a = jax.nn.relu(z + p["b1"][None, :, None, None])
    pooled = jax.lax.reduce_window(a, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
    h = jnp.einsum("kfij,bfij->bk", p["W2"], pooled) + p["b2"]
    nll = -jnp.take_along_axis(jax.nn.log_softmax(h, axis=1), y[:, None], axis=1)[:, 0]
    return jnp.mean(nll + DECAY * ((p["K1"] ** 2).sum() + (p["W2"] ** 2).sum()))


def main():
    p = params()
    x = jnp.asarray(numbers(8, BATCH * 64, 1.0).reshape(BATCH, 1, 8, 8))
    y = jnp.asarray(np.minimum(((numbers(9, BATCH, 1.0) + 1.0) * 5.0).astype(np.int64), 9))
    measure("digits_cnn", loss, p, x, y, BATCH)


if __name__ == "__main__":
    main()
