//! Lowers the checked model to forward statements, one per named vector and one for the loss,
//! without unrolling: `W @ x` is one sum over an index, not one node per element.

use chainrule_grammar::Reduction;

use super::{Affine, Bound, IndexVar, Leaf, Program, Statement, StepKind, Tensor, dims};
use crate::builtin::{Builtin, Pairwise, VectorFn};
use crate::ir::NodeId;
use crate::model::{Function, IndexTerm, Network, Shape, Symbol, TExpr, TExprKind};

mod flatten;

/// A construct the tensor level does not cover yet; the scalar derivation still does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported(pub &'static str);

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} has no tensor-level form yet", self.0)
    }
}

/// The forward statements of a network (deltas and gradients come from `derive`). With
/// `named_calls`, a user function stays a call by name (for printing); without, its body is
/// written in place (for code).
pub fn lower(
    network: &Network,
    functions: &[Function],
    named_calls: bool,
) -> Result<Program, Unsupported> {
    let mut program = Program::default();
    if named_calls {
        program.functions = super::functions::derive_all(functions);
    }
    let mut lowering = Lowering {
        network,
        functions,
        program: &mut program,
        defined: vec![None; network.vectors.len()],
        named_calls,
        env: Vec::new(),
        env_ranges: Vec::new(),
        splits: Vec::new(),
    };
    let mut forward = Vec::new();
    for (v, vector) in network.vectors.iter().enumerate() {
        // One own index per axis; a named scalar (`mu = mean(x)`) has none.
        let shape = vector.shape.dims();
        let own: Vec<IndexVar> = shape.iter().map(|_| lowering.program.fresh()).collect();
        let at: Vec<Affine> = own.iter().map(|&k| Affine::var(k)).collect();
        // In index notation the body is one element, with the definition's names in scope.
        let (scope, e) = match &vector.expr.kind {
            TExprKind::IndexDef(vars, body) => (Some(vars.as_slice()), &**body),
            _ => (None, &vector.expr),
        };
        // The left-hand names take the leading indices; a body with axes of its own
        // (`h[t][4] = tanh(...)`) is read at the rest.
        let free = scope.map_or(0, |vars| vars.iter().take_while(|v| v.free).count());
        if free > shape.len() {
            let reshape = lowering.reshape(v, scope.unwrap_or_default(), e)?;
            forward.push(reshape);
            continue;
        }
        // A recurrence keeps its function and argument in one statement: the argument's read
        // of the previous step must reach the vector's own delta (`derive` scatters a
        // statement's own reads, and those of its mutual recurrence, before it combines its
        // delta).
        let recurrent = e.reads(Symbol::Vector(v)) || network.recurrence_of(v).is_some();
        let formula = match inner_argument(e, scope.is_some()).filter(|_| !recurrent) {
            Some((applied, argument)) => {
                // `v = f(argument)`: the argument is a statement of its own, read by name.
                let inner_own: Vec<IndexVar> =
                    shape.iter().map(|_| lowering.program.fresh()).collect();
                let inner_at: Vec<Affine> = inner_own.iter().map(|&j| Affine::var(j)).collect();
                lowering.enter(scope, &inner_at);
                let inner = lowering.expr(argument, &inner_at[free..])?;
                forward.push(Statement {
                    defines: Tensor::Inner(v),
                    shape: shape.clone(),
                    indices: inner_own,
                    formula: inner,
                    kind: kind_of(argument),
                    verified: false,
                    reshape: None,
                });
                let read = lowering.program.read(Tensor::Inner(v), at.clone());
                match applied {
                    Applied::Builtin(f) => lowering.program.graph.func(f, read),
                    Applied::Call(index) => lowering.call(index, vec![read])?,
                }
            }
            None => {
                lowering.enter(scope, &at);
                lowering.expr(e, &at[free..])?
            }
        };
        lowering.enter(None, &[]);
        forward.push(Statement {
            defines: Tensor::Value(Symbol::Vector(v)),
            shape,
            indices: own.clone(),
            formula,
            kind: kind_of(&vector.expr),
            verified: false,
            reshape: None,
        });
        if let [k] = own[..] {
            lowering.defined[v] = Some((k, formula));
        }
    }
    let formula = lowering.expr(&network.loss.expr, &[])?;
    forward.push(Statement {
        defines: Tensor::Value(Symbol::Loss),
        shape: Vec::new(),
        indices: Vec::new(),
        formula,
        kind: kind_of(&network.loss.expr),
        verified: false,
        reshape: None,
    });
    program.forward = forward;
    Ok(program)
}

