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
        // A term of the loss that reads only parameters (weight decay's `lambda sum(W^2)`) is
        // the same in every row: computed once for the chunk, times its number of rows, not
        // left to LLVM to hoist out of the row loop (it stopped doing so once, when the chunk
        // function was inlined, and a 2,368-square penalty cost more than the rest).
        let (row_terms, fixed_terms) = self.loss_terms(def.value);
        let roots: Vec<NodeId> = row_terms.iter().map(|t| t.0).collect();
        let (loss_statements, loss_exprs) = self.body(&roots, false, &[], &[], "l", &mut reads);
        let loss_value = signed_sum(&row_terms, &loss_exprs);
        let fixed_loss = if fixed_terms.is_empty() {
            TokenStream::new()
        } else {
            let mut no_reads = Reads::default();
            let roots: Vec<NodeId> = fixed_terms.iter().map(|t| t.0).collect();
            let (statements, exprs) = self.body(&roots, false, &[], &[], "c", &mut no_reads);
            let value = signed_sum(&fixed_terms, &exprs);
            quote! {
                #(#statements)*
                __part.loss += (__m as F) * (#value);
            }
        };
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
            #fixed_loss
            #fixed
        }
    }

    /// The loss's terms (its top-level sums and differences, each with whether it is
    /// subtracted) that read a row, and those that read only parameters; the whole loss as
    /// its one row term when it is not a sum of both kinds.
    fn loss_terms(&self, loss: NodeId) -> (Vec<Term>, Vec<Term>) {
        let graph = &self.derivation.graph;
        let mut terms = Vec::new();
        let mut pending = vec![(loss, false)];
        while let Some((n, minus)) = pending.pop() {
            match graph.node(n) {
                Node::Add(a, b) => pending.extend([(*b, minus), (*a, minus)]),
                Node::Sub(a, b) => pending.extend([(*b, !minus), (*a, minus)]),
                Node::Sum(items) => pending.extend(items.iter().rev().map(|&i| (i, minus))),
                _ => terms.push((n, minus)),
            }
        }
        let (fixed, row): (Vec<Term>, Vec<Term>) = terms
            .into_iter()
            .partition(|&(t, _)| self.reads_only_params(t));
        if fixed.is_empty() || row.is_empty() {
            return (vec![(loss, false)], Vec::new());
        }
        (row, fixed)
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

/// A term of a sum: the node, and whether it is subtracted.
type Term = (NodeId, bool);

/// `a - b + c` from the terms' expressions, in order.
fn signed_sum(terms: &[Term], exprs: &[TokenStream]) -> TokenStream {
    let mut out = TokenStream::new();
    for (i, ((_, minus), e)) in terms.iter().zip(exprs).enumerate() {
        out.extend(match (i, minus) {
            (0, false) => quote! { #e },
            (0, true) => quote! { -(#e) },
            (_, false) => quote! { + (#e) },
            (_, true) => quote! { - (#e) },
        });
    }
    out
}
