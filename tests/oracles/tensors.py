"""Reference numbers for networks of tensors (issue 19): the loss and every parameter's gradient
of tests/oracles/tensors.nn, computed with JAX (jax.grad over jax.lax.conv_general_dilated and
jax.lax.reduce_window), independently of chainrule. The network is written here again with
JAX's own convolution and pooling, not from chainrule's index formulas:

  conv:    z1 = conv2d(img, K1) + b1 (cross-correlation, valid, as PyTorch's conv2d)
           a1 = tanh(z1); p1 = 2x2 max pooling, stride 2 (the partial window dropped)
           r1 = relu(p1); h = W . flatten(r1) + c2; L = -log_softmax(h)[y]
  strided: z = conv2d(x, K, stride 2); a = tanh(z)^2 + 0.5 z; s = mean over the last axis;
           m = mean of windows of 2 along the second axis (stride 1); L = 0.5 sum((m - t)^2)
  rnn:     an Elman network by jax.lax.scan over 5 steps from a zero state:
           h_t = tanh(W h_{t-1} + U x_t + b); o_t = V h_t + c; L = 0.5 sum((o - y)^2)
  lstm:    an LSTM cell by jax.lax.scan over 4 steps from zero state and cell, the textbook
           gates (forget, input, candidate, output); many-to-one: p = V h_3 + d,
           L = 0.5 sum((p - y)^2)
  gru:     a GRU cell (Cho et al. 2014, the reset gate applied before W_n) by jax.lax.scan
           over 5 steps; o_t = v . h_t; L = 0.5 sum((o - y)^2)

A batch of 3 samples, combined by the mean. Parameters and data are drawn here with a fixed
seed and written into the JSON with the results, in the --params/--data layouts.

Run: /path/to/venv/bin/python tests/oracles/tensors.py  (JAX from bench/requirements.txt;
writes tensors.json beside it)
"""

import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

HERE = pathlib.Path(__file__).parent
SAMPLES = 3


def conv(x, k, stride):
    # x [C][H][W], k [F][C][P][Q] -> [F][H'][W']: NCHW / OIHW, no padding.
    out = jax.lax.conv_general_dilated(
        x[None], k, window_strides=(stride, stride), padding="VALID",
        dimension_numbers=("NCHW", "OIHW", "NCHW"),
        precision=jax.lax.Precision.HIGHEST)
    return out[0]


def conv_loss(p, img, y):
    z1 = conv(img, p["K1"], 1) + p["b1"][:, None, None]
    a1 = jnp.tanh(z1)
    p1 = jax.lax.reduce_window(a1, -jnp.inf, jax.lax.max, (1, 2, 2), (1, 2, 2), "VALID")
    r1 = jax.nn.relu(p1)
    h = jnp.einsum("kfij,fij->k", p["W"], r1, precision=jax.lax.Precision.HIGHEST) + p["c2"]
    return -jax.nn.log_softmax(h)[y]


def strided_loss(p, x, t):
    z = conv(x, p["K"], 2)
    a = jnp.tanh(z) ** 2 + 0.5 * z
    s = jnp.mean(a, axis=2)
    m = (s[:, :-1] + s[:, 1:]) / 2
    return 0.5 * jnp.sum((m - t) ** 2)


def rnn_loss(p, x, y):
    def step(h, x_t):
        h = jnp.tanh(p["W"] @ h + p["U"] @ x_t + p["b"])
        return h, p["V"] @ h + p["c"]
    _, o = jax.lax.scan(step, jnp.zeros(4), x)
    return 0.5 * jnp.sum((o - y) ** 2)


def lstm_loss(p, x, y):
    sig = jax.nn.sigmoid
    def step(carry, x_t):
        h, c = carry
        f = sig(p["Wf"] @ h + p["Uf"] @ x_t + p["bf"])
        i = sig(p["Wi"] @ h + p["Ui"] @ x_t + p["bi"])
        g = jnp.tanh(p["Wg"] @ h + p["Ug"] @ x_t + p["bg"])
        o = sig(p["Wo"] @ h + p["Uo"] @ x_t + p["bo"])
        c = f * c + i * g
        h = o * jnp.tanh(c)
        return (h, c), None
    (h, _), _ = jax.lax.scan(step, (jnp.zeros(3), jnp.zeros(3)), x)
    out = p["V"] @ h + p["d"]
    return 0.5 * jnp.sum((out - y) ** 2)


