//! Index formulas found in the derivation: one formula with symbolic indices that every element
//! of a vector, a delta or a gradient is an instance of (`delta_z1[k] = delta_a1[k] a1[k]
//! (1 - a1[k])`, `z1[k] = sum_i W1[k][i] x[i]`), by the anti-unification the general LaTeX form
//! uses (`latex/general.rs`): the elements' expressions are walked together; an index that
//! equals a bound index letter in every instance becomes that letter, and a sum whose terms
//! are instances of one formula becomes a sum over a new letter. By construction, substituting
//! an instance's letters gives back exactly its expression, so code built from a formula
//! computes what the derivation says, element for element.

use crate::builtin::{Builtin, Pairwise};
use crate::derive::Derivation;
use crate::ir::{Node, NodeId};
use crate::layout::Slot;
use crate::model::Symbol;

/// An index of a leaf: a constant or a letter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ix {
    /// A fixed element.
    Const(usize),
    /// A letter bound by the formula's element or by a sum.
    Letter(char),
}

/// What a leaf names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeafKind {
    /// An input, target, parameter, vector or the loss.
    Value(Symbol),
    /// The delta of a vector (by index).
    Delta(usize),
}

/// Arithmetic of a formula.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// A two-argument built-in (`np.maximum`, a bracket `[a >= b]`).
    Pair(Pairwise),
}

/// A formula with symbolic indices.
#[derive(Clone, Debug, PartialEq)]
pub enum Formula {
    /// A constant.
    Const(f64),
    /// An element of a symbol or delta.
    Leaf(LeafKind, Vec<Ix>),
    /// `-a`
    Neg(Box<Formula>),
    /// `a op b`
    Bin(Op, Box<Formula>, Box<Formula>),
    /// `a ^ k`
    Pow(Box<Formula>, f64),
    /// A built-in function.
    Func(Builtin, Box<Formula>),
    /// A sum of differently shaped terms.
    Sum(Vec<Formula>),
    /// `sum over letter in 0..range of body`.
    SumOver(char, usize, Box<Formula>),
    /// `log sum over letter in 0..range of exp(body)`, computed stably.
    LogSumExp(char, usize, Box<Formula>),
}

/// Letters bound for one instance, `(letter, value)`.
pub type Env = Vec<(char, usize)>;

const SUM_LETTERS: [char; 7] = ['i', 'j', 'k', 'm', 'n', 'p', 'q'];

/// Finds formulas in one derivation.
pub struct Unifier<'d> {
    derivation: &'d Derivation,
    /// Letters leaves have taken so far: where an index fits several letters (they take equal
    /// values, as in a layer of one unit), one not taken yet is the general reading
    /// (`delta[i] x[j]`, not `delta[j] x[j]`).
    taken: std::cell::RefCell<Vec<char>>,
}

impl<'d> Unifier<'d> {
    /// A unifier over a derivation's graph.
    pub fn new(derivation: &'d Derivation) -> Unifier<'d> {
        Unifier {
            derivation,
            taken: std::cell::RefCell::new(Vec::new()),
        }
    }

    /// [`Unifier::unify`] from a fresh start (no letter taken).
    pub fn unify_fresh(&self, instances: &[(Env, NodeId)]) -> Option<Formula> {
        self.taken.borrow_mut().clear();
        self.unify(instances)
    }

    fn node(&self, id: NodeId) -> &'d Node {
        self.derivation.graph.node(id)
    }

