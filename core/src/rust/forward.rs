//! `Forward`, `forward`, `evaluate` and `loss`: the forward pass of one sample.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::context::Ctx;
use super::loops::{Body, Family, array_ident};
use crate::ir::NodeId;
use crate::model::{Shape, Symbol};

/// The `Forward` struct and the functions that compute it or the loss alone.
pub fn forward(ctx: &Ctx<'_>) -> TokenStream {
    let (network, derivation) = (ctx.network, ctx.derivation);
    let (p, f, data_args) = (&ctx.p, &ctx.f, &ctx.data_args);
    let (input_idents, input_types) = (&ctx.input_idents, &ctx.input_types);
    let input_args = &ctx.input_args;
    // An array argument is copied into `Forward` from behind its reference.
    let input_copies: Vec<TokenStream> = network
        .inputs
        .iter()
        .zip(input_idents)
        .map(|(v, ident)| match v.shape {
            Shape::Scalar => quote! { #ident },
            _ => quote! { *#ident },
        })
        .collect();
    let layout = &derivation.layout;
    // Each slot's definition (a mutual recurrence defines its vectors step by step, so
    // slots and definitions are not in one order).
    let mut definition = vec![None; layout.len()];
    for d in &derivation.forward {
        definition[d.var.index()] = Some(d.value);
    }
    // evaluate: the loops, then every straight-line vector element and the loss.
    let mut body = Body::new(ctx);
    body.forward();
    let mut roots: Vec<NodeId> = Vec::new();
    for (v, _) in network.vectors.iter().enumerate() {
        if ctx.plan.forward[v].is_none() {
            roots.extend(
                layout
                    .vars(Symbol::Vector(v))
                    .filter_map(|var| definition[var.index()]),
            );
        }
    }
    let loss_root: Vec<NodeId> = derivation
        .forward
        .last()
        .map(|d| d.value)
        .into_iter()
        .collect();
    roots.extend(&loss_root);
    let mut forward_values = body.code.compute(&roots).into_iter();
    let vector_fields: Vec<Ident> = network
        .vectors
        .iter()
        .map(|v| format_ident!("{}", v.name))
        .collect();
    let vector_types: Vec<TokenStream> = network
        .vectors
        .iter()
        .map(|v| super::context::field_type(v.shape, f))
        .collect();
    let vector_values: Vec<TokenStream> = network
        .vectors
        .iter()
        .enumerate()
        .map(|(v, vector)| {
            if ctx.plan.forward[v].is_some() {
                let name = array_ident(&ctx.names, &vector.name, Family::Values);
                quote! { #name }
            } else {
                let items: Vec<TokenStream> = forward_values.by_ref().take(vector.size).collect();
                super::context::shaped(&items, vector.shape)
            }
        })
        .collect();
    let loss_value = forward_values.next().unwrap_or_default();
    let forward_statements = body.code.take_statements();
    let loss_field = format_ident!("{}", network.loss.name);
    // `Forward`'s fields keep the network's names; the arguments may not (`Names`).
    let input_fields: Vec<Ident> = network
        .inputs
        .iter()
        .map(|v| format_ident!("{}", v.name))
        .collect();

    let mut body = Body::new(ctx);
    body.forward();
    let loss_only = body.code.compute(&loss_root);
    let loss_statements = body.code.take_statements();
    let loss_only = loss_only.into_iter().next().unwrap_or_default();
    let nan_targets: Vec<TokenStream> = network
        .targets
        .iter()
        .map(|v| {
            match v.shape {
                // No class: every element of the one-hot vector reads NaN.
                _ if v.kind == chainrule_grammar::TargetKind::Label => quote! { usize::MAX },
                Shape::Scalar => quote! { <#f as ::chainrule::runtime::Real>::NAN },
                shape => {
                    let nan = super::context::repeated(
                        shape,
                        quote! { <#f as ::chainrule::runtime::Real>::NAN },
                    );
                    quote! { &#nan }
                }
            }
        })
        .collect();
    quote! {
        /// Every input, named vector and the loss of one sample.
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct Forward {
            #(pub #input_fields: #input_types,)*
            #(pub #vector_fields: #vector_types,)*
            pub #loss_field: F,
        }

        /// The forward pass; the loss and anything computed from targets are NaN (use
        /// [`evaluate`] to get them).
        pub fn forward(#p: &Params, #(#input_idents: #input_args),*) -> Forward {
            evaluate(#p, #(#input_idents,)* #(#nan_targets,)*)
        }

        /// The forward pass and the loss of one sample.
        pub fn evaluate(#p: &Params, #data_args) -> Forward {
            #(#forward_statements)*
            Forward {
                #(#input_fields: #input_copies,)*
                #(#vector_fields: #vector_values,)*
                #loss_field: #loss_value,
            }
        }

        /// The loss of one sample.
        pub fn loss(#p: &Params, #data_args) -> F {
            #(#loss_statements)*
            #loss_only
        }
    }
}
