//! Numeric evaluation of a derivation: forward values, loss, deltas and gradients, per sample
//! and combined over a batch by the network's `batch` rule.

use chainrule_grammar::BatchRule;

use crate::derive::Derivation;
use crate::ir::{Node, NodeId, Var};
use crate::model::{Network, Symbol};

/// One sample: a value vector per input and per target, in declaration order.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// One vector per input.
    pub inputs: Vec<Vec<f64>>,
    /// One vector per target.
    pub targets: Vec<Vec<f64>>,
}

/// What one sample evaluates to.
#[derive(Clone, Debug)]
pub struct SampleResult {
    /// The value of every slot: inputs, targets, parameters, vectors, loss, deltas.
    pub slots: Vec<f64>,
    /// The per-sample loss.
    pub loss: f64,
    /// dL/dp per parameter, row-major.
    pub gradient: Vec<Vec<f64>>,
}

/// A batch's combined result.
#[derive(Clone, Debug)]
pub struct BatchResult {
    /// The combined loss.
    pub loss: f64,
    /// The combined gradient per parameter, row-major.
    pub gradient: Vec<Vec<f64>>,
    /// Every sample's own result.
    pub samples: Vec<SampleResult>,
}

/// Evaluates nodes of one derivation at one point, each node once.
pub struct Evaluator<'d> {
    derivation: &'d Derivation,
    /// Values of the slots assigned so far.
    pub slots: Vec<f64>,
    memo: Vec<f64>,
    done: Vec<bool>,
}

impl<'d> Evaluator<'d> {
    /// An evaluator with inputs, targets and parameters set.
    pub fn new(
        derivation: &'d Derivation,
        network: &Network,
        params: &[Vec<f64>],
        sample: &Sample,
    ) -> Evaluator<'d> {
        let layout = &derivation.layout;
        let mut slots = vec![f64::NAN; layout.len()];
        let mut set = |symbol: Symbol, values: &[f64]| {
            for (var, v) in layout.vars(symbol).zip(values) {
                slots[var.index()] = *v;
            }
        };
        for (i, v) in sample.inputs.iter().enumerate().take(network.inputs.len()) {
            set(Symbol::Input(i), v);
        }
        for (i, v) in sample
            .targets
            .iter()
            .enumerate()
            .take(network.targets.len())
        {
            set(Symbol::Target(i), v);
        }
        for (i, v) in params.iter().enumerate().take(network.params.len()) {
            set(Symbol::Param(i), v);
        }
        let n = derivation.graph.len();
        Evaluator {
            derivation,
            slots,
            memo: vec![0.0; n],
            done: vec![false; n],
        }
    }

    /// Runs the forward pass, the deltas and the gradients.
    pub fn run(mut self, network: &Network) -> SampleResult {
        let d = self.derivation;
        for def in &d.forward {
            let v = self.value(def.value);
            self.slots[def.var.index()] = v;
        }
        for (slot, expr) in &d.deltas {
            let v = self.value(*expr);
            self.slots[slot.index()] = v;
        }
        let mut gradient: Vec<Vec<f64>> = network
            .params
            .iter()
            .map(|p| Vec::with_capacity(p.shape.len()))
            .collect();
        for (var, expr) in &d.gradients {
            let v = self.value(*expr);
            if let crate::layout::Slot::Value(Symbol::Param(p), _) = d.layout.slot(*var) {
                gradient[p].push(v);
            }
        }
        let loss = self.slots[d.loss().index()];
        SampleResult {
            slots: self.slots,
            loss,
            gradient,
        }
    }

    /// An evaluator for extra nodes at an already evaluated sample (all slots known).
    pub fn from_slots(derivation: &'d Derivation, slots: &[f64]) -> Evaluator<'d> {
        let n = derivation.graph.len();
        Evaluator {
            derivation,
            slots: slots.to_vec(),
            memo: vec![0.0; n],
            done: vec![false; n],
        }
    }

    /// The value of a slot.
    pub fn slot(&self, var: Var) -> f64 {
        self.slots[var.index()]
    }

    /// The value of a node, computing what it needs once.
    pub fn value(&mut self, root: NodeId) -> f64 {
        let graph = &self.derivation.graph;
        let mut stack = vec![root];
        while let Some(&n) = stack.last() {
            if self.done[n.index()] {
                stack.pop();
                continue;
            }
            let node = graph.node(n);
            let mut pending = false;
            node.for_each_child(|c| {
                if !self.done[c.index()] {
                    stack.push(c);
                    pending = true;
                }
            });
            if pending {
                continue;
            }
            let m = |c: &NodeId| self.memo[c.index()];
            let v = match node {
                Node::Const(b) => f64::from_bits(*b),
                Node::Var(var) => self.slots[var.index()],
                Node::Add(a, b) => m(a) + m(b),
                Node::Sub(a, b) => m(a) - m(b),
                Node::Mul(a, b) => m(a) * m(b),
                Node::Div(a, b) => m(a) / m(b),
                Node::Neg(a) => -m(a),
                Node::Pow(a, k) => power(m(a), f64::from_bits(*k)),
                Node::Func(f, a) => f.eval(m(a)),
                Node::Pair(f, a, b) => f.eval(m(a), m(b)),
                Node::Sum(items) => items.iter().map(m).sum(),
                Node::LogSumExp(items) => {
                    let values: Vec<f64> = items.iter().map(m).collect();
                    crate::builtin::logsumexp(&values)
                }
            };
            self.memo[n.index()] = v;
            self.done[n.index()] = true;
            stack.pop();
        }
        self.memo[root.index()]
    }
}

/// `x^k`, exact for small whole exponents.
pub fn power(x: f64, k: f64) -> f64 {
    if k == 2.0 {
        x * x
    } else if k.fract() == 0.0 && k.abs() <= 16.0 {
        x.powi(k as i32)
    } else {
        x.powf(k)
    }
}

/// Evaluates one sample.
pub fn evaluate_sample(
    derivation: &Derivation,
    network: &Network,
    params: &[Vec<f64>],
    sample: &Sample,
) -> SampleResult {
    Evaluator::new(derivation, network, params, sample).run(network)
}

/// Evaluates a batch and combines losses and gradients by the network's `batch` rule.
pub fn evaluate_batch(
    derivation: &Derivation,
    network: &Network,
    params: &[Vec<f64>],
    samples: &[Sample],
) -> BatchResult {
    let results: Vec<SampleResult> = samples
        .iter()
        .map(|s| evaluate_sample(derivation, network, params, s))
        .collect();
    let scale = match network.batch {
        BatchRule::Sum => 1.0,
        BatchRule::Mean => 1.0 / results.len().max(1) as f64,
    };
    let mut gradient: Vec<Vec<f64>> = network
        .params
        .iter()
        .map(|p| vec![0.0; p.shape.len()])
        .collect();
    let mut loss = 0.0;
    for r in &results {
        loss += r.loss;
        for (total, g) in gradient.iter_mut().zip(&r.gradient) {
            for (t, v) in total.iter_mut().zip(g) {
                *t += v;
            }
        }
    }
    gradient.iter_mut().flatten().for_each(|g| *g *= scale);
    BatchResult {
        loss: loss * scale,
        gradient,
        samples: results,
    }
}
