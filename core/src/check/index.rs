//! The ranges of index names in an index-notation definition (`z[i] = sum(j, W[i][j] * x[j])`):
//! each name runs over `0..N` with N the largest size for which every access is in bounds.
//!
//! Ranges are inferred on the syntax tree before typing, so that typing (`infer.rs`) meets
//! every index with its range known: an access `x[i + p]` bounds `i` only once `p`'s range is
//! known from elsewhere (`K[p]`), so the bounds are recomputed to a fixed point.

use std::collections::BTreeMap;

use chainrule_grammar::{Diagnostic, Dim, Expr, ExprKind, Ident, Index, Span};

mod extrema;

use super::infer::Infer;
use super::{Entity, ParamTable, Scope};
use crate::model::{IndexVar, MAX_AXES, Shape, TExpr, TExprKind};
use extrema::{extremum_binders, extremum_of_values, is_value};

/// Where an index name is bound: the span of its name on the left-hand side or in a reduction.
pub(super) type Binder = (usize, usize);

/// The inferred range of every index name of one definition, by where it is bound.
pub(super) type Ranges = BTreeMap<Binder, usize>;

/// The key of a name bound at `ident`.
pub(super) fn binder(ident: &Ident) -> Binder {
    (ident.span.start, ident.span.end)
}

/// `sum of coefficient * name + offset < size`, from one index of one access.
struct Access {
    terms: Vec<(i64, Binder)>,
    offset: i64,
    size: usize,
    span: Span,
}

/// The sizes of the value an access reads (`x[c][i + p]` reads `x`), or `None` where the access
/// bounds no index: a value of unknown size, or a recurrence's read of an earlier step.
type AccessDims<'a> = dyn Fn(&Ident, &[Index]) -> Option<Vec<usize>> + 'a;

/// The ranges of the left-hand names `lhs` and of every name a reduction in `body` binds.
/// `dims` gives the axes of a name read with brackets, when known (an unknown shape is
/// reported by typing). Errors name the index that cannot be inferred, or an access that
/// reads below 0.
pub(super) fn ranges(
    lhs: &[Ident],
    body: &Expr,
    dims: &AccessDims<'_>,
    errors: &mut Vec<Diagnostic>,
) -> Option<Ranges> {
    let mut scope: Vec<(&str, Binder)> = lhs.iter().map(|i| (i.name.as_str(), binder(i))).collect();
    let mut binders: Vec<&Ident> = lhs.iter().collect();
    let mut accesses = Vec::new();
    collect(body, dims, &mut scope, &mut binders, &mut accesses);
    let ranges = fixed_point(&accesses, binders.len());
    let before = errors.len();
    let mut extrema = Vec::new();
    extremum_binders(body, &mut extrema);
    for ident in &binders {
        let of_extremum = extrema.iter().find(|(b, _)| *b == binder(ident));
        match ranges.get(&binder(ident)) {
            Some(0) if of_extremum.is_some() => errors.push(Diagnostic::new(
                ident.span,
                format!(
                    "index `{}` has no value for which every access is in bounds, and a `{}` of no values is undefined",
                    ident.name,
                    of_extremum.map_or("max", |(_, word)| *word)
                ),
            )),
            None => errors.push(Diagnostic::new(
                ident.span,
                format!(
                    "the range of index `{}` cannot be inferred: it indexes no value of known size",
                    ident.name
                ),
            )),
            Some(0) => errors.push(Diagnostic::new(
                ident.span,
                format!(
                    "index `{}` has no value for which every access is in bounds",
                    ident.name
                ),
            )),
            Some(_) => {}
        }
    }
    if errors.len() > before {
        return None;
    }
    for access in &accesses {
        let lowest = access.terms.iter().fold(access.offset, |low, (c, b)| {
            low + (c * (ranges[b] as i64 - 1)).min(0)
        });
        if lowest < 0 {
            errors.push(Diagnostic::new(
                access.span,
                "this index is below 0 for some values of its index names: an access before the first element is an error here",
            ));
        }
    }
    (errors.len() == before).then_some(ranges)
}

