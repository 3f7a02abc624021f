//! The transcendental functions generated code calls as methods (`x.exp()`, `x.powi(2)`): with
//! the `std` feature the standard library's, without it `libm`'s, so that a `#![no_std]` crate
//! needs no platform math library.
//!
//! Generated modules import [`Math`] anonymously. Where the standard library is linked, its
//! inherent `f64::exp` and friends take precedence over a trait's methods of the same name, so
//! code built with `std` computes exactly what it always did; where it is not, the method
//! call resolves to this trait.

/// `exp`, `ln`, `ln_1p`, `sqrt`, `tanh`, `sin`, `cos`, `powi` and `powf` for `f32` and `f64`.
pub trait Math: Sized {
    /// `e^x`.
    fn exp(self) -> Self;
    /// The natural logarithm.
    fn ln(self) -> Self;
    /// `ln(1 + x)`, accurate near zero.
    fn ln_1p(self) -> Self;
    /// The square root.
    fn sqrt(self) -> Self;
    /// The hyperbolic tangent.
    fn tanh(self) -> Self;
    /// The sine.
    fn sin(self) -> Self;
    /// The cosine.
    fn cos(self) -> Self;
    /// `x^n` for an integer `n`.
    fn powi(self, n: i32) -> Self;
    /// `x^e`.
    fn powf(self, e: Self) -> Self;
}

/// `x^n` by repeated squaring, the algorithm of compiler-rt's `__powidf2` (what `f64::powi`
/// calls): the same result as `powi` with `std`.
#[cfg(not(feature = "std"))]
macro_rules! powi_by_squaring {
    ($x:expr, $n:expr) => {{
        let (mut a, mut b, mut r) = ($x, $n.unsigned_abs(), 1.0);
        loop {
            if b & 1 != 0 {
                r *= a;
            }
            b >>= 1;
            if b == 0 {
                break;
            }
            a *= a;
        }
        if $n < 0 { 1.0 / r } else { r }
    }};
}

macro_rules! math {
    ($t:ty, $exp:ident, $ln:ident, $ln_1p:ident, $sqrt:ident, $tanh:ident, $sin:ident, $cos:ident, $pow:ident) => {
        // With `std`, `<$t>::name` is the inherent method (inherent items take precedence);
        // without it, it would be this trait's own method, so libm is named instead.
        #[cfg(feature = "std")]
        impl Math for $t {
            #[inline(always)]
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            #[inline(always)]
            fn ln_1p(self) -> Self {
                <$t>::ln_1p(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
            #[inline(always)]
            fn sin(self) -> Self {
                <$t>::sin(self)
            }
            #[inline(always)]
            fn cos(self) -> Self {
                <$t>::cos(self)
            }
            #[inline(always)]
            fn powi(self, n: i32) -> Self {
                <$t>::powi(self, n)
            }
            #[inline(always)]
            fn powf(self, e: Self) -> Self {
                <$t>::powf(self, e)
            }
        }

        #[cfg(not(feature = "std"))]
        impl Math for $t {
            #[inline(always)]
            fn exp(self) -> Self {
                libm::$exp(self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                libm::$ln(self)
            }
            #[inline(always)]
            fn ln_1p(self) -> Self {
                libm::$ln_1p(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                libm::$sqrt(self)
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                libm::$tanh(self)
            }
            #[inline(always)]
            fn sin(self) -> Self {
                libm::$sin(self)
            }
            #[inline(always)]
            fn cos(self) -> Self {
                libm::$cos(self)
            }
            #[inline(always)]
            fn powi(self, n: i32) -> Self {
                powi_by_squaring!(self, n)
            }
            #[inline(always)]
            fn powf(self, e: Self) -> Self {
                libm::$pow(self, e)
            }
        }
    };
}
math!(f64, exp, log, log1p, sqrt, tanh, sin, cos, pow);
math!(f32, expf, logf, log1pf, sqrtf, tanhf, sinf, cosf, powf);
