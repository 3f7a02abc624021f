//! Size limits on a whole network, checked before anything is unrolled.
//!
//! Every later stage works per scalar: the layout numbers every element, lowering builds one
//! node per element and per operation (user functions inlined, `sum(k, ...)` expanded), and
//! the LaTeX and explain printers walk every element. A file of a few lines can ask for
//! 10^12 of them (`z[1000000] = W @ x` with `x[1000000]`), so the checker counts them first,
//! in saturating arithmetic, and refuses a network past the limits at its largest statement.

use chainrule_grammar::{Diagnostic, Reduction, Span};

use crate::model::{FnExpr, Function, IndexVar, Network, Shape, Symbol, TExpr, TExprKind};

/// Most named scalars (input, target, parameter and vector elements) one network may have:
/// room for a network of 10^6 weights (784-1024-200-10 has 1,009,626). Derivation, `eval`,
/// `latex --form general` and the Rust emitter are linear in them (measured: 784-256-256-10
/// in about 4 s and 0.4 GB, 10^6 weights in about 15 s and 1.5 GB, release build); the
/// per-element printers (the delta and chain forms, `explain`) print one line per element and
/// are meant for smaller networks.
pub const MAX_SCALARS: u64 = 2_000_000;

/// Most scalar operations one network may unroll to: every element of every operation of its
/// vectors, loss and claims, with user functions inlined and `sum(k, ...)` expanded. A
/// 10^6-weight network needs about 2 * 10^6 (a multiply and an add per weight).
pub const MAX_OPERATIONS: u64 = 4_000_000;

/// Most operations deep one network's values may nest: the longest chain of scalar operations
/// from an input to the loss, through the named vectors on the way and inside inlined user
/// functions. Derivatives and closed forms are nested about as deep and are printed by
/// recursion, so this keeps every stage within an ordinary thread's stack.
pub const MAX_DEPTH: u64 = 5_000;

/// The operations one call of a user function unrolls to, and how deep they nest.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct FnSize {
    operations: u64,
    depth: u64,
}

/// The size of one call of each user function, in file order (functions only call earlier
/// ones, so one pass suffices).
pub(super) fn function_sizes(functions: &[Function]) -> Vec<FnSize> {
    let mut sizes: Vec<FnSize> = Vec::with_capacity(functions.len());
    for f in functions {
        let size = fn_size(&f.body, &sizes);
        sizes.push(size);
    }
    sizes
}

fn fn_size(e: &FnExpr, sizes: &[FnSize]) -> FnSize {
    let node = |children: &[FnSize], own: FnSize| FnSize {
        operations: children
            .iter()
            .fold(own.operations, |t, c| t.saturating_add(c.operations)),
        depth: children
            .iter()
            .fold(0, |d, c| d.max(c.depth))
            .saturating_add(own.depth),
    };
    let one = FnSize {
        operations: 1,
        depth: 1,
    };
    match e {
        FnExpr::Const(_) | FnExpr::Arg(_) => FnSize {
            operations: 1,
            depth: 0,
        },
        FnExpr::Neg(a) | FnExpr::Pow(a, _) | FnExpr::Builtin(_, a) => {
            node(&[fn_size(a, sizes)], one)
        }
        FnExpr::Binary(_, a, b) => node(&[fn_size(a, sizes), fn_size(b, sizes)], one),
        FnExpr::Call(index, args) => {
            let args: Vec<FnSize> = args.iter().map(|a| fn_size(a, sizes)).collect();
            node(&args, sizes.get(*index).copied().unwrap_or(one))
        }
    }
}

/// The size of a typed expression.
#[derive(Clone, Copy, Debug)]
struct Size {
    /// Elements of its value.
    len: u64,
    /// Scalar operations it unrolls to.
    operations: u64,
    /// Operations deep, counting through the vectors it uses.
    depth: u64,
}

