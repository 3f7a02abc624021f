#!/usr/bin/env python3
"""Turns bench/results/ and criterion's estimates into the measured tables of BENCHMARKS.md.

`python3 bench/report.py` prints the tables; `--write BENCHMARKS.md` replaces the text between
the `<!-- results:begin -->` and `<!-- results:end -->` markers of that file with them.
Standard library only.
"""

import argparse
import json
import math
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def load(name):
    try:
        with open(os.path.join(RESULTS, name)) as f:
            return json.load(f)
    except OSError:
        return None


def target_dir():
    out = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)["target_directory"]


def criterion(group, fn):
    """Median seconds per iteration of a criterion benchmark, or None."""
    path = os.path.join(target_dir(), "criterion", group, fn, "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["median"]["point_estimate"] * 1e-9
    except OSError:
        return None


def dur(s):
    if s is None:
        return "-"
    if s < 1e-6:
        return f"{s * 1e9:.1f} ns"
    if s < 1e-3:
        return f"{s * 1e6:.2f} µs"
    if s < 1:
        return f"{s * 1e3:.1f} ms"
    return f"{s:.2f} s"


def ratio(a, b):
    """a / b as `12.3x`."""
    if a is None or b is None or b == 0:
        return "-"
    r = a / b
    if r >= 100:
        return f"{r:,.0f}x"
    if r >= 10:
        return f"{r:.1f}x"
    return f"{r:.2f}x"


def mib(b):
    return "-" if b is None else f"{b / 2**20:,.1f} MiB"


def slope(xs, ys):
    """Least-squares slope of log y against log x: 1 is linear growth."""
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys) if x and y]
    if len(pts) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    num = sum((x - mx) * (y - my) for x, y in pts)
    den = sum((x - mx) ** 2 for x, _ in pts)
    return num / den


def machine():
    lines = ["### Machine", ""]
    m = load_text("machine.txt")
    if m:
        lines += ["```", m.strip(), "```", ""]
    return lines


def load_text(name):
    try:
        with open(os.path.join(RESULTS, name)) as f:
            return f.read()
    except OSError:
        return None


