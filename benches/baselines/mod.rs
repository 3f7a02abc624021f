//! The Rust baselines the generated code is measured against (BENCHMARKS.md), for seed 004's
//! network (2 -> 3 sigmoid -> 2 linear, no biases) and `benches/nets/mlp16.nn` (16 -> 32 tanh
//! -> 32 sigmoid -> 4 linear, with biases), both with the loss `0.5 * sum((t - y)^2)`:
//!
//! - `fixed`: a careful hand-written backprop over fixed-size arrays on the stack, as an
//!   engineer who knows the sizes at compile time writes it: const-generic loops the compiler
//!   unrolls and vectorises, no allocation, and an SGD step that updates the weights in place
//!   while it walks back (no gradient is materialised).
//! - `nd`: an idiomatic `ndarray` backprop as a Rust user writes it: `Array1`/`Array2`,
//!   `dot`, `mapv`, outer products through `insert_axis`, `scaled_add` for the step.
//! - `fd`: central finite differences of a loss function, two loss evaluations per weight.
//!
//! Every baseline converts to and from the flat order of the generated `Params::flat`
//! (parameter by parameter, row-major), so the benches can check it against the generated
//! gradient once, outside the timed loops.

#![allow(dead_code)]

/// `1 / (1 + e^-z)`, as it is usually written.
#[inline(always)]
pub fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Relative difference of two gradients, element by element: the largest
/// `|a - b| / max(|a|, |b|)` (0 where both are 0).
pub fn max_rel_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "gradients of different lengths");
    a.iter()
        .zip(b)
        .map(|(&a, &b)| {
            let scale = a.abs().max(b.abs());
            if scale == 0.0 {
                0.0
            } else {
                (a - b).abs() / scale
            }
        })
        .fold(0.0, f64::max)
}

/// Panics unless `got` equals `want` within `tol` relative, element by element.
pub fn assert_close(what: &str, want: &[f64], got: &[f64], tol: f64) {
    let d = max_rel_diff(want, got);
    assert!(
        d <= tol,
        "{what}: differs from the reference by {d:e} relative (tolerance {tol:e})"
    );
}

/// Panics unless `got` equals `want` within `tol` of the largest element of `want`: the check
/// for two implementations that add long sums (784 products, a batch's rows) in different
/// orders, where an element that cancels to near 0 keeps only an absolute accuracy.
pub fn assert_close_scaled(what: &str, want: &[f64], got: &[f64], tol: f64) {
    assert_eq!(want.len(), got.len(), "{what}: lengths differ");
    let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let d = want
        .iter()
        .zip(got)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(
        d <= tol * scale,
        "{what}: differs from the reference by {:e} of its largest element (tolerance {tol:e})",
        d / scale
    );
}

/// Panics unless the weights after a step, `got`, equal `want` within `tol` relative to the
/// larger of the weight before and after (an updated weight near 0 is a cancellation, not an
/// error of the gradient).
pub fn assert_step_close(what: &str, before: &[f64], want: &[f64], got: &[f64], tol: f64) {
    assert_eq!(want.len(), got.len(), "{what}: lengths differ");
    for (i, ((&w0, &a), &b)) in before.iter().zip(want).zip(got).enumerate() {
        let scale = w0.abs().max(a.abs()).max(b.abs());
        assert!(
            (a - b).abs() <= tol * scale,
            "{what}: element {i} is {b}, the generated step gives {a} (from {w0})"
        );
    }
}

pub mod fixed {
    //! Hand-written backprop over fixed-size arrays.
    use super::sigmoid;

    /// `W @ x` for a row-major `W[R][C]`.
    #[inline(always)]
    pub fn matvec<const R: usize, const C: usize>(w: &[[f64; C]; R], x: &[f64; C]) -> [f64; R] {
        let mut out = [0.0; R];
        for i in 0..R {
            let mut s = 0.0;
            for j in 0..C {
                s += w[i][j] * x[j];
            }
            out[i] = s;
        }
        out
    }

    /// `W @ x + b`.
    #[inline(always)]
    pub fn affine<const R: usize, const C: usize>(
        w: &[[f64; C]; R],
        x: &[f64; C],
        b: &[f64; R],
    ) -> [f64; R] {
        let mut out = matvec(w, x);
        for i in 0..R {
            out[i] += b[i];
        }
        out
    }

