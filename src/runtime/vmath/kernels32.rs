//! Branch-free `f32` kernels for `exp`, `tanh`, `sigmoid`, `ln` and `softplus`, in `f32`
//! arithmetic, so that a slice loop runs sixteen lanes on AVX-512 (eight on AVX2) where the
//! `f64` kernels run eight: the same algorithms as `kernels.rs` with Cephes' and fdlibm's
//! single-precision polynomials.
//!
//! As there, no fused multiply-add and no `f32 <-> i32` conversion instruction: each result is
//! the same to the last bit at every level. Error bounds are measured in `tests/vmath.rs` and
//! stated in `mod.rs`.

// The constants are written as Cephes and fdlibm publish them.
#![allow(clippy::excessive_precision)]

/// `1.5 * 2^23`: adding it rounds a float of magnitude below 2^22 to an integer, which is
/// then the low bits of the sum's representation.
const SHIFT: f32 = 12_582_912.0;
const LOG2_E: f32 = core::f32::consts::LOG2_E;
/// ln 2 split so that `k * LN2_HI` is exact for the `k` that occur (Cephes' `C1`, `C2`).
const LN2_HI: f32 = 0.693_359_375;
const LN2_LO: f32 = -2.121_944_4e-4;

/// `2^k` for `-126 <= k <= 127`, from the exponent bits.
#[inline(always)]
fn pow2(k: i32) -> f32 {
    f32::from_bits(((k + 127) as u32) << 23)
}

/// `e^x`: `x = k ln 2 + r` with `|r| <= ln 2 / 2`, `e^r = 1 + r + r^2 P(r)` with Cephes'
/// `expf` polynomial, times `2^k` in two halves so that results down to the subnormals are
/// rounded once.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    // Beyond these the result is already inf or 0; the clamp keeps k's halves normal. NaN
    // stays NaN through `clamp`.
    let x = x.clamp(-110.0, 100.0);
    let shifted = x * LOG2_E + SHIFT;
    let kf = shifted - SHIFT;
    let k = shifted.to_bits() as i32 - SHIFT.to_bits() as i32;
    let r = (x - kf * LN2_HI) - kf * LN2_LO;
    let z = r * r;
    let p = ((((1.987_569_15e-4 * r + 1.398_199_95e-3) * r + 8.333_451_9e-3) * r + 4.166_579_6e-2)
        * r
        + 1.666_666_5e-1)
        * r
        + 5.000_000_1e-1;
    let e = p * z + r + 1.0;
    let half = k >> 1;
    (e * pow2(half)) * pow2(k - half)
}

/// `tanh x`: Cephes' `tanhf` polynomial `x + x^3 P(x^2)` for `|x| < 0.625`,
/// `1 - 2 / (e^{2|x|} + 1)` with the sign of x beyond.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    let a = x.abs();
    let far = (1.0 - 2.0 / (exp(2.0 * a) + 1.0)).copysign(x);
    let z = x * x;
    let p = (((-5.704_988_7e-3 * z + 2.063_908_9e-2) * z - 5.373_971_6e-2) * z + 1.333_144_2e-1)
        * z
        - 3.333_328_2e-1;
    let near = p * z * x + x;
    // `near` of a zero is +0 whatever its sign; tanh keeps the sign.
    let near = if x == 0.0 { x } else { near };
    if a < 0.625 { near } else { far }
}

/// `1 / (1 + e^-x)`, as `1 / (1 + e^-x)` for x >= 0 and `e^x / (1 + e^x)` below.
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    let e = exp(-x.abs());
    let numerator = if x >= 0.0 { 1.0 } else { e };
    numerator / (1.0 + e)
}

/// The natural logarithm (fdlibm's `e_logf.c` polynomial): `x = 2^k m` with
/// `sqrt(2)/2 < m <= sqrt(2)`, `ln m = 2 atanh(f / (2 + f))` with `f = m - 1`.
#[inline(always)]
pub fn ln(x: f32) -> f32 {
    const TWO_25: f32 = 33_554_432.0;
    let subnormal = x < f32::MIN_POSITIVE;
    let scaled = if subnormal { x * TWO_25 } else { x };
    let finite = ln_scaled(scaled, if subnormal { 25 } else { 0 });
    let zero = x == 0.0;
    let special = (x <= 0.0) | x.is_nan() | (x == f32::INFINITY);
    let special_value = if zero {
        f32::NEG_INFINITY
    } else if x == f32::INFINITY {
        x
    } else {
        f32::NAN
    };
    if special { special_value } else { finite }
}

/// `ln(x / 2^shift)` for a positive normal finite `x`.
#[inline(always)]
fn ln_scaled(x: f32, shift: i32) -> f32 {
    const LG: [f32; 7] = [
        6.666_666_865_3e-1,
        4.000_000_059_6e-1,
        2.857_142_984_9e-1,
        2.222_219_854_6e-1,
        1.818_357_259_0e-1,
        1.531_383_842_2e-1,
        1.479_819_864_0e-1,
    ];
    // fdlibm's single-precision split of ln 2.
    const HI: f32 = 6.931_381_225_6e-1;
    const LO: f32 = 9.058_000_614_5e-6;
    let bits = x.to_bits();
    let biased = ((bits >> 23) & 0xff) as i32;
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let high = m > core::f32::consts::SQRT_2;
    let m = if high { m * 0.5 } else { m };
    let k = biased - 127 - shift + if high { 1 } else { 0 };
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG[1] + w * (LG[3] + w * LG[5]));
    let t2 = z * (LG[0] + w * (LG[2] + w * (LG[4] + w * LG[6])));
    let r = t2 + t1;
    let hfsq = 0.5 * f * f;
    // |k| < 2^22: exact through the shifted representation.
    let dk = f32::from_bits((SHIFT.to_bits() as i32 + k) as u32) - SHIFT;
    dk * HI - ((hfsq - (s * (hfsq + r) + dk * LO)) - f)
}

/// `ln(1 + e^x)` as `max(x, 0) + ln(1 + e^-|x|)`, the logarithm of `1 + y` corrected for
/// the rounding of `1 + y` (Goldberg: `ln(u) y / (u - 1)`).
#[inline(always)]
pub fn softplus(x: f32) -> f32 {
    let y = exp(-x.abs());
    let u = 1.0 + y;
    let d = u - 1.0;
    let corrected = ln_scaled(u, 0) * (y / d);
    let log1p = if d == 0.0 { y } else { corrected };
    let positive = if x > 0.0 { x } else { 0.0 };
    positive + log1p
}
