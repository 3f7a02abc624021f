//! The `parallel` feature (issue 13): `scripts/test` runs this file with
//! `cargo test --features parallel --test batch_parallel`; without the feature it checks the
//! one-thread path. The generated batch functions give bit-identical results whatever the
//! number of threads (1, 2 or 7 in a rayon pool), run to run, and agree with the per-sample
//! gradient within 1e-12 relative; wrong shapes are a `ShapeError` in every mode.

use chainrule::ndarray::{Array2, s};

mod matrix {
    chainrule::derive!(batch = matrix, file = "benches/nets/mlp16.nn");
}
mod per_sample {
    chainrule::derive!(batch = per_sample, file = "benches/nets/mlp16.nn");
}
mod auto {
    chainrule::derive!(file = "benches/nets/mlp16.nn");
}
mod single {
    chainrule::derive!(float = f32, batch = matrix, file = "benches/nets/mlp16.nn");
}

/// SplitMix64 numbers in [-1, 1): inputs, targets and parameters.
fn numbers(seed: u64, n: usize) -> Vec<f64> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect()
}

fn point(rows: usize) -> (Vec<f64>, Array2<f64>) {
    let params = numbers(1, matrix::mlp16::PARAMS);
    let data = Array2::from_shape_vec((rows, 20), numbers(2, rows * 20)).expect("rows x 20");
    (params, data)
}

/// The per-sample gradient, combined here by the network's `batch mean`.
fn reference(params: &[f64], data: &Array2<f64>) -> (f64, Vec<f64>) {
    let p: &[f64; matrix::mlp16::PARAMS] = params.try_into().expect("params");
    let mut loss = 0.0;
    let mut gradient = vec![0.0; params.len()];
    for row in data.rows() {
        let row: &[f64; 20] = row.as_slice().expect("row").try_into().expect("20");
        let (l, g) = matrix::mlp16::gradient_flat(p, row);
        loss += l;
        gradient.iter_mut().zip(g).for_each(|(t, v)| *t += v);
    }
    let n = data.nrows() as f64;
    (loss / n, gradient.iter().map(|g| g / n).collect())
}

type Batch = fn(&[f64], &Array2<f64>) -> (f64, Vec<f64>);

fn modes() -> [(&'static str, Batch); 3] {
    [
        ("matrix", |p, d| {
            let mut ws = matrix::mlp16::BatchWorkspace::new();
            matrix::mlp16::gradient_batch_flat(p, d.view(), &mut ws).expect("shapes")
        }),
        ("per_sample", |p, d| {
            let mut ws = per_sample::mlp16::BatchWorkspace::new();
            per_sample::mlp16::gradient_batch_flat(p, d.view(), &mut ws).expect("shapes")
        }),
        ("auto", |p, d| {
            let mut ws = auto::mlp16::BatchWorkspace::new();
            auto::mlp16::gradient_batch_flat(p, d.view(), &mut ws).expect("shapes")
        }),
    ]
}

fn assert_close(what: &str, got: &[f64], want: &[f64]) {
    let size = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-12 * g.abs().max(w.abs()).max(1e-3 * size),
            "{what}: element {i}: {g} vs {w}"
        );
    }
}

#[cfg(feature = "parallel")]
fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    chainrule::rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
        .install(f)
}

#[cfg(not(feature = "parallel"))]
fn in_pool<T: Send>(_threads: usize, f: impl FnOnce() -> T + Send) -> T {
    f()
}

