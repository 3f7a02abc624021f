//! Reverse mode over statements: each delta and gradient is again one index formula.
//!
//! A statement's adjoint flows down its formula by the scalar rules (`local_partials`, the
//! same rules the scalar derivation uses). At a read `u[A(k, r)]` (k the statement's free
//! indices, r the indices of the sums around the read) it leaves the contribution
//! `sum over k, r of [A(k, r) = m] * adjoint` to `delta(u)[m]`. The bracket is then solved:
//! an index of `A` that is one summed variable with coefficient +-1 is eliminated by
//! substitution (a convolution's `i + p = u` gives `i = u - p`, the flipped kernel), its
//! range left as a bracket unless the range of `m` already implies it; what cannot be solved
//! stays as a bracket (a fixed index such as `y[1]` gives `[k = 1]`). Whatever variables
//! remain are summed: a shared weight's gradient sums over everything that shares it.

use std::collections::BTreeMap;

use super::{Affine, Bound, IndexVar, Leaf, Program, Statement, StepKind, Tensor, tensor_dims};
use crate::ir::{Node, NodeId};
use crate::model::{Network, Symbol};

mod sweep;
use sweep::scatter;

/// A piece of `delta(u)[m]` before its index map is solved.
struct Contribution {
    /// The position of the statement it comes from, so that terms sum in evaluation order.
    position: usize,
    /// Where the read was: one affine index per axis of `u`.
    map: Vec<Affine>,
    /// Every variable bound around the read (the statement's own, then sums').
    context: Vec<Bound>,
    /// The adjoint at the read.
    value: NodeId,
}

/// Adds the delta statements (from the loss backwards) and the gradient statements.
pub fn derive(program: &mut Program, network: &Network) {
    let mut pending: BTreeMap<Tensor, Vec<Contribution>> = BTreeMap::new();
    let forward = program.forward.clone();
    let mut deltas = Vec::new();
    let mut waiting = Vec::new();
    for (position, statement) in forward.iter().enumerate().rev() {
        let free: Vec<Affine> = statement.at();
        let adjoint = if statement.defines == Tensor::Value(Symbol::Loss) {
            program.graph.constant_node(1.0)
        } else {
            // A mutual recurrence's vector gets its carried terms from the statements
            // before it (`f[t]` reads `h[t - 1]`), scattered after it.
            let recurrent = matches!(statement.defines,
                Tensor::Value(Symbol::Vector(v)) if network.recurrence_of(v).is_some());
            if !recurrent && pending.get(&statement.defines).is_none_or(|c| c.is_empty()) {
                continue;
            }
            match statement.defines {
                // An argument has no delta of its own: its adjoint is written out in place.
                Tensor::Inner(_) => {
                    let contributions = pending.remove(&statement.defines).unwrap_or_default();
                    let delta = combine(program, network, statement.defines, contributions);
                    let mut adjoint = delta.formula;
                    for (&out, at) in delta.indices.iter().zip(&free) {
                        adjoint = program.substitute(adjoint, out, at);
                    }
                    adjoint
                }
                _ => program.read(Tensor::Delta(symbol_of(statement.defines)), free.clone()),
            }
        };
        scatter(
            program,
            &forward,
            statement,
            position,
            adjoint,
            &mut pending,
        );
        // A vector's adjoint is its delta by name, so its own reads scatter before the delta
        // is combined: a recurrence's read of itself (`h[t - 1]`) adds the carried term. A
        // mutual recurrence combines its deltas once all of its statements have scattered.
        if let Tensor::Value(Symbol::Vector(v)) = statement.defines {
            waiting.push(statement.defines);
            if network.recurrence_of(v).is_none_or(|r| r.start == v) {
                for tensor in waiting.drain(..) {
                    let contributions = pending.remove(&tensor).unwrap_or_default();
                    deltas.push(combine(program, network, tensor, contributions));
                }
            }
        }
    }
    program.deltas = deltas;
    program.gradients = (0..network.params.len())
        .map(|p| {
            let tensor = Tensor::Value(Symbol::Param(p));
            let contributions = pending.remove(&tensor).unwrap_or_default();
            combine(program, network, tensor, contributions)
        })
        .collect();
}

/// The symbol a forward statement belongs to (a vector's argument belongs to the vector).
fn symbol_of(tensor: Tensor) -> Symbol {
    match tensor {
        Tensor::Value(s) | Tensor::Delta(s) => s,
        Tensor::Inner(v) => Symbol::Vector(v),
    }
}

/// `delta(tensor)[m] = sum of its contributions, each solved for m`.
fn combine(
    program: &mut Program,
    network: &Network,
    tensor: Tensor,
    mut contributions: Vec<Contribution>,
) -> Statement {
    let shape = tensor_dims(network, tensor);
    let indices: Vec<IndexVar> = shape.iter().map(|_| program.fresh()).collect();
    contributions.sort_by_key(|c| c.position);
    let terms: Vec<NodeId> = contributions
        .into_iter()
        .filter_map(|c| solve(program, network, c, &indices, &shape))
        .collect();
    let kind = if terms.iter().any(|&t| program.mentions_sum(t)) {
        StepKind::Contraction
    } else {
        StepKind::Map
    };
    let formula = if terms.is_empty() {
        program.graph.constant_node(0.0)
    } else {
        program.graph.sum(&terms)
    };
    let own: Vec<(IndexVar, usize)> = indices.iter().copied().zip(shape.iter().copied()).collect();
    let formula = program.drop_implied_guards(formula, &own);
    Statement {
        defines: Tensor::Delta(symbol_of(tensor)),
        shape,
        indices,
        formula,
        kind,
        verified: false,
        reshape: None,
    }
}