/// Every access of `e` with brackets, with the names in scope where it stands.
fn collect<'e>(
    e: &'e Expr,
    dims: &AccessDims<'_>,
    scope: &mut Vec<(&'e str, Binder)>,
    binders: &mut Vec<&'e Ident>,
    out: &mut Vec<Access>,
) {
    match &e.kind {
        ExprKind::Number(_) | ExprKind::Name(_) | ExprKind::DeltaRef { .. } => {}
        ExprKind::Indexed { name, indices } => {
            // A partial read (`x[t]` of a matrix) bounds the leading axes it indexes.
            let Some(sizes) = dims(name, indices).filter(|d| d.len() >= indices.len()) else {
                return;
            };
            for (index, size) in indices.iter().zip(sizes) {
                if let Some(access) = access(index, size, scope) {
                    out.push(access);
                }
            }
        }
        ExprKind::Call { args, .. } => {
            for a in args {
                collect(a, dims, scope, binders, out);
            }
        }
        ExprKind::Reduce { vars, arg, .. } => {
            let depth = scope.len();
            for v in vars {
                scope.push((v.name.name.as_str(), binder(&v.name)));
                binders.push(&v.name);
                if let Some(below) = v.below {
                    // `p < 2`: a bound written where no access gives one.
                    out.push(Access {
                        terms: vec![(1, binder(&v.name))],
                        offset: 0,
                        size: below.size,
                        span: below.span,
                    });
                }
            }
            collect(arg, dims, scope, binders, out);
            scope.truncate(depth);
        }
        ExprKind::Neg(a) | ExprKind::Select { base: a, .. } => {
            collect(a, dims, scope, binders, out)
        }
        ExprKind::Binary { lhs, rhs, .. } => {
            collect(lhs, dims, scope, binders, out);
            collect(rhs, dims, scope, binders, out);
        }
    }
}

/// The constraint one index puts on the names in it (none when it names no index name in
/// scope: typing reports what it is).
fn access(index: &Index, size: usize, scope: &[(&str, Binder)]) -> Option<Access> {
    let bound = |name: &str| {
        scope
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| *b)
    };
    let (terms, offset) = match index {
        Index::Const(..) => return None,
        Index::Var(v) => (vec![(1, bound(&v.name)?)], 0),
        Index::Affine { terms, offset, .. } => (
            terms
                .iter()
                .map(|(c, v)| bound(&v.name).map(|b| (*c, b)))
                .collect::<Option<Vec<_>>>()?,
            *offset,
        ),
    };
    // `i + i` is `2*i`: one term per name.
    let mut merged: Vec<(i64, Binder)> = Vec::new();
    for (c, b) in terms {
        match merged.iter_mut().find(|(_, m)| *m == b) {
            Some(t) => t.0 += c,
            None => merged.push((c, b)),
        }
    }
    merged.retain(|(c, _)| *c != 0);
    Some(Access {
        terms: merged,
        offset,
        size,
        span: index.span(),
    })
}

/// The largest range of each name for which every access stays below its size, recomputed
/// until nothing changes: a bound through `i + p` needs `p`'s range first.
fn fixed_point(accesses: &[Access], names: usize) -> Ranges {
    let mut ranges = Ranges::new();
    // Each round can fix at least one more name, so names + 1 rounds reach the fixed point.
    for _ in 0..=names {
        let mut next = Ranges::new();
        for access in accesses {
            for &(c, b) in access.terms.iter().filter(|(c, _)| *c > 0) {
                // The most the other terms can add, at their known ranges.
                let mut rest = access.offset;
                let mut known = true;
                for &(c2, b2) in &access.terms {
                    if b2 == b {
                        continue;
                    }
                    match ranges.get(&b2) {
                        Some(&r) => rest += (c2 * (r as i64 - 1)).max(0),
                        None => known = false,
                    }
                }
                if !known {
                    continue;
                }
                let room = access.size as i64 - 1 - rest;
                let range = if room < 0 { 0 } else { (room / c + 1) as usize };
                let entry = next.entry(b).or_insert(range);
                *entry = (*entry).min(range);
            }
        }
        if next == ranges {
            break;
        }
        ranges = next;
    }
    ranges
}

