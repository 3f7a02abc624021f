//! Branch-free `f64` kernels for `exp`, `tanh`, `sigmoid`, `ln` and `softplus`: every lane
//! runs the same instructions (both sides of a case are computed and one is selected), the
//! exponent is scaled by integer arithmetic on the bits, and no `f64 <-> i64` conversion is
//! used, so a loop over a slice of them vectorizes at any width LLVM is allowed to use.
//!
//! None of them uses a fused multiply-add: Rust never contracts `a * b + c`, so each result
//! is the same to the last bit whichever instruction set the loop was compiled for.
//! Error bounds against `libm` are measured in `tests/vmath.rs` and stated in `mod.rs`.

// The constants are written as fdlibm and Cephes publish them, digits beyond f64 included.
#![allow(clippy::excessive_precision)]

/// `1.5 * 2^52`: adding it rounds a float of magnitude below 2^51 to an integer, which is
/// then the low bits of the sum's representation.
const SHIFT: f64 = 6_755_399_441_055_744.0;
const LOG2_E: f64 = core::f64::consts::LOG2_E;
/// ln 2 split so that `k * LN2_HI` is exact for |k| < 2^20 (fdlibm's `ln2HI`/`ln2LO`).
const LN2_HI: f64 = 6.931_471_803_691_238_164_9e-1;
const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;

/// `2^k` for `-1022 <= k <= 1023`, from the exponent bits.
#[inline(always)]
fn pow2(k: i64) -> f64 {
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// The integer `k` that `round(y)` holds once `y + SHIFT` has been computed.
#[inline(always)]
fn shifted_integer(shifted: f64) -> i64 {
    shifted.to_bits() as i64 - SHIFT.to_bits() as i64
}

/// An integer of magnitude below 2^51 as a float, without a conversion instruction.
#[inline(always)]
fn integer_as_float(k: i64) -> f64 {
    f64::from_bits((SHIFT.to_bits() as i64 + k) as u64) - SHIFT
}

/// `e^x`: `x = k ln 2 + r` with `|r| <= ln 2 / 2` (Cody and Waite), `e^r` by its Taylor
/// series to degree 13 (the next term is below 2^-56 of the sum), times `2^k` in two
/// halves so that results down to the subnormals are rounded once.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    // Beyond +-1100 the result is already inf or 0; the clamp keeps k's halves normal. NaN
    // stays NaN through `clamp`.
    let x = x.clamp(-1100.0, 1100.0);
    let shifted = x * LOG2_E + SHIFT;
    let kf = shifted - SHIFT;
    let k = shifted_integer(shifted);
    let r = (x - kf * LN2_HI) - kf * LN2_LO;
    const C: [f64; 12] = [
        1.0 / 2.0,
        1.0 / 6.0,
        1.0 / 24.0,
        1.0 / 120.0,
        1.0 / 720.0,
        1.0 / 5_040.0,
        1.0 / 40_320.0,
        1.0 / 362_880.0,
        1.0 / 3_628_800.0,
        1.0 / 39_916_800.0,
        1.0 / 479_001_600.0,
        1.0 / 6_227_020_800.0,
    ];
    let mut p = C[11];
    let mut i = 11;
    while i > 0 {
        i -= 1;
        p = p * r + C[i];
    }
    let p = 1.0 + r * (1.0 + r * p);
    let half = k >> 1;
    (p * pow2(half)) * pow2(k - half)
}

/// `tanh x`: Cephes' rational approximation `x + x^3 P(x^2) / Q(x^2)` for `|x| <= 0.625`,
/// `1 - 2 / (e^{2|x|} + 1)` with the sign of x beyond.
#[inline(always)]
pub fn tanh(x: f64) -> f64 {
    const P: [f64; 3] = [
        -9.643_991_794_250_522_386_28e-1,
        -9.928_772_310_019_185_865_64e1,
        -1.614_687_684_417_084_479_52e3,
    ];
    const Q: [f64; 3] = [
        1.128_116_784_916_329_314_02e2,
        2.235_488_390_601_004_485_83e3,
        4.844_063_053_251_254_860_48e3,
    ];
    let a = x.abs();
    let far = (1.0 - 2.0 / (exp(2.0 * a) + 1.0)).copysign(x);
    let z = x * x;
    let p = (P[0] * z + P[1]) * z + P[2];
    let q = ((z + Q[0]) * z + Q[1]) * z + Q[2];
    let near = x + x * z * (p / q);
    // `near` of a zero is +0 whatever its sign; tanh keeps the sign.
    let near = if x == 0.0 { x } else { near };
    if a > 0.625 { far } else { near }
}

