//! The reference interpreter: a checked network evaluated straight from its typed
//! expressions, element by element, never through the IR (index notation, reductions over
//! index names, labels and scalars included), and `erf` from its definition.

use chainrule::core::builtin::{Builtin, Pairwise, VectorFn};
use chainrule::core::eval::Sample;
use chainrule::core::model::{
    ElemOp, FnExpr, Function, IndexTerm, Model, Network, Shape, Symbol, TExpr, TExprKind,
};
use chainrule_grammar::Reduction;

/// Evaluates a network straight from its checked expressions, element by element.
pub struct Reference<'a> {
    pub model: &'a Model,
    pub network: &'a Network,
    pub params: &'a [Vec<f64>],
    pub sample: &'a Sample,
    vectors: Vec<Vec<f64>>,
    /// Inside an index-notation definition: its index variables' ranges and current values.
    index_ranges: Vec<usize>,
    index_values: Vec<usize>,
    /// Set when an argument of relu, abs or a division came close to a kink or pole.
    pub near_kink: bool,
    /// The named vector whose index-notation definition is being evaluated, which may read
    /// its own earlier rows (a recurrence).
    defining: Option<usize>,
    /// Inside a mutual recurrence: the one step of the definition to compute.
    step: Option<usize>,
}

impl<'a> Reference<'a> {
    pub fn new(
        model: &'a Model,
        network: &'a Network,
        params: &'a [Vec<f64>],
        sample: &'a Sample,
    ) -> Self {
        Reference {
            model,
            network,
            params,
            sample,
            vectors: Vec::new(),
            index_ranges: Vec::new(),
            index_values: Vec::new(),
            near_kink: false,
            defining: None,
            step: None,
        }
    }

    /// The per-sample loss.
    pub fn loss(&mut self) -> f64 {
        self.vectors.clear();
        self.vectors_up_to(self.network.vectors.len());
        self.expr(&self.network.loss.expr)[0]
    }

    /// Computes named vectors from the ones already known up to (not including) `end`.
    fn vectors_up_to(&mut self, end: usize) {
        let network = self.network;
        let mut k = self.vectors.len();
        while k < end {
            // A mutual recurrence (an LSTM's gates, cell and state) runs one step at a time:
            // row t of each of its vectors in order, each reading the rows filled so far.
            if let Some(group) = network.recurrence_of(k) {
                for u in group.clone() {
                    self.vectors.push(vec![0.0; network.vectors[u].size]);
                }
                for step in 0..network.vectors[k].shape.dims()[0] {
                    for u in group.clone() {
                        self.step = Some(step);
                        let row = self.expr(&network.vectors[u].expr);
                        let n = row.len();
                        self.vectors[u][step * n..(step + 1) * n].copy_from_slice(&row);
                    }
                }
                k = group.end;
                continue;
            }
            let v = &network.vectors[k];
            // An index-notation definition may read itself (a recurrence): it sees zeros
            // until its rows are filled in. Anything else sees only the vectors before it.
            let indexed = matches!(v.expr.kind, TExprKind::IndexDef(..));
            if indexed {
                self.vectors.push(vec![0.0; v.size]);
                self.defining = Some(k);
            }
            let value = self.expr(&v.expr);
            if indexed {
                self.defining = None;
                self.vectors.pop();
            }
            let value = if value.len() == 1 {
                vec![value[0]; v.size]
            } else {
                value
            };
            self.vectors.push(value);
            k += 1;
        }
    }

    /// `grad(S, v)` by its own numbers: a five-point central difference in each element of
    /// `v`, recomputing every named vector after `v` (everything before it held fixed). It
    /// never looks at the IR, so it checks the inner sweep independently.
    fn grad(&mut self, of: &TExpr, wrt: Symbol) -> Vec<f64> {
        let current = self.vectors.len();
        let n = self.network.shape_of(wrt).len();
        (0..n)
            .map(|j| {
                let base = match wrt {
                    Symbol::Input(i) => self.sample.inputs[i][j],
                    Symbol::Vector(k) => self.vectors[k][j],
                    _ => panic!("grad with respect to {wrt:?}"),
                };
                let h = 1e-3 * base.abs().max(1.0);
                let mut f = |d: f64| self.perturbed(of, wrt, j, base + d, current);
                let (p2, p1, m1, m2) = (f(2.0 * h), f(h), f(-h), f(-2.0 * h));
                (-p2 + 8.0 * p1 - 8.0 * m1 + m2) / (12.0 * h)
            })
            .collect()
    }

