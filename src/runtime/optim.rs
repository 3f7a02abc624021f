//! The optimizers' update of one parameter element, shared by every generated `momentum_step`
//! and `adam_step` (per sample and per batch): the arithmetic of PyTorch's documented update
//! rules for `torch.optim.SGD(momentum=mu)` (no dampening, no Nesterov), `Adam` and `AdamW`.

use super::Real;

/// The constants of one momentum step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MomentumStep<F> {
    /// The learning rate.
    pub lr: F,
    /// The momentum factor.
    pub mu: F,
}

/// `buf = mu * buf + g; p -= lr * buf`. PyTorch sets `buf = g` at the first step; a buffer
/// that starts at zero gives exactly that (`mu * 0 + g == g`).
#[inline(always)]
pub fn momentum_update<F: Real>(p: &mut F, buf: &mut F, g: F, k: &MomentumStep<F>) {
    *buf = k.mu * *buf + g;
    *p = *p - k.lr * *buf;
}

/// `p[i] -= lr * g[i]` for consecutive elements: a gradient-descent step of a run of
/// elements, as one loop LLVM vectorizes.
#[inline]
pub fn sgd_update_run<F: Real>(p: &mut [F], g: &[F], lr: F) {
    for (p, g) in p[..g.len()].iter_mut().zip(g) {
        *p = *p - lr * *g;
    }
}

/// [`momentum_update`] of consecutive elements, `g[i]` the gradient of `p[i]`.
#[inline]
pub fn momentum_update_run<F: Real>(p: &mut [F], buf: &mut [F], g: &[F], k: &MomentumStep<F>) {
    let n = g.len();
    for (i, (p, buf)) in p[..n].iter_mut().zip(&mut buf[..n]).enumerate() {
        momentum_update(p, buf, g[i], k);
    }
}

/// The constants of one Adam step, bias corrections included.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamStep<F> {
    /// The learning rate.
    pub lr: F,
    /// `beta1`, `beta2`.
    pub beta1: F,
    pub beta2: F,
    /// `1 - beta1`, `1 - beta2`.
    pub one_minus_beta1: F,
    pub one_minus_beta2: F,
    /// Added to the square root of the second moment.
    pub eps: F,
    /// `lr * weight_decay`: the decoupled (AdamW) decay of each weight.
    pub decay: F,
    /// `1 / (1 - beta1^t)`, `1 / (1 - beta2^t)`: the bias corrections as factors, so that
    /// an element costs one division and one square root.
    pub inv_correction1: F,
    pub inv_correction2: F,
}

impl<F: Real> AdamStep<F> {
    /// The constants of step `t` (counted from 1).
    pub fn new(lr: F, beta1: F, beta2: F, eps: F, weight_decay: F, t: u32) -> Self {
        // Past 2^31 steps beta^t has long been zero.
        let n = t.min(i32::MAX as u32);
        Self::with_powers(lr, beta1, beta2, eps, weight_decay, powers(beta1, beta2, n))
    }

    /// The constants of a step whose `(beta1^t, beta2^t)` are known ([`AdamPowers::at`]).
    pub fn with_powers(
        lr: F,
        beta1: F,
        beta2: F,
        eps: F,
        weight_decay: F,
        (beta1_t, beta2_t): (F, F),
    ) -> Self {
        AdamStep {
            lr,
            beta1,
            beta2,
            one_minus_beta1: F::ONE - beta1,
            one_minus_beta2: F::ONE - beta2,
            eps,
            decay: lr * weight_decay,
            inv_correction1: F::ONE / (F::ONE - beta1_t),
            inv_correction2: F::ONE / (F::ONE - beta2_t),
        }
    }
}

/// `beta1^t` and `beta2^t` of an Adam state's last step, so that the next step multiplies
/// once instead of raising to the power `t`: for a small network, raising took a quarter of
/// `adam_step`'s time (BENCHMARKS.md, the calibration example). Recomputed whenever `t` or
/// a beta changed in between, so a state edited by hand (a step count restored, a beta
/// changed) still gets its exact powers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamPowers<F> {
    t: u32,
    beta1: F,
    beta2: F,
    beta1_t: F,
    beta2_t: F,
}

impl<F: Real> AdamPowers<F> {
    /// The powers before the first step (`t = 0`).
    pub fn new(beta1: F, beta2: F) -> Self {
        AdamPowers {
            t: 0,
            beta1,
            beta2,
            beta1_t: F::ONE,
            beta2_t: F::ONE,
        }
    }

    /// `(beta1^t, beta2^t)`, remembered for step `t + 1`.
    #[inline]
    pub fn at(&mut self, beta1: F, beta2: F, t: u32) -> (F, F) {
        let next = self.t.checked_add(1) == Some(t);
        (self.beta1_t, self.beta2_t) = if next && self.beta1 == beta1 && self.beta2 == beta2 {
            (self.beta1_t * beta1, self.beta2_t * beta2)
        } else {
            exact_powers(beta1, beta2, t)
        };
        (self.t, self.beta1, self.beta2) = (t, beta1, beta2);
        (self.beta1_t, self.beta2_t)
    }
}

/// `(beta1^t, beta2^t)` afresh: out of line, so that the usual step (one multiplication)
/// stays small where it is inlined.
#[cold]
#[inline(never)]
fn exact_powers<F: Real>(beta1: F, beta2: F, t: u32) -> (F, F) {
    powers(beta1, beta2, t.min(i32::MAX as u32))
}

