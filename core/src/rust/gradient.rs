//! `gradient`: the loss and dL/dp of one sample.

use proc_macro2::TokenStream;
use quote::quote;

use super::context::{Ctx, shaped};
use super::{EmitError, MAX_OPERATIONS, TooLarge};

/// `gradient`, or the size that makes it too large.
pub fn gradient(ctx: &Ctx<'_>) -> Result<TokenStream, EmitError> {
    let (network, derivation) = (ctx.network, ctx.derivation);
    let (p, data_args, param_fields) = (&ctx.p, &ctx.data_args, &ctx.param_fields);
    let loss_root = derivation
        .forward
        .last()
        .map(|d| d.value)
        .into_iter()
        .collect::<Vec<_>>();
    let mut gradient_gen = ctx.codegen();
    gradient_gen.limit = MAX_OPERATIONS;
    let mut gradient_roots = loss_root;
    gradient_roots.extend(derivation.gradients.iter().map(|(_, g)| *g));
    let gradient_values = gradient_gen.compute(&gradient_roots);
    if gradient_gen.size > MAX_OPERATIONS {
        return Err(EmitError::TooLarge(TooLarge {
            network: network.name.clone(),
            operations: gradient_gen.size,
        }));
    }
    let gradient_statements = gradient_gen.take_statements();
    let gradient_loss = &gradient_values[0];
    let mut next = 1;
    let gradient_fields: Vec<TokenStream> = network
        .params
        .iter()
        .map(|p| {
            let values = &gradient_values[next..next + p.shape.len()];
            next += p.shape.len();
            shaped(values, p.shape)
        })
        .collect();
    Ok(quote! {
        /// The loss and dL/dp for every parameter of one sample: straight-line code.
        #[inline]
        pub fn gradient(#p: &Params, #data_args) -> (F, Params) {
            #(#gradient_statements)*
            (#gradient_loss, Params { #(#param_fields: #gradient_fields,)* })
        }
    })
}
