//! Second-order training (issue 15): one training step of LANGUAGE.md's Hamiltonian network
//! (`benches/nets/hnn16.nn`, 16 tanh units), whose loss holds `grad(H[0], p)` and
//! `grad(H[0], q)`: the per-sample gradient, the per-sample SGD step, and the gradient of a
//! 256-sample batch (`gradient_batch`). Before timing, the generated gradient is checked
//! against central differences of the generated `loss` at random points (1e-6 relative).
//!
//! Then derivation time and graph size against depth: `check_source` + `derive` of the deep
//! narrow Hamiltonian network (`depth` tanh layers of 16) for depth 1 to 16, with the graph's
//! node count and the parameter count, written to `bench/results/second_order_graph.json`.
//!
//! `cargo bench --bench second_order`; step timings in `target/criterion/hnn16_*`.
//! `bench/second_order.py` times the same step in JAX and PyTorch.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chainrule::ndarray::Array2;
use criterion::{Criterion, criterion_group, criterion_main};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

chainrule::derive!(file = "benches/nets/hnn16.nn");

const LR: f64 = 1e-3;
const BATCH: usize = 256;

/// Seeded weights in [-0.5, 0.5) and one sample in [-1, 1).
fn point(rng: &mut StdRng) -> (hnn16::Params, [f64; 4]) {
    let mut flat = [0.0; hnn16::PARAMS];
    for w in &mut flat {
        *w = rng.random::<f64>() - 0.5;
    }
    let mut p = hnn16::Params::zeros();
    p.set_flat(&flat);
    let sample = std::array::from_fn(|_| 2.0 * rng.random::<f64>() - 1.0);
    (p, sample)
}

/// The generated gradient against central differences of the generated loss.
fn check(p: &hnn16::Params, s: &[f64; 4]) {
    let (_, g) = hnn16::gradient(p, &[s[0]], &[s[1]], &[s[2]], &[s[3]]);
    let flat = p.flat();
    for (i, &want) in g.flat().iter().enumerate() {
        let h = 1e-6 * flat[i].abs().max(1.0);
        let at = |d: f64| {
            let mut moved = flat;
            moved[i] += d;
            let mut q = hnn16::Params::zeros();
            q.set_flat(&moved);
            hnn16::loss(&q, &[s[0]], &[s[1]], &[s[2]], &[s[3]])
        };
        let fd = (at(h) - at(-h)) / (2.0 * h);
        assert!(
            (fd - want).abs() <= 1e-6 * want.abs().max(1.0),
            "hnn16: dL/d{} is {want} but central differences give {fd}",
            hnn16::Params::ELEMENTS[i]
        );
    }
}

fn steps(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(15);
    for _ in 0..8 {
        let (p, s) = point(&mut rng);
        check(&p, &s);
    }
    let (p, s) = point(&mut rng);
    let (q, pp, dq, dp) = ([s[0]], [s[1]], [s[2]], [s[3]]);
    c.bench_function("hnn16_gradient", |b| {
        b.iter(|| hnn16::gradient(black_box(&p), black_box(&q), black_box(&pp), &dq, &dp))
    });
    c.bench_function("hnn16_sgd_step", |b| {
        let mut w = p;
        b.iter(|| hnn16::sgd_step(black_box(&mut w), black_box(&q), &pp, &dq, &dp, LR))
    });
    let column =
        |rng: &mut StdRng| Array2::from_shape_fn((BATCH, 1), |_| 2.0 * rng.random::<f64>() - 1.0);
    let (bq, bp, bdq, bdp) = (
        column(&mut rng),
        column(&mut rng),
        column(&mut rng),
        column(&mut rng),
    );
    c.bench_function("hnn16_gradient_batch256", |b| {
        b.iter(|| {
            hnn16::gradient_batch(black_box(&p), bq.view(), bp.view(), bdq.view(), bdp.view())
                .expect("n x 1 columns")
        })
    });
}

/// The deep narrow Hamiltonian network: `depth` tanh layers of `width`.
fn deep_hamiltonian(width: usize, depth: usize) -> String {
    let mut text = String::from(
        "network hnn {\n    input q[1]\n    input p[1]\n    target dq[1]\n    target dp[1]\n",
    );
    text.push_str(&format!("    h0[{width}] = tanh(Wq @ q + Wp @ p + b0)\n"));
    for i in 1..depth {
        text.push_str(&format!(
            "    h{i}[{width}] = tanh(W{i} @ h{} + b{i})\n",
            i - 1
        ));
    }
    text.push_str(&format!("    H[1] = V @ h{}\n", depth - 1));
    text.push_str("    loss L = sum((grad(H[0], p) - dq)^2) + sum((grad(H[0], q) + dp)^2)\n}\n");
    text
}

/// Derivation time (best of 5) and graph size against depth, as JSON lines and a file.
fn graph_sizes(_: &mut Criterion) {
    let mut rows = Vec::new();
    println!("depth  params  nodes  nodes/param  derive (ms)");
    for depth in [1, 2, 4, 8, 16] {
        let text = deep_hamiltonian(16, depth);
        let mut best = f64::INFINITY;
        let mut nodes = 0;
        let mut params = 0;
        for _ in 0..5 {
            let start = Instant::now();
            let model = chainrule::core::check_source(&text).expect("the deep network checks");
            let network = &model.networks[0];
            let derivation = chainrule::core::derive::derive(network, &model.functions);
            best = best.min(start.elapsed().as_secs_f64());
            nodes = derivation.node_count();
            params = network.param_count();
        }
        println!(
            "{depth:>5}  {params:>6}  {nodes:>5}  {:>11.1}  {:>11.2}",
            nodes as f64 / params as f64,
            best * 1e3
        );
        rows.push(serde_json::json!({
            "depth": depth, "width": 16, "params": params, "nodes": nodes, "derive_seconds": best,
        }));
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/results");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(
            dir.join("second_order_graph.json"),
            serde_json::to_string_pretty(&rows).unwrap_or_default(),
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = steps, graph_sizes
}
criterion_main!(benches);
