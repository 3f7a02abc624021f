//! candle (`candle-core` on the CPU, its autograd `backward()`) on the benchmarks of
//! BENCHMARKS.md: the per-sample gradient and SGD step of seed 004, mlp16, mnist128 and
//! mnist256 (issue 12), the gradient of batches of 64 and 1,024 rows of mlp16, mnist128 and
//! mnist256, and one epoch of mini-batch SGD on the 60,000-sample data set (issue 13).
//! Networks, weights and data are those of `benches/baselines/point.rs`, shared through a
//! path module; before it is timed, every candle gradient is checked against the workspace's
//! `ndarray` baselines (per sample and batched) at the same point.
//!
//! Threads: candle's CPU matmul runs on `RAYON_NUM_THREADS` threads (`run-all` runs this
//! binary once with 1 and once with 2). Writes `bench/results/candle_{N}t.json`.

#[path = "../../../benches/baselines/mod.rs"]
mod baselines;
mod timing;

use std::time::Instant;

use baselines::batch::{self, Workspace};
use baselines::nd::{self, Act, Mlp};
use baselines::point::{self, DATA_SEED, PARAM_SEED};
use candle_core::{DType, Device, Result, Tensor, Var};
use ndarray::{Array1, Array2, s};
use serde_json::{Value, json};

/// Per-sample learning rate of the timed steps, batch one of the epoch.
const LR: f64 = 1e-4;
const EPOCH_LR: f64 = 0.1;
/// candle and ndarray add long sums in different orders: they agree within this fraction of
/// the largest element (`assert_close_scaled`).
const TOL: f64 = 1e-12;

struct Spec {
    name: &'static str,
    shapes: &'static [(usize, usize, bool)],
    acts: &'static [Act],
}

const SEED004: Spec = Spec {
    name: "seed004",
    shapes: &[(3, 2, false), (2, 3, false)],
    acts: &[Act::Sigmoid, Act::Linear],
};
const MLP16: Spec = Spec {
    name: "mlp16",
    shapes: &[(32, 16, true), (32, 32, true), (4, 32, true)],
    acts: &[Act::Tanh, Act::Sigmoid, Act::Linear],
};
const MNIST128: Spec = Spec {
    name: "mnist128",
    shapes: &[(128, 784, true), (10, 128, true)],
    acts: &[Act::Relu, Act::Linear],
};
const MNIST256: Spec = Spec {
    name: "mnist256",
    shapes: &[(256, 784, true), (256, 256, true), (10, 256, true)],
    acts: &[Act::Relu, Act::Relu, Act::Linear],
};

impl Spec {
    fn dims(&self) -> (usize, usize) {
        (self.shapes[0].1, self.shapes[self.shapes.len() - 1].0)
    }

    /// Flat weights: seed 004's declared values, else `point::params`.
    fn weights(&self) -> Vec<f64> {
        if self.name == "seed004" {
            return vec![
                0.97007005, 0.61840113, 0.92420913, 0.97500156, 0.72183716, 0.53289514, 0.85264027,
                0.97336448, 0.51301245, 0.2620828, 0.97489056, 0.90059674,
            ];
        }
        let shapes: Vec<_> = self.shapes.iter().map(|&(r, c, _)| (r, c)).collect();
        point::params(&shapes, PARAM_SEED)
    }

    fn data(&self, n: usize) -> (Array2<f64>, Array2<f64>) {
        let (i, o) = self.dims();
        if self.name == "seed004" {
            let x = Array2::from_shape_fn((n, i), |(_, j)| [1.0, 3.0][j]);
            let t = Array2::from_shape_fn((n, o), |(_, j)| [4.0, 1.0][j]);
            return (x, t);
        }
        let (x, t) = point::data(DATA_SEED, n, i, o);
        (
            Array2::from_shape_vec((n, i), x).expect("shape"),
            Array2::from_shape_vec((n, o), t).expect("shape"),
        )
    }
}

/// The network as candle variables.
struct Net {
    layers: Vec<(Var, Option<Var>, Act)>,
}

impl Net {
    fn new(spec: &Spec, flat: &[f64], dev: &Device) -> Result<Net> {
        let mut at = 0;
        let mut layers = Vec::new();
        for (&(r, c, bias), &act) in spec.shapes.iter().zip(spec.acts) {
            let w = Var::from_slice(&flat[at..at + r * c], (r, c), dev)?;
            at += r * c;
            let b = if bias {
                let b = Var::from_slice(&flat[at..at + r], r, dev)?;
                at += r;
                Some(b)
            } else {
                None
            };
            layers.push((w, b, act));
        }
        Ok(Net { layers })
    }

