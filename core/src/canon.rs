//! A canonical form for symbolic comparison: a sum of monomials with numeric coefficients,
//! each monomial a sorted product of atoms (variables, function applications, reciprocals)
//! raised to integer powers. Products of sums are expanded up to a size limit.

use std::cmp::Ordering;
use std::collections::HashMap;

use crate::builtin::{Builtin, Pairwise};
use crate::ir::{Graph, Node, NodeId, Var};

/// Past this many monomials a form is not expanded further (the comparison is left to
/// numbers).
const MAX_TERMS: usize = 512;

/// An indivisible factor.
#[derive(Clone, Debug, PartialEq)]
pub enum Atom {
    /// A named scalar.
    Var(Var),
    /// A function of a canonical argument.
    Func(Builtin, Poly),
    /// A two-argument built-in of canonical arguments (`max(a, b)`, `[a >= b]`).
    Pair(Pairwise, Poly, Poly),
    /// `base ^ k` for a non-integer `k`.
    Power(Poly, f64),
    /// `1 / p` for a sum `p` that is not a single monomial.
    Recip(Poly),
    /// `log sum_i e^{p_i}` of canonical arguments.
    LogSumExp(Vec<Poly>),
}

/// A sum of `(monomial, coefficient)` terms, sorted by monomial, no zero coefficients.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Poly(pub Vec<(Monomial, f64)>);

/// A product of atoms with integer powers, sorted by atom.
pub type Monomial = Vec<(Atom, i32)>;

fn cmp_f64(a: f64, b: f64) -> Ordering {
    a.total_cmp(&b)
}

fn cmp_atom(a: &Atom, b: &Atom) -> Ordering {
    let rank = |a: &Atom| match a {
        Atom::Var(_) => 0,
        Atom::Func(..) => 1,
        Atom::Power(..) => 2,
        Atom::Recip(_) => 3,
        Atom::LogSumExp(_) => 4,
        Atom::Pair(..) => 5,
    };
    match (a, b) {
        (Atom::Var(x), Atom::Var(y)) => x.cmp(y),
        (Atom::Func(f, p), Atom::Func(g, q)) => f.cmp(g).then_with(|| cmp_poly(p, q)),
        (Atom::Power(p, k), Atom::Power(q, l)) => cmp_poly(p, q).then_with(|| cmp_f64(*k, *l)),
        (Atom::Recip(p), Atom::Recip(q)) => cmp_poly(p, q),
        (Atom::Pair(f, p1, p2), Atom::Pair(g, q1, q2)) => f
            .cmp(g)
            .then_with(|| cmp_poly(p1, q1))
            .then_with(|| cmp_poly(p2, q2)),
        (Atom::LogSumExp(p), Atom::LogSumExp(q)) => p
            .iter()
            .zip(q)
            .map(|(x, y)| cmp_poly(x, y))
            .find(|o| *o != Ordering::Equal)
            .unwrap_or_else(|| p.len().cmp(&q.len())),
        _ => rank(a).cmp(&rank(b)),
    }
}