    /// One formula of which every `(env, node)` is an instance, or `None`.
    pub fn unify(&self, instances: &[(Env, NodeId)]) -> Option<Formula> {
        let first = self.node(instances.first()?.1);
        let same_kind = instances
            .iter()
            .all(|(_, n)| std::mem::discriminant(self.node(*n)) == std::mem::discriminant(first));
        if matches!(first, Node::Add(..) | Node::Sum(_)) || !same_kind {
            return self.sum(instances);
        }
        let child = |k: usize| -> Vec<(Env, NodeId)> {
            instances
                .iter()
                .map(|(env, n)| {
                    let mut children = Vec::new();
                    self.node(*n).for_each_child(|c| children.push(c));
                    (env.clone(), children[k])
                })
                .collect()
        };
        match first {
            Node::Const(b) => instances
                .iter()
                .all(|(_, n)| self.node(*n) == first)
                .then(|| Formula::Const(f64::from_bits(*b))),
            Node::Var(_) => self.leaf(instances),
            Node::Sub(..) | Node::Mul(..) | Node::Div(..) => {
                let op = match first {
                    Node::Sub(..) => Op::Sub,
                    Node::Mul(..) => Op::Mul,
                    _ => Op::Div,
                };
                let a = self.unify(&child(0))?;
                let b = self.unify(&child(1))?;
                Some(Formula::Bin(op, Box::new(a), Box::new(b)))
            }
            Node::Neg(_) => Some(Formula::Neg(Box::new(self.unify(&child(0))?))),
            Node::Pow(_, k) => {
                let same = instances
                    .iter()
                    .all(|(_, n)| matches!(self.node(*n), Node::Pow(_, kk) if kk == k));
                let a = self.unify(&child(0))?;
                same.then(|| Formula::Pow(Box::new(a), f64::from_bits(*k)))
            }
            Node::Func(f, _) => {
                let same = instances
                    .iter()
                    .all(|(_, n)| matches!(self.node(*n), Node::Func(g, _) if g == f));
                let a = self.unify(&child(0))?;
                same.then(|| Formula::Func(*f, Box::new(a)))
            }
            Node::Pair(f, ..) => {
                let same = instances
                    .iter()
                    .all(|(_, n)| matches!(self.node(*n), Node::Pair(g, ..) if g == f));
                let a = self.unify(&child(0))?;
                let b = self.unify(&child(1))?;
                same.then(|| Formula::Bin(Op::Pair(*f), Box::new(a), Box::new(b)))
            }
            Node::LogSumExp(_) => self.log_sum_exp(instances),
            Node::Add(..) | Node::Sum(_) => None,
        }
    }

    fn describe(&self, node: NodeId) -> Option<(LeafKind, Vec<usize>)> {
        let Node::Var(v) = self.node(node) else {
            return None;
        };
        let layout = &self.derivation.layout;
        Some(match layout.slot(*v) {
            Slot::Value(symbol, elem) => (LeafKind::Value(symbol), layout.indices(symbol, elem)),
            Slot::Delta(vector, elem) => (LeafKind::Delta(vector), vec![elem]),
        })
    }

    fn leaf(&self, instances: &[(Env, NodeId)]) -> Option<Formula> {
        let described: Vec<(LeafKind, Vec<usize>)> = instances
            .iter()
            .map(|(_, n)| self.describe(*n))
            .collect::<Option<_>>()?;
        let (kind, first) = &described[0];
        if described
            .iter()
            .any(|(k, idx)| k != kind || idx.len() != first.len())
        {
            return None;
        }
        let letters: Vec<char> = instances[0].0.iter().map(|(c, _)| *c).collect();
        let mut indices = Vec::new();
        for position in 0..first.len() {
            // The innermost letter first: in `sum_i W[k][i]`, an index equal to both is `i`.
            let fits = |letter: &char| {
                instances
                    .iter()
                    .zip(&described)
                    .all(|((env, _), (_, idx))| {
                        env.iter()
                            .any(|(c, value)| c == letter && *value == idx[position])
                    })
            };
            let fitting: Vec<char> = letters.iter().rev().copied().filter(fits).collect();
            let follows = {
                let mut taken = self.taken.borrow_mut();
                let choice = fitting
                    .iter()
                    .copied()
                    .find(|c| !taken.contains(c))
                    .or(fitting.first().copied());
                if let Some(c) = choice {
                    taken.push(c);
                }
                choice
            };
            let constant = described
                .iter()
                .all(|(_, idx)| idx[position] == first[position]);
            match follows {
                // `W2[k][k]` over k in {0} reads better, and vectorises, as `W2[k][0]`.
                Some(letter) if constant && indices.contains(&Ix::Letter(letter)) => {
                    indices.push(Ix::Const(first[position]))
                }
                Some(letter) => indices.push(Ix::Letter(letter)),
                None if constant => indices.push(Ix::Const(first[position])),
                None => return None,
            }
        }
        Some(Formula::Leaf(*kind, indices))
    }

    fn terms(&self, node: NodeId) -> Vec<NodeId> {
        match self.node(node) {
            Node::Add(a, b) => {
                let mut out = self.terms(*a);
                out.extend(self.terms(*b));
                out
            }
            Node::Sum(items) => items.to_vec(),
            _ => vec![node],
        }
    }

    /// One body, over a new letter, of which every term of every instance is an instance.
    fn over_letter(
        &self,
        instances: &[(Env, NodeId)],
        terms: &[Vec<NodeId>],
    ) -> Option<(char, Formula)> {
        let used: Vec<char> = instances[0].0.iter().map(|(c, _)| *c).collect();
        let letter = SUM_LETTERS.into_iter().find(|c| !used.contains(c))?;
        let expanded: Vec<(Env, NodeId)> = instances
            .iter()
            .zip(terms)
            .flat_map(|((env, _), ts)| {
                ts.iter().enumerate().map(move |(m, t)| {
                    let mut env = env.clone();
                    env.push((letter, m));
                    (env, *t)
                })
            })
            .collect();
        let body = self.unify(&expanded).filter(|b| mentions(b, letter))?;
        Some((letter, body))
    }

