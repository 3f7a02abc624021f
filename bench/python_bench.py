#!/usr/bin/env python3
"""PyTorch eager and JAX jit(grad) on CPU against chainrule's generated code (BENCHMARKS.md).

1. One per-sample gradient and one SGD step, one sample per call, for seed 004's network,
   benches/nets/mlp16.nn, mnist128.nn and mnist256.nn (issue 12), in float64. Before timing,
   each framework's gradient is checked against `chainrule eval` at the same point (1e-12
   relative); where `chainrule eval` refuses the network (the MNIST-sized ones, over today's
   named-scalar limit), against the NumPy backprop of bench/reference.py, itself checked by
   finite differences (within 1e-12 of each parameter's largest element: sums of 784 products
   in another order leave a cancelling element only an absolute accuracy).
2. Seed 004's problem end to end: 50 epochs of per-sample SGD over 6,700 samples, the train and
   test loss after every epoch, on the data set and initial weights that `cargo bench --bench
   training` wrote to bench/results/seed004_problem.json; the final losses are compared with
   the Rust run's.

Both frameworks run on one thread of the CPU (torch.set_num_threads(1); XLA's CPU client runs
a call's computation on its own thread, which overlaps Python's dispatch of the next call: its
numbers are throughput, blocked once at the end of each timed loop).

A framework that cannot be imported is recorded with the reason, not timed. Run by
bench/run-all in bench/.venv; writes bench/results/python.json.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import reference

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")

LR = 1e-4

# Network specs: (weight name, bias name or None, rows, cols, activation).
SEED004 = [("W1", None, 3, 2, "sigmoid"), ("W2", None, 2, 3, "linear")]
MLP16 = [("W1", "b1", 32, 16, "tanh"), ("W2", "b2", 32, 32, "sigmoid"), ("W3", "b3", 4, 32, "linear")]
NETS = {
    "seed004": (SEED004, os.path.join(ROOT, "examples/nets/seed004.nn")),
    "mlp16": (MLP16, os.path.join(ROOT, "benches/nets/mlp16.nn")),
    "mnist128": (reference.MNIST128, os.path.join(ROOT, "benches/nets/mnist128.nn")),
    "mnist256": (reference.MNIST256, os.path.join(ROOT, "benches/nets/mnist256.nn")),
}


def mnist_point(spec):
    """benches/baselines/point.rs's weights and first sample (the Rust baselines' point)."""
    x, t = reference.data(1, 784, 10)
    return reference.params(spec), x[0], t[0]


def expected(chainrule, spec, nn_file, point):
    """Loss, gradient and tolerance to check a framework against: `chainrule eval`, or where it
    refuses the network, the NumPy reference backprop (checked by finite differences first)."""
    params, x, t = point
    try:
        return (*chainrule_eval(chainrule, nn_file, params, x, t), False, "chainrule eval")
    except subprocess.CalledProcessError:
        X, T = np.asarray(x)[None, :], np.asarray(t)[None, :]
        p = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
        loss, g = reference.gradient(spec, p, X, T)
        reference.check_fd(spec, p, X, T, g)
        return loss, g, True, "NumPy reference (bench/reference.py)"


def seed004_point():
    params = {
        "W1": [[0.97007005, 0.61840113], [0.92420913, 0.97500156], [0.72183716, 0.53289514]],
        "W2": [[0.85264027, 0.97336448, 0.51301245], [0.2620828, 0.97489056, 0.90059674]],
    }
    return params, [1.0, 3.0], [4.0, 1.0]


def mlp16_point():
    rng = np.random.default_rng(16)
    params = {}
    for w, b, r, c, _ in MLP16:
        params[w] = rng.uniform(-0.5, 0.5, (r, c)).tolist()
        params[b] = rng.uniform(-0.5, 0.5, r).tolist()
    return params, rng.uniform(-1, 1, 16).tolist(), rng.uniform(-1, 1, 4).tolist()


def chainrule_eval(chainrule, nn_file, params, x, t):
    """Loss and gradient from `chainrule eval --json` at the point."""
    listed = {k: np.asarray(v).tolist() for k, v in params.items()}
    with tempfile.TemporaryDirectory() as d:
        pf, df = os.path.join(d, "p.json"), os.path.join(d, "d.json")
        with open(pf, "w") as f:
            json.dump(listed, f)
        with open(df, "w") as f:
            json.dump({"x": np.asarray(x).tolist(), "t": np.asarray(t).tolist()}, f)
        out = subprocess.run(
            [chainrule, "eval", nn_file, "--params", pf, "--data", df, "--json"],
            check=True, capture_output=True, text=True,
        ).stdout
    r = json.loads(out)
    return r["loss"], {k: np.asarray(v, dtype=np.float64) for k, v in r["gradient"].items()}


def max_rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = np.maximum(np.abs(a), np.abs(b))
    d = np.where(scale == 0, 0.0, np.abs(a - b) / np.where(scale == 0, 1.0, scale))
    return float(d.max())


def max_scaled(a, b):
    """max |a - b| over the largest |a|: for sums of many terms added in another order."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = float(np.abs(a).max())
    return float(np.abs(a - b).max()) / (scale if scale else 1.0)


