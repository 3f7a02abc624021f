//! Chain-rule derivation: local partials between named scalars, deltas from the loss
//! backwards, gradients of every parameter element, and their closed forms.
//!
//! Every named scalar (an element of a vector, or the loss) has a definition in terms of
//! other named scalars. Its *local partials* are the derivatives of that definition with
//! respect to each named scalar it mentions, holding the others fixed: the factors of the
//! chain rule (dz/dw = a, da/dz = a(1 - a), ...). The *delta* of a vector element is dL/dv,
//! defined by recursion over the elements that consume it; a parameter's gradient sums
//! delta times local partial over its consumers. All of it lives in one hash-consed graph,
//! so its size grows with the number of parameters, never with the number of paths.

use std::collections::HashMap;

use crate::inner::Forward;
use crate::ir::{Graph, Node, NodeId, Var};
use crate::layout::Layout;
use crate::model::{Function, Network, Symbol};
pub(crate) use crate::partials::{local_partials, raw_local_partials};

/// The definition of one named scalar and its local partials.
#[derive(Clone, Debug)]
pub struct Definition {
    /// The scalar defined (a vector element or the loss).
    pub var: Var,
    /// Its value in terms of earlier named scalars.
    pub value: NodeId,
    /// d(value)/d(u) for every named scalar u it mentions, ordered by slot.
    pub partials: Vec<(Var, NodeId)>,
}

/// Everything derived for one network.
#[derive(Clone, Debug)]
pub struct Derivation {
    /// The shared arena of every expression below.
    pub graph: Graph,
    /// Slot numbering.
    pub layout: Layout,
    /// Vector elements in evaluation order, then the loss.
    pub forward: Vec<Definition>,
    /// `(delta slot, expression)` from the loss backwards; an expression refers to forward
    /// values and to the deltas of later vectors, which come earlier in this list.
    pub deltas: Vec<(Var, NodeId)>,
    /// `(parameter slot, dL/dp)` for every parameter element, in slot order, in terms of
    /// deltas and forward values.
    pub gradients: Vec<(Var, NodeId)>,
    /// For each slot, the definitions (indices into `forward`) that mention it.
    pub consumers: Vec<Vec<usize>>,
    /// For each definition, whether the loss depends on it (it has a delta, or is the loss).
    pub live: Vec<bool>,
    /// For each slot, its position in `gradients` if it is a parameter element.
    pub gradient_position: Vec<Option<usize>>,
    /// Every `grad(S, v)` of the network as built (its result is already part of the
    /// definitions); printers use it to show the inner derivative on its own.
    pub inner: Vec<crate::inner::Site>,
    /// The file's user functions, for the tensor-level statements (`crate::tensor`).
    pub functions: Vec<Function>,
    /// Whether the derivation is re-rooted at another scalar than the loss (`--of`).
    pub rerooted: bool,
}

/// Most nodes the closed form of one gradient may print as (see [`Derivation::tree_size`]);
/// `chainrule latex --form chain` refuses weights past it rather than print for hours.
pub const MAX_CLOSED_FORM: u64 = 100_000;

