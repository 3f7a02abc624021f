//! User functions kept by name at the tensor level: each one's body and its partial
//! derivatives as scalar formulas over its arguments, derived once with the scalar rules, so
//! that formulas read `gelu'(\tilde{z}_k)` and say once what `gelu'` is.

use crate::builtin::Pairwise;
use crate::derive::local_partials;
use crate::ir::{Graph, NodeId, Var};
use crate::model::{ElemOp, FnExpr, Function};

/// One user function and its derivatives, in a graph whose `Var(n)` is argument n.
#[derive(Clone, Debug)]
pub struct Derived {
    /// Its name.
    pub name: String,
    /// Its argument names.
    pub params: Vec<String>,
    /// The body and the partials live here.
    pub graph: Graph,
    /// The body.
    pub value: NodeId,
    /// d(body)/d(argument n), one per argument.
    pub partials: Vec<NodeId>,
}

/// Derives every user function of a file.
pub fn derive_all(functions: &[Function]) -> Vec<Derived> {
    functions.iter().map(|f| derive_one(functions, f)).collect()
}

fn derive_one(functions: &[Function], function: &Function) -> Derived {
    let mut graph = Graph::new();
    let args: Vec<NodeId> = (0..function.params.len())
        .map(|n| graph.var(Var(n as u32)))
        .collect();
    let value = body(&mut graph, functions, &function.body, &args);
    let found = local_partials(&mut graph, value, &std::collections::HashMap::new());
    let partials = (0..function.params.len())
        .map(|n| {
            found
                .iter()
                .find(|(v, _)| v.index() == n)
                .map_or_else(|| graph.constant_node(0.0), |(_, p)| *p)
        })
        .collect();
    Derived {
        name: function.name.clone(),
        params: function.params.clone(),
        graph,
        value,
        partials,
    }
}

/// `a op b` in a graph.
pub(crate) fn elementwise(graph: &mut Graph, op: ElemOp, a: NodeId, b: NodeId) -> NodeId {
    match op {
        ElemOp::Add => graph.add(a, b),
        ElemOp::Sub => graph.sub(a, b),
        ElemOp::Mul => graph.mul(a, b),
        ElemOp::Div => graph.div(a, b),
        ElemOp::Max => graph.pair(Pairwise::Maximum, a, b),
        ElemOp::Min => graph.pair(Pairwise::Minimum, a, b),
    }
}

/// A function body over argument nodes; earlier functions it calls are inlined.
pub(crate) fn body(
    graph: &mut Graph,
    functions: &[Function],
    e: &FnExpr,
    args: &[NodeId],
) -> NodeId {
    match e {
        FnExpr::Const(v) => graph.constant_node(*v),
        FnExpr::Arg(i) => args
            .get(*i)
            .copied()
            .unwrap_or_else(|| graph.constant_node(0.0)),
        FnExpr::Neg(a) => {
            let a = body(graph, functions, a, args);
            graph.neg(a)
        }
        FnExpr::Binary(op, a, b) => {
            let (a, b) = (
                body(graph, functions, a, args),
                body(graph, functions, b, args),
            );
            elementwise(graph, *op, a, b)
        }
        FnExpr::Pow(a, k) => {
            let a = body(graph, functions, a, args);
            graph.pow(a, *k)
        }
        FnExpr::Builtin(f, a) => {
            let a = body(graph, functions, a, args);
            graph.func(*f, a)
        }
        FnExpr::Call(index, call) => {
            let call: Vec<NodeId> = call
                .iter()
                .map(|a| body(graph, functions, a, args))
                .collect();
            match functions.get(*index) {
                Some(f) => body(graph, functions, &f.body, &call),
                None => graph.constant_node(0.0),
            }
        }
    }
}

/// The value of a node of a function's graph at argument values.
pub fn evaluate(graph: &Graph, node: NodeId, args: &[f64]) -> f64 {
    use crate::ir::Node;
    let go = |n: NodeId| evaluate(graph, n, args);
    match graph.node(node) {
        Node::Const(b) => f64::from_bits(*b),
        Node::Var(v) => args.get(v.index()).copied().unwrap_or(f64::NAN),
        Node::Add(a, b) => go(*a) + go(*b),
        Node::Sub(a, b) => go(*a) - go(*b),
        Node::Mul(a, b) => go(*a) * go(*b),
        Node::Div(a, b) => go(*a) / go(*b),
        Node::Neg(a) => -go(*a),
        Node::Pow(a, k) => crate::eval::power(go(*a), f64::from_bits(*k)),
        Node::Func(f, a) => f.eval(go(*a)),
        Node::Pair(f, a, b) => f.eval(go(*a), go(*b)),
        Node::Sum(items) => items.iter().map(|&i| go(i)).sum(),
        Node::LogSumExp(items) => {
            let values: Vec<f64> = items.iter().map(|&i| go(i)).collect();
            crate::builtin::logsumexp(&values)
        }
    }
}
