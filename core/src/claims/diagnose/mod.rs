//! Saying where a failed claim goes wrong: a point with both values, a constant ratio, and
//! which factor of the chain rule the claim lacks, adds, or replaces with something else.

use std::collections::HashSet;

use crate::derive::Derivation;
use crate::eval::Evaluator;
use crate::ir::{Node, NodeId, Var};
use crate::model::Network;

use super::ratio::{fraction, name_ratio};

mod swaps;

/// One factor of the chain rule between two named scalars: d(of)/d(wrt) = node.
#[derive(Clone, Debug)]
pub struct ChainFactor {
    /// The numerator of the Leibniz symbol.
    pub of: Var,
    /// The denominator.
    pub wrt: Var,
    /// Its expression.
    pub node: NodeId,
}

/// The chain from `wrt` up to `of`, one factor per link while each named scalar has a single
/// consumer on the way (as people write it: dL/dy dy/da da/dz dz/dw); where several paths
/// meet, the rest is one factor d(of)/d(v), a sum over those paths.
pub fn chain_factors(
    d: &Derivation,
    of: Var,
    wrt: Var,
    sweep: &std::collections::HashMap<Var, NodeId>,
) -> Vec<ChainFactor> {
    let Some(top) = d.forward.iter().position(|def| def.var == of) else {
        return Vec::new();
    };
    // The sweep holds d(of)/d(v) for exactly the scalars `of` depends on: consumers outside
    // it lead elsewhere.
    let on_path = |v: &Var| sweep.contains_key(v);
    let mut factors = Vec::new();
    let mut current = wrt;
    while current != of {
        let consumers: Vec<usize> = d.consumers[current.index()]
            .iter()
            .copied()
            .filter(|&c| c <= top && on_path(&d.forward[c].var))
            .collect();
        match consumers.as_slice() {
            [c] => {
                let def = &d.forward[*c];
                let Some(&(_, node)) = def.partials.iter().find(|(u, _)| *u == current) else {
                    break;
                };
                factors.push(ChainFactor {
                    of: def.var,
                    wrt: current,
                    node,
                });
                current = def.var;
            }
            _ => {
                if let Some(&node) = sweep.get(&current) {
                    factors.push(ChainFactor {
                        of,
                        wrt: current,
                        node,
                    });
                }
                break;
            }
        }
    }
    factors.reverse();
    factors
}

/// Whether two value vectors agree at every point, to rounding.
pub fn same(a: &[f64], b: &[f64]) -> bool {
    a.iter().zip(b).all(|(x, y)| close(*x, *y))
}

fn close(x: f64, y: f64) -> bool {
    x == y || (x - y).abs() <= 1e-8 * x.abs().max(y.abs()).max(1.0)
}

/// The constant `r` with `a = r * b` at every point, if there is one.
pub fn ratio(a: &[f64], b: &[f64]) -> Option<f64> {
    let r = a
        .iter()
        .zip(b)
        .find(|(_, y)| y.abs() > 1e-12)
        .map(|(x, y)| x / y)?;
    a.iter().zip(b).all(|(x, y)| close(*x, r * y)).then_some(r)
}

/// A product split into a numeric coefficient and its non-constant factors.
fn split_product(
    graph: &crate::ir::Graph,
    node: NodeId,
    coefficient: &mut f64,
    out: &mut Vec<NodeId>,
) {
    match graph.node(node) {
        Node::Mul(a, b) => {
            split_product(graph, *a, coefficient, out);
            split_product(graph, *b, coefficient, out);
        }
        Node::Neg(a) => {
            *coefficient = -*coefficient;
            split_product(graph, *a, coefficient, out);
        }
        Node::Const(b) => *coefficient *= f64::from_bits(*b),
        Node::Div(a, b) if graph.constant(*b).is_some() => {
            *coefficient /= graph.constant(*b).unwrap_or(1.0);
            split_product(graph, *a, coefficient, out);
        }
        Node::Pow(a, k) if f64::from_bits(*k) == 2.0 => {
            split_product(graph, *a, coefficient, out);
            split_product(graph, *a, coefficient, out);
        }
        _ => out.push(node),
    }
}

/// What the diagnosis needs.
pub struct Context<'c, 'd> {
    pub network: &'c Network,
    pub derivation: &'d Derivation,
    pub points: &'c [Vec<f64>],
    pub text: &'c dyn Fn(NodeId) -> String,
}

/// Each side of a claim as a coefficient times atomic factors.
struct Sides {
    derived_coefficient: f64,
    derived: Vec<Atom>,
    claimed_coefficient: f64,
    claimed: Vec<Atom>,
}

/// Which missing factor stands paired with which extra one, and what is used.
struct Pairing {
    used_missing: Vec<bool>,
    used_extra: Vec<bool>,
    paired: Vec<(usize, usize)>,
}

/// An atomic factor of one side, with the chain factor it came from (derived side only).
struct Atom {
    node: NodeId,
    values: Vec<f64>,
    from: Option<usize>,
}