    /// The value of `of` with element `j` of `wrt` set to `value`.
    fn perturbed(&mut self, of: &TExpr, wrt: Symbol, j: usize, value: f64, current: usize) -> f64 {
        let mut sample = self.sample.clone();
        let mut vectors = self.vectors.clone();
        let start = match wrt {
            Symbol::Input(i) => {
                sample.inputs[i][j] = value;
                0
            }
            Symbol::Vector(k) => {
                vectors[k][j] = value;
                k + 1
            }
            _ => panic!("grad with respect to {wrt:?}"),
        };
        vectors.truncate(start);
        let mut inner = Reference::new(self.model, self.network, self.params, &sample);
        inner.vectors = vectors;
        inner.vectors_up_to(current);
        let result = inner.expr(of)[0];
        self.near_kink |= inner.near_kink;
        result
    }

    /// The values of named vector `index` after [`Reference::loss`].
    pub fn vector(&self, index: usize) -> &[f64] {
        &self.vectors[index]
    }

    fn symbol(&self, symbol: Symbol) -> Vec<f64> {
        match symbol {
            Symbol::Input(i) => self.sample.inputs[i].clone(),
            Symbol::Target(i) => self.sample.targets[i].clone(),
            Symbol::Param(i) => self.params[i].clone(),
            Symbol::Vector(i) => self.vectors[i].clone(),
            Symbol::Loss => vec![f64::NAN],
        }
    }

