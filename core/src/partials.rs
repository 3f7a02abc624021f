//! Local partials: the derivatives of one definition with respect to every variable it
//! mentions, by one reverse sweep over its sub-graph, with the derivative rules of the
//! built-in functions written as textbooks write them (sigmoid' = a(1 - a)).

use std::collections::HashMap;

use crate::builtin::{Builtin, Pairwise};
use crate::ir::{Graph, Node, NodeId, Var};

/// The derivatives of `root` with respect to every variable it mentions, by one reverse
/// sweep over its sub-graph (so the cost is linear in the size of the definition).
pub(crate) fn local_partials(
    graph: &mut Graph,
    root: NodeId,
    named: &HashMap<NodeId, Var>,
) -> Vec<(Var, NodeId)> {
    let mut partials = raw_local_partials(graph, root, named);
    for (_, partial) in &mut partials {
        *partial = crate::collect::collect(graph, *partial);
    }
    partials
}

/// [`local_partials`] without collecting like terms, for callers that multiply them by an
/// outer factor first (the tensor level collects the whole adjoint at each read).
pub(crate) fn raw_local_partials(
    graph: &mut Graph,
    root: NodeId,
    named: &HashMap<NodeId, Var>,
) -> Vec<(Var, NodeId)> {
    let mut nodes = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        if seen.insert(n) {
            nodes.push(n);
            graph.node(n).for_each_child(|c| stack.push(c));
        }
    }
    // Children have smaller ids than parents: descending ids visit every parent first.
    nodes.sort_unstable_by(|a, b| b.cmp(a));
    let mut adjoint: HashMap<NodeId, Vec<NodeId>> = HashMap::new();
    adjoint.insert(root, vec![graph.constant_node(1.0)]);
    let mut partials = Vec::new();
    for n in nodes {
        let Some(mut contributions) = adjoint.remove(&n) else {
            continue;
        };
        // Parents were visited in descending order: sum their contributions in ascending
        // order, so that `sum_j t_j` reads t_0 + t_1 + ... and can be written as one `\sum`.
        contributions.reverse();
        let a = graph.sum(&contributions);
        if graph.constant(a) == Some(0.0) {
            continue;
        }
        let this = named.get(&n).map_or(n, |&v| graph.var(v));
        let mut push = |graph: &mut Graph, child: NodeId, local: NodeId| {
            let term = graph.mul(a, local);
            adjoint.entry(child).or_default().push(term);
        };
        let one = graph.constant_node(1.0);
        match graph.node(n).clone() {
            Node::Var(v) => partials.push((v, a)),
            Node::Const(_) => {}
            Node::Add(x, y) => {
                push(graph, x, one);
                push(graph, y, one);
            }
            Node::Sub(x, y) => {
                push(graph, x, one);
                let minus = graph.constant_node(-1.0);
                push(graph, y, minus);
            }
            Node::Mul(x, y) => {
                push(graph, x, y);
                push(graph, y, x);
            }
            Node::Div(x, y) => {
                let inverse = graph.div(one, y);
                push(graph, x, inverse);
                let ratio = graph.div(this, y);
                let local = graph.neg(ratio);
                push(graph, y, local);
            }
            Node::Neg(x) => {
                let minus = graph.constant_node(-1.0);
                push(graph, x, minus);
            }
            Node::Pow(x, k) => {
                let k = f64::from_bits(k);
                let power = graph.pow(x, k - 1.0);
                let coefficient = graph.constant_node(k);
                let local = graph.mul(coefficient, power);
                push(graph, x, local);
            }
            Node::Func(f, x) => {
                let local = builtin_derivative(graph, f, x, this, named);
                push(graph, x, local);
            }
            Node::Pair(f, x, y) => {
                for (child, local) in pairwise_derivative(graph, f, x, y) {
                    push(graph, child, local);
                }
            }
            Node::Sum(items) => {
                for item in items.iter() {
                    push(graph, *item, one);
                }
            }
            // d lse / d x_j = softmax_j = exp(x_j - lse): the named probability p_j where the
            // network names the softmax.
            Node::LogSumExp(items) => {
                for item in items.iter() {
                    let shifted = graph.sub(*item, this);
                    let softmax = graph.func(Builtin::Exp, shifted);
                    let local = named.get(&softmax).map_or(softmax, |&v| graph.var(v));
                    // `p_j sum_k t_k` as textbooks write it, the probability first.
                    let term = graph.mul(local, a);
                    adjoint.entry(*item).or_default().push(term);
                }
            }
        }
    }
    partials.sort_by_key(|(v, _)| *v);
    partials
}

