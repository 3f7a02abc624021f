//! Soundness, checked by values: every element's formula, instantiated and evaluated
//! directly, equals the evaluator's value of that element's own expression.

use super::*;
use crate::eval::{Evaluator, Sample, power};
use crate::ir::Var;

fn value(
    f: &Formula,
    env: &mut Env,
    d: &Derivation,
    network: &crate::model::Network,
    slots: &[f64],
) -> f64 {
    let layout = &d.layout;
    match f {
        Formula::Const(c) => *c,
        Formula::Leaf(kind, indices) => {
            let ix: Vec<usize> = indices
                .iter()
                .map(|i| match i {
                    Ix::Const(c) => *c,
                    Ix::Letter(l) => env
                        .iter()
                        .rev()
                        .find(|(c, _)| c == l)
                        .map(|p| p.1)
                        .expect("bound"), // ok: unit test
                })
                .collect();
            let var: Var = match kind {
                LeafKind::Value(symbol) => {
                    let flat = match (network.shape_of(*symbol), ix.as_slice()) {
                        (crate::model::Shape::Matrix(_, c), [i, j]) => i * c + j,
                        (_, [i]) => *i,
                        _ => 0,
                    };
                    layout.var(*symbol, flat)
                }
                LeafKind::Delta(v) => layout
                    .delta_of(layout.var(Symbol::Vector(*v), ix[0]))
                    .expect("a delta"), // ok: unit test
            };
            slots[var.index()]
        }
        Formula::Neg(a) => -value(a, env, d, network, slots),
        Formula::Bin(op, a, b) => {
            let (a, b) = (
                value(a, env, d, network, slots),
                value(b, env, d, network, slots),
            );
            match op {
                Op::Sub => a - b,
                Op::Mul => a * b,
                Op::Div => a / b,
                Op::Pair(f) => f.eval(a, b),
            }
        }
        Formula::Pow(a, k) => power(value(a, env, d, network, slots), *k),
        Formula::Func(g, a) => g.eval(value(a, env, d, network, slots)),
        Formula::Sum(parts) => parts.iter().map(|p| value(p, env, d, network, slots)).sum(),
        Formula::SumOver(l, range, body) => (0..*range)
            .map(|m| {
                env.push((*l, m));
                let v = value(body, env, d, network, slots);
                env.pop();
                v
            })
            .sum(),
        Formula::LogSumExp(l, range, body) => {
            let xs: Vec<f64> = (0..*range)
                .map(|m| {
                    env.push((*l, m));
                    let v = value(body, env, d, network, slots);
                    env.pop();
                    v
                })
                .collect();
            crate::builtin::logsumexp(&xs)
        }
    }
}

#[test]
fn every_corpus_formula_reproduces_every_element() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/ok");
    let mut checked = 0;
    let entries = std::fs::read_dir(dir).expect("corpus"); // ok: unit test
    for entry in entries {
        let path = entry.expect("entry").path(); // ok: unit test
        let text = std::fs::read_to_string(&path).expect("read"); // ok: unit test
        let model = crate::check_source(&text).expect("checks"); // ok: unit test
        // The finder names one index per vector: networks with values of several axes are
        // written from the plan's formulas, never through it.
        let written = model.networks.iter().filter(|n| {
            let data = n.inputs.iter().chain(&n.targets).map(|d| d.shape);
            data.chain(n.vectors.iter().map(|v| v.shape))
                .all(|shape| shape.rank() <= 1)
        });
        for network in written {
            let d = crate::derive::derive(network, &model.functions);
            // A point inside every function's domain.
            let params: Vec<Vec<f64>> = network
                .params
                .iter()
                .map(|p| (0..p.shape.len()).map(|e| 0.3 + 0.05 * e as f64).collect())
                .collect();
            let sample = Sample {
                inputs: network
                    .inputs
                    .iter()
                    .map(|v| (0..v.size).map(|e| 0.2 + 0.1 * e as f64).collect())
                    .collect(),
                targets: network
                    .targets
                    .iter()
                    .map(|v| (0..v.size).map(|e| 0.7 - 0.1 * e as f64).collect())
                    .collect(),
            };
            let slots = Evaluator::new(&d, network, &params, &sample)
                .run(network)
                .slots;
            let unifier = Unifier::new(&d);
            let mut groups: Vec<Vec<(Env, NodeId)>> = Vec::new();
            for (v, _) in network.vectors.iter().enumerate() {
                let of_v = |slot: Var| match d.layout.slot(slot) {
                    Slot::Delta(w, e) | Slot::Value(Symbol::Vector(w), e) if w == v => Some(e),
                    _ => None,
                };
                groups.push(
                    d.deltas
                        .iter()
                        .filter_map(|&(s, n)| of_v(s).map(|e| (vec![('k', e)], n)))
                        .collect(),
                );
                groups.push(
                    d.forward
                        .iter()
                        .filter_map(|def| of_v(def.var).map(|e| (vec![('k', e)], def.value)))
                        .collect(),
                );
            }
            for (p, param) in network.params.iter().enumerate() {
                groups.push(
                    d.gradients
                        .iter()
                        .filter_map(|&(var, n)| match (d.layout.slot(var), param.shape) {
                            (
                                Slot::Value(Symbol::Param(q), e),
                                crate::model::Shape::Matrix(_, c),
                            ) if q == p => Some((vec![('i', e / c), ('j', e % c)], n)),
                            (Slot::Value(Symbol::Param(q), e), _) if q == p => {
                                Some((vec![('i', e)], n))
                            }
                            _ => None,
                        })
                        .collect(),
                );
            }
            for group in groups.into_iter().filter(|g| !g.is_empty()) {
                if let Some(f) = unifier.unify_fresh(&group) {
                    for (env, node) in &group {
                        let mut env = env.clone();
                        let got = value(&f, &mut env, &d, network, &slots);
                        let want = Evaluator::from_slots(&d, &slots).value(*node);
                        assert!(
                            (got - want).abs() <= 1e-12 * want.abs().max(1.0)
                                || (got.is_nan() && want.is_nan()),
                            "{}: {got} != {want}",
                            path.display()
                        );
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 100, "{checked}");
}