    fn expr(&mut self, e: &TExpr) -> Vec<f64> {
        match &e.kind {
            TExprKind::Const(v) => vec![*v],
            TExprKind::Symbol(s) => self.symbol(*s),
            TExprKind::Element(s, idx) => {
                let values = self.symbol(*s);
                let at = |t: &IndexTerm| -> i64 {
                    match t {
                        IndexTerm::Const(i) => *i as i64,
                        IndexTerm::Var(v) => self.index_values[*v] as i64,
                        IndexTerm::Affine(terms, offset) => {
                            terms
                                .iter()
                                .map(|&(v, c)| c * self.index_values[v] as i64)
                                .sum::<i64>()
                                + offset
                        }
                    }
                };
                // Row-major, written out: each axis's index times the sizes of the axes after
                // it. Fewer indices than axes read the whole rest (a row); an index outside
                // its axis (a recurrence's `h[t - 1]` at t = 0) reads zeros.
                let sizes = self.network.shape_of(*s).dims();
                if idx.is_empty() {
                    return vec![values[0]];
                }
                assert!(idx.len() <= sizes.len(), "at most one index per axis");
                let rest: usize = sizes[idx.len()..].iter().product();
                let mut start = 0;
                for (axis, term) in idx.iter().enumerate() {
                    let i = at(term);
                    if i < 0 || i as usize >= sizes[axis] {
                        return vec![0.0; rest];
                    }
                    let stride: usize = sizes[axis + 1..].iter().product();
                    start += i as usize * stride;
                }
                values[start..start + rest].to_vec()
            }
            TExprKind::Neg(a) => self.expr(a).into_iter().map(|x| -x).collect(),
            TExprKind::Binary(op, a, b) => {
                let (a, b) = (self.expr(a), self.expr(b));
                let n = a.len().max(b.len());
                (0..n)
                    .map(|i| {
                        let x = if a.len() == 1 { a[0] } else { a[i] };
                        let y = if b.len() == 1 { b[0] } else { b[i] };
                        if *op == ElemOp::Div && y.abs() < 1e-3 {
                            self.near_kink = true;
                        }
                        // maximum and minimum have a kink where their operands meet.
                        if matches!(op, ElemOp::Max | ElemOp::Min) && (x - y).abs() < 1e-3 {
                            self.near_kink = true;
                        }
                        elem(*op, x, y)
                    })
                    .collect()
            }
            TExprKind::Pow(a, k) => self.expr(a).into_iter().map(|x| x.powf(*k)).collect(),
            TExprKind::Builtin(f, a) => {
                let a = self.expr(a);
                a.into_iter().map(|x| self.builtin(*f, x)).collect()
            }
            TExprKind::Call(index, args) => {
                let args: Vec<Vec<f64>> = args.iter().map(|a| self.expr(a)).collect();
                let n = args.iter().map(Vec::len).max().unwrap_or(1);
                (0..n)
                    .map(|i| {
                        let scalars: Vec<f64> = args
                            .iter()
                            .map(|a| if a.len() == 1 { a[0] } else { a[i] })
                            .collect();
                        self.call(&self.model.functions[*index], &scalars)
                    })
                    .collect()
            }
            TExprKind::MatVec(p, v) => {
                let v = self.expr(v);
                let Shape::Matrix(r, c) = self.network.params[*p].shape else {
                    panic!("not a matrix")
                };
                let w = &self.params[*p];
                (0..r)
                    .map(|i| (0..c).map(|j| w[i * c + j] * v[j]).sum())
                    .collect()
            }
            TExprKind::VecMat(v, p) => {
                let v = self.expr(v);
                let Shape::Matrix(r, c) = self.network.params[*p].shape else {
                    panic!("not a matrix")
                };
                let w = &self.params[*p];
                (0..c)
                    .map(|j| (0..r).map(|i| v[i] * w[i * c + j]).sum())
                    .collect()
            }
            TExprKind::Reduce(op, a) => {
                let a = self.expr(a);
                let total: f64 = a.iter().sum();
                vec![match op {
                    Reduction::Sum => total,
                    Reduction::Mean => total / a.len() as f64,
                    Reduction::Max => self.extremum(true, &a),
                    Reduction::Min => self.extremum(false, &a),
                }]
            }
            // The textbook definitions, not the engine's shifted log-sum-exp.
            TExprKind::VectorFn(f, a) => {
                let a = self.expr(a);
                let total: f64 = a.iter().map(|x| x.exp()).sum();
                match f {
                    VectorFn::Softmax => a.iter().map(|x| x.exp() / total).collect(),
                    VectorFn::LogSoftmax => a.iter().map(|x| (x.exp() / total).ln()).collect(),
                    VectorFn::LogSumExp => vec![total.ln()],
                }
            }
            // Index notation: element (i, j, ..) of the definition is its body with the free
            // index variables at i, j, .. (the last fastest); each sum runs its variable over
            // the range typing inferred.
            TExprKind::IndexDef(vars, body) => {
                let saved = (
                    std::mem::replace(
                        &mut self.index_ranges,
                        vars.iter().map(|v| v.range).collect(),
                    ),
                    std::mem::replace(&mut self.index_values, vec![0; vars.len()]),
                );
                let free = vars.iter().take_while(|v| v.free).count();
                let values = if free > 0 {
                    let mut values = Vec::new();
                    // An odometer over the free variables; a body with axes of its own gives a
                    // row each. A recurrence reads the rows computed so far.
                    let recurrent = self.defining.take();
                    // One step of a mutual recurrence: the first index stays at it.
                    let step = self.step.take();
                    if let Some(step) = step {
                        self.index_values[0] = step;
                    }
                    'elements: loop {
                        values.extend(self.expr(body));
                        if let Some(k) = recurrent {
                            self.vectors[k][..values.len()].copy_from_slice(&values);
                        }
                        for axis in (usize::from(step.is_some())..free).rev() {
                            self.index_values[axis] += 1;
                            if self.index_values[axis] < vars[axis].range {
                                continue 'elements;
                            }
                            self.index_values[axis] = 0;
                        }
                        break values;
                    }
                } else {
                    self.expr(body)
                };
                (self.index_ranges, self.index_values) = saved;
                values
            }
            TExprKind::SumOver(var, body) => {
                let mut total = 0.0;
                for value in 0..self.index_ranges[*var] {
                    self.index_values[*var] = value;
                    total += self.expr(body)[0];
                }
                vec![total]
            }
            TExprKind::ExtremumOver(f, var, body) => {
                let mut values = Vec::new();
                for value in 0..self.index_ranges[*var] {
                    self.index_values[*var] = value;
                    values.push(self.expr(body)[0]);
                }
                vec![self.extremum(*f == Pairwise::Maximum, &values)]
            }
            TExprKind::Grad(of, wrt) => self.grad(of, *wrt),
            TExprKind::Delta(..) => panic!("a delta only occurs in claims"),
        }
    }

    /// The largest (or smallest) of `values`, by the textbook definition; a runner-up within
    /// 1e-3 is a kink where finite differences do not apply.
    fn extremum(&mut self, largest: bool, values: &[f64]) -> f64 {
        let key = |x: f64| if largest { x } else { -x };
        let mut sorted: Vec<f64> = values.iter().map(|&x| key(x)).collect();
        sorted.sort_by(|a, b| b.total_cmp(a));
        if sorted.len() > 1 && sorted[0] - sorted[1] < 1e-3 {
            self.near_kink = true;
        }
        key(sorted[0])
    }

    fn builtin(&mut self, f: Builtin, x: f64) -> f64 {
        if matches!(f, Builtin::Relu | Builtin::Abs) && x.abs() < 1e-3 {
            self.near_kink = true;
        }
        // Written from the textbook definitions, not from the engine's stable forms.
        match f {
            Builtin::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            Builtin::Tanh => x.tanh(),
            Builtin::Relu => x.max(0.0),
            Builtin::Linear => x,
            Builtin::Sin => x.sin(),
            Builtin::Cos => x.cos(),
            Builtin::Exp => x.exp(),
            Builtin::Log => x.ln(),
            Builtin::Softplus => (1.0 + x.exp()).ln(),
            Builtin::Sqrt => x.sqrt(),
            Builtin::Abs => x.abs(),
            Builtin::Erf => reference_erf(x),
            Builtin::Step => f64::from(u8::from(x > 0.0)),
            Builtin::Sign => x.signum(),
            Builtin::LogSigmoid => (1.0 / (1.0 + (-x).exp())).ln(),
        }
    }

    fn call(&mut self, f: &Function, args: &[f64]) -> f64 {
        let body = f.body.clone();
        self.fn_expr(&body, args)
    }

    fn fn_expr(&mut self, e: &FnExpr, args: &[f64]) -> f64 {
        match e {
            FnExpr::Const(v) => *v,
            FnExpr::Arg(i) => args[*i],
            FnExpr::Neg(a) => -self.fn_expr(a, args),
            FnExpr::Binary(op, a, b) => {
                let (x, y) = (self.fn_expr(a, args), self.fn_expr(b, args));
                if matches!(op, ElemOp::Max | ElemOp::Min) && (x - y).abs() < 1e-3 {
                    self.near_kink = true;
                }
                elem(*op, x, y)
            }
            FnExpr::Pow(a, k) => self.fn_expr(a, args).powf(*k),
            FnExpr::Builtin(f, a) => {
                let x = self.fn_expr(a, args);
                self.builtin(*f, x)
            }
            FnExpr::Call(i, call_args) => {
                let values: Vec<f64> = call_args.iter().map(|a| self.fn_expr(a, args)).collect();
                self.call(&self.model.functions[*i], &values)
            }
        }
    }
}

