//! One per-sample gradient and one SGD step, for seed 004's network and for
//! `benches/nets/mlp16.nn`: the code `chainrule::derive!` generates against a hand-written
//! fixed-size backprop, an idiomatic `ndarray` backprop and central finite differences of the
//! generated `loss` (see `baselines/mod.rs`). Before anything is timed, every baseline's
//! gradient and step are checked against the generated ones (1e-12 relative; finite differences
//! 1e-5), at the seed's point and at random points.
//!
//! `cargo bench --bench gradient`; results in `target/criterion/{seed004,mlp16}_{gradient,sgd_step}/`,
//! collected by `bench/report.py`.

#[path = "baselines/mod.rs"]
mod baselines;

use std::hint::black_box;
use std::time::Duration;

use baselines::nd::Act;
use baselines::{assert_close, assert_step_close, fd, fixed, nd};
use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::Array1;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

chainrule::derive!(file = "examples/nets/seed004.nn");
chainrule::derive!(file = "benches/nets/mlp16.nn");

/// The learning rate of every timed step (seed 004's problem's).
const LR: f64 = 1e-4;
/// How close the exact baselines must come to the generated gradient.
const EXACT: f64 = 1e-12;
/// How close finite differences must come.
const APPROX: f64 = 1e-5;

const SEED004_ACTS: [Act; 2] = [Act::Sigmoid, Act::Linear];
const SEED004_SHAPES: [(usize, usize, bool); 2] = [(3, 2, false), (2, 3, false)];
const MLP16_ACTS: [Act; 3] = [Act::Tanh, Act::Sigmoid, Act::Linear];
const MLP16_SHAPES: [(usize, usize, bool); 3] = [(32, 16, true), (32, 32, true), (4, 32, true)];

fn uniform<const N: usize>(rng: &mut StdRng, lo: f64, hi: f64) -> [f64; N] {
    std::array::from_fn(|_| lo + (hi - lo) * rng.random::<f64>())
}

/// The generated gradient with the loss as element 0, then `Params::flat` order.
fn with_loss(loss: f64, g: &[f64]) -> Vec<f64> {
    std::iter::once(loss).chain(g.iter().copied()).collect()
}

/// Checks every baseline against the generated code at one point of seed 004's network.
fn check_seed004(p: &seed004::Params, x: &[f64; 2], t: &[f64; 2]) {
    let (loss, g) = seed004::gradient(p, x, t);
    let want = with_loss(loss, &g.flat());

    let hp = fixed::Seed004::from_flat(&p.flat());
    let (hl, hg) = fixed::seed004_gradient(&hp, x, t);
    assert_close(
        "seed004 hand-written gradient",
        &want,
        &with_loss(hl, &hg.flat()),
        EXACT,
    );

    let np = nd::Mlp::from_flat(&SEED004_SHAPES, &p.flat());
    let (nx, nt) = (Array1::from(x.to_vec()), Array1::from(t.to_vec()));
    let (nl, ng) = nd::gradient(&np, &SEED004_ACTS, &nx, &nt);
    assert_close(
        "seed004 ndarray gradient",
        &want,
        &with_loss(nl, &ng.flat()),
        EXACT,
    );

    let (fl, fg) = fd::gradient(|w| seed004_loss_at(w, x, t), &p.flat());
    assert_close(
        "seed004 finite differences",
        &want,
        &with_loss(fl, &fg),
        APPROX,
    );

    // One step each from the same point.
    let mut gp = *p;
    seed004::sgd_step(&mut gp, x, t, 0.1);
    let mut hp = hp;
    fixed::seed004_sgd_step(&mut hp, x, t, 0.1);
    assert_step_close(
        "seed004 hand-written step",
        &p.flat(),
        &gp.flat(),
        &hp.flat(),
        EXACT,
    );
    let mut np = np;
    nd::sgd_step(&mut np, &SEED004_ACTS, &nx, &nt, 0.1);
    assert_step_close(
        "seed004 ndarray step",
        &p.flat(),
        &gp.flat(),
        &np.flat(),
        EXACT,
    );
    let mut fw = p.flat();
    fd::sgd_step(|w| seed004_loss_at(w, x, t), &mut fw, 0.1);
    assert_step_close(
        "seed004 finite-difference step",
        &p.flat(),
        &gp.flat(),
        &fw,
        APPROX,
    );
}

