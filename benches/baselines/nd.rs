//! Idiomatic `ndarray` backprop.
use ndarray::{Array1, Array2, ArrayView1, Axis};

use super::sigmoid;

/// `a b^T`.
pub fn outer(a: &Array1<f64>, b: ArrayView1<f64>) -> Array2<f64> {
    a.view().insert_axis(Axis(1)).dot(&b.insert_axis(Axis(0)))
}

/// A dense layer `W @ x + b` (`b` absent: no bias).
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    pub w: Array2<f64>,
    pub b: Option<Array1<f64>>,
}

/// A stack of dense layers; `acts[k]` is layer k's activation.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    pub layers: Vec<Layer>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Act {
    Sigmoid,
    Tanh,
    Relu,
    Linear,
}

impl Mlp {
    /// From `(rows, cols, bias)` shapes and the flat parameter order of the generated code
    /// (each layer's W, then its b).
    pub fn from_flat(shapes: &[(usize, usize, bool)], v: &[f64]) -> Mlp {
        let mut at = 0;
        let layers = shapes
            .iter()
            .map(|&(r, c, bias)| {
                let w = Array2::from_shape_vec((r, c), v[at..at + r * c].to_vec()).unwrap();
                at += r * c;
                let b = bias.then(|| {
                    let b = Array1::from(v[at..at + r].to_vec());
                    at += r;
                    b
                });
                Layer { w, b }
            })
            .collect();
        assert_eq!(at, v.len());
        Mlp { layers }
    }

    pub fn flat(&self) -> Vec<f64> {
        let mut v = Vec::new();
        for l in &self.layers {
            v.extend(l.w.iter());
            if let Some(b) = &l.b {
                v.extend(b.iter());
            }
        }
        v
    }
}

pub fn activate(act: Act, z: Array1<f64>) -> Array1<f64> {
    match act {
        Act::Sigmoid => z.mapv_into(sigmoid),
        Act::Tanh => z.mapv_into(f64::tanh),
        Act::Relu => z.mapv_into(|z| z.max(0.0)),
        Act::Linear => z,
    }
}

/// d(activation)/dz in terms of the activation's value.
pub fn activation_slope(act: Act, a: &Array1<f64>) -> Array1<f64> {
    match act {
        Act::Sigmoid => a.mapv(|a| a * (1.0 - a)),
        Act::Tanh => a.mapv(|a| 1.0 - a * a),
        Act::Relu => a.mapv(|a| if a > 0.0 { 1.0 } else { 0.0 }),
        Act::Linear => Array1::ones(a.len()),
    }
}

/// Loss `0.5 * sum((t - y)^2)` and the gradient of every layer, as an `Mlp`.
pub fn gradient(p: &Mlp, acts: &[Act], x: &Array1<f64>, t: &Array1<f64>) -> (f64, Mlp) {
    // Forward, keeping every layer's input and output.
    let mut inputs: Vec<Array1<f64>> = Vec::with_capacity(p.layers.len());
    let mut outputs: Vec<Array1<f64>> = Vec::with_capacity(p.layers.len());
    let mut a = x.clone();
    for (layer, &act) in p.layers.iter().zip(acts) {
        let mut z = layer.w.dot(&a);
        if let Some(b) = &layer.b {
            z += b;
        }
        let out = activate(act, z);
        inputs.push(a);
        a = out.clone();
        outputs.push(out);
    }
    let err = t - &a;
    let loss = 0.5 * err.mapv(|e| e * e).sum();
    // Backward.
    let mut delta = -err;
    let mut grads: Vec<Layer> = Vec::with_capacity(p.layers.len());
    for k in (0..p.layers.len()).rev() {
        if acts[k] != Act::Linear {
            delta = delta * activation_slope(acts[k], &outputs[k]);
        }
        let w = outer(&delta, inputs[k].view());
        let b = p.layers[k].b.as_ref().map(|_| delta.clone());
        if k > 0 {
            delta = p.layers[k].w.t().dot(&delta);
        }
        grads.push(Layer { w, b });
    }
    grads.reverse();
    (loss, Mlp { layers: grads })
}

/// One SGD step; returns the loss before it.
pub fn sgd_step(p: &mut Mlp, acts: &[Act], x: &Array1<f64>, t: &Array1<f64>, lr: f64) -> f64 {
    let (loss, g) = gradient(p, acts, x, t);
    for (layer, grad) in p.layers.iter_mut().zip(&g.layers) {
        layer.w.scaled_add(-lr, &grad.w);
        if let (Some(b), Some(gb)) = (&mut layer.b, &grad.b) {
            b.scaled_add(-lr, gb);
        }
    }
    loss
}

/// The loss alone.
pub fn loss(p: &Mlp, acts: &[Act], x: &Array1<f64>, t: &Array1<f64>) -> f64 {
    let mut a = x.clone();
    for (layer, &act) in p.layers.iter().zip(acts) {
        let mut z = layer.w.dot(&a);
        if let Some(b) = &layer.b {
            z += b;
        }
        a = activate(act, z);
    }
    0.5 * (t - &a).mapv(|e| e * e).sum()
}