fn cmp_monomial(a: &Monomial, b: &Monomial) -> Ordering {
    for ((x, i), (y, j)) in a.iter().zip(b) {
        let o = cmp_atom(x, y).then(i.cmp(j));
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

fn cmp_poly(a: &Poly, b: &Poly) -> Ordering {
    for ((m, c), (n, d)) in a.0.iter().zip(&b.0) {
        let o = cmp_monomial(m, n).then_with(|| cmp_f64(*c, *d));
        if o != Ordering::Equal {
            return o;
        }
    }
    a.0.len().cmp(&b.0.len())
}

impl Poly {
    fn constant(c: f64) -> Poly {
        if c == 0.0 {
            Poly(vec![])
        } else {
            Poly(vec![(vec![], c)])
        }
    }

    fn atom(a: Atom) -> Poly {
        Poly(vec![(vec![(a, 1)], 1.0)])
    }

    /// The constant value, if the form is a constant.
    pub fn as_constant(&self) -> Option<f64> {
        match self.0.as_slice() {
            [] => Some(0.0),
            [(m, c)] if m.is_empty() => Some(*c),
            _ => None,
        }
    }

    fn normalise(mut terms: Vec<(Monomial, f64)>) -> Poly {
        terms.sort_by(|a, b| cmp_monomial(&a.0, &b.0));
        let mut out: Vec<(Monomial, f64)> = Vec::with_capacity(terms.len());
        for (m, c) in terms {
            match out.last_mut() {
                Some((last, total)) if cmp_monomial(last, &m) == Ordering::Equal => *total += c,
                _ => out.push((m, c)),
            }
        }
        // Coefficients that cancel to rounding noise are dropped.
        out.retain(|(_, c)| c.abs() > 1e-12);
        Poly(out)
    }

    fn add(&self, other: &Poly, sign: f64) -> Poly {
        let mut terms = self.0.clone();
        terms.extend(other.0.iter().map(|(m, c)| (m.clone(), sign * c)));
        Poly::normalise(terms)
    }

    fn scale(&self, k: f64) -> Poly {
        Poly::normalise(self.0.iter().map(|(m, c)| (m.clone(), c * k)).collect())
    }

    fn mul(&self, other: &Poly) -> Option<Poly> {
        if self.0.len() * other.0.len() > MAX_TERMS {
            return None;
        }
        let mut terms = Vec::with_capacity(self.0.len() * other.0.len());
        for (m, c) in &self.0 {
            for (n, d) in &other.0 {
                terms.push((mul_monomials(m, n), c * d));
            }
        }
        Some(Poly::normalise(terms))
    }

    fn power(&self, k: i32) -> Option<Poly> {
        // A single monomial raises each power; a sum is multiplied out for small k.
        if let [(m, c)] = self.0.as_slice() {
            let m = m
                .iter()
                .map(|(a, p)| (a.clone(), p * k))
                .filter(|(_, p)| *p != 0)
                .collect();
            return Some(Poly(vec![(m, c.powi(k))]));
        }
        if k > 0 && k <= 4 {
            let mut out = Poly::constant(1.0);
            for _ in 0..k {
                out = out.mul(self)?;
            }
            return Some(out);
        }
        let base = if k < 0 {
            Atom::Recip(self.clone())
        } else {
            Atom::Power(self.clone(), 1.0)
        };
        Some(Poly(vec![(vec![(base, k.abs())], 1.0)]))
    }
}

fn mul_monomials(a: &Monomial, b: &Monomial) -> Monomial {
    let mut out = a.clone();
    for (atom, power) in b {
        match out
            .iter_mut()
            .find(|(x, _)| cmp_atom(x, atom) == Ordering::Equal)
        {
            Some((_, p)) => *p += power,
            None => out.push((atom.clone(), *power)),
        }
    }
    out.retain(|(_, p)| *p != 0);
    out.sort_by(|x, y| cmp_atom(&x.0, &y.0));
    out
}

/// Brings nodes to canonical form. `named` maps a node that defines a named scalar to that
/// scalar, so that `sigmoid(z1[0])` and `a1[0]` compare equal.
pub struct Canon<'a> {
    graph: &'a Graph,
    named: &'a HashMap<NodeId, Var>,
    memo: HashMap<NodeId, Option<Poly>>,
}

impl<'a> Canon<'a> {
    /// A canonicaliser over `graph`.
    pub fn new(graph: &'a Graph, named: &'a HashMap<NodeId, Var>) -> Canon<'a> {
        Canon {
            graph,
            named,
            memo: HashMap::new(),
        }
    }

    /// The canonical form of `node`, or `None` when it grows past the size limit.
    pub fn form(&mut self, node: NodeId) -> Option<Poly> {
        if let Some(done) = self.memo.get(&node) {
            return done.clone();
        }
        let result = self.compute(node);
        self.memo.insert(node, result.clone());
        result
    }

    fn compute(&mut self, node: NodeId) -> Option<Poly> {
        if let Some(&var) = self.named.get(&node) {
            return Some(Poly::atom(Atom::Var(var)));
        }
        Some(match self.graph.node(node).clone() {
            Node::Const(b) => Poly::constant(f64::from_bits(b)),
            Node::Var(v) => Poly::atom(Atom::Var(v)),
            Node::Add(a, b) => self.form(a)?.add(&self.form(b)?, 1.0),
            Node::Sub(a, b) => self.form(a)?.add(&self.form(b)?, -1.0),
            Node::Sum(items) => {
                let mut total = Poly::default();
                for i in items.iter() {
                    total = total.add(&self.form(*i)?, 1.0);
                    if total.0.len() > MAX_TERMS {
                        return None;
                    }
                }
                total
            }
            Node::Neg(a) => self.form(a)?.scale(-1.0),
            Node::Mul(a, b) => self.form(a)?.mul(&self.form(b)?)?,
            Node::Div(a, b) => {
                let denominator = self.form(b)?;
                let inverse = match denominator.as_constant() {
                    Some(c) if c != 0.0 => Poly::constant(1.0 / c),
                    _ => denominator.power(-1)?,
                };
                self.form(a)?.mul(&inverse)?
            }
            Node::Pow(a, k) => {
                let k = f64::from_bits(k);
                let base = self.form(a)?;
                if k.fract() == 0.0 && k.abs() <= 64.0 {
                    base.power(k as i32)?
                } else {
                    Poly::atom(Atom::Power(base, k))
                }
            }
            Node::Func(f, a) => Poly::atom(Atom::Func(f, self.form(a)?)),
            Node::Pair(f, a, b) => Poly::atom(Atom::Pair(f, self.form(a)?, self.form(b)?)),
            Node::LogSumExp(items) => {
                let items: Option<Vec<Poly>> = items.iter().map(|i| self.form(*i)).collect();
                Poly::atom(Atom::LogSumExp(items?))
            }
        })
    }
}