    /// A log-sum-exp whose terms are instances of one formula over a new letter.
    fn log_sum_exp(&self, instances: &[(Env, NodeId)]) -> Option<Formula> {
        let terms: Vec<Vec<NodeId>> = instances
            .iter()
            .map(|(_, n)| match self.node(*n) {
                Node::LogSumExp(items) => items.to_vec(),
                _ => Vec::new(),
            })
            .collect();
        let length = terms[0].len();
        if length == 0 || terms.iter().any(|t| t.len() != length) {
            return None;
        }
        let (letter, body) = self.over_letter(instances, &terms)?;
        Some(Formula::LogSumExp(letter, length, Box::new(body)))
    }

    fn sum(&self, instances: &[(Env, NodeId)]) -> Option<Formula> {
        let terms: Vec<Vec<NodeId>> = instances.iter().map(|(_, n)| self.terms(*n)).collect();
        let length = terms[0].len();
        if length < 2 || terms.iter().any(|t| t.len() != length) {
            return None;
        }
        if let Some((letter, body)) = self.over_letter(instances, &terms) {
            return Some(Formula::SumOver(letter, length, Box::new(body)));
        }
        // Runs of terms of one shape, each tried as a sum over a letter: `W @ x + b` flattens
        // to the 784 products of `W @ x` beside `b`, and only the products share a formula.
        let runs = self.runs(&terms[0]);
        let mut parts = Vec::new();
        for &(start, end) in &runs {
            if runs.len() > 1 && end - start >= 2 {
                let block: Vec<Vec<NodeId>> =
                    terms.iter().map(|ts| ts[start..end].to_vec()).collect();
                if let Some((letter, body)) = self.over_letter(instances, &block) {
                    parts.push(Formula::SumOver(letter, end - start, Box::new(body)));
                    continue;
                }
            }
            for k in start..end {
                let column: Vec<(Env, NodeId)> = instances
                    .iter()
                    .zip(&terms)
                    .map(|((env, _), ts)| (env.clone(), ts[k]))
                    .collect();
                parts.push(self.unify(&column)?);
            }
        }
        Some(Formula::Sum(parts))
    }

    /// The terms cut into maximal runs `[start, end)` of one shape: the same operations on
    /// leaves of the same symbols, whatever their indices.
    fn runs(&self, terms: &[NodeId]) -> Vec<(usize, usize)> {
        let shapes: Vec<String> = terms
            .iter()
            .map(|&t| {
                let mut shape = String::new();
                self.shape(t, &mut shape);
                shape
            })
            .collect();
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for k in 0..shapes.len() {
            match runs.last_mut() {
                Some((start, end)) if shapes[*start] == shapes[k] => *end = k + 1,
                _ => runs.push((k, k + 1)),
            }
        }
        runs
    }

    fn shape(&self, node: NodeId, out: &mut String) {
        use std::fmt::Write as _;
        let _ = match self.node(node) {
            Node::Var(_) => match self.describe(node) {
                Some((kind, _)) => write!(out, "{kind:?}"),
                None => write!(out, "?"),
            },
            Node::Const(_) => write!(out, "c"),
            Node::Add(..) => write!(out, "+"),
            Node::Sub(..) => write!(out, "-"),
            Node::Mul(..) => write!(out, "*"),
            Node::Div(..) => write!(out, "/"),
            Node::Neg(_) => write!(out, "~"),
            Node::Pow(_, k) => write!(out, "^{k}"),
            Node::Func(f, _) => write!(out, "{f:?}"),
            Node::Pair(f, ..) => write!(out, "{f:?}"),
            Node::Sum(items) => write!(out, "S{}", items.len()),
            Node::LogSumExp(items) => write!(out, "L{}", items.len()),
        };
        out.push('(');
        self.node(node).for_each_child(|c| self.shape(c, out));
        out.push(')');
    }
}

/// Whether a formula uses `letter` in some leaf.
pub fn mentions(formula: &Formula, letter: char) -> bool {
    match formula {
        Formula::Const(_) => false,
        Formula::Leaf(_, indices) => indices.contains(&Ix::Letter(letter)),
        Formula::Neg(a)
        | Formula::Pow(a, _)
        | Formula::Func(_, a)
        | Formula::SumOver(_, _, a)
        | Formula::LogSumExp(_, _, a) => mentions(a, letter),
        Formula::Bin(_, a, b) => mentions(a, letter) || mentions(b, letter),
        Formula::Sum(parts) => parts.iter().any(|p| mentions(p, letter)),
    }
}

#[cfg(test)]
mod tests;