def check(what, want_loss, want, got_loss, got, tol=1e-12, scaled=False):
    """Element-wise relative agreement, or with `scaled` agreement within `tol` of each
    parameter's largest element."""
    cmp = max_scaled if scaled else max_rel
    worst = max_rel([want_loss], [got_loss])
    for k, v in want.items():
        worst = max(worst, cmp(v, got[k]))
    if worst > tol:
        raise SystemExit(f"{what}: differs from the reference by {worst:.3e}"
                         f"{' of its largest element' if scaled else ' relative'}")
    return worst


def timed(call, finish=lambda r: None, target_s=0.4, reps=7):
    """Seconds per call of `call()`: calls are repeated in loops of about target_s, `finish` is
    applied to the last result of each loop (to wait for asynchronous work)."""
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            r = call()
        finish(r)
        dt = time.perf_counter() - t0
        if dt > 0.05:
            break
        n *= 4
    n = max(1, int(n * target_s / dt))
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(n):
            r = call()
        finish(r)
        times.append((time.perf_counter() - t0) / n)
    return {"median_s": statistics.median(times), "best_s": min(times), "calls": n, "reps": reps}


# ---------------------------------------------------------------------------------------------
# PyTorch

def torch_model(torch, spec, params, dtype=None):
    dtype = dtype or torch.float64
    layers = []
    for w, b, r, c, act in spec:
        lin = torch.nn.Linear(c, r, bias=b is not None, dtype=dtype)
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(params[w], dtype=dtype))
            if b is not None:
                lin.bias.copy_(torch.tensor(params[b], dtype=dtype))
        layers.append(lin)
        if act == "sigmoid":
            layers.append(torch.nn.Sigmoid())
        elif act == "tanh":
            layers.append(torch.nn.Tanh())
        elif act == "relu":
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def torch_grads(spec, model):
    lins = [m for m in model if hasattr(m, "weight")]
    g = {}
    for (w, b, *_), lin in zip(spec, lins):
        g[w] = lin.weight.grad.double().numpy()
        if b is not None:
            g[b] = lin.bias.grad.double().numpy()
    return g


def torch_per_sample(torch, name, spec, nn_file, point, chainrule):
    params, x, t = point
    model = torch_model(torch, spec, params)
    xt = torch.tensor(x, dtype=torch.float64)
    tt = torch.tensor(t, dtype=torch.float64)

    def gradient():
        model.zero_grad(set_to_none=True)
        loss = 0.5 * ((tt - model(xt)) ** 2).sum()
        loss.backward()
        return loss

    loss = gradient()
    want_loss, want, scaled, against = expected(chainrule, spec, nn_file, point)
    err = check(f"PyTorch {name}", want_loss, want, loss.item(), torch_grads(spec, model),
                scaled=scaled)
    out = {"gradient": timed(gradient), "max_rel_vs_chainrule": err, "checked_against": against}

    opt = torch.optim.SGD(model.parameters(), lr=LR)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = 0.5 * ((tt - model(xt)) ** 2).sum()
        loss.backward()
        opt.step()
        return loss

    out["sgd_step"] = timed(step)
    return out


