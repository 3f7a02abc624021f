//! The generated code's side of the large-network and batch benchmarks (issues 12, 13 and 21:
//! the batch gradient in f64 and f32), in
//! the groups that `benches/large.rs` and `benches/batch.rs` fill with the baselines, plus one
//! epoch of `benches/epoch.rs` with the generated batch gradient.
//!
//! `./bench/run-all` runs it once per thread count (`RAYON_NUM_THREADS=1` and `2`, with the
//! `parallel` feature). The batch is timed as a user trains: `gradient_batch_into` with a
//! reused `BatchWorkspace` and gradient, the epoch with `sgd_step_batch_into`.
//!
//! Before timing: the generated `gradient_into` and `sgd_step` agree with the hand-written
//! fixed-size baseline at 5 samples, and `gradient_batch` with the batched `ndarray` baseline
//! at 1, 7, 64 and 1,024 rows (within 1e-12 of the largest element).

#[path = "baselines/mod.rs"]
mod baselines;

use std::hint::black_box;
use std::time::{Duration, Instant};

use baselines::batch::{self, Workspace};
use baselines::large::{self, Mnist128, Mnist256, Zeroable};
use baselines::nd::{Act, Mlp};
use baselines::point::{self, DATA_SEED, PARAM_SEED};
use baselines::{assert_close_scaled, assert_step_close};
use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::{Array2, s};

chainrule::derive!(file = "benches/nets/mlp16.nn");
chainrule::derive!(file = "benches/nets/mnist128.nn");
chainrule::derive!(file = "benches/nets/mnist256.nn");

/// The same networks in single precision (issue 21: f32 rows beside f64).
mod single {
    chainrule::derive!(file = "benches/nets/mlp16.nn", float = f32);
    chainrule::derive!(file = "benches/nets/mnist128.nn", float = f32);
    chainrule::derive!(file = "benches/nets/mnist256.nn", float = f32);
}

const EXACT: f64 = 1e-12;
const LR: f64 = 1e-4;

fn with_loss(loss: f64, g: impl IntoIterator<Item = f64>) -> Vec<f64> {
    std::iter::once(loss).chain(g).collect()
}

fn samples(n: usize) -> Vec<([f64; 784], [f64; 10])> {
    let (x, t) = point::data(DATA_SEED, n, 784, 10);
    (0..n)
        .map(|i| {
            let xs: [f64; 784] = x[i * 784..(i + 1) * 784].try_into().expect("784");
            let ts: [f64; 10] = t[i * 10..(i + 1) * 10].try_into().expect("10");
            (xs, ts)
        })
        .collect()
}

fn threads() -> usize {
    rayon::current_num_threads()
}

macro_rules! per_sample {
    ($fn_name:ident, $name:literal, $m:ident, $hand:ty, $hgrad:path, $hstep:path) => {
        fn $fn_name(c: &mut Criterion) {
            if threads() != 1 {
                return; // one sample runs on one thread: measured in the 1-thread run only
            }
            let w = point::params(<$hand>::SHAPES, PARAM_SEED);
            let mut p = $m::Params::boxed_zeros();
            p.set_flat(<&[f64; $m::PARAMS]>::try_from(&w[..]).expect("size"));
            let hp = <$hand>::from_flat(&w);
            let mut g = $m::Params::boxed_zeros();
            let mut hg = <$hand>::boxed_zeros();
            let data = samples(5);
            for (x, t) in &data {
                let l = $m::gradient_into(&p, x, t, &mut g);
                let hl = $hgrad(&hp, x, t, &mut hg);
                assert_close_scaled(
                    concat!($name, " generated gradient_into"),
                    &with_loss(hl, hg.flat()),
                    &with_loss(l, g.flat().iter().copied()),
                    EXACT,
                );
                let mut q = p.clone();
                $m::sgd_step(&mut q, x, t, 0.1);
                let mut hq = <$hand>::from_flat(&w);
                $hstep(&mut hq, x, t, 0.1);
                assert_step_close(
                    concat!($name, " generated sgd_step"),
                    &w,
                    &hq.flat(),
                    &q.flat(),
                    EXACT,
                );
            }
            eprintln!(concat!(
                $name,
                ": the generated gradient and step match the hand-written ones"
            ));
            let (x, t) = data[0];
            let mut grp = c.benchmark_group(concat!($name, "_gradient"));
            grp.bench_function("generated", |b| {
                b.iter(|| $m::gradient_into(black_box(&p), black_box(&x), black_box(&t), &mut g))
            });
            grp.finish();
            let mut grp = c.benchmark_group(concat!($name, "_sgd_step"));
            grp.bench_function("generated", |b| {
                b.iter(|| $m::sgd_step(black_box(&mut p), black_box(&x), black_box(&t), LR))
            });
            grp.finish();
        }
    };
}