/// Derives a network: lowers its definitions and builds partials, deltas and gradients.
pub fn derive(network: &Network, functions: &[Function]) -> Derivation {
    let layout = Layout::new(network);
    let mut graph = Graph::new();
    for (t, target) in network.targets.iter().enumerate() {
        if target.kind.sums_to_one() {
            graph.declare_unit_sum(layout.vars(Symbol::Target(t)));
        }
    }
    // Definitions wait in `known` without partials until the end, or until a `grad` needs
    // the partials of the ones before it (see `inner`).
    let mut known = Forward::default();
    let mut v = 0;
    while v < network.vectors.len() {
        // A mutual recurrence is lowered whole, then defined one step at a time: row t of
        // each of its vectors, in order, before row t + 1 of any (reads are by slot, so
        // the order of definitions is the only order of evaluation).
        let block = network
            .recurrences
            .iter()
            .find(|r| r.start == v)
            .cloned()
            .unwrap_or(v..v + 1);
        let lowered: Vec<Vec<NodeId>> = block
            .clone()
            .map(|u| {
                let expr = &network.vectors[u].expr;
                known.lower(network, functions, &layout, &mut graph, expr)
            })
            .collect();
        let steps = match block.len() {
            1 => 1,
            _ => network.vectors[v].shape.dims()[0],
        };
        for step in 0..steps {
            for (u, nodes) in block.clone().zip(&lowered) {
                let row = network.vectors[u].size / steps;
                for e in step * row..(step + 1) * row {
                    let node = if nodes.len() == 1 { nodes[0] } else { nodes[e] };
                    let var = layout.var(Symbol::Vector(u), e);
                    graph.define(var, node);
                    known.pending.push((var, node));
                }
            }
        }
        v = block.end;
    }
    let loss = known.lower(network, functions, &layout, &mut graph, &network.loss.expr);
    let loss = loss
        .first()
        .copied()
        .unwrap_or_else(|| graph.constant_node(0.0));
    known.pending.push((layout.loss(), loss));
    // A definition's own node stands for its named value inside derivative rules, so that
    // sigmoid' reads a(1 - a) rather than sigmoid(z)(1 - sigmoid(z)).
    known.flush(&mut graph);
    let inner = known.sites;
    let forward = known.defs;

    let consumers = consumers_of(&forward, layout.len());
    // Deltas, from the loss backwards. A definition is live when the loss depends on it.
    let Sweep {
        live,
        delta_node,
        deltas,
    } = backward_sweep(&mut graph, &layout, &forward, &consumers, forward.len() - 1);

    let mut gradients = Vec::new();
    for p in 0..network.params.len() {
        for var in layout.vars(Symbol::Param(p)) {
            let terms = chain_terms(
                &mut graph,
                &forward,
                &consumers[var.index()],
                &delta_node,
                var,
            );
            let grad = graph.sum(&terms);
            gradients.push((var, grad));
        }
    }
    let mut gradient_position = vec![None; layout.len()];
    for (i, (var, _)) in gradients.iter().enumerate() {
        gradient_position[var.index()] = Some(i);
    }
    Derivation {
        graph,
        layout,
        forward,
        deltas,
        gradients,
        consumers,
        live,
        gradient_position,
        inner,
        functions: functions.to_vec(),
        rerooted: false,
    }
}

/// For each slot, the definitions (indices into `forward`) that mention it.
pub(crate) fn consumers_of(forward: &[Definition], slots: usize) -> Vec<Vec<usize>> {
    let mut consumers: Vec<Vec<usize>> = vec![Vec::new(); slots];
    for (c, def) in forward.iter().enumerate() {
        for (u, _) in &def.partials {
            consumers[u.index()].push(c);
        }
    }
    consumers
}

/// What one backward sweep from a root definition finds.
pub(crate) struct Sweep {
    /// For each definition, whether the root depends on it.
    pub live: Vec<bool>,
    /// For each definition, the node of d(root)/d(it), where it has one.
    pub delta_node: Vec<Option<NodeId>>,
    /// `(delta slot, expression)` from the root backwards.
    pub deltas: Vec<(Var, NodeId)>,
}

/// The deltas d(root)/dv of every definition before `root` (an index into `forward`), each a
/// sum over its consumers of delta times local partial: the loss's deltas, or those of any
/// named scalar a derivation is re-rooted at (`crate::derivative`).
pub(crate) fn backward_sweep(
    graph: &mut Graph,
    layout: &Layout,
    forward: &[Definition],
    consumers: &[Vec<usize>],
    root: usize,
) -> Sweep {
    let mut live = vec![false; forward.len()];
    live[root] = true;
    let mut delta_node: Vec<Option<NodeId>> = vec![None; forward.len()];
    delta_node[root] = Some(graph.constant_node(1.0));
    let mut deltas = Vec::new();
    for c in (0..root).rev() {
        let var = forward[c].var;
        let terms = chain_terms(graph, forward, &consumers[var.index()], &delta_node, var);
        if terms.is_empty() {
            continue;
        }
        live[c] = true;
        let expr = graph.sum(&terms);
        let Some(slot) = layout.delta_of(var) else {
            continue;
        };
        deltas.push((slot, expr));
        delta_node[c] = Some(graph.var(slot));
    }
    Sweep {
        live,
        delta_node,
        deltas,
    }
}