/// Types `name[i] = body` (or `name[f][i][j] = body`, or `h[t][4] = body` with a vector
/// body) in index notation: the ranges first, then the body with the index names in scope.
/// `own` is the vector's source index: the body may read it at a smaller value of its first
/// index (a recurrence). Returns the value's shape (one axis per index name, row-major, then
/// the sizes written after them) and its definition.
#[allow(clippy::too_many_arguments)]
pub(super) fn definition(
    scope: &Scope<'_>,
    params: &mut ParamTable,
    vector_sizes: &[Option<Shape>],
    errors: &mut Vec<Diagnostic>,
    final_pass: bool,
    (name, own, later): (&Ident, usize, Option<Shape>),
    (dims, index, peers, header): (&[Dim], &[Ident], &[usize], &mut Option<Shape>),
    body: &Expr,
) -> Option<(Shape, TExpr)> {
    let written: String = index.iter().map(|i| format!("[{}]", i.name)).collect();
    if index.len() + dims.len() > MAX_AXES {
        errors.push(Diagnostic::new(
            name.span,
            format!(
                "`{}` has {} axes; a value has at most {MAX_AXES}",
                name.name,
                index.len() + dims.len()
            ),
        ));
        return None;
    }
    if let Some(d) = dims.iter().find(|d| d.size == 0) {
        errors.push(Diagnostic::new(
            d.span,
            format!("`{}` must have at least one element", name.name),
        ));
        return None;
    }
    for (n, lhs) in index.iter().enumerate() {
        let reason = if crate::builtin::builtin_constant(&lhs.name).is_some() {
            format!(
                "`{}` is a built-in constant and cannot be an index name",
                lhs.name
            )
        } else if scope.resolve(&lhs.name).is_some() || params.find(&lhs.name).is_some() {
            format!(
                "`{}` cannot be an index name: it already names something in this network",
                lhs.name
            )
        } else if index[..n].iter().any(|earlier| earlier.name == lhs.name) {
            format!("`{}` names two axes of `{}`", lhs.name, name.name)
        } else {
            continue;
        };
        errors.push(Diagnostic::new(lhs.span, reason));
        return None;
    }
    let is_value = |name: &str| is_value(scope, params, name);
    if extremum_of_values(body, &is_value, errors) {
        return None;
    }
    // A recurrence's read at an earlier step (`h[t - 1]`) is zero before the first step: it
    // bounds no index.
    let shape_of = |ident: &Ident, indices: &[Index]| {
        let earlier = matches!(indices.first(), Some(Index::Affine { offset, .. }) if *offset < 0);
        let recurrent = matches!(scope.resolve(&ident.name),
            Some(Entity::Vector(v)) if v == own || peers.contains(&v));
        match earlier && recurrent {
            true => None,
            false => dims_of(scope, params, vector_sizes, ident),
        }
    };
    let mut range_errors = Vec::new();
    let ranges = ranges(index, body, &shape_of, &mut range_errors);
    let Some(ranges) = ranges else {
        errors.extend(range_errors);
        return None;
    };
    // Sizes after the names give each element axes; without them, a later use's shape
    // (`o[t] = V @ h[t] + c` compared with y `[5][2]`) suggests them.
    let sized: Vec<usize> = dims.iter().map(|d| d.size).collect();
    let suggested: Vec<usize> = match later.map(Shape::dims) {
        Some(d) if sized.is_empty() && d.len() > index.len() => d[index.len()..].to_vec(),
        _ => sized.clone(),
    };
    let leading: Vec<usize> = index.iter().map(|lhs| ranges[&binder(lhs)]).collect();
    let with = |element: &[usize]| -> Option<Shape> {
        Shape::of(&leading.iter().chain(element).copied().collect::<Vec<_>>())
    };
    let shape = with(&suggested)?;
    *header = Some(shape);
    let element = Shape::of(&suggested)?;
    // The body may read the value it defines (a recurrence): its shape is known from here.
    let mut sizes_with_own = vector_sizes.to_vec();
    if let Some(slot) = sizes_with_own.get_mut(own) {
        *slot = Some(shape);
    }
    let mut vars: Vec<IndexVar> = index
        .iter()
        .zip(&leading)
        .map(|(lhs, &range)| IndexVar {
            name: lhs.name.clone(),
            range,
            free: true,
        })
        .collect();
    let mut infer = Infer::new(
        scope,
        params,
        &sizes_with_own,
        errors,
        &mut vars,
        final_pass,
        false,
    );
    infer.index_ranges = Some(&ranges);
    infer.defining = Some(own);
    infer.peers = peers;
    let hint = match element {
        Shape::Vector(n) => Some(n),
        _ => None,
    };
    let typed = infer.expr(body, hint)?;
    // A suggestion from a later use binds nothing: a body of one element stays one.
    let (shape, element) = match typed.shape {
        Shape::Scalar if sized.is_empty() => (with(&[])?, Shape::Scalar),
        _ => (shape, element),
    };
    if typed.shape != element {
        let want = match element {
            Shape::Scalar => format!(
                "one element, but this is {}: index it (`v{written}`)",
                typed.shape.describe()
            ),
            _ => format!(
                "{} as written after the index names, but this is {}",
                element.describe(),
                typed.shape.describe()
            ),
        };
        errors.push(Diagnostic::new(
            body.span,
            format!("in index notation the right-hand side is {want}"),
        ));
        return None;
    }
    let span = typed.span;
    Some((
        shape,
        TExpr {
            kind: TExprKind::IndexDef(vars, Box::new(typed)),
            shape,
            span,
        },
    ))
}