impl Context<'_, '_> {
    fn name(&self, v: Var) -> String {
        self.derivation.layout.describe(self.network, v)
    }

    fn leibniz(&self, f: &super::diagnose::ChainFactor) -> String {
        format!("d{}/d{}", self.name(f.of), self.name(f.wrt))
    }

    /// The lines of a diagnosis for one failing instance.
    #[allow(clippy::too_many_arguments)]
    pub fn explain(
        &self,
        of: Var,
        wrt: Var,
        derived: NodeId,
        claimed: NodeId,
        chain: &[ChainFactor],
        evaluators: &mut [Evaluator<'_>],
        label: &str,
    ) -> Vec<String> {
        let values = |node: NodeId, evaluators: &mut [Evaluator<'_>]| -> Vec<f64> {
            evaluators.iter_mut().map(|e| e.value(node)).collect()
        };
        let d_values = values(derived, evaluators);
        let c_values = values(claimed, evaluators);
        let mut lines = Vec::new();
        let at = if label.is_empty() {
            String::new()
        } else {
            format!(" (at {label})")
        };
        lines.push(format!(
            "claimed{at}:  d{}/d{} = {}",
            self.name(of),
            self.name(wrt),
            (self.text)(claimed)
        ));
        lines.push(format!(
            "derived{at}:  d{}/d{} = {}",
            self.name(of),
            self.name(wrt),
            (self.text)(derived)
        ));
        if let Some(p) = (0..d_values.len()).find(|&p| !close(d_values[p], c_values[p])) {
            lines.push(format!(
                "they differ at a random point{}: the claim gives {}, the derivation {}",
                self.describe_point(p, &[derived, claimed]),
                c_values[p],
                d_values[p]
            ));
        }
        if c_values.iter().all(|v| *v == 0.0) {
            lines.push("the claim is zero where the derivative is not".into());
        } else if let Some(r) = ratio(&c_values, &d_values) {
            lines.push(format!("the two differ by {}", name_ratio(r, self.network)));
        }
        lines.extend(self.factor_diagnosis(derived, claimed, chain, evaluators));
        lines
    }

    /// The values, at point `p`, of the named scalars the expressions mention.
    fn describe_point(&self, p: usize, nodes: &[NodeId]) -> String {
        let mut vars: Vec<Var> = Vec::new();
        let mut seen = HashSet::new();
        let mut stack = nodes.to_vec();
        while let Some(n) = stack.pop() {
            if !seen.insert(n) {
                continue;
            }
            match self.derivation.graph.node(n) {
                Node::Var(v) => vars.push(*v),
                other => other.for_each_child(|c| stack.push(c)),
            }
        }
        vars.sort();
        vars.dedup();
        if vars.is_empty() || vars.len() > 8 {
            return String::new();
        }
        let shown: Vec<String> = vars
            .iter()
            .map(|v| format!("{} = {:.6}", self.name(*v), self.points[p][v.index()]))
            .collect();
        format!(" ({})", shown.join(", "))
    }

    /// Both sides split into atomic factors with their values: the derived side's factors
    /// (from the chain when there is one) and coefficient, the chain factor whose coefficient
    /// is negative, and the claim's.
    fn atoms(
        &self,
        derived: NodeId,
        claimed: NodeId,
        chain: &[ChainFactor],
        evaluators: &mut [Evaluator<'_>],
    ) -> (Sides, Option<usize>) {
        let graph = &self.derivation.graph;
        let atom = |node: NodeId, from: Option<usize>| Atom {
            node,
            values: Vec::new(),
            from,
        };
        let mut sides = Sides {
            derived_coefficient: 1.0,
            derived: Vec::new(),
            claimed_coefficient: 1.0,
            claimed: Vec::new(),
        };
        let mut negative_factor = None;
        if chain.is_empty() {
            let mut nodes = Vec::new();
            split_product(graph, derived, &mut sides.derived_coefficient, &mut nodes);
            sides
                .derived
                .extend(nodes.into_iter().map(|n| atom(n, None)));
        }
        for (i, factor) in chain.iter().enumerate() {
            let mut coefficient = 1.0;
            let mut nodes = Vec::new();
            split_product(graph, factor.node, &mut coefficient, &mut nodes);
            if coefficient < 0.0 {
                negative_factor = Some(i);
            }
            sides.derived_coefficient *= coefficient;
            sides
                .derived
                .extend(nodes.into_iter().map(|n| atom(n, Some(i))));
        }
        let mut nodes = Vec::new();
        split_product(graph, claimed, &mut sides.claimed_coefficient, &mut nodes);
        sides.claimed = nodes.into_iter().map(|n| atom(n, None)).collect();
        for atom in sides.derived.iter_mut().chain(sides.claimed.iter_mut()) {
            atom.values = evaluators.iter_mut().map(|e| e.value(atom.node)).collect();
        }
        (sides, negative_factor)
    }

    /// Pairs each missing factor with the claim factor that most plausibly stands in its
    /// place: a related leaf swapped (pre-activation for activation, another element of the
    /// same vector), then a constant multiple, then any leaf swap; a single factor left on each
    /// side pairs too. Sigmoid-derivative factors on units that are not sigmoids are their own
    /// finding, in `lines`.
    fn pair(&self, missing: &[&Atom], extra: &[&Atom], lines: &mut Vec<String>) -> Pairing {
        let mut pairs: Vec<(u8, usize, usize)> = Vec::new();
        for (i, m) in missing.iter().enumerate() {
            for (j, e) in extra.iter().enumerate() {
                let score = match self.substitutions(m.node, e.node) {
                    Some(subs) if subs.iter().all(|&(a, b)| self.related(a, b)) => 3,
                    _ if ratio(&e.values, &m.values).is_some() => 2,
                    Some(_) => 1,
                    None => 0,
                };
                if score > 0 {
                    pairs.push((score, i, j));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let mut pairing = Pairing {
            used_missing: vec![false; missing.len()],
            used_extra: vec![false; extra.len()],
            paired: Vec::new(),
        };
        for (_, i, j) in pairs {
            if !pairing.used_missing[i] && !pairing.used_extra[j] {
                pairing.used_missing[i] = true;
                pairing.used_extra[j] = true;
                pairing.paired.push((i, j));
            }
        }
        for (j, e) in extra.iter().enumerate() {
            if !pairing.used_extra[j]
                && let Some(line) = self.misplaced_sigmoid_derivative(e.node)
            {
                pairing.used_extra[j] = true;
                lines.push(line);
            }
        }
        let left_missing: Vec<usize> = (0..missing.len())
            .filter(|&i| !pairing.used_missing[i])
            .collect();
        let left_extra: Vec<usize> = (0..extra.len())
            .filter(|&j| !pairing.used_extra[j])
            .collect();
        if let ([i], [j]) = (left_missing.as_slice(), left_extra.as_slice()) {
            pairing.used_missing[*i] = true;
            pairing.used_extra[*j] = true;
            pairing.paired.push((*i, *j));
        }
        pairing.paired.sort();
        pairing
    }

    fn factor_diagnosis(
        &self,
        derived: NodeId,
        claimed: NodeId,
        chain: &[ChainFactor],
        evaluators: &mut [Evaluator<'_>],
    ) -> Vec<String> {
        let (sides, negative_factor) = self.atoms(derived, claimed, chain, evaluators);
        // Match equal factors; what is left on each side is the difference.
        let mut matched_claim = vec![false; sides.claimed.len()];
        let mut missing: Vec<&Atom> = Vec::new();
        for atom in &sides.derived {
            match (0..sides.claimed.len())
                .find(|&j| !matched_claim[j] && same(&sides.claimed[j].values, &atom.values))
            {
                Some(j) => matched_claim[j] = true,
                None => missing.push(atom),
            }
        }
        let extra: Vec<&Atom> = sides
            .claimed
            .iter()
            .zip(&matched_claim)
            .filter(|(_, m)| !**m)
            .map(|(a, _)| a)
            .collect();
        let mut lines = Vec::new();
        let chain_text = |i: Option<usize>| match i {
            Some(i) => format!(
                " (the factor {} = {})",
                self.leibniz(&chain[i]),
                (self.text)(chain[i].node)
            ),
            None => String::new(),
        };
        let pairing = self.pair(&missing, &extra, &mut lines);
        for &(i, j) in &pairing.paired {
            lines.push(self.replacement(missing[i], extra[j], &chain_text(missing[i].from)));
            lines.extend(self.inside_sums(missing[i].node, extra[j].node, evaluators));
        }
        for (i, m) in missing.iter().enumerate() {
            if !pairing.used_missing[i] {
                lines.push(format!(
                    "the claim lacks the factor `{}`{}",
                    (self.text)(m.node),
                    chain_text(m.from)
                ));
            }
        }
        for (j, e) in extra.iter().enumerate() {
            if !pairing.used_extra[j] {
                lines.push(format!(
                    "the claim has a factor `{}` that the derivation lacks",
                    (self.text)(e.node)
                ));
            }
        }
        let (dc, cc) = (sides.derived_coefficient, sides.claimed_coefficient);
        if missing.is_empty() && extra.is_empty() && !close(dc, cc) {
            let r = cc / dc;
            let sign = match negative_factor {
                Some(i) if r < 0.0 => format!(
                    ": the minus sign of {} = {} is lost",
                    self.leibniz(&chain[i]),
                    (self.text)(chain[i].node)
                ),
                _ => String::new(),
            };
            lines.push(format!(
                "every factor matches but the constant: the claim has {}, the derivation {}{sign}",
                fraction(cc),
                fraction(dc)
            ));
        }
        if lines.is_empty() {
            lines.push("no single factor explains the difference".into());
        }
        lines
    }
}
