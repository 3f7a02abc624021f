//! Warnings about what a file that checks may say by mistake: a misspelt name silently
//! becomes a new trainable parameter (`tt` for `t`), so the target it meant goes unused, and a
//! `param` with one number is trainable where a constant was likely meant. They never change
//! what a command does or its exit code.

use std::collections::BTreeSet;

use chainrule_grammar::Diagnostic;

use crate::model::{ElemOp, Model, Network, Shape, Symbol, TExpr, TExprKind};

/// Every warning of every network of `model`, in source order.
pub fn warnings(model: &Model) -> Vec<Diagnostic> {
    let mut all: Vec<Diagnostic> = model.networks.iter().flat_map(network_warnings).collect();
    crate::diagnostic::dedup(&mut all);
    all
}

/// The warnings of one network, in no particular order.
pub fn network_warnings(network: &Network) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let used = used_by_loss(network);
    for (i, target) in network.targets.iter().enumerate() {
        if !used.contains(&Symbol::Target(i)) {
            out.push(Diagnostic::new(
                target.span,
                format!("target `{}` is not used by the loss", target.name),
            ));
        }
    }
    let values = network
        .inputs
        .iter()
        .map(|d| ("input", d.name.as_str()))
        .chain(network.targets.iter().map(|d| ("target", d.name.as_str())))
        .chain(
            network
                .vectors
                .iter()
                .map(|v| ("named value", v.name.as_str())),
        );
    let values: Vec<(&str, &str)> = values.collect();
    for param in &network.params {
        // A `param` statement says the name is meant; only a name that its first use created
        // can be a slip of the keyboard, and only where a value could stand: an operand of
        // `@` (a matrix) is a weight by its use (`V` in `x @ V` beside a vector `v`).
        if !param.declared
            && !matches!(param.shape, Shape::Matrix(..))
            && let Some((kind, name)) = values.iter().find(|(_, n)| one_edit_apart(&param.name, n))
        {
            out.push(Diagnostic::new(
                param.span,
                format!(
                    "`{}` is not declared, so it is a new trainable parameter, one edit away from {kind} `{name}`: did you mean `{name}`? (declare `param {}{}` if a parameter is meant)",
                    param.name,
                    param.name,
                    dims_text(param.shape)
                ),
            ));
        }
        if let (Shape::Scalar, Some([value])) = (param.shape, param.default.as_deref()) {
            out.push(Diagnostic::new(
                param.span,
                format!(
                    "parameter `{}` holds one number and is trained like every parameter: if it is a constant, write `const {} = {value}`",
                    param.name, param.name
                ),
            ));
        }
    }
    out.extend(unread_elements(network));
    let mut products = Vec::new();
    elementwise_weights(&network.loss.expr, network, &mut products);
    for vector in &network.vectors {
        elementwise_weights(&vector.expr, network, &mut products);
    }
    out.extend(products);
    out
}

/// A declared parameter that index notation reads only in part along some axis (a bias
/// `b[3]` read as `b[f]` with `f < 2`): its other elements never reach the loss, which is
/// almost always a size written wrong.
fn unread_elements(network: &Network) -> Vec<Diagnostic> {
    // Per parameter, per axis: the largest index read, or `None` once it is read whole.
    let mut reach: Vec<Option<Vec<i64>>> = network
        .params
        .iter()
        .map(|p| Some(vec![-1; p.shape.rank()]))
        .collect();
    let exprs = network.vectors.iter().map(|v| &v.expr);
    for e in exprs.chain([&network.loss.expr]) {
        param_reach(e, &[], &mut reach);
    }
    let mut out = Vec::new();
    for (param, reach) in network.params.iter().zip(&reach) {
        let Some(reach) = reach else { continue };
        let dims = param.shape.dims();
        let short = reach
            .iter()
            .zip(&dims)
            .position(|(&r, &n)| r >= 0 && r + 1 < n as i64);
        if let (true, Some(axis)) = (param.declared, short) {
            out.push(Diagnostic::new(
                param.span,
                format!(
                    "parameter `{}` has {} elements along its axis {} but is read only at 0..{}: the others never reach the loss (is its size right?)",
                    param.name,
                    dims[axis],
                    axis + 1,
                    reach[axis]
                ),
            ));
        }
    }
    out
}

/// Records how far `e` reads each parameter along each axis, with `vars` the index variables
/// in scope (those of the definition in index notation around it).
fn param_reach(e: &TExpr, vars: &[crate::model::IndexVar], reach: &mut [Option<Vec<i64>>]) {
    use crate::model::IndexTerm;
    match &e.kind {
        TExprKind::Element(Symbol::Param(p), indices) => {
            let range = |x: usize| vars.get(x).map_or(1, |v| v.range as i64);
            if let Some(Some(axes)) = reach.get_mut(*p) {
                if indices.len() < axes.len() {
                    reach[*p] = None;
                    return;
                }
                for (axis, term) in axes.iter_mut().zip(indices) {
                    let top = match term {
                        IndexTerm::Const(c) => *c as i64,
                        IndexTerm::Var(x) => range(*x) - 1,
                        IndexTerm::Affine(parts, offset) => {
                            parts
                                .iter()
                                .map(|&(x, c)| (c * (range(x) - 1)).max(0))
                                .sum::<i64>()
                                + offset
                        }
                    };
                    *axis = (*axis).max(top);
                }
            }
        }
        TExprKind::Symbol(Symbol::Param(p)) | TExprKind::MatVec(p, _) | TExprKind::VecMat(_, p) => {
            if let Some(slot) = reach.get_mut(*p) {
                *slot = None;
            }
        }
        _ => {}
    }
    let inner = match &e.kind {
        TExprKind::IndexDef(scope, _) => scope.as_slice(),
        _ => vars,
    };
    e.for_each_child(|c| param_reach(c, inner, reach));
}

