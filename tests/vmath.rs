//! The slice kernels of `chainrule::runtime::vmath` against `libm`: the error in ulps over
//! every binade from the subnormals to the overflow threshold, at +-1000 and at the special
//! values, and the same bits at every instruction-set level the CPU supports.

mod support;

use chainrule::libm;
use chainrule::runtime::vmath::{self, Kernel, Lanes, Level};
use support::Rng;

/// The distance in representable doubles between two finite values (or 0 when both are the
/// same infinity or both NaN; `u64::MAX` when only one is NaN or they differ in infinity).
fn ulps(a: f64, b: f64) -> u64 {
    let ordered = |x: f64| {
        let bits = x.to_bits() as i64;
        if bits < 0 { i64::MIN - bits } else { bits }
    };
    distance(
        [a.is_nan(), b.is_nan()],
        a.is_infinite() || b.is_infinite(),
        a == b,
        [ordered(a), ordered(b)],
    )
}

/// [`ulps`] for `f32`.
fn ulps32(a: f32, b: f32) -> u64 {
    let ordered = |x: f32| {
        let bits = i64::from(x.to_bits() as i32);
        if bits < 0 {
            i64::from(i32::MIN) - bits
        } else {
            bits
        }
    };
    distance(
        [a.is_nan(), b.is_nan()],
        a.is_infinite() || b.is_infinite(),
        a == b,
        [ordered(a), ordered(b)],
    )
}

/// The distance between two floats given as their order among the floats of their type.
fn distance(nan: [bool; 2], infinite: bool, equal: bool, ordered: [i64; 2]) -> u64 {
    if nan[0] || nan[1] {
        return if nan[0] && nan[1] { 0 } else { u64::MAX };
    }
    if infinite {
        return if equal { 0 } else { u64::MAX };
    }
    ordered[0].abs_diff(ordered[1])
}

/// Random doubles spread over every binade of `[-max, max]` (both signs unless `positive`),
/// subnormals included, plus the values every kernel must get right.
fn samples(rng: &mut Rng, max: f64, positive: bool) -> Vec<f64> {
    let mut out = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        1000.0,
        -1000.0,
        f64::MIN_POSITIVE,
        5e-324,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        0.625,
        -0.625,
        709.78,
        -745.1,
        -708.5,
    ];
    for _ in 0..200_000 {
        // A uniform exponent, then a uniform mantissa: every binade equally often.
        let exponent = rng.next_u64() % 2047;
        let bits = (exponent << 52) | (rng.next_u64() >> 12);
        let mut x = f64::from_bits(bits);
        if x > max {
            x = rng.uniform(0.0, max);
        }
        if !positive && rng.next_u64() & 1 == 1 {
            x = -x;
        }
        out.push(x);
    }
    for _ in 0..50_000 {
        out.push(rng.uniform(if positive { 0.0 } else { -40.0 }, 40.0));
    }
    if positive {
        out.retain(|x| x.is_nan() || *x >= 0.0 || x.is_infinite());
    }
    out
}

fn reference(kernel: Kernel, x: f64) -> f64 {
    match kernel {
        Kernel::Exp => libm::exp(x),
        Kernel::Tanh => libm::tanh(x),
        // The formulas of the per-sample code (`Real::sigmoid`, `Real::softplus`) with libm.
        Kernel::Sigmoid => {
            if x >= 0.0 {
                1.0 / (1.0 + libm::exp(-x))
            } else {
                let e = libm::exp(x);
                e / (1.0 + e)
            }
        }
        Kernel::Ln => libm::log(x),
        Kernel::Softplus => {
            if x > 0.0 {
                x + libm::log1p(libm::exp(-x))
            } else {
                libm::log1p(libm::exp(x))
            }
        }
    }
}

/// The largest error in ulps over the samples, and the input where it occurs.
fn worst(kernel: Kernel, xs: &[f64]) -> (u64, f64) {
    let mut out = vec![0.0; xs.len()];
    vmath::map(kernel, xs, &mut out);
    xs.iter()
        .zip(&out)
        .map(|(x, y)| (ulps(*y, reference(kernel, *x)), *x))
        .max_by_key(|(e, _)| *e)
        .unwrap_or((0, 0.0))
}

#[test]
fn every_kernel_is_within_its_stated_bound_of_libm() {
    let mut rng = Rng(0x5eed_0001);
    let cases = [
        (Kernel::Exp, 1100.0, false, 1),
        (Kernel::Tanh, f64::MAX, false, 2),
        (Kernel::Sigmoid, f64::MAX, false, 2),
        (Kernel::Ln, f64::MAX, true, 1),
        (Kernel::Softplus, f64::MAX, false, 3),
    ];
    let mut report = Vec::new();
    for (kernel, max, positive, bound) in cases {
        let xs = samples(&mut rng, max, positive);
        let (error, at) = worst(kernel, &xs);
        report.push(format!("{kernel:?}: {error} ulp at {at:e}"));
        assert!(
            error <= bound,
            "{kernel:?}: {error} ulp at x = {at:e} (bound {bound})"
        );
    }
    println!("{}", report.join("\n"));
}

#[test]
fn the_special_values_are_those_of_libm() {
    let specials = [
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        1000.0,
        -1000.0,
        5e-324,
        -5e-324,
    ];
    for kernel in Kernel::ALL {
        let mut out = [0.0; 9];
        vmath::map(kernel, &specials, &mut out);
        for (x, y) in specials.iter().zip(&out) {
            let want = reference(kernel, *x);
            let same_zero = *y != 0.0 || y.is_sign_negative() == want.is_sign_negative();
            assert!(
                ulps(*y, want) <= 1 && same_zero,
                "{kernel:?}({x:e}) = {y:e}, libm {want:e}"
            );
        }
    }
}

