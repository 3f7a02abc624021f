//! Naming the mistakes students make when they derive a classifier by hand: the diagonal
//! `p_k(1 - p_k)` of the softmax Jacobian used for all of it, `t - p` for `p - t`, the
//! weight-decay term missing or with `λ` where `2λ` belongs, and the sum over classes dropped.
//!
//! Each mistake is rebuilt from the derivation as a candidate formula (the derived expression
//! with one thing changed); a failing claim that equals a candidate at every random point is
//! that mistake, and the diagnosis says so by name.

use crate::builtin::Builtin;
use crate::derive::Derivation;
use crate::eval::Evaluator;
use crate::ir::{Graph, Node, NodeId, Var};
use crate::layout::Slot;
use crate::model::{Network, Symbol};
use crate::print::{Printer, Style};

use super::diagnose::same;

/// Most terms of a sum tried one by one as "the sum dropped".
const MAX_TERMS: usize = 32;

/// A mistaken formula and what to say when the claim is it.
struct Candidate {
    node: NodeId,
    line: String,
}

/// Lines naming the classifier mistake the claim `d(of)/d(wrt) = claimed` makes, if it is
/// one of them; empty otherwise. `points` are the claim's random points (all slots).
pub fn findings(
    network: &Network,
    d: &mut Derivation,
    points: &[Vec<f64>],
    of: Var,
    wrt: Var,
    derived: NodeId,
    claimed: NodeId,
) -> Vec<String> {
    let mut candidates = Vec::new();
    weight_decay(network, d, of, wrt, derived, &mut candidates);
    delta_patterns(network, d, derived, &mut candidates);
    jacobian_diagonal(network, d, of, wrt, &mut candidates);
    dropped_sum(network, d, of, wrt, derived, &mut candidates);
    if candidates.is_empty() {
        return Vec::new();
    }
    let mut evaluators: Vec<Evaluator<'_>> = points
        .iter()
        .map(|slots| Evaluator::from_slots(d, slots))
        .collect();
    let claimed_values: Vec<f64> = evaluators.iter_mut().map(|e| e.value(claimed)).collect();
    for candidate in candidates {
        let values: Vec<f64> = evaluators
            .iter_mut()
            .map(|e| e.value(candidate.node))
            .collect();
        if same(&values, &claimed_values) {
            return vec![candidate.line];
        }
    }
    Vec::new()
}

fn text(network: &Network, d: &Derivation, node: NodeId) -> String {
    let leaf = |v: Var| d.layout.describe(network, v);
    let printed = Printer {
        graph: &d.graph,
        leaf: &leaf,
        style: Style::Text,
    }
    .expr(node);
    // A path through time written out runs to pages: say how long it is instead.
    if printed.len() > super::MAX_SHOWN_CHARS {
        return format!("(an expression of {} characters)", printed.len());
    }
    printed
}

/// The missing decay term, and the term with half its coefficient (`λ w` for `2λ w`).
fn weight_decay(
    network: &Network,
    d: &mut Derivation,
    of: Var,
    wrt: Var,
    derived: NodeId,
    out: &mut Vec<Candidate>,
) {
    if of != d.loss() || !d.layout.is_param(wrt) {
        return;
    }
    let Some(loss) = d.forward.last() else {
        return;
    };
    let Some(&(_, direct)) = loss.partials.iter().find(|(u, _)| *u == wrt) else {
        return;
    };
    let term = text(network, d, direct);
    let name = d.layout.describe(network, wrt);
    let without = d.graph.sub(derived, direct);
    out.push(Candidate {
        node: without,
        line: format!(
            "the weight-decay term `{term}` is missing: the loss depends on `{name}` directly as well as through the network, and d/dw of lambda * w^2 is 2 * lambda * w"
        ),
    });
    let half = d.graph.constant_node(0.5);
    let half_direct = d.graph.mul(half, direct);
    let halved = d.graph.sub(derived, half_direct);
    out.push(Candidate {
        node: halved,
        line: format!(
            "the weight-decay term has lambda where 2 * lambda belongs: d/dw of lambda * w^2 is 2 * lambda * w, so the derivation's term is `{term}`, twice the claim's"
        ),
    });
}

