//! Sums in loop code: a running sum for short ones, eight partial sums for long ones, and a
//! loop over only the indices a bracket admits (the flipped kernel, a strided window).

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::super::indices::signed_tokens;
use super::{Body, LANES};
use crate::ir::NodeId;
use crate::tensor::{Affine, Bound, Leaf};

/// The fewest terms a sum over several indices must have before its brackets become loop
/// bounds (`bracketed_nest`).
const NEST_MIN_TERMS: usize = 32;

impl Body<'_, '_> {
    /// `sum over bounds of body`: one running sum for short sums, eight partial sums for
    /// long ones.
    pub(super) fn sum(&self, bounds: &[Bound], body: NodeId) -> TokenStream {
        // The summed letters first, as the general form names them.
        for bound in bounds {
            self.ident(bound.var);
        }
        if let [bound] = bounds
            && let Some(tight) = self.bracketed_sum(bound, body)
        {
            return tight;
        }
        // Below NEST_MIN_TERMS terms the full loops, their trip counts constant, are as fast
        // (a 2x2 max pool's delta over a 3x3 grid: 4.9 us per sample in loops, 6.0 us with
        // bounds computed at run time; digits CNN, measured).
        if bounds.len() > 1
            && bounds.iter().map(|b| b.size).product::<usize>() >= NEST_MIN_TERMS
            && let Some(tight) = self.bracketed_nest(bounds, body)
        {
            return tight;
        }
        // A bracket on the outer indices alone (a recurrence's `[0 <= t - 1 < T]` inside
        // `sum_i W_ki h_{t-1,i}`) decides the whole sum: tested once, outside its loop.
        if let Some(guard) = self.nested_guard(body)
            && let Some(Leaf::Guard(affine, lo, hi)) = self.plan.program.leaf_at(guard)
            && bounds.iter().all(|b| affine.coefficient(b.var) == 0)
        {
            let rest = self.product_without(body, guard, 0);
            let test = self.bracket_test(affine, *lo, *hi);
            let summed = self.sum_of(bounds, rest);
            return quote! { (if #test { #summed } else { 0.0 }) };
        }
        let body = self.expr(body, 0);
        self.sum_of(bounds, body)
    }

    /// `sum over bounds of body`, the body already written.
    fn sum_of(&self, bounds: &[Bound], body: TokenStream) -> TokenStream {
        let acc = self.ctx.names.local("acc");
        let count: usize = bounds.iter().map(|b| b.size).product();
        if let [bound] = bounds
            && count >= 2 * LANES
        {
            let i = self.ident(bound.var);
            // LANES independent partial sums, as a careful hand-written dot product keeps:
            // with one running sum IEEE order chains every add, and LLVM may not vectorize.
            let (lane, chunk) = (self.ctx.names.local("lane"), self.ctx.names.local("chunk"));
            let lanes = Literal::usize_unsuffixed(LANES);
            let chunks = Literal::usize_unsuffixed(count / LANES);
            let tail = (!count.is_multiple_of(LANES)).then(|| {
                let (start, end) = (
                    Literal::usize_unsuffixed(count / LANES * LANES),
                    Literal::usize_unsuffixed(count),
                );
                quote! { for #i in #start..#end { #acc[0] += #body; } }
            });
            return quote! {
                ({
                    let mut #acc: [F; #lanes] = [0.0; #lanes];
                    for #chunk in 0..#chunks {
                        for #lane in 0..#lanes {
                            let #i = #chunk * #lanes + #lane;
                            #acc[#lane] += #body;
                        }
                    }
                    #tail
                    ((#acc[0] + #acc[1]) + (#acc[2] + #acc[3])) + ((#acc[4] + #acc[5]) + (#acc[6] + #acc[7]))
                })
            };
        }
        let mut statement = quote! { #acc += #body; };
        for bound in bounds.iter().rev() {
            let (i, n) = (self.ident(bound.var), Literal::usize_unsuffixed(bound.size));
            statement = quote! { for #i in 0..#n { #statement } };
        }
        // Blocks in parentheses: an operand wherever they stand.
        quote! { ({ let mut #acc: F = 0.0; #statement #acc }) }
    }

    /// `sum_i [lo <= c i + r < hi] x` as a loop over only the `i` the bracket admits, its
    /// bounds computed at run time from the outer indices in `r`: the flipped kernel's
    /// `[0 <= k - i < n]` and a strided window's `[0 <= k - 2i < 2]` then cost their window,
    /// not the whole range. `None` when the body is not a bracket on `i` times a factor.
    fn bracketed_sum(&self, bound: &Bound, body: NodeId) -> Option<TokenStream> {
        let program = &self.plan.program;
        // The bracket may stand anywhere among the factors (`d (1 - h^2) [..] h`).
        let guard = self.guard_where(body, &|a| a.coefficient(bound.var) != 0)?;
        let Some(Leaf::Guard(affine, lo, hi)) = program.leaf_at(guard) else {
            return None;
        };
        let (lo, hi) = (*lo, *hi);
        let c = affine.coefficient(bound.var);
        let rest = affine.substitute(bound.var, &Affine::constant(0));
        let (first, last) = self.solved(c, &rest, lo, hi);
        let i = self.ident(bound.var);
        let x = self.product_without(body, guard, 0);
        let acc = self.ctx.names.local("acc");
        let (from, to) = (self.ctx.names.local("from"), self.ctx.names.local("to"));
        let size = Literal::isize_unsuffixed(bound.size as isize);
        Some(quote! {
            ({
                let #from: isize = (#first).max(0);
                let #to: isize = (#last + 1).min(#size).max(#from);
                let mut #acc: F = 0.0;
                for #i in (#from as usize)..(#to as usize) {
                    #acc += #x;
                }
                #acc
            })
        })
    }

    /// `sum over i, j, ... of [brackets] x` as nested loops over only the indices the brackets
    /// admit: each variable's bounds from every bracket that mentions it, with the variables
    /// inside it taken over their whole ranges, so that the innermost variable a bracket
    /// mentions gets exact bounds and no bracket is tested (a max pool's delta, two brackets
    /// over the window's two axes; `W @ flatten(p)`'s weight gradient, one bracket
    /// `[0 <= j - 9k - 3m < 3]` over `k` and `m`: one term where it tested 48). The terms
    /// are added in the order the full loops add them. `None` without such a bracket.
    fn bracketed_nest(&self, bounds: &[Bound], body: NodeId) -> Option<TokenStream> {
        let program = &self.plan.program;
        let summed = |a: &Affine| bounds.iter().any(|b| a.coefficient(b.var) != 0);
        let guards = self.guards_where(body, &summed);
        if guards.is_empty() {
            return None;
        }
        let brackets: Vec<(&Affine, i64, i64)> = guards
            .iter()
            .filter_map(|g| match program.leaf_at(*g) {
                Some(Leaf::Guard(affine, lo, hi)) => Some((affine, *lo, *hi)),
                _ => None,
            })
            .collect();
        let x = self
            .product_without_all(body, &guards, 0)
            .unwrap_or_else(|| quote! { 1.0 });
        let acc = self.ctx.names.local("acc");
        let mut statement = quote! { #acc += #x; };
        for (k, bound) in bounds.iter().enumerate().rev() {
            let (from, to) = self.admitted(bound, &bounds[k + 1..], &brackets);
            let i = self.ident(bound.var);
            let (from_ident, to_ident) = (self.ctx.names.local("from"), self.ctx.names.local("to"));
            statement = quote! {
                let #from_ident: isize = #from;
                let #to_ident: isize = #to.max(#from_ident);
                for #i in (#from_ident as usize)..(#to_ident as usize) {
                    #statement
                }
            };
        }
        Some(quote! { ({ let mut #acc: F = 0.0; #statement #acc }) })
    }

    /// The first and one past the last value of `bound`'s variable that the brackets admit
    /// for some values of the variables of `inner` (over their whole ranges), given the
    /// outer ones: `lo <= c i + r + s < hi` with `s` between the least and the greatest the
    /// inner terms reach.
    fn admitted(
        &self,
        bound: &Bound,
        inner: &[Bound],
        brackets: &[(&Affine, i64, i64)],
    ) -> (TokenStream, TokenStream) {
        let mut firsts = vec![quote! { 0isize }];
        let size = Literal::isize_suffixed(bound.size as isize);
        let mut lasts = vec![quote! { #size }];
        for &(affine, lo, hi) in brackets {
            let c = affine.coefficient(bound.var);
            if c == 0 {
                continue;
            }
            let (mut least, mut greatest) = (0i64, 0i64);
            let mut rest = affine.substitute(bound.var, &Affine::constant(0));
            for b in inner {
                let top = rest.coefficient(b.var) * (b.size as i64 - 1);
                least += top.min(0);
                greatest += top.max(0);
                rest = rest.substitute(b.var, &Affine::constant(0));
            }
            let (first, last) = self.solved(c, &rest, lo - greatest, hi - least);
            let end = quote! { #last + 1 };
            firsts.push(first);
            lasts.push(end);
        }
        let first = firsts
            .into_iter()
            .reduce(|a, b| quote! { #a.max(#b) })
            .unwrap_or_default();
        let end = lasts
            .into_iter()
            .reduce(|a, b| quote! { #a.min(#b) })
            .unwrap_or_default();
        (quote! { (#first) }, quote! { (#end) })
    }

    /// The first and the last `i` with `lo <= c i + r < hi` (`c` not 0, `r` the rest of the
    /// bracket's index, read from the indices in scope), by floor division by `|c|`.
    fn solved(&self, c: i64, rest: &Affine, lo: i64, hi: i64) -> (TokenStream, TokenStream) {
        let r = signed_tokens(rest, &|v| self.ident(v));
        // A bracket on the summed variable alone leaves a bare number: give it its type.
        let r = match rest.terms.is_empty() {
            true => quote! { (#r as isize) },
            false => r,
        };
        if c > 0 {
            let c = Literal::isize_unsuffixed(c as isize);
            let (lo, last) = (
                Literal::isize_unsuffixed(lo as isize),
                Literal::isize_unsuffixed(hi as isize - 1),
            );
            (
                quote! { (#lo - #r + #c - 1).div_euclid(#c) },
                quote! { (#last - #r).div_euclid(#c) },
            )
        } else {
            let c = Literal::isize_unsuffixed(-c as isize);
            let (lo, hi) = (
                Literal::isize_unsuffixed(lo as isize),
                Literal::isize_unsuffixed(hi as isize),
            );
            (
                quote! { (#r - #hi).div_euclid(#c) + 1 },
                quote! { (#r - #lo).div_euclid(#c) },
            )
        }
    }
}