def gru_loss(p, x, y):
    sig = jax.nn.sigmoid
    def step(h, x_t):
        z = sig(p["Wz"] @ h + p["Uz"] @ x_t + p["bz"])
        r = sig(p["Wr"] @ h + p["Ur"] @ x_t + p["br"])
        n = jnp.tanh(p["Wn"] @ (r * h) + p["Un"] @ x_t + p["bn"])
        h = (1 - z) * n + z * h
        return h, p["v"] @ h
    _, o = jax.lax.scan(step, jnp.zeros(3), x)
    return 0.5 * jnp.sum((o - y) ** 2)


def batch(loss, params, *data):
    per_sample = jax.vmap(loss, in_axes=(None,) + (0,) * len(data))
    total = lambda p: jnp.mean(per_sample(p, *data))
    value, grad = jax.value_and_grad(total)(params)
    return float(value), {k: np.asarray(v).tolist() for k, v in grad.items()}


def main():
    rng = np.random.default_rng(19)
    u = lambda *shape: rng.uniform(-1, 1, size=shape)
    cases = []

    params = {"K1": u(2, 1, 3, 3), "b1": u(2), "W": u(3, 2, 2, 2), "c2": u(3)}
    img, y = u(SAMPLES, 1, 7, 7), rng.integers(0, 3, size=SAMPLES)
    loss, grad = batch(conv_loss, {k: jnp.asarray(v) for k, v in params.items()},
                       jnp.asarray(img), jnp.asarray(y))
    cases.append({"network": "conv", "params": {k: v.tolist() for k, v in params.items()},
                  "data": {"img": img.tolist(), "y": y.tolist()}, "loss": loss,
                  "gradient": grad})

    params = {"K": u(2, 2, 2, 2)}
    x, t = u(SAMPLES, 2, 6, 5), u(SAMPLES, 2, 2)
    loss, grad = batch(strided_loss, {k: jnp.asarray(v) for k, v in params.items()},
                       jnp.asarray(x), jnp.asarray(t))
    cases.append({"network": "strided", "params": {k: v.tolist() for k, v in params.items()},
                  "data": {"x": x.tolist(), "t": t.tolist()}, "loss": loss, "gradient": grad})

    params = {"W": u(4, 4), "U": u(4, 3), "b": u(4), "V": u(2, 4), "c": u(2)}
    x, y = u(SAMPLES, 5, 3), u(SAMPLES, 5, 2)
    loss, grad = batch(rnn_loss, {k: jnp.asarray(v) for k, v in params.items()},
                       jnp.asarray(x), jnp.asarray(y))
    cases.append({"network": "rnn", "params": {k: v.tolist() for k, v in params.items()},
                  "data": {"x": x.tolist(), "y": y.tolist()}, "loss": loss, "gradient": grad})

    params = {f"{m}{gate}": u(3, n) for gate in "figo" for m, n in (("W", 3), ("U", 3))}
    params.update({f"b{gate}": u(3) for gate in "figo"})
    params.update({"V": u(2, 3), "d": u(2)})
    x, y = u(SAMPLES, 4, 3), u(SAMPLES, 2)
    loss, grad = batch(lstm_loss, {k: jnp.asarray(v) for k, v in params.items()},
                       jnp.asarray(x), jnp.asarray(y))
    cases.append({"network": "lstm", "params": {k: v.tolist() for k, v in params.items()},
                  "data": {"x": x.tolist(), "y": y.tolist()}, "loss": loss, "gradient": grad})

    params = {f"{m}{gate}": u(3, n) for gate in "zrn" for m, n in (("W", 3), ("U", 2))}
    params.update({f"b{gate}": u(3) for gate in "zrn"})
    params["v"] = u(3)
    x, y = u(SAMPLES, 5, 2), u(SAMPLES, 5)
    loss, grad = batch(gru_loss, {k: jnp.asarray(v) for k, v in params.items()},
                       jnp.asarray(x), jnp.asarray(y))
    cases.append({"network": "gru", "params": {k: v.tolist() for k, v in params.items()},
                  "data": {"x": x.tolist(), "y": y.tolist()}, "loss": loss, "gradient": grad})

    (HERE / "tensors.json").write_text(json.dumps(cases, indent=1) + "\n")


if __name__ == "__main__":
    main()