/// `t - p` for `p - t`, and the diagonal-only cross-entropy delta `t_k p_k - t_k`.
fn delta_patterns(
    network: &Network,
    d: &mut Derivation,
    derived: NodeId,
    out: &mut Vec<Candidate>,
) {
    let mut found: Vec<(NodeId, NodeId, NodeId)> = Vec::new();
    for n in subtree(&d.graph, derived) {
        if let Node::Sub(a, t) = d.graph.node(n).clone()
            && is_target(d, t)
            && mentions_probability(d, a)
        {
            found.push((n, a, t));
        }
    }
    let quadratic = quadratic_cost(d);
    for (n, a, t) in found {
        let (a_text, t_text) = (text(network, d, a), text(network, d, t));
        let flipped = d.graph.sub(t, a);
        let node = replace(&mut d.graph, derived, n, flipped);
        let why = if quadratic {
            "the derivative of the quadratic cost 1/2 * (p - t)^2 with respect to the prediction p is p - t, the prediction minus the target, not t - p"
        } else {
            "with a softmax or sigmoid output and cross-entropy the delta is the prediction minus the target, p - t, not t - p"
        };
        out.push(Candidate {
            node,
            line: format!(
                "`{t_text} - {a_text}` stands where the derivation has `{a_text} - {t_text}`: {why}"
            ),
        });
        let Some(p) = probability_factor(d, a) else {
            continue;
        };
        let p_text = text(network, d, p);
        let product = d.graph.mul(t, p);
        let diagonal = d.graph.sub(product, t);
        let node = replace(&mut d.graph, derived, n, diagonal);
        out.push(Candidate {
            node,
            line: format!(
                "the claim has `{t_text} * {p_text} - {t_text}` = -{t_text} * (1 - {p_text}) where the derivation has `{a_text}`: it uses the diagonal p_k * (1 - p_k) of the softmax Jacobian for all of it, so the sum over classes j of dL/dp_j * dp_j/dz_k keeps only j = k; off the diagonal dp_j/dz_k = -p_j * p_k, and the whole sum is p_k * sum_j t_j - t_k (p_k - t_k for targets that sum to one)"
            ),
        });
    }
}

/// Whether the loss is a quadratic cost: a square of a difference with a target and no
/// logarithm (cross-entropy's `log`, `log_softmax`, `log_sigmoid`), so that `p - t` comes from
/// the square's derivative rather than from cross-entropy's cancellation.
fn quadratic_cost(d: &Derivation) -> bool {
    let Some(loss) = d.forward.last() else {
        return false;
    };
    let nodes = subtree(&d.graph, loss.value);
    let logarithm = nodes.iter().any(|&n| {
        matches!(
            d.graph.node(n),
            Node::Func(Builtin::Log | Builtin::LogSigmoid | Builtin::Softplus, _)
                | Node::LogSumExp(_)
        )
    });
    let square = nodes.iter().any(|&n| match d.graph.node(n) {
        Node::Pow(base, k) if f64::from_bits(*k) == 2.0 => {
            matches!(d.graph.node(*base), Node::Sub(a, b) if is_target(d, *a) || is_target(d, *b))
        }
        _ => false,
    });
    square && !logarithm
}

/// A claim about dp_j/dz_k (or dL/dz_k through a named softmax) that uses `p(1 - p)`.
fn jacobian_diagonal(
    network: &Network,
    d: &mut Derivation,
    of: Var,
    wrt: Var,
    out: &mut Vec<Candidate>,
) {
    // The softmax element whose logit is `wrt`: exp(wrt - lse).
    let sibling = d
        .forward
        .iter()
        .find_map(|def| match d.graph.node(def.value) {
            Node::Func(Builtin::Exp, shifted) => match d.graph.node(*shifted) {
                Node::Sub(z, lse)
                    if *d.graph.node(*z) == Node::Var(wrt)
                        && matches!(d.graph.node(*lse), Node::LogSumExp(_)) =>
                {
                    Some(def.var)
                }
                _ => None,
            },
            _ => None,
        });
    let Some(p_k) = sibling else {
        return;
    };
    let diagonal = |g: &mut Graph, p: Var| {
        let p = g.var(p);
        let one = g.constant_node(1.0);
        let rest = g.sub(one, p);
        g.mul(p, rest)
    };
    let law =
        "dp_j/dz_k = p_j * (delta_jk - p_k): p_k * (1 - p_k) on the diagonal, -p_j * p_k off it";
    if of != p_k && is_softmax(d, of) {
        let (j_text, k_text) = (
            d.layout.describe(network, of),
            d.layout.describe(network, p_k),
        );
        for p in [of, p_k] {
            let node = diagonal(&mut d.graph, p);
            let p_text = d.layout.describe(network, p);
            out.push(Candidate {
                node,
                line: format!(
                    "`{p_text} * (1 - {p_text})` is the diagonal of the softmax Jacobian, right only for j = k; here j != k ({j_text} against the logit of {k_text}), and {law}"
                ),
            });
        }
    } else if of == d.loss() {
        let sweep = d.derivatives_of(of);
        if let Some(&through) = sweep.get(&p_k) {
            let local = diagonal(&mut d.graph, p_k);
            let node = d.graph.mul(through, local);
            let k_text = d.layout.describe(network, p_k);
            out.push(Candidate {
                node,
                line: format!(
                    "the claim goes through `{k_text}` alone with dp_k/dz_k = p_k * (1 - p_k): the diagonal of the softmax Jacobian used for all of it, the other classes dropped; {law}"
                ),
            });
        }
    }
}

