//! Instantiates every statement element by element against the scalar derivation, the
//! reference: at seeded random points, each element's formula must give the value the
//! scalar derivation gives that element (its forward value, its delta, its gradient).
//! A statement that misses anywhere stays unverified, and no printer shows it.

use super::{Affine, IndexVar, Leaf, Program, Statement, Tensor, dims};
use crate::builtin::Pairwise;
use crate::derive::Derivation;
use crate::eval::{Evaluator, evaluate_sample, power};
use crate::ir::{Node, NodeId};
use crate::model::{Network, Symbol};

/// Points every formula is checked at.
const POINTS: usize = 2;

/// Elements checked per statement and point; past it, an even sample that keeps the first
/// and the last element (a statement that large is the same formula at every element).
pub const MAX_CHECKED: usize = 100_000;

/// One point: the value of every slot, and every parameter element's gradient by slot.
struct Point {
    slots: Vec<f64>,
    gradient: Vec<f64>,
    /// Per vector, the values of its element-wise function's argument (empty if none).
    inner: Vec<Vec<f64>>,
}

/// Marks each statement verified when it reproduces every element at every point.
pub fn verify(program: &mut Program, network: &Network, derivation: &Derivation) {
    let points = points(network, derivation);
    program.checked_at = points.len();
    let shapes = Shapes::new(network);
    let check = |program: &Program, s: &Statement| {
        !points.is_empty()
            && points
                .iter()
                .all(|p| agrees(program, &shapes, derivation, s, p))
    };
    let verdicts: Vec<bool> = program.statements().map(|s| check(program, s)).collect();
    let statements = program
        .forward
        .iter_mut()
        .chain(&mut program.deltas)
        .chain(&mut program.gradients);
    for (statement, verdict) in statements.zip(verdicts) {
        statement.verified = verdict;
    }
}

/// Seeded random points with finite values everywhere.
fn points(network: &Network, d: &Derivation) -> Vec<Point> {
    let range = crate::draw::value_range(d);
    let mut uniform = crate::draw::uniform(0x5EED_7E45_0A11_u64, range);
    let mut out = Vec::new();
    // Networks with `log` or `sqrt` of signed values are finite only somewhere: look
    // harder before giving up (no point: nothing verifies, nothing is printed).
    for _ in 0..POINTS * 32 {
        if out.len() == POINTS {
            break;
        }
        let (params, sample) = crate::draw::point(network, &mut uniform, range);
        out.extend(point_at(network, d, &params, &sample));
    }
    out
}

/// The scalar derivation's values at one point, if they are finite.
fn point_at(
    network: &Network,
    d: &Derivation,
    params: &[Vec<f64>],
    sample: &crate::eval::Sample,
) -> Option<Point> {
    let result = evaluate_sample(d, network, params, sample);
    // The derivatives too: where one is not a number (`sqrt` at 0 times a zero delta) the
    // reference says nothing, and a formula's NaN against its 0 would unverify a statement
    // that holds everywhere the derivative exists (a random network's `sqrt(U @ gauss(..))`
    // whose gauss underflowed at one seeded point).
    let finite = d
        .forward
        .iter()
        .map(|def| def.var)
        .chain(d.deltas.iter().map(|(var, _)| *var))
        .all(|var| result.slots[var.index()].is_finite());
    if !finite || result.slots.iter().any(|v| v.is_infinite()) {
        return None;
    }
    let mut gradient = vec![f64::NAN; d.layout.len()];
    let mut evaluator = Evaluator::from_slots(d, &result.slots);
    for (var, expr) in &d.gradients {
        gradient[var.index()] = evaluator.value(*expr);
        if !gradient[var.index()].is_finite() {
            return None;
        }
    }
    let inner = arguments(network, d, &result.slots, &mut evaluator);
    Some(Point {
        slots: result.slots,
        gradient,
        inner,
    })
}

/// Whether every statement reproduces the scalar derivation at one given point (where the
/// seeded points cannot go: ties of a `max`, whose brackets must pick the first maximum as
/// the scalar graph's folds do). False where the point's values are not finite.
pub fn agrees_at(
    program: &Program,
    network: &Network,
    d: &Derivation,
    params: &[Vec<f64>],
    sample: &crate::eval::Sample,
) -> bool {
    let shapes = Shapes::new(network);
    point_at(network, d, params, sample).is_some_and(|point| {
        program
            .statements()
            .all(|s| agrees(program, &shapes, d, s, &point))
    })
}

