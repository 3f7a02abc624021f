//! Shared by `benches/batch.rs` and `benches/batch_crossover.rs`: the timing loop, the
//! 1-or-2-thread runner, the GEMM floor and one markdown table per network.

#![allow(dead_code)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2};

pub type Run = Box<dyn FnMut(&[f64], ArrayView2<'_, f64>) -> (f64, Vec<f64>)>;

pub struct Net {
    pub name: &'static str,
    pub params: usize,
    pub data: usize,
    /// `(rows, cols)` of each layer's weight matrix, for the GEMM floor.
    pub layers: &'static [(usize, usize)],
    pub per_sample: fn() -> Run,
    pub matrix: fn() -> Run,
}

#[macro_export]
macro_rules! net {
    ($name:ident, $layers:expr) => {
        $crate::support::Net {
            name: stringify!($name),
            params: matrix::$name::PARAMS,
            data: matrix::$name::DATA,
            layers: $layers,
            per_sample: || {
                let mut ws = per_sample::$name::BatchWorkspace::new();
                Box::new(move |p, d| {
                    per_sample::$name::gradient_batch_flat(p, d, &mut ws).expect("shapes")
                })
            },
            matrix: || {
                let mut ws = matrix::$name::BatchWorkspace::new();
                Box::new(move |p, d| {
                    matrix::$name::gradient_batch_flat(p, d, &mut ws).expect("shapes")
                })
            },
        }
    };
}

pub fn numbers(seed: u64, n: usize, scale: f64) -> Vec<f64> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            ((z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * scale
        })
        .collect()
}

/// Median over 7 rounds of the time per call, each round at least 30 ms.
pub fn time(mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    f();
    let once = start.elapsed().max(Duration::from_nanos(50));
    let calls = (Duration::from_millis(30).as_nanos() / once.as_nanos()).clamp(1, 1_000_000) as u32;
    let mut rounds: Vec<Duration> = (0..7)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..calls {
                f();
            }
            start.elapsed() / calls
        })
        .collect();
    rounds.sort();
    rounds[3]
}

#[cfg(feature = "parallel")]
fn pool(threads: usize) -> Option<chainrule::rayon::ThreadPool> {
    chainrule::rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .ok()
}

pub fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> Option<T> {
    #[cfg(feature = "parallel")]
    {
        pool(threads).map(|p| p.install(f))
    }
    #[cfg(not(feature = "parallel"))]
    {
        (threads == 1).then(f)
    }
}

/// The GEMMs of the matrix form, alone: per layer forward X Wᵀ and Δᵀ X, and Δ W except
/// for the first layer (no delta of the input).
pub fn gemm_floor(layers: &[(usize, usize)], rows: usize) -> Duration {
    let mats: Vec<_> = layers
        .iter()
        .map(|&(out, inp)| {
            (
                Array2::<f64>::from_elem((rows, inp), 0.5),
                Array2::<f64>::from_elem((out, inp), 0.25),
                Array2::<f64>::zeros((rows, out)),
                Array2::<f64>::zeros((rows, inp)),
                Array2::<f64>::zeros((out, inp)),
            )
        })
        .collect();
    let mut mats = mats;
    time(|| {
        for (i, (x, w, z, dx, dw)) in mats.iter_mut().enumerate() {
            general_mat_mul(1.0, x, &w.t(), 0.0, z);
            if i > 0 {
                general_mat_mul(1.0, z, w, 0.0, dx);
            }
            general_mat_mul(1.0, &z.t(), x, 0.0, dw);
        }
        black_box(&mats);
    })
}

/// Times every network at every batch size and prints the tables.
pub fn run(nets: &[Net], batches: &[usize]) {
    let threads = [1usize, 2];
    for net in nets {
        let params = numbers(7, net.params, 0.3);
        println!("\n### {} ({} weights)\n", net.name, net.params);
        println!(
            "| rows | per sample 1t | matrix 1t | per sample 2t | matrix 2t | matrix/per sample 1t | 2t/1t matrix | GEMMs alone 1t |"
        );
        println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
        for &rows in batches {
            let data = Array2::from_shape_vec(
                (rows, net.data),
                numbers(rows as u64, rows * net.data, 1.0),
            )
            .expect("shape");
            let mut cells = Vec::new();
            let mut want: Option<(f64, Vec<f64>)> = None;
            let mut t = Vec::new();
            for &n in &threads {
                for make in [net.per_sample, net.matrix] {
                    let result = on_threads(n, || {
                        let mut run = make();
                        let got = run(&params, data.view());
                        let d = time(|| {
                            black_box(run(black_box(&params), data.view()));
                        });
                        (got, d)
                    });
                    let Some((got, d)) = result else {
                        cells.push("-".to_string());
                        t.push(None);
                        continue;
                    };
                    match &want {
                        None => want = Some(got),
                        Some((l, g)) => {
                            let size = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                            assert!((got.0 - l).abs() <= 1e-12 * l.abs().max(1e-300));
                            for (a, b) in got.1.iter().zip(g) {
                                assert!(
                                    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1e-3 * size),
                                    "{}: {rows} rows: {a} vs {b}",
                                    net.name
                                );
                            }
                        }
                    }
                    cells.push(format!("{:.1}", d.as_secs_f64() * 1e6));
                    t.push(Some(d));
                }
            }
            let ratio = |a: Option<Duration>, b: Option<Duration>| match (a, b) {
                (Some(a), Some(b)) => format!("{:.2}x", a.as_secs_f64() / b.as_secs_f64()),
                _ => "-".to_string(),
            };
            let floor = gemm_floor(net.layers, rows);
            println!(
                "| {rows} | {} | {} | {} | {} | {} | {} | {:.1} |",
                cells[0],
                cells[1],
                cells[2],
                cells[3],
                ratio(t[0], t[1]),
                ratio(t[1], t[3]),
                floor.as_secs_f64() * 1e6
            );
        }
    }
}
