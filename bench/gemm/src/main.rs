//! matrixmultiply (through ndarray's `general_mat_mul`, what the generated batch code calls)
//! against the `gemm` crate, single-threaded, at the shapes of the benchmark networks' batch
//! GEMMs: the forward `Z = X Wᵀ`, the weight gradient `∂W += Δᵀ X` and the input delta
//! `Δ_prev += Δ W`, for 64 and 1,024 rows. Each pair is checked to agree (1e-12 relative)
//! before it is timed; prints a markdown table (best of 30 runs, GFLOP/s) and writes
//! `bench/results/gemm.json`.

use std::hint::black_box;
use std::time::Instant;

use ndarray::{Array2, ArrayView2, ArrayViewMut2, linalg::general_mat_mul};

/// `c += a b` with the `gemm` crate, from ndarray views of any strides.
fn gemm_crate(a: &ArrayView2<'_, f64>, b: &ArrayView2<'_, f64>, c: &mut ArrayViewMut2<'_, f64>) {
    let (m, k) = a.dim();
    let n = b.ncols();
    let (a_rs, a_cs) = (a.strides()[0], a.strides()[1]);
    let (b_rs, b_cs) = (b.strides()[0], b.strides()[1]);
    let (c_rs, c_cs) = (c.strides()[0], c.strides()[1]);
    // SAFETY: the pointers and strides describe the views' own elements, and `c` does not
    // alias `a` or `b` (distinct arrays). `gemm` computes dst = alpha dst + beta lhs rhs.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            c_cs,
            c_rs,
            true,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

fn filled(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut state = seed;
    Array2::from_shape_fn((rows, cols), |_| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    })
}

fn best(mut f: impl FnMut()) -> f64 {
    (0..30)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// One GEMM of a layer `inputs -> outputs` over `rows` rows: returns the GFLOP/s of each.
fn case(kind: &str, rows: usize, inputs: usize, outputs: usize) -> (String, f64, f64) {
    let x = filled(rows, inputs, 1);
    let w = filled(outputs, inputs, 2);
    let d = filled(rows, outputs, 3);
    // (a, b, c dims) for each kind, with the transposes the generated code uses.
    let (a, b, c_dim): (ArrayView2<'_, f64>, ArrayView2<'_, f64>, (usize, usize)) = match kind {
        "forward X Wᵀ" => (x.view(), w.t(), (rows, outputs)),
        "gradient Δᵀ X" => (d.t(), x.view(), (outputs, inputs)),
        _ => (d.view(), w.view(), (rows, inputs)),
    };
    let mut c1 = Array2::<f64>::zeros(c_dim);
    let mut c2 = Array2::<f64>::zeros(c_dim);
    general_mat_mul(1.0, &a, &b, 1.0, &mut c1.view_mut());
    gemm_crate(&a, &b, &mut c2.view_mut());
    for (p, q) in c1.iter().zip(c2.iter()) {
        assert!(
            (p - q).abs() <= 1e-12 * p.abs().max(q.abs()).max(1.0),
            "{kind}: {p} against {q}"
        );
    }
    let flops = 2.0 * (a.nrows() * a.ncols() * b.ncols()) as f64;
    let t_mm = best(|| general_mat_mul(1.0, &a, &b, 1.0, &mut black_box(&mut c1).view_mut()));
    let t_gemm = best(|| gemm_crate(&a, &b, &mut black_box(&mut c2).view_mut()));
    (
        format!("{kind} {rows}x{inputs}->{outputs}"),
        flops / t_mm / 1e9,
        flops / t_gemm / 1e9,
    )
}

fn main() {
    let layers = [
        ("mlp16", 16, 32),
        ("mlp16", 32, 32),
        ("mlp16", 32, 4),
        ("mnist128", 784, 128),
        ("mnist128", 128, 10),
        ("mnist256", 784, 256),
        ("mnist256", 256, 256),
    ];
    println!("| network | GEMM | matrixmultiply GFLOP/s | gemm GFLOP/s | gemm / matrixmultiply |");
    println!("| --- | --- | --- | --- | --- |");
    let mut json = Vec::new();
    for rows in [64, 1024] {
        for (net, inputs, outputs) in layers {
            for kind in ["forward X Wᵀ", "gradient Δᵀ X", "input delta Δ W"] {
                let (name, mm, gm) = case(kind, rows, inputs, outputs);
                println!("| {net} | {name} | {mm:.1} | {gm:.1} | {:.2}x |", gm / mm);
                json.push(format!(
                    "{{\"network\": \"{net}\", \"gemm\": \"{name}\", \"matrixmultiply\": {mm:.3}, \"gemm_crate\": {gm:.3}}}"
                ));
            }
        }
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../results");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("gemm.json"), format!("[{}]\n", json.join(",\n")));
    }
}
