//! `sgd_step`: one gradient-descent update of one sample.

use proc_macro2::TokenStream;
use quote::quote;

use super::context::Ctx;

/// `sgd_step`.
pub fn sgd_step(ctx: &Ctx<'_>) -> TokenStream {
    let (p, data_args, data_call) = (&ctx.p, &ctx.data_args, &ctx.data_call);
    quote! {
        /// One gradient-descent step: `p -= lr * dL/dp`; returns the loss before it.
        pub fn sgd_step(#p: &mut Params, #data_args lr: F) -> F {
            let (loss, g) = gradient(#p, #data_call);
            let mut values = #p.flat();
            for (w, d) in values.iter_mut().zip(g.flat()) {
                *w -= lr * d;
            }
            #p.set_flat(&values);
            loss
        }
    }
}
