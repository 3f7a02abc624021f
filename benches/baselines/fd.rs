//! Central finite differences.

/// dL/dw by `(L(w + h e_i) - L(w - h e_i)) / 2h` for every element, `h` scaled to the
/// weight; returns the loss at `w` too (one more evaluation).
#[inline(never)]
pub fn gradient<const P: usize>(loss: impl Fn(&[f64; P]) -> f64, w: &[f64; P]) -> (f64, [f64; P]) {
    let mut probe = *w;
    let mut g = [0.0; P];
    for i in 0..P {
        let h = 1e-6 * w[i].abs().max(1.0);
        probe[i] = w[i] + h;
        let plus = loss(&probe);
        probe[i] = w[i] - h;
        let minus = loss(&probe);
        probe[i] = w[i];
        g[i] = (plus - minus) / (2.0 * h);
    }
    (loss(w), g)
}

/// One SGD step with the finite-difference gradient.
#[inline(never)]
pub fn sgd_step<const P: usize>(loss: impl Fn(&[f64; P]) -> f64, w: &mut [f64; P], lr: f64) -> f64 {
    let (l, g) = gradient(loss, w);
    for (w, g) in w.iter_mut().zip(g) {
        *w -= lr * g;
    }
    l
}
