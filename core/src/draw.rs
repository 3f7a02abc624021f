//! Seeded random points for the checks that compare two computations numerically (claims,
//! the tensor level against the scalar graph): values in a range that keeps `log` and `sqrt`
//! defined, targets of the kind declared.

use crate::builtin::Builtin;
use crate::derive::Derivation;
use crate::eval::Sample;
use crate::ir::Node;
use crate::model::Network;
use chainrule_grammar::TargetKind;

/// The range values are drawn from: positive where the derivation takes a `log`, a `sqrt` or
/// a fractional power.
pub fn value_range(d: &Derivation) -> (f64, f64) {
    let needs_positive = d.graph.nodes().any(|(_, n)| {
        matches!(n, Node::Func(Builtin::Log | Builtin::Sqrt, _))
            || matches!(n, Node::Pow(_, k) if f64::from_bits(*k).fract() != 0.0)
    });
    if needs_positive {
        (0.2, 1.5)
    } else {
        (-1.5, 1.5)
    }
}

/// Uniform draws in `(lo, hi)` from a seeded linear congruential generator.
pub fn uniform(seed: u64, (lo, hi): (f64, f64)) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        lo + (hi - lo) * ((state >> 11) as f64 / (1u64 << 53) as f64)
    }
}

/// One random point: every parameter, and one sample of every input and target.
pub fn point(
    network: &Network,
    uniform: &mut impl FnMut() -> f64,
    range: (f64, f64),
) -> (Vec<Vec<f64>>, Sample) {
    let params = network
        .params
        .iter()
        .map(|p| (0..p.shape.len()).map(|_| uniform()).collect())
        .collect();
    let sample = Sample {
        inputs: network
            .inputs
            .iter()
            .map(|v| (0..v.size).map(|_| uniform()).collect())
            .collect(),
        targets: network
            .targets
            .iter()
            .map(|v| random_target(v.kind, v.size, uniform, range))
            .collect(),
    };
    (params, sample)
}

/// A random target sample of the declared kind, from `uniform` draws in `range`: one-hot
/// targets get one random class, probabilities positive numbers summing to one, so that
/// claims are checked only where the derivation's assumption about the targets holds.
pub fn random_target(
    kind: TargetKind,
    size: usize,
    uniform: &mut impl FnMut() -> f64,
    (lo, hi): (f64, f64),
) -> Vec<f64> {
    match kind {
        TargetKind::Plain => (0..size).map(|_| uniform()).collect(),
        TargetKind::OneHot | TargetKind::Label => {
            let u = (uniform() - lo) / (hi - lo);
            let class = ((u * size as f64) as usize).min(size.saturating_sub(1));
            (0..size).map(|k| f64::from(u8::from(k == class))).collect()
        }
        TargetKind::Probabilities => {
            let raw: Vec<f64> = (0..size)
                .map(|_| 0.1 + (uniform() - lo).abs() / (hi - lo))
                .collect();
            let total: f64 = raw.iter().sum();
            raw.iter().map(|r| r / total).collect()
        }
    }
}
