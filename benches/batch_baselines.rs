//! The gradient of one mini-batch (issue 13), batches of 64 and 1,024 samples, for
//! `benches/nets/mlp16.nn`, `mnist128.nn` and `mnist256.nn`: the hand-written batched `ndarray`
//! backprop (`baselines/batch.rs`, GEMMs) on one thread and split over two, and for mlp16 the
//! generated `gradient_batch` as it is today (the per-sample gradient once per row). The
//! generated side for the MNIST-sized networks and `gradient_batch_into` is
//! `benches/generated_large.rs.in`.
//!
//! Before timing: at every size, the batched gradient equals the mean of the per-sample
//! `ndarray` gradients (1, 2 and 7 rows, 7 not a multiple of the split; within 1e-12 of the
//! largest element, as the sums run in another order),
//! the two-thread result equals the one-thread one (the same), and for mlp16 the generated gradient_batch
//! equals the batched one, all within 1e-12 relative.
//!
//! `cargo bench --bench batch`; results in `target/criterion/batch_{net}_{rows}/{ndarray_1t,ndarray_2t,generated}/`.

#[path = "baselines/mod.rs"]
mod baselines;

use std::hint::black_box;
use std::time::Duration;

use baselines::batch::{self, Parallel, Workspace};
use baselines::nd::{self, Act, Mlp};
use baselines::point::{self, DATA_SEED, PARAM_SEED};
use baselines::{assert_close, assert_close_scaled};
use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::{Array1, Array2, ArrayView2, s};

chainrule::derive!(file = "benches/nets/mlp16.nn");

const EXACT: f64 = 1e-12;
const SIZES: [usize; 2] = [64, 1024];

struct Net {
    name: &'static str,
    shapes: &'static [(usize, usize)],
    acts: &'static [Act],
}

const NETS: [Net; 3] = [
    Net {
        name: "mlp16",
        shapes: &[(32, 16), (32, 32), (4, 32)],
        acts: &[Act::Tanh, Act::Sigmoid, Act::Linear],
    },
    Net {
        name: "mnist128",
        shapes: &[(128, 784), (10, 128)],
        acts: &[Act::Relu, Act::Linear],
    },
    Net {
        name: "mnist256",
        shapes: &[(256, 784), (256, 256), (10, 256)],
        acts: &[Act::Relu, Act::Relu, Act::Linear],
    },
];

fn with_loss(loss: f64, g: &Mlp) -> Vec<f64> {
    std::iter::once(loss).chain(g.flat()).collect()
}

fn model(net: &Net) -> (Mlp, Array2<f64>, Array2<f64>) {
    let shapes: Vec<_> = net.shapes.iter().map(|&(r, c)| (r, c, true)).collect();
    let p = Mlp::from_flat(&shapes, &point::params(net.shapes, PARAM_SEED));
    let (ins, outs) = (net.shapes[0].1, net.shapes[net.shapes.len() - 1].0);
    let n = SIZES[SIZES.len() - 1];
    let (x, t) = point::data(DATA_SEED, n, ins, outs);
    let x = Array2::from_shape_vec((n, ins), x).expect("data shape"); // ok: drawn so
    let t = Array2::from_shape_vec((n, outs), t).expect("data shape"); // ok: drawn so
    (p, x, t)
}

/// The batch mean of the per-sample ndarray gradients: the reference the batched code must meet.
fn per_sample_mean(p: &Mlp, acts: &[Act], x: ArrayView2<f64>, t: ArrayView2<f64>) -> Vec<f64> {
    let mut sum: Option<Vec<f64>> = None;
    for (xr, tr) in x.rows().into_iter().zip(t.rows()) {
        let (l, g) = nd::gradient(p, acts, &xr.to_owned(), &Array1::from(tr.to_vec()));
        let v = with_loss(l, &g);
        sum = Some(match sum {
            None => v,
            Some(s) => s.iter().zip(&v).map(|(a, b)| a + b).collect(),
        });
    }
    let n = x.nrows() as f64;
    sum.expect("rows").iter().map(|v| v / n).collect() // ok: at least one row
}