def per_sample(py):
    lines = ["### 1. One per-sample gradient and one SGD step", ""]
    lines += ["Median time per call; the ratio is the alternative's time over the generated "
              "code's (above 1: the generated code is faster).", ""]
    lines += ["| network | call | generated | hand-written fixed | ndarray | finite differences "
              "| PyTorch eager | JAX jit |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    rows = {}
    for net in ["seed004", "mlp16"]:
        for call in ["gradient", "sgd_step"]:
            group = f"{net}_{call}"
            r = {k: criterion(group, k) for k in ["generated", "hand_fixed", "ndarray",
                                                  "finite_diff"]}
            for fw in ["torch", "jax"]:
                try:
                    r[fw] = py[fw][net][call]["median_s"]
                except (KeyError, TypeError):
                    r[fw] = None
            rows[(net, call)] = r
            g = r["generated"]
            cells = [dur(g)] + [f"{dur(r[k])} ({ratio(r[k], g)})" for k in
                                ["hand_fixed", "ndarray", "finite_diff", "torch", "jax"]]
            lines.append(f"| {net} | {call} | " + " | ".join(cells) + " |")
    lines.append("")
    if py:
        for fw, label in [("torch", "PyTorch"), ("jax", "JAX")]:
            info = py.get(fw, {})
            if "unavailable" in info:
                lines.append(f"{label}: **not measured**: {info['unavailable']}")
            else:
                extra = {k: v for k, v in info.items() if k in ("version", "jaxlib", "threads",
                                                                "backend", "op_overhead")}
                lines.append(f"{label}: {json.dumps(extra)}; gradients equal `chainrule eval`'s "
                             f"within {max(info[n]['max_rel_vs_chainrule'] for n in ('seed004', 'mlp16')):.1e} relative.")
        lines.append("")
    return lines, rows


def training(py):
    rust = load("training_rust.json")
    lines = ["### 2. Training end to end: seed 004's problem", ""]
    if not rust:
        return lines + ["(not run)", ""], {}
    steps = rust["steps"]
    lines += [f"50 epochs x 6,700 samples = {steps:,} per-sample SGD steps, the train and test "
              "loss summed after each epoch. Wall time (Rust: median of "
              f"{rust['generated']['runs']} runs; Python: one run).", ""]
    lines += ["| implementation | wall time | per step | vs generated | final train loss |",
              "| --- | --- | --- | --- | --- |"]
    g = rust["generated"]["median_s"]
    out = {"generated": g}

    def row(name, s, loss):
        lines.append(f"| {name} | {dur(s)} | {dur(s / steps)} | {ratio(s, g)} | {loss:.10g} |")

    row("generated `sgd_step`", g, rust["generated"]["final_train_loss"])
    row("hand-written fixed-size step", rust["hand_fixed"]["median_s"],
        rust["hand_fixed"]["final_train_loss"])
    out["hand_fixed"] = rust["hand_fixed"]["median_s"]
    if py:
        t = py.get("torch", {}).get("training")
        if t:
            row("PyTorch eager, one sample per step", t["seconds"], t["final_train_loss"])
            out["torch"] = t["seconds"]
        elif "unavailable" in py.get("torch", {}):
            lines.append("| PyTorch eager | not measured | | | |")
        j = py.get("jax", {}).get("training")
        if j:
            row("JAX jit, one sample per call", j["per_sample_calls"]["seconds"],
                j["per_sample_calls"]["final_train_loss"])
            row("JAX jit, each epoch one `lax.scan` call", j["scan_epoch"]["seconds"],
                j["scan_epoch"]["final_train_loss"])
            out["jax"] = j["per_sample_calls"]["seconds"]
            out["jax_scan"] = j["scan_epoch"]["seconds"]
    lines.append("")
    return lines, out


def derive_scale():
    d = load("derive_scale.json")
    lines = ["### 3. Derivation at scale (deep2(h): h -> h tanh -> h sigmoid -> 4)", ""]
    if not d:
        return lines + ["(not run)", ""], None
    lines += ["`check` parses and checks; `expand` is `rust::expand_network` (derives again, "
              "renders the delta-form LaTeX for `LATEX`, emits tokens); `format` is prettyplease; "
              "total = check + expand + format, the `chainrule rust FILE` path (the macro skips "
              "format). Past the emitter's limit of "
              f"{d['max_operations']:,} operations only check and derive run. Peak heap is "
              "counted by the benchmark's allocator.", ""]
    lines += ["| h | weights | graph nodes | gradient ops | derive | latex | expand | format "
              "| total | peak heap (pipeline) | peak heap (derive) | code |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in d["rows"]:
        lines.append(
            f"| {r['h']} | {r['weights']:,} | {r['nodes']:,} | {r['gradient_operations']:,} | "
            f"{dur(r['derive_s'])} | {dur(r.get('latex_s'))} | {dur(r['expand_s'])} | "
            f"{dur(r['format_s'])} | {dur(r['total_s'])} | {mib(r['peak_bytes'])} | "
            f"{mib(r['derive_peak_bytes'])} | "
            f"{'-' if r['code_bytes'] is None else mib(r['code_bytes'])} |")
    emitted = [r for r in d["rows"] if r["emitted"]]
    big = [r for r in d["rows"] if r["weights"] >= 1000]
    s_total = slope([r["weights"] for r in emitted if r["weights"] >= 1000],
                    [r["total_s"] for r in emitted if r["weights"] >= 1000])
    s_derive = slope([r["weights"] for r in big], [r["derive_s"] for r in big])
    s_nodes = slope([r["weights"] for r in d["rows"]], [r["nodes"] for r in d["rows"]])
    s_mem = slope([r["weights"] for r in big], [r["derive_peak_bytes"] for r in big])
    lines += ["", "Growth, as the slope of log(cost) against log(weights) from 10^3 weights up "
              "(1.0 is linear): "
              f"nodes {s_nodes:.2f}, derive time {s_derive:.2f}, derive peak heap {s_mem:.2f}, "
              f"check+expand+format time {s_total:.2f}.", ""]
    return lines, d


def sympy_table(d):
    s = load("sympy.json")
    lines = ["### 3b. The same gradients with SymPy (`diff` by every weight, then `cse`)", ""]
    if not s:
        return lines + ["(not run)", ""], None
    ours = {r["h"]: r for r in d["rows"]} if d else {}
    lines += ["| h | weights | build | diff | cse | SymPy total (CPU) | peak RSS | chainrule "
              "check+expand+format | SymPy / chainrule |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in s["rows"]:
        c = ours.get(r["h"], {}).get("total_s")
        if "timeout_s" in r:
            lines.append(f"| {r['h']} | {r['weights']:,} | did not finish in {r['timeout_s']:.0f} s "
                         f"| | | | | {dur(c)} | > {ratio(r['timeout_s'], c)} |")
            continue
        lines.append(
            f"| {r['h']} | {r['weights']:,} | {dur(r['build_s'])} | {dur(r['diff_s'])} | "
            f"{dur(r['cse_s'])} | {dur(r['total_s'])} ({dur(r.get('cpu_s'))}) | "
            f"{mib(r['peak_rss_bytes'])} | {dur(c)} | {ratio(r['total_s'], c)} |")
    done = [r for r in s["rows"] if "timeout_s" not in r]
    if len(done) >= 2:
        lines += ["", f"SymPy's growth (slope of log time against log weights): "
                  f"{slope([r['weights'] for r in done], [r['total_s'] for r in done]):.2f}."]
    lines.append("")
    return lines, s


def compile_table():
    c = load("compile_time.json")
    lines = ["### 4. Compile time of the generated code (rustc, release)", ""]
    if not c:
        return lines + ["(not run)", ""], None
    lines += ["A scratch binary crate with one `chainrule::derive!(file = ...)` network and a "
              "training loop over `sgd_step` and `loss`; dependencies prebuilt, only the user "
              "crate rebuilt (`bench/compile_time.py`).", ""]
    lines += ["| h | weights | gradient ops | `cargo check --release` | "
              "`cargo build --release` | rustc peak RSS |",
              "| --- | --- | --- | --- | --- | --- |"]
    for r in c["sizes"]:
        ops = r["gradient_operations"]
        if r.get("refused"):
            lines.append(f"| {r['h']} | {r['weights']:,} | {'-' if ops is None else f'{ops:,}'} "
                         "| refused: over MAX_OPERATIONS | | |")
            continue
        lines.append(
            f"| {r['h']} | {r['weights']:,} | "
            f"{'-' if ops is None else f'{ops:,}'} | {dur(r['check_s'])} | {dur(r['build_s'])} | "
            f"{mib(r['build_peak_rss_bytes'])} |")
    rows = [r for r in c["sizes"] if r["gradient_operations"] and not r.get("refused")]
    big = [r for r in rows if r["gradient_operations"] >= 5000]
    if len(big) >= 2:
        lines += ["", "Growth of the release build time with the operation count (slope of the "
                  f"logs, from 5,000 operations): "
                  f"{slope([r['gradient_operations'] for r in big], [r['build_s'] for r in big]):.2f}."]
    lines.append("")
    return lines, c


def targets(rows, d, s):
    lines = ["### Targets against measurements", ""]
    lines += ["Ratios are the alternative's time over the generated code's, except the first row "
              "(generated over hand-written: at most 1.00 is the target).", ""]
    lines += ["| target | seed004 gradient | seed004 step | mlp16 gradient | mlp16 step | met |",
              "| --- | --- | --- | --- | --- | --- |"]

    def line(name, key, goal, invert=False):
        cells, met = [], True
        for net in ["seed004", "mlp16"]:
            for call in ["gradient", "sgd_step"]:
                r = rows.get((net, call), {})
                other, g = r.get(key), r.get("generated")
                if other is None or g is None:
                    cells.append("-")
                    met = False
                    continue
                x = g / other if invert else other / g
                ok = x <= goal if invert else x >= goal
                met &= ok
                cells.append(f"{x:,.2f}" if invert else ratio(other, g))
        lines.append(f"| {name} | {' | '.join(cells)} | {'yes' if met else '**no**'} |")

    line("generated <= 1.0x hand-written fixed-size", "hand_fixed", 1.0, invert=True)
    line(">= 20x faster than ndarray", "ndarray", 20)
    line(">= 1000x faster than PyTorch eager, per sample", "torch", 1000)
    line(">= 100x faster than JAX jit, per sample", "jax", 100)
    lines.append("")
    lines += ["| target | measured | met |", "| --- | --- | --- |"]
    if d:
        near = min(d["rows"], key=lambda r: abs(r["weights"] - 10_000))
        t = near["total_s"]
        macro = near["check_s"] + near["expand_s"] if near["expand_s"] else None
        big = [r for r in d["rows"] if r["weights"] >= 1000]
        sl = slope([r["weights"] for r in big], [r["derive_s"] for r in big])
        lines.append(f"| 10^4 weights derived and emitted in < 1 s | {near['weights']:,} weights: "
                     f"{dur(t)} with formatting (`chainrule rust`), {dur(macro)} without (the "
                     f"macro's path) | {'yes' if t is not None and t < 1 else '**no**'} |")
        lines.append(f"| linear growth | derive time slope {sl:.2f} over 10^3..10^5 weights "
                     "(1.0 is linear; see section 3) | see 3 |")
    if s and d:
        ours = {r["h"]: r for r in d["rows"]}
        best = [(r["total_s"] / ours[r["h"]]["total_s"], r["h"]) for r in s["rows"]
                if "timeout_s" not in r and ours.get(r["h"], {}).get("total_s")]
        if best:
            lo = min(best)
            lines.append(f"| >= 100x faster than SymPy | {lo[0]:,.0f}x at the smallest ratio "
                         f"(deep2({lo[1]})) | {'yes' if lo[0] >= 100 else '**no**'} |")
    lines.append("")
    return lines


def report():
    py = load("python.json")
    out = ["<!-- Generated by bench/report.py from bench/results/ (./bench/run-all); "
           "edit the prose around the markers, not this. -->", ""]
    out += machine()
    ps, rows = per_sample(py)
    tr, train = training(py)
    ds, d = derive_scale()
    sy, s = sympy_table(d)
    ct, c = compile_table()
    out += targets(rows, d, s)
    out += ps + tr + ds + sy + ct
    import report_large  # issues 12 and 13: sections 5 to 7, and other scripts' sections
    out += report_large.sections(sys.modules[__name__])
    return "\n".join(out).rstrip() + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--write", metavar="FILE")
    args = ap.parse_args()
    text = report()
    if not args.write:
        sys.stdout.write(text)
        return
    with open(args.write) as f:
        doc = f.read()
    if BEGIN not in doc or END not in doc:
        raise SystemExit(f"{args.write} has no {BEGIN} ... {END} markers")
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    tmp = args.write + ".tmp"
    with open(tmp, "w") as f:
        f.write(head + BEGIN + "\n" + text + END + tail)
    os.replace(tmp, args.write)
    print(f"wrote the measured tables into {args.write}")


if __name__ == "__main__":
    main()
