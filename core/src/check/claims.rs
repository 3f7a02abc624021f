//! Checks `claim dA/dB = EXPR` statements: the names they are about, their indices, their formula.

use std::collections::{BTreeMap, HashMap};

use chainrule_grammar::{self as ast, Diagnostic, Span};

use super::infer::{Infer, RangeConflict};
use super::{Entity, ParamTable, Scope};
use crate::model::{Claim, IndexVar, Network, RefusedClaim, ScalarRef, Symbol};

/// Checks every claim of a network that passed all other checks: the claims to evaluate, and
/// those refused on their own (an index variable used where another range belongs).
pub(super) fn check_claims(
    network: &Network,
    claims: &[(&ast::Claim, Span)],
    signatures: &[(String, usize)],
    fn_index: &HashMap<&str, usize>,
    source: &str,
    line_starts: std::rc::Rc<[usize]>,
    errors: &mut Vec<Diagnostic>,
) -> (Vec<Claim>, Vec<RefusedClaim>) {
    let mut names: BTreeMap<&str, Entity> = BTreeMap::new();
    for (i, d) in network.inputs.iter().enumerate() {
        names.insert(&d.name, Entity::Data(Symbol::Input(i), d.shape));
    }
    for (i, d) in network.targets.iter().enumerate() {
        names.insert(&d.name, Entity::Data(Symbol::Target(i), d.shape));
    }
    for (i, v) in network.vectors.iter().enumerate() {
        names.insert(&v.name, Entity::Vector(i));
    }
    names.insert(&network.loss.name, Entity::Loss);
    for (i, c) in network.consts.iter().enumerate() {
        names.insert(&c.name, Entity::Const(i));
    }
    let scope = Scope {
        labels: super::label_targets(&network.targets),
        names,
        consts: network.consts.iter().map(|c| c.value).collect(),
        functions: signatures,
        fn_index,
    };
    let position = |offset: usize| {
        let line = line_starts.partition_point(|&s| s <= offset);
        let start = line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        (line, offset - start + 1)
    };
    let mut params = ParamTable::new(std::rc::Rc::clone(&line_starts));
    for p in &network.params {
        let index = params.add(&p.name, p.span);
        params.entries[index].shape = Some(p.shape);
        params.entries[index].declared = true;
    }
    let vector_sizes: Vec<Option<crate::model::Shape>> =
        network.vectors.iter().map(|v| Some(v.shape)).collect();

    let mut checked = Vec::new();
    let mut refused = Vec::new();
    for (claim, span) in claims {
        let before = errors.len();
        let mut vars: Vec<IndexVar> = Vec::new();
        let mut infer = Infer::new(
            &scope,
            &mut params,
            &vector_sizes,
            errors,
            &mut vars,
            true,
            true,
        );
        let of = scalar_ref(&mut infer, network, &claim.of, true);
        let wrt = scalar_ref(&mut infer, network, &claim.wrt, false);
        let rhs = infer.expr(&claim.rhs, None);
        let conflicts = std::mem::take(&mut infer.range_conflicts);
        if let Some(rhs) = &rhs
            && rhs.shape != crate::model::Shape::Scalar
        {
            errors.push(Diagnostic::new(
                claim.rhs.span,
                format!(
                    "a claimed derivative is a scalar, but this is {}",
                    rhs.shape.describe()
                ),
            ));
        }
        let text = source
            .get(span.start..span.end)
            .unwrap_or_default()
            .trim()
            .to_string();
        if !conflicts.is_empty() {
            if errors.len() == before {
                let reasons = conflict_reasons(&conflicts, &vars, source, &position);
                // Up to the end of its formula, as reports show a claim (no trailing comment).
                let end = claim.rhs.span.end.clamp(span.start, span.end);
                refused.push(RefusedClaim {
                    span: *span,
                    text: source
                        .get(span.start..end)
                        .unwrap_or(&text)
                        .trim()
                        .to_string(),
                    reasons,
                });
            } else {
                // The claim has errors of its own: its conflicts are reported with them.
                errors.extend(conflicts.iter().map(|c| {
                    let var = &vars[c.var];
                    Diagnostic::new(
                        c.span,
                        format!(
                            "index `{}` runs over 0..{} here but over 0..{} where it was first used",
                            var.name,
                            c.here.saturating_sub(1),
                            var.range.saturating_sub(1)
                        ),
                    )
                }));
            }
            continue;
        }
        if let (Some(of), Some(wrt), Some(rhs), true) = (of, wrt, rhs, errors.len() == before) {
            checked.push(Claim {
                of,
                wrt,
                rhs,
                vars,
                span: *span,
                text,
            });
        }
    }
    (checked, refused)
}

