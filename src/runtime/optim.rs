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
        let n = i32::try_from(t).unwrap_or(i32::MAX);
        AdamStep {
            lr,
            beta1,
            beta2,
            one_minus_beta1: F::ONE - beta1,
            one_minus_beta2: F::ONE - beta2,
            eps,
            decay: lr * weight_decay,
            inv_correction1: F::ONE / (F::ONE - beta1.powi(n)),
            inv_correction2: F::ONE / (F::ONE - beta2.powi(n)),
        }
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
    fn first_adam_step_moves_by_lr() {
        // At t = 1, m_hat = g and v_hat = g^2: the step is lr * g / (|g| + eps).
        let k = AdamStep::new(0.01f64, 0.9, 0.999, 0.0, 0.0, 1);
        let (mut p, mut m, mut v) = (1.0, 0.0, 0.0);
        adam_update(&mut p, &mut m, &mut v, -3.0, &k);
        assert!((p - 1.01).abs() < 1e-15, "{p}");
    }
}