/// Measures typed expressions.
struct Counter<'a> {
    network: &'a Network,
    functions: &'a [FnSize],
    /// The depth of every vector measured so far, in evaluation order.
    vector_depths: Vec<u64>,
    /// The operations of every vector's own definition measured so far.
    vector_ops: Vec<u64>,
    /// Every vector measured so far: the vectors its value depends on, sorted.
    ancestors: Vec<Vec<usize>>,
    /// The index variables of the claim being measured.
    vars: &'a [IndexVar],
}

impl Counter<'_> {
    fn leaf_depth(&self, symbol: Symbol) -> u64 {
        match symbol {
            Symbol::Vector(v) => self.vector_depths.get(v).copied().unwrap_or(0),
            _ => 0,
        }
    }

    fn expr(&self, e: &TExpr) -> Size {
        self.expr_in(e, self.vars)
    }

    /// The size of `e` with `vars` the index variables in scope (a claim's, or an
    /// index-notation definition's inside it).
    fn expr_in(&self, e: &TExpr, vars: &[IndexVar]) -> Size {
        let len = |shape: Shape| shape.len() as u64;
        // An operation applied element-wise over `n` elements, one level above `children`.
        let op = |n: u64, children: &[Size]| Size {
            len: n,
            operations: children
                .iter()
                .fold(n, |t, c| t.saturating_add(c.operations)),
            depth: children
                .iter()
                .fold(0, |d, c| d.max(c.depth))
                .saturating_add(1),
        };
        match &e.kind {
            TExprKind::Const(_) => Size {
                len: 1,
                operations: 1,
                depth: 0,
            },
            TExprKind::Element(symbol, _) | TExprKind::Delta(symbol, _) => Size {
                len: 1,
                operations: 1,
                depth: self.leaf_depth(*symbol),
            },
            TExprKind::Symbol(symbol) => {
                let n = len(self.network.shape_of(*symbol));
                Size {
                    len: n,
                    operations: n,
                    depth: self.leaf_depth(*symbol),
                }
            }
            TExprKind::Neg(a) | TExprKind::Pow(a, _) | TExprKind::Builtin(_, a) => {
                let a = self.expr_in(a, vars);
                op(a.len, &[a])
            }
            TExprKind::Binary(_, a, b) => {
                let (a, b) = (self.expr_in(a, vars), self.expr_in(b, vars));
                op(a.len.max(b.len), &[a, b])
            }
            TExprKind::Call(index, args) => {
                let args: Vec<Size> = args.iter().map(|a| self.expr_in(a, vars)).collect();
                let n = args.iter().fold(1, |n, a| n.max(a.len));
                let body = self.functions.get(*index).copied().unwrap_or_default();
                let mut size = op(n, &args);
                size.operations = size
                    .operations
                    .saturating_add(n.saturating_mul(body.operations));
                size.depth = size.depth.saturating_add(body.depth);
                size
            }
            TExprKind::MatVec(param, v) | TExprKind::VecMat(v, param) => {
                let v = self.expr_in(v, vars);
                let shape = self
                    .network
                    .params
                    .get(*param)
                    .map_or(Shape::Scalar, |p| p.shape);
                let n = match (shape, &e.kind) {
                    (Shape::Matrix(rows, _), TExprKind::MatVec(..)) => rows,
                    (Shape::Matrix(_, cols), _) => cols,
                    _ => 1,
                } as u64;
                // One product per weight, then one sum per element.
                Size {
                    len: n,
                    operations: v.operations.saturating_add(len(shape).saturating_mul(2)),
                    depth: v.depth.saturating_add(2),
                }
            }
            TExprKind::VectorFn(f, a) => {
                // One log-sum-exp over the elements, then one or two operations per element.
                let a = self.expr_in(a, vars);
                let per_element = match f {
                    crate::builtin::VectorFn::LogSumExp => 0,
                    crate::builtin::VectorFn::LogSoftmax => 1,
                    crate::builtin::VectorFn::Softmax => 2,
                };
                let len = if *f == crate::builtin::VectorFn::LogSumExp {
                    1
                } else {
                    a.len
                };
                Size {
                    len,
                    operations: a
                        .operations
                        .saturating_add(a.len.saturating_mul(2 + per_element)),
                    depth: a.depth.saturating_add(3),
                }
            }
            TExprKind::Reduce(reduction, a) => {
                let a = self.expr_in(a, vars);
                let mut size = op(1, &[a]);
                size.operations = size.operations.saturating_add(a.len);
                // A sum is one node; `max` and `min` fold pairwise, one level per element.
                let extra = match reduction {
                    Reduction::Sum => 0,
                    Reduction::Mean => 1,
                    Reduction::Max | Reduction::Min => a.len,
                };
                size.depth = size.depth.saturating_add(extra);
                size
            }
            TExprKind::IndexDef(own, body) => {
                let body = self.expr_in(body, own);
                if !own.first().is_some_and(|v| v.free) {
                    return body;
                }
                let n = own[0].range as u64;
                Size {
                    len: n,
                    operations: n.saturating_mul(body.operations),
                    depth: body.depth,
                }
            }
            TExprKind::SumOver(var, body) | TExprKind::ExtremumOver(_, var, body) => {
                let body = self.expr_in(body, vars);
                let range = vars.get(*var).map_or(1, |v| v.range as u64);
                // A sum is one node; `max` and `min` fold pairwise, one level per value.
                let levels = match e.kind {
                    TExprKind::SumOver(..) => 1,
                    _ => range,
                };
                Size {
                    len: 1,
                    operations: range.saturating_mul(body.operations).saturating_add(range),
                    depth: body.depth.saturating_add(levels),
                }
            }
            // The inner sweep walks back from S through every definition S depends on (a
            // vector holding an earlier `grad` included, which is how nested `grad`s grow):
            // about a partial product per operation on the way, and a derivative nests about
            // twice as deep as its value.
            TExprKind::Grad(of, v) => {
                let s = self.expr_in(of, vars);
                let swept = self
                    .reach(of)
                    .iter()
                    .fold(0u64, |t, &u| t.saturating_add(self.vector_ops[u]));
                let n = len(self.network.shape_of(*v));
                Size {
                    len: n,
                    operations: s
                        .operations
                        .saturating_add(swept)
                        .saturating_mul(4)
                        .saturating_add(n.saturating_mul(s.depth.saturating_add(1))),
                    depth: s.depth.saturating_mul(2).saturating_add(2),
                }
            }
        }
    }
}