fn seed004_loss_at(w: &[f64; 12], x: &[f64; 2], t: &[f64; 2]) -> f64 {
    let mut p = seed004::Params::zeros();
    p.set_flat(w);
    seed004::loss(&p, x, t)
}

fn mlp16_loss_at(w: &[f64; mlp16::PARAMS], x: &[f64; 16], t: &[f64; 4]) -> f64 {
    let mut p = mlp16::Params::zeros();
    p.set_flat(w);
    mlp16::loss(&p, x, t)
}

fn check_mlp16(p: &mlp16::Params, x: &[f64; 16], t: &[f64; 4]) {
    let (loss, g) = mlp16::gradient(p, x, t);
    let want = with_loss(loss, &g.flat());

    let hp = fixed::Mlp16::from_flat(&p.flat());
    let (hl, hg) = fixed::mlp16_gradient(&hp, x, t);
    assert_close(
        "mlp16 hand-written gradient",
        &want,
        &with_loss(hl, &hg.flat()),
        EXACT,
    );

    let np = nd::Mlp::from_flat(&MLP16_SHAPES, &p.flat());
    let (nx, nt) = (Array1::from(x.to_vec()), Array1::from(t.to_vec()));
    let (nl, ng) = nd::gradient(&np, &MLP16_ACTS, &nx, &nt);
    assert_close(
        "mlp16 ndarray gradient",
        &want,
        &with_loss(nl, &ng.flat()),
        EXACT,
    );

    let (fl, fg) = fd::gradient(|w| mlp16_loss_at(w, x, t), &p.flat());
    // Elements far below the gradient's scale are lost in the differences' rounding; compare
    // finite differences against the largest element instead.
    let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let worst = want
        .iter()
        .zip(with_loss(fl, &fg))
        .map(|(a, b)| (a - b).abs() / scale)
        .fold(0.0, f64::max);
    assert!(
        worst <= APPROX,
        "mlp16 finite differences off by {worst:e} of the largest element"
    );

    let mut gp = *p;
    mlp16::sgd_step(&mut gp, x, t, 0.1);
    let mut hp = hp;
    fixed::mlp16_sgd_step(&mut hp, x, t, 0.1);
    assert_step_close(
        "mlp16 hand-written step",
        &p.flat(),
        &gp.flat(),
        &hp.flat(),
        EXACT,
    );
    let mut np = np;
    nd::sgd_step(&mut np, &MLP16_ACTS, &nx, &nt, 0.1);
    assert_step_close(
        "mlp16 ndarray step",
        &p.flat(),
        &gp.flat(),
        &np.flat(),
        EXACT,
    );
}

/// A random mlp16 point: weights uniform in [-0.5, 0.5), inputs and targets in [-1, 1).
fn mlp16_point(rng: &mut StdRng) -> (mlp16::Params, [f64; 16], [f64; 4]) {
    let mut p = mlp16::Params::zeros();
    p.set_flat(&uniform(rng, -0.5, 0.5));
    (p, uniform(rng, -1.0, 1.0), uniform(rng, -1.0, 1.0))
}

