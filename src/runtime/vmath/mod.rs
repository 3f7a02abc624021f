//! Element-wise `exp`, `tanh`, `sigmoid`, `ln` and `softplus` over whole slices, on every
//! vector unit the machine has: the batch functions' forward maps call [`map_in_place`]
//! instead of one scalar `libm` call per element.
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
//! `exp` carries over); infinities, NaN and signed zeros as `libm`. `f32` slices are computed in `f32`
//! (`kernels32.rs`: sixteen lanes on AVX-512), against `libm`'s `f64` result rounded to `f32`
//! over every 4,099th bit pattern and a grid of [-40, 40]: `exp` <= 1 ulp, `tanh` <= 2 ulp (1
//! measured), `sigmoid` <= 2 ulp, `ln` <= 1 ulp, `softplus` <= 3 ulp.

mod kernels;
mod kernels32;

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

impl Kernel {
    /// Every kernel, in declaration order.
    pub const ALL: [Kernel; 5] = [
        Kernel::Exp,
        Kernel::Tanh,
        Kernel::Sigmoid,
        Kernel::Ln,
        Kernel::Softplus,
    ];
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

/// The level chosen: 0 before the first call, else the level's code plus one.
static CHOSEN: AtomicU8 = AtomicU8::new(0);

/// The widest level this CPU supports, detected once (or the lower one [`limit_level`] set).
pub fn level() -> Level {
    let code = match CHOSEN.load(Ordering::Relaxed) {
        0 => {
            let code = detect() as u8 + 1;
            CHOSEN.store(code, Ordering::Relaxed);
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

/// Uses no level above `max` (nor above what the CPU supports) from now on, for every
/// thread: what tests use to compare the levels. The results do not change, only the speed.
pub fn limit_level(max: Level) {
    let code = detect().min(max) as u8 + 1;
    CHOSEN.store(code, Ordering::Relaxed);
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

/// A piece of work whose loops should use every lane the machine has: the statements form's
/// chunk of rows, given to [`widest`].
pub trait Vectorized {
    /// What the work returns.
    type Output;
    /// Does the work. Implementations mark it `#[inline(always)]`, so that it is compiled
    /// into each of [`widest`]'s copies for the instruction set of that copy.
    fn run(self) -> Self::Output;
}

/// Runs `work` compiled for the widest level of this CPU: the statements form's chunk of rows
/// goes through this, so that LLVM vectorizes its element-wise loops with every lane the
/// machine has although the user's crate is compiled for baseline x86-64.
///
/// `work.run()` is inlined (`#[inline(always)]`) into a copy of this function per level; what
/// it calls without inlining keeps its own code. Rust never fuses `a * b + c` into one
/// instruction and LLVM does not reorder floating-point sums, so each level computes the same
/// bits (`tests/batch_parallel.rs`).
#[inline]
pub fn widest<W: Vectorized>(work: W) -> W::Output {
    match level() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU supports AVX-512 F, DQ and VL (detected).
        Level::Avx512 => unsafe { on_avx512(work) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU supports AVX2 and FMA (detected).
        Level::Avx2 => unsafe { on_avx2(work) },
        _ => work.run(),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,fma")]
fn on_avx512<W: Vectorized>(work: W) -> W::Output {
    work.run()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn on_avx2<W: Vectorized>(work: W) -> W::Output {
    work.run()
}

/// The float types with slice kernels.
pub trait Lanes: Copy {
    /// `xs[i] = kernel(xs[i])`, compiled for `level`; `false` (and nothing written) if this
    /// CPU does not support it.
    fn map_in_place_at(level: Level, kernel: Kernel, xs: &mut [Self]) -> bool;
}

/// `xs[i] = kernel(xs[i])` for every element, on the widest vector unit of this CPU.
#[inline]
pub fn map_in_place<F: Lanes>(kernel: Kernel, xs: &mut [F]) {
    let done = F::map_in_place_at(level(), kernel, xs);
    debug_assert!(done, "the detected level is supported");
}

/// `dst[i] = kernel(src[i])` for every element, on the widest vector unit of this CPU.
///
/// # Panics
/// If the slices' lengths differ (a bug in the caller: generated code passes equal ones).
#[inline]
pub fn map<F: Lanes>(kernel: Kernel, src: &[F], dst: &mut [F]) {
    dst.copy_from_slice(src);
    map_in_place(kernel, dst);
}

#[inline(always)]
fn each(xs: &mut [f64], f: impl Fn(f64) -> f64) {
    for x in xs.iter_mut() {
        *x = f(*x);
    }
}

#[inline(always)]
fn run_f64(kernel: Kernel, xs: &mut [f64]) {
    match kernel {
        Kernel::Exp => each(xs, kernels::exp),
        Kernel::Tanh => each(xs, kernels::tanh),
        Kernel::Sigmoid => each(xs, kernels::sigmoid),
        Kernel::Ln => each(xs, kernels::ln),
        Kernel::Softplus => each(xs, kernels::softplus),
    }
}

#[inline(always)]
fn each32(xs: &mut [f32], f: impl Fn(f32) -> f32) {
    for x in xs.iter_mut() {
        *x = f(*x);
    }
}

/// `f32` in `f32` arithmetic (`kernels32.rs`): twice the lanes of `f64`.
#[inline(always)]
fn run_f32(kernel: Kernel, xs: &mut [f32]) {
    match kernel {
        Kernel::Exp => each32(xs, kernels32::exp),
        Kernel::Tanh => each32(xs, kernels32::tanh),
        Kernel::Sigmoid => each32(xs, kernels32::sigmoid),
        Kernel::Ln => each32(xs, kernels32::ln),
        Kernel::Softplus => each32(xs, kernels32::softplus),
    }
}

macro_rules! levels {
    ($t:ty, $run:ident, $avx2:ident, $avx512:ident) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        fn $avx2(kernel: Kernel, xs: &mut [$t]) {
            $run(kernel, xs)
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,fma")]
        fn $avx512(kernel: Kernel, xs: &mut [$t]) {
            $run(kernel, xs)
        }

        impl Lanes for $t {
            fn map_in_place_at(level: Level, kernel: Kernel, xs: &mut [$t]) -> bool {
                if level > self::level() {
                    return false;
                }
                match level {
                    Level::Baseline => $run(kernel, xs),
                    #[cfg(target_arch = "x86_64")]
                    // SAFETY: the CPU supports AVX2 and FMA (checked above).
                    Level::Avx2 => unsafe { $avx2(kernel, xs) },
                    #[cfg(target_arch = "x86_64")]
                    // SAFETY: the CPU supports AVX-512 F, DQ and VL (checked above).
                    Level::Avx512 => unsafe { $avx512(kernel, xs) },
                    #[cfg(not(target_arch = "x86_64"))]
                    _ => $run(kernel, xs),
                }
                true
            }
        }
    };
}

levels!(f64, run_f64, f64_avx2, f64_avx512);
levels!(f32, run_f32, f32_avx2, f32_avx512);