/// `W * x` where `W @ x` was meant: an undeclared parameter named as a matrix (a capital
/// first letter) that multiplies a vector element by element, and so became a vector.
fn elementwise_weights(e: &TExpr, network: &Network, out: &mut Vec<Diagnostic>) {
    if let TExprKind::Binary(ElemOp::Mul, a, b) = &e.kind {
        for (weight, other) in [(a, b), (b, a)] {
            let TExprKind::Symbol(Symbol::Param(p)) = weight.kind else {
                continue;
            };
            let param = &network.params[p];
            let matrix_name = param.name.starts_with(|c: char| c.is_ascii_uppercase());
            if !param.declared && matrix_name && matches!(other.shape, Shape::Vector(_)) {
                out.push(Diagnostic::new(
                    e.span,
                    format!(
                        "`{}` multiplies element by element, so `{}` is a vector of {} weights, not a matrix: for a layer write `{} @ ...` (declare `param {}{}` if element-wise weights are meant)",
                        param.name,
                        param.name,
                        param.shape.len(),
                        param.name,
                        param.name,
                        dims_text(param.shape)
                    ),
                ));
            }
        }
    }
    e.for_each_child(|child| elementwise_weights(child, network, out));
}

/// `[N]` or `[R][C]`, as a `param` declaration writes the shape.
fn dims_text(shape: Shape) -> String {
    shape.dims().iter().map(|d| format!("[{d}]")).collect()
}

/// The symbols the loss reads, directly or through named vectors.
fn used_by_loss(network: &Network) -> BTreeSet<Symbol> {
    let mut used = BTreeSet::new();
    let mut pending = Vec::new();
    symbols(&network.loss.expr, &mut pending);
    while let Some(symbol) = pending.pop() {
        if used.insert(symbol)
            && let Symbol::Vector(i) = symbol
        {
            symbols(&network.vectors[i].expr, &mut pending);
        }
    }
    used
}

fn symbols(e: &TExpr, out: &mut Vec<Symbol>) {
    match &e.kind {
        TExprKind::Symbol(s) | TExprKind::Element(s, _) | TExprKind::Grad(_, s) => out.push(*s),
        TExprKind::MatVec(p, _) | TExprKind::VecMat(_, p) => out.push(Symbol::Param(*p)),
        _ => {}
    }
    e.for_each_child(|child| symbols(child, out));
}

/// Whether `a` is a likely slip for `b`: one letter added or dropped (`tt`, `t`), two
/// neighbours swapped (`tagret`), a letter's case changed (`X`, `x`), or one letter after the
/// first replaced in a name of four or more characters. Other replacements are not counted:
/// `b1` and `a1`, `b10` and `z10`, `W` and `x` are different names in almost every network.
pub fn one_edit_apart(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a == b {
        return false;
    }
    match a.len().abs_diff(b.len()) {
        0 => {
            let differ: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
            match differ.as_slice() {
                [i] => {
                    let (x, y) = (a[*i], b[*i]);
                    x.eq_ignore_ascii_case(&y)
                        || (a.len() >= 4 && *i > 0 && !(x.is_ascii_digit() && y.is_ascii_digit()))
                }
                [i, j] => *j == i + 1 && a[*i] == b[*j] && a[*j] == b[*i],
                _ => false,
            }
        }
        1 => {
            let (long, short) = if a.len() > b.len() {
                (&a, &b)
            } else {
                (&b, &a)
            };
            (0..long.len()).any(|skip| {
                long.iter()
                    .enumerate()
                    .filter(|(i, _)| *i != skip)
                    .map(|(_, c)| c)
                    .eq(short.iter())
            })
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slips_and_distinct_names() {
        for (a, b) in [
            ("tt", "t"),
            ("t", "tt"),
            ("X", "x"),
            ("tagret", "target"),
            ("hiden", "hidden"),
            ("outpt", "output"),
            ("ouput", "output"),
            ("labal", "label"),
        ] {
            assert!(one_edit_apart(a, b), "{a} / {b}");
        }
        for (a, b) in [
            ("t", "t"),
            ("W", "x"),
            ("b1", "a1"),
            ("b", "h"),
            ("W1", "W2"),
            ("layer1", "layer2"),
            ("W", "Wxh"),
            ("reg", "x"),
            ("b10", "z10"),
            ("bias", "xias"),
        ] {
            assert!(!one_edit_apart(a, b), "{a} / {b}");
        }
    }
}