/// Per vector that applies a function element by element to a compound argument, the
/// argument's values, independent of the tensor level: a built-in's argument is the operand
/// of the scalar graph's own definitions; a user function (inlined in the scalar graph) has
/// its argument lowered from the model's expression.
fn arguments(
    network: &Network,
    d: &Derivation,
    slots: &[f64],
    evaluator: &mut Evaluator<'_>,
) -> Vec<Vec<f64>> {
    use crate::model::TExprKind;
    let mut operands = vec![Vec::new(); network.vectors.len()];
    for definition in &d.forward {
        if let (crate::layout::Slot::Value(Symbol::Vector(v), _), Node::Func(_, a)) = (
            d.layout.slot(definition.var),
            d.graph.node(definition.value),
        ) {
            operands[v].push(evaluator.value(*a));
        }
    }
    network
        .vectors
        .iter()
        .zip(operands)
        .map(|(vector, operands)| {
            // In index notation the function applies to the body, with the names in scope.
            let (scope, body) = match &vector.expr.kind {
                TExprKind::IndexDef(vars, body) => (Some(vars), &**body),
                _ => (None, &vector.expr),
            };
            let argument = match &body.kind {
                TExprKind::Builtin(..) => return operands,
                TExprKind::Call(_, args) if args.len() == 1 => &args[0],
                _ => return Vec::new(),
            };
            let scoped;
            let argument = match scope {
                Some(vars) => {
                    scoped = crate::model::TExpr {
                        kind: TExprKind::IndexDef(vars.clone(), Box::new(argument.clone())),
                        shape: vector.expr.shape,
                        span: argument.span,
                    };
                    &scoped
                }
                None => argument,
            };
            let mut graph = crate::ir::Graph::new();
            let mut lowering = crate::lower::Lowering {
                network,
                functions: &d.functions,
                layout: &d.layout,
                graph: &mut graph,
                vars: &[],
                known: None,
            };
            let nodes = lowering.expr(argument, &mut Vec::new());
            let values: Vec<f64> = nodes
                .iter()
                .map(|&n| super::functions::evaluate(&graph, n, slots))
                .collect();
            if values.len() == 1 {
                vec![values[0]; vector.size]
            } else {
                values
            }
        })
        .collect()
}

/// Whether a statement gives every (sampled) element's reference value at a point.
fn agrees(
    program: &Program,
    shapes: &Shapes,
    d: &Derivation,
    statement: &Statement,
    point: &Point,
) -> bool {
    let count = statement.len();
    let step = count.div_ceil(MAX_CHECKED).max(1);
    let elements = (0..count).step_by(step).chain(count.checked_sub(1));
    let instance = Instance {
        program,
        shapes,
        d,
        point,
    };
    for flat in elements {
        let mut env: Vec<(IndexVar, i64)> = Vec::with_capacity(8);
        let mut rest = flat;
        for (d_axis, &var) in statement.indices.iter().enumerate().rev() {
            let size = statement.shape[d_axis];
            env.push((var, (rest % size) as i64));
            rest /= size;
        }
        let got = instance.value(statement.formula, &mut env);
        // A reshape computes the element at its positions, not at its own indices.
        let element = match &statement.reshape {
            Some(at) => match instance.element_at(statement.defines, at, &env) {
                Some(element) => element,
                None => return false,
            },
            None => flat,
        };
        let Some(want) = instance.reference(statement.defines, element) else {
            return false;
        };
        if !close(got, want) {
            return false;
        }
    }
    true
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
}

/// Values of the index variables bound so far, innermost last.
type Env = Vec<(IndexVar, i64)>;

/// Evaluates formulas at one point.
struct Instance<'a> {
    program: &'a Program,
    shapes: &'a Shapes,
    d: &'a Derivation,
    point: &'a Point,
}

/// The axes of every symbol, found once: a statement's elements read tensors millions of
/// times (a convolution's input delta), and each lookup of a shape built a vector.
struct Shapes {
    inputs: Vec<Vec<usize>>,
    targets: Vec<Vec<usize>>,
    vectors: Vec<Vec<usize>>,
    params: Vec<Vec<usize>>,
}

impl Shapes {
    fn new(network: &Network) -> Shapes {
        let all = |n: usize, symbol: fn(usize) -> Symbol| -> Vec<Vec<usize>> {
            (0..n).map(|i| dims(network, symbol(i))).collect()
        };
        Shapes {
            inputs: all(network.inputs.len(), Symbol::Input),
            targets: all(network.targets.len(), Symbol::Target),
            vectors: all(network.vectors.len(), Symbol::Vector),
            params: all(network.params.len(), Symbol::Param),
        }
    }