#[test]
fn every_thread_count_gives_the_same_bits() {
    for rows in [1usize, 7, 300, 2053] {
        let (params, data) = point(rows);
        let (want_loss, want) = reference(&params, &data);
        for (mode, batch) in modes() {
            let (one_loss, one) = in_pool(1, || batch(&params, &data));
            assert!((one_loss - want_loss).abs() <= 1e-12 * want_loss.abs());
            assert_close(&format!("{mode}, {rows} rows, 1 thread"), &one, &want);
            for threads in [2, 7] {
                for run in 0..2 {
                    let (loss, g) = in_pool(threads, || batch(&params, &data));
                    assert_eq!(
                        loss.to_bits(),
                        one_loss.to_bits(),
                        "{mode}: {rows} rows, {threads} threads, run {run}"
                    );
                    assert!(
                        g.iter().zip(&one).all(|(a, b)| a.to_bits() == b.to_bits()),
                        "{mode}: {rows} rows, {threads} threads, run {run}: gradient differs from one thread"
                    );
                }
            }
        }
    }
}

#[test]
fn threads_follow_the_feature() {
    let threads = in_pool(2, chainrule::parallel::threads);
    assert_eq!(threads, if cfg!(feature = "parallel") { 2 } else { 1 });
}

#[test]
fn workspace_reuse_and_training_steps_agree() {
    // A workspace sized by a large batch, then reused for a smaller one, gives what a fresh
    // one gives; sgd_step_batch_into moves the parameters by lr times gradient_batch.
    let (params, big) = point(2053);
    let small = big.slice(s![..300, ..]).to_owned();
    let mut ws = matrix::mlp16::BatchWorkspace::new();
    matrix::mlp16::gradient_batch_flat(&params, big.view(), &mut ws).expect("shapes");
    let (reused_loss, reused) =
        matrix::mlp16::gradient_batch_flat(&params, small.view(), &mut ws).expect("shapes");
    let (fresh_loss, fresh) = modes()[0].1(&params, &small);
    assert_eq!(reused_loss.to_bits(), fresh_loss.to_bits());
    assert_eq!(reused, fresh);

    let mut p = matrix::mlp16::Params::zeros();
    p.set_flat(params.as_slice().try_into().expect("params"));
    let x = small.slice(s![.., ..16]);
    let t = small.slice(s![.., 16..]);
    let (loss, g) = matrix::mlp16::gradient_batch(&p, x, t).expect("shapes");
    assert_eq!(loss.to_bits(), fresh_loss.to_bits());
    let before = p.flat();
    let stepped = matrix::mlp16::sgd_step_batch_into(&mut p, x, t, 0.5, &mut ws).expect("shapes");
    assert_eq!(stepped.to_bits(), loss.to_bits());
    for ((after, before), d) in p.flat().iter().zip(before).zip(g.flat()) {
        assert_eq!(after.to_bits(), (before - 0.5 * d).to_bits());
    }
}

#[test]
fn wrong_shapes_are_errors_in_every_mode() {
    let (params, data) = point(5);
    let x = data.slice(s![.., ..16]);
    let t = data.slice(s![.., 16..]);
    let short_t = data.slice(s![..4, 16..]);
    let narrow_x = data.slice(s![.., ..15]);
    let empty = data.slice(s![..0, ..16]);
    let empty_t = data.slice(s![..0, 16..]);
    macro_rules! check {
        ($m:ident) => {{
            let mut p = $m::mlp16::Params::zeros();
            p.set_flat(params.as_slice().try_into().expect("params"));
            let e = $m::mlp16::gradient_batch(&p, narrow_x, t).expect_err("15 columns");
            assert_eq!(
                (e.name.as_str(), e.expected.as_str(), e.found.as_str()),
                ("x", "16 columns", "15 columns")
            );
            let e = $m::mlp16::gradient_batch(&p, x, short_t).expect_err("4 rows");
            assert_eq!((e.name.as_str(), e.found.as_str()), ("t", "4 rows"));
            let e = $m::mlp16::gradient_batch(&p, empty, empty_t).expect_err("no rows");
            assert_eq!(e.found, "0 rows");
            let before = p;
            assert!($m::mlp16::sgd_step_batch(&mut p, x, short_t, 0.1).is_err());
            assert_eq!(p, before, "a refused step leaves the parameters alone");
            let mut ws = $m::mlp16::BatchWorkspace::new();
            assert!($m::mlp16::gradient_batch_flat(&params[1..], data.view(), &mut ws).is_err());
            assert!(
                $m::mlp16::gradient_batch_flat(&params, data.slice(s![.., ..19]), &mut ws).is_err()
            );
        }};
    }
    check!(matrix);
    check!(per_sample);
    check!(auto);
}

