#!/usr/bin/env python3
"""PyTorch and JAX on the mini-batch benchmarks of issue 13 (BENCHMARKS.md), one framework at
one thread count per process (XLA reads its thread flags once, at start-up):

1. the gradient of a batch of 64 and of 1,024 rows (batch mean of 0.5 |t - y|^2) for mlp16,
   784-128-10 and 784-256-256-10, on bench/reference.py's weights and data (those of
   benches/baselines/point.rs): PyTorch eager, one `backward()` over the batch tensor;
   JAX `jit(value_and_grad)` over the batch. Each is checked first against the NumPy
   reference backprop (within 1e-12 of each parameter's largest element), itself checked by finite differences.
2. one epoch of mini-batch SGD on the 60,000-sample data set (784-128-10, batches of 64 in
   order, learning rate 0.1): the algorithm of benches/epoch.rs, whose losses it must meet.

Threads: PyTorch `torch.set_num_threads(N)`; JAX with N = 1 runs under
XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" and pinned to one
core (sched_setaffinity: the flags alone did not hold jaxlib 0.10 to one core), with N = 2 on
XLA's default (every core of this 2-core machine). Writes bench/results/batch_{fw}_{N}t.json.
"""

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--framework", choices=["torch", "jax"], required=True)
ap.add_argument("--threads", type=int, choices=[1, 2], required=True)
ap.add_argument("--skip-epoch", action="store_true")
# float32: the batch gradients in single precision (the epoch stays float64),
# checked against the float64 reference within 1e-4 of each parameter's largest element.
ap.add_argument("--dtype", choices=["float64", "float32"], default="float64")
args = ap.parse_args()
if args.framework == "jax" and args.threads == 1:
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                               " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    # jaxlib 0.10's CPU runtime ran as fast under those flags as without them, at the one-core
    # GEMM limit: the process is pinned to one core as well, so that "1 thread" is one core.
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import numpy as np  # noqa: E402

import reference  # noqa: E402
from python_bench import check, timed  # noqa: E402

NETS = {"mlp16": reference.MLP16, "mnist128": reference.MNIST128, "mnist256": reference.MNIST256}
SIZES = [64, 1024]
SAMPLES, BATCH, LR = 60_000, 64, 0.1
# One timed epoch each (tens of seconds for PyTorch eager here), as the training rows of
# python_bench.py.
EPOCH_RUNS = 1


def net_data(spec):
    return reference.params(spec), *reference.data(max(SIZES), spec[0][3], spec[-1][2])


def expected(spec, p, X, T):
    loss, g = reference.gradient(spec, p, X, T)
    reference.check_fd(spec, p, X, T, g, probes=8)
    return loss, g