/// The partials of `f(x, y)` by `x` and by `y`. The derivative of `max(x, y)` goes to `x`
/// where `x >= y` (the language's rule at a tie), else to `y`; `min(x, y)` to `x` where
/// `x <= y`. The brackets themselves are piecewise constant.
fn pairwise_derivative(
    graph: &mut Graph,
    f: Pairwise,
    x: NodeId,
    y: NodeId,
) -> Vec<(NodeId, NodeId)> {
    match f {
        Pairwise::Maximum => {
            let first = graph.pair(Pairwise::AtLeast, x, y);
            let second = graph.pair(Pairwise::Above, y, x);
            vec![(x, first), (y, second)]
        }
        Pairwise::Minimum => {
            let first = graph.pair(Pairwise::AtLeast, y, x);
            let second = graph.pair(Pairwise::Above, x, y);
            vec![(x, first), (y, second)]
        }
        Pairwise::AtLeast | Pairwise::Above => Vec::new(),
    }
}

/// f'(x), written with `this` (the value f(x), or the named scalar that holds it) where that
/// is the natural form: sigmoid' = a(1 - a), tanh' = 1 - a^2, exp' = exp.
fn builtin_derivative(
    graph: &mut Graph,
    f: Builtin,
    x: NodeId,
    this: NodeId,
    named: &HashMap<NodeId, Var>,
) -> NodeId {
    let one = graph.constant_node(1.0);
    match f {
        Builtin::Sigmoid => {
            let complement = graph.sub(one, this);
            graph.mul(this, complement)
        }
        Builtin::Tanh => {
            let square = graph.pow(this, 2.0);
            graph.sub(one, square)
        }
        Builtin::Relu => graph.func(Builtin::Step, x),
        Builtin::Linear => one,
        Builtin::Sin => graph.func(Builtin::Cos, x),
        Builtin::Cos => {
            let sin = graph.func(Builtin::Sin, x);
            graph.neg(sin)
        }
        Builtin::Exp => this,
        Builtin::Log => graph.div(one, x),
        Builtin::Softplus => graph.func(Builtin::Sigmoid, x),
        Builtin::Sqrt => {
            let half = graph.constant_node(0.5);
            graph.div(half, this)
        }
        Builtin::Abs => graph.func(Builtin::Sign, x),
        // erf'(z) = 2/sqrt(pi) e^{-z^2}.
        Builtin::Erf => {
            let coefficient = graph.constant_node(std::f64::consts::FRAC_2_SQRT_PI);
            let square = graph.pow(x, 2.0);
            let minus = graph.neg(square);
            let gauss = graph.func(Builtin::Exp, minus);
            graph.mul(coefficient, gauss)
        }
        Builtin::Step | Builtin::Sign => graph.constant_node(0.0),
        // d/dz log(sigmoid(z)) = 1 - sigmoid(z) = sigmoid(-z), finite everywhere; written
        // 1 - a where the network names a = sigmoid(z), so that binary cross-entropy's delta
        // collects to a - t.
        Builtin::LogSigmoid => {
            let minus = graph.neg(x);
            let named_sigmoid = graph
                .existing(&Node::Func(Builtin::Sigmoid, x))
                .and_then(|n| named.get(&n));
            match named_sigmoid {
                Some(&a) => {
                    let a = graph.var(a);
                    graph.sub(one, a)
                }
                None => {
                    let mirrored = graph.func(Builtin::Sigmoid, minus);
                    named.get(&mirrored).map_or(mirrored, |&b| graph.var(b))
                }
            }
        }
    }
}
