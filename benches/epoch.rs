//! End to end (issue 13): one epoch of mini-batch SGD on the generated 784-input data set of
//! 60,000 samples (`baselines/point.rs::data`), 784-128-10 (`benches/nets/mnist128.nn`),
//! batches of 64 in order (the last one 32 rows), the batch mean of the loss, learning rate
//! 0.1, from the weights of `point::params`. The hand-written batched `ndarray` backprop on one
//! thread and on two; `bench/python_bench.py --epoch` and `bench/candle` run the same algorithm
//! on the same numbers, and BENCHMARKS.md compares the losses they end at.
//!
//! `cargo bench --bench epoch`; writes `bench/results/epoch_rust.json`.

#[path = "baselines/mod.rs"]
mod baselines;

use std::time::Instant;

use baselines::batch::{self, Parallel, Workspace};
use baselines::nd::{Act, Mlp};
use baselines::point::{self, DATA_SEED, PARAM_SEED};
use ndarray::{Array2, s};

const SAMPLES: usize = 60_000;
const BATCH: usize = 64;
const LR: f64 = 0.1;
const RUNS: usize = 3;
const SHAPES: [(usize, usize); 2] = [(128, 784), (10, 128)];
const ACTS: [Act; 2] = [Act::Relu, Act::Linear];

/// One epoch; returns the mean of the batches' losses and the last batch's loss.
fn epoch(p: &mut Mlp, x: &Array2<f64>, t: &Array2<f64>, threads: usize) -> (f64, f64) {
    let mut g = batch::zeros_like(p);
    let mut ws = Workspace::new(p, BATCH);
    let mut par = (threads > 1).then(|| Parallel::new(p, threads));
    let (mut sum, mut last, mut n) = (0.0, 0.0, 0);
    for lo in (0..SAMPLES).step_by(BATCH) {
        let hi = (lo + BATCH).min(SAMPLES);
        let (xs, ts) = (x.slice(s![lo..hi, ..]), t.slice(s![lo..hi, ..]));
        last = match &mut par {
            Some(par) => par.gradient_batch_into(p, &ACTS, xs, ts, &mut g),
            None => batch::gradient_batch_into(p, &ACTS, xs, ts, &mut ws, &mut g),
        };
        batch::apply(p, &g, LR);
        sum += last;
        n += 1;
    }
    (sum / n as f64, last)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` and test harness probes
    }
    let (x, t) = point::data(DATA_SEED, SAMPLES, 784, 10);
    let x = Array2::from_shape_vec((SAMPLES, 784), x).expect("shape"); // ok: drawn so
    let t = Array2::from_shape_vec((SAMPLES, 10), t).expect("shape"); // ok: drawn so
    let shapes: Vec<_> = SHAPES.iter().map(|&(r, c)| (r, c, true)).collect();
    let p0 = Mlp::from_flat(&shapes, &point::params(&SHAPES, PARAM_SEED));
    let mut out = serde_json::Map::new();
    for threads in [1, 2] {
        let mut times = Vec::new();
        let mut losses = (0.0, 0.0);
        for _ in 0..RUNS {
            let mut p = p0.clone();
            let start = Instant::now();
            losses = epoch(&mut p, &x, &t, threads);
            times.push(start.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        eprintln!(
            "ndarray, {threads} thread(s): {:.3} s, mean batch loss {:.12}, last {:.12}",
            times[RUNS / 2],
            losses.0,
            losses.1
        );
        out.insert(
            format!("ndarray_{threads}t"),
            serde_json::json!({
                "median_s": times[RUNS / 2], "best_s": times[0], "runs": RUNS,
                "mean_batch_loss": losses.0, "last_batch_loss": losses.1,
                "loadavg": load.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
            }),
        );
    }
    let doc = serde_json::json!({
        "samples": SAMPLES, "batch": BATCH, "lr": LR, "network": "mnist128", "results": out,
    });
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/results");
    std::fs::create_dir_all(dir).expect("bench/results");
    std::fs::write(format!("{dir}/epoch_rust.json"), format!("{doc:#}\n")).expect("write");
}