    fn of(&self, tensor: Tensor) -> &[usize] {
        let symbol = match tensor {
            Tensor::Value(s) | Tensor::Delta(s) => s,
            Tensor::Inner(v) => Symbol::Vector(v),
        };
        match symbol {
            Symbol::Input(i) => &self.inputs[i],
            Symbol::Target(i) => &self.targets[i],
            Symbol::Vector(i) => &self.vectors[i],
            Symbol::Param(i) => &self.params[i],
            Symbol::Loss => &[],
        }
    }
}

impl Instance<'_> {
    /// The scalar derivation's value of element `flat` of a tensor.
    fn reference(&self, tensor: Tensor, flat: usize) -> Option<f64> {
        let layout = &self.d.layout;
        match tensor {
            Tensor::Value(Symbol::Loss) => Some(self.point.slots[layout.loss().index()]),
            Tensor::Value(symbol) => Some(self.point.slots[layout.var(symbol, flat).index()]),
            Tensor::Delta(Symbol::Param(p)) => {
                let var = layout.var(Symbol::Param(p), flat);
                Some(self.point.gradient[var.index()])
            }
            Tensor::Delta(symbol @ Symbol::Vector(_)) => {
                let delta = layout.delta_of(layout.var(symbol, flat))?;
                let v = self.point.slots[delta.index()];
                // Elements the loss does not depend on have no delta: it is zero.
                Some(if v.is_nan() { 0.0 } else { v })
            }
            Tensor::Delta(_) => None,
            Tensor::Inner(v) => self.point.inner.get(v)?.get(flat).copied(),
        }
    }

    /// The row-major element of `tensor` at the positions `at` under `env`; `None` outside
    /// its shape.
    fn element_at(&self, tensor: Tensor, at: &[Affine], env: &Env) -> Option<usize> {
        let shape = self.shapes.of(tensor);
        if shape.len() != at.len() {
            return None;
        }
        let mut element = 0usize;
        for (a, &size) in at.iter().zip(shape) {
            let value = |v: IndexVar| env.iter().rev().find(|(u, _)| *u == v).map(|(_, x)| *x);
            let i = usize::try_from(a.at(&|v| value(v).unwrap_or(-1))).ok()?;
            if i >= size {
                return None;
            }
            element = element * size + i;
        }
        Some(element)
    }

    /// The element of a tensor at computed indices; `NaN` outside its shape.
    fn read(&self, tensor: Tensor, indices: impl ExactSizeIterator<Item = i64>) -> f64 {
        let shape = self.shapes.of(tensor);
        if shape.len() != indices.len() {
            return f64::NAN;
        }
        let mut flat = 0usize;
        for (i, &size) in indices.zip(shape) {
            if i < 0 || i as usize >= size {
                return f64::NAN;
            }
            flat = flat * size + i as usize;
        }
        self.reference(tensor, flat).unwrap_or(f64::NAN)
    }

    /// Whether a node is an Iverson bracket, or a product with one among its factors.
    fn guarded(&self, node: NodeId) -> bool {
        match self.program.graph.node(node) {
            // Only a range bracket: the loops and NumPy guard reads with it (a first-maximum
            // bracket of 0 does not keep the code from reading its other factors).
            Node::Var(var) => matches!(self.program.leaf_of(*var), Leaf::Guard(..)),
            Node::Mul(a, b) => self.guarded(*a) || self.guarded(*b),
            _ => false,
        }
    }

    fn value(&self, node: NodeId, env: &mut Vec<(IndexVar, i64)>) -> f64 {
        let at = |a: &Affine, env: &[(IndexVar, i64)]| {
            a.at(&|v| {
                env.iter()
                    .rev()
                    .find(|(u, _)| *u == v)
                    .map_or(i64::MIN / 4, |(_, x)| *x)
            })
        };
        match self.program.graph.node(node) {
            Node::Const(b) => f64::from_bits(*b),
            Node::Var(var) => match self.program.leaf_of(*var) {
                Leaf::Read(tensor, indices) => {
                    self.read(*tensor, indices.iter().map(|a| at(a, env)))
                }
                Leaf::Guard(a, lo, hi) => {
                    let x = at(a, env);
                    f64::from(u8::from(*lo <= x && x < *hi))
                }
                Leaf::Sum(bounds, body) => {
                    let mut total = 0.0;
                    self.each(bounds, env, &mut |this, env| {
                        total += this.value(*body, env)
                    });
                    total
                }
                Leaf::Call(f, args) | Leaf::CallDerivative(f, _, args) => {
                    let values: Vec<f64> = args.iter().map(|&a| self.value(a, env)).collect();
                    let Some(function) = self.program.functions.get(*f) else {
                        return f64::NAN;
                    };
                    let node = match self.program.leaf_of(*var) {
                        Leaf::CallDerivative(_, n, _) => function.partials[*n],
                        _ => function.value,
                    };
                    super::functions::evaluate(&function.graph, node, &values)
                }
                Leaf::LogSumExp(bound, body) => {
                    let mut values = Vec::with_capacity(bound.size);
                    self.each(&[*bound], env, &mut |this, env| {
                        values.push(this.value(*body, env))
                    });
                    crate::builtin::logsumexp(&values)
                }
                Leaf::Extremum(f, bound, body) => {
                    let mut values = Vec::with_capacity(bound.size);
                    self.each(&[*bound], env, &mut |this, env| {
                        values.push(this.value(*body, env))
                    });
                    fold(*f, &values).map_or(f64::NAN, |(value, _)| value)
                }
                Leaf::FirstExtremum(f, position, bound, body) => {
                    let mut values = Vec::with_capacity(bound.size);
                    self.each(&[*bound], env, &mut |this, env| {
                        values.push(this.value(*body, env))
                    });
                    match fold(*f, &values) {
                        Some((_, first)) => f64::from(u8::from(first as i64 == at(position, env))),
                        None => f64::NAN,
                    }
                }
            },
            Node::Add(a, b) => self.value(*a, env) + self.value(*b, env),
            Node::Sub(a, b) => self.value(*a, env) - self.value(*b, env),
            // A bracket that is 0 makes its product 0 whatever the other factor reads: the
            // code emits the factor only where the bracket holds (a read it rules out may be
            // outside its tensor, NaN here).
            Node::Mul(a, b) => {
                let (x, y) = (self.value(*a, env), self.value(*b, env));
                if (x == 0.0 && self.guarded(*a)) || (y == 0.0 && self.guarded(*b)) {
                    0.0
                } else {
                    x * y
                }
            }
            Node::Div(a, b) => self.value(*a, env) / self.value(*b, env),
            Node::Neg(a) => -self.value(*a, env),
            Node::Pow(a, k) => power(self.value(*a, env), f64::from_bits(*k)),
            Node::Func(f, a) => f.eval(self.value(*a, env)),
            Node::Pair(f, a, b) => f.eval(self.value(*a, env), self.value(*b, env)),
            Node::Sum(items) => items.iter().map(|i| self.value(*i, env)).sum(),
            Node::LogSumExp(items) => {
                let values: Vec<f64> = items.iter().map(|i| self.value(*i, env)).collect();
                crate::builtin::logsumexp(&values)
            }
        }
    }

    /// Calls `f` once for every assignment of the bound variables.
    fn each(
        &self,
        bounds: &[super::Bound],
        env: &mut Vec<(IndexVar, i64)>,
        f: &mut dyn FnMut(&Self, &mut Env),
    ) {
        let Some((first, rest)) = bounds.split_first() else {
            f(self, env);
            return;
        };
        for x in 0..first.size as i64 {
            env.push((first.var, x));
            self.each(rest, env, f);
            env.pop();
        }
    }
}

/// The left fold of `f` (`maximum` or `minimum`) over `values` in order, and the position of
/// the value it keeps: a tie keeps the earlier one (as `Pairwise::eval` does), so it is the
/// first extremal position. `None` for no values, and where a value is NaN: a read outside
/// its tensor, which the fold would otherwise drop, must show as a mismatch unless a bracket
/// rules it out.
pub(crate) fn fold(f: Pairwise, values: &[f64]) -> Option<(f64, usize)> {
    if values.iter().any(|v| v.is_nan()) {
        return None;
    }
    let (&first, rest) = values.split_first()?;
    let keeps = |best: f64, x: f64| match f {
        Pairwise::Minimum => best <= x,
        _ => best >= x,
    };
    Some(
        rest.iter()
            .enumerate()
            .fold((first, 0), |(best, at), (i, &x)| {
                if keeps(best, x) {
                    (best, at)
                } else {
                    (x, i + 1)
                }
            }),
    )
}