    /// Batch mean of `0.5 |t - y|^2`, one sample per row.
    fn loss(&self, x: &Tensor, t: &Tensor) -> Result<Tensor> {
        let mut a = x.clone();
        for (w, b, act) in &self.layers {
            let mut z = a.matmul(&w.as_tensor().t()?)?;
            if let Some(b) = b {
                z = z.broadcast_add(b.as_tensor())?;
            }
            a = match act {
                Act::Sigmoid => (z.neg()?.exp()? + 1.0)?.recip()?,
                Act::Tanh => z.tanh()?,
                Act::Relu => z.relu()?,
                Act::Linear => z,
            };
        }
        let rows = x.dim(0)? as f64;
        (t - a)?.sqr()?.sum_all()?.affine(0.5 / rows, 0.0)
    }

    fn vars(&self) -> impl Iterator<Item = &Var> {
        self.layers
            .iter()
            .flat_map(|(w, b, _)| std::iter::once(w).chain(b.as_ref()))
    }

    /// Loss and gradient, the gradient flat in the generated code's order.
    fn gradient(&self, x: &Tensor, t: &Tensor) -> Result<(f64, Vec<f64>)> {
        let loss = self.loss(x, t)?;
        let grads = loss.backward()?;
        let mut flat = Vec::new();
        for v in self.vars() {
            let g = grads
                .get(v.as_tensor())
                .expect("every weight has a gradient");
            flat.extend(g.flatten_all()?.to_vec1::<f64>()?);
        }
        Ok((loss.to_scalar::<f64>()?, flat))
    }

    /// Loss and gradient as a user keeps them (candle's `GradStore`): what is timed.
    fn backward(&self, x: &Tensor, t: &Tensor) -> Result<(f64, candle_core::backprop::GradStore)> {
        let loss = self.loss(x, t)?;
        let grads = loss.backward()?;
        Ok((loss.to_scalar::<f64>()?, grads))
    }

    /// One SGD step, as `candle_nn::SGD` does it: `w <- w - lr g` for every variable.
    fn sgd_step(&self, x: &Tensor, t: &Tensor, lr: f64) -> Result<f64> {
        let loss = self.loss(x, t)?;
        let grads = loss.backward()?;
        for v in self.vars() {
            if let Some(g) = grads.get(v.as_tensor()) {
                v.set(&v.as_tensor().sub(&g.affine(lr, 0.0)?)?)?;
            }
        }
        loss.to_scalar::<f64>()
    }
}

fn tensor(a: &Array2<f64>, dev: &Device) -> Result<Tensor> {
    Tensor::from_slice(a.as_slice().expect("standard layout"), a.dim(), dev)
}

fn check(what: &str, want_loss: f64, want: &[f64], got_loss: f64, got: &[f64]) {
    let mut a = vec![want_loss];
    a.extend_from_slice(want);
    let mut b = vec![got_loss];
    b.extend_from_slice(got);
    baselines::assert_close_scaled(what, &a, &b, TOL);
}

/// Seconds per call, the median of 7 loops of about 0.3 s each (as `bench/python_bench.py`).
fn timed(f: impl FnMut() -> Result<()>) -> Result<Value> {
    let (times, n) = timing::per_call(f)?;
    Ok(json!({"median_s": times[3], "best_s": times[0], "calls": n, "reps": 7}))
}

fn per_sample(spec: &Spec, dev: &Device) -> Result<Value> {
    let w = spec.weights();
    let net = Net::new(spec, &w, dev)?;
    let (x, t) = spec.data(1);
    let (xt, tt) = (tensor(&x, dev)?, tensor(&t, dev)?);
    let np = Mlp::from_flat(spec.shapes, &w);
    let (nl, ng) = nd::gradient(
        &np,
        spec.acts,
        &x.row(0).to_owned(),
        &Array1::from(t.row(0).to_vec()),
    );
    let (cl, cg) = net.gradient(&xt, &tt)?;
    check(
        &format!("candle {} gradient", spec.name),
        nl,
        &ng.flat(),
        cl,
        &cg,
    );
    let gradient = timed(|| net.backward(&xt, &tt).map(drop))?;
    let sgd_step = timed(|| net.sgd_step(&xt, &tt, LR).map(drop))?;
    eprintln!(
        "candle {}: gradient {gradient}, sgd_step {sgd_step}",
        spec.name
    );
    Ok(json!({"gradient": gradient, "sgd_step": sgd_step}))
}