impl Counter<'_> {
    /// The vectors an expression's value depends on, directly or through other vectors.
    fn reach(&self, e: &TExpr) -> Vec<usize> {
        let mut direct = Vec::new();
        vectors_in(e, &mut direct);
        let mut all: Vec<usize> = direct.clone();
        for v in direct {
            all.extend(self.ancestors.get(v).into_iter().flatten().copied());
        }
        all.sort_unstable();
        all.dedup();
        all
    }
}

/// The vectors an expression names (as a whole or by element).
fn vectors_in(e: &TExpr, out: &mut Vec<usize>) {
    match &e.kind {
        TExprKind::Symbol(Symbol::Vector(v)) | TExprKind::Element(Symbol::Vector(v), _) => {
            out.push(*v)
        }
        TExprKind::Grad(_, Symbol::Vector(v)) => out.push(*v),
        _ => {}
    }
    e.for_each_child(|c| vectors_in(c, out));
}

/// One statement's share of a network's size.
struct Part {
    span: Span,
    what: String,
    scalars: u64,
    operations: u64,
}

/// Refuses a network past [`MAX_SCALARS`], [`MAX_OPERATIONS`] or [`MAX_DEPTH`], with one error
/// at the statement that contributes most (or, for depth, the first one too deep).
pub(super) fn check_size(network: &Network, functions: &[FnSize], errors: &mut Vec<Diagnostic>) {
    let mut parts: Vec<Part> = Vec::new();
    for (kind, vars) in [("input", &network.inputs), ("target", &network.targets)] {
        for v in vars {
            parts.push(Part {
                span: v.span,
                what: format!("{kind} `{}`", v.name),
                scalars: v.size as u64,
                operations: v.size as u64,
            });
        }
    }
    for p in &network.params {
        let n = p.shape.len() as u64;
        parts.push(Part {
            span: p.span,
            what: format!("parameter `{}`", p.name),
            scalars: n,
            operations: n,
        });
    }
    let mut counter = Counter {
        network,
        functions,
        vector_depths: Vec::with_capacity(network.vectors.len()),
        vector_ops: Vec::with_capacity(network.vectors.len()),
        ancestors: Vec::with_capacity(network.vectors.len()),
        vars: &[],
    };
    let mut too_deep: Option<(Span, String, u64)> = None;
    let mut deep = |span: Span, what: String, depth: u64| {
        if depth > MAX_DEPTH && too_deep.is_none() {
            too_deep = Some((span, what, depth));
        }
    };
    for v in &network.vectors {
        let size = counter.expr(&v.expr);
        deep(v.span, format!("`{}`", v.name), size.depth);
        counter.vector_depths.push(size.depth);
        counter.vector_ops.push(size.operations);
        let reach = counter.reach(&v.expr);
        counter.ancestors.push(reach);
        // Each element is a value and a delta.
        let n = v.size as u64;
        parts.push(Part {
            span: v.span,
            what: format!("`{}`", v.name),
            scalars: n,
            operations: size.operations.saturating_add(n.saturating_mul(2)),
        });
    }
    let loss = counter.expr(&network.loss.expr);
    deep(
        network.loss.span,
        format!("the loss `{}`", network.loss.name),
        loss.depth,
    );
    parts.push(Part {
        span: network.loss.span,
        what: format!("the loss `{}`", network.loss.name),
        scalars: 1,
        operations: loss.operations,
    });
    for claim in &network.claims {
        counter.vars = &claim.vars;
        let rhs = counter.expr(&claim.rhs);
        deep(claim.span, "this claim".to_string(), rhs.depth);
        // The claim holds for every value of each free index variable.
        let instances = claim
            .vars
            .iter()
            .filter(|v| v.free)
            .fold(1u64, |n, v| n.saturating_mul(v.range as u64));
        parts.push(Part {
            span: claim.span,
            what: "this claim".to_string(),
            scalars: 0,
            operations: instances.saturating_mul(rhs.operations.saturating_add(1)),
        });
    }
    let text = |n: u64| {
        if n == u64::MAX {
            "more than 10^19".to_string()
        } else {
            n.to_string()
        }
    };
    let total = |f: fn(&Part) -> u64| parts.iter().fold(0u64, |t, p| t.saturating_add(f(p)));
    let (scalars, operations) = (total(|p| p.scalars), total(|p| p.operations));
    // Which limit is passed first: its count, its value, its unit, and each part's share.
    type Measure = fn(&Part) -> u64;
    let over: Option<(u64, u64, &str, Measure)> = if scalars > MAX_SCALARS {
        Some((
            scalars,
            MAX_SCALARS,
            "named scalars (input, target, parameter and vector elements)",
            |p| p.scalars,
        ))
    } else if operations > MAX_OPERATIONS {
        Some((operations, MAX_OPERATIONS, "scalar operations", |p| {
            p.operations
        }))
    } else {
        None
    };
    if let Some((count, limit, unit, measure)) = over
        && let Some(largest) = parts.iter().max_by_key(|p| measure(p))
    {
        errors.push(Diagnostic::new(
            largest.span,
            format!(
                "network `{}` is too large: it has {} {unit}, more than the limit of {limit}; {} alone has {}",
                network.name,
                text(count),
                largest.what,
                text(measure(largest)),
            ),
        ));
    } else if let Some((span, what, depth)) = too_deep {
        errors.push(Diagnostic::new(
            span,
            format!(
                "{what} is computed {} operations deep (through the vectors and functions it uses), more than the limit of {MAX_DEPTH}",
                text(depth)
            ),
        ));
    }
}
