//! Lowers checked expressions to scalar IR nodes: one node per element.

use chainrule_grammar::Reduction;

use crate::builtin::{Builtin, Pairwise, VectorFn};
use crate::inner::Forward;
use crate::ir::{Graph, NodeId, Var};
use crate::layout::Layout;
use crate::model::{
    FnExpr, Function, IndexTerm, IndexVar, Network, Shape, Symbol, TExpr, TExprKind,
};

/// Lowers expressions of one network into a graph.
pub struct Lowering<'a> {
    /// The network the expressions belong to.
    pub network: &'a Network,
    /// The file's user functions.
    pub functions: &'a [Function],
    /// Slot numbering.
    pub layout: &'a Layout,
    /// The graph nodes are added to.
    pub graph: &'a mut Graph,
    /// Index variables of a claim, with `values` giving their current values.
    pub vars: &'a [IndexVar],
    /// The definitions lowered so far, which `grad(S, v)` differentiates through; without
    /// them (`None`) a `grad` is 0.
    pub known: Option<&'a mut Forward>,
}

impl Lowering<'_> {
    /// One node per element of `e` (one for a scalar). `values` holds the current values of
    /// index variables (empty outside claims).
    pub fn expr(&mut self, e: &TExpr, values: &mut Vec<usize>) -> Vec<NodeId> {
        match &e.kind {
            TExprKind::Const(v) => vec![self.graph.constant_node(*v)],
            TExprKind::Symbol(symbol) => self
                .layout
                .vars(*symbol)
                .map(|v| self.graph.var(v))
                .collect(),
            TExprKind::Element(symbol, indices) => {
                // Fewer indices than axes read the rest of the value (`x[t]`, a row).
                let dims = self.network.shape_of(*symbol).dims();
                let rest: usize = dims.get(indices.len()..).unwrap_or(&[]).iter().product();
                // An element outside its range reads zero: in a claim (`h[t + 1]` at the
                // last step) and before a recurrence's first element (`h[t - 1]` at t = 0);
                // elsewhere ranges are inferred so that none is.
                let Some(start) = self.row_start(*symbol, indices, values) else {
                    return vec![self.graph.constant_node(0.0); rest];
                };
                (start..start + rest)
                    .map(|elem| self.graph.var(self.layout.var(*symbol, elem)))
                    .collect()
            }
            TExprKind::Delta(symbol, indices) => {
                let delta = self
                    .flat_index(*symbol, indices, values)
                    .and_then(|elem| self.layout.delta_of(self.layout.var(*symbol, elem)));
                // An element outside its range, or one the loss does not depend on: zero.
                vec![match delta {
                    Some(var) => self.graph.var(var),
                    None => self.graph.constant_node(0.0),
                }]
            }
            TExprKind::Neg(a) => {
                let a = self.expr(a, values);
                a.into_iter().map(|x| self.graph.neg(x)).collect()
            }
            TExprKind::Binary(op, a, b) => {
                let (a, b) = (self.expr(a, values), self.expr(b, values));
                broadcast(&a, &b)
                    .map(|(x, y)| crate::tensor::functions::elementwise(self.graph, *op, x, y))
                    .collect()
            }
            TExprKind::Pow(a, k) => {
                let a = self.expr(a, values);
                a.into_iter().map(|x| self.graph.pow(x, *k)).collect()
            }
            TExprKind::Builtin(f, a) => {
                let a = self.expr(a, values);
                a.into_iter().map(|x| self.graph.func(*f, x)).collect()
            }
            TExprKind::VectorFn(f, a) => {
                let a = self.expr(a, values);
                // One log-sum-exp node shared by every element: softmax_k = exp(z_k - lse),
                // log_softmax_k = z_k - lse, both finite at any logits.
                let lse = self.graph.logsumexp(&a);
                match f {
                    VectorFn::LogSumExp => vec![lse],
                    VectorFn::LogSoftmax => a.iter().map(|&z| self.graph.sub(z, lse)).collect(),
                    VectorFn::Softmax => a
                        .iter()
                        .map(|&z| {
                            let shifted = self.graph.sub(z, lse);
                            self.graph.func(Builtin::Exp, shifted)
                        })
                        .collect(),
                }
            }
            TExprKind::Call(index, args) => {
                let args: Vec<Vec<NodeId>> = args.iter().map(|a| self.expr(a, values)).collect();
                let len = args.iter().map(Vec::len).max().unwrap_or(1);
                (0..len)
                    .map(|i| {
                        let scalars: Vec<NodeId> = args
                            .iter()
                            .map(|a| if a.len() == 1 { a[0] } else { a[i] })
                            .collect();
                        self.call(*index, &scalars)
                    })
                    .collect()
            }
            TExprKind::MatVec(param, v) => {
                let v = self.expr(v, values);
                let Shape::Matrix(rows, cols) = self.network.params[*param].shape else {
                    return Vec::new();
                };
                (0..rows)
                    .map(|i| {
                        let terms: Vec<NodeId> = (0..cols)
                            .map(|j| {
                                let w = self
                                    .graph
                                    .var(self.layout.var(Symbol::Param(*param), i * cols + j));
                                self.graph.mul(w, v[j])
                            })
                            .collect();
                        self.graph.sum(&terms)
                    })
                    .collect()
            }
            TExprKind::VecMat(v, param) => {
                let v = self.expr(v, values);
                let Shape::Matrix(rows, cols) = self.network.params[*param].shape else {
                    return Vec::new();
                };
                (0..cols)
                    .map(|j| {
                        let terms: Vec<NodeId> = (0..rows)
                            .map(|i| {
                                let w = self
                                    .graph
                                    .var(self.layout.var(Symbol::Param(*param), i * cols + j));
                                self.graph.mul(v[i], w)
                            })
                            .collect();
                        self.graph.sum(&terms)
                    })
                    .collect()
            }
            TExprKind::Reduce(op, a) => {
                let a = self.expr(a, values);
                match op {
                    Reduction::Sum => vec![self.graph.sum(&a)],
                    Reduction::Mean => {
                        let total = self.graph.sum(&a);
                        let n = self.graph.constant_node(a.len() as f64);
                        vec![self.graph.div(total, n)]
                    }
                    Reduction::Max => vec![self.fold(Pairwise::Maximum, &a)],
                    Reduction::Min => vec![self.fold(Pairwise::Minimum, &a)],
                }
            }
            TExprKind::Grad(of, wrt) => {
                let of = self.expr(of, values);
                let wrt: Vec<Var> = self.layout.vars(*wrt).collect();
                match (&mut self.known, of.first()) {
                    (Some(known), Some(&s)) => known.gradient(self.graph, s, &wrt),
                    _ => vec![self.graph.constant_node(0.0); wrt.len()],
                }
            }
            TExprKind::IndexDef(vars, body) => {
                // Each element is the body with the left-hand indices at its position
                // (row-major), the definition's own index variables in scope.
                let mut inner = Lowering {
                    network: self.network,
                    functions: self.functions,
                    layout: self.layout,
                    graph: &mut *self.graph,
                    vars,
                    known: self.known.as_deref_mut(),
                };
                let mut at = vec![0; vars.len()];
                if !vars.first().is_some_and(|v| v.free) {
                    // Only reductions bind names here: the body is the value itself.
                    return inner.expr(body, &mut at);
                }
                let free: Vec<usize> = vars
                    .iter()
                    .take_while(|v| v.free)
                    .map(|v| v.range)
                    .collect();
                let len: usize = free.iter().product();
                // A body with axes of its own (`h[t][4] = tanh(...)`) gives one row each.
                (0..len)
                    .flat_map(|mut flat| {
                        for (slot, &n) in at.iter_mut().zip(&free).rev() {
                            *slot = flat % n;
                            flat /= n;
                        }
                        inner.expr(body, &mut at)
                    })
                    .collect()
            }
            TExprKind::SumOver(var, body) => {
                let terms = self.over(*var, body, values);
                vec![self.graph.sum(&terms)]
            }
            TExprKind::ExtremumOver(f, var, body) => {
                let terms = self.over(*var, body, values);
                vec![self.fold(*f, &terms)]
            }
        }
    }

    /// `body` at every value of index variable `var`, in increasing order.
    fn over(&mut self, var: usize, body: &TExpr, values: &mut Vec<usize>) -> Vec<NodeId> {
        let range = self.vars.get(var).map_or(0, |v| v.range);
        if values.len() <= var {
            values.resize(var + 1, 0);
        }
        (0..range)
            .flat_map(|value| {
                values[var] = value;
                self.expr(body, values)
            })
            .collect()
    }

    /// The flat position where the elements `indices` select start (one element, or the
    /// rest of the value when fewer indices than axes are given); `None` out of range.
    fn row_start(&self, symbol: Symbol, indices: &[IndexTerm], values: &[usize]) -> Option<usize> {
        let dims = self.network.shape_of(symbol).dims();
        if indices.is_empty() || indices.len() > dims.len() {
            return (indices.is_empty()).then_some(0);
        }
        let mut flat = 0;
        for (index, &size) in indices.iter().zip(&dims) {
            let value = usize::try_from(index.value(values))
                .ok()
                .filter(|&v| v < size)?;
            flat = flat * size + value;
        }
        let rest: usize = dims[indices.len()..].iter().product();
        Some(flat * rest)
    }

    /// The row-major element an index list names, with index variables at their values;
    /// `None` when an index falls outside its axis.
    pub fn flat_index(
        &self,
        symbol: Symbol,
        indices: &[IndexTerm],
        values: &[usize],
    ) -> Option<usize> {
        if self.network.shape_of(symbol).rank() != indices.len() {
            return (indices.is_empty()).then_some(0);
        }
        self.row_start(symbol, indices, values)
    }

    /// `max` or `min` of `terms` as a left fold of the two-argument built-in, in order: a tie
    /// keeps the accumulated (earlier) value, whose derivative bracket `[a >= b]` sends the
    /// delta to the first extremal element. The checker gives every reduction a value, so
    /// `terms` is never empty (an empty one would be 0, as an empty sum is).
    fn fold(&mut self, f: Pairwise, terms: &[NodeId]) -> NodeId {
        let Some((&first, rest)) = terms.split_first() else {
            return self.graph.constant_node(0.0);
        };
        rest.iter()
            .fold(first, |acc, &term| self.graph.pair(f, acc, term))
    }

    /// Inlines a user function applied to scalar arguments.
    fn call(&mut self, index: usize, args: &[NodeId]) -> NodeId {
        let Some(function) = self.functions.get(index) else {
            return self.graph.constant_node(0.0);
        };
        let body = function.body.clone();
        self.fn_body(&body, args)
    }

    fn fn_body(&mut self, e: &FnExpr, args: &[NodeId]) -> NodeId {
        match e {
            FnExpr::Const(v) => self.graph.constant_node(*v),
            FnExpr::Arg(i) => args[*i],
            FnExpr::Neg(a) => {
                let a = self.fn_body(a, args);
                self.graph.neg(a)
            }
            FnExpr::Binary(op, a, b) => {
                let (a, b) = (self.fn_body(a, args), self.fn_body(b, args));
                crate::tensor::functions::elementwise(self.graph, *op, a, b)
            }
            FnExpr::Pow(a, k) => {
                let a = self.fn_body(a, args);
                self.graph.pow(a, *k)
            }
            FnExpr::Builtin(f, a) => {
                let a = self.fn_body(a, args);
                self.graph.func(*f, a)
            }
            FnExpr::Call(index, call_args) => {
                let call_args: Vec<NodeId> =
                    call_args.iter().map(|a| self.fn_body(a, args)).collect();
                self.call(*index, &call_args)
            }
        }
    }
}

/// Pairs the elements of two operands, a one-element side broadcasting.
fn broadcast<'v>(a: &'v [NodeId], b: &'v [NodeId]) -> impl Iterator<Item = (NodeId, NodeId)> + 'v {
    let len = a.len().max(b.len());
    (0..len).map(move |i| {
        (
            if a.len() == 1 { a[0] } else { a[i] },
            if b.len() == 1 { b[0] } else { b[i] },
        )
    })
}