fn elem(op: ElemOp, x: f64, y: f64) -> f64 {
    match op {
        ElemOp::Add => x + y,
        ElemOp::Sub => x - y,
        ElemOp::Mul => x * y,
        ElemOp::Div => x / y,
        // The textbook definitions; at a tie both sides are the same number.
        ElemOp::Max => x.max(y),
        ElemOp::Min => x.min(y),
    }
}

/// erf(x) by its Maclaurin series `2/sqrt(pi) sum_n (-1)^n x^(2n+1) / (n! (2n+1))`, summed
/// until the terms stop mattering, and for |x| > 3 by the asymptotic continued fraction of
/// erfc; written here from the definition, independent of the `libm` the engine uses.
pub fn reference_erf(x: f64) -> f64 {
    let sign = x.signum();
    let a = x.abs();
    if a > 3.0 {
        // erfc(a) = e^{-a^2} / sqrt(pi) * 1 / (a + 1/2 / (a + 1 / (a + 3/2 / (a + ...)))).
        let mut fraction = a;
        for k in (1..60).rev() {
            fraction = a + (k as f64 / 2.0) / fraction;
        }
        let erfc = (-a * a).exp() / std::f64::consts::PI.sqrt() / fraction;
        return sign * (1.0 - erfc);
    }
    let mut term = a;
    let mut total = a;
    let mut n = 0.0;
    while term.abs() > 1e-18 * total.abs() {
        n += 1.0;
        term *= -a * a / n;
        total += term / (2.0 * n + 1.0);
    }
    sign * 2.0 / std::f64::consts::PI.sqrt() * total
}