def torch_training(torch, problem):
    params = {"W1": problem["W1"], "W2": problem["W2"]}
    model = torch_model(torch, SEED004, params)
    opt = torch.optim.SGD(model.parameters(), lr=problem["lr"])
    X = torch.tensor(problem["train"]["x"], dtype=torch.float64)
    T = torch.tensor(problem["train"]["t"], dtype=torch.float64)
    Xs = torch.tensor(problem["test"]["x"], dtype=torch.float64)
    Ts = torch.tensor(problem["test"]["t"], dtype=torch.float64)
    train_losses, test_losses = [], []
    t0 = time.perf_counter()
    for _ in range(problem["epochs"]):
        for x, t in zip(X, T):
            opt.zero_grad(set_to_none=True)
            loss = 0.5 * ((t - model(x)) ** 2).sum()
            loss.backward()
            opt.step()
        with torch.no_grad():
            train_losses.append((0.5 * ((T - model(X)) ** 2).sum()).item())
            test_losses.append((0.5 * ((Ts - model(Xs)) ** 2).sum()).item())
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "first_train_loss": train_losses[0],
            "final_train_loss": train_losses[-1], "final_test_loss": test_losses[-1]}


# ---------------------------------------------------------------------------------------------
# JAX

def jax_fns(jax, jnp, spec, lr):
    acts = {"sigmoid": jax.nn.sigmoid, "tanh": jnp.tanh, "relu": jax.nn.relu,
            "linear": lambda z: z}

    def loss(params, x, t):
        a = x
        for w, b, _, _, act in spec:
            z = params[w] @ a
            if b is not None:
                z = z + params[b]
            a = acts[act](z)
        return 0.5 * jnp.sum((t - a) ** 2)

    grad = jax.jit(jax.value_and_grad(loss))

    @jax.jit
    def step(params, x, t):
        l, g = jax.value_and_grad(loss)(params, x, t)
        return l, jax.tree_util.tree_map(lambda p, d: p - lr * d, params, g)

    return loss, grad, step


def jax_per_sample(jax, jnp, name, spec, nn_file, point, chainrule):
    params, x, t = point
    p = {k: jnp.asarray(v, dtype=jnp.float64) for k, v in params.items()}
    xj, tj = jnp.asarray(x, dtype=jnp.float64), jnp.asarray(t, dtype=jnp.float64)
    _, grad, step = jax_fns(jax, jnp, spec, LR)
    loss, g = grad(p, xj, tj)
    want_loss, want, scaled, against = expected(chainrule, spec, nn_file, point)
    err = check(f"JAX {name}", want_loss, want, float(loss),
                {k: np.asarray(v) for k, v in g.items()}, scaled=scaled)
    out = {"gradient": timed(lambda: grad(p, xj, tj), jax.block_until_ready),
           "max_rel_vs_chainrule": err, "checked_against": against}

    state = [p]

    def one_step():
        l, state[0] = step(state[0], xj, tj)
        return state[0]

    out["sgd_step"] = timed(one_step, jax.block_until_ready)
    return out


def jax_training(jax, jnp, problem):
    lr = problem["lr"]
    loss, _, step = jax_fns(jax, jnp, SEED004, lr)
    p0 = {"W1": jnp.asarray(problem["W1"]), "W2": jnp.asarray(problem["W2"])}
    X = np.asarray(problem["train"]["x"])
    T = np.asarray(problem["train"]["t"])
    Xs, Ts = jnp.asarray(problem["test"]["x"]), jnp.asarray(problem["test"]["t"])
    total = jax.jit(lambda p, X, T: jnp.sum(jax.vmap(loss, in_axes=(None, 0, 0))(p, X, T)))
    # One sample per call, the data as NumPy rows (as `for x, t in zip(X, T)` over the arrays a
    # JAX tutorial loads): each call carries its sample to the device. Compile first.
    jax.block_until_ready(step(p0, X[0], T[0]))
    jax.block_until_ready(total(p0, Xs, Ts))
    Xd, Td = jnp.asarray(X), jnp.asarray(T)

    def run(epoch_fn):
        p = p0
        train_losses, test_losses = [], []
        t0 = time.perf_counter()
        for _ in range(problem["epochs"]):
            p = epoch_fn(p)
            train_losses.append(float(total(p, Xd, Td)))
            test_losses.append(float(total(p, Xs, Ts)))
        seconds = time.perf_counter() - t0
        return {"seconds": seconds, "first_train_loss": train_losses[0],
                "final_train_loss": train_losses[-1], "final_test_loss": test_losses[-1]}

    def per_sample_epoch(p):
        for x, t in zip(X, T):
            _, p = step(p, x, t)
        return p

    # The same per-sample SGD as one compiled loop over the epoch (lax.scan): what a JAX user
    # writes to get rid of the per-call dispatch. Not "one sample per call", shown for scale.
    @jax.jit
    def scan_epoch(p, X, T):
        def body(p, xt):
            _, p = step(p, xt[0], xt[1])
            return p, None
        p, _ = jax.lax.scan(body, p, (X, T))
        return p

    jax.block_until_ready(scan_epoch(p0, Xd, Td))
    return {
        "per_sample_calls": run(per_sample_epoch),
        "scan_epoch": run(lambda p: scan_epoch(p, Xd, Td)),
    }


# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chainrule", default=os.path.join(ROOT, "target/release/chainrule"),
                    help="the chainrule binary, for the gradient check")
    ap.add_argument("--skip-training", action="store_true")
    args = ap.parse_args()
    os.makedirs(RESULTS, exist_ok=True)
    results = {"python": platform.python_version()}
    points = {"seed004": seed004_point(), "mlp16": mlp16_point(),
              "mnist128": mnist_point(reference.MNIST128),
              "mnist256": mnist_point(reference.MNIST256)}
    problem_file = os.path.join(RESULTS, "seed004_problem.json")
    problem = None
    if not args.skip_training:
        with open(problem_file) as f:
            problem = json.load(f)

    try:
        import torch
        torch.set_num_threads(1)
        results["torch"] = {"version": torch.__version__, "threads": torch.get_num_threads()}
    except Exception as e:  # noqa: BLE001 - any import failure is the result
        torch = None
        results["torch"] = {"unavailable": f"{type(e).__name__}: {e}"}
    if torch is not None:
        a = torch.ones(3, dtype=torch.float64)
        w = torch.ones(3, dtype=torch.float64, requires_grad=True)

        def tiny_backward():
            (w * a).sum().backward()

        results["torch"]["op_overhead"] = {
            "add_of_3_us": timed(lambda: a + a, target_s=0.2, reps=3)["median_s"] * 1e6,
            "tiny_backward_us": timed(tiny_backward, target_s=0.2, reps=3)["median_s"] * 1e6,
        }
        for name, (spec, nn_file) in NETS.items():
            r = torch_per_sample(torch, name, spec, nn_file, points[name], args.chainrule)
            results["torch"][name] = r
            print(f"PyTorch {name}: gradient {r['gradient']['median_s'] * 1e6:.2f} us, "
                  f"sgd_step {r['sgd_step']['median_s'] * 1e6:.2f} us", flush=True)
        if problem is not None:
            results["torch"]["training"] = torch_training(torch, problem)
            print(f"PyTorch training: {results['torch']['training']}", flush=True)

    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        import jaxlib
        results["jax"] = {"version": jax.__version__, "jaxlib": jaxlib.__version__,
                          "backend": jax.default_backend()}
    except Exception as e:  # noqa: BLE001
        jax = None
        results["jax"] = {"unavailable": f"{type(e).__name__}: {e}"}
    if jax is not None:
        inc = jax.jit(lambda v: v + 1.0)
        v = jnp.ones(3)
        inc(v).block_until_ready()
        results["jax"]["op_overhead"] = {
            "jit_call_of_add_us": timed(lambda: inc(v), jax.block_until_ready, target_s=0.2,
                                        reps=3)["median_s"] * 1e6,
        }
        for name, (spec, nn_file) in NETS.items():
            r = jax_per_sample(jax, jnp, name, spec, nn_file, points[name], args.chainrule)
            results["jax"][name] = r
            print(f"JAX {name}: gradient {r['gradient']['median_s'] * 1e6:.2f} us, "
                  f"sgd_step {r['sgd_step']['median_s'] * 1e6:.2f} us", flush=True)
        if problem is not None:
            results["jax"]["training"] = jax_training(jax, jnp, problem)
            print(f"JAX training: {results['jax']['training']}", flush=True)

    with open(os.path.join(RESULTS, "python.json"), "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