/// `1 / (1 + e^-x)`, as `1 / (1 + e^-x)` for x >= 0 and `e^x / (1 + e^x)` below, so that it
/// neither overflows nor loses the small values of large negative x.
#[inline(always)]
pub fn sigmoid(x: f64) -> f64 {
    let e = exp(-x.abs());
    let numerator = if x >= 0.0 { 1.0 } else { e };
    numerator / (1.0 + e)
}

/// The natural logarithm (fdlibm's `e_log.c`): `x = 2^k m` with `sqrt(2)/2 < m <= sqrt(2)`,
/// `ln m = 2 atanh(f / (2 + f))` with `f = m - 1` by a polynomial in `s^2`.
#[inline(always)]
pub fn ln(x: f64) -> f64 {
    const TWO_54: f64 = 18_014_398_509_481_984.0;
    let subnormal = x < f64::MIN_POSITIVE;
    let scaled = if subnormal { x * TWO_54 } else { x };
    let finite = ln_scaled(scaled, if subnormal { 54 } else { 0 });
    // Selects without short-circuits, so that the loop stays branch-free.
    let zero = x == 0.0;
    let special = (x <= 0.0) | x.is_nan() | (x == f64::INFINITY);
    let special_value = if zero {
        f64::NEG_INFINITY
    } else if x == f64::INFINITY {
        x
    } else {
        f64::NAN
    };
    if special { special_value } else { finite }
}

/// `ln(x / 2^shift)` for a positive normal finite `x`.
#[inline(always)]
fn ln_scaled(x: f64, shift: i64) -> f64 {
    const LG: [f64; 7] = [
        6.666_666_666_666_735_130e-1,
        3.999_999_999_940_941_908e-1,
        2.857_142_874_366_239_149e-1,
        2.222_219_843_214_978_396e-1,
        1.818_357_216_161_805_012e-1,
        1.531_383_769_920_937_332e-1,
        1.479_819_860_511_658_591e-1,
    ];
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i64;
    let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    let high = m > core::f64::consts::SQRT_2;
    let m = if high { m * 0.5 } else { m };
    let k = biased - 1023 - shift + if high { 1 } else { 0 };
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG[1] + w * (LG[3] + w * LG[5]));
    let t2 = z * (LG[0] + w * (LG[2] + w * (LG[4] + w * LG[6])));
    let r = t2 + t1;
    let hfsq = 0.5 * f * f;
    let dk = integer_as_float(k);
    dk * LN2_HI - ((hfsq - (s * (hfsq + r) + dk * LN2_LO)) - f)
}

/// `ln(1 + e^x)` as `max(x, 0) + ln(1 + e^-|x|)`, the logarithm of `1 + y` corrected for
/// the rounding of `1 + y` (Goldberg: `ln(u) y / (u - 1)`).
#[inline(always)]
pub fn softplus(x: f64) -> f64 {
    let y = exp(-x.abs());
    let u = 1.0 + y;
    let d = u - 1.0;
    // Computed for every lane and then selected: written as a branch, LLVM keeps the branch
    // (it does not speculate the division and the logarithm) and the loop stays scalar.
    let corrected = ln_scaled(u, 0) * (y / d);
    let log1p = if d == 0.0 { y } else { corrected };
    let positive = if x > 0.0 { x } else { 0.0 };
    // NaN: every comparison is false, so `positive` is 0 and `y` carries the NaN.
    positive + log1p
}
