//! The loop over the steps of a mutual recurrence (an LSTM's gates, cell and state): one
//! `for t` around each vector's row, in evaluation order forwards and in reverse order
//! backwards, as backpropagation through time runs.

use proc_macro2::{Ident, Literal};
use quote::quote;

use super::{Body, Family, array_ident};
use crate::ir::NodeId;
use crate::model::Symbol;
use crate::tensor::{IndexVar, Tensor};

impl Body<'_, '_> {
    /// The arrays of every vector of `group` filled one step at a time together, with the
    /// plan's formulas (the plan loops all of a group or none of it).
    pub(super) fn steps_loop(&mut self, family: Family, group: std::ops::Range<usize>) {
        let formulas: Vec<(usize, NodeId)> = group
            .clone()
            .filter_map(|u| {
                let f = match family {
                    Family::Deltas => self.plan.delta[u],
                    _ => self.plan.forward[u],
                };
                f.map(|f| (u, f))
            })
            .collect();
        // Each vector reads the others' arrays, filled by this very loop.
        for &(u, _) in &formulas {
            self.arrays.insert((family, u));
        }
        for &(_, f) in &formulas {
            self.prepare(f);
        }
        let network = self.ctx.network;
        let Some(&(first, _)) = formulas.first() else {
            return;
        };
        let steps = Literal::usize_unsuffixed(network.vectors[first].shape.dims()[0]);
        let mut declarations = Vec::new();
        let mut rows = Vec::new();
        let mut time = None;
        for &(u, f) in &formulas {
            let tensor = match family {
                Family::Deltas => Tensor::Delta(Symbol::Vector(u)),
                _ => Tensor::Value(Symbol::Vector(u)),
            };
            let own: Vec<IndexVar> = self.plan.indices_of(tensor).to_vec();
            let vector = &network.vectors[u];
            let name = array_ident(&self.ctx.names, &vector.name, family);
            // `t` is the step, shared by every vector of the block; then one letter per axis.
            let letters: Vec<(IndexVar, char)> =
                own.iter().copied().zip(['t', 'k', 'u', 'v']).collect();
            self.name_indices(&letters);
            let ks: Vec<Ident> = own.iter().map(|&k| self.ident(k)).collect();
            time = ks.first().cloned().or(time);
            let (ty, zero) = (
                self.ctx.array_of(vector.shape),
                crate::rust::context::repeated(vector.shape, quote! { 0.0 }),
            );
            declarations.push(quote! { let mut #name: #ty = #zero; });
            if family == Family::Deltas
                && let Some(row) = self.step_row(&name, &own, f)
            {
                rows.push(row);
                continue;
            }
            let body = self.expr(f, 0);
            let mut row = quote! { #name #([#ks])* = #body; };
            for (k, n) in ks.iter().zip(vector.shape.dims()).skip(1).rev() {
                let n = Literal::usize_unsuffixed(n);
                row = quote! { for #k in 0..#n { #row } };
            }
            rows.push(row);
        }
        let Some(t) = time else {
            return;
        };
        let block = match family {
            Family::Deltas => {
                rows.reverse();
                quote! { for #t in (0..#steps).rev() { #(#rows)* } }
            }
            _ => quote! { for #t in 0..#steps { #(#rows)* } },
        };
        self.code.push(quote! { #(#declarations)* #block });
        for &(u, _) in &formulas {
            let vector = &network.vectors[u];
            let name = array_ident(&self.ctx.names, &vector.name, family);
            for (e, var) in self.vars(family, u).into_iter().enumerate() {
                let at = crate::rust::context::element_index(vector.shape, e);
                self.code.store(var, quote! { #name #at });
            }
        }
    }
}
