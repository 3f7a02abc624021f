//! The physical limits of BENCHMARKS.md (issues 12 and 13): this core's measured f64
//! arithmetic peak with AVX-512 FMA and with AVX2 FMA,
//! the throughput of `f64::exp` and `f64::tanh` (transcendentals are counted apart from the
//! flops), memory bandwidth for working sets of the networks' sizes, and what
//! `ndarray::linalg::general_mat_mul` (matrixmultiply) reaches on the batch GEMMs.
//!
//! `cargo bench --bench peak`; writes `bench/results/peak.json`.

use std::hint::black_box;
use std::time::Instant;

/// Best of 60 short runs of `f`, in seconds: on a machine shared with other builds, a run of a
/// few milliseconds often gets a whole time slice, so the best one shows the hardware's rate.
fn best(mut f: impl FnMut()) -> f64 {
    (0..60)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

const ITERS: usize = 2_000_000;

/// 12 independent FMA chains hide the FMA latency (4 cycles) behind two FMA pipes. In `asm!`,
/// so that the instructions timed are exactly these.
///
/// # Safety
/// The CPU must have AVX-512F.
#[cfg(target_arch = "x86_64")]
unsafe fn fma512(iters: usize) {
    let (a, b) = (1.000_000_1f64, 1e-9f64);
    // SAFETY: the caller checked AVX-512F; only the named registers are written.
    unsafe {
        std::arch::asm!(
            "vbroadcastsd zmm12, qword ptr [{a}]",
            "vbroadcastsd zmm13, qword ptr [{b}]",
            "vmovapd zmm0, zmm12", "vmovapd zmm1, zmm12", "vmovapd zmm2, zmm12",
            "vmovapd zmm3, zmm12", "vmovapd zmm4, zmm12", "vmovapd zmm5, zmm12",
            "vmovapd zmm6, zmm12", "vmovapd zmm7, zmm12", "vmovapd zmm8, zmm12",
            "vmovapd zmm9, zmm12", "vmovapd zmm10, zmm12", "vmovapd zmm11, zmm12",
            "2:",
            "vfmadd213pd zmm0, zmm12, zmm13", "vfmadd213pd zmm1, zmm12, zmm13",
            "vfmadd213pd zmm2, zmm12, zmm13", "vfmadd213pd zmm3, zmm12, zmm13",
            "vfmadd213pd zmm4, zmm12, zmm13", "vfmadd213pd zmm5, zmm12, zmm13",
            "vfmadd213pd zmm6, zmm12, zmm13", "vfmadd213pd zmm7, zmm12, zmm13",
            "vfmadd213pd zmm8, zmm12, zmm13", "vfmadd213pd zmm9, zmm12, zmm13",
            "vfmadd213pd zmm10, zmm12, zmm13", "vfmadd213pd zmm11, zmm12, zmm13",
            "dec {n}",
            "jnz 2b",
            a = in(reg) &a,
            b = in(reg) &b,
            n = inout(reg) iters => _,
            out("zmm0") _, out("zmm1") _, out("zmm2") _, out("zmm3") _, out("zmm4") _,
            out("zmm5") _, out("zmm6") _, out("zmm7") _, out("zmm8") _, out("zmm9") _,
            out("zmm10") _, out("zmm11") _, out("zmm12") _, out("zmm13") _,
            options(nostack),
        );
    }
}

/// `reps` passes of `d = d / 2 + s`, compiled for AVX2 so that the loop, not the default
/// target's 2-wide SSE2 instructions, is what limits it in L1 and L2.
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn rw_avx2(dst: &mut [f64], src: &[f64], reps: usize) {
    for _ in 0..reps {
        for (d, s) in dst.iter_mut().zip(src) {
            *d = *d * 0.5 + s;
        }
    }
    black_box(dst);
}

/// AVX-512F, from /proc/cpuinfo (the detection macro's "avx512f" is newer than the MSRV too).
fn has_avx512f() -> bool {
    std::fs::read_to_string("/proc/cpuinfo")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("flags") && l.split_whitespace().any(|f| f == "avx512f"))
        })
        .unwrap_or(false)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn fma256(iters: usize) -> f64 {
    use std::arch::x86_64::*;
    let a = _mm256_set1_pd(1.000_000_1);
    let b = _mm256_set1_pd(1e-9);
    let mut acc = [_mm256_set1_pd(1.0); 12];
    for _ in 0..iters {
        for v in acc.iter_mut() {
            *v = _mm256_fmadd_pd(*v, a, b);
        }
    }
    let mut out = [0.0; 4];
    let s = acc
        .iter()
        .fold(_mm256_setzero_pd(), |s, v| _mm256_add_pd(s, *v));
    // SAFETY: `out` holds four f64.
    unsafe { _mm256_storeu_pd(out.as_mut_ptr(), s) };
    out.iter().sum()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let mut out = serde_json::Map::new();
    let mut put = |k: &str, v: serde_json::Value| {
        eprintln!("{k}: {v}");
        out.insert(k.to_string(), v);
    };
    // FMA counts as 2 flops.
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx512f() {
            // SAFETY: the feature is present.
            let s = best(|| unsafe { fma512(black_box(ITERS)) });
            put(
                "avx512_fma_gflops",
                (ITERS as f64 * 12.0 * 8.0 * 2.0 / s / 1e9).into(),
            );
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: the features are present.
            let s = best(|| {
                black_box(unsafe { fma256(ITERS) });
            });
            put(
                "avx2_fma_gflops",
                (ITERS as f64 * 12.0 * 4.0 * 2.0 / s / 1e9).into(),
            );
        }
    }
    // Transcendentals: calls per second over independent arguments.
    let xs: Vec<f64> = (0..4096).map(|i| -4.0 + 8.0 * i as f64 / 4096.0).collect();
    for (name, f) in [("exp", f64::exp as fn(f64) -> f64), ("tanh", f64::tanh)] {
        let reps = 200;
        let s = best(|| {
            let mut acc = 0.0;
            for _ in 0..reps {
                for &x in black_box(&xs) {
                    acc += f(x);
                }
            }
            black_box(acc);
        });
        put(
            &format!("{name}_ns"),
            (s / (reps * xs.len()) as f64 * 1e9).into(),
        );
    }

    // Bandwidth: read one buffer and write another of the same size (a gradient's pattern:
    // weights in, gradient out), bytes moved per second.
    for kib in [16usize, 1024, 2048, 4096, 8192, 16384, 65536] {
        let n = kib * 1024 / 8 / 2;
        let src = vec![1.0f64; n];
        let mut dst = vec![0.0f64; n];
        let reps = (16_384 / kib).max(1);
        // SAFETY: AVX2 and FMA are checked above for this x86-64 machine.
        let s = best(|| unsafe { rw_avx2(&mut dst, black_box(&src), reps) });
        put(
            &format!("rw_{kib}kib_gbs"),
            ((reps * n * 16) as f64 / s / 1e9).into(),
        );
    }

    // matrixmultiply through ndarray on the batch GEMM shape 1024 x 784 times 784 x 256.
    let a = ndarray::Array2::<f64>::from_elem((1024, 784), 0.5);
    let b = ndarray::Array2::<f64>::from_elem((784, 256), 0.25);
    let mut c = ndarray::Array2::<f64>::zeros((1024, 256));
    let s = best(|| ndarray::linalg::general_mat_mul(1.0, &a, &b, 0.0, &mut c));
    put(
        "matrixmultiply_gflops",
        (2.0 * 1024.0 * 784.0 * 256.0 / s / 1e9).into(),
    );
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    put(
        "loadavg",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
            .into(),
    );
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/results");
    std::fs::create_dir_all(dir).expect("bench/results");
    let doc = serde_json::Value::Object(out);
    std::fs::write(format!("{dir}/peak.json"), format!("{doc:#}\n")).expect("write");
}