/// Every 4,099th `f32` bit pattern (all binades, both signs, subnormals, infinities and NaNs
/// among them), every value on a fine grid of [-40, 40], and the special values.
fn samples32() -> Vec<f32> {
    let mut out: Vec<f32> = (0..=u32::MAX).step_by(4_099).map(f32::from_bits).collect();
    out.extend((-400_000..=400_000).map(|i| i as f32 * 1e-4));
    out.extend([
        0.0,
        -0.0,
        f32::MIN_POSITIVE,
        1e-45,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        0.625,
        -0.625,
        88.72,
        -87.33,
        -103.9,
        1000.0,
        -1000.0,
    ]);
    out
}

/// The `f32` kernels, computed in `f32`, against libm's `f64` result rounded to `f32` (the
/// correctly rounded value but for double roundings): within the bounds `vmath`'s docs state.
#[test]
fn f32_kernels_stay_within_their_bounds() {
    let xs = samples32();
    let bounds = [
        (Kernel::Exp, 1),
        (Kernel::Tanh, 2),
        (Kernel::Sigmoid, 2),
        (Kernel::Ln, 1),
        (Kernel::Softplus, 3),
    ];
    for (kernel, bound) in bounds {
        let mut out = vec![0.0f32; xs.len()];
        vmath::map(kernel, &xs, &mut out);
        let mut worst = (0, 0.0f32);
        for (x, y) in xs.iter().zip(&out) {
            let want = reference(kernel, f64::from(*x)) as f32;
            let distance = ulps32(*y, want);
            let same_zero = *y != 0.0 || y.is_sign_negative() == want.is_sign_negative();
            assert!(same_zero, "{kernel:?}({x:e}) = {y:e}, libm {want:e}");
            if distance > worst.0 {
                worst = (distance, *x);
            }
        }
        assert!(
            worst.0 <= bound,
            "{kernel:?}: {} ulp at {:e} (bound {bound})",
            worst.0,
            worst.1
        );
        eprintln!("{kernel:?} f32: at most {} ulp", worst.0);
    }
}

#[test]
fn every_level_gives_the_same_bits() {
    let mut rng = Rng(0x5eed_0003);
    let xs = samples(&mut rng, 800.0, false);
    let positive: Vec<f64> = xs.iter().map(|x| x.abs()).collect();
    let levels = [Level::Baseline, Level::Avx2, Level::Avx512];
    let supported: Vec<Level> = levels
        .into_iter()
        .filter(|l| *l <= vmath::level())
        .collect();
    for kernel in Kernel::ALL {
        let input = if kernel == Kernel::Ln { &positive } else { &xs };
        let results: Vec<Vec<u64>> = supported
            .iter()
            .map(|level| {
                let mut out = input.clone();
                assert!(f64::map_in_place_at(*level, kernel, &mut out));
                out.iter().map(|y| y.to_bits()).collect()
            })
            .collect();
        for (level, bits) in supported.iter().zip(&results) {
            assert!(
                bits == &results[0],
                "{kernel:?} at {level:?} differs from baseline"
            );
        }
        let single: Vec<f32> = input.iter().map(|x| *x as f32).collect();
        let results: Vec<Vec<u32>> = supported
            .iter()
            .map(|level| {
                let mut out = single.clone();
                assert!(f32::map_in_place_at(*level, kernel, &mut out));
                out.iter().map(|y| y.to_bits()).collect()
            })
            .collect();
        for (level, bits) in supported.iter().zip(&results) {
            assert!(
                bits == &results[0],
                "{kernel:?} in f32 at {level:?} differs from baseline"
            );
        }
    }
    // A level above the CPU's is refused, not run.
    if vmath::level() < Level::Avx512 {
        let mut out = [1.0];
        assert!(!f64::map_in_place_at(Level::Avx512, Kernel::Exp, &mut out));
    }
}

/// The per-sample `Real::sigmoid` and `Real::softplus` are written branch-free (a select on
/// the sign of `exp(-|z|)`'s argument); they must give exactly the bits of the two-branch
/// stable formulas they replaced, at every sample and special value, in f64 and f32.
#[test]
fn the_branch_free_sigmoid_and_softplus_keep_the_two_branch_bits() {
    use chainrule::runtime::Real;
    let mut rng = Rng(0x5157);
    let xs = samples(&mut rng, 1000.0, false);
    let same = |a: f64, b: f64| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
    for &x in &xs {
        let sigmoid = if x >= 0.0 {
            1.0 / (1.0 + (-x).exp())
        } else {
            let e = x.exp();
            e / (1.0 + e)
        };
        let softplus = if x > 0.0 {
            x + (-x).exp().ln_1p()
        } else {
            x.exp().ln_1p()
        };
        assert!(same(Real::sigmoid(x), sigmoid), "sigmoid({x:e})");
        assert!(same(Real::softplus(x), softplus), "softplus({x:e})");
        let y = x as f32;
        let sigmoid32 = if y >= 0.0 {
            1.0 / (1.0 + (-y).exp())
        } else {
            let e = y.exp();
            e / (1.0 + e)
        };
        let same32 = |a: f32, b: f32| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
        assert!(same32(Real::sigmoid(y), sigmoid32), "sigmoid({y:e}f32)");
    }
}