/// One contribution as a formula in the output indices, or `None` where it is zero for
/// every element.
fn solve(
    program: &mut Program,
    network: &Network,
    contribution: Contribution,
    out: &[IndexVar],
    shape: &[usize],
) -> Option<NodeId> {
    let Contribution {
        position: _,
        mut map,
        mut context,
        mut value,
    } = contribution;
    if map.len() != out.len() {
        // A read with fewer indices than axes cannot be placed; dropping it leaves a formula
        // that verification refuses wherever the read mattered, never a guess.
        return None;
    }
    let mut guards: Vec<(Affine, i64, i64)> = Vec::new();
    for d in 0..map.len() {
        let m = Affine::var(out[d]);
        let target = map[d].clone();
        let pick = target
            .terms
            .iter()
            .find(|(x, c)| (*c == 1 || *c == -1) && context.iter().any(|b| b.var == *x))
            .copied();
        match pick {
            Some((x, c)) => {
                // target = c x + rest = m, so x = c (m - rest).
                let rest = target.substitute(x, &Affine::constant(0));
                let solution = Affine::default().plus_scaled(&m.plus_scaled(&rest, -1), c);
                let size = context
                    .iter()
                    .find(|b| b.var == x)
                    .map_or(0, |b| b.size as i64);
                context.retain(|b| b.var != x);
                value = program.substitute(value, x, &solution);
                for later in &mut map[d + 1..] {
                    *later = later.substitute(x, &solution);
                }
                for guard in &mut guards {
                    guard.0 = guard.0.substitute(x, &solution);
                }
                guards.push((solution, 0, size));
            }
            None => guards.push((target.plus_scaled(&m, -1), 0, 1)),
        }
    }
    let size_of = |v: IndexVar| -> i64 {
        if let Some(d) = out.iter().position(|&o| o == v) {
            return shape[d] as i64;
        }
        context
            .iter()
            .find(|b| b.var == v)
            .map_or(1, |b| b.size as i64)
    };
    let mut inner = Vec::new();
    let mut outer = Vec::new();
    for (affine, lo, hi) in guards {
        let (min, max) = affine.bounds(&size_of);
        if max < lo || min >= hi {
            return None;
        }
        if min >= lo && max < hi {
            continue;
        }
        let summed = affine
            .terms
            .iter()
            .any(|(v, _)| context.iter().any(|b| b.var == *v));
        let guard = program.leaf(Leaf::Guard(affine, lo, hi));
        if summed {
            inner.push(guard)
        } else {
            outer.push(guard)
        }
    }
    let mut body = value;
    for guard in inner {
        body = program.graph.mul(guard, body);
    }
    if !context.is_empty() {
        body = sum(program, network, context, body);
    }
    for guard in outer {
        body = program.graph.mul(guard, body);
    }
    Some(body)
}

/// `sum over bounds of body`, with the sum of a `onehot` or `probabilities` target over
/// all its elements folded to 1, as the scalar graph folds it (`p_k sum_i t_i = p_k`).
fn sum(program: &mut Program, network: &Network, bounds: Vec<Bound>, body: NodeId) -> NodeId {
    if let [bound] = bounds[..] {
        let unit = |program: &Program, n: NodeId| match program.leaf_at(n) {
            Some(Leaf::Read(Tensor::Value(Symbol::Target(t)), indices)) => {
                let target = &network.targets[*t];
                target.kind.sums_to_one()
                    && target.size == bound.size
                    && indices[..] == [Affine::var(bound.var)]
            }
            _ => false,
        };
        if unit(program, body) {
            return program.graph.constant_node(1.0);
        }
        if let Node::Mul(a, b) = program.graph.node(body).clone() {
            if unit(program, b) && !program.mentions(a, bound.var) {
                return a;
            }
            if unit(program, a) && !program.mentions(b, bound.var) {
                return b;
            }
        }
    }
    // Factors that do not vary along the sum stand outside it, as people write
    // `p_k \sum_i t_i`.
    let mut factors = Vec::new();
    program.factors(body, &mut factors);
    let varies = |program: &Program, f: NodeId| bounds.iter().any(|b| program.mentions(f, b.var));
    let (inside, outside): (Vec<NodeId>, Vec<NodeId>) =
        factors.into_iter().partition(|&f| varies(program, f));
    if !outside.is_empty() && !inside.is_empty() {
        let inner = program.product(&inside);
        let summed = program.leaf(Leaf::Sum(bounds, inner));
        let outer = program.product(&outside);
        return program.graph.mul(outer, summed);
    }
    program.leaf(Leaf::Sum(bounds, body))
}

impl Program {
    /// The factors of a product, left to right.
    fn factors(&self, node: NodeId, out: &mut Vec<NodeId>) {
        match self.graph.node(node) {
            Node::Mul(a, b) => {
                let (a, b) = (*a, *b);
                self.factors(a, out);
                self.factors(b, out);
            }
            _ => out.push(node),
        }
    }

    /// The product of factors, left to right.
    fn product(&mut self, factors: &[NodeId]) -> NodeId {
        let one = self.graph.constant_node(1.0);
        factors.iter().fold(one, |acc, &f| self.graph.mul(acc, f))
    }

    /// Whether a formula holds a sum over an index.
    pub fn mentions_sum(&self, node: NodeId) -> bool {
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            match self.graph.node(n) {
                Node::Var(v) => {
                    if matches!(
                        self.leaf_of(*v),
                        Leaf::Sum(..) | Leaf::LogSumExp(..) | Leaf::Extremum(..)
                    ) {
                        return true;
                    }
                }
                other => other.for_each_child(|c| stack.push(c)),
            }
        }
        false
    }
}