/// One term of the first sum among the derived expression's factors: the sum over classes
/// (or over any consumers) dropped.
fn dropped_sum(
    network: &Network,
    d: &mut Derivation,
    of: Var,
    wrt: Var,
    derived: NodeId,
    out: &mut Vec<Candidate>,
) {
    let mut factors = Vec::new();
    product_factors(&d.graph, derived, &mut factors);
    let Some((sum, terms)) = factors.into_iter().find_map(|f| {
        let terms = sum_terms(&d.graph, f);
        (terms.len() >= 2 && terms.len() <= MAX_TERMS).then_some((f, terms))
    }) else {
        return;
    };
    let sum_text = text(network, d, sum);
    let (of_text, wrt_text) = (
        d.layout.describe(network, of),
        d.layout.describe(network, wrt),
    );
    // A weight that multiplies the previous state has no term at the first step, which
    // reads the zero before it.
    let over_time = shared_over_steps(network, d, wrt)
        .filter(|(_, steps)| terms.len() <= *steps && terms.len() + 1 >= *steps);
    let map = read_by_maps(network, d, wrt);
    for term in terms {
        let node = replace(&mut d.graph, derived, sum, term);
        let term_text = text(network, d, term);
        let line = match &over_time {
            // A weight of a recurrence acts at every step: its gradient adds one term per step.
            Some((name, steps)) => format!(
                "the claim keeps one term, `{term_text}`, of the sum over the {steps} steps of `{name}`: {wrt_text} is shared by every step, so its gradient adds the term of each (the sum over time is dropped)"
            ),
            // An element of a feature map (or a kernel) feeds every filter at every position
            // that covers it: its delta or gradient sums over all of them.
            None if map.is_some() => format!(
                "the claim keeps one term, `{term_text}`, of the sum `{sum_text}`: {wrt_text} feeds every element of `{}` whose kernel or window covers it (each filter, each position), so the sum over them is dropped (where windows overlap, the contributions add: `+=`, not `=`)",
                map.as_deref().unwrap_or_default()
            ),
            None => format!(
                "the claim keeps one term, `{term_text}`, of the sum `{sum_text}`: the sum over classes (every path from {wrt_text} to {of_text}) is dropped"
            ),
        };
        out.push(Candidate { node, line });
    }
}

/// The recurrent vector whose definition reads the parameter `wrt` belongs to (its weight is
/// shared by every step), with its number of steps.
fn shared_over_steps(network: &Network, d: &Derivation, wrt: Var) -> Option<(String, usize)> {
    let Slot::Value(Symbol::Param(_), _) = d.layout.slot(wrt) else {
        return None;
    };
    d.consumers[wrt.index()].iter().find_map(|&c| {
        let Slot::Value(Symbol::Vector(v), _) = d.layout.slot(d.forward[c].var) else {
            return None;
        };
        let vector = &network.vectors[v];
        let recurrent = network.recurrence_of(v).is_some() || vector.expr.reads(Symbol::Vector(v));
        recurrent.then(|| (vector.name.clone(), vector.shape.dims()[0]))
    })
}

/// The feature map (a value of three or more axes) that reads `wrt`, if one does.
fn read_by_maps(network: &Network, d: &Derivation, wrt: Var) -> Option<String> {
    d.consumers[wrt.index()].iter().find_map(|&c| {
        let Slot::Value(Symbol::Vector(v), _) = d.layout.slot(d.forward[c].var) else {
            return None;
        };
        let vector = &network.vectors[v];
        (vector.shape.rank() >= 3).then(|| vector.name.clone())
    })
}

fn is_target(d: &Derivation, n: NodeId) -> bool {
    matches!(d.graph.node(n), Node::Var(v) if matches!(d.layout.slot(*v), Slot::Value(Symbol::Target(_), _)))
}