fn batches(spec: &Spec, dev: &Device) -> Result<Value> {
    let w = spec.weights();
    let net = Net::new(spec, &w, dev)?;
    let np = Mlp::from_flat(spec.shapes, &w);
    let (x, t) = spec.data(1024);
    let mut out = serde_json::Map::new();
    for rows in [64, 1024] {
        let (xs, ts) = (
            x.slice(s![..rows, ..]).to_owned(),
            t.slice(s![..rows, ..]).to_owned(),
        );
        let (xt, tt) = (tensor(&xs, dev)?, tensor(&ts, dev)?);
        let mut g = batch::zeros_like(&np);
        let mut ws = Workspace::new(&np, rows);
        let nl = batch::gradient_batch_into(&np, spec.acts, xs.view(), ts.view(), &mut ws, &mut g);
        let (cl, cg) = net.gradient(&xt, &tt)?;
        check(
            &format!("candle {} batch of {rows}", spec.name),
            nl,
            &g.flat(),
            cl,
            &cg,
        );
        let r = timed(|| net.backward(&xt, &tt).map(drop))?;
        eprintln!("candle {} batch {rows}: {r}", spec.name);
        out.insert(rows.to_string(), r);
    }
    Ok(Value::Object(out))
}

/// `benches/epoch.rs`'s epoch, in candle.
fn epoch(dev: &Device) -> Result<Value> {
    const RUNS: usize = 1;
    let spec = &MNIST128;
    let (samples, rows) = (60_000, 64);
    let (x, t) = spec.data(samples);
    let (xt, tt) = (tensor(&x, dev)?, tensor(&t, dev)?);
    let w = spec.weights();
    let mut times = Vec::new();
    let mut losses = (0.0, 0.0);
    for _ in 0..RUNS {
        let net = Net::new(spec, &w, dev)?;
        let start = Instant::now();
        let (mut sum, mut last, mut n) = (0.0, 0.0, 0);
        for lo in (0..samples).step_by(rows) {
            let len = rows.min(samples - lo);
            last = net.sgd_step(&xt.narrow(0, lo, len)?, &tt.narrow(0, lo, len)?, EPOCH_LR)?;
            sum += last;
            n += 1;
        }
        times.push(start.elapsed().as_secs_f64());
        losses = (sum / n as f64, last);
    }
    times.sort_by(f64::total_cmp);
    eprintln!(
        "candle epoch: {:.3} s, mean batch loss {:.12}",
        times[RUNS / 2],
        losses.0
    );
    Ok(
        json!({"median_s": times[RUNS / 2], "best_s": times[0], "runs": RUNS,
              "mean_batch_loss": losses.0, "last_batch_loss": losses.1}),
    )
}

fn main() -> Result<()> {
    let dev = Device::Cpu;
    let _ = DType::F64;
    let threads = candle_core::utils::get_num_threads();
    let skip_epoch = std::env::args().any(|a| a == "--skip-epoch");
    // Per-sample calls run on one thread whatever the pool: `--batch-only` for the 2-thread run.
    let batch_only = std::env::args().any(|a| a == "--batch-only");
    let mut doc = serde_json::Map::new();
    doc.insert("threads".into(), threads.into());
    doc.insert("version".into(), "candle-core 0.11".into());
    if !batch_only {
        let mut ps = serde_json::Map::new();
        for spec in [&SEED004, &MLP16, &MNIST128, &MNIST256] {
            ps.insert(spec.name.into(), per_sample(spec, &dev)?);
        }
        doc.insert("per_sample".into(), Value::Object(ps));
    }
    let mut bs = serde_json::Map::new();
    for spec in [&MLP16, &MNIST128, &MNIST256] {
        bs.insert(spec.name.into(), batches(spec, &dev)?);
    }
    doc.insert("batch".into(), Value::Object(bs));
    if !skip_epoch {
        doc.insert("epoch".into(), epoch(&dev)?);
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    doc.insert(
        "loadavg".into(),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
            .into(),
    );
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../results");
    std::fs::create_dir_all(dir).expect("bench/results");
    let path = format!("{dir}/candle_{threads}t.json");
    std::fs::write(&path, format!("{:#}\n", Value::Object(doc))).expect("write");
    eprintln!("wrote {path}");
    Ok(())
}