#[test]
fn single_precision_matrix_form_tracks_double() {
    // f32 rounding only: within 1e-3 of the f64 per-sample result, relative to the largest.
    let (params, data) = point(300);
    let (want_loss, want) = reference(&params, &data);
    let params32: Vec<f32> = params.iter().map(|v| *v as f32).collect();
    let data32 = data.mapv(|v| v as f32);
    let mut ws = single::mlp16::BatchWorkspace::new();
    let (loss, g) = in_pool(2, || {
        single::mlp16::gradient_batch_flat(&params32, data32.view(), &mut ws)
    })
    .expect("shapes");
    assert!((f64::from(loss) - want_loss).abs() <= 1e-3 * want_loss.abs());
    let size = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for (i, (a, b)) in g.iter().zip(&want).enumerate() {
        assert!(
            (f64::from(*a) - b).abs() <= 1e-3 * size,
            "element {i}: f32 {a} vs f64 {b}"
        );
    }
}

mod elman {
    chainrule::derive!(file = "benches/nets/elman.nn");
}

/// Every level `runtime::vmath` can run at (baseline x86-64, AVX2 + FMA, AVX-512) gives the
/// same bits: the matrix form in f64 and f32 (its `vmath` kernels) and the statements form of
/// a recurrence (its whole chunk of rows compiled for the level by `vmath::widest`). Lowering the level here affects other tests of this
/// binary running at the same time in speed only, which is what this test checks.
#[test]
fn every_vector_unit_gives_the_same_bits() {
    use chainrule::runtime::vmath::{self, Level};
    let (params, data) = point(300);
    let single: Vec<f32> = params.iter().map(|v| *v as f32).collect();
    let single_data = data.mapv(|v| v as f32);
    let recurrent = numbers(3, elman::elman::PARAMS);
    let xs = Array2::from_shape_vec((64, 256), numbers(4, 64 * 256)).expect("64 x 256");
    let ys = Array2::from_shape_vec((64, 64), numbers(5, 64 * 64)).expect("64 x 64");
    let run = || {
        let mut ws = matrix::mlp16::BatchWorkspace::new();
        let double = matrix::mlp16::gradient_batch_flat(&params, data.view(), &mut ws);
        let mut ws = single::mlp16::BatchWorkspace::new();
        let single = single::mlp16::gradient_batch_flat(&single, single_data.view(), &mut ws);
        let mut ws = elman::elman::BatchWorkspace::new();
        let mut p = elman::elman::Params::boxed_zeros();
        p.set_flat(recurrent.as_slice().try_into().expect("elman's parameters"));
        let mut g = elman::elman::Params::boxed_zeros();
        let loss = elman::elman::gradient_batch_into(&p, xs.view(), ys.view(), &mut ws, &mut g);
        let (d, s, l) = (
            double.expect("shapes"),
            single.expect("shapes"),
            loss.expect("shapes"),
        );
        let mut bits: Vec<u64> = d.1.iter().chain([&d.0]).map(|v| v.to_bits()).collect();
        bits.extend(s.1.iter().chain([&s.0]).map(|v| u64::from(v.to_bits())));
        bits.extend(g.flat().iter().chain([&l]).map(|v| v.to_bits()));
        bits
    };
    let widest = vmath::level();
    let want = run();
    for level in [Level::Avx2, Level::Baseline] {
        vmath::limit_level(level);
        let got = run();
        vmath::limit_level(widest);
        assert!(
            got == want,
            "the batch gradient at {level:?} differs from {widest:?}"
        );
    }
}
