//! The slice kernels of `runtime::vmath` (issue 21) against one scalar call per element: ns
//! per element of `exp`, `tanh`, `sigmoid`, `ln` and `softplus` over a slice of 32,768
//! `f64` (the size of mlp16's hidden layers at 1,024 rows), at each instruction-set level
//! this CPU supports, after checking that every level gives the same bits.
//!
//! `cargo bench --bench vmath`; writes `bench/results/vmath.json`.

use std::hint::black_box;
use std::time::Instant;

use chainrule::runtime::Real;
use chainrule::runtime::vmath::{self, Kernel, Lanes, Level};

const N: usize = 32_768;

/// Best of 40 runs of `f`, in ns per element (a shared machine: the best run shows the rate).
fn best(mut f: impl FnMut()) -> f64 {
    (0..40)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
        * 1e9
        / N as f64
}

fn scalar(kernel: Kernel, x: f64) -> f64 {
    match kernel {
        Kernel::Exp => x.exp(),
        Kernel::Tanh => x.tanh(),
        Kernel::Sigmoid => x.sigmoid(),
        Kernel::Ln => x.ln(),
        Kernel::Softplus => x.softplus(),
    }
}

fn main() {
    let input: Vec<f64> = (0..N)
        .map(|i| {
            let u = (i as f64 * 0.618_033_988_749_895).fract();
            8.0 * u - 4.0
        })
        .collect();
    let positive: Vec<f64> = input.iter().map(|x| x.abs() + 1e-3).collect();
    let levels: Vec<Level> = [Level::Baseline, Level::Avx2, Level::Avx512]
        .into_iter()
        .filter(|l| *l <= vmath::level())
        .collect();
    let mut rows = Vec::new();
    let mut out = vec![0.0; N];
    for kernel in Kernel::ALL {
        let xs = if kernel == Kernel::Ln {
            &positive
        } else {
            &input
        };
        let mut first: Option<Vec<u64>> = None;
        for level in &levels {
            out.copy_from_slice(xs);
            f64::map_in_place_at(*level, kernel, &mut out);
            let bits: Vec<u64> = out.iter().map(|y| y.to_bits()).collect();
            match &first {
                None => first = Some(bits),
                Some(base) => assert!(
                    base == &bits,
                    "{kernel:?}: {level:?} differs from the baseline"
                ),
            }
        }
        let libm = best(|| {
            for (y, x) in out.iter_mut().zip(xs.iter()) {
                *y = scalar(kernel, *x);
            }
            black_box(&out);
        });
        let mut line = format!("{kernel:?}: scalar std/libm {libm:.2} ns");
        let mut timings = vec![format!("\"scalar\": {libm:.3}")];
        for level in &levels {
            let t = best(|| {
                out.copy_from_slice(black_box(xs));
                f64::map_in_place_at(*level, kernel, &mut out);
                black_box(&out);
            });
            line.push_str(&format!(", {level:?} {t:.2} ns ({:.1}x)", libm / t));
            timings.push(format!("\"{level:?}\": {t:.3}"));
        }
        println!("{line}");
        rows.push(format!("\"{kernel:?}\": {{{}}}", timings.join(", ")));
    }
    let json = format!("{{{}}}\n", rows.join(", "));
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/results");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("vmath.json"), json);
    }
}