    /// `W^T @ d`: the delta one layer down, before the activation's derivative.
    #[inline(always)]
    pub fn matvec_t<const R: usize, const C: usize>(w: &[[f64; C]; R], d: &[f64; R]) -> [f64; C] {
        let mut out = [0.0; C];
        for i in 0..R {
            for j in 0..C {
                out[j] += d[i] * w[i][j];
            }
        }
        out
    }

    /// `d x^T`: the gradient of a weight matrix from its layer's delta and input.
    #[inline(always)]
    pub fn outer<const R: usize, const C: usize>(d: &[f64; R], x: &[f64; C]) -> [[f64; C]; R] {
        let mut out = [[0.0; C]; R];
        for i in 0..R {
            for j in 0..C {
                out[i][j] = d[i] * x[j];
            }
        }
        out
    }

    /// `out = d x^T`.
    #[inline(always)]
    pub fn outer_into<const R: usize, const C: usize>(
        out: &mut [[f64; C]; R],
        d: &[f64; R],
        x: &[f64; C],
    ) {
        for i in 0..R {
            for j in 0..C {
                out[i][j] = d[i] * x[j];
            }
        }
    }

    /// `W -= lr * d x^T`, in place.
    #[inline(always)]
    pub fn step_outer<const R: usize, const C: usize>(
        w: &mut [[f64; C]; R],
        lr: f64,
        d: &[f64; R],
        x: &[f64; C],
    ) {
        for i in 0..R {
            let s = lr * d[i];
            for j in 0..C {
                w[i][j] -= s * x[j];
            }
        }
    }

    /// `0.5 * sum((t - y)^2)` and its delta `y - t`.
    #[inline(always)]
    pub fn half_sse<const N: usize>(y: &[f64; N], t: &[f64; N]) -> (f64, [f64; N]) {
        let mut loss = 0.0;
        let mut dy = [0.0; N];
        for k in 0..N {
            let e = t[k] - y[k];
            loss += e * e;
            dy[k] = -e;
        }
        (0.5 * loss, dy)
    }

    /// Seed 004's weights.
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    pub struct Seed004 {
        pub w1: [[f64; 2]; 3],
        pub w2: [[f64; 3]; 2],
    }

    impl Seed004 {
        pub fn from_flat(v: &[f64]) -> Seed004 {
            let mut p = Seed004::default();
            let mut it = v.iter().copied();
            p.w1.iter_mut()
                .flatten()
                .for_each(|w| *w = it.next().unwrap());
            p.w2.iter_mut()
                .flatten()
                .for_each(|w| *w = it.next().unwrap());
            assert!(it.next().is_none());
            p
        }
        pub fn flat(&self) -> Vec<f64> {
            self.w1
                .iter()
                .flatten()
                .chain(self.w2.iter().flatten())
                .copied()
                .collect()
        }
    }

    /// Loss and gradient of one sample.
    #[inline]
    pub fn seed004_gradient(p: &Seed004, x: &[f64; 2], t: &[f64; 2]) -> (f64, Seed004) {
        let z1 = matvec(&p.w1, x);
        let a1 = z1.map(sigmoid);
        let y = matvec(&p.w2, &a1);
        let (loss, dy) = half_sse(&y, t);
        let da1 = matvec_t(&p.w2, &dy);
        let dz1: [f64; 3] = std::array::from_fn(|k| da1[k] * (a1[k] * (1.0 - a1[k])));
        (
            loss,
            Seed004 {
                w1: outer(&dz1, x),
                w2: outer(&dy, &a1),
            },
        )
    }

    /// One SGD step in place; returns the loss before it.
    #[inline]
    pub fn seed004_sgd_step(p: &mut Seed004, x: &[f64; 2], t: &[f64; 2], lr: f64) -> f64 {
        let z1 = matvec(&p.w1, x);
        let a1 = z1.map(sigmoid);
        let y = matvec(&p.w2, &a1);
        let (loss, dy) = half_sse(&y, t);
        let da1 = matvec_t(&p.w2, &dy);
        step_outer(&mut p.w2, lr, &dy, &a1);
        let dz1: [f64; 3] = std::array::from_fn(|k| da1[k] * (a1[k] * (1.0 - a1[k])));
        step_outer(&mut p.w1, lr, &dz1, x);
        loss
    }

    /// The loss alone.
    #[inline]
    pub fn seed004_loss(p: &Seed004, x: &[f64; 2], t: &[f64; 2]) -> f64 {
        let a1 = matvec(&p.w1, x).map(sigmoid);
        half_sse(&matvec(&p.w2, &a1), t).0
    }

