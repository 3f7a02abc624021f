//! The GEMMs of the matrix form for one product over a chunk of rows: forward
//! `Z = X Wᵀ + b` (`W @ v`) or `Z = X W + b` (`v @ W`), backward `∂L/∂W += Δᵀ X` (or `Xᵀ Δ`),
//! `Δ_X += Δ W` (or `Δ Wᵀ`) and the bias's column sums.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use super::fields::{chunk_ident, delta_field, value_field};
use super::layers::{Convention, Product};
use super::matrix::Gen;
use crate::model::Symbol;

impl Gen<'_> {
    /// The chunk's rows of a product's input, as a matrix.
    pub(super) fn input_view(&self, product: &Product) -> TokenStream {
        match product.input {
            Symbol::Vector(v) => {
                let (field, n) = (
                    value_field(v),
                    Literal::usize_unsuffixed(product.input_size),
                );
                quote! { ::chainrule::parallel::view(&__part.#field, __m, #n) }
            }
            other => {
                let ident = self
                    .data_position(other)
                    .and_then(|d| self.data.get(d))
                    .map(|i| chunk_ident(i));
                quote! { #ident }
            }
        }
    }

    /// `out = input W{ᵀ} (+ b)` for the chunk's rows.
    pub(super) fn product_forward(
        &self,
        product: &Product,
        out: &Ident,
        size: usize,
    ) -> TokenStream {
        let p = &self.p;
        let n = Literal::usize_unsuffixed(size);
        let weight = format_ident!("{}", self.network.params[product.weight].name);
        let w = match product.convention {
            Convention::MatVec => quote! { ::chainrule::ndarray::aview2(&#p.#weight).t() },
            Convention::VecMat => quote! { ::chainrule::ndarray::aview2(&#p.#weight) },
        };
        let init = match product.bias {
            Some(b) => {
                let b = format_ident!("{}", self.network.params[b].name);
                quote! {
                    for __r in 0..__m {
                        __z[__r * #n..(__r + 1) * #n].copy_from_slice(&#p.#b);
                    }
                }
            }
            None => quote! { __z.iter_mut().for_each(|__v| *__v = 0.0); },
        };
        let input = self.input_view(product);
        quote! {
            {
                let __z = &mut __part.#out[..__m * #n];
                #init
                ::chainrule::parallel::gemm(1.0, &#input, &#w, 1.0, &mut ::chainrule::parallel::view_mut(__z, __m, #n));
            }
        }
    }

    /// `∂L/∂W += Δᵀ X` (or `Xᵀ Δ`) and `Δ_X += Δ W` (or `Δ Wᵀ`) from the deltas in `delta`.
    pub(super) fn product_backward(
        &self,
        product: &Product,
        delta: &Ident,
        size: usize,
    ) -> TokenStream {
        let p = &self.p;
        let n = Literal::usize_unsuffixed(size);
        let weight = format_ident!("{}", self.network.params[product.weight].name);
        let offset = self.plan.offsets[product.weight];
        let (start, end) = (
            Literal::usize_unsuffixed(offset),
            Literal::usize_unsuffixed(offset + size * product.input_size),
        );
        let input = self.input_view(product);
        let k = Literal::usize_unsuffixed(product.input_size);
        let (gradient, propagate_w, grad_shape) = match product.convention {
            // W is [n][k]: dW = Δᵀ X; Δ_X = Δ W.
            Convention::MatVec => (
                quote! { ::chainrule::parallel::gemm(1.0, &__delta.t(), &#input, 1.0, &mut __grad); },
                quote! { ::chainrule::ndarray::aview2(&#p.#weight) },
                quote! { #n, #k },
            ),
            // W is [k][n]: dW = Xᵀ Δ; Δ_X = Δ Wᵀ.
            Convention::VecMat => (
                quote! { ::chainrule::parallel::gemm(1.0, &#input.t(), &__delta, 1.0, &mut __grad); },
                quote! { ::chainrule::ndarray::aview2(&#p.#weight).t() },
                quote! { #k, #n },
            ),
        };
        let bias = product.bias.map(|b| {
            let offset = self.plan.offsets[b];
            let (start, end) = (
                Literal::usize_unsuffixed(offset),
                Literal::usize_unsuffixed(offset + size),
            );
            quote! {
                for __r in 0..__m {
                    for (__a, __v) in __part.acc[#start..#end].iter_mut().zip(&__part.#delta[__r * #n..(__r + 1) * #n]) {
                        *__a += *__v;
                    }
                }
            }
        });
        let propagate = match product.input {
            Symbol::Vector(v) if self.plan.layers.get(v).is_some_and(|l| l.live) => {
                let d = delta_field(v);
                Some(quote! {
                    ::chainrule::parallel::gemm(1.0, &__delta, &#propagate_w, 1.0, &mut ::chainrule::parallel::view_mut(&mut __part.#d, __m, #k));
                })
            }
            _ => None,
        };
        quote! {
            {
                let __delta = ::chainrule::parallel::view(&__part.#delta, __m, #n);
                {
                    let mut __grad = ::chainrule::parallel::view_mut(&mut __part.acc[#start..#end], #grad_shape);
                    #gradient
                }
                #propagate
            }
            #bias
        }
    }
}