/// `delta(c) * d(c)/d(var)` for every live consumer `c` of `var`.
pub(crate) fn chain_terms(
    graph: &mut Graph,
    forward: &[Definition],
    consumers: &[usize],
    delta_node: &[Option<NodeId>],
    var: Var,
) -> Vec<NodeId> {
    let mut terms = Vec::new();
    for &c in consumers {
        let Some(delta) = delta_node[c] else { continue };
        let Some(&(_, partial)) = forward[c].partials.iter().find(|(u, _)| *u == var) else {
            continue;
        };
        terms.push(graph.mul(delta, partial));
    }
    terms
}

impl Derivation {
    /// The deltas for display: vectors from the loss backwards, each vector's elements in
    /// order, as `(vector, element, value slot, delta slot, expression)`.
    pub fn deltas_by_vector(&self) -> Vec<(usize, usize, Var, Var, NodeId)> {
        let mut order: Vec<(usize, usize, Var, Var, NodeId)> = self
            .deltas
            .iter()
            .filter_map(|&(slot, expr)| match self.layout.slot(slot) {
                crate::layout::Slot::Delta(v, e) => {
                    Some((v, e, self.layout.var(Symbol::Vector(v), e), slot, expr))
                }
                crate::layout::Slot::Value(..) => None,
            })
            .collect();
        order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        order
    }

    /// The slot of the loss.
    pub fn loss(&self) -> Var {
        self.layout.loss()
    }

    /// The node count of the whole derivation (forward, partials, deltas, gradients).
    pub fn node_count(&self) -> usize {
        self.graph.len()
    }

    /// Rebuilds `node` with every delta replaced by its own expansion: the closed form in
    /// forward values only. `memo` carries expansions between calls so that the total work
    /// stays linear in the graph.
    pub fn closed_form(&mut self, node: NodeId, memo: &mut HashMap<NodeId, NodeId>) -> NodeId {
        let delta_exprs: HashMap<Var, NodeId> = self.deltas.iter().copied().collect();
        // Post-order without recursion: a delta leaf's "child" is its own expression, and
        // deltas only refer to deltas of later vectors, so there is no cycle.
        let mut stack = vec![(node, false)];
        while let Some((n, children_done)) = stack.pop() {
            if memo.contains_key(&n) {
                continue;
            }
            let current = self.graph.node(n).clone();
            let mut children = Vec::new();
            match &current {
                Node::Var(v) => match delta_exprs.get(v) {
                    Some(&expr) => children.push(expr),
                    None => {
                        memo.insert(n, n);
                        continue;
                    }
                },
                other => other.for_each_child(|c| children.push(c)),
            }
            if !children_done {
                stack.push((n, true));
                stack.extend(
                    children
                        .into_iter()
                        .filter(|c| !memo.contains_key(c))
                        .map(|c| (c, false)),
                );
                continue;
            }
            let rebuilt = match &current {
                Node::Var(_) => memo.get(&children[0]).copied().unwrap_or(children[0]),
                other => self.rebuild(other, memo),
            };
            memo.insert(n, rebuilt);
        }
        memo.get(&node).copied().unwrap_or(node)
    }

    fn rebuild(&mut self, node: &Node, memo: &HashMap<NodeId, NodeId>) -> NodeId {
        let g = &mut self.graph;
        let m = |c: &NodeId| memo.get(c).copied().unwrap_or(*c);
        match node {
            Node::Const(b) => g.constant_node(f64::from_bits(*b)),
            Node::Var(v) => g.var(*v),
            Node::Add(a, b) => g.add(m(a), m(b)),
            Node::Sub(a, b) => g.sub(m(a), m(b)),
            Node::Mul(a, b) => g.mul(m(a), m(b)),
            Node::Div(a, b) => g.div(m(a), m(b)),
            Node::Neg(a) => g.neg(m(a)),
            Node::Pow(a, k) => g.pow(m(a), f64::from_bits(*k)),
            Node::Func(f, a) => g.func(*f, m(a)),
            Node::Pair(f, a, b) => g.pair(*f, m(a), m(b)),
            Node::Sum(items) => {
                let items: Vec<NodeId> = items.iter().map(m).collect();
                g.sum(&items)
            }
            Node::LogSumExp(items) => {
                let items: Vec<NodeId> = items.iter().map(m).collect();
                g.logsumexp(&items)
            }
        }
    }

