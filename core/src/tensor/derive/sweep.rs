//! The adjoint of one statement sent down its formula by the scalar local-partial rules,
//! leaving at each read a contribution to the read tensor's delta.

use std::collections::{BTreeMap, HashMap};

use super::super::{Affine, Bound, IndexVar, Leaf, Program, Statement, Tensor};
use super::Contribution;
use crate::builtin::Builtin;
use crate::derive::raw_local_partials;
use crate::ir::{Node, NodeId, Var};
use crate::model::Symbol;

/// Sends `adjoint` (the statement's own adjoint) down its formula into `pending`.
pub(super) fn scatter(
    program: &mut Program,
    forward: &[Statement],
    statement: &Statement,
    position: usize,
    adjoint: NodeId,
    pending: &mut BTreeMap<Tensor, Vec<Contribution>>,
) {
    let free: Vec<Affine> = statement.at();
    let context: Vec<Bound> = statement
        .indices
        .iter()
        .zip(&statement.shape)
        .map(|(&var, &size)| Bound { var, size })
        .collect();
    let own = program.read(statement.defines, free);
    let mut named = named_reads(program, forward, statement.formula);
    if let Node::Var(v) = program.graph.node(own) {
        named.insert(statement.formula, *v);
    }
    let mut sweep = Sweep {
        program,
        statement,
        position,
        pending,
    };
    sweep.scatter(statement.formula, adjoint, &context, &named);
}

/// Names for the values a formula can meet: where it reads `z[A]` and a vector is defined
/// as `a[k] = f(z[k])`, the node `f(z[A])` stands for `a[A]`, so that derivative rules write
/// `a(1 - a)` and `1 - a` (log-sigmoid) as the scalar graph does.
fn named_reads(
    program: &mut Program,
    forward: &[Statement],
    formula: NodeId,
) -> HashMap<NodeId, Var> {
    let mut reads = Vec::new();
    program.any_leaf(formula, |leaf| {
        if let Leaf::Read(tensor, indices) = leaf {
            reads.push((*tensor, indices.clone()));
        }
        false
    });
    let mut named = HashMap::new();
    for statement in forward {
        let (Tensor::Value(symbol @ Symbol::Vector(_)), [k]) =
            (statement.defines, &statement.indices[..])
        else {
            continue;
        };
        let Node::Func(_, argument) = program.graph.node(statement.formula).clone() else {
            continue;
        };
        let Some(Leaf::Read(source, at)) = program.leaf_at(argument).cloned() else {
            continue;
        };
        if at[..] != [Affine::var(*k)] {
            continue;
        }
        for (tensor, indices) in &reads {
            if *tensor != source || indices.len() != 1 {
                continue;
            }
            let node = program.substitute(statement.formula, *k, &indices[0]);
            let value = program.read(Tensor::Value(symbol), indices.clone());
            if let Node::Var(v) = program.graph.node(value) {
                named.insert(node, *v);
            }
        }
    }
    named
}

struct Sweep<'a> {
    program: &'a mut Program,
    /// The statement whose adjoint is being scattered, and its position.
    statement: &'a Statement,
    position: usize,
    pending: &'a mut BTreeMap<Tensor, Vec<Contribution>>,
}

impl Sweep<'_> {
    /// Scatters `adjoint` (of `root`) to every read under `root`.
    fn scatter(
        &mut self,
        root: NodeId,
        adjoint: NodeId,
        context: &[Bound],
        named: &HashMap<NodeId, Var>,
    ) {
        let partials = raw_local_partials(&mut self.program.graph, root, named);
        for (var, partial) in partials {
            let value = self.program.graph.mul(adjoint, partial);
            if self.program.graph.constant(value) == Some(0.0) {
                continue;
            }
            match self.program.leaf_of(var).clone() {
                Leaf::Read(
                    tensor @ (Tensor::Value(Symbol::Vector(_) | Symbol::Param(_))
                    | Tensor::Inner(_)),
                    map,
                ) => {
                    // Like terms collect over the whole adjoint, as the scalar graph collects
                    // a whole local partial (binary cross-entropy's `a - t`).
                    let value = crate::collect::collect(&mut self.program.graph, value);
                    self.pending.entry(tensor).or_default().push(Contribution {
                        position: self.position,
                        map,
                        context: context.to_vec(),
                        value,
                    });
                }
                Leaf::Read(Tensor::Value(_), _) => {}
                Leaf::Read(Tensor::Delta(_), _) | Leaf::Guard(..) | Leaf::FirstExtremum(..) => {}
                // `f(a, b)`: the adjoint times f's partial by each argument flows into it.
                Leaf::Call(f, args) => {
                    for (n, &argument) in args.iter().enumerate() {
                        let partial = self.program.leaf(Leaf::CallDerivative(f, n, args.clone()));
                        let value = self.program.graph.mul(value, partial);
                        self.scatter(argument, value, context, named);
                    }
                }
                // Forward formulas never hold a derivative: nothing flows through one (and
                // verification refuses a statement whose value would need it).
                Leaf::CallDerivative(..) => {}
                Leaf::Sum(bounds, body) => {
                    let inner: Vec<Bound> = context.iter().chain(&bounds).copied().collect();
                    self.scatter(body, value, &inner, named);
                }
                Leaf::LogSumExp(bound, body) => {
                    // d lse / d body_j = softmax_j = exp(body_j - lse): the named probability
                    // where the statement itself is that softmax.
                    let lse = self.program.graph.var(var);
                    let shifted = self.program.graph.sub(body, lse);
                    let softmax = self.program.graph.func(Builtin::Exp, shifted);
                    let softmax = self.named_instance(softmax, bound.var).unwrap_or(softmax);
                    let value = self.program.graph.mul(softmax, value);
                    let inner: Vec<Bound> = context.iter().copied().chain([bound]).collect();
                    self.scatter(body, value, &inner, named);
                }
                Leaf::Extremum(f, bound, body) => {
                    // d max_j body / d body_j = [j is the first maximal j]: the adjoint goes
                    // to one element of each window, as the scalar fold's brackets send it.
                    // The bracket compares against the whole window under a fresh variable, so
                    // that solving for the window's position later cannot capture it.
                    let own = self.program.fresh();
                    let window = self.program.substitute(body, bound.var, &Affine::var(own));
                    let first = self.program.leaf(Leaf::FirstExtremum(
                        f,
                        Affine::var(bound.var),
                        Bound {
                            var: own,
                            size: bound.size,
                        },
                        window,
                    ));
                    let value = self.program.graph.mul(value, first);
                    let inner: Vec<Bound> = context.iter().copied().chain([bound]).collect();
                    self.scatter(body, value, &inner, named);
                }
            }
        }
    }

    /// A named vector's value at index `j` if `node` is its formula there (the softmax
    /// `p_j` for `exp(z_j - lse)`), as the scalar graph names its definitions.
    fn named_instance(&mut self, node: NodeId, j: IndexVar) -> Option<NodeId> {
        let candidates: Vec<(Symbol, IndexVar, NodeId)> = self
            .program
            .forward
            .iter()
            .chain([self.statement])
            .filter_map(|s| match (s.defines, &s.indices[..]) {
                (Tensor::Value(symbol @ Symbol::Vector(_)), [k]) => Some((symbol, *k, s.formula)),
                _ => None,
            })
            .collect();
        for (symbol, k, formula) in candidates {
            if self.program.substitute(formula, k, &Affine::var(j)) == node {
                return Some(
                    self.program
                        .read(Tensor::Value(symbol), vec![Affine::var(j)]),
                );
            }
        }
        None
    }
}
