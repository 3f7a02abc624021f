//! Orders named vectors so that each comes after the vectors it uses, finds cycles, and finds
//! the recurrences whose definitions step through time together (an LSTM's gates, cell and
//! state).

use std::collections::BTreeMap;

use chainrule_grammar::{self as ast, Diagnostic};

use super::{Entity, line_of};

/// The evaluation order of the named vectors (source indices), and the mutual recurrences:
/// groups of definitions that read one another at an earlier step (`f[t]` reads `h[t - 1]`
/// while `h[t]` reads `f[t]`), each contiguous in the order and listed in it.
pub(super) struct Order {
    pub(super) vectors: Vec<usize>,
    pub(super) recurrences: Vec<Vec<usize>>,
}

/// Orders named vectors so that each comes after the vectors it uses; reports cycles. A
/// definition in index notation (`index[v]` not empty) may read itself, or a definition that
/// reads it, at its first index minus a constant (`h[t - 1]`): a recurrence, whose reads
/// typing checks. Within a cycle of such reads every other read must be at the same step.
pub(super) fn order_vectors(
    vectors: &[(&ast::Ident, &[ast::Dim], &ast::Expr)],
    index: &[&[ast::Ident]],
    names: &BTreeMap<&str, Entity>,
    source: &str,
    errors: &mut Vec<Diagnostic>,
) -> Option<Order> {
    // Every vector a definition reads, and those it reads at the same step.
    let mut uses: Vec<Vec<usize>> = Vec::new();
    let mut steady: Vec<Vec<usize>> = Vec::new();
    for (v, (_, _, expr)) in vectors.iter().enumerate() {
        let step = index[v].first().map(|i| i.name.as_str());
        let mut refs = Vec::new();
        collect_vector_refs(expr, names, step, &mut refs);
        let mut all: Vec<usize> = refs.iter().map(|&(u, _)| u).collect();
        let mut same: Vec<usize> = refs.iter().filter(|r| !r.1).map(|&(u, _)| u).collect();
        for list in [&mut all, &mut same] {
            list.sort_unstable();
            list.dedup();
            if step.is_some() {
                list.retain(|&u| u != v);
            }
        }
        uses.push(all);
        steady.push(same);
    }
    // A cycle at one step has no first element: an error, whatever earlier steps it reads.
    let cycles = cycles(vectors, &steady, source);
    if !cycles.is_empty() {
        errors.extend(cycles);
        return None;
    }
    // Cycles through earlier steps are recurrences: their definitions run step by step
    // together, so each group is evaluated as one block, after everything it reads.
    let groups = strongly_connected(&uses);
    let mut member_of = vec![0; vectors.len()];
    for (g, group) in groups.iter().enumerate() {
        for &v in group {
            member_of[v] = g;
        }
    }
    let group_uses = |g: usize| -> Vec<usize> {
        let mut out: Vec<usize> = groups[g]
            .iter()
            .flat_map(|&v| uses[v].iter().map(|&u| member_of[u]))
            .filter(|&h| h != g)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    };
    let mut order = Vec::new();
    let mut recurrences = Vec::new();
    for g in post_order(0..groups.len(), group_uses) {
        let members = &groups[g];
        let inside = |v: usize| -> Vec<usize> {
            steady[v]
                .iter()
                .copied()
                .filter(|u| members.contains(u))
                .collect()
        };
        let block = post_order(members.iter().copied(), inside);
        if block.len() > 1 {
            if let Some(&plain) = block.iter().find(|&&v| index[v].is_empty()) {
                let ident = vectors[plain].0;
                errors.push(Diagnostic::new(
                    ident.span,
                    format!(
                        "`{}` is part of a recurrence with {}, so it must be written in index notation, one step at a time (`{}[t][N] = ...`)",
                        ident.name,
                        block
                            .iter()
                            .filter(|&&v| v != plain)
                            .map(|&v| format!("`{}`", vectors[v].0.name))
                            .collect::<Vec<_>>()
                            .join(", "),
                        ident.name
                    ),
                ));
                return None;
            }
            recurrences.push(block.clone());
        }
        order.extend(block);
    }
    Some(Order {
        vectors: order,
        recurrences,
    })
}