/// `(x^n, y^n)` by repeated squaring in the order of compiler-rt's `__powidf2` (what
/// `powi` calls), so the same bits as `x.powi(n)`, but with the bits of `n` choosing a factor
/// instead of a branch: `t` changes every step, and a branch per bit of it mispredicts.
#[inline]
fn powers<F: Real>(x: F, y: F, n: u32) -> (F, F) {
    let (mut x, mut y, mut n) = (x, y, n);
    let (mut rx, mut ry) = (F::ONE, F::ONE);
    loop {
        let odd = n & 1 != 0;
        rx = rx * if odd { x } else { F::ONE };
        ry = ry * if odd { y } else { F::ONE };
        n >>= 1;
        if n == 0 {
            return (rx, ry);
        }
        x = x * x;
        y = y * y;
    }
}

/// One element of an Adam (AdamW with weight decay) step, as PyTorch documents it:
/// `p -= lr * wd * p`, `m = beta1 * m + (1 - beta1) * g`,
/// `v = beta2 * v + (1 - beta2) * g * g`, `p -= lr * m_hat / (sqrt(v_hat) + eps)` with
/// `m_hat = m / (1 - beta1^t)`, `v_hat = v / (1 - beta2^t)`. `g` is the gradient at the old `p`.
/// The corrections are applied as precomputed reciprocals (a rounding apart from the divisions,
/// well inside the 1e-12 of tests/optimizers.rs): a division is the costliest step here.
#[inline(always)]
pub fn adam_update<F: Real>(p: &mut F, m: &mut F, v: &mut F, g: F, k: &AdamStep<F>) {
    // Unconditional, so that the elements' updates stay branch-free: with no decay this is
    // `p - 0 * p`, which is `p` for every finite `p`.
    *p = *p - k.decay * *p;
    *m = k.beta1 * *m + k.one_minus_beta1 * g;
    *v = k.beta2 * *v + k.one_minus_beta2 * g * g;
    let m_hat = *m * k.inv_correction1;
    let v_hat = *v * k.inv_correction2;
    *p = *p - k.lr * m_hat / (v_hat.sqrt() + k.eps);
}

/// [`adam_update`] of consecutive elements, `g[i]` the gradient of `p[i]`: a loop that LLVM
/// vectorizes, two or more square roots and divisions per instruction, where separate
/// element updates of straight-line code stayed scalar.
#[inline]
pub fn adam_update_run<F: Real>(p: &mut [F], m: &mut [F], v: &mut [F], g: &[F], k: &AdamStep<F>) {
    let n = g.len();
    let (p, m, v) = (&mut p[..n], &mut m[..n], &mut v[..n]);
    for i in 0..n {
        adam_update(&mut p[i], &mut m[i], &mut v[i], g[i], k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_momentum_step_is_the_gradient() {
        let (mut p, mut buf) = (1.0f64, 0.0);
        momentum_update(&mut p, &mut buf, 0.5, &MomentumStep { lr: 0.1, mu: 0.9 });
        assert_eq!((p, buf), (1.0 - 0.1 * 0.5, 0.5));
    }

    #[test]
    fn powers_are_the_bits_of_powi() {
        for n in [
            0u32,
            1,
            2,
            3,
            7,
            8,
            1000,
            65_537,
            2_000_001,
            i32::MAX as u32,
        ] {
            let (a, b) = powers(0.9f64, 0.999f64, n);
            assert_eq!(a.to_bits(), 0.9f64.powi(n as i32).to_bits(), "0.9^{n}");
            assert_eq!(b.to_bits(), 0.999f64.powi(n as i32).to_bits(), "0.999^{n}");
            let (c, _) = powers(0.9f32, 0.5f32, n);
            assert_eq!(c.to_bits(), 0.9f32.powi(n as i32).to_bits(), "0.9f32^{n}");
        }
    }

    #[test]
    fn remembered_powers_follow_the_steps_and_what_changed() {
        let mut powers_of = AdamPowers::new(0.9f64, 0.999);
        for t in 1..=300u32 {
            let (a, b) = powers_of.at(0.9, 0.999, t);
            // A product of t roundings: within t ulps of the power.
            let close = |x: f64, y: f64| (x - y).abs() <= f64::from(t) * f64::EPSILON * y;
            assert!(close(a, 0.9f64.powi(t as i32)) && close(b, 0.999f64.powi(t as i32)));
        }
        // A step count set back, or a beta changed, gives the exact powers again.
        assert_eq!(powers_of.at(0.9, 0.999, 7), powers(0.9, 0.999, 7));
        assert_eq!(powers_of.at(0.8, 0.999, 8), powers(0.8, 0.999, 8));
        assert_eq!(powers_of.at(0.8, 0.999, 9).0, powers(0.8, 0.999, 8).0 * 0.8);
    }

    #[test]
    fn first_adam_step_moves_by_lr() {
        // At t = 1, m_hat = g and v_hat = g^2: the step is lr * g / (|g| + eps).
        let k = AdamStep::new(0.01f64, 0.9, 0.999, 0.0, 0.0, 1);
        let (mut p, mut m, mut v) = (1.0, 0.0, 0.0);
        adam_update(&mut p, &mut m, &mut v, -3.0, &k);
        assert!((p - 1.01).abs() < 1e-15, "{p}");
    }
}
