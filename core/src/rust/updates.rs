//! The in-place updates of the straight-line gradient elements in `sgd_step`,
//! `momentum_step` and `adam_step`: consecutive elements of one parameter bound as one array
//! and updated by one runtime loop, which LLVM vectorizes; a lone element by one statement.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::context::Ctx;
use super::loops::Write;
use crate::model::Shape;

/// The bindings of the straight-line elements' gradients and their updates, for `write`.
pub fn straight_line(
    ctx: &Ctx<'_>,
    write: Write,
    elements: &[(usize, usize, TokenStream)],
) -> (Vec<TokenStream>, Vec<TokenStream>) {
    let places: Vec<(usize, usize)> = elements.iter().map(|(q, e, _)| (*q, *e)).collect();
    let values: Vec<&TokenStream> = elements.iter().map(|(_, _, v)| v).collect();
    let runs = runs(&places);
    (
        run_bindings(ctx, &runs, &values),
        run_updates(ctx, write, &runs),
    )
}

/// The statement that updates element `index` of parameter `field` with gradient `g`, in
/// place (`sgd_step`, `momentum_step`, `adam_step`).
pub fn update(
    ctx: &Ctx<'_>,
    write: Write,
    field: &Ident,
    index: &TokenStream,
    g: TokenStream,
) -> TokenStream {
    let (p, s, k) = (&ctx.p, ctx.names.local("s"), ctx.names.local("k"));
    match write {
        Write::Step => {
            let lr = ctx.names.local("lr");
            quote! { #p.#field #index -= #lr * #g; }
        }
        Write::Momentum => quote! {
            ::chainrule::runtime::momentum_update(&mut #p.#field #index, &mut #s.buf.#field #index, #g, &#k);
        },
        Write::Adam => quote! {
            ::chainrule::runtime::adam_update(&mut #p.#field #index, &mut #s.m.#field #index, &mut #s.v.#field #index, #g, &#k);
        },
        // Only the three steps update `p`: asking it of `gradient_into` is an emitter's mistake.
        Write::Into => panic!("an update of p asked of gradient_into"), // ok: never from input
    }
}

/// The index of element `e` of a parameter of `shape`: `[1][0]`, `[2]` or nothing.
fn index(shape: Shape, e: usize) -> TokenStream {
    super::context::element_index(shape, e)
}

/// Consecutive straight-line elements of one parameter, updated together: `start..start + len`
/// of the backward pass's elements, parameter `q`'s elements `e0..e0 + len`.
struct Run {
    q: usize,
    e0: usize,
    start: usize,
    len: usize,
}

/// The runs of straight-line elements `(parameter, element)`, in order.
fn runs(elements: &[(usize, usize)]) -> Vec<Run> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < elements.len() {
        let (q, e0) = elements[start];
        let len = elements[start..]
            .iter()
            .enumerate()
            .take_while(|(i, (q2, e))| *q2 == q && *e == e0 + i)
            .count();
        out.push(Run { q, e0, start, len });
        start += len;
    }
    out
}

/// The gradient of each run, bound where the backward pass computes it: a lone element's as
/// `let gradN: F`, a longer run's as one array `let gradN: [F; len]` that its update reads.
fn run_bindings(ctx: &Ctx<'_>, runs: &[Run], values: &[&TokenStream]) -> Vec<TokenStream> {
    runs.iter()
        .map(|run| {
            let name = ctx.names.local(&format!("grad{}", run.start));
            let v = &values[run.start..run.start + run.len];
            if run.len == 1 {
                quote! { let #name: F = #(#v)*; }
            } else {
                let len = proc_macro2::Literal::usize_unsuffixed(run.len);
                quote! { let #name: [F; #len] = [#(#v),*]; }
            }
        })
        .collect()
}

/// The update of each run: a lone element on its own, a longer run as one loop
/// (`*_update_run`, which LLVM vectorizes where separate element updates stayed scalar).
fn run_updates(ctx: &Ctx<'_>, write: Write, runs: &[Run]) -> Vec<TokenStream> {
    let (p, s, k) = (&ctx.p, ctx.names.local("s"), ctx.names.local("k"));
    runs.iter()
        .map(|run| {
            let name = ctx.names.local(&format!("grad{}", run.start));
            let (field, shape) = (&ctx.param_fields[run.q], ctx.network.params[run.q].shape);
            if run.len == 1 {
                return update(ctx, write, field, &index(shape, run.e0), quote! { #name });
            }
            let flat =
                |owner: TokenStream| flattened(owner, shape.rank(), run.e0, run.e0 + run.len);
            match write {
                Write::Step => {
                    let (pf, lr) = (flat(quote! { #p.#field }), ctx.names.local("lr"));
                    quote! { ::chainrule::runtime::sgd_update_run(#pf, &#name, #lr); }
                }
                Write::Momentum => {
                    let (pf, bf) = (flat(quote! { #p.#field }), flat(quote! { #s.buf.#field }));
                    quote! { ::chainrule::runtime::momentum_update_run(#pf, #bf, &#name, &#k); }
                }
                Write::Adam | Write::Into => {
                    let (pf, mf, vf) = (
                        flat(quote! { #p.#field }),
                        flat(quote! { #s.m.#field }),
                        flat(quote! { #s.v.#field }),
                    );
                    quote! { ::chainrule::runtime::adam_update_run(#pf, #mf, #vf, &#name, &#k); }
                }
            }
        })
        .collect()
}

/// `&mut owner` as one row-major slice of its elements `lo..hi` (`as_flattened_mut` once per
/// axis past the first).
fn flattened(owner: TokenStream, rank: usize, lo: usize, hi: usize) -> TokenStream {
    let flatten = (1..rank).map(|_| quote! { .as_flattened_mut() });
    let (lo, hi) = (
        proc_macro2::Literal::usize_unsuffixed(lo),
        proc_macro2::Literal::usize_unsuffixed(hi),
    );
    quote! { &mut #owner #(#flatten)* [#lo..#hi] }
}
