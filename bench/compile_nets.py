#!/usr/bin/env python3
"""Compile time of a user crate for each benchmark network (issue 12: seed 004, mlp16,
784-128-10, 784-256-256-10), with Cargo's default profiles, as a user builds it: `cargo check`
(dev profile, so the proc macro runs unoptimised) and `cargo build --release`, after the
dependencies are built, with only the user crate rebuilt (main.rs touched). A network that
`derive!` refuses (over today's limits) is recorded as refused with the reason.

A scratch binary crate outside the repository (default /tmp/ctime/nets, CTIME_DIR) depends on
chainrule by path; its main runs `sgd_step` and `loss` (so the gradient is compiled, as in a
user's program). Writes bench/results/compile_nets.json.
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

# name, .nn file, inputs, outputs
NETS = [
    ("seed004", "examples/nets/seed004.nn", 2, 2),
    ("mlp16", "benches/nets/mlp16.nn", 16, 4),
    ("mnist128", "benches/nets/mnist128.nn", 784, 10),
    ("mnist256", "benches/nets/mnist256.nn", 784, 10),
]

MAIN = """chainrule::derive!(file = "nets/net.nn");

use std::hint::black_box;

fn main() {{
    // On the main thread's 8 MiB stack: Params of 784-256-256-10 take 2.1 MiB.
    let mut p = {name}::Params::zeros();
    let x: [f64; {n_in}] = std::array::from_fn(|i| (i as f64 / {n_in}.0) - 0.5);
    let t: [f64; {n_out}] = std::array::from_fn(|i| if i == 1 {{ 1.0 }} else {{ 0.0 }});
    let mut total = 0.0;
    for _ in 0..black_box(10) {{
        total += {name}::sgd_step(&mut p, black_box(&x), black_box(&t), 1e-3);
    }}
    println!("{{}} {{}}", total, {name}::loss(&p, &x, &t));
}}
"""

MANIFEST = f"""[package]
name = "ctime-nets"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
chainrule = {{ path = "{ROOT}" }}

[workspace]
"""


TARGET = None  # set by main: the target dir of bench/compile_time.py's crate, whose release
# dependencies are then already built


def env(d):
    e = dict(os.environ)
    e["CARGO_TARGET_DIR"] = TARGET or os.path.join(d, "target")
    return e


def run(cmd, d):
    """(seconds, peak RSS bytes, None) or (None, None, reason) when the macro refuses."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M"] + cmd, cwd=d, env=env(d),
                       capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        m = re.search(r"error: (.*)", p.stderr)
        if m and "too large" in p.stderr or "more than the limit" in p.stderr:
            return None, None, m.group(1) if m else "refused"
        raise SystemExit(f"{' '.join(cmd)} failed in {d}:\n{p.stderr[-4000:]}")
    return dt, int(re.findall(r"MAXRSS (\d+)", p.stderr)[-1]) * 1024, None


def write(d, name, nn, n_in, n_out):
    shutil.copy(os.path.join(ROOT, nn), os.path.join(d, "nets", "net.nn"))
    with open(os.path.join(d, "src", "main.rs"), "w") as f:
        f.write(MAIN.format(name=name, n_in=n_in, n_out=n_out))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", default=os.path.join(os.environ.get("CTIME_DIR", "/tmp/ctime"), "nets"))
    args = ap.parse_args()
    global TARGET
    TARGET = os.path.join(os.path.dirname(args.dir), "default", "target")
    d = args.dir
    os.makedirs(os.path.join(d, "src"), exist_ok=True)
    os.makedirs(os.path.join(d, "nets"), exist_ok=True)
    with open(os.path.join(d, "Cargo.toml"), "w") as f:
        f.write(MANIFEST)
    if not os.path.exists(os.path.join(d, "Cargo.lock")):
        shutil.copy(os.path.join(ROOT, "Cargo.lock"), os.path.join(d, "Cargo.lock"))
    write(d, *NETS[0])
    t0 = time.perf_counter()
    for cmd in (["cargo", "check", "--quiet"], ["cargo", "build", "--release", "--quiet"]):
        subprocess.run(cmd, cwd=d, env=env(d), check=True)
    results = {"setup_s": time.perf_counter() - t0, "nets": []}
    for name, nn, n_in, n_out in NETS:
        write(d, name, nn, n_in, n_out)
        main_rs = os.path.join(d, "src", "main.rs")
        row = {"network": name}
        for key, cmd in (("check", ["cargo", "check", "--quiet"]),
                         ("build", ["cargo", "build", "--release", "--quiet"])):
            os.utime(main_rs)
            s, rss, refused = run(cmd, d)
            if refused:
                row["refused"] = refused
                break
            row[f"{key}_s"], row[f"{key}_peak_rss_bytes"] = s, rss
        row["loadavg"] = " ".join(open("/proc/loadavg").read().split()[:3])
        results["nets"].append(row)
        print(f"compile time {name}: {row}", flush=True)
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "compile_nets.json"), "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
