"""Reference numbers for the generated optimizers (issue 22): 100 steps of momentum SGD, Adam
and AdamW on tests/oracles/optimizers.nn, per sample and over a batch, computed with NumPy
from the update rules PyTorch documents (https://pytorch.org/docs/stable/generated/):

- torch.optim.SGD(momentum=mu), no dampening, no Nesterov:
  b = g at the first step, else b = mu * b + g; p = p - lr * b
- torch.optim.Adam: m = beta1 * m + (1 - beta1) * g; v = beta2 * v + (1 - beta2) * g * g;
  m_hat = m / (1 - beta1^t); v_hat = v / (1 - beta2^t); p = p - lr * m_hat / (sqrt(v_hat) + eps)
- torch.optim.AdamW: first p = p - lr * wd * p (the gradient taken at the old p), then Adam.

The forward pass and gradient of the network are written here directly (no chainrule code):
z1 = W1 x + b1, a1 = tanh(z1), y = W2 a1 + b2, L = 0.5 * sum((y - t)^2); a batch takes the
mean of the samples' losses and gradients.

Run: tests/.venv/bin/python tests/oracles/optimizers.py  (writes optimizers.json beside it)
"""

import json
import math
import pathlib

import numpy as np

STEPS = 100
SAMPLES = 4
NAMES = ["W1", "b1", "W2", "b2"]


def gradient(p, x, t):
    """Loss and gradient of one sample, by hand."""
    z1 = p["W1"] @ x + p["b1"]
    a1 = np.tanh(z1)
    y = p["W2"] @ a1 + p["b2"]
    dy = y - t
    loss = 0.5 * float(np.sum(dy * dy))
    da1 = p["W2"].T @ dy
    dz1 = da1 * (1.0 - a1 * a1)
    return loss, {"W1": np.outer(dz1, x), "b1": dz1, "W2": np.outer(dy, a1), "b2": dy}


def batch_gradient(p, xs, ts):
    """The mean of the samples' losses and gradients (`batch mean`)."""
    loss, total = 0.0, {n: np.zeros_like(p[n]) for n in NAMES}
    for x, t in zip(xs, ts):
        l, g = gradient(p, x, t)
        loss += l
        for n in NAMES:
            total[n] = total[n] + g[n]
    scale = 1.0 / len(xs)
    return loss * scale, {n: total[n] * scale for n in NAMES}


class Momentum:
    def __init__(self, p, lr, mu):
        self.lr, self.mu, self.buf = lr, mu, None

    def step(self, p, g):
        if self.buf is None:
            self.buf = {n: g[n].copy() for n in NAMES}
        else:
            self.buf = {n: self.mu * self.buf[n] + g[n] for n in NAMES}
        for n in NAMES:
            p[n] = p[n] - self.lr * self.buf[n]


class Adam:
    def __init__(self, p, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        self.lr, self.beta1, self.beta2, self.eps, self.wd = lr, beta1, beta2, eps, weight_decay
        self.t = 0
        self.m = {n: np.zeros_like(p[n]) for n in NAMES}
        self.v = {n: np.zeros_like(p[n]) for n in NAMES}

    def step(self, p, g):
        self.t += 1
        correction1 = 1.0 - self.beta1**self.t
        correction2 = 1.0 - self.beta2**self.t
        for n in NAMES:
            if self.wd != 0.0:
                p[n] = p[n] - self.lr * self.wd * p[n]
            self.m[n] = self.beta1 * self.m[n] + (1.0 - self.beta1) * g[n]
            self.v[n] = self.beta2 * self.v[n] + (1.0 - self.beta2) * g[n] * g[n]
            m_hat = self.m[n] / correction1
            v_hat = self.v[n] / correction2
            p[n] = p[n] - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


OPTIMIZERS = {
    "momentum": lambda p: Momentum(p, lr=0.05, mu=0.9),
    "adam": lambda p: Adam(p, lr=0.01),
    "adamw": lambda p: Adam(p, lr=0.01, beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.1),
}


def run(kind, init, xs, ts, batch):
    p = {n: init[n].copy() for n in NAMES}
    optimizer = OPTIMIZERS[kind](p)
    losses = []
    for step in range(STEPS):
        if batch:
            loss, g = batch_gradient(p, xs, ts)
        else:
            loss, g = gradient(p, xs[step % SAMPLES], ts[step % SAMPLES])
        losses.append(loss)
        optimizer.step(p, g)
    return {"losses": losses, "params": {n: p[n].tolist() for n in NAMES}}


def main():
    rng = np.random.default_rng(22)
    init = {
        "W1": rng.uniform(-1, 1, (4, 3)),
        "b1": rng.uniform(-0.5, 0.5, 4),
        "W2": rng.uniform(-1, 1, (2, 4)),
        "b2": rng.uniform(-0.5, 0.5, 2),
    }
    xs = rng.uniform(-2, 2, (SAMPLES, 3))
    ts = np.stack([np.sin(xs[:, 0]) + xs[:, 1], np.cos(xs[:, 2]) * xs[:, 0]], axis=1)
    out = {
        "steps": STEPS,
        "init": {n: init[n].tolist() for n in NAMES},
        "x": xs.tolist(),
        "t": ts.tolist(),
        "settings": {
            "momentum": {"lr": 0.05, "mu": 0.9},
            "adam": {"lr": 0.01},
            "adamw": {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.1},
        },
    }
    for kind in OPTIMIZERS:
        out[kind] = {
            "per_sample": run(kind, init, xs, ts, batch=False),
            "batch": run(kind, init, xs, ts, batch=True),
        }
    for kind in OPTIMIZERS:
        for mode in ("per_sample", "batch"):
            losses = out[kind][mode]["losses"]
            assert all(math.isfinite(l) for l in losses)
    path = pathlib.Path(__file__).with_name("optimizers.json")
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
