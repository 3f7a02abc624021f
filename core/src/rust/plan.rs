//! Loops or straight-line code: the one place that decides, per layer step (a vector's
//! forward values, its deltas, a parameter's gradient), which form the generated code takes.

use crate::derive::Derivation;
use crate::ir::{Node, NodeId};
use crate::latex::general::{Formulas, Leaf, SlotKind};
use crate::model::{Network, Symbol};

/// How `derive!` and `chainrule rust` choose between loops and straight-line code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Unroll {
    /// Loops for the steps that do at least [`LOOP_OPERATIONS`] operations (the default).
    #[default]
    Auto,
    /// Straight-line code everywhere (no loops).
    Always,
    /// Loops wherever a general index form exists.
    Never,
}

impl std::str::FromStr for Unroll {
    type Err = String;
    fn from_str(s: &str) -> Result<Unroll, String> {
        match s {
            "auto" => Ok(Unroll::Auto),
            "always" => Ok(Unroll::Always),
            "never" => Ok(Unroll::Never),
            other => Err(format!(
                "unknown unroll mode `{other}`: expected `auto`, `always` or `never`"
            )),
        }
    }
}

/// With `unroll = auto`, a step that performs at least this many operations becomes a loop:
/// below it straight-line code is as fast and the loop's overhead shows (BENCHMARKS.md,
/// "Loops and straight-line code").
pub const LOOP_OPERATIONS: usize = 256;

/// The form of every step, and the general formulas the loops are built from.
pub struct Plan<'a> {
    /// The formulas the `Some`s below point into.
    pub formulas: Formulas<'a>,
    /// Per vector: the formula of its forward loop, or `None` for straight-line code.
    pub forward: Vec<Option<NodeId>>,
    /// Per vector: the formula of its delta loop.
    pub delta: Vec<Option<NodeId>>,
    /// Per parameter: the formula of its gradient loop.
    pub gradient: Vec<Option<NodeId>>,
}

impl<'a> Plan<'a> {
    /// Decides every step of a network.
    pub fn new(network: &'a Network, derivation: &'a Derivation, unroll: Unroll) -> Plan<'a> {
        let mut formulas = Formulas::new(network, derivation);
        let mut plan = Plan {
            forward: vec![None; network.vectors.len()],
            delta: vec![None; network.vectors.len()],
            gradient: vec![None; network.params.len()],
            formulas: Formulas::new(network, derivation),
        };
        if unroll == Unroll::Always {
            plan.formulas = formulas;
            return plan;
        }
        let pays = |formulas: &Formulas<'_>, f: NodeId, elements: usize| {
            unroll == Unroll::Never
                || elements.saturating_mul(operations(formulas, f)) >= LOOP_OPERATIONS
        };
        for (v, vector) in network.vectors.iter().enumerate() {
            if let Some(f) = formulas.forward(v) {
                plan.forward[v] = pays(&formulas, f, vector.size).then_some(f);
            }
            if let (Some(f), count) = formulas.delta(v)
                && count == vector.size
            {
                plan.delta[v] = pays(&formulas, f, vector.size).then_some(f);
            }
        }
        for (p, param) in network.params.iter().enumerate() {
            let len = param.shape.len();
            // A gradient that reads parameters could not be applied in place by `sgd_step`
            // element by element; straight-line code reads them all before writing.
            if let (Some(f), count) = formulas.gradient(p, |_| true)
                && count == len
                && !reads_params(&formulas, f)
            {
                plan.gradient[p] = pays(&formulas, f, len).then_some(f);
            }
        }
        plan.formulas = formulas;
        plan
    }

    /// Whether any step is a loop.
    #[allow(dead_code)]
    pub fn any_loop(&self) -> bool {
        self.forward
            .iter()
            .chain(&self.delta)
            .chain(&self.gradient)
            .any(Option::is_some)
    }
}

/// The scalar operations one instance of a formula performs.
fn operations(formulas: &Formulas<'_>, f: NodeId) -> usize {
    match formulas.graph.node(f) {
        Node::Var(v) => match formulas.leaf_of(*v) {
            Leaf::SumOver(_, count, body) => {
                count.saturating_mul(operations(formulas, *body).saturating_add(1))
            }
            Leaf::Element { .. } => 0,
        },
        Node::Const(_) => 0,
        node => {
            let mut total = 1usize;
            node.for_each_child(|c| total = total.saturating_add(operations(formulas, c)));
            total
        }
    }
}

/// Whether a formula reads a parameter element.
fn reads_params(formulas: &Formulas<'_>, f: NodeId) -> bool {
    match formulas.graph.node(f) {
        Node::Var(v) => match formulas.leaf_of(*v) {
            Leaf::SumOver(_, _, body) => reads_params(formulas, *body),
            Leaf::Element { slot_of, .. } => {
                matches!(slot_of, SlotKind::Value(Symbol::Param(_)))
            }
        },
        node => {
            let mut any = false;
            node.for_each_child(|c| any |= reads_params(formulas, c));
            any
        }
    }
}
