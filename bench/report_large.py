"""The sections of BENCHMARKS.md for issues 12 and 13, called by bench/report.py: per-sample
gradient and step at four network sizes against every alternative and the physical limit;
mini-batch gradients at 1 and 2 threads; one epoch of mini-batch SGD; and the sections other
benchmark scripts add (any bench/results/section_*.md, in name order). Standard library only.
"""

import glob
import os

# Layer shapes (rows, cols, activation) of the four networks.
NETS = {
    "seed004": [(3, 2, "sigmoid"), (2, 3, "linear")],
    "mlp16": [(32, 16, "tanh"), (32, 32, "sigmoid"), (4, 32, "linear")],
    "mnist128": [(128, 784, "relu"), (10, 128, "linear")],
    "mnist256": [(256, 784, "relu"), (256, 256, "relu"), (10, 256, "linear")],
}
BIASES = {"seed004": False}
AFTER = "after merge"


def weights(net):
    return sum(r * c + (r if BIASES.get(net, True) else 0) for r, c, _ in NETS[net])


def fma_slots(net):
    """Multiply-adds of one per-sample gradient or step: forward W x, the weight gradient (or
    update) d x^T, and W^T d below the first layer; the same count for gradient and step."""
    return sum(r * c * (3 if k else 2) for k, (r, c, _) in enumerate(NETS[net]))


def transcendentals(net):
    """tanh or exp calls per sample (relu and linear have none)."""
    return {a: sum(r for r, _, act in NETS[net] if act == a) for a in ("tanh", "sigmoid")}


def bandwidth(peak, nbytes):
    """The measured read+write rate at the smallest measured working set that holds nbytes."""
    sizes = sorted((int(k[3:-7]), v) for k, v in peak.items() if k.startswith("rw_") and k.endswith("kib_gbs"))
    for kib, gbs in sizes:
        if nbytes <= kib * 1024:
            return gbs
    return sizes[-1][1] if sizes else None


def limit(R, peak, net):
    """(seconds, explanation) of the per-sample physical limit."""
    if not peak or "avx512_fma_gflops" not in peak:
        return None, "not measured"
    lanes = peak["avx512_fma_gflops"] / 2 * 1e9  # FMA lane-operations per second
    flop_s = fma_slots(net) / lanes
    nbytes = 16 * weights(net)  # weights in, gradient out (or weights in and out)
    mem_s = nbytes / (bandwidth(peak, nbytes) * 1e9)
    tr = transcendentals(net)
    tr_s = tr["tanh"] * peak.get("tanh_ns", 0) * 1e-9 + tr["sigmoid"] * peak.get("exp_ns", 0) * 1e-9
    text = f"flops {R.dur(flop_s)}, memory {R.dur(mem_s)}"
    if tr_s:
        text += f"; + {tr['tanh'] + tr['sigmoid']} exp/tanh, {R.dur(tr_s)} in libm"
    return max(flop_s, mem_s), text


def cell(R, t, g):
    if t is None:
        return "-"
    return R.dur(t) if g is None else f"{R.dur(t)} ({R.ratio(t, g)})"