/// `f(argument)` when a vector is an element-wise function of a compound argument, as
/// the scalar graph sees it (a plain read or a constant is no argument of its own). In index
/// notation (`indexed`) every value is one element.
fn inner_argument(e: &TExpr, indexed: bool) -> Option<(Applied, &TExpr)> {
    let compound = |a: &TExpr| {
        (indexed || a.shape != Shape::Scalar)
            && !matches!(
                a.kind,
                TExprKind::Symbol(_) | TExprKind::Element(..) | TExprKind::Const(_)
            )
    };
    match &e.kind {
        TExprKind::Builtin(f, a) if *f != Builtin::Linear && compound(a) => {
            Some((Applied::Builtin(*f), a))
        }
        TExprKind::Call(index, args) if args.len() == 1 && compound(&args[0]) => {
            Some((Applied::Call(*index), &args[0]))
        }
        _ => None,
    }
}

/// What a vector applies to its argument element by element.
#[derive(Clone, Copy)]
enum Applied {
    Builtin(Builtin),
    Call(usize),
}

/// The kind of step an expression is: a product or a reduction anywhere in it decides.
fn kind_of(e: &TExpr) -> StepKind {
    match &e.kind {
        TExprKind::MatVec(..) | TExprKind::VecMat(..) => StepKind::Contraction,
        TExprKind::Reduce(..) | TExprKind::VectorFn(..) => StepKind::Reduction,
        TExprKind::SumOver(..) => StepKind::Contraction,
        TExprKind::ExtremumOver(..) => StepKind::Reduction,
        TExprKind::Neg(a)
        | TExprKind::Pow(a, _)
        | TExprKind::Builtin(_, a)
        | TExprKind::IndexDef(_, a) => kind_of(a),
        TExprKind::Binary(_, a, b) => match (kind_of(a), kind_of(b)) {
            (StepKind::Contraction, _) | (_, StepKind::Contraction) => StepKind::Contraction,
            (StepKind::Reduction, _) | (_, StepKind::Reduction) => StepKind::Reduction,
            _ => StepKind::Map,
        },
        TExprKind::Call(_, args) => args
            .iter()
            .map(kind_of)
            .find(|k| *k != StepKind::Map)
            .unwrap_or(StepKind::Map),
        _ => StepKind::Map,
    }
}

struct Lowering<'a> {
    network: &'a Network,
    functions: &'a [Function],
    program: &'a mut Program,
    /// Each vector lowered so far: its index and formula, so that `log` of a read sees
    /// through to a sigmoid or softmax definition as the scalar graph does.
    defined: Vec<Option<(crate::tensor::IndexVar, NodeId)>>,
    /// Whether user functions stay calls by name.
    named_calls: bool,
    /// In an index-notation definition, what each of its index variables stands for here
    /// (the statement's index, or a sum's bound variable while inside that sum).
    env: Vec<Option<Affine>>,
    /// The range of each of those variables.
    env_ranges: Vec<usize>,
    /// The flat indices of the products' operands being lowered, split over the axes of the
    /// value they flatten (innermost last).
    splits: Vec<flatten::Split>,
}

