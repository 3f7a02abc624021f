//! The loss of each row of a chunk in the matrix form, and its partials times the batch
//! scale into the rows' deltas and the gradient; partials that read only parameters (weight
//! decay's) once per chunk, times its number of rows.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::quote;

use super::matrix::{Gen, Reads};
use crate::ir::{Node, NodeId};
use crate::layout::Slot;
use crate::model::Symbol;

impl Gen<'_> {
    /// The loss of each row, and its partials times the batch scale into deltas and gradients.
    pub(super) fn loss(&self) -> TokenStream {
        let Some(def) = self.derivation.forward.last() else {
            return TokenStream::new();
        };
        let mut reads = Reads::default();
        let (loss_statements, loss_exprs) =
            self.body(&[def.value], false, &[], &[], "l", &mut reads);
        let loss_value = loss_exprs.first().cloned().unwrap_or_default();
        let mut written = BTreeSet::new();
        let (mut targets, mut roots) = (Vec::new(), Vec::new());
        // A partial that reads only parameters (weight decay's `2 lambda w`) is the same in
        // every row: added once for the chunk, times its number of rows.
        let (mut fixed_targets, mut fixed_roots) = (Vec::new(), Vec::new());
        for (var, partial) in &def.partials {
            let of_param = matches!(
                self.derivation.layout.slot(*var),
                Slot::Value(Symbol::Param(_), _)
            );
            if of_param && self.reads_only_params(*partial) {
                let mut unused = BTreeSet::new();
                if let Some(t) = self.target(*var, false, &mut unused) {
                    fixed_targets.push(t);
                    fixed_roots.push(*partial);
                }
                continue;
            }
            if let Some(t) = self.target(*var, false, &mut written) {
                targets.push(t);
                roots.push(*partial);
            }
        }
        let (statements, exprs) = self.body(&roots, false, &[], &[], "q", &mut reads);
        let mut no_reads = Reads::default();
        let (fixed_statements, fixed_exprs) =
            self.body(&fixed_roots, false, &[], &[], "w", &mut no_reads);
        let rows = self.row_bindings(&reads);
        let deltas = self.delta_rows(&written);
        let fixed = if fixed_targets.is_empty() {
            TokenStream::new()
        } else {
            quote! {
                let __rows_scale: F = (__m as F) * __scale;
                #(#fixed_statements)*
                #(#fixed_targets += __rows_scale * (#fixed_exprs);)*
            }
        };
        quote! {
            let mut __loss_sum: F = 0.0;
            for __r in 0..__m {
                #rows
                #(#loss_statements)*
                let __loss: F = #loss_value;
                __loss_sum += __loss;
                #deltas
                #(#statements)*
                #(#targets += __scale * (#exprs);)*
            }
            __part.loss += __loss_sum;
            #fixed
        }
    }

    /// Whether `node` reads no named scalar but parameters.
    fn reads_only_params(&self, node: NodeId) -> bool {
        let graph = &self.derivation.graph;
        let mut stack = vec![node];
        let mut seen = BTreeSet::new();
        while let Some(n) = stack.pop() {
            if !seen.insert(n) {
                continue;
            }
            match graph.node(n) {
                Node::Var(v) => {
                    if !matches!(
                        self.derivation.layout.slot(*v),
                        Slot::Value(Symbol::Param(_), _)
                    ) {
                        return false;
                    }
                }
                other => other.for_each_child(|c| stack.push(c)),
            }
        }
        true
    }
}
