//! `Forward`, `forward`, `evaluate` and `loss`: the forward pass of one sample.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use super::context::Ctx;

/// The `Forward` struct and the functions that compute it or the loss alone.
pub fn forward(ctx: &Ctx<'_>) -> TokenStream {
    let (network, derivation) = (ctx.network, ctx.derivation);
    let (p, f, data_args) = (&ctx.p, &ctx.f, &ctx.data_args);
    let (input_idents, input_types) = (&ctx.input_idents, &ctx.input_types);
    let mut forward_gen = ctx.codegen();
    let forward_roots: Vec<_> = derivation.forward.iter().map(|d| d.value).collect();
    let forward_values = forward_gen.compute(&forward_roots);
    let forward_statements = forward_gen.take_statements();
    let vector_fields: Vec<Ident> = network
        .vectors
        .iter()
        .map(|v| format_ident!("{}", v.name))
        .collect();
    let vector_types: Vec<TokenStream> =
        network.vectors.iter().map(|v| ctx.array(v.size)).collect();
    let mut next = 0;
    let vector_values: Vec<TokenStream> = network
        .vectors
        .iter()
        .map(|v| {
            let items = &forward_values[next..next + v.size];
            next += v.size;
            quote! { [#(#items),*] }
        })
        .collect();
    let loss_value = forward_values.last().cloned().unwrap_or_default();
    let loss_field = format_ident!("{}", network.loss.name);

    let mut loss_gen = ctx.codegen();
    let loss_root = derivation
        .forward
        .last()
        .map(|d| d.value)
        .into_iter()
        .collect::<Vec<_>>();
    let loss_only = loss_gen.compute(&loss_root);
    let loss_statements = loss_gen.take_statements();
    let loss_only = &loss_only[0];
    let nan_targets: Vec<TokenStream> = network
        .targets
        .iter()
        .map(|v| {
            let n = Literal::usize_unsuffixed(v.size);
            quote! { &[<#f as ::chainrule::runtime::Real>::NAN; #n] }
        })
        .collect();
    quote! {
        /// Every input, named vector and the loss of one sample.
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct Forward {
            #(pub #input_idents: #input_types,)*
            #(pub #vector_fields: #vector_types,)*
            pub #loss_field: F,
        }

        /// The forward pass; the loss and anything computed from targets are NaN (use
        /// [`evaluate`] to get them).
        pub fn forward(#p: &Params, #(#input_idents: &#input_types),*) -> Forward {
            evaluate(#p, #(#input_idents,)* #(#nan_targets,)*)
        }

        /// The forward pass and the loss of one sample.
        pub fn evaluate(#p: &Params, #data_args) -> Forward {
            #(#forward_statements)*
            Forward {
                #(#input_idents: *#input_idents,)*
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
