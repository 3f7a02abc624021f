//! A hand-written mini-batch backprop with `ndarray` (issue 13), as a careful Rust user writes
//! it: each layer over the whole batch as GEMMs through `ndarray::linalg::general_mat_mul`
//! (forward `Z = X W^T + b`, backward `D_prev = D W`, gradient `dW = D^T X`), into a
//! `Workspace` and a gradient allocated once and reused across calls, the element-wise parts
//! and the batch mean fused around the products. `Parallel` splits a batch into contiguous
//! parts on a rayon pool of its own and adds the partial gradients in part order, so the
//! result does not depend on scheduling.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;

use super::nd::{Act, Layer, Mlp};
use super::sigmoid;

/// The per-layer activations of a batch: `acts[k]` is layer k's output, `deltas[k]` the loss's
/// delta at its pre-activation, both batch x width.
pub struct Workspace {
    acts: Vec<Array2<f64>>,
    deltas: Vec<Array2<f64>>,
}

impl Workspace {
    pub fn new(p: &Mlp, batch: usize) -> Workspace {
        let shape = |l: &Layer| (batch, l.w.nrows());
        Workspace {
            acts: p.layers.iter().map(|l| Array2::zeros(shape(l))).collect(),
            deltas: p.layers.iter().map(|l| Array2::zeros(shape(l))).collect(),
        }
    }

    fn fit(&mut self, p: &Mlp, batch: usize) {
        if self.acts[0].nrows() != batch {
            *self = Workspace::new(p, batch);
        }
    }
}

/// A zero gradient shaped like `p`.
pub fn zeros_like(p: &Mlp) -> Mlp {
    Mlp {
        layers: p
            .layers
            .iter()
            .map(|l| Layer {
                w: Array2::zeros(l.w.raw_dim()),
                b: l.b.as_ref().map(|b| ndarray::Array1::zeros(b.raw_dim())),
            })
            .collect(),
    }
}

/// `scale` times the sum over the rows of `x`, `t` of the per-sample loss `0.5 |t - y|^2` and
/// of its gradient; the gradient into `g` (overwritten), the loss returned.
pub fn gradient_scaled_into(
    p: &Mlp,
    acts: &[Act],
    x: ArrayView2<f64>,
    t: ArrayView2<f64>,
    scale: f64,
    ws: &mut Workspace,
    g: &mut Mlp,
) -> f64 {
    let n = p.layers.len();
    ws.fit(p, x.nrows());
    for (k, layer) in p.layers.iter().enumerate() {
        let (done, rest) = ws.acts.split_at_mut(k);
        let input = if k == 0 { x } else { done[k - 1].view() };
        let out = &mut rest[0];
        let beta = match &layer.b {
            Some(b) => {
                let dim = out.raw_dim();
                out.assign(&b.broadcast(dim).expect("bias width")); // ok: shapes built from p
                1.0
            }
            None => 0.0,
        };
        general_mat_mul(1.0, &input, &layer.w.t(), beta, out);
        match acts[k] {
            Act::Sigmoid => out.mapv_inplace(sigmoid),
            Act::Tanh => out.mapv_inplace(f64::tanh),
            Act::Relu => out.mapv_inplace(|z| z.max(0.0)),
            Act::Linear => {}
        }
    }
    // D = scale (Y - T), fused with the loss.
    let mut loss = 0.0;
    let d = &mut ws.deltas[n - 1];
    ndarray::Zip::from(&mut *d)
        .and(&ws.acts[n - 1])
        .and(&t)
        .for_each(|d, &y, &t| {
            let e = y - t;
            loss += e * e;
            *d = scale * e;
        });
    for k in (0..n).rev() {
        let (below, at) = ws.deltas.split_at_mut(k);
        let d = &mut at[0];
        match acts[k] {
            Act::Sigmoid => d.zip_mut_with(&ws.acts[k], |d, &a| *d *= a * (1.0 - a)),
            Act::Tanh => d.zip_mut_with(&ws.acts[k], |d, &a| *d *= 1.0 - a * a),
            Act::Relu => d.zip_mut_with(&ws.acts[k], |d, &a| {
                if a <= 0.0 {
                    *d = 0.0
                }
            }),
            Act::Linear => {}
        }
        let input = if k == 0 { x } else { ws.acts[k - 1].view() };
        general_mat_mul(1.0, &d.t(), &input, 0.0, &mut g.layers[k].w);
        if let Some(gb) = &mut g.layers[k].b {
            gb.assign(&d.sum_axis(Axis(0)));
        }
        if k > 0 {
            general_mat_mul(1.0, d, &p.layers[k].w, 0.0, &mut below[k - 1]);
        }
    }
    0.5 * scale * loss
}

/// The batch mean of the loss and gradient (`batch mean`, the language's default).
pub fn gradient_batch_into(
    p: &Mlp,
    acts: &[Act],
    x: ArrayView2<f64>,
    t: ArrayView2<f64>,
    ws: &mut Workspace,
    g: &mut Mlp,
) -> f64 {
    gradient_scaled_into(p, acts, x, t, 1.0 / x.nrows() as f64, ws, g)
}

/// `p -= lr g`.
pub fn apply(p: &mut Mlp, g: &Mlp, lr: f64) {
    for (l, gl) in p.layers.iter_mut().zip(&g.layers) {
        l.w.scaled_add(-lr, &gl.w);
        if let (Some(b), Some(gb)) = (&mut l.b, &gl.b) {
            b.scaled_add(-lr, gb);
        }
    }
}

/// The batch split over `threads` threads of a pool of its own.
pub struct Parallel {
    pool: rayon::ThreadPool,
    parts: Vec<(Workspace, Mlp, f64)>,
}

impl Parallel {
    pub fn new(p: &Mlp, threads: usize) -> Parallel {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("rayon pool"); // bench-only
        let parts = (0..threads)
            .map(|_| (Workspace::new(p, 1), zeros_like(p), 0.0))
            .collect();
        Parallel { pool, parts }
    }

    /// As [`gradient_batch_into`], the rows split into one contiguous part per thread.
    pub fn gradient_batch_into(
        &mut self,
        p: &Mlp,
        acts: &[Act],
        x: ArrayView2<f64>,
        t: ArrayView2<f64>,
        g: &mut Mlp,
    ) -> f64 {
        let rows = x.nrows();
        let n = self.parts.len();
        let scale = 1.0 / rows as f64;
        self.pool.install(|| {
            self.parts
                .par_iter_mut()
                .enumerate()
                .for_each(|(i, (ws, gi, loss))| {
                    let (lo, hi) = (i * rows / n, (i + 1) * rows / n);
                    let xs = x.slice(ndarray::s![lo..hi, ..]);
                    let ts = t.slice(ndarray::s![lo..hi, ..]);
                    *loss = gradient_scaled_into(p, acts, xs, ts, scale, ws, gi);
                })
        });
        let mut loss = 0.0;
        for (k, gl) in g.layers.iter_mut().enumerate() {
            gl.w.assign(&self.parts[0].1.layers[k].w);
            for part in &self.parts[1..] {
                gl.w += &part.1.layers[k].w;
            }
            if let Some(gb) = &mut gl.b {
                gb.assign(self.parts[0].1.layers[k].b.as_ref().expect("same shape")); // ok
                for part in &self.parts[1..] {
                    *gb += part.1.layers[k].b.as_ref().expect("same shape"); // ok
                }
            }
        }
        for part in &self.parts {
            loss += part.2;
        }
        loss
    }
}
