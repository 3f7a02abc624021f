//! Saying where a failed claim goes wrong: a point with both values, a constant ratio, and
//! which factor of the chain rule the claim lacks, adds, or replaces with something else.

use std::collections::HashSet;

use crate::builtin::Builtin;
use crate::derive::Derivation;
use crate::eval::Evaluator;
use crate::ir::{Node, NodeId, Var};
use crate::layout::Slot;
use crate::model::{Network, Symbol};

use super::ratio::{fraction, name_ratio};

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

    fn factor_diagnosis(
        &self,
        derived: NodeId,
        claimed: NodeId,
        chain: &[ChainFactor],
        evaluators: &mut [Evaluator<'_>],
    ) -> Vec<String> {
        let graph = &self.derivation.graph;
        let mut evaluate =
            |node: NodeId| -> Vec<f64> { evaluators.iter_mut().map(|e| e.value(node)).collect() };
        let mut derived_coefficient = 1.0;
        let mut derived_atoms: Vec<Atom> = Vec::new();
        let mut negative_factor = None;
        if chain.is_empty() {
            let mut nodes = Vec::new();
            split_product(graph, derived, &mut derived_coefficient, &mut nodes);
            derived_atoms.extend(nodes.into_iter().map(|node| Atom {
                node,
                values: Vec::new(),
                from: None,
            }));
        }
        for (i, factor) in chain.iter().enumerate() {
            let mut coefficient = 1.0;
            let mut nodes = Vec::new();
            split_product(graph, factor.node, &mut coefficient, &mut nodes);
            if coefficient < 0.0 {
                negative_factor = Some(i);
            }
            derived_coefficient *= coefficient;
            derived_atoms.extend(nodes.into_iter().map(|node| Atom {
                node,
                values: Vec::new(),
                from: Some(i),
            }));
        }
        let mut claimed_coefficient = 1.0;
        let mut nodes = Vec::new();
        split_product(graph, claimed, &mut claimed_coefficient, &mut nodes);
        let mut claimed_atoms: Vec<Atom> = nodes
            .into_iter()
            .map(|node| Atom {
                node,
                values: Vec::new(),
                from: None,
            })
            .collect();
        for atom in derived_atoms.iter_mut().chain(claimed_atoms.iter_mut()) {
            atom.values = evaluate(atom.node);
        }
        // Match equal factors; what is left on each side is the difference.
        let mut matched_claim = vec![false; claimed_atoms.len()];
        let mut missing: Vec<&Atom> = Vec::new();
        for atom in &derived_atoms {
            match (0..claimed_atoms.len())
                .find(|&j| !matched_claim[j] && same(&claimed_atoms[j].values, &atom.values))
            {
                Some(j) => matched_claim[j] = true,
                None => missing.push(atom),
            }
        }
        let extra: Vec<&Atom> = claimed_atoms
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
        // Pair each missing factor with the claim factor that most plausibly stands in its
        // place: a related leaf swapped (pre-activation for activation, another element of
        // the same vector), then a constant multiple, then any leaf swap.
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
        let mut used_missing = vec![false; missing.len()];
        let mut used_extra = vec![false; extra.len()];
        let mut paired: Vec<(usize, usize)> = Vec::new();
        for (_, i, j) in pairs {
            if !used_missing[i] && !used_extra[j] {
                used_missing[i] = true;
                used_extra[j] = true;
                paired.push((i, j));
            }
        }
        // Sigmoid-derivative factors on units that are not sigmoids are their own finding.
        for (j, e) in extra.iter().enumerate() {
            if !used_extra[j]
                && let Some(line) = self.misplaced_sigmoid_derivative(e.node)
            {
                used_extra[j] = true;
                lines.push(line);
            }
        }
        let left_missing: Vec<usize> = (0..missing.len()).filter(|&i| !used_missing[i]).collect();
        let left_extra: Vec<usize> = (0..extra.len()).filter(|&j| !used_extra[j]).collect();
        if let ([i], [j]) = (left_missing.as_slice(), left_extra.as_slice()) {
            used_missing[*i] = true;
            used_extra[*j] = true;
            paired.push((*i, *j));
        }
        paired.sort();
        for (i, j) in paired {
            lines.push(self.replacement(missing[i], extra[j], &chain_text(missing[i].from)));
            lines.extend(self.inside_sums(missing[i].node, extra[j].node, evaluators));
        }
        for (i, m) in missing.iter().enumerate() {
            if !used_missing[i] {
                lines.push(format!(
                    "the claim lacks the factor `{}`{}",
                    (self.text)(m.node),
                    chain_text(m.from)
                ));
            }
        }
        for (j, e) in extra.iter().enumerate() {
            if !used_extra[j] {
                lines.push(format!(
                    "the claim has a factor `{}` that the derivation lacks",
                    (self.text)(e.node)
                ));
            }
        }
        if missing.is_empty()
            && extra.is_empty()
            && !close(derived_coefficient, claimed_coefficient)
        {
            let r = claimed_coefficient / derived_coefficient;
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
                fraction(claimed_coefficient),
                fraction(derived_coefficient)
            ));
        }
        if lines.is_empty() {
            lines.push("no single factor explains the difference".into());
        }
        lines
    }

    /// How `claim` stands where `derived` belongs.
    fn replacement(&self, derived: &Atom, claim: &Atom, chain_text: &str) -> String {
        let (d, c) = ((self.text)(derived.node), (self.text)(claim.node));
        if let Some(subs) = self.substitutions(derived.node, claim.node) {
            let described: Vec<String> = subs
                .iter()
                .map(|&(want, got)| self.substitution(want, got))
                .collect();
            return format!(
                "`{c}` stands where the derivation has `{d}`{chain_text}: {}",
                described.join("; ")
            );
        }
        if let Some(r) = ratio(&claim.values, &derived.values) {
            if (r + 1.0).abs() < 1e-9 {
                return format!(
                    "`{c}` has the opposite sign of the derivation's `{d}`{chain_text}"
                );
            }
            return format!(
                "`{c}` is {} times the derivation's `{d}`{chain_text}",
                fraction(r)
            );
        }
        format!("`{c}` stands where the derivation has `{d}`{chain_text}")
    }

    /// Describes one leaf the claim uses in place of another.
    fn substitution(&self, want: Var, got: Var) -> String {
        let definition_uses = |outer: Var, inner: Var| {
            self.derivation
                .forward
                .iter()
                .find(|d| d.var == outer)
                .is_some_and(|d| matches!(self.derivation.graph.node(d.value), Node::Func(_, a) if *self.derivation.graph.node(*a) == Node::Var(inner)))
        };
        if definition_uses(want, got) {
            format!(
                "it uses the pre-activation `{}` where the derivation has the activation `{}`",
                self.name(got),
                self.name(want)
            )
        } else if definition_uses(got, want) {
            format!(
                "it uses the activation `{}` where the derivation has the pre-activation `{}`",
                self.name(got),
                self.name(want)
            )
        } else {
            format!(
                "it uses `{}` where the derivation has `{}`",
                self.name(got),
                self.name(want)
            )
        }
    }

    /// Leaf-for-leaf differences between two expressions of the same shape.
    fn substitutions(&self, a: NodeId, b: NodeId) -> Option<Vec<(Var, Var)>> {
        let graph = &self.derivation.graph;
        if a == b {
            return Some(Vec::new());
        }
        match (graph.node(a), graph.node(b)) {
            (Node::Var(x), Node::Var(y)) => Some(vec![(*x, *y)]),
            (x, y)
                if std::mem::discriminant(x) == std::mem::discriminant(y)
                    && same_operator(x, y) =>
            {
                let (mut xs, mut ys) = (Vec::new(), Vec::new());
                x.for_each_child(|c| xs.push(c));
                y.for_each_child(|c| ys.push(c));
                if xs.len() != ys.len() || xs.is_empty() {
                    return None;
                }
                let mut out = Vec::new();
                for (p, q) in xs.into_iter().zip(ys) {
                    out.extend(self.substitutions(p, q)?);
                }
                Some(out)
            }
            _ => None,
        }
    }

    /// Whether the claim using `got` where the derivation has `want` is a recognisable slip:
    /// an activation and its pre-activation, or two elements of the same vector.
    fn related(&self, want: Var, got: Var) -> bool {
        let layout = &self.derivation.layout;
        let symbol = |v: Var| match layout.slot(v) {
            Slot::Value(s, _) => Some(s),
            Slot::Delta(..) => None,
        };
        symbol(want).is_some() && symbol(want) == symbol(got)
            || self.activation_of(want, got)
            || self.activation_of(got, want)
    }

    /// Whether `outer` is defined as a function applied to `inner` (`a = sigmoid(z)`).
    fn activation_of(&self, outer: Var, inner: Var) -> bool {
        let graph = &self.derivation.graph;
        self.derivation
            .forward
            .iter()
            .find(|d| d.var == outer)
            .is_some_and(|d| matches!(graph.node(d.value), Node::Func(_, a) if *graph.node(*a) == Node::Var(inner)))
    }

    /// For two sums of the same length, the first pair of terms that differs, diagnosed.
    fn inside_sums(
        &self,
        derived: NodeId,
        claimed: NodeId,
        evaluators: &mut [Evaluator<'_>],
    ) -> Vec<String> {
        let graph = &self.derivation.graph;
        let terms = |n: NodeId| -> Vec<NodeId> {
            match graph.node(n) {
                Node::Sum(items) => items.to_vec(),
                Node::Add(a, b) | Node::Sub(a, b) => vec![*a, *b],
                _ => Vec::new(),
            }
        };
        let (ds, cs) = (terms(derived), terms(claimed));
        if ds.len() < 2 || ds.len() != cs.len() {
            return Vec::new();
        }
        let values = |n: NodeId, evaluators: &mut [Evaluator<'_>]| -> Vec<f64> {
            evaluators.iter_mut().map(|e| e.value(n)).collect()
        };
        // Terms may come in another order: pair each claimed term with the derived term it
        // shares the most factors with by trying all and keeping the first mismatch.
        for c in &cs {
            let c_values = values(*c, evaluators);
            if ds.iter().any(|d| {
                same(&values(*d, evaluators), &c_values)
                    || ratio(&values(*d, evaluators), &c_values)
                        .is_some_and(|r| (r + 1.0).abs() < 1e-9)
            }) {
                continue;
            }
            let best = ds.iter().copied().max_by_key(|d| {
                let (mut k, mut dn, mut cn) = (1.0, Vec::new(), Vec::new());
                split_product(graph, *d, &mut k, &mut dn);
                split_product(graph, *c, &mut k, &mut cn);
                dn.iter().filter(|x| cn.contains(x)).count()
            });
            if let Some(d) = best {
                let inner = self.factor_diagnosis(d, *c, &[], evaluators);
                return inner
                    .into_iter()
                    .map(|l| format!("inside the sum: {l}"))
                    .collect();
            }
        }
        Vec::new()
    }

    /// A sigmoid-derivative factor (`sigmoid(u)` or `1 - sigmoid(u)`) on a unit `u` whose
    /// definition is not a sigmoid: seed 001's slip on linear units.
    fn misplaced_sigmoid_derivative(&self, node: NodeId) -> Option<String> {
        let graph = &self.derivation.graph;
        let sigmoid_argument = |n: NodeId| -> Option<NodeId> {
            match graph.node(n) {
                Node::Func(Builtin::Sigmoid, a) => Some(*a),
                Node::Sub(one, s) if graph.constant(*one) == Some(1.0) => match graph.node(*s) {
                    Node::Func(Builtin::Sigmoid, a) => Some(*a),
                    _ => None,
                },
                _ => None,
            }
        };
        let Node::Var(v) = graph.node(sigmoid_argument(node)?) else {
            return None;
        };
        let is_sigmoid =
            self.derivation.forward.iter().any(|d| {
                d.var == *v && matches!(graph.node(d.value), Node::Func(Builtin::Sigmoid, _))
            });
        if is_sigmoid {
            return None;
        }
        let unit = match self.derivation.layout.slot(*v) {
            Slot::Value(Symbol::Vector(i), _) => format!("`{}`", self.network.vectors[i].name),
            _ => format!("`{}`", self.name(*v)),
        };
        Some(format!(
            "the claim has a sigmoid-derivative factor `{}`, but the unit {unit} is not a sigmoid (linear units have derivative 1)",
            (self.text)(node)
        ))
    }
}

fn same_operator(x: &Node, y: &Node) -> bool {
    match (x, y) {
        (Node::Func(f, _), Node::Func(g, _)) => f == g,
        (Node::Pow(_, k), Node::Pow(_, l)) => k == l,
        (Node::Sum(a), Node::Sum(b)) => a.len() == b.len(),
        _ => true,
    }
}
