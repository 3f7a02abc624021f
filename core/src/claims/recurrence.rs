//! The classic slip of backpropagation through time, named: a delta claimed for a recurrent
//! value without the term its next step carries back (`dprev_h` in CS231n's `rnn_backward`).

use super::Instance;
use crate::model::{Claim, IndexTerm, Network, Symbol, TExpr, TExprKind};

/// A line saying the carried term is missing, when a claim about `dL/dh[t]..` of a recurrent
/// `h` holds exactly at the last step (where no later step carries anything back) and fails
/// at every other; `None` otherwise.
pub(super) fn missing_carried_term(
    claim: &Claim,
    network: &Network,
    instances: &[Instance],
    holds: &[bool],
) -> Option<String> {
    let Symbol::Vector(v) = claim.wrt.symbol else {
        return None;
    };
    let vector = &network.vectors[v];
    if claim.of.symbol != Symbol::Loss || !vector.expr.reads(Symbol::Vector(v)) {
        return None;
    }
    let Some(IndexTerm::Var(t)) = claim.wrt.indices.first() else {
        return None;
    };
    let last = vector.shape.dims().first()?.checked_sub(1)?;
    let at_last = |i: &Instance| i.values.get(*t) == Some(&last);
    let pattern = instances
        .iter()
        .zip(holds)
        .all(|(instance, &held)| held == at_last(instance));
    (pattern && holds.iter().any(|&h| !h)).then(|| {
        let name = &vector.name;
        let letter = &claim.vars[*t].name;
        format!(
            "it holds only at the last step ({letter} = {last}), where no later step carries a delta back: the term through `{name}[{letter} + 1]` (the carried delta, `dprev_{name}` in CS231n's backward passes) is missing"
        )
    })
}

/// A claim's right-hand side with one slip undone (a read moved by one step, a kernel
/// flipped), and the line naming the slip should the rewritten claim hold.
pub(super) struct Rewrite {
    /// The rewritten right-hand side.
    pub rhs: TExpr,
    /// The line naming the slip, should the rewritten claim hold.
    pub line: String,
}

/// Most rewrites tried per claim (each is lowered at every index value).
const MAX_SHIFTS: usize = 8;

/// Every rewrite of `claim` that moves one read of a recurrent value (`h[t][j]`, with `h`
/// defined from its own earlier steps or in a mutual recurrence) one step back or forward:
/// the wrong time index, a slip that shows when the moved claim holds.
pub(super) fn step_shifts(claim: &Claim, network: &Network) -> Vec<Rewrite> {
    let recurrent = |v: usize| {
        network.recurrence_of(v).is_some() || network.vectors[v].expr.reads(Symbol::Vector(v))
    };
    let mut count = 0;
    count_reads(&claim.rhs, &recurrent, &mut count);
    let mut out = Vec::new();
    for target in 0..count {
        for by in [-1, 1] {
            let mut rhs = claim.rhs.clone();
            let mut seen = 0;
            let mut moved = None;
            shift_read(&mut rhs, &recurrent, target, by, &mut seen, &mut moved);
            let Some((v, before, after)) = moved else {
                continue;
            };
            let name = &network.vectors[v].name;
            let written = format!("{name}{}", indices_text(&before, claim));
            let belongs = format!("{name}{}", indices_text(&after, claim));
            let why = match claim.wrt.symbol {
                Symbol::Param(p) => format!(
                    ": `{name}[t]` is computed from `{name}[t - 1]`, so `{}` meets the previous step's value in the step it acts at",
                    network.params[p].name
                ),
                _ => String::new(),
            };
            out.push(Rewrite {
                rhs,
                line: format!(
                    "the claim reads `{written}` where `{belongs}` belongs (with that one read moved a step, it holds at every index value): the wrong time index{why}"
                ),
            });
            if out.len() == MAX_SHIFTS {
                return out;
            }
        }
    }
    out
}

/// Counts the reads of recurrent values whose first index names an index variable.
fn count_reads(e: &TExpr, recurrent: &dyn Fn(usize) -> bool, count: &mut usize) {
    if let TExprKind::Element(Symbol::Vector(v), indices) = &e.kind
        && recurrent(*v)
        && step_var(indices).is_some()
    {
        *count += 1;
    }
    e.for_each_child(|c| count_reads(c, recurrent, count));
}

/// The variable and offset of a read's first index: `t` in `h[t]` or `h[t - 1]`.
fn step_var(indices: &[IndexTerm]) -> Option<(usize, i64)> {
    match indices.first()? {
        IndexTerm::Var(x) => Some((*x, 0)),
        IndexTerm::Affine(parts, offset) => match parts[..] {
            [(x, 1)] => Some((x, *offset)),
            _ => None,
        },
        IndexTerm::Const(_) => None,
    }
}

/// Moves the `target`-th read (counted as [`count_reads`] does) by `by` steps, recording the
/// vector and its indices before and after.
fn shift_read(
    e: &mut TExpr,
    recurrent: &dyn Fn(usize) -> bool,
    target: usize,
    by: i64,
    seen: &mut usize,
    moved: &mut Option<(usize, Vec<IndexTerm>, Vec<IndexTerm>)>,
) {
    if let TExprKind::Element(Symbol::Vector(v), indices) = &mut e.kind
        && recurrent(*v)
        && let Some((x, offset)) = step_var(indices)
    {
        if *seen == target {
            let before = indices.clone();
            indices[0] = match offset + by {
                0 => IndexTerm::Var(x),
                o => IndexTerm::Affine(vec![(x, 1)], o),
            };
            *moved = Some((*v, before, indices.clone()));
        }
        *seen += 1;
    }
    e.for_each_child_mut(|c| shift_read(c, recurrent, target, by, seen, moved));
}

/// `[t - 1][j]` with the claim's names for its index variables.
pub(super) fn indices_text(indices: &[IndexTerm], claim: &Claim) -> String {
    // A bound variable's name carries a `#n` that tells it apart from a free one.
    let name = |x: usize| {
        claim
            .vars
            .get(x)
            .map_or("?", |v| v.name.split('#').next().unwrap_or("?"))
    };
    indices
        .iter()
        .map(|term| match term {
            IndexTerm::Const(c) => format!("[{c}]"),
            IndexTerm::Var(x) => format!("[{}]", name(*x)),
            IndexTerm::Affine(parts, offset) => {
                let mut text = String::new();
                for (n, &(x, c)) in parts.iter().enumerate() {
                    let sign = match (n, c < 0) {
                        (0, true) => "-",
                        (0, false) => "",
                        (_, true) => " - ",
                        (_, false) => " + ",
                    };
                    let scale = if c.abs() == 1 {
                        String::new()
                    } else {
                        format!("{}*", c.abs())
                    };
                    text.push_str(&format!("{sign}{scale}{}", name(x)));
                }
                match offset.cmp(&0) {
                    std::cmp::Ordering::Less => text.push_str(&format!(" - {}", -offset)),
                    std::cmp::Ordering::Greater => text.push_str(&format!(" + {offset}")),
                    std::cmp::Ordering::Equal => {}
                }
                format!("[{text}]")
            }
        })
        .collect()
}