impl Lowering<'_> {
    /// Puts a definition's index variables in scope: its free ones (the left-hand side's,
    /// in order) at `at`, the ones its reductions bind unset until they do.
    fn enter(&mut self, vars: Option<&[crate::model::IndexVar]>, at: &[Affine]) {
        let vars = vars.unwrap_or_default();
        self.env = vec![None; vars.len()];
        for (slot, at) in self
            .env
            .iter_mut()
            .zip(vars.iter().take_while(|v| v.free).zip(at))
        {
            *slot = Some(at.1.clone());
        }
        self.env_ranges = vars.iter().map(|v| v.range).collect();
    }

    /// One fresh summed variable per axis of the given sizes.
    fn bounds(&mut self, sizes: &[usize]) -> Vec<Bound> {
        sizes
            .iter()
            .map(|&size| Bound {
                var: self.program.fresh(),
                size,
            })
            .collect()
    }

    /// The least and greatest value an index takes over the ranges of the variables in it.
    fn term_bounds(&self, term: &IndexTerm) -> (i64, i64) {
        let range = |n: usize| self.env_ranges.get(n).copied().unwrap_or(1).max(1) as i64;
        match term {
            IndexTerm::Const(c) => (*c as i64, *c as i64),
            IndexTerm::Var(n) => (0, range(*n) - 1),
            IndexTerm::Affine(parts, offset) => {
                parts.iter().fold((*offset, *offset), |(lo, hi), &(n, c)| {
                    let top = c * (range(n) - 1);
                    (lo + top.min(0), hi + top.max(0))
                })
            }
        }
    }

    /// An index of an index-notation read as an affine formula of the statement's variables.
    fn index(&self, term: &IndexTerm) -> Result<Affine, Unsupported> {
        let var = |n: usize| {
            self.env
                .get(n)
                .cloned()
                .flatten()
                .ok_or(Unsupported("an index variable outside a claim"))
        };
        Ok(match term {
            IndexTerm::Const(c) => Affine::constant(*c as i64),
            IndexTerm::Var(n) => var(*n)?,
            IndexTerm::Affine(terms, offset) => {
                let mut sum = Affine::constant(*offset);
                for &(n, c) in terms {
                    sum = sum.plus_scaled(&var(n)?, c);
                }
                sum
            }
        })
    }

    /// The formula of element `at` of `e` (`at` has one index per axis of `e`'s value; a
    /// scalar ignores it, which is how a scalar broadcasts).
    fn expr(&mut self, e: &TExpr, at: &[Affine]) -> Result<NodeId, Unsupported> {
        let at: &[Affine] = if e.shape == Shape::Scalar { &[] } else { at };
        Ok(match &e.kind {
            TExprKind::Const(v) => self.program.graph.constant_node(*v),
            TExprKind::Symbol(symbol) => {
                let axes = dims(self.network, *symbol).len();
                let indices: Vec<Affine> = at.iter().take(axes).cloned().collect();
                let read = self.program.read(Tensor::Value(*symbol), indices.clone());
                self.define(*symbol, read, &indices);
                read
            }
            TExprKind::Element(symbol, terms) => {
                let mut indices: Vec<Affine> = terms
                    .iter()
                    .map(|i| self.index(i))
                    .collect::<Result<_, _>>()?;
                // An index that can leave its axis reads zero there, as the scalar graph
                // does: a recurrence's `h[t - 1]` at t = 0, `pad`'s border. Its bracket
                // (`[0 <= t - 1]`) guards the read.
                let sizes = dims(self.network, *symbol);
                let guards: Vec<(Affine, i64)> = terms
                    .iter()
                    .zip(&indices)
                    .zip(&sizes)
                    .filter(|((term, _), size)| {
                        let (low, high) = self.term_bounds(term);
                        low < 0 || high >= **size as i64
                    })
                    .map(|((_, affine), &size)| (affine.clone(), size as i64))
                    .collect();
                // Fewer indices than axes: the element `at` of the rest (`x[t]`'s element k).
                indices.extend(at.iter().cloned());
                let mut read = self.program.read(Tensor::Value(*symbol), indices);
                for (affine, size) in guards {
                    let guard = self.program.leaf(Leaf::Guard(affine, 0, size));
                    read = self.program.graph.mul(guard, read);
                }
                read
            }
            TExprKind::Neg(a) => {
                let a = self.expr(a, at)?;
                self.program.graph.neg(a)
            }
            TExprKind::Binary(op, a, b) => {
                let (a, b) = (self.expr(a, at)?, self.expr(b, at)?);
                super::functions::elementwise(&mut self.program.graph, *op, a, b)
            }
            TExprKind::Pow(a, k) => {
                let a = self.expr(a, at)?;
                self.program.graph.pow(a, *k)
            }
            TExprKind::Builtin(f, a) => {
                let a = self.expr(a, at)?;
                self.program.graph.func(*f, a)
            }
            TExprKind::VectorFn(f, a) => {
                let j = self.program.fresh();
                let body = self.expr(a, &[Affine::var(j)])?;
                let bound = Bound {
                    var: j,
                    size: a.shape.len(),
                };
                let lse = self.program.leaf(Leaf::LogSumExp(bound, body));
                match f {
                    VectorFn::LogSumExp => lse,
                    VectorFn::LogSoftmax => {
                        let z = self.expr(a, at)?;
                        self.program.graph.sub(z, lse)
                    }
                    VectorFn::Softmax => {
                        let z = self.expr(a, at)?;
                        let shifted = self.program.graph.sub(z, lse);
                        self.program.graph.func(Builtin::Exp, shifted)
                    }
                }
            }
            TExprKind::Call(index, args) => {
                let args = args
                    .iter()
                    .map(|a| self.expr(a, at))
                    .collect::<Result<Vec<_>, _>>()?;
                self.call(*index, args)?
            }
            TExprKind::MatVec(p, v) => {
                let Shape::Matrix(_, cols) = self.network.params[*p].shape else {
                    return Err(Unsupported(
                        "a product with a parameter that is not a matrix",
                    ));
                };
                let (bounds, split) = self.contracted(v, cols);
                let row = at.first().cloned().unwrap_or_default();
                let w = self.program.read(
                    Tensor::Value(Symbol::Param(*p)),
                    vec![row, split.flat.clone()],
                );
                let v = self.operand(v, split)?;
                let body = self.program.graph.mul(w, v);
                self.sum(bounds, body)
            }
            TExprKind::VecMat(v, p) => {
                let Shape::Matrix(rows, _) = self.network.params[*p].shape else {
                    return Err(Unsupported(
                        "a product with a parameter that is not a matrix",
                    ));
                };
                let (bounds, split) = self.contracted(v, rows);
                let column = at.first().cloned().unwrap_or_default();
                let row = split.flat.clone();
                let v = self.operand(v, split)?;
                let w = self
                    .program
                    .read(Tensor::Value(Symbol::Param(*p)), vec![row, column]);
                let body = self.program.graph.mul(v, w);
                self.sum(bounds, body)
            }
            TExprKind::Reduce(op, a) => {
                let sizes = match a.shape {
                    Shape::Scalar => Vec::new(),
                    shape => shape.dims(),
                };
                let bounds = self.bounds(&sizes);
                let indices: Vec<Affine> = bounds.iter().map(|b| Affine::var(b.var)).collect();
                let body = self.expr(a, &indices)?;
                match op {
                    Reduction::Sum => self.sum(bounds, body),
                    Reduction::Mean => {
                        let total = self.sum(bounds, body);
                        let n = self.program.graph.constant_node(a.shape.len() as f64);
                        self.program.graph.div(total, n)
                    }
                    // One fold per axis, the last innermost: the row-major first extremum.
                    Reduction::Max => self.extremum(Pairwise::Maximum, &bounds, body),
                    Reduction::Min => self.extremum(Pairwise::Minimum, &bounds, body),
                }
            }
            TExprKind::ExtremumOver(f, n, body) => {
                let (bound, body) = self.over(*n, body)?;
                self.extremum(*f, &[bound], body)
            }
            TExprKind::SumOver(n, body) => {
                let (bound, body) = self.over(*n, body)?;
                self.sum(vec![bound], body)
            }
            TExprKind::IndexDef(vars, body) => {
                // The free variables take the leading indices of `at`; a body with axes of
                // its own (`h[t][4] = tanh(...)`) is read at the rest.
                let free = vars.iter().take_while(|v| v.free).count();
                let sizes: Vec<usize> = vars.iter().take(free).map(|v| v.range).collect();
                let split = (free > at.len()).then(|| self.unflattened(at, &sizes));
                let at: &[Affine] = match &split {
                    None => at,
                    Some(Some(axes)) => axes,
                    // `flatten(p)` read at one flat index, which no affine map of p's axes
                    // is: covered only inside a product's operand (`contracted`).
                    Some(None) => {
                        return Err(Unsupported(
                            "a `flatten` outside a product's operand such as `W @ flatten(x)` or `W @ tanh(flatten(x))` (one flat index over several axes; `flat = flatten(x)` on a line of its own is covered)",
                        ));
                    }
                };
                let (env, ranges) = (self.env.clone(), self.env_ranges.clone());
                self.enter(Some(vars), at);
                let formula = self.expr(body, at.get(free..).unwrap_or(&[]));
                (self.env, self.env_ranges) = (env, ranges);
                formula?
            }
            TExprKind::Grad(..) => return Err(Unsupported("grad(S, v)")),
            TExprKind::Delta(..) => return Err(Unsupported("a claim's `dL/dNAME`")),
        })
    }

    /// Records what a read of a vector holds where `log` could rewrite it (a sigmoid or an
    /// exponential), as the scalar graph's `define` does.
    fn define(&mut self, symbol: Symbol, read: NodeId, indices: &[Affine]) {
        let (Symbol::Vector(v), [at]) = (symbol, indices) else {
            return;
        };
        let Some((k, formula)) = self.defined.get(v).copied().flatten() else {
            return;
        };
        if !matches!(
            self.program.graph.node(formula),
            crate::ir::Node::Func(Builtin::Sigmoid | Builtin::Exp, _)
        ) {
            return;
        }
        let value = self.program.substitute(formula, k, at);
        if let crate::ir::Node::Var(var) = self.program.graph.node(read) {
            let var = *var;
            self.program.graph.define(var, value);
        }
    }

    /// A user function applied to argument formulas: by name, or its body in place.
    fn call(&mut self, index: usize, args: Vec<NodeId>) -> Result<NodeId, Unsupported> {
        let function = self
            .functions
            .get(index)
            .ok_or(Unsupported("a call of an unknown function"))?;
        if self.named_calls {
            return Ok(self.program.leaf(Leaf::Call(index, args)));
        }
        Ok(super::functions::body(
            &mut self.program.graph,
            self.functions,
            &function.body,
            &args,
        ))
    }

    /// The body of a reduction over index variable `n` of index notation, with `n` bound to
    /// a fresh variable over its range.
    fn over(&mut self, n: usize, body: &TExpr) -> Result<(Bound, NodeId), Unsupported> {
        let Some(&size) = self.env_ranges.get(n) else {
            return Err(Unsupported("a reduction over a claim's index"));
        };
        let j = self.program.fresh();
        self.env[n] = Some(Affine::var(j));
        let body = self.expr(body, &[]);
        self.env[n] = None;
        Ok((Bound { var: j, size }, body?))
    }

    /// `max` or `min` of `body` over `bounds`, nested with the first bound outermost; no
    /// bounds (a scalar) is the body itself.
    fn extremum(&mut self, f: Pairwise, bounds: &[Bound], body: NodeId) -> NodeId {
        bounds.iter().rev().fold(body, |inner, &bound| {
            self.program.leaf(Leaf::Extremum(f, bound, inner))
        })
    }

    /// `sum over bounds of body`; an empty set of bounds is the body itself.
    fn sum(&mut self, bounds: Vec<Bound>, body: NodeId) -> NodeId {
        if bounds.is_empty() {
            return body;
        }
        self.program.leaf(Leaf::Sum(bounds, body))
    }
}