/// Reports every cycle of `deps` once, with its path.
fn cycles(
    vectors: &[(&ast::Ident, &[ast::Dim], &ast::Expr)],
    deps: &[Vec<usize>],
    source: &str,
) -> Vec<Diagnostic> {
    // Depth-first, visiting in source order.
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let mut marks = vec![Mark::New; vectors.len()];
    let mut errors = Vec::new();
    for root in 0..vectors.len() {
        if marks[root] != Mark::New {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        marks[root] = Mark::Active;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            let Some(&dep) = deps[node].get(*next) else {
                marks[node] = Mark::Done;
                stack.pop();
                continue;
            };
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
                }
                Mark::Done => {}
            }
        }
    }
    errors
}

/// Nodes after the nodes they use, depth-first from `roots` in the order given, so that
/// independent nodes keep it. `uses` must have no cycle among the nodes reached.
fn post_order(
    roots: impl Iterator<Item = usize>,
    uses: impl Fn(usize) -> Vec<usize>,
) -> Vec<usize> {
    let mut done = std::collections::BTreeSet::new();
    let mut order = Vec::new();
    for root in roots {
        if !done.insert(root) {
            continue;
        }
        let mut stack = vec![(root, uses(root), 0)];
        while let Some((node, next_uses, next)) = stack.last_mut() {
            match next_uses.get(*next).copied() {
                Some(u) => {
                    *next += 1;
                    if done.insert(u) {
                        let deps = uses(u);
                        stack.push((u, deps, 0));
                    }
                }
                None => {
                    order.push(*node);
                    stack.pop();
                }
            }
        }
    }
    order
}

/// The strongly connected components of `uses`, each sorted, ordered by their first member.
fn strongly_connected(uses: &[Vec<usize>]) -> Vec<Vec<usize>> {
    // Networks have tens of definitions: reachability from each one is cheap and plain.
    let reach: Vec<Vec<bool>> = (0..uses.len())
        .map(|v| {
            let mut seen = vec![false; uses.len()];
            let mut stack = vec![v];
            while let Some(n) = stack.pop() {
                for &u in &uses[n] {
                    if !seen[u] {
                        seen[u] = true;
                        stack.push(u);
                    }
                }
            }
            seen
        })
        .collect();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut placed = vec![false; uses.len()];
    for v in 0..uses.len() {
        if placed[v] {
            continue;
        }
        let group: Vec<usize> = (v..uses.len())
            .filter(|&u| u == v || (reach[v][u] && reach[u][v]))
            .collect();
        for &u in &group {
            placed[u] = true;
        }
        groups.push(group);
    }
    groups
}

/// The vectors an expression reads, each with whether that read is at an earlier step:
/// `h[t - 1]` with `t` the definition's first index name (`step`).
fn collect_vector_refs(
    expr: &ast::Expr,
    names: &BTreeMap<&str, Entity>,
    step: Option<&str>,
    out: &mut Vec<(usize, bool)>,
) {
    use ast::ExprKind::*;
    let mut go = |e: &ast::Expr| collect_vector_refs(e, names, step, out);
    match &expr.kind {
        Name(ident) | Indexed { name: ident, .. } => {
            if let Some(Entity::Vector(i)) = names.get(ident.name.as_str()) {
                let earlier = match (&expr.kind, step) {
                    (Indexed { indices, .. }, Some(step)) => matches!(
                        indices.first(),
                        Some(ast::Index::Affine { terms, offset, .. })
                            if *offset < 0 && matches!(&terms[..], [(1, t)] if t.name == step)
                    ),
                    _ => false,
                };
                out.push((*i, earlier));
            }
        }
        Number(_) | DeltaRef { .. } => {}
        Call { args, .. } => args.iter().for_each(go),
        Reduce { arg, .. } | Neg(arg) | Select { base: arg, .. } => go(arg),
        Binary { lhs, rhs, .. } => {
            go(lhs);
            go(rhs);
        }
    }
}

/// Whether the definitions of each mutual recurrence run over one number of steps (their
/// first axes), which they take one step at a time together; reports each one that does not.
pub(super) fn same_steps(
    vectors: &[crate::model::Vector],
    recurrences: &[std::ops::Range<usize>],
    errors: &mut Vec<Diagnostic>,
) -> bool {
    let mut same = true;
    for group in recurrences {
        let first = &vectors[group.start];
        let steps = first.shape.dims()[0];
        for v in &vectors[group.clone()] {
            if v.shape.dims()[0] != steps {
                errors.push(Diagnostic::new(
                    v.span,
                    format!(
                        "`{}` and `{}` read each other's earlier steps, so they take the same steps: `{}` has {} and `{}` has {}",
                        first.name,
                        v.name,
                        first.name,
                        steps,
                        v.name,
                        v.shape.dims()[0]
                    ),
                ));
                same = false;
            }
        }
    }
    same
}