/// Builds a canonical form back into `graph`: positive terms first, then the negative ones
/// subtracted, each monomial's atoms in canonical order (`a - t` for binary cross-entropy).
pub fn to_node(graph: &mut Graph, poly: &Poly) -> NodeId {
    let mut positive = Vec::new();
    let mut negative = Vec::new();
    for (monomial, c) in &poly.0 {
        let mut product: Option<NodeId> = None;
        for (atom, power) in monomial {
            let base = atom_node(graph, atom);
            let factor = match *power {
                1 => base,
                p if p < 0 => {
                    let one = graph.constant_node(1.0);
                    let raised = graph.pow(base, f64::from(-p));
                    graph.div(one, raised)
                }
                p => graph.pow(base, f64::from(p)),
            };
            product = Some(match product {
                Some(so_far) => graph.mul(so_far, factor),
                None => factor,
            });
        }
        let magnitude = graph.constant_node(c.abs());
        let term = match product {
            Some(product) => graph.mul(magnitude, product),
            None => magnitude,
        };
        if *c < 0.0 {
            negative.push(term);
        } else {
            positive.push(term);
        }
    }
    let mut total = graph.sum(&positive);
    for term in negative {
        total = graph.sub(total, term);
    }
    total
}

fn atom_node(graph: &mut Graph, atom: &Atom) -> NodeId {
    match atom {
        Atom::Var(v) => graph.var(*v),
        Atom::Func(f, p) => {
            let arg = to_node(graph, p);
            graph.func(*f, arg)
        }
        Atom::Pair(f, p, q) => {
            let (a, b) = (to_node(graph, p), to_node(graph, q));
            graph.pair(*f, a, b)
        }
        Atom::Power(p, k) => {
            let base = to_node(graph, p);
            graph.pow(base, *k)
        }
        Atom::Recip(p) => {
            let one = graph.constant_node(1.0);
            let denominator = to_node(graph, p);
            graph.div(one, denominator)
        }
        Atom::LogSumExp(items) => {
            let items: Vec<NodeId> = items.iter().map(|p| to_node(graph, p)).collect();
            graph.logsumexp(&items)
        }
    }
}

/// About how many nodes [`to_node`] builds for `poly` as a tree: one per atom, power,
/// coefficient other than one, product and sum.
pub fn tree_size(poly: &Poly) -> u64 {
    let mut total = 0u64;
    for (monomial, c) in &poly.0 {
        let mut size = u64::from(c.abs() != 1.0 || monomial.is_empty());
        for (atom, power) in monomial {
            size += 1 + atom_size(atom) + u64::from(*power != 1);
        }
        total += size + monomial.len().saturating_sub(1) as u64 + u64::from(c.abs() != 1.0);
    }
    total + poly.0.len().saturating_sub(1) as u64
}

fn atom_size(atom: &Atom) -> u64 {
    match atom {
        Atom::Var(_) => 0,
        Atom::Func(_, p) | Atom::Power(p, _) | Atom::Recip(p) => tree_size(p),
        Atom::Pair(_, p, q) => tree_size(p) + tree_size(q),
        Atom::LogSumExp(items) => items.iter().map(tree_size).sum(),
    }
}
