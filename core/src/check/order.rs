//! Orders named vectors so that each comes after the vectors it uses, and finds cycles.

use std::collections::BTreeMap;

use chainrule_grammar::{self as ast, Diagnostic};

use super::{Entity, line_of};

/// Orders named vectors so that each comes after the vectors it uses; reports cycles. A
/// definition in index notation (`index[v]` not empty) may read itself: a recurrence, whose
/// reads typing checks (`h[t - 1]`, at a smaller value of its first index).
pub(super) fn order_vectors(
    vectors: &[(&ast::Ident, &[ast::Dim], &ast::Expr)],
    index: &[&[ast::Ident]],
    names: &BTreeMap<&str, Entity>,
    source: &str,
    errors: &mut Vec<Diagnostic>,
) -> Option<Vec<usize>> {
    let deps: Vec<Vec<usize>> = vectors
        .iter()
        .enumerate()
        .map(|(v, (_, _, expr))| {
            let mut out = Vec::new();
            collect_vector_refs(expr, names, &mut out);
            out.sort_unstable();
            out.dedup();
            if !index[v].is_empty() {
                out.retain(|&u| u != v);
            }
            out
        })
        .collect();
    // Depth-first, visiting in source order, so independent vectors keep their written order.
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let mut marks = vec![Mark::New; vectors.len()];
    let mut order = Vec::new();
    let mut failed = false;
    for root in 0..vectors.len() {
        if marks[root] != Mark::New {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        marks[root] = Mark::Active;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&dep) = deps[node].get(*next) {
                *next += 1;
                match marks[dep] {
                    Mark::New => {
                        marks[dep] = Mark::Active;
                        stack.push((dep, 0));
                    }
                    Mark::Active => {
                        let start = stack.iter().position(|(n, _)| *n == dep).unwrap_or(0);
                        let mut path: Vec<&str> = stack[start..]
                            .iter()
                            .map(|(n, _)| vectors[*n].0.name.as_str())
                            .collect();
                        path.push(&vectors[dep].0.name);
                        let (ident, _, _) = vectors[dep];
                        errors.push(Diagnostic::new(
                            ident.span,
                            format!(
                                "`{}` is defined from itself: {} (line {})",
                                ident.name,
                                path.join(" -> "),
                                line_of(source, ident.span)
                            ),
                        ));
                        failed = true;
                    }
                    Mark::Done => {}
                }
            } else {
                marks[node] = Mark::Done;
                order.push(node);
                stack.pop();
            }
        }
    }
    (!failed).then_some(order)
}

fn collect_vector_refs(expr: &ast::Expr, names: &BTreeMap<&str, Entity>, out: &mut Vec<usize>) {
    use ast::ExprKind::*;
    match &expr.kind {
        Name(ident) | Indexed { name: ident, .. } => {
            if let Some(Entity::Vector(i)) = names.get(ident.name.as_str()) {
                out.push(*i);
            }
        }
        Number(_) | DeltaRef { .. } => {}
        Call { args, .. } => args.iter().for_each(|a| collect_vector_refs(a, names, out)),
        Reduce { arg, .. } | Neg(arg) | Select { base: arg, .. } => {
            collect_vector_refs(arg, names, out)
        }
        Binary { lhs, rhs, .. } => {
            collect_vector_refs(lhs, names, out);
            collect_vector_refs(rhs, names, out);
        }
    }
}
