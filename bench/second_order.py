#!/usr/bin/env python3
"""Second-order training step (issue 15) in JAX and PyTorch, against chainrule's generated code.

The network is benches/nets/hnn16.nn, LANGUAGE.md's Hamiltonian network with 16 tanh units:
    h = tanh(Wq q + Wp p + b),  H = V h,
    L = (dH/dp - dq)^2 + (dH/dq + dp)^2,
so the gradient of L with respect to the weights is a second derivative. Timed, in float64 on
one CPU thread:
  - the per-sample gradient (JAX: jit(grad(L)) where L is built with jax.grad of H; PyTorch:
    torch.autograd.grad(H, (q, p), create_graph=True), then L.backward());
  - the per-sample SGD step (the gradient and the update of every weight);
  - the gradient of a 256-sample batch, mean loss (JAX: jit(grad) of the vmapped loss;
    PyTorch: the same create_graph construction on batched tensors).
Before timing, every framework's loss and gradient are checked against `chainrule eval` at the
same point and batch (1e-12 relative). A framework that cannot be imported is recorded, not
timed. Run in bench/.venv (bench/setup-venv); writes bench/results/second_order.json.

    bench/.venv/bin/python bench/second_order.py [--chainrule target/release/chainrule]
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile

import numpy as np

from python_bench import max_rel, timed

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
NN = os.path.join(ROOT, "benches/nets/hnn16.nn")
HIDDEN = 16
BATCH = 256
LR = 1e-3


def point():
    rng = np.random.default_rng(15)
    params = {
        "Wq": rng.uniform(-0.5, 0.5, (HIDDEN, 1)).tolist(),
        "Wp": rng.uniform(-0.5, 0.5, (HIDDEN, 1)).tolist(),
        "b": rng.uniform(-0.5, 0.5, HIDDEN).tolist(),
        "V": rng.uniform(-0.5, 0.5, (1, HIDDEN)).tolist(),
    }
    sample = {k: [float(rng.uniform(-1, 1))] for k in ("q", "p", "dq", "dp")}
    batch = {k: rng.uniform(-1, 1, (BATCH, 1)).tolist() for k in ("q", "p", "dq", "dp")}
    return params, sample, batch


def chainrule_eval(chainrule, params, data):
    with tempfile.TemporaryDirectory() as d:
        pf, df = os.path.join(d, "p.json"), os.path.join(d, "d.json")
        with open(pf, "w") as f:
            json.dump(params, f)
        with open(df, "w") as f:
            json.dump(data, f)
        out = subprocess.run(
            [chainrule, "eval", NN, "--params", pf, "--data", df, "--json"],
            check=True, capture_output=True, text=True,
        ).stdout
    r = json.loads(out)
    return r["loss"], {k: np.asarray(v, dtype=np.float64) for k, v in r["gradient"].items()}


def check(what, want, got):
    (want_loss, want_grad), (got_loss, got_grad) = want, got
    worst = max_rel([want_loss], [got_loss])
    for k, v in want_grad.items():
        worst = max(worst, max_rel(v, np.reshape(got_grad[k], v.shape)))
    if worst > 1e-12:
        raise SystemExit(f"{what}: differs from chainrule eval by {worst:.3e} relative")
    return worst


def jax_rows(params, sample, batch, want_one, want_batch):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)

    def energy(w, q, p):
        h = jnp.tanh(w["Wq"][:, 0] * q + w["Wp"][:, 0] * p + w["b"])
        return w["V"][0] @ h

    dH_dq = jax.grad(energy, argnums=1)
    dH_dp = jax.grad(energy, argnums=2)

    def loss(w, q, p, dq, dp):
        return (dH_dp(w, q, p) - dq) ** 2 + (dH_dq(w, q, p) + dp) ** 2

    def batch_loss(w, q, p, dq, dp):
        return jnp.mean(jax.vmap(loss, in_axes=(None, 0, 0, 0, 0))(w, q, p, dq, dp))

    w = {k: jnp.asarray(v, dtype=jnp.float64) for k, v in params.items()}
    one = tuple(jnp.float64(sample[k][0]) for k in ("q", "p", "dq", "dp"))
    many = tuple(jnp.asarray(batch[k], dtype=jnp.float64)[:, 0] for k in ("q", "p", "dq", "dp"))
    grad_one = jax.jit(jax.value_and_grad(loss))
    grad_many = jax.jit(jax.value_and_grad(batch_loss))

    @jax.jit
    def step(w, q, p, dq, dp):
        value, g = jax.value_and_grad(loss)(w, q, p, dq, dp)
        return value, jax.tree_util.tree_map(lambda a, b: a - LR * b, w, g)

    def as_numpy(r):
        value, g = r
        return float(value), {k: np.asarray(v) for k, v in g.items()}

    out = {
        "max_rel_vs_chainrule": max(
            check("JAX per sample", want_one, as_numpy(grad_one(w, *one))),
            check("JAX batch", want_batch, as_numpy(grad_many(w, *many))),
        )
    }
    block = lambda r: jax.block_until_ready(r)
    out["gradient"] = timed(lambda: grad_one(w, *one), block)
    state = {"w": w}

    def sgd():
        value, state["w"] = step(state["w"], *one)
        return value

    out["sgd_step"] = timed(sgd, block)
    out["gradient_batch256"] = timed(lambda: grad_many(w, *many), block)
    out["version"] = jax.__version__
    return out


def torch_rows(params, sample, batch, want_one, want_batch):
    import torch

    torch.set_num_threads(1)
    w = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}

    def loss(q, p, dq, dp):
        # q, p: (n, 1) leaves that require grad, so H's input derivatives can be taken with
        # create_graph=True and differentiated again by backward().
        h = torch.tanh(q @ w["Wq"].T + p @ w["Wp"].T + w["b"])
        H = (h @ w["V"].T).sum()
        gq, gp = torch.autograd.grad(H, (q, p), create_graph=True)
        return ((gp - dq) ** 2 + (gq + dp) ** 2).mean()

    def tensors(data):
        q = torch.tensor(data["q"], dtype=torch.float64, requires_grad=True)
        p = torch.tensor(data["p"], dtype=torch.float64, requires_grad=True)
        dq = torch.tensor(data["dq"], dtype=torch.float64)
        dp = torch.tensor(data["dp"], dtype=torch.float64)
        return q, p, dq, dp

    one = tensors({k: [v] for k, v in sample.items()})
    many = tensors(batch)

    def gradient(args):
        for v in w.values():
            v.grad = None
        value = loss(*args)
        value.backward()
        return value

    def result(args):
        value = gradient(args)
        return value.item(), {k: v.grad.numpy().copy() for k, v in w.items()}

    out = {
        "max_rel_vs_chainrule": max(
            check("PyTorch per sample", want_one, result(one)),
            check("PyTorch batch", want_batch, result(many)),
        )
    }
    out["gradient"] = timed(lambda: gradient(one))
    opt = torch.optim.SGD(list(w.values()), lr=LR)

    def step():
        opt.zero_grad(set_to_none=True)
        value = loss(*one)
        value.backward()
        opt.step()
        return value

    out["sgd_step"] = timed(step)
    # The step moved the weights: put them back for the batch row.
    with torch.no_grad():
        for k, v in w.items():
            v.copy_(torch.tensor(params[k], dtype=torch.float64))
    out["gradient_batch256"] = timed(lambda: gradient(many))
    out["version"] = torch.__version__
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--chainrule", default=os.path.join(ROOT, "target/release/chainrule"))
    args = parser.parse_args()
    params, sample, batch = point()
    want_one = chainrule_eval(args.chainrule, params, sample)
    want_batch = chainrule_eval(args.chainrule, params, batch)
    results = {"machine": platform.platform(), "python": sys.version.split()[0]}
    for name, rows in (("jax", jax_rows), ("pytorch", torch_rows)):
        try:
            results[name] = rows(params, sample, batch, want_one, want_batch)
        except ImportError as e:
            results[name] = {"unavailable": str(e)}
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "second_order.json"), "w") as f:
        json.dump(results, f, indent=2)
    for name in ("jax", "pytorch"):
        r = results[name]
        if "unavailable" in r:
            print(f"{name}: unavailable ({r['unavailable']})")
            continue
        print(
            f"{name} {r['version']}: gradient {r['gradient']['median_s'] * 1e6:.2f} us, "
            f"sgd_step {r['sgd_step']['median_s'] * 1e6:.2f} us, "
            f"batch of {BATCH} {r['gradient_batch256']['median_s'] * 1e6:.1f} us "
            f"(max rel. difference from chainrule eval {r['max_rel_vs_chainrule']:.1e})"
        )


if __name__ == "__main__":
    main()