fn seed004_benches(c: &mut Criterion) {
    let p = seed004::Params::default();
    let (x, t) = ([1.0, 3.0], [4.0, 1.0]);
    check_seed004(&p, &x, &t);
    let mut rng = StdRng::seed_from_u64(7);
    for _ in 0..100 {
        let mut q = seed004::Params::zeros();
        q.set_flat(&uniform(&mut rng, -2.0, 2.0));
        check_seed004(
            &q,
            &uniform(&mut rng, -2.0, 2.0),
            &uniform(&mut rng, -2.0, 2.0),
        );
    }
    eprintln!("seed004: every baseline matches the generated gradient and step");

    let hp = fixed::Seed004::from_flat(&p.flat());
    let np = nd::Mlp::from_flat(&SEED004_SHAPES, &p.flat());
    let (nx, nt) = (Array1::from(x.to_vec()), Array1::from(t.to_vec()));

    let mut g = c.benchmark_group("seed004_gradient");
    g.bench_function("generated", |b| {
        b.iter(|| seed004::gradient(black_box(&p), black_box(&x), black_box(&t)))
    });
    g.bench_function("hand_fixed", |b| {
        b.iter(|| fixed::seed004_gradient(black_box(&hp), black_box(&x), black_box(&t)))
    });
    g.bench_function("ndarray", |b| {
        b.iter(|| {
            nd::gradient(
                black_box(&np),
                &SEED004_ACTS,
                black_box(&nx),
                black_box(&nt),
            )
        })
    });
    let w = p.flat();
    g.bench_function("finite_diff", |b| {
        b.iter(|| fd::gradient(|w| seed004_loss_at(w, &x, &t), black_box(&w)))
    });
    g.finish();

    let mut g = c.benchmark_group("seed004_sgd_step");
    let mut gp = p;
    g.bench_function("generated", |b| {
        b.iter(|| seed004::sgd_step(black_box(&mut gp), black_box(&x), black_box(&t), LR))
    });
    let mut hp = hp;
    g.bench_function("hand_fixed", |b| {
        b.iter(|| fixed::seed004_sgd_step(black_box(&mut hp), black_box(&x), black_box(&t), LR))
    });
    let mut np = np;
    g.bench_function("ndarray", |b| {
        b.iter(|| {
            nd::sgd_step(
                black_box(&mut np),
                &SEED004_ACTS,
                black_box(&nx),
                black_box(&nt),
                LR,
            )
        })
    });
    let mut fw = p.flat();
    g.bench_function("finite_diff", |b| {
        b.iter(|| fd::sgd_step(|w| seed004_loss_at(w, &x, &t), black_box(&mut fw), LR))
    });
    g.finish();
}

fn mlp16_benches(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(16);
    for _ in 0..20 {
        let (p, x, t) = mlp16_point(&mut rng);
        check_mlp16(&p, &x, &t);
    }
    eprintln!("mlp16: every baseline matches the generated gradient and step");
    let (p, x, t) = mlp16_point(&mut rng);

    let hp = Box::new(fixed::Mlp16::from_flat(&p.flat()));
    let np = nd::Mlp::from_flat(&MLP16_SHAPES, &p.flat());
    let (nx, nt) = (Array1::from(x.to_vec()), Array1::from(t.to_vec()));

    let mut g = c.benchmark_group("mlp16_gradient");
    g.bench_function("generated", |b| {
        b.iter(|| mlp16::gradient(black_box(&p), black_box(&x), black_box(&t)))
    });
    g.bench_function("hand_fixed", |b| {
        b.iter(|| fixed::mlp16_gradient(black_box(&hp), black_box(&x), black_box(&t)))
    });
    g.bench_function("ndarray", |b| {
        b.iter(|| nd::gradient(black_box(&np), &MLP16_ACTS, black_box(&nx), black_box(&nt)))
    });
    let w = p.flat();
    g.bench_function("finite_diff", |b| {
        b.iter(|| fd::gradient(|w| mlp16_loss_at(w, &x, &t), black_box(&w)))
    });
    g.finish();

    let mut g = c.benchmark_group("mlp16_sgd_step");
    let mut gp = p;
    g.bench_function("generated", |b| {
        b.iter(|| mlp16::sgd_step(black_box(&mut gp), black_box(&x), black_box(&t), LR))
    });
    let mut hp = hp;
    g.bench_function("hand_fixed", |b| {
        b.iter(|| fixed::mlp16_sgd_step(black_box(&mut hp), black_box(&x), black_box(&t), LR))
    });
    let mut np = np;
    g.bench_function("ndarray", |b| {
        b.iter(|| {
            nd::sgd_step(
                black_box(&mut np),
                &MLP16_ACTS,
                black_box(&nx),
                black_box(&nt),
                LR,
            )
        })
    });
    let mut fw = p.flat();
    g.bench_function("finite_diff", |b| {
        b.iter(|| fd::sgd_step(|w| mlp16_loss_at(w, &x, &t), black_box(&mut fw), LR))
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(40)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args()
}

criterion_group! {
    name = benches;
    config = config();
    targets = seed004_benches, mlp16_benches
}
criterion_main!(benches);