fn definition(d: &Derivation, v: Var) -> Option<NodeId> {
    d.forward
        .iter()
        .find(|def| def.var == v)
        .map(|def| def.value)
}

/// Whether `v` is an element of a named softmax, `exp(z_k - lse(z))`.
fn is_softmax(d: &Derivation, v: Var) -> bool {
    definition(d, v).is_some_and(|value| match d.graph.node(value) {
        Node::Func(Builtin::Exp, shifted) => matches!(
            d.graph.node(*shifted),
            Node::Sub(_, lse) if matches!(d.graph.node(*lse), Node::LogSumExp(_))
        ),
        _ => false,
    })
}

/// Whether `v` is a probability: a named softmax or sigmoid element.
fn is_probability(d: &Derivation, v: Var) -> bool {
    is_softmax(d, v)
        || definition(d, v)
            .is_some_and(|value| matches!(d.graph.node(value), Node::Func(Builtin::Sigmoid, _)))
}

fn mentions_probability(d: &Derivation, n: NodeId) -> bool {
    subtree(&d.graph, n)
        .into_iter()
        .any(|m| matches!(d.graph.node(m), Node::Var(v) if is_probability(d, *v)))
}

/// The softmax probability `p` of `p` or `p * s` / `s * p`, if `a` is one of those.
fn probability_factor(d: &Derivation, a: NodeId) -> Option<NodeId> {
    let softmax = |n: NodeId| matches!(d.graph.node(n), Node::Var(v) if is_softmax(d, *v));
    match d.graph.node(a) {
        Node::Var(_) if softmax(a) => Some(a),
        Node::Mul(x, _) if softmax(*x) => Some(*x),
        Node::Mul(_, y) if softmax(*y) => Some(*y),
        _ => None,
    }
}

fn product_factors(g: &Graph, n: NodeId, out: &mut Vec<NodeId>) {
    match g.node(n) {
        Node::Mul(a, b) => {
            product_factors(g, *a, out);
            product_factors(g, *b, out);
        }
        Node::Neg(a) => product_factors(g, *a, out),
        _ => out.push(n),
    }
}

fn sum_terms(g: &Graph, n: NodeId) -> Vec<NodeId> {
    match g.node(n) {
        Node::Sum(items) => items.to_vec(),
        Node::Add(a, b) => vec![*a, *b],
        _ => Vec::new(),
    }
}

/// The distinct nodes under `root`, `root` first.
fn subtree(g: &Graph, root: NodeId) -> Vec<NodeId> {
    let mut seen = std::collections::HashSet::new();
    let mut order = Vec::new();
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        if seen.insert(n) {
            order.push(n);
            g.node(n).for_each_child(|c| stack.push(c));
        }
    }
    order
}

/// `root` with the sub-expression `from` replaced by `to`, rebuilt through the smart
/// constructors (children before parents: ascending ids).
fn replace(g: &mut Graph, root: NodeId, from: NodeId, to: NodeId) -> NodeId {
    let mut nodes = subtree(g, root);
    nodes.sort_unstable();
    let mut map: std::collections::HashMap<NodeId, NodeId> = std::collections::HashMap::new();
    map.insert(from, to);
    for n in nodes {
        if n == from {
            continue;
        }
        let m = |c: &NodeId| map.get(c).copied().unwrap_or(*c);
        let rebuilt = match g.node(n).clone() {
            Node::Const(_) | Node::Var(_) => n,
            Node::Add(a, b) => g.add(m(&a), m(&b)),
            Node::Sub(a, b) => g.sub(m(&a), m(&b)),
            Node::Mul(a, b) => g.mul(m(&a), m(&b)),
            Node::Div(a, b) => g.div(m(&a), m(&b)),
            Node::Neg(a) => g.neg(m(&a)),
            Node::Pow(a, k) => g.pow(m(&a), f64::from_bits(k)),
            Node::Func(f, a) => g.func(f, m(&a)),
            Node::Pair(f, a, b) => g.pair(f, m(&a), m(&b)),
            Node::Sum(items) => {
                let items: Vec<NodeId> = items.iter().map(m).collect();
                g.sum(&items)
            }
            Node::LogSumExp(items) => {
                let items: Vec<NodeId> = items.iter().map(m).collect();
                g.logsumexp(&items)
            }
        };
        map.insert(n, rebuilt);
    }
    map.get(&root).copied().unwrap_or(root)
}