/// Whether an expression has a reduction over index names (`sum(j, w[j] * x[j])`).
fn binds_names(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Number(_)
        | ExprKind::Name(_)
        | ExprKind::Indexed { .. }
        | ExprKind::DeltaRef { .. } => false,
        ExprKind::Reduce { vars, arg, .. } => !vars.is_empty() || binds_names(arg),
        ExprKind::Call { args, .. } => args.iter().any(binds_names),
        ExprKind::Neg(a) | ExprKind::Select { base: a, .. } => binds_names(a),
        ExprKind::Binary { lhs, rhs, .. } => binds_names(lhs) || binds_names(rhs),
    }
}

/// The ranges of the names that the reductions of an ordinary expression (a loss, a vector
/// without index names on the left) bind: `Ok(None)` when it binds none, `Err` when a range
/// cannot be inferred (reported in `errors`).
pub(super) fn bound_ranges(
    scope: &Scope<'_>,
    params: &ParamTable,
    vector_sizes: &[Option<Shape>],
    body: &Expr,
    errors: &mut Vec<Diagnostic>,
) -> Result<Option<Ranges>, ()> {
    if !binds_names(body) {
        return Ok(None);
    }
    let is_value = |name: &str| is_value(scope, params, name);
    if extremum_of_values(body, &is_value, errors) {
        return Err(());
    }
    let shape_of = |ident: &Ident, _: &[Index]| dims_of(scope, params, vector_sizes, ident);
    ranges(&[], body, &shape_of, errors).map(Some).ok_or(())
}

/// `e` with the index variables its reductions bound in scope (itself when there are none).
pub(super) fn scoped(vars: Vec<IndexVar>, e: TExpr) -> TExpr {
    if vars.is_empty() {
        return e;
    }
    let (shape, span) = (e.shape, e.span);
    TExpr {
        kind: TExprKind::IndexDef(vars, Box::new(e)),
        shape,
        span,
    }
}

/// The axes of a value read with brackets, when known.
fn dims_of(
    scope: &Scope<'_>,
    params: &ParamTable,
    vector_sizes: &[Option<Shape>],
    ident: &Ident,
) -> Option<Vec<usize>> {
    match scope.resolve(&ident.name) {
        Some(Entity::Data(_, shape)) => Some(shape.dims()),
        Some(Entity::Vector(v)) => vector_sizes.get(v).copied().flatten().map(Shape::dims),
        Some(_) => None,
        None => params
            .find(&ident.name)
            .and_then(|p| params.shape(p))
            .map(Shape::dims),
    }
}
