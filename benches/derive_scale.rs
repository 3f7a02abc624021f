//! Derivation at scale: time and peak heap to parse and check, derive, and emit (the path of
//! `chainrule rust FILE`: `check_source`, `rust::expand_network`, `rust::format`) for networks
//! of about 10^2 to 10^5 weights, with the graph's node count, the generated gradient's
//! operation count (as the emitter counts it against `MAX_OPERATIONS`) and the emitted code's
//! size. Past the emitter's limit only parsing, checking and deriving are measured.
//!
//! The networks are one family, `bench/nets.py`'s `deep2(h)`: h inputs -> h tanh -> h sigmoid
//! -> 4 linear outputs, no biases, half sum of squared errors: 2h^2 + 4h weights.
//! `bench/sympy_scale.py` derives the same networks with SymPy.
//!
//! Peak heap is counted by this binary's global allocator (bytes live at once above what was
//! live before the stage), so it measures chainrule's own data, not the process.
//!
//! `cargo bench --bench derive_scale [-- H...]`; without sizes, writes
//! `bench/results/derive_scale.json`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use chainrule::core::derive::Derivation;
use chainrule::core::ir::Node;
use chainrule::core::rust::{self, Float, MAX_OPERATIONS};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let live = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                    - layout.size();
                PEAK.fetch_max(live, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Runs `f`, returning its value, its wall time and the heap it held at most above what was
/// live before it.
fn measure<T>(f: impl FnOnce() -> T) -> (T, f64, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let start = Instant::now();
    let value = f();
    let seconds = start.elapsed().as_secs_f64();
    (value, seconds, PEAK.load(Ordering::Relaxed) - base)
}

/// `deep2(h)` in the `.nn` language (the same text as `bench/nets.py` writes).
fn deep2(h: usize) -> String {
    format!(
        "# deep2({h}): {h} inputs -> {h} tanh -> {h} sigmoid -> 4 linear, {} weights\n\
         network deep2 {{\n    input  x[{h}]\n    target t[4]\n    z1[{h}] = W1 @ x\n    a1 = tanh(z1)\n    \
         z2[{h}] = W2 @ a1\n    a2 = sigmoid(z2)\n    y[4] = W3 @ a2\n    loss L = 0.5 * sum((t - y)^2)\n}}\n",
        2 * h * h + 4 * h
    )
}

/// Operations of the generated gradient function, counted as the emitter counts them: the
/// distinct graph nodes that the loss and every parameter's gradient need, through the
/// definitions of the forward values and deltas they mention.
fn gradient_operations(d: &Derivation) -> usize {
    use std::collections::{HashMap, HashSet};
    let definitions: HashMap<_, _> = d
        .forward
        .iter()
        .map(|f| (f.var, f.value))
        .chain(d.deltas.iter().copied())
        .collect();
    let mut needed = HashSet::new();
    let mut roots: Vec<_> = d.forward.last().map(|f| f.value).into_iter().collect();
    roots.extend(d.gradients.iter().map(|(_, g)| *g));
    // The emitter walks the definitions needed and the roots; a definition's own node counts.
    let mut stack = roots.clone();
    let mut seen = HashSet::new();
    while let Some(n) = stack.pop() {
        if !seen.insert(n) {
            continue;
        }
        match d.graph.node(n) {
            Node::Var(v) => {
                if let Some(&def) = definitions.get(v)
                    && needed.insert(*v)
                {
                    stack.push(def);
                }
            }
            other => other.for_each_child(|c| stack.push(c)),
        }
    }
    let mut stack: Vec<_> = needed.iter().map(|v| definitions[v]).chain(roots).collect();
    let mut counted = HashSet::new();
    while let Some(n) = stack.pop() {
        if counted.insert(n) {
            d.graph.node(n).for_each_child(|c| stack.push(c));
        }
    }
    counted.len()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; numbers are sizes; another word is a filter meant for
    // another bench (`cargo bench -- mlp16`), which skips this one.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if args
        .iter()
        .any(|a| a.parse::<usize>().is_err() && !"derive_scale".contains(a.as_str()))
    {
        return;
    }
    let mut sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    // Only the whole default run replaces bench/results/derive_scale.json.
    let record = sizes.is_empty();
    if sizes.is_empty() {
        // 96 to 93,310 weights; deep2(215) has 94,393 named scalars, under the checker's 100,000.
        sizes = vec![
            6, 10, 13, 16, 22, 32, 45, 50, 55, 64, 70, 78, 89, 100, 140, 200, 215,
        ];
    }
    let mut rows = Vec::new();
    println!(
        "{:>5} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10} {:>10}",
        "h",
        "weights",
        "nodes",
        "grad ops",
        "check s",
        "derive s",
        "latex s",
        "emit s",
        "format s",
        "total s",
        "peak MiB",
        "derive MiB",
        "code KiB"
    );
    for h in sizes {
        let text = deep2(h);
        let weights = 2 * h * h + 4 * h;
        // Small networks take microseconds: repeat them, keep the median.
        let reps = if weights < 5_000 {
            9
        } else if weights < 30_000 {
            3
        } else {
            1
        };

        let mut check_s = Vec::new();
        let mut derive_s = Vec::new();
        let mut emit_s = Vec::new();
        let mut format_s = Vec::new();
        let mut latex_s = Vec::new();
        let mut latex_bytes = 0;
        let mut peak_pipeline = 0usize;
        let mut peak_derive = 0usize;
        let mut nodes = 0;
        let mut ops = 0;
        let mut code_bytes = None;
        let mut refused = None;
        for _ in 0..reps {
            // The `chainrule rust` path, one stage at a time, peak over all three.
            let base = LIVE.load(Ordering::Relaxed);
            PEAK.store(base, Ordering::Relaxed);
            let t = Instant::now();
            let model = chainrule::core::check_source(&text).expect("deep2 checks");
            check_s.push(t.elapsed().as_secs_f64());
            let network = &model.networks[0];
            let t = Instant::now();
            let tokens = rust::expand_network(&model, network, Float::F64, None);
            let emit = t.elapsed().as_secs_f64();
            match tokens {
                Ok(tokens) => {
                    emit_s.push(emit);
                    let t = Instant::now();
                    let code = rust::format(tokens).expect("generated code formats");
                    format_s.push(t.elapsed().as_secs_f64());
                    code_bytes = Some(code.len());
                }
                Err(e) => refused = Some(e.to_string()),
            }
            peak_pipeline = peak_pipeline.max(PEAK.load(Ordering::Relaxed) - base);

            // Derivation alone, on the checked model.
            let (compiled, secs, peak) = measure(|| chainrule::core::compile_network(&model, 0));
            let derivation = &compiled.derivation;
            derive_s.push(secs);
            peak_derive = peak_derive.max(peak);
            // The delta-form LaTeX that `expand_network` renders into the module's `LATEX`.
            if refused.is_none() {
                let t = Instant::now();
                let latex = chainrule::core::latex::render(
                    network,
                    &compiled,
                    chainrule::core::latex::Form::Delta,
                    &[],
                    None,
                    false,
                );
                latex_s.push(t.elapsed().as_secs_f64());
                latex_bytes = latex.len();
            }
            nodes = derivation.node_count();
            ops = gradient_operations(derivation);
        }
        let (check, derive) = (median(check_s), median(derive_s));
        let emit = (!emit_s.is_empty()).then(|| median(emit_s));
        let format = (!format_s.is_empty()).then(|| median(format_s));
        let latex = (!latex_s.is_empty()).then(|| median(latex_s));
        let total = emit.map(|e| check + e + format.unwrap_or(0.0));
        let opt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.4}"));
        println!(
            "{h:>5} {weights:>7} {nodes:>9} {ops:>9} {check:>9.4} {derive:>9.4} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10.1} {:>10}",
            opt(latex),
            opt(emit),
            opt(format),
            opt(total),
            if refused.is_none() {
                format!("{:.1}", peak_pipeline as f64 / (1 << 20) as f64)
            } else {
                "-".to_string()
            },
            peak_derive as f64 / (1 << 20) as f64,
            code_bytes.map_or("-".to_string(), |b| (b / 1024).to_string())
        );
        if let Some(reason) = &refused {
            assert!(ops > MAX_OPERATIONS, "refused under the limit: {reason}");
        }
        let json_opt = |v: Option<f64>| v.map_or("null".to_string(), |v| format!("{v:?}"));
        rows.push(format!(
            "{{\"h\": {h}, \"weights\": {weights}, \"nodes\": {nodes}, \"gradient_operations\": {ops}, \
             \"check_s\": {check:?}, \"derive_s\": {derive:?}, \"latex_s\": {}, \"latex_bytes\": {latex_bytes}, \"expand_s\": {}, \"format_s\": {}, \
             \"total_s\": {}, \"peak_bytes\": {}, \"derive_peak_bytes\": {peak_derive}, \
             \"code_bytes\": {}, \"emitted\": {}}}",
            json_opt(latex),
            json_opt(emit),
            json_opt(format),
            json_opt(total),
            if refused.is_none() { peak_pipeline.to_string() } else { "null".to_string() },
            code_bytes.map_or("null".to_string(), |b| b.to_string()),
            refused.is_none()
        ));
    }
    if !record {
        return;
    }
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/results");
    std::fs::create_dir_all(&out).expect("bench/results can be created");
    std::fs::write(
        out.join("derive_scale.json"),
        format!(
            "{{\"max_operations\": {MAX_OPERATIONS}, \"rows\": [\n{}\n]}}\n",
            rows.join(",\n")
        ),
    )
    .expect("writes the results");
}