/// Why a claim whose index variables take conflicting ranges fails: two variables each used
/// where the other's range belongs are a swap (the formula is written for the transpose);
/// otherwise each use is listed.
fn conflict_reasons(
    conflicts: &[RangeConflict],
    vars: &[IndexVar],
    source: &str,
    position: &dyn Fn(usize) -> (usize, usize),
) -> Vec<String> {
    let names = |v: usize| vars[v].name.as_str();
    let mut involved: Vec<usize> = conflicts.iter().map(|c| c.var).collect();
    involved.sort_unstable();
    involved.dedup();
    let mut lines = Vec::new();
    if let [a, b] = involved.as_slice() {
        let (a, b) = (*a, *b);
        let fits = |v: usize, other: usize| {
            conflicts
                .iter()
                .filter(|c| c.var == v)
                .all(|c| c.here == vars[other].range)
        };
        if fits(a, b) && fits(b, a) {
            lines.push(format!(
                "indices swapped: `{x}` runs over 0..{} and `{y}` over 0..{}, but the formula uses `{x}` where 0..{} belongs and `{y}` where 0..{} belongs, so it is written for the transpose; exchange `{x}` and `{y}` in the formula",
                vars[a].range.saturating_sub(1),
                vars[b].range.saturating_sub(1),
                vars[b].range.saturating_sub(1),
                vars[a].range.saturating_sub(1),
                x = names(a),
                y = names(b),
            ));
        }
    }
    // A swap says it all; otherwise each use out of its range is listed.
    let swapped = !lines.is_empty();
    for c in conflicts.iter().filter(|_| !swapped) {
        let (line, column) = position(c.span.start);
        let var = &vars[c.var];
        let used = source.get(c.span.start..c.span.end).unwrap_or_default();
        lines.push(format!(
            "at {line}:{column}, index `{used}` stands where 0..{} belongs, but it runs over 0..{} where it was first used",
            c.here.saturating_sub(1),
            var.range.saturating_sub(1)
        ));
    }
    lines.push("the claim is not checked for any index value".into());
    lines
}

fn scalar_ref(
    infer: &mut Infer<'_>,
    network: &Network,
    r: &ast::ScalarRef,
    is_of: bool,
) -> Option<ScalarRef> {
    let Some(symbol) = network.lookup(&r.name.name) else {
        infer.errors.push(Diagnostic::new(
            r.name.span,
            format!(
                "the claim is about `{}`, which is not a name in network `{}`",
                r.name.name, network.name
            ),
        ));
        return None;
    };
    let allowed = match symbol {
        Symbol::Loss | Symbol::Vector(_) => true,
        Symbol::Param(_) | Symbol::Input(_) => !is_of,
        Symbol::Target(_) => false,
    };
    if !allowed {
        let what = if is_of {
            "a claim differentiates the loss or an element of a named vector"
        } else {
            "a claim differentiates with respect to a parameter, input or named-vector element"
        };
        infer.errors.push(Diagnostic::new(
            r.name.span,
            format!("`{}` cannot stand here: {what}", r.name.name),
        ));
        return None;
    }
    let indices = infer.indices(&r.name, network.shape_of(symbol), &r.indices)?;
    Some(ScalarRef {
        symbol,
        indices,
        span: r.span,
    })
}
