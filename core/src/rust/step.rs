//! `sgd_step`: one gradient-descent update of one sample, in place.

use proc_macro2::TokenStream;
use quote::quote;

use super::EmitError;
use super::context::Ctx;
use super::gradient::backward;
use super::loops::Write;
use super::updates::straight_line;

/// `sgd_step`: every value and straight-line gradient element is computed first, then the
/// loops and assignments update `p` where it lies; no copy of the parameters.
pub fn sgd_step(ctx: &Ctx<'_>) -> Result<TokenStream, EmitError> {
    let (p, data_args) = (&ctx.p, &ctx.data_args);
    let backward = backward(ctx, Write::Step)?;
    let (bindings, updates) = straight_line(ctx, Write::Step, &backward.elements);
    let lr = ctx.names.local("lr");
    let (statements, loops) = (&backward.statements, &backward.loops);
    let loss_before = ctx.names.local("loss_before");
    let inline = backward.inline.then(|| quote! { #[inline] });
    Ok(quote! {
        /// One gradient-descent step: `p -= lr * dL/dp`, in place; returns the loss before it.
        #inline
        pub fn sgd_step(#p: &mut Params, #data_args #lr: F) -> F {
            #(#statements)*
            #(#bindings)*
            #(#loops)*
            #(#updates)*
            #loss_before
        }
    })
}
