//! `gradient_into` and `gradient`: the loss and dL/dp of one sample.

use proc_macro2::TokenStream;
use quote::quote;

use super::context::Ctx;
use super::loops::{Body, Write, gradient_ident};
use super::{EmitError, MAX_OPERATIONS, TooLarge};
use crate::ir::NodeId;
use crate::model::Symbol;

/// Below this many straight-line operations (and with no loop) a gradient is `#[inline]`:
/// large bodies inlined into a training loop only bloat it.
const INLINE_OPERATIONS: usize = 2_000;

/// A body up to its gradient: forward values, deltas, the loss bound to `loss_before`, the
/// gradient loops (not yet emitted) and the straight-line gradient elements as
/// `(parameter, element, expression)`.
pub struct Backward {
    pub statements: Vec<TokenStream>,
    pub loops: Vec<TokenStream>,
    pub elements: Vec<(usize, usize, TokenStream)>,
    pub inline: bool,
}

/// Builds the common part of `gradient_into` and `sgd_step`.
pub fn backward(ctx: &Ctx<'_>, write: Write) -> Result<Backward, EmitError> {
    let (network, derivation) = (ctx.network, ctx.derivation);
    let mut body = Body::new(ctx);
    body.code.limit = MAX_OPERATIONS;
    body.forward();
    body.deltas();
    let loops = body.gradient_loops(write);
    let layout = &derivation.layout;
    let mut roots: Vec<NodeId> = derivation
        .forward
        .last()
        .map(|d| d.value)
        .into_iter()
        .collect();
    let mut places = Vec::new();
    for (q, param) in network.params.iter().enumerate() {
        if ctx.plan.gradient[q].is_some() {
            continue;
        }
        for (e, var) in layout.vars(Symbol::Param(q)).enumerate() {
            let position = derivation.gradient_position[var.index()];
            if let Some(at) = position {
                roots.push(derivation.gradients[at].1);
                places.push((q, e));
            }
        }
        let _ = param;
    }
    let values = body.code.compute(&roots);
    let size = body.code.size_total.saturating_add(body.code.size);
    if values.len() != roots.len() || size > MAX_OPERATIONS {
        return Err(EmitError::TooLarge(TooLarge {
            network: network.name.clone(),
            operations: size,
            uncovered: ctx.plan.uncovered.clone(),
        }));
    }
    let mut values = values.into_iter();
    let loss = values.next().unwrap_or_default();
    let mut statements = body.code.take_statements();
    let loss_before = ctx.names.local("loss_before");
    statements.push(quote! { let #loss_before: F = #loss; });
    let elements = places
        .into_iter()
        .zip(values)
        .map(|((q, e), v)| (q, e, v))
        .collect();
    Ok(Backward {
        statements,
        inline: loops.is_empty() && size < INLINE_OPERATIONS,
        loops,
        elements,
    })
}

/// The path of element `e` of parameter `q` under `base` (`g`, `p`).
pub fn element(ctx: &Ctx<'_>, base: &TokenStream, q: usize, e: usize) -> TokenStream {
    let field = &ctx.param_fields[q];
    let shape = ctx.network.params[q].shape;
    // Only one element's path is built, never the whole parameter's.
    let index = super::context::element_index(shape, e);
    quote! { #base.#field #index }
}

/// `gradient_into` and `gradient`, or the size that makes them too large.
pub fn gradient(ctx: &Ctx<'_>) -> Result<TokenStream, EmitError> {
    let (p, data_args, data_call) = (&ctx.p, &ctx.data_args, &ctx.data_call);
    let backward = backward(ctx, Write::Into)?;
    let g = gradient_ident(&ctx.names);
    let base = quote! { #g };
    let assignments = backward.elements.iter().map(|(q, e, v)| {
        let place = element(ctx, &base, *q, *e);
        quote! { #place = #v; }
    });
    let (statements, loops) = (&backward.statements, &backward.loops);
    let (loss_before, loss) = (ctx.names.local("loss_before"), ctx.names.local("loss"));
    let inline = backward.inline.then(|| quote! { #[inline] });
    Ok(quote! {
        /// The loss of one sample, and dL/dp for every parameter written into `g`.
        #inline
        pub fn gradient_into(#p: &Params, #data_args #g: &mut Params) -> F {
            #(#statements)*
            #(#loops)*
            #(#assignments)*
            #loss_before
        }

        /// The loss and dL/dp for every parameter of one sample.
        #[inline]
        pub fn gradient(#p: &Params, #data_args) -> (F, Params) {
            let mut #g = Params::zeros();
            let #loss = gradient_into(#p, #data_call &mut #g);
            (#loss, #g)
        }
    })
}
