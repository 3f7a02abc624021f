//! Naming what a claim's factor stands in for: a swapped leaf (pre-activation for activation,
//! another element of the same vector), a constant multiple, a factor inside a sum.

use crate::builtin::Builtin;
use crate::eval::Evaluator;
use crate::ir::{Node, NodeId, Var};
use crate::layout::Slot;
use crate::model::Symbol;

use super::super::ratio::fraction;
use super::{Atom, Context, ratio, same, split_product};

impl Context<'_, '_> {
    /// How `claim` stands where `derived` belongs.
    pub(super) fn replacement(&self, derived: &Atom, claim: &Atom, chain_text: &str) -> String {
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
    pub(super) fn substitutions(&self, a: NodeId, b: NodeId) -> Option<Vec<(Var, Var)>> {
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
    pub(super) fn related(&self, want: Var, got: Var) -> bool {
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
    pub(super) fn inside_sums(
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
    pub(super) fn misplaced_sigmoid_derivative(&self, node: NodeId) -> Option<String> {
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