per_sample!(
    mnist128_per_sample,
    "mnist128",
    mnist128,
    Mnist128,
    large::mnist128_gradient_into,
    large::mnist128_sgd_step
);
per_sample!(
    mnist256_per_sample,
    "mnist256",
    mnist256,
    Mnist256,
    large::mnist256_gradient_into,
    large::mnist256_sgd_step
);

macro_rules! batches {
    ($fn_name:ident, $name:literal, $m:ident, $shapes:expr, $acts:expr) => {
        fn $fn_name(c: &mut Criterion) {
            let shapes: &[(usize, usize)] = &$shapes;
            let acts: &[Act] = &$acts;
            let w = point::params(shapes, PARAM_SEED);
            let mut p = $m::Params::boxed_zeros();
            p.set_flat(<&[f64; $m::PARAMS]>::try_from(&w[..]).expect("size"));
            let np = Mlp::from_flat(
                &shapes
                    .iter()
                    .map(|&(r, c)| (r, c, true))
                    .collect::<Vec<_>>(),
                &w,
            );
            let (ins, outs) = (shapes[0].1, shapes[shapes.len() - 1].0);
            let (x, t) = point::data(DATA_SEED, 1024, ins, outs);
            let x = Array2::from_shape_vec((1024, ins), x).expect("shape");
            let t = Array2::from_shape_vec((1024, outs), t).expect("shape");
            let mut ng = batch::zeros_like(&np);
            let mut ws = Workspace::new(&np, 1);
            for rows in [1, 7, 64, 1024] {
                let (xs, ts) = (x.slice(s![..rows, ..]), t.slice(s![..rows, ..]));
                let nl = batch::gradient_batch_into(&np, acts, xs, ts, &mut ws, &mut ng);
                let (l, g) = $m::gradient_batch(&p, xs, ts).expect("shapes");
                assert_close_scaled(
                    &format!("{} generated gradient_batch, {rows} rows", $name),
                    &with_loss(nl, ng.flat()),
                    &with_loss(l, g.flat().iter().copied()),
                    EXACT,
                );
            }
            let label = format!("generated_{}t", threads());
            for rows in [64, 1024] {
                let (xs, ts) = (x.slice(s![..rows, ..]), t.slice(s![..rows, ..]));
                let mut grp = c.benchmark_group(format!("batch_{}_{rows}", $name));
                let mut gws = $m::BatchWorkspace::new();
                let mut g = $m::Params::boxed_zeros();
                grp.bench_function(&label, |b| {
                    b.iter(|| $m::gradient_batch_into(black_box(&p), xs, ts, &mut gws, &mut g))
                });
                grp.finish();
            }
        }
    };
}

/// The f32 batch gradient, checked first against the f64 one (within 1e-4 of each
/// gradient's largest element), then timed at 64 and 1,024 rows.
macro_rules! batches_f32 {
    ($fn_name:ident, $name:literal, $m:ident, $shapes:expr) => {
        fn $fn_name(c: &mut Criterion) {
            let shapes: &[(usize, usize)] = &$shapes;
            let w = point::params(shapes, PARAM_SEED);
            let mut p = $m::Params::boxed_zeros();
            p.set_flat(<&[f64; $m::PARAMS]>::try_from(&w[..]).expect("size"));
            let w32: Vec<f32> = w.iter().map(|&v| v as f32).collect();
            let mut p32 = single::$m::Params::boxed_zeros();
            p32.set_flat(<&[f32; $m::PARAMS]>::try_from(&w32[..]).expect("size"));
            let (ins, outs) = (shapes[0].1, shapes[shapes.len() - 1].0);
            let (x, t) = point::data(DATA_SEED, 1024, ins, outs);
            let x = Array2::from_shape_vec((1024, ins), x).expect("shape");
            let t = Array2::from_shape_vec((1024, outs), t).expect("shape");
            let (x32, t32) = (x.mapv(|v| v as f32), t.mapv(|v| v as f32));
            let label = format!("generated_f32_{}t", threads());
            for rows in [64, 1024] {
                let (xs, ts) = (x.slice(s![..rows, ..]), t.slice(s![..rows, ..]));
                let (xs32, ts32) = (x32.slice(s![..rows, ..]), t32.slice(s![..rows, ..]));
                // On the heap: two gradients of 784-256-256-10 and their flat copies pass
                // the main thread's stack.
                let (mut g, mut g32) =
                    ($m::Params::boxed_zeros(), single::$m::Params::boxed_zeros());
                let mut ws = $m::BatchWorkspace::new();
                let mut ws32 = single::$m::BatchWorkspace::new();
                let l = $m::gradient_batch_into(&p, xs, ts, &mut ws, &mut g).expect("shapes");
                let l32 = single::$m::gradient_batch_into(&p32, xs32, ts32, &mut ws32, &mut g32)
                    .expect("shapes");
                assert_close_scaled(
                    &format!("{} f32 gradient_batch, {rows} rows", $name),
                    &with_loss(l, g.to_vec()),
                    &with_loss(f64::from(l32), g32.to_vec().into_iter().map(f64::from)),
                    1e-4,
                );
                let mut grp = c.benchmark_group(format!("batch_{}_{rows}_f32", $name));
                let mut gws = single::$m::BatchWorkspace::new();
                let mut g = single::$m::Params::boxed_zeros();
                grp.bench_function(&label, |b| {
                    b.iter(|| {
                        single::$m::gradient_batch_into(
                            black_box(&p32),
                            xs32,
                            ts32,
                            &mut gws,
                            &mut g,
                        )
                    })
                });
                grp.finish();
            }
        }
    };
}

