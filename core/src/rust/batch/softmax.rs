//! `p = softmax(z)` and `q = log_softmax(z)` of a whole vector in the matrix form: row by row,
//! shifted by the row's largest element, with the chunk's exponentials through
//! `::chainrule::runtime::vmath`; backward, the Jacobian-vector products
//! `dz_j += p_j (dp_j - sum_k dp_k p_k)` and `dz_j += dq_j - softmax_j sum_k dq_k`.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::fields::{delta_field, value_field};

/// The forward rows of vector `out` from vector `source`, `size` elements per row.
pub(super) fn forward(source: usize, out: usize, size: usize, log: bool) -> TokenStream {
    let (z, p, n) = (
        value_field(source),
        value_field(out),
        Literal::usize_unsuffixed(size),
    );
    let finish = if log {
        // log_softmax_k = z_k - max - ln(sum_j e^{z_j - max})
        quote! {
            let __src = &__part.#z[__r * #n..(__r + 1) * #n];
            let __max = __src.iter().fold(F::NEG_INFINITY, |__a, __v| __a.max(*__v));
            let __log_sum = __sum.ln();
            for (__o, __v) in __out.iter_mut().zip(__src) {
                *__o = (*__v - __max) - __log_sum;
            }
        }
    } else {
        quote! {
            for __o in __out.iter_mut() {
                *__o /= __sum;
            }
        }
    };
    quote! {
        for __r in 0..__m {
            let __src = &__part.#z[__r * #n..(__r + 1) * #n];
            let __max = __src.iter().fold(F::NEG_INFINITY, |__a, __v| __a.max(*__v));
            let __out = &mut __part.#p[__r * #n..(__r + 1) * #n];
            for (__o, __v) in __out.iter_mut().zip(__src) {
                *__o = *__v - __max;
            }
        }
        ::chainrule::runtime::vmath::map_in_place(
            ::chainrule::runtime::vmath::Kernel::Exp,
            &mut __part.#p[..__m * #n],
        );
        for __r in 0..__m {
            let __out = &mut __part.#p[__r * #n..(__r + 1) * #n];
            let __sum: F = __out.iter().sum();
            #finish
        }
    }
}

/// The backward rows: vector `out`'s delta into vector `source`'s.
pub(super) fn backward(source: usize, out: usize, size: usize, log: bool) -> TokenStream {
    let (p, dp, dz, n) = (
        value_field(out),
        delta_field(out),
        delta_field(source),
        Literal::usize_unsuffixed(size),
    );
    let rows = quote! {
        let __values = &__part.#p[__r * #n..(__r + 1) * #n];
        let __own = &__part.#dp[__r * #n..(__r + 1) * #n];
        let __into = &mut __part.#dz[__r * #n..(__r + 1) * #n];
    };
    if log {
        quote! {
            for __r in 0..__m {
                #rows
                let __total: F = __own.iter().sum();
                for ((__d, __q), __g) in __into.iter_mut().zip(__values).zip(__own) {
                    *__d += *__g - __q.exp() * __total;
                }
            }
        }
    } else {
        quote! {
            for __r in 0..__m {
                #rows
                let __dot: F = __own.iter().zip(__values).map(|(__g, __v)| *__g * *__v).sum();
                for ((__d, __v), __g) in __into.iter_mut().zip(__values).zip(__own) {
                    *__d += *__v * (*__g - __dot);
                }
            }
        }
    }
}
