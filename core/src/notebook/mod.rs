//! `chainrule notebook`: a Jupyter notebook (nbformat 4) in the seeds' style: markdown cells
//! with the derivation (LaTeX from [`crate::latex`]), the network's picture
//! ([`crate::diagram`]), and NumPy cells that run the forward pass, the derived deltas and
//! gradients (the statements of [`crate::numpy`], so the cells compute what the mathematics
//! says), a finite-difference check that asserts, and one gradient step.
//!
//! Every number a cell prints is printed in full (`repr`), one per line as `name = value`, so
//! a reader sees the values and a test can compare them with `chainrule eval`.

mod cells;

use serde_json::{Value, json};

use crate::CompiledNetwork;
use crate::eval::Sample;
use crate::model::Network;
use crate::numpy::Emitter;

/// The notebook of one network at a point (parameters, samples).
pub fn notebook(
    network: &Network,
    compiled: &CompiledNetwork,
    file_name: &str,
    point: &(Vec<Vec<f64>>, Vec<Sample>),
    drawn: bool,
    lr: f64,
) -> String {
    let emitter = Emitter::new(network, compiled);
    let cells = cells::cells(&cells::Context {
        network,
        emitter: &emitter,
        compiled,
        file_name,
        point,
        drawn,
        lr,
    });
    let cells: Vec<Value> = cells
        .into_iter()
        .enumerate()
        .map(|(i, cell)| cell.json(i))
        .collect();
    let notebook = json!({
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
            "chainrule": {"network": network.name, "source": file_name.replace('\\', "/")}
        },
        "nbformat": 4,
        "nbformat_minor": 5
    });
    // ok: a `Value` built from strings and numbers always serialises.
    let mut text = serde_json::to_string_pretty(&notebook).unwrap_or_default();
    text.push('\n');
    text
}

/// A deterministic point for a file that gives no values: parameters and samples drawn
/// uniformly from [-1, 1) (from (0.1, 1) where `log` or `sqrt` needs positive arguments) by a
/// fixed generator, one sample.
pub fn drawn_point(network: &Network, positive: bool) -> (Vec<Vec<f64>>, Vec<Sample>) {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut unit = || {
        // splitmix64: fixed, portable, good enough to pick a point.
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) as f64 / u64::MAX as f64
    };
    let scale = |unit: f64| {
        let (lo, hi) = if positive { (0.1, 1.0) } else { (-1.0, 1.0) };
        // Rounded to 4 digits, so the cells show short numbers.
        ((lo + unit * (hi - lo)) * 1e4).round() / 1e4
    };
    let mut next = || scale(unit());
    let params = network
        .params
        .iter()
        .map(|p| (0..p.shape.len()).map(|_| next()).collect())
        .collect();
    let sample = Sample {
        inputs: network
            .inputs
            .iter()
            .map(|v| (0..v.size).map(|_| next()).collect())
            .collect(),
        // What the declaration allows: the derivation relies on it (cross-entropy's p - t).
        targets: network
            .targets
            .iter()
            .map(|v| crate::targets::draw(v.kind, v.size, &mut unit, scale))
            .collect(),
    };
    (params, vec![sample])
}