batches_f32!(
    mlp16_batch_f32,
    "mlp16",
    mlp16,
    [(32, 16), (32, 32), (4, 32)]
);
batches_f32!(
    mnist128_batch_f32,
    "mnist128",
    mnist128,
    [(128, 784), (10, 128)]
);
batches_f32!(
    mnist256_batch_f32,
    "mnist256",
    mnist256,
    [(256, 784), (256, 256), (10, 256)]
);

batches!(
    mlp16_batch,
    "mlp16",
    mlp16,
    [(32, 16), (32, 32), (4, 32)],
    [Act::Tanh, Act::Sigmoid, Act::Linear]
);
batches!(
    mnist128_batch,
    "mnist128",
    mnist128,
    [(128, 784), (10, 128)],
    [Act::Relu, Act::Linear]
);
batches!(
    mnist256_batch,
    "mnist256",
    mnist256,
    [(256, 784), (256, 256), (10, 256)],
    [Act::Relu, Act::Relu, Act::Linear]
);

/// `benches/epoch.rs`'s epoch with the generated `sgd_step_batch_into` (`p -= lr g`, in place).
fn epoch(_: &mut Criterion) {
    const SAMPLES: usize = 60_000;
    const BATCH: usize = 64;
    const LR: f64 = 0.1;
    let shapes = [(128, 784), (10, 128)];
    let w = point::params(&shapes, PARAM_SEED);
    let (x, t) = point::data(DATA_SEED, SAMPLES, 784, 10);
    let x = Array2::from_shape_vec((SAMPLES, 784), x).expect("shape");
    let t = Array2::from_shape_vec((SAMPLES, 10), t).expect("shape");
    let mut times = Vec::new();
    let mut losses = (0.0, 0.0);
    for _ in 0..3 {
        let mut p = mnist128::Params::boxed_zeros();
        p.set_flat(<&[f64; mnist128::PARAMS]>::try_from(&w[..]).expect("size"));
        let mut ws = mnist128::BatchWorkspace::new();
        let start = Instant::now();
        let (mut sum, mut last, mut n) = (0.0, 0.0, 0);
        for lo in (0..SAMPLES).step_by(BATCH) {
            let hi = (lo + BATCH).min(SAMPLES);
            let l = mnist128::sgd_step_batch_into(
                &mut p,
                x.slice(s![lo..hi, ..]),
                t.slice(s![lo..hi, ..]),
                LR,
                &mut ws,
            )
            .expect("shapes");
            last = l;
            sum += l;
            n += 1;
        }
        times.push(start.elapsed().as_secs_f64());
        losses = (sum / n as f64, last);
    }
    times.sort_by(f64::total_cmp);
    let doc = serde_json::json!({
        "threads": threads(), "median_s": times[1], "best_s": times[0], "runs": 3,
        "mean_batch_loss": losses.0, "last_batch_loss": losses.1,
    });
    eprintln!("generated epoch: {doc}");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/results");
    std::fs::create_dir_all(dir).expect("bench/results");
    std::fs::write(
        format!("{dir}/epoch_generated_{}t.json", threads()),
        format!("{doc:#}\n"),
    )
    .expect("write");
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(15)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args()
}

criterion_group! {
    name = benches;
    config = config();
    targets = mnist128_per_sample, mnist256_per_sample, mlp16_batch, mnist128_batch, mnist256_batch, mlp16_batch_f32, mnist128_batch_f32, mnist256_batch_f32, epoch
}
criterion_main!(benches);
