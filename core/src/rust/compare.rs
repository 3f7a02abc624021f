//! `compare_gradient`: a hand-written gradient function against the derived one.

use proc_macro2::TokenStream;
use quote::quote;

use super::context::Ctx;

/// `compare_gradient`.
pub fn compare(ctx: &Ctx<'_>) -> TokenStream {
    let (p, data_args, data_call) = (&ctx.p, &ctx.data_args, &ctx.data_call);
    let (input_args, target_args) = (&ctx.input_args, &ctx.target_args);
    let local = |name: &str| ctx.names.local(name);
    let (hand, tol, derived_loss, derived) = (
        local("hand"),
        local("tol"),
        local("derived_loss"),
        local("derived"),
    );
    let (hand_loss, hand_gradient, hand_values) = (
        local("hand_loss"),
        local("hand_gradient"),
        local("hand_values"),
    );
    quote! {
        /// Compares a hand-written gradient function (same signature as [`gradient`]) with
        /// the derived one at one sample: which elements differ, and whether by a sign
        /// flip or a constant factor.
        pub fn compare_gradient<H>(#hand: H, #p: &Params, #data_args #tol: F) -> ::chainrule::runtime::GradientDiff
        where
            H: Fn(&Params, #(#input_args,)* #(#target_args,)*) -> (F, Params),
        {
            let (#derived_loss, #derived) = gradient(#p, #data_call);
            let (#hand_loss, #hand_gradient) = #hand(#p, #data_call);
            let #derived: Vec<f64> = #derived.to_vec().iter().map(|v| (*v).into()).collect();
            let #hand_values: Vec<f64> = #hand_gradient.to_vec().iter().map(|v| (*v).into()).collect();
            ::chainrule::runtime::GradientDiff::compare_by(PARAMS, |i| Params::element_name(i).into(), &#derived, &#hand_values, #tol.into(), (#derived_loss.into(), #hand_loss.into()))
        }
    }
}
