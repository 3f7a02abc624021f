//! The classic slip of a convolution's backward pass, named: the input delta written with the
//! kernel not flipped (`dL/dz[f][u + p][v + q]` where `u - p` belongs, CS231n's
//! `conv_backward_naive` and Goodfellow's 9.13).

use super::recurrence::{Rewrite, indices_text};
use crate::model::{Claim, IndexTerm, Network, Symbol, TExpr, TExprKind};

/// Every rewrite of `claim` that negates the summed offsets of one read (`z[u + p]` to
/// `z[u - p]`): the kernel not flipped, a slip that shows when the rewritten claim holds.
pub(super) fn kernel_flips(claim: &Claim, network: &Network) -> Vec<Rewrite> {
    let bound = |x: usize| claim.vars.get(x).is_some_and(|v| !v.free);
    let mut count = 0;
    count_reads(&claim.rhs, &bound, &mut count);
    let mut out = Vec::new();
    for target in 0..count {
        let mut rhs = claim.rhs.clone();
        let mut seen = 0;
        let mut flipped = None;
        flip_read(&mut rhs, &bound, target, &mut seen, &mut flipped);
        let Some((symbol, delta, before, after)) = flipped else {
            continue;
        };
        let name = network.name_of(symbol);
        let prefix = if delta {
            format!("dL/d{name}")
        } else {
            name.to_string()
        };
        let written = format!("{prefix}{}", indices_text(&before, claim));
        let belongs = format!("{prefix}{}", indices_text(&after, claim));
        out.push(Rewrite {
            rhs,
            line: format!(
                "the kernel is not flipped: the claim reads `{written}` where `{belongs}` belongs (with that read's kernel offsets negated, it holds at every index value); element u of the input meets output u - p through kernel element p, so its delta is the full correlation with the flipped kernel"
            ),
        });
    }
    out
}

/// Whether an index adds a summed variable to another (`u + p`).
fn flippable(term: &IndexTerm, bound: &dyn Fn(usize) -> bool) -> bool {
    matches!(term, IndexTerm::Affine(parts, _)
        if parts.len() == 2 && parts.iter().all(|&(_, c)| c == 1)
            && parts.iter().filter(|&&(x, _)| bound(x)).count() == 1)
}

/// The reads (of values or deltas) with a flippable index.
fn count_reads(e: &TExpr, bound: &dyn Fn(usize) -> bool, count: &mut usize) {
    if let TExprKind::Element(_, indices) | TExprKind::Delta(_, indices) = &e.kind
        && indices.iter().any(|t| flippable(t, bound))
    {
        *count += 1;
    }
    e.for_each_child(|c| count_reads(c, bound, count));
}

/// Negates the summed variable of every flippable index of the `target`-th such read.
fn flip_read(
    e: &mut TExpr,
    bound: &dyn Fn(usize) -> bool,
    target: usize,
    seen: &mut usize,
    flipped: &mut Option<(Symbol, bool, Vec<IndexTerm>, Vec<IndexTerm>)>,
) {
    let delta = matches!(e.kind, TExprKind::Delta(..));
    if let TExprKind::Element(symbol, indices) | TExprKind::Delta(symbol, indices) = &mut e.kind
        && indices.iter().any(|t| flippable(t, bound))
    {
        if *seen == target {
            let before = indices.clone();
            for term in indices.iter_mut() {
                if flippable(term, bound)
                    && let IndexTerm::Affine(parts, _) = term
                {
                    for part in parts.iter_mut().filter(|(x, _)| bound(*x)) {
                        part.1 = -1;
                    }
                }
            }
            *flipped = Some((*symbol, delta, before, indices.clone()));
        }
        *seen += 1;
    }
    e.for_each_child_mut(|c| flip_read(c, bound, target, seen, flipped));
}