def torch_run():
    import torch
    torch.set_num_threads(args.threads)
    from python_bench import torch_grads, torch_model
    single = args.dtype == "float32"
    dtype = torch.float32 if single else torch.float64
    out = {"version": torch.__version__, "threads": torch.get_num_threads(), "batch": {}}
    for name, spec in NETS.items():
        p, X, T = net_data(spec)
        model = torch_model(torch, spec, p, dtype)
        out["batch"][name] = {}
        for rows in SIZES:
            xt = torch.tensor(X[:rows], dtype=dtype)
            tt = torch.tensor(T[:rows], dtype=dtype)

            def gradient():
                model.zero_grad(set_to_none=True)
                loss = 0.5 * ((tt - model(xt)) ** 2).sum() / rows
                loss.backward()
                return loss

            loss = gradient()
            wl, wg = expected(spec, p, X[:rows], T[:rows])
            err = check(f"PyTorch {name} batch {rows}", wl, wg, loss.item(),
                        torch_grads(spec, model), tol=1e-4 if single else 1e-12, scaled=True)
            r = timed(gradient, target_s=0.3)
            r["max_rel_vs_reference"] = err
            out["batch"][name][str(rows)] = r
            print(f"PyTorch {args.threads}t {name} batch {rows}{' f32' if single else ''}: "
                  f"{r['median_s'] * 1e3:.3f} ms", flush=True)
    if not args.skip_epoch and not single:
        X, T = reference.data(SAMPLES, 784, 10)
        X, T = torch.tensor(X), torch.tensor(T)
        p = reference.params(reference.MNIST128)
        times, losses = [], None
        for _ in range(EPOCH_RUNS):
            model = torch_model(torch, reference.MNIST128, p)
            opt = torch.optim.SGD(model.parameters(), lr=LR)
            total, last, n = 0.0, 0.0, 0
            t0 = time.perf_counter()
            for lo in range(0, SAMPLES, BATCH):
                xb, tb = X[lo:lo + BATCH], T[lo:lo + BATCH]
                opt.zero_grad(set_to_none=True)
                loss = 0.5 * ((tb - model(xb)) ** 2).sum() / xb.shape[0]
                loss.backward()
                opt.step()
                last = loss.item()
                total += last
                n += 1
            times.append(time.perf_counter() - t0)
            losses = (total / n, last)
        times.sort()
        out["epoch"] = {"median_s": times[len(times) // 2], "best_s": times[0], "runs": EPOCH_RUNS,
                        "mean_batch_loss": losses[0], "last_batch_loss": losses[1]}
        print(f"PyTorch {args.threads}t epoch: {out['epoch']}", flush=True)
    return out


def jax_run():
    import jax
    single = args.dtype == "float32"
    jax.config.update("jax_enable_x64", not single)
    import jax.numpy as jnp
    dtype = jnp.float32 if single else jnp.float64
    from python_bench import jax_fns
    out = {"version": jax.__version__, "xla_flags": os.environ.get("XLA_FLAGS", ""),
           "batch": {}}
    for name, spec in NETS.items():
        p, X, T = net_data(spec)
        loss1, _, _ = jax_fns(jax, jnp, spec, LR)
        batch_loss = lambda q, X, T: jnp.mean(jax.vmap(loss1, in_axes=(None, 0, 0))(q, X, T))  # noqa: E731
        grad = jax.jit(jax.value_and_grad(batch_loss))
        q = {k: jnp.asarray(v, dtype=dtype) for k, v in p.items()}
        out["batch"][name] = {}
        for rows in SIZES:
            xj, tj = jnp.asarray(X[:rows], dtype=dtype), jnp.asarray(T[:rows], dtype=dtype)
            loss, g = grad(q, xj, tj)
            wl, wg = expected(spec, p, X[:rows], T[:rows])
            err = check(f"JAX {name} batch {rows}", wl, wg, float(loss),
                        {k: np.asarray(v, dtype=np.float64) for k, v in g.items()},
                        tol=1e-4 if single else 1e-12, scaled=True)
            r = timed(lambda: grad(q, xj, tj), jax.block_until_ready, target_s=0.3)
            r["max_rel_vs_reference"] = err
            out["batch"][name][str(rows)] = r
            print(f"JAX {args.threads}t {name} batch {rows}{' f32' if single else ''}: "
                  f"{r['median_s'] * 1e3:.3f} ms", flush=True)
    if not args.skip_epoch and not single:
        spec = reference.MNIST128
        loss1, _, _ = jax_fns(jax, jnp, spec, LR)

        @jax.jit
        def step(q, X, T):
            l, g = jax.value_and_grad(
                lambda q: jnp.mean(jax.vmap(loss1, in_axes=(None, 0, 0))(q, X, T)))(q)
            return l, jax.tree_util.tree_map(lambda a, d: a - LR * d, q, g)

        X, T = reference.data(SAMPLES, 784, 10)
        X, T = jnp.asarray(X), jnp.asarray(T)
        p0 = {k: jnp.asarray(v) for k, v in reference.params(spec).items()}
        # Compile both batch shapes (64 and the last 32) before timing.
        jax.block_until_ready(step(p0, X[:BATCH], T[:BATCH]))
        jax.block_until_ready(step(p0, X[:SAMPLES % BATCH], T[:SAMPLES % BATCH]))
        times, losses = [], None
        for _ in range(EPOCH_RUNS):
            q, total, n, ls = p0, 0.0, 0, []
            t0 = time.perf_counter()
            for lo in range(0, SAMPLES, BATCH):
                l, q = step(q, X[lo:lo + BATCH], T[lo:lo + BATCH])
                ls.append(l)
            ls = [float(v) for v in ls]
            times.append(time.perf_counter() - t0)
            losses = (sum(ls) / len(ls), ls[-1])
        times.sort()
        out["epoch"] = {"median_s": times[len(times) // 2], "best_s": times[0], "runs": EPOCH_RUNS,
                        "mean_batch_loss": losses[0], "last_batch_loss": losses[1]}
        print(f"JAX {args.threads}t epoch: {out['epoch']}", flush=True)
    return out


def main():
    os.makedirs(RESULTS, exist_ok=True)
    try:
        out = torch_run() if args.framework == "torch" else jax_run()
    except ImportError as e:
        out = {"unavailable": f"{type(e).__name__}: {e}"}
    out["loadavg"] = " ".join(open("/proc/loadavg").read().split()[:3])
    suffix = "_f32" if args.dtype == "float32" else ""
    with open(os.path.join(RESULTS, f"batch_{args.framework}_{args.threads}t{suffix}.json"),
              "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