    /// `benches/nets/mlp16.nn`'s weights.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct Mlp16 {
        pub w1: [[f64; 16]; 32],
        pub b1: [f64; 32],
        pub w2: [[f64; 32]; 32],
        pub b2: [f64; 32],
        pub w3: [[f64; 32]; 4],
        pub b3: [f64; 4],
    }

    impl Mlp16 {
        pub fn zeros() -> Mlp16 {
            Mlp16 {
                w1: [[0.0; 16]; 32],
                b1: [0.0; 32],
                w2: [[0.0; 32]; 32],
                b2: [0.0; 32],
                w3: [[0.0; 32]; 4],
                b3: [0.0; 4],
            }
        }
        pub fn from_flat(v: &[f64]) -> Mlp16 {
            let mut p = Mlp16::zeros();
            let mut it = v.iter().copied();
            let mut next = || it.next().unwrap();
            p.w1.iter_mut().flatten().for_each(|w| *w = next());
            p.b1.iter_mut().for_each(|w| *w = next());
            p.w2.iter_mut().flatten().for_each(|w| *w = next());
            p.b2.iter_mut().for_each(|w| *w = next());
            p.w3.iter_mut().flatten().for_each(|w| *w = next());
            p.b3.iter_mut().for_each(|w| *w = next());
            assert!(it.next().is_none());
            p
        }
        pub fn flat(&self) -> Vec<f64> {
            let mut v = Vec::with_capacity(1732);
            v.extend(self.w1.iter().flatten());
            v.extend(&self.b1);
            v.extend(self.w2.iter().flatten());
            v.extend(&self.b2);
            v.extend(self.w3.iter().flatten());
            v.extend(&self.b3);
            v
        }
    }

    /// Loss and gradient of one sample. The gradient is written into the value that is
    /// returned, field by field: building it from temporaries (`Mlp16 { w1: outer(..), .. }`)
    /// copies 14 KB more and took twice as long.
    #[inline]
    pub fn mlp16_gradient(p: &Mlp16, x: &[f64; 16], t: &[f64; 4]) -> (f64, Mlp16) {
        let mut g = Mlp16::zeros();
        let a1 = affine(&p.w1, x, &p.b1).map(f64::tanh);
        let a2 = affine(&p.w2, &a1, &p.b2).map(sigmoid);
        let y = affine(&p.w3, &a2, &p.b3);
        let (loss, dy) = half_sse(&y, t);
        outer_into(&mut g.w3, &dy, &a2);
        g.b3 = dy;
        let da2 = matvec_t(&p.w3, &dy);
        for k in 0..32 {
            g.b2[k] = da2[k] * (a2[k] * (1.0 - a2[k]));
        }
        outer_into(&mut g.w2, &g.b2, &a1);
        let da1 = matvec_t(&p.w2, &g.b2);
        for k in 0..32 {
            g.b1[k] = da1[k] * (1.0 - a1[k] * a1[k]);
        }
        outer_into(&mut g.w1, &g.b1, x);
        (loss, g)
    }

    /// One SGD step in place; returns the loss before it.
    #[inline]
    pub fn mlp16_sgd_step(p: &mut Mlp16, x: &[f64; 16], t: &[f64; 4], lr: f64) -> f64 {
        let a1 = affine(&p.w1, x, &p.b1).map(f64::tanh);
        let a2 = affine(&p.w2, &a1, &p.b2).map(sigmoid);
        let y = affine(&p.w3, &a2, &p.b3);
        let (loss, dy) = half_sse(&y, t);
        let da2 = matvec_t(&p.w3, &dy);
        step_outer(&mut p.w3, lr, &dy, &a2);
        for (b, d) in p.b3.iter_mut().zip(&dy) {
            *b -= lr * d;
        }
        let dz2: [f64; 32] = std::array::from_fn(|k| da2[k] * (a2[k] * (1.0 - a2[k])));
        let da1 = matvec_t(&p.w2, &dz2);
        step_outer(&mut p.w2, lr, &dz2, &a1);
        for (b, d) in p.b2.iter_mut().zip(&dz2) {
            *b -= lr * d;
        }
        let dz1: [f64; 32] = std::array::from_fn(|k| da1[k] * (1.0 - a1[k] * a1[k]));
        step_outer(&mut p.w1, lr, &dz1, x);
        for (b, d) in p.b1.iter_mut().zip(&dz1) {
            *b -= lr * d;
        }
        loss
    }
}

pub mod batch;
pub mod fd;
pub mod large;
pub mod nd;
pub mod point;