    /// How many nodes `node` prints as: the size of its expression tree, where a node shared by
    /// several parents counts once per parent, because printers walk trees, not graphs. A
    /// closed form of a deep, wide network is a small graph but an exponentially large tree.
    /// Saturates at `u64::MAX`.
    pub fn tree_size(&self, node: NodeId) -> u64 {
        let mut reachable = vec![node];
        let mut seen = std::collections::HashSet::from([node]);
        let mut at = 0;
        while let Some(&n) = reachable.get(at) {
            at += 1;
            self.graph.node(n).for_each_child(|c| {
                if seen.insert(c) {
                    reachable.push(c);
                }
            });
        }
        // Children have smaller ids than their parents: ascending ids see children first.
        reachable.sort_unstable();
        let mut size: HashMap<NodeId, u64> = HashMap::with_capacity(reachable.len());
        for n in reachable {
            let mut total = 1u64;
            self.graph.node(n).for_each_child(|c| {
                total = total.saturating_add(size.get(&c).copied().unwrap_or(1));
            });
            size.insert(n, total);
        }
        size.get(&node).copied().unwrap_or(1)
    }

    /// The gradient dL/dp of a parameter slot, if `weight` is one.
    pub fn gradient_of(&self, weight: Var) -> Option<NodeId> {
        let position = self
            .gradient_position
            .get(weight.index())
            .copied()
            .flatten()?;
        Some(self.gradients[position].1)
    }

    /// d(of)/d(wrt) in forward values, for any named scalar `of` (the loss or a vector
    /// element) and any named scalar `wrt`, by reverse accumulation over local partials.
    pub fn derivative(&mut self, of: Var, wrt: Var) -> NodeId {
        if of == wrt {
            return self.graph.constant_node(1.0);
        }
        let Some(start) = self.forward.iter().position(|d| d.var == of) else {
            return self.graph.constant_node(0.0);
        };
        let mut adjoint: HashMap<Var, Vec<NodeId>> = HashMap::new();
        adjoint.insert(of, vec![self.graph.constant_node(1.0)]);
        for c in (0..=start).rev() {
            let var = self.forward[c].var;
            if var == wrt {
                break;
            }
            let Some(contributions) = adjoint.remove(&var) else {
                continue;
            };
            let a = self.graph.sum(&contributions);
            for i in 0..self.forward[c].partials.len() {
                let (u, partial) = self.forward[c].partials[i];
                let term = self.graph.mul(a, partial);
                adjoint.entry(u).or_default().push(term);
            }
        }
        let contributions = adjoint.remove(&wrt).unwrap_or_default();
        self.graph.sum(&contributions)
    }

    /// d(of)/d(v) for every named scalar `v` that `of` depends on, by one reverse sweep: what
    /// [`Derivation::derivative`] gives for each, at the cost of one call. Checking a general
    /// claim asks for many `wrt` with the same `of`.
    pub fn derivatives_of(&mut self, of: Var) -> HashMap<Var, NodeId> {
        let mut done: HashMap<Var, NodeId> = HashMap::new();
        done.insert(of, self.graph.constant_node(1.0));
        let Some(start) = self.forward.iter().position(|d| d.var == of) else {
            return done;
        };
        let mut adjoint: HashMap<Var, Vec<NodeId>> = HashMap::new();
        adjoint.insert(of, vec![self.graph.constant_node(1.0)]);
        for c in (0..=start).rev() {
            let var = self.forward[c].var;
            let Some(contributions) = adjoint.remove(&var) else {
                continue;
            };
            let a = self.graph.sum(&contributions);
            done.insert(var, a);
            for i in 0..self.forward[c].partials.len() {
                let (u, partial) = self.forward[c].partials[i];
                let term = self.graph.mul(a, partial);
                adjoint.entry(u).or_default().push(term);
            }
        }
        // What is left are parameters, inputs and targets: no definition to sweep through.
        for (var, contributions) in adjoint {
            let sum = self.graph.sum(&contributions);
            done.insert(var, sum);
        }
        done
    }
}
