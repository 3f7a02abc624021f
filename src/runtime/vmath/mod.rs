//! Element-wise `exp`, `tanh`, `sigmoid`, `ln` and `softplus` over whole slices, on every
//! vector unit the machine has: the batch functions' forward maps call [`map`] instead of
//! one scalar `libm` call per element.
//!
//! The generated code is a library inside someone else's binary and cannot ask for
//! `-C target-cpu=native`, so each slice loop is compiled three times (baseline x86-64,
//! AVX2 + FMA, AVX-512) and the widest the CPU supports is chosen once, at the first call
//! ([`level`]). The kernels use no fused multiply-add, so the three give the same result to
//! the last bit (tested).
//!
//! Accuracy, measured over every binade from the subnormals to the overflow threshold, at
//! +-1000 and on [-40, 40] (`tests/vmath.rs`), against `libm`'s `exp`, `tanh` and `log`, and
//! against the per-sample code's `sigmoid` and `softplus` formulas evaluated with `libm`:
//! `exp` <= 1 ulp, `tanh` <= 2 ulp, `sigmoid` <= 2 ulp, `ln` <= 1 ulp (0 measured: the same
//! algorithm), `softplus` <= 3 ulp (where it is `e^x` itself, below x = -20, the error of
//! `exp` carries over); infinities, NaN and signed zeros as `libm`. `f32` slices are computed in `f64` and rounded
//! once: within 1 ulp of `f32`.

mod kernels;

#[doc(hidden)]
pub use kernels::{exp, ln, sigmoid, softplus, tanh};

use core::sync::atomic::{AtomicU8, Ordering};

/// The functions with a slice kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// `e^x`
    Exp,
    /// `tanh x`
    Tanh,
    /// `1 / (1 + e^-x)`
    Sigmoid,
    /// `ln x`
    Ln,
    /// `ln(1 + e^x)`
    Softplus,
}

/// The instruction sets a slice loop is compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// x86-64 as the crate was compiled (SSE2 on a default target), or any other CPU.
    Baseline,
    /// AVX2 with FMA (four `f64` lanes).
    Avx2,
    /// AVX-512 F, DQ and VL (eight `f64` lanes).
    Avx512,
}

/// The widest level this CPU supports, detected once.
pub fn level() -> Level {
    static DETECTED: AtomicU8 = AtomicU8::new(0);
    let code = match DETECTED.load(Ordering::Relaxed) {
        0 => {
            let code = detect() as u8 + 1;
            DETECTED.store(code, Ordering::Relaxed);
            code
        }
        code => code,
    };
    match code {
        3 => Level::Avx512,
        2 => Level::Avx2,
        _ => Level::Baseline,
    }
}

fn detect() -> Level {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512dq")
            && std::is_x86_feature_detected!("avx512vl")
        {
            return Level::Avx512;
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            return Level::Avx2;
        }
    }
    Level::Baseline
}

/// The float types with slice kernels.
pub trait Lanes: Copy {
    /// `dst[i] = kernel(src[i])`, compiled for `level`; `false` (and nothing written) if this
    /// CPU does not support it.
    fn map_at(level: Level, kernel: Kernel, src: &[Self], dst: &mut [Self]) -> bool;
}

/// `dst[i] = kernel(src[i])` for every element, on the widest vector unit of this CPU.
///
/// # Panics
/// If the slices' lengths differ (a bug in the caller: generated code passes equal ones).
#[inline]
pub fn map<F: Lanes>(kernel: Kernel, src: &[F], dst: &mut [F]) {
    assert_eq!(
        src.len(),
        dst.len(),
        "vmath::map over slices of different lengths"
    ); // ok: a caller's bug, not input
    let done = F::map_at(level(), kernel, src, dst);
    debug_assert!(done, "the detected level is supported");
}

#[inline(always)]
fn each(src: &[f64], dst: &mut [f64], f: impl Fn(f64) -> f64) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = f(*s);
    }
}

#[inline(always)]
fn run_f64(kernel: Kernel, src: &[f64], dst: &mut [f64]) {
    match kernel {
        Kernel::Exp => each(src, dst, kernels::exp),
        Kernel::Tanh => each(src, dst, kernels::tanh),
        Kernel::Sigmoid => each(src, dst, kernels::sigmoid),
        Kernel::Ln => each(src, dst, kernels::ln),
        Kernel::Softplus => each(src, dst, kernels::softplus),
    }
}

/// `f32` through `f64` in chunks on the stack: one rounding at the end.
#[inline(always)]
fn run_f32(kernel: Kernel, src: &[f32], dst: &mut [f32]) {
    const CHUNK: usize = 64;
    let (mut wide_in, mut wide_out) = ([0.0f64; CHUNK], [0.0f64; CHUNK]);
    for (s, d) in src.chunks(CHUNK).zip(dst.chunks_mut(CHUNK)) {
        let n = s.len();
        for (w, x) in wide_in[..n].iter_mut().zip(s) {
            *w = f64::from(*x);
        }
        run_f64(kernel, &wide_in[..n], &mut wide_out[..n]);
        for (x, w) in d.iter_mut().zip(&wide_out[..n]) {
            *x = *w as f32;
        }
    }
}

macro_rules! levels {
    ($t:ty, $run:ident, $avx2:ident, $avx512:ident) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        fn $avx2(kernel: Kernel, src: &[$t], dst: &mut [$t]) {
            $run(kernel, src, dst)
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,fma")]
        fn $avx512(kernel: Kernel, src: &[$t], dst: &mut [$t]) {
            $run(kernel, src, dst)
        }

        impl Lanes for $t {
            fn map_at(level: Level, kernel: Kernel, src: &[$t], dst: &mut [$t]) -> bool {
                if level > self::level() {
                    return false;
                }
                match level {
                    Level::Baseline => $run(kernel, src, dst),
                    #[cfg(target_arch = "x86_64")]
                    // SAFETY: the CPU supports AVX2 and FMA (checked above).
                    Level::Avx2 => unsafe { $avx2(kernel, src, dst) },
                    #[cfg(target_arch = "x86_64")]
                    // SAFETY: the CPU supports AVX-512 F, DQ and VL (checked above).
                    Level::Avx512 => unsafe { $avx512(kernel, src, dst) },
                    #[cfg(not(target_arch = "x86_64"))]
                    _ => $run(kernel, src, dst),
                }
                true
            }
        }
    };
}

levels!(f64, run_f64, f64_avx2, f64_avx512);
levels!(f32, run_f32, f32_avx2, f32_avx512);
