//! The gradient loops of a body: each parameter's verified gradient formula, written into
//! `g`, or applied to `p` as an SGD, momentum or Adam step, element by element.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::quote;

use super::{Body, Write, gradient_ident};
use crate::model::Symbol;
use crate::tensor::{IndexVar, Tensor};

impl Body<'_, '_> {
    /// The gradient loops, which write `g` or update `p`; their inputs are bound first.
    /// The caller emits them after the straight-line part, so that in a step every value
    /// is computed before the first weight changes.
    pub fn gradient_loops(&mut self, write: Write) -> Vec<TokenStream> {
        let network = self.ctx.network;
        let mut loops = Vec::new();
        for (q, param) in network.params.iter().enumerate() {
            let Some(f) = self.plan.gradient[q] else {
                continue;
            };
            self.prepare(f);
            let field = &self.ctx.param_fields[q];
            let target = match write {
                Write::Into => {
                    let g = gradient_ident(&self.ctx.names);
                    quote! { #g.#field }
                }
                Write::Step | Write::Momentum | Write::Adam => {
                    let p = &self.ctx.p;
                    quote! { #p.#field }
                }
            };
            let own = self.plan.indices_of(Tensor::Delta(Symbol::Param(q)));
            let named: Vec<(IndexVar, char)> =
                own.iter().copied().zip(['i', 'j', 'k', 'l']).collect();
            self.name_indices(&named);
            let body = self.expr(f, 0);
            let ident = |d: usize| own.get(d).map(|&v| self.ident(v));
            let bounds: Vec<(Option<Ident>, usize)> = param
                .shape
                .dims()
                .into_iter()
                .enumerate()
                .map(|(d, n)| (ident(d), n))
                .collect();
            let axes = bounds.iter().map(|(i, _)| i);
            let index = quote! { #([#axes])* };
            let element = quote! { #target #index };
            let mut statement = match write {
                Write::Into => quote! { #element = #body; },
                Write::Step => {
                    let lr = self.ctx.names.local("lr");
                    quote! { #element -= #lr * (#body); }
                }
                Write::Momentum | Write::Adam => {
                    super::super::optim::update(self.ctx, write, field, &index, quote! { (#body) })
                }
            };
            for (index, bound) in bounds.into_iter().rev() {
                let bound = Literal::usize_unsuffixed(bound);
                statement = quote! { for #index in 0..#bound { #statement } };
            }
            loops.push(statement);
        }
        loops
    }
}
