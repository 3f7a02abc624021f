//! The call of a chunk function through `runtime::vmath::widest`, so that its element-wise
//! loops are compiled for the machine's widest vector unit although the user's crate is
//! compiled for baseline x86-64.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

/// The work item that carries a chunk function's arguments into `widest` (`items`) and the
/// statement that runs it for rows `__start..__end` of a part (`call`).
pub(super) struct Dispatch {
    pub items: TokenStream,
    pub call: TokenStream,
}

/// `chunk` is `fn chunk(p: &Params, data..., __start, __end, __part: &mut __Part, __scale: F)`,
/// marked `#[inline(always)]`: the work item's `run`, itself always inlined, calls it, so all
/// of it lands in each of `widest`'s copies (a closure would not: LLVM leaves a large closure
/// called from three copies out of line, measured).
pub(super) fn dispatch(
    chunk: &Ident,
    work: &Ident,
    p: &Ident,
    data: &[&Ident],
    labels: &[bool],
    f: &TokenStream,
) -> Dispatch {
    let is_label = |i: usize| labels.get(i).copied().unwrap_or(false);
    let fields = data.iter().enumerate().map(|(i, ident)| {
        let ty = super::data::view_type(is_label(i), f, &quote! { '__a });
        quote! { #ident: #ty }
    });
    let reads = data.iter().map(|ident| quote! { self.#ident });
    let items = quote! {
        /// A chunk's arguments, for `widest`.
        struct #work<'__a> {
            #p: &'__a Params,
            #(#fields,)*
            __start: usize,
            __end: usize,
            __part: &'__a mut __Part,
            __scale: F,
        }

        impl ::chainrule::runtime::vmath::Vectorized for #work<'_> {
            type Output = ();
            #[inline(always)]
            fn run(self) {
                #chunk(self.#p, #(#reads,)* self.__start, self.__end, self.__part, self.__scale)
            }
        }
    };
    let call = quote! {
        ::chainrule::runtime::vmath::widest(#work {
            #p,
            #(#data,)*
            __start,
            __end,
            __part: &mut *__part,
            __scale,
        });
    };
    Dispatch { items, call }
}