def per_sample(R, peak, py, candle):
    lines = ["### 5. Real-size networks: one per-sample gradient and one SGD step (issue 12)", ""]
    lines += ["Median per call; in parentheses the alternative's time over the generated code's "
              "(above 1: generated is faster). The physical limit is the larger of the "
              "multiply-adds at this core's measured AVX-512 FMA peak and 16 bytes per weight at "
              "the measured read+write bandwidth for that working set (section 7); the exp/tanh "
              "calls are counted apart. The generated code is `gradient_into` and the in-place "
              "`sgd_step` (`benches/gradient.rs`, `benches/generated_large.rs`).", ""]
    lines += ["| network | weights | call | generated | hand-written fixed | ndarray | candle "
              "| PyTorch eager | JAX jit | physical limit |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    rows = {}
    for net in NETS:
        for call in ["gradient", "sgd_step"]:
            group = f"{net}_{call}"
            r = {k: R.criterion(group, k) for k in ["generated", "hand_fixed", "ndarray"]}
            r["candle"] = dig(candle, "per_sample", net, call, "median_s")
            r["torch"] = dig(py, "torch", net, call, "median_s")
            r["jax"] = dig(py, "jax", net, call, "median_s")
            lim, why = limit(R, peak, net)
            r["limit"] = lim
            rows[(net, call)] = r
            g = r["generated"]
            gen = R.dur(g) if g is not None else AFTER
            cells = [cell(R, r[k], g) for k in ["hand_fixed", "ndarray", "candle", "torch", "jax"]]
            lim_cell = "-" if lim is None else f"{R.dur(lim)} ({why})"
            lines.append(f"| {net} | {weights(net):,} | {call} | {gen} | " + " | ".join(cells)
                         + f" | {lim_cell} |")
    lines.append("")
    return lines, rows


def dig(d, *keys):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def targets12(R, rows):
    lines = ["### Targets of issue 12 against measurements", ""]
    lines += ["| target | " + " | ".join(f"{n} {c}" for n in NETS for c in ("gradient", "step"))
              + " | met |", "| --- |" + " --- |" * (2 * len(NETS) + 1)]

    def line(name, key, goal, nets=NETS, invert=False):
        cells, met = [], True
        for net in NETS:
            for call in ["gradient", "sgd_step"]:
                r = rows.get((net, call), {})
                if net not in nets:
                    cells.append("")
                    continue
                other, g = r.get(key), r.get("generated")
                if g is None or other is None:
                    cells.append(AFTER if g is None else "-")
                    met = None if met is not False else met
                    continue
                x = g / other if invert else other / g
                ok = x <= goal if invert else x >= goal
                met = (met is not False) and ok if met is not None else (False if not ok else None)
                cells.append(f"{x:.2f}" if invert else R.ratio(other, g))
        verdict = {True: "yes", False: "**no**", None: AFTER}[met]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {verdict} |")

    line("generated <= 1.0x hand-written fixed-size (generated / hand-written)", "hand_fixed", 1.0,
         invert=True)
    line(">= 2x faster than ndarray at mlp16", "ndarray", 2, nets=["mlp16"])
    line(">= 100x faster than PyTorch eager at mlp16", "torch", 100, nets=["mlp16"])
    line(">= 10x faster than JAX jit at mlp16", "jax", 10, nets=["mlp16"])
    line("faster than candle at every size", "candle", 1.0)
    lines.append("")
    return lines


def batch_time(R, fw, net, rows, threads, res):
    if fw == "generated":
        t = R.criterion(f"batch_{net}_{rows}", f"generated_{threads}t")
        if t is None and threads == 1:
            t = R.criterion(f"batch_{net}_{rows}", "generated")  # today's per-row gradient_batch
        return t
    if fw == "ndarray":
        return R.criterion(f"batch_{net}_{rows}", f"ndarray_{threads}t")
    return dig(res.get((fw, threads)), "batch", net, str(rows), "median_s")


def batch_flops(net, rows):
    return 2 * rows * fma_slots(net)


def batches(R, peak, res):
    lines = ["### 6. The gradient of a mini-batch (issue 13)", ""]
    lines += ["Median per call of the batch mean's loss and gradient; in parentheses the "
              "alternative's time over the generated code's, or, where there is none yet, over "
              "the batched `ndarray` baseline's (marked †). The GEMM limit is the multiply-adds "
              "at the measured AVX-512 FMA peak of one core times the threads. The generated "
              "code is `gradient_batch_into` with a reused `BatchWorkspace` (`auto` form: "
              "matrix form for all three networks at these sizes), the `parallel` feature on "
              "with `RAYON_NUM_THREADS` set to the thread count.", ""]
    lines += ["| network | rows | threads | generated | batched ndarray | candle | PyTorch | JAX "
              "| GEMM limit |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    table = {}
    for net in ["mlp16", "mnist128", "mnist256"]:
        for rows in [64, 1024]:
            for th in [1, 2]:
                r = {fw: batch_time(R, fw, net, rows, th, res)
                     for fw in ["generated", "ndarray", "candle", "torch", "jax"]}
                table[(net, rows, th)] = r
                g = r["generated"]
                base, mark = (g, "") if g is not None else (r["ndarray"], "†")
                cells = [R.dur(g) if g is not None else AFTER,
                         R.dur(r["ndarray"]) + ("" if g is not None or r["ndarray"] is None else " (1.00x†)")
                         if g is None else cell(R, r["ndarray"], g)]
                for fw in ["candle", "torch", "jax"]:
                    t = r[fw]
                    cells.append("-" if t is None else f"{R.dur(t)} ({R.ratio(t, base)}{mark})")
                lim = None
                if peak and "avx512_fma_gflops" in peak:
                    lim = batch_flops(net, rows) / (peak["avx512_fma_gflops"] * 1e9 * th)
                cells.append(R.dur(lim))
                lines.append(f"| {net} | {rows:,} | {th} | " + " | ".join(cells) + " |")
    lines += ["", "Two threads over one at 1,024 rows (the target for the generated code: >= 1.8x):", "",
              "| network | generated | batched ndarray | candle | PyTorch | JAX |",
              "| --- | --- | --- | --- | --- | --- |"]
    for net in ["mlp16", "mnist128", "mnist256"]:
        cells = []
        for fw in ["generated", "ndarray", "candle", "torch", "jax"]:
            one, two = table[(net, 1024, 1)][fw], table[(net, 1024, 2)][fw]
            cells.append(R.ratio(one, two) if two is not None else (AFTER if fw == "generated" else "-"))
        lines.append(f"| {net} | " + " | ".join(cells) + " |")
    lines.append("")
    return lines, table


def targets13(R, table):
    lines = ["### Targets of issue 13 against measurements", ""]
    lines += ["| target | where measured | met |", "| --- | --- | --- |"]
    have = [k for k, r in table.items() if r["generated"] is not None and k[0] != "mlp16"]
    for fw, label in [("ndarray", "the batched ndarray baseline"), ("torch", "PyTorch"),
                      ("jax", "JAX"), ("candle", "candle")]:
        if not have:
            lines.append(f"| generated >= 1.0x {label}, every size and thread count | - | {AFTER} |")
            continue
        worst = min((table[k][fw] / table[k]["generated"], k) for k in have if table[k][fw])
        lines.append(f"| generated >= 1.0x {label}, every size and thread count | worst "
                     f"{worst[0]:.2f}x at {worst[1][0]}, {worst[1][1]} rows, {worst[1][2]} thread(s) "
                     f"| {'yes' if worst[0] >= 1 else '**no**'} |")
    lines.append("")
    return lines


def epoch(R, res):
    lines = ["### 6b. One epoch of mini-batch SGD (issue 13)", ""]
    rust = R.load("epoch_rust.json")
    if not rust:
        return lines + ["(not run)", ""]
    lines += [f"784-128-10, {rust['samples']:,} generated samples, batches of {rust['batch']} in "
              f"order, batch mean, learning rate {rust['lr']}, the same initial weights "
              "(`benches/epoch.rs`, `bench/batch_bench.py`, `bench/candle`); Rust "
              "baselines the median of 3 runs, candle, PyTorch and JAX one run. The losses are the mean of the batches' losses over the epoch: every "
              "implementation runs the same arithmetic up to the order of its sums.", ""]
    lines += ["| implementation | threads | wall time | per sample | vs batched ndarray, 1 thread "
              "| mean batch loss | relative difference |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    base = dig(rust, "results", "ndarray_1t")
    entries = []
    for th in [1, 2]:
        entries.append(("generated `gradient_batch`", th, R.load(f"epoch_generated_{th}t.json")))
        entries.append(("batched ndarray", th, dig(rust, "results", f"ndarray_{th}t")))
        entries.append(("candle", th, dig(res.get(("candle", th)), "epoch")))
        entries.append(("PyTorch eager", th, dig(res.get(("torch", th)), "epoch")))
        entries.append(("JAX jit, one call per batch", th, dig(res.get(("jax", th)), "epoch")))
    for name, th, e in entries:
        if not e:
            if name.startswith("generated"):
                lines.append(f"| {name} | {th} | {AFTER} | | | | |")
            continue
        rel = abs(e["mean_batch_loss"] - base["mean_batch_loss"]) / abs(base["mean_batch_loss"])
        lines.append(f"| {name} | {th} | {R.dur(e['median_s'])} | "
                     f"{R.dur(e['median_s'] / rust['samples'])} | "
                     f"{R.ratio(e['median_s'], base['median_s'])} | {e['mean_batch_loss']:.12f} | "
                     f"{rel:.1e} |")
    lines.append("")
    return lines


def peak_section(R, peak):
    lines = ["### 7. This core's limits (`benches/peak.rs`)", ""]
    if not peak:
        return lines + ["(not run)", ""]
    lines += ["| what | measured |", "| --- | --- |"]
    names = [("avx512_fma_gflops", "f64 AVX-512 FMA peak, 12 independent chains", "GFLOP/s"),
             ("avx2_fma_gflops", "f64 AVX2 FMA peak", "GFLOP/s"),
             ("matrixmultiply_gflops", "`general_mat_mul` (matrixmultiply), 1024x784 times 784x256",
              "GFLOP/s"),
             ("exp_ns", "`f64::exp`, one call", "ns"), ("tanh_ns", "`f64::tanh`, one call", "ns")]
    for k, label, unit in names:
        if k in peak:
            lines.append(f"| {label} | {peak[k]:.1f} {unit} |")
    for k in sorted((k for k in peak if k.startswith("rw_")), key=lambda k: int(k[3:-7])):
        lines.append(f"| read + write bandwidth, {int(k[3:-7]):,} KiB working set | {peak[k]:.0f} GB/s |")
    lines += ["", f"Load average when measured: {peak.get('loadavg', '-')}.", ""]
    return lines


def compile_nets(R):
    c = R.load("compile_nets.json")
    lines = ["### 4b. Compile time of a user crate for each benchmark network (issue 12)", ""]
    if not c:
        return lines + ["(not run)", ""]
    lines += ["`bench/compile_nets.py`: one `derive!` network and a loop over `sgd_step` and "
              "`loss` in a binary crate with Cargo's default profiles (the proc macro "
              "unoptimised under `cargo check`); dependencies prebuilt, only the user crate "
              "rebuilt. Targets for 784-256-256-10: `cargo check` <= 5 s, release build <= 20 s.",
              "", "| network | weights | `cargo check` | `cargo build --release` | rustc peak RSS "
              "| load average |", "| --- | --- | --- | --- | --- | --- |"]
    for r in c["nets"]:
        net = r["network"]
        if "refused" in r:
            why = r["refused"].split(" error: ")[-1].split(";")[0]
            lines.append(f"| {net} | {weights(net):,} | refused: {why} | | | {r['loadavg']} |")
            continue
        lines.append(f"| {net} | {weights(net):,} | {R.dur(r.get('check_s'))} | "
                     f"{R.dur(r.get('build_s'))} | {R.mib(r.get('build_peak_rss_bytes'))} | "
                     f"{r['loadavg']} |")
    lines.append("")
    return lines


def extra_sections():
    """Sections other benchmark scripts write (bench/digits_bench.py, bench/second_order.py):
    any bench/results/section_*.md, verbatim, in name order."""
    lines = []
    for path in sorted(glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                              "results", "section_*.md"))):
        with open(path) as f:
            lines += [f.read().rstrip(), ""]
    return lines


def load_lines(R):
    text = R.load_text("load.txt")
    if not text:
        return []
    return ["Load average (1, 5, 15 minutes) as each step of the run began:", "", "```",
            text.strip(), "```", ""]


def sections(R):
    peak = R.load("peak.json")
    py = R.load("python.json")
    res = {}
    for th in [1, 2]:
        res[("candle", th)] = R.load(f"candle_{th}t.json")
        res[("torch", th)] = R.load(f"batch_torch_{th}t.json")
        res[("jax", th)] = R.load(f"batch_jax_{th}t.json")
    ps, rows = per_sample(R, peak, py, res[("candle", 1)])
    bt, table = batches(R, peak, res)
    return (targets12(R, rows) + targets13(R, table) + compile_nets(R) + ps + bt
            + epoch(R, res) + peak_section(R, peak) + load_lines(R) + extra_sections())