fn check(net: &Net, p: &Mlp, x: ArrayView2<f64>, t: ArrayView2<f64>) {
    let mut g = batch::zeros_like(p);
    let mut ws = Workspace::new(p, 1);
    for rows in [1, 2, 7] {
        let (xs, ts) = (x.slice(s![..rows, ..]), t.slice(s![..rows, ..]));
        let l = batch::gradient_batch_into(p, net.acts, xs, ts, &mut ws, &mut g);
        let want = per_sample_mean(p, net.acts, xs, ts);
        assert_close_scaled(
            &format!("{} batched ndarray, {rows} rows", net.name),
            &want,
            &with_loss(l, &g),
            EXACT,
        );
    }
    for rows in SIZES.iter().copied().chain([7]) {
        let (xs, ts) = (x.slice(s![..rows, ..]), t.slice(s![..rows, ..]));
        let l = batch::gradient_batch_into(p, net.acts, xs, ts, &mut ws, &mut g);
        let mut par = Parallel::new(p, 2);
        let mut g2 = batch::zeros_like(p);
        let l2 = par.gradient_batch_into(p, net.acts, xs, ts, &mut g2);
        assert_close_scaled(
            &format!("{}: two threads against one, {rows} rows", net.name),
            &with_loss(l, &g),
            &with_loss(l2, &g2),
            EXACT,
        );
    }
}

fn check_generated(p: &Mlp, x: ArrayView2<f64>, t: ArrayView2<f64>) -> mlp16::Params {
    let mut gp = mlp16::Params::zeros();
    gp.set_flat(&p.flat().try_into().expect("mlp16 size")); // ok: same network
    let mut g = batch::zeros_like(p);
    let mut ws = Workspace::new(p, 1);
    for rows in [1, 7, 64] {
        let (xs, ts) = (x.slice(s![..rows, ..]), t.slice(s![..rows, ..]));
        let l = batch::gradient_batch_into(p, NETS[0].acts, xs, ts, &mut ws, &mut g);
        let (gl, gg) = mlp16::gradient_batch(&gp, xs, ts).expect("shapes"); // ok: mlp16's
        let got: Vec<f64> = std::iter::once(gl).chain(gg.flat()).collect();
        assert_close(
            &format!("mlp16 batched ndarray vs generated, {rows} rows"),
            &got,
            &with_loss(l, &g),
            EXACT,
        );
    }
    gp
}

fn batches(c: &mut Criterion) {
    for net in &NETS {
        let (p, x, t) = model(net);
        check(net, &p, x.view(), t.view());
        let gp = (net.name == "mlp16").then(|| check_generated(&p, x.view(), t.view()));
        eprintln!(
            "{}: batched, per-sample and two-thread gradients agree",
            net.name
        );
        for rows in SIZES {
            let (xs, ts) = (x.slice(s![..rows, ..]), t.slice(s![..rows, ..]));
            let mut grp = c.benchmark_group(format!("batch_{}_{rows}", net.name));
            let mut g = batch::zeros_like(&p);
            let mut ws = Workspace::new(&p, rows);
            grp.bench_function("ndarray_1t", |b| {
                b.iter(|| {
                    batch::gradient_batch_into(black_box(&p), net.acts, xs, ts, &mut ws, &mut g)
                })
            });
            let mut par = Parallel::new(&p, 2);
            grp.bench_function("ndarray_2t", |b| {
                b.iter(|| par.gradient_batch_into(black_box(&p), net.acts, xs, ts, &mut g))
            });
            if let Some(gp) = &gp {
                grp.bench_function("generated", |b| {
                    b.iter(|| mlp16::gradient_batch(black_box(gp), xs, ts))
                });
            }
            grp.finish();
        }
    }
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
    targets = batches
}
criterion_main!(benches);
