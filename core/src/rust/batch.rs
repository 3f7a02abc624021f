//! The batch functions: `gradient_batch` and `sgd_step_batch`, one sample per row of
//! `ndarray` views, combined by the network's `batch` rule.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use super::context::Ctx;

/// `Batch`, `gradient_batch` and `sgd_step_batch`. Per sample they call `gradient`.
pub fn batch(ctx: &Ctx<'_>) -> TokenStream {
    let network = ctx.network;
    let (f, p, count_lit) = (&ctx.f, &ctx.p, &ctx.count_lit);
    let (input_idents, target_idents) = (&ctx.input_idents, &ctx.target_idents);
    let batch_checks: Vec<TokenStream> = network
        .inputs
        .iter()
        .chain(&network.targets)
        .map(|v| {
            let ident = format_ident!("{}", v.name);
            let name = &v.name;
            let n = Literal::usize_unsuffixed(v.size);
            quote! {
                if #ident.ncols() != #n {
                    return Err(::chainrule::runtime::ShapeError::new(#name, format!("{} columns", #n), format!("{} columns", #ident.ncols())));
                }
                if #ident.nrows() != rows {
                    return Err(::chainrule::runtime::ShapeError::new(#name, format!("{} rows, as many as `{}`", rows, first), format!("{} rows", #ident.nrows())));
                }
            }
        })
        .collect();
    let first_data = network
        .inputs
        .first()
        .map(|v| format_ident!("{}", v.name))
        .unwrap_or_else(|| format_ident!("_none"));
    let first_name = network
        .inputs
        .first()
        .map(|v| v.name.clone())
        .unwrap_or_default();
    let row_copies: Vec<TokenStream> = network
        .inputs
        .iter()
        .chain(&network.targets)
        .map(|v| {
            let ident = format_ident!("{}", v.name);
            let n = Literal::usize_unsuffixed(v.size);
            quote! {
                let mut #ident = [<#f as ::chainrule::runtime::Real>::ZERO; #n];
                for (slot, value) in #ident.iter_mut().zip(batch.#ident.row(row)) {
                    *slot = *value;
                }
            }
        })
        .collect();
    let batch_fields: Vec<Ident> = input_idents.iter().chain(target_idents).cloned().collect();
    let batch_scale = match network.batch {
        chainrule_grammar::BatchRule::Mean => quote! { 1.0 / (rows as #f) },
        chainrule_grammar::BatchRule::Sum => quote! { 1.0 },
    };
    let view_args = quote! { #(#input_idents: ::chainrule::ndarray::ArrayView2<'_, #f>,)* #(#target_idents: ::chainrule::ndarray::ArrayView2<'_, #f>,)* };
    quote! {
        struct Batch<'a> {
            #(#batch_fields: ::chainrule::ndarray::ArrayView2<'a, F>,)*
        }

        /// The loss and gradient over a batch, one sample per row, combined by the
        /// network's `batch` rule. Wrong column or row counts are an `Err`.
        pub fn gradient_batch(#p: &Params, #view_args) -> Result<(F, Params), ::chainrule::runtime::ShapeError> {
            let rows = #first_data.nrows();
            let first = #first_name;
            #(#batch_checks)*
            if rows == 0 {
                return Err(::chainrule::runtime::ShapeError::new(first, "at least one row", "0 rows"));
            }
            let batch = Batch { #(#batch_fields,)* };
            let mut total_loss: F = 0.0;
            let mut total = [0.0 as F; #count_lit];
            for row in 0..rows {
                #(#row_copies)*
                let (loss, g) = gradient(#p, #(&#batch_fields,)*);
                total_loss += loss;
                for (t, v) in total.iter_mut().zip(g.flat()) {
                    *t += v;
                }
            }
            let scale: F = #batch_scale;
            let mut flat = total;
            flat.iter_mut().for_each(|v| *v *= scale);
            let mut g = Params::zeros();
            g.set_flat(&flat);
            Ok((total_loss * scale, g))
        }

        /// One gradient-descent step over a batch, the gradient combined by the network's
        /// `batch` rule; returns the loss before it.
        pub fn sgd_step_batch(#p: &mut Params, #view_args lr: F) -> Result<F, ::chainrule::runtime::ShapeError> {
            let (loss, g) = gradient_batch(#p, #(#batch_fields,)*)?;
            let mut values = #p.flat();
            for (w, d) in values.iter_mut().zip(g.flat()) {
                *w -= lr * d;
            }
            #p.set_flat(&values);
            Ok(loss)
        }
    }
}
