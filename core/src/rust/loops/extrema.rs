//! `max` and `min` in loop code: a fold in increasing index that keeps the earlier value on a
//! tie, exactly as the scalar graph's `maximum` folds compute it, and the first-maximum bracket
//! of a max's derivative as the position that fold keeps.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::super::indices::signed_tokens;
use super::Body;
use crate::builtin::Pairwise;
use crate::ir::NodeId;
use crate::tensor::{Affine, Bound};

impl Body<'_, '_> {
    /// `max_i body` (or `min`): the runtime's two-argument `maximum` folded from `i = 0`.
    pub(super) fn extremum(&self, f: Pairwise, bound: &Bound, body: NodeId) -> TokenStream {
        let i = self.ident(bound.var);
        let n = Literal::usize_unsuffixed(bound.size);
        let body = self.expr(body, 0);
        let best = self.ctx.names.local("best");
        let pick = match f {
            Pairwise::Minimum => quote! { ::chainrule::runtime::Real::minimum },
            _ => quote! { ::chainrule::runtime::Real::maximum },
        };
        quote! {
            ({
                let mut #best: F = { let #i = 0usize; #body };
                for #i in 1..#n {
                    #best = #pick(#best, #body);
                }
                #best
            })
        }
    }

    /// `[at = the first i where body is maximal]`: 1 or 0. The fold replaces its value only
    /// where `maximum` would (`!(best >= value)`), so the position kept is the one the scalar
    /// graph's derivative brackets pick at a tie.
    pub(super) fn first_extremum(
        &self,
        f: Pairwise,
        at: &Affine,
        bound: &Bound,
        body: NodeId,
    ) -> TokenStream {
        let i = self.ident(bound.var);
        let n = Literal::usize_unsuffixed(bound.size);
        let body = self.expr(body, 0);
        let at = signed_tokens(at, &|v| self.ident(v));
        let (best, first, value) = (
            self.ctx.names.local("best"),
            self.ctx.names.local("first"),
            self.ctx.names.local("value"),
        );
        let keeps = match f {
            Pairwise::Minimum => quote! { #best <= #value },
            _ => quote! { #best >= #value },
        };
        quote! {
            ({
                let mut #best: F = { let #i = 0usize; #body };
                let mut #first: usize = 0;
                for #i in 1..#n {
                    let #value: F = #body;
                    if !(#keeps) {
                        #best = #value;
                        #first = #i;
                    }
                }
                if #first as isize == #at { 1.0 } else { 0.0 }
            })
        }
    }
}
