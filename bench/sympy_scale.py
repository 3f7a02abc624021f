#!/usr/bin/env python3
"""The gradient of bench/nets.py's deep2(h) networks derived with SymPy: `diff` of the loss by
every weight, then `cse` over all of them (BENCHMARKS.md, against benches/derive_scale.rs).

Each size runs in its own process with a time limit (default 300 s, --timeout); the sizes grow
until one does not finish in time. Records, per size: seconds to build the loss expression,
to differentiate, to run cse (wall; and the CPU time of all three), the operation count of the cse'd result, and the process's peak
resident memory. Writes bench/results/sympy.json.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from nets import SIZES, weights  # noqa: E402


def one(h):
    import sympy as sp

    c0 = time.process_time()
    t0 = time.perf_counter()
    x = sp.Matrix(sp.symbols(f"x0:{h}"))
    t = sp.symbols("t0:4")
    W1 = sp.Matrix(h, h, lambda i, j: sp.Symbol(f"W1_{i}_{j}"))
    W2 = sp.Matrix(h, h, lambda i, j: sp.Symbol(f"W2_{i}_{j}"))
    W3 = sp.Matrix(4, h, lambda i, j: sp.Symbol(f"W3_{i}_{j}"))
    a1 = (W1 * x).applyfunc(sp.tanh)
    a2 = (W2 * a1).applyfunc(lambda z: 1 / (1 + sp.exp(-z)))
    y = W3 * a2
    L = sp.Rational(1, 2) * sum((t[k] - y[k]) ** 2 for k in range(4))
    ws = list(W1) + list(W2) + list(W3)
    build = time.perf_counter() - t0

    t0 = time.perf_counter()
    grads = [sp.diff(L, w) for w in ws]
    diff = time.perf_counter() - t0

    t0 = time.perf_counter()
    replacements, reduced = sp.cse([L] + grads)
    cse = time.perf_counter() - t0

    cpu = time.process_time() - c0
    ops = sum(sp.count_ops(e) for _, e in replacements) + sum(sp.count_ops(e) for e in reduced)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({
        "h": h, "weights": len(ws), "build_s": build, "diff_s": diff, "cse_s": cse,
        "total_s": build + diff + cse, "cpu_s": cpu, "cse_temporaries": len(replacements),
        "operations": int(ops), "peak_rss_bytes": peak, "sympy": sp.__version__,
    }))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--one", type=int, help="run one size (used by the driver)")
    ap.add_argument("--timeout", type=float, default=float(os.environ.get("SYMPY_TIMEOUT", 300)))
    args = ap.parse_args()
    if args.one is not None:
        one(args.one)
        return
    rows = []
    for h in SIZES:
        try:
            out = subprocess.run([sys.executable, __file__, "--one", str(h)], capture_output=True,
                                 text=True, timeout=args.timeout, check=True).stdout
        except subprocess.TimeoutExpired:
            rows.append({"h": h, "weights": weights(h), "timeout_s": args.timeout})
            print(f"sympy deep2({h}) ({weights(h)} weights): did not finish in {args.timeout:.0f} s",
                  flush=True)
            break
        row = json.loads(out)
        rows.append(row)
        print(f"sympy deep2({h}) ({row['weights']} weights): {row['total_s']:.2f} s "
              f"(diff {row['diff_s']:.2f}, cse {row['cse_s']:.2f}), "
              f"{row['peak_rss_bytes'] / 2**20:.0f} MiB", flush=True)
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "sympy.json"), "w") as f:
        json.dump({"timeout_s": args.timeout, "rows": rows}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
