//! One per-sample gradient and one SGD step of the MNIST-sized networks (issue 12,
//! `benches/nets/mnist128.nn` and `mnist256.nn`): the hand-written fixed-size backprop
//! (`baselines/large.rs`) and the `ndarray` one. The generated code's side of these groups is
//! `benches/generated_large.rs.in`, enabled once `derive!` takes networks of this size.
//!
//! Before timing, at five samples of the benchmark data: the two baselines agree within 1e-12
//! of the largest element (gradient) and relative (step), and the `ndarray` gradient agrees with central finite
//! differences of the `ndarray` loss at 40 random weights (1e-6 of the largest element).
//!
//! `cargo bench --bench large`; results in `target/criterion/mnist{128,256}_{gradient,sgd_step}/`.

#[path = "baselines/mod.rs"]
mod baselines;

use std::hint::black_box;
use std::time::Duration;

use baselines::large::{self, Mnist128, Mnist256, Zeroable};
use baselines::nd::{self, Act};
use baselines::point::{self, DATA_SEED, PARAM_SEED, SplitMix};
use baselines::{assert_close_scaled, assert_step_close};
use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::Array1;

const LR: f64 = 1e-4;
/// The two baselines add 784- and 256-term dot products in different orders (eight partial
/// sums against ndarray's): they agree within 1e-12 of the largest element
/// (`assert_close_scaled`), not element by element.
const EXACT: f64 = 1e-12;

fn nd_shapes(shapes: &[(usize, usize)]) -> Vec<(usize, usize, bool)> {
    shapes.iter().map(|&(r, c)| (r, c, true)).collect()
}

fn with_loss(loss: f64, g: &[f64]) -> Vec<f64> {
    std::iter::once(loss).chain(g.iter().copied()).collect()
}

/// The benchmark's first `n` samples, each `(x, t)`.
fn samples(n: usize) -> Vec<([f64; 784], [f64; 10])> {
    let (x, t) = point::data(DATA_SEED, n, 784, 10);
    (0..n)
        .map(|i| {
            let xs: [f64; 784] = x[i * 784..(i + 1) * 784].try_into().expect("784"); // ok: sliced so
            let ts: [f64; 10] = t[i * 10..(i + 1) * 10].try_into().expect("10"); // ok: sliced so
            (xs, ts)
        })
        .collect()
}

/// Central differences of the `ndarray` loss at 40 random weights against `want` (flat order).
fn check_fd(
    shapes: &[(usize, usize, bool)],
    acts: &[Act],
    w: &[f64],
    x: &[f64],
    t: &[f64],
    want: &[f64],
) {
    let (nx, nt) = (Array1::from(x.to_vec()), Array1::from(t.to_vec()));
    let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let mut rng = SplitMix(99);
    let mut probe = w.to_vec();
    for _ in 0..40 {
        let i = (rng.next_u64() % w.len() as u64) as usize;
        let h = 1e-6 * w[i].abs().max(1.0);
        probe[i] = w[i] + h;
        let plus = nd::loss(&nd::Mlp::from_flat(shapes, &probe), acts, &nx, &nt);
        probe[i] = w[i] - h;
        let minus = nd::loss(&nd::Mlp::from_flat(shapes, &probe), acts, &nx, &nt);
        probe[i] = w[i];
        let fd = (plus - minus) / (2.0 * h);
        assert!(
            (fd - want[i]).abs() <= 1e-6 * scale,
            "weight {i}: finite differences {fd}, ndarray gradient {}",
            want[i]
        );
    }
}

macro_rules! bench_net {
    ($fn_name:ident, $name:literal, $ty:ty, $acts:expr, $grad:path, $step:path) => {
        fn $fn_name(c: &mut Criterion) {
            let acts: &[Act] = &$acts;
            let shapes = nd_shapes(<$ty>::SHAPES);
            let w = point::params(<$ty>::SHAPES, PARAM_SEED);
            let hp = <$ty>::from_flat(&w);
            let np = nd::Mlp::from_flat(&shapes, &w);
            let data = samples(5);
            let mut g = <$ty>::boxed_zeros();
            for (k, (x, t)) in data.iter().enumerate() {
                let hl = $grad(&hp, x, t, &mut g);
                let (nx, nt) = (Array1::from(x.to_vec()), Array1::from(t.to_vec()));
                let (nl, ng) = nd::gradient(&np, acts, &nx, &nt);
                let want = with_loss(nl, &ng.flat());
                assert_close_scaled(
                    concat!($name, " hand-written gradient"),
                    &want,
                    &with_loss(hl, &g.flat()),
                    EXACT,
                );
                if k == 0 {
                    check_fd(&shapes, acts, &w, x, t, &ng.flat());
                }
                let mut hs = <$ty>::from_flat(&w);
                $step(&mut hs, x, t, 0.1);
                let mut ns = np.clone();
                nd::sgd_step(&mut ns, acts, &nx, &nt, 0.1);
                assert_step_close(
                    concat!($name, " hand-written step"),
                    &w,
                    &ns.flat(),
                    &hs.flat(),
                    EXACT,
                );
            }
            eprintln!(concat!(
                $name,
                ": hand-written and ndarray agree, and agree with finite differences"
            ));

            let (x, t) = data[0];
            let (nx, nt) = (Array1::from(x.to_vec()), Array1::from(t.to_vec()));
            let mut grp = c.benchmark_group(concat!($name, "_gradient"));
            grp.bench_function("hand_fixed", |b| {
                b.iter(|| $grad(black_box(&hp), black_box(&x), black_box(&t), &mut g))
            });
            grp.bench_function("ndarray", |b| {
                b.iter(|| nd::gradient(black_box(&np), acts, black_box(&nx), black_box(&nt)))
            });
            grp.finish();

            let mut grp = c.benchmark_group(concat!($name, "_sgd_step"));
            let mut hp = hp;
            grp.bench_function("hand_fixed", |b| {
                b.iter(|| $step(black_box(&mut hp), black_box(&x), black_box(&t), LR))
            });
            let mut np = np;
            grp.bench_function("ndarray", |b| {
                b.iter(|| {
                    nd::sgd_step(black_box(&mut np), acts, black_box(&nx), black_box(&nt), LR)
                })
            });
            grp.finish();
        }
    };
}

bench_net!(
    mnist128,
    "mnist128",
    Mnist128,
    [Act::Relu, Act::Linear],
    large::mnist128_gradient_into,
    large::mnist128_sgd_step
);
bench_net!(
    mnist256,
    "mnist256",
    Mnist256,
    [Act::Relu, Act::Relu, Act::Linear],
    large::mnist256_gradient_into,
    large::mnist256_sgd_step
);

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args()
}

criterion_group! {
    name = benches;
    config = config();
    targets = mnist128, mnist256
}
criterion_main!(benches);
