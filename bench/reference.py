"""Shared by the Python benchmarks of issues 12 and 13: the weights and data of
benches/baselines/point.rs, drawn bit for bit the same (SplitMix64 in NumPy's uint64), and an
independent NumPy float64 backprop that checks every framework's gradient where `chainrule eval`
refuses the network (over today's named-scalar limit), itself checked by finite differences.
"""

import numpy as np

GAMMA = np.uint64(0x9E3779B97F4A7C15)
PARAM_SEED, DATA_SEED = 12, 13

# Network specs: (weight name, bias name or None, rows, cols, activation), as python_bench.py.
MLP16 = [("W1", "b1", 32, 16, "tanh"), ("W2", "b2", 32, 32, "sigmoid"), ("W3", "b3", 4, 32, "linear")]
MNIST128 = [("W1", "b1", 128, 784, "relu"), ("W2", "b2", 10, 128, "linear")]
MNIST256 = [("W1", "b1", 256, 784, "relu"), ("W2", "b2", 256, 256, "relu"),
            ("W3", "b3", 10, 256, "linear")]


def splitmix(seed, start, n):
    """Draws start+1 .. start+n of SplitMix64 seeded with `seed`, as uint64."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + GAMMA * np.arange(start + 1, start + n + 1, dtype=np.uint64)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def uniform(u, lo, hi):
    return lo + (hi - lo) * ((u >> np.uint64(11)).astype(np.float64) / float(1 << 53))


def params(spec, seed=PARAM_SEED):
    """point::params: per layer W uniform in +-sqrt(6/(r+c)), then b uniform in +-0.1."""
    out, at = {}, 0
    for w, b, r, c, _ in spec:
        s = float(np.sqrt(6.0 / (r + c)))
        out[w] = uniform(splitmix(seed, at, r * c), -s, s).reshape(r, c)
        at += r * c
        out[b] = uniform(splitmix(seed, at, r), -0.1, 0.1)
        at += r
    return out


def data(n, inputs, outputs, seed=DATA_SEED):
    """point::data: sample i takes 1 + inputs draws: class u % outputs, then
    x_j = 0.5 u_j + 0.5 [j % outputs == class]; targets one-hot."""
    u = splitmix(seed, 0, n * (1 + inputs)).reshape(n, 1 + inputs)
    cls = (u[:, 0] % np.uint64(outputs)).astype(np.int64)
    x = uniform(u[:, 1:], 0.0, 0.5)
    x = x + np.where(np.arange(inputs)[None, :] % outputs == cls[:, None], 0.5, 0.0)
    t = np.zeros((n, outputs))
    t[np.arange(n), cls] = 1.0
    return x, t


ACT = {
    "sigmoid": (lambda z: 1.0 / (1.0 + np.exp(-z)), lambda a: a * (1.0 - a)),
    "tanh": (np.tanh, lambda a: 1.0 - a * a),
    "relu": (lambda z: np.maximum(z, 0.0), lambda a: (a > 0).astype(np.float64)),
    "linear": (lambda z: z, lambda a: np.ones_like(a)),
}


def loss(spec, p, X, T):
    """Batch mean of 0.5 |t - y|^2, one sample per row of X."""
    a = X
    for w, b, _, _, act in spec:
        z = a @ p[w].T + (p[b] if b else 0.0)
        a = ACT[act][0](z)
    return 0.5 * float(np.sum((T - a) ** 2)) / X.shape[0]


def gradient(spec, p, X, T):
    """Loss and gradient (batch mean), by backprop over the rows of X."""
    ins, outs = [], []
    a = X
    for w, b, _, _, act in spec:
        ins.append(a)
        a = ACT[act][0](a @ p[w].T + (p[b] if b else 0.0))
        outs.append(a)
    n = X.shape[0]
    d = (a - T) / n
    g = {}
    for k in range(len(spec) - 1, -1, -1):
        w, b, _, _, act = spec[k]
        d = d * ACT[act][1](outs[k])
        g[w] = d.T @ ins[k]
        if b:
            g[b] = d.sum(axis=0)
        d = d @ p[w]
    return 0.5 * float(np.sum((T - a) ** 2)) / n, g


def check_fd(spec, p, X, T, g, probes=20, seed=99):
    """Central differences of `loss` at `probes` random weights against `g`: the reference
    backprop is itself checked before anything is compared with it."""
    rng = np.random.default_rng(seed)
    scale = max(float(np.abs(v).max()) for v in g.values())
    names = [k for k in g]
    for _ in range(probes):
        k = names[rng.integers(len(names))]
        idx = tuple(rng.integers(s) for s in p[k].shape)
        w0 = p[k][idx]
        h = 1e-6 * max(abs(w0), 1.0)
        p[k][idx] = w0 + h
        plus = loss(spec, p, X, T)
        p[k][idx] = w0 - h
        minus = loss(spec, p, X, T)
        p[k][idx] = w0
        fd = (plus - minus) / (2 * h)
        if abs(fd - g[k][idx]) > 1e-6 * scale:
            raise SystemExit(f"NumPy reference: {k}{idx} finite differences {fd}, backprop {g[k][idx]}")
