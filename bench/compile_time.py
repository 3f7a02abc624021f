#!/usr/bin/env python3
"""Compile time of `chainrule::derive!` code with rustc in release, against network size
(BENCHMARKS.md), up to the emitter's MAX_OPERATIONS.

A scratch binary crate outside the repository (default /tmp/ctime, --dir) depends on chainrule
by path and holds one bench/nets.py deep2(h) network in nets/net.nn; its main runs a training
loop of `sgd_step` and `loss` (so the gradient is compiled, as in a user's program). The
dependencies are built once; then, per size, only the user crate is rebuilt (main.rs touched)
and timed: `cargo check --release` (macro expansion and analysis) and `cargo build --release`
(everything), with rustc's peak resident memory.

The crate is as a user writes it: Cargo builds the proc macro unoptimised in release (release's
build-override is opt-level 0); expansion is still a small part of the time (BENCHMARKS.md).
Writes bench/results/compile_time.json.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from nets import deep2, weights  # noqa: E402

# h: 506 .. 19,382 gradient operations (deep2(50), the largest under MAX_OPERATIONS = 20,000),
# each build under a minute here. --full adds 31,072, 45,506 and 58,772 operations (the largest
# under the limit of 60,000 before commit 7ff680d), which took 1, 3 and 5.5 minutes; an emitter
# that refuses a size is recorded as refusing it.
SIZES = [6, 16, 32, 45, 50]
FULL_SIZES = SIZES + [64, 78, 89]

MAIN = """chainrule::derive!(file = "nets/net.nn");

use std::hint::black_box;

fn main() {{
    let mut p = deep2::Params::zeros();
    p.set_flat(&std::array::from_fn(|i| ((i * 7919) % 1000) as f64 / 1000.0 - 0.5));
    let x: [f64; {h}] = std::array::from_fn(|i| (i as f64 / {h}.0) - 0.5);
    let t = [0.1, -0.2, 0.3, 0.0];
    let mut total = 0.0;
    for _ in 0..black_box(10) {{
        total += deep2::sgd_step(&mut p, black_box(&x), black_box(&t), 1e-3);
    }}
    println!("{{}} {{}}", total, deep2::loss(&p, &x, &t));
}}
"""


def manifest():
    return f"""[package]
name = "ctime"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
chainrule = {{ path = "{ROOT}" }}

[workspace]
"""


def env(d):
    """The scratch crate builds into its own target directory, whatever the caller's is."""
    e = dict(os.environ)
    e["CARGO_TARGET_DIR"] = os.path.join(d, "target")
    return e


def run(cmd, cwd):
    """Wall seconds and peak RSS (bytes) of the largest process `cmd` started."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M"] + cmd, cwd=cwd, env=env(cwd),
                       capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        if "more than the limit" in p.stderr:
            return None, None
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd}:\n{p.stderr[-4000:]}")
    # GNU time reports the largest of the child and its waited-for descendants.
    rss = int(re.findall(r"MAXRSS (\d+)", p.stderr)[-1]) * 1024
    return dt, rss


def setup(d):
    os.makedirs(os.path.join(d, "src"), exist_ok=True)
    os.makedirs(os.path.join(d, "nets"), exist_ok=True)
    with open(os.path.join(d, "Cargo.toml"), "w") as f:
        f.write(manifest())
    # The repository's dependency versions.
    if not os.path.exists(os.path.join(d, "Cargo.lock")):
        shutil.copy(os.path.join(ROOT, "Cargo.lock"), os.path.join(d, "Cargo.lock"))
    write_net(d, 2)
    t0 = time.perf_counter()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=d, env=env(d), check=True)
    subprocess.run(["cargo", "check", "--release", "--quiet"], cwd=d, env=env(d), check=True)
    return time.perf_counter() - t0


def write_net(d, h):
    with open(os.path.join(d, "nets", "net.nn"), "w") as f:
        f.write(deep2(h))
    with open(os.path.join(d, "src", "main.rs"), "w") as f:
        f.write(MAIN.format(h=h))


def gradient_operations():
    """deep2(h) -> the generated gradient's operation count, from derive_scale's results."""
    try:
        with open(os.path.join(HERE, "results", "derive_scale.json")) as f:
            rows = json.load(f)["rows"]
        return {r["h"]: r["gradient_operations"] for r in rows}
    except (OSError, KeyError, ValueError):
        return {}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", default=os.environ.get("CTIME_DIR", "/tmp/ctime"))
    ap.add_argument("--full", action="store_true",
                    help=f"sizes {FULL_SIZES} (about 11 minutes more)")
    ap.add_argument("--sizes", type=int, nargs="*")
    ap.add_argument("--append", action="store_true",
                    help="replace only these sizes' rows of bench/results/compile_time.json")
    args = ap.parse_args()
    if args.sizes is None:
        args.sizes = FULL_SIZES if args.full else SIZES
    ops = gradient_operations()
    results = {"sizes": []}
    d = os.path.join(args.dir, "default")
    results["setup_s"] = setup(d)
    print(f"compile time: dependencies built in {results['setup_s']:.0f} s", flush=True)
    for h in args.sizes:
        write_net(d, h)
        main_rs = os.path.join(d, "src", "main.rs")
        os.utime(main_rs)
        check_s, check_rss = run(["cargo", "check", "--release", "--quiet"], d)
        if check_s is None:
            results["sizes"].append({"h": h, "weights": weights(h),
                                     "gradient_operations": ops.get(h), "refused": True})
            print(f"compile time deep2({h}): refused by the emitter (over MAX_OPERATIONS)",
                  flush=True)
            continue
        os.utime(main_rs)
        build_s, build_rss = run(["cargo", "build", "--release", "--quiet"], d)
        row = {"h": h, "weights": weights(h), "gradient_operations": ops.get(h),
               "check_s": check_s, "build_s": build_s, "check_peak_rss_bytes": check_rss,
               "build_peak_rss_bytes": build_rss}
        results["sizes"].append(row)
        print(f"compile time deep2({h}) {weights(h)} weights, {ops.get(h)} operations: "
              f"check {check_s:.1f} s, build {build_s:.1f} s, "
              f"rustc peak {build_rss / 2**20:.0f} MiB", flush=True)
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    out = os.path.join(HERE, "results", "compile_time.json")
    if args.append and os.path.exists(out):
        with open(out) as f:
            old = json.load(f)
        new = {r["h"] for r in results["sizes"]}
        results["sizes"] = sorted([r for r in old["sizes"] if r["h"] not in new]
                                  + results["sizes"], key=lambda r: r["h"])
    with open(out, "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
