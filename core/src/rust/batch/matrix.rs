//! The matrix form of one chunk of rows: forward `Z = X Wᵀ (+ b)` (or `X W`) by GEMM,
//! element-wise vectors as loops over element 0's definition, the loss and its partials per
//! row with the batch rule's scale fused in, then backward `Δ_prev += Δ W` and
//! `∂L/∂W += Δᵀ X` by GEMM, element-wise deltas and bias sums as loops.

use std::collections::BTreeSet;

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use super::expr::{self, Emitted as Body};
use super::fields::{
    chunk_ident, delta_field, deltas_ident, product_delta_field, product_field, row_ident,
    value_field, values_ident,
};
use super::layers::{Elementwise, Gain, Kind, Layer, Plan, Product};
use super::{kernels, softmax};
use crate::derive::Derivation;
use crate::ir::{NodeId, Var};
use crate::layout::Slot;
use crate::model::{Network, Shape, Symbol};
use crate::rust::Float;

/// The pieces `mod.rs` assembles.
pub struct Emitted {
    /// `__Part`'s fields: each vector's values and deltas for one chunk.
    pub fields: TokenStream,
    /// Sizing those fields for `__chunk` rows.
    pub prepare: TokenStream,
    /// `fn __chunk_matrix`.
    pub function: TokenStream,
    /// Its call for rows `__start..__end` of a part.
    pub call: TokenStream,
}

/// Tokens for one network's matrix form.
pub fn emit(
    network: &Network,
    derivation: &Derivation,
    float: Float,
    plan: &Plan,
    data: &[&Ident],
    labels: &[bool],
    p: &Ident,
) -> Emitted {
    let f = match float {
        Float::F64 => quote! { f64 },
        Float::F32 => quote! { f32 },
    };
    let g = Gen {
        network,
        derivation,
        float,
        plan,
        data,
        labels,
        p: p.clone(),
    };
    let mut fields = TokenStream::new();
    let mut prepare = TokenStream::new();
    for layer in &plan.layers {
        let (v, d) = (value_field(layer.vector), delta_field(layer.vector));
        let n = Literal::usize_unsuffixed(layer.size);
        fields.extend(quote! { #v: Vec<F>, #d: Vec<F>, });
        prepare.extend(quote! { __part.#v.resize(__chunk * #n, 0.0); });
        if layer.live {
            prepare.extend(quote! { __part.#d.resize(__chunk * #n, 0.0); });
        }
        if let Kind::Elementwise(e) = &layer.kind {
            for i in 0..e.products.len() {
                let (z, q) = (
                    product_field(layer.vector, i),
                    product_delta_field(layer.vector, i),
                );
                fields.extend(quote! { #z: Vec<F>, #q: Vec<F>, });
                prepare.extend(quote! { __part.#z.resize(__chunk * #n, 0.0); });
                if layer.live {
                    prepare.extend(quote! { __part.#q.resize(__chunk * #n, 0.0); });
                }
            }
        }
    }
    let (data_args, chunk_views) = super::data::chunk_inputs(data, labels, &f);
    let forward: Vec<TokenStream> = plan.layers.iter().map(|l| g.forward(l)).collect();
    let zero = plan.layers.iter().filter(|l| l.live).map(|l| {
        let (d, n) = (delta_field(l.vector), Literal::usize_unsuffixed(l.size));
        quote! { __part.#d[..__m * #n].iter_mut().for_each(|__v| *__v = 0.0); }
    });
    let loss = g.loss();
    let backward: Vec<TokenStream> = plan
        .layers
        .iter()
        .rev()
        .filter(|l| l.live)
        .map(|l| g.backward(l))
        .collect();
    let function = quote! {
        /// The matrix form over rows `__start..__end`: adds their loss to `__part.loss` and
        /// their gradient, times `__scale`, to `__part.acc`.
        #[allow(clippy::too_many_arguments)]
        fn __chunk_matrix(#p: &Params, #(#data_args,)* __start: usize, __end: usize, __part: &mut __Part, __scale: F) {
            let __m = __end - __start;
            #(#chunk_views)*
            #(#forward)*
            #(#zero)*
            #loss
            #(#backward)*
        }
    };
    // Called directly, not through `vmath::widest`: inlined there, the per-row loss of a
    // network with weight decay (`examples/digits.rs`: 2,368 squares per row) was no longer
    // hoisted out of the row loop by LLVM, and training took 2.5x as long (measured); the
    // matrix form's element-wise work is its `vmath` kernels, which dispatch on their own.
    let call = quote! { __chunk_matrix(#p, #(#data,)* __start, __end, __part, __scale); };
    Emitted {
        fields,
        prepare,
        function,
        call,
    }
}

/// What a loop body reads: rows of vectors and of inputs/targets.
#[derive(Default)]
pub(super) struct Reads {
    vectors: BTreeSet<usize>,
    data: BTreeSet<usize>,
}

pub(super) struct Gen<'a> {
    pub(super) network: &'a Network,
    pub(super) derivation: &'a Derivation,
    pub(super) float: Float,
    pub(super) plan: &'a Plan,
    pub(super) data: &'a [&'a Ident],
    /// Which data are label targets (class indices, read as their one-hot elements).
    pub(super) labels: &'a [bool],
    /// The parameters argument.
    pub(super) p: Ident,
}

impl Gen<'_> {
    fn width(&self, symbol: Symbol) -> Literal {
        Literal::usize_unsuffixed(self.network.shape_of(symbol).len())
    }

    pub(super) fn data_position(&self, symbol: Symbol) -> Option<usize> {
        match symbol {
            Symbol::Input(i) => Some(i),
            Symbol::Target(i) => Some(self.network.inputs.len() + i),
            _ => None,
        }
    }

    /// An element index: `__k + e` inside an element loop, the literal `e` outside.
    fn index(looped: bool, e: usize) -> TokenStream {
        let e_lit = Literal::usize_unsuffixed(e);
        match (looped, e) {
            (true, 0) => quote! { __k },
            (true, _) => quote! { __k + #e_lit },
            (false, _) => quote! { #e_lit },
        }
    }

    /// The tokens reading named scalar `var` in a body for one row.
    fn leaf(&self, var: Var, looped: bool, reads: &mut Reads) -> Option<TokenStream> {
        let p = &self.p;
        let Slot::Value(symbol, e) = self.derivation.layout.slot(var) else {
            return None;
        };
        let index = Self::index(looped, e);
        match symbol {
            Symbol::Vector(v) => {
                reads.vectors.insert(v);
                let s = values_ident(v);
                Some(quote! { #s[#index] })
            }
            Symbol::Input(_) | Symbol::Target(_) => {
                let position = self.data_position(symbol)?;
                reads.data.insert(position);
                let row = row_ident(self.data.get(position)?);
                if self.labels.get(position).copied().unwrap_or(false) {
                    // Element k of a label's one-hot vector: [k = y].
                    return Some(quote! { (if #row == #index { 1.0 } else { 0.0 }) });
                }
                Some(quote! { #row[#index] })
            }
            Symbol::Param(q) => {
                let field = format_ident!("{}", self.network.params[q].name);
                let shape = self.network.params[q].shape;
                Some(match (shape, looped) {
                    (Shape::Scalar, _) => quote! { #p.#field },
                    (Shape::Vector(_), _) => quote! { #p.#field[#index] },
                    (_, true) => {
                        let flat =
                            crate::rust::context::flat_slice(quote! { #p.#field }, shape, false);
                        quote! { #flat[#index] }
                    }
                    (_, false) => {
                        let at = crate::rust::context::element_index(shape, e);
                        quote! { #p.#field #at }
                    }
                })
            }
            Symbol::Loss => Some(quote! { __loss }),
        }
    }

    /// Statements and expressions of `roots` for element `__k` of one row (`looped`), or for
    /// the row as a whole; `fixed` named scalars keep their index in every element.
    pub(super) fn body(
        &self,
        roots: &[NodeId],
        looped: bool,
        fixed: &[Var],
        subst: &[(NodeId, TokenStream)],
        tag: &str,
        reads: &mut Reads,
    ) -> Body {
        let mut leaf = |var: Var| self.leaf(var, looped && !fixed.contains(&var), reads);
        // Every leaf of a planned body maps (plan() accepted only value slots).
        expr::emit(
            &self.derivation.graph,
            self.float,
            roots,
            subst,
            tag,
            &mut leaf,
        )
        .unwrap_or_default()
    }

    /// `let` bindings of the rows a body reads, for row `__r` of the chunk.
    pub(super) fn row_bindings(&self, reads: &Reads) -> TokenStream {
        let mut out = TokenStream::new();
        for &v in &reads.vectors {
            let (s, field, n) = (
                values_ident(v),
                value_field(v),
                self.width(Symbol::Vector(v)),
            );
            out.extend(quote! { let #s = &__part.#field[__r * #n..(__r + 1) * #n]; });
        }
        for &d in &reads.data {
            if let Some(ident) = self.data.get(d) {
                let (row, chunk) = (row_ident(ident), chunk_ident(ident));
                if self.labels.get(d).copied().unwrap_or(false) {
                    out.extend(quote! { let #row: usize = #chunk[__r]; });
                } else {
                    out.extend(quote! { let #row = #chunk.row(__r); });
                }
            }
        }
        out
    }

    /// The products inside an element-wise vector as substitutions: `__z{i}[__k]`.
    fn product_leaves(&self, e: &Elementwise, looped: bool) -> Vec<(NodeId, TokenStream)> {
        let index = Self::index(looped, 0);
        e.nodes
            .iter()
            .enumerate()
            .map(|(i, node)| {
                let z = format_ident!("__z{}", i);
                (*node, quote! { #z[#index] })
            })
            .collect()
    }

    /// `let __z{i} = ...` rows of an element-wise vector's products.
    fn product_rows(&self, layer: &Layer, e: &Elementwise) -> TokenStream {
        let n = Literal::usize_unsuffixed(layer.size);
        (0..e.products.len())
            .map(|i| {
                let (z, field) = (format_ident!("__z{}", i), product_field(layer.vector, i));
                quote! { let #z = &__part.#field[__r * #n..(__r + 1) * #n]; }
            })
            .collect()
    }

    fn forward(&self, layer: &Layer) -> TokenStream {
        let (out, n) = (
            value_field(layer.vector),
            Literal::usize_unsuffixed(layer.size),
        );
        match &layer.kind {
            Kind::Softmax { source, log } => {
                softmax::forward(*source, layer.vector, layer.size, *log)
            }
            Kind::Product(product) => self.product_forward(product, &out, layer.size),
            Kind::Elementwise(e) => {
                let products = e.products.iter().enumerate().map(|(i, product)| {
                    self.product_forward(
                        &Product {
                            bias: None,
                            ..*product
                        },
                        &product_field(layer.vector, i),
                        layer.size,
                    )
                });
                let def = &self.derivation.forward[layer.first];
                let looped = layer.size > 1;
                let outer = kernels::outer_kernel(self.derivation, def.value, &out, layer.size)
                    .filter(|_| looped);
                let root = outer.as_ref().map_or(def.value, |(arg, _)| *arg);
                let map = outer.map(|(_, call)| call);
                let mut reads = Reads::default();
                let subst = self.product_leaves(e, looped);
                let (statements, exprs) =
                    self.body(&[root], looped, &e.fixed, &subst, "f", &mut reads);
                let rows = self.row_bindings(&reads);
                let product_rows = self.product_rows(layer, e);
                let value = exprs.first().cloned().unwrap_or_default();
                quote! {
                    #(#products)*
                    for __r in 0..__m {
                        let __out = &mut __part.#out[__r * #n..(__r + 1) * #n];
                        #rows
                        #product_rows
                        for __k in 0..#n {
                            #(#statements)*
                            __out[__k] = #value;
                        }
                    }
                    #map
                }
            }
        }
    }

    /// Where a partial with respect to `var` is added: a delta row or a gradient element.
    pub(super) fn target(
        &self,
        var: Var,
        looped: bool,
        written: &mut BTreeSet<usize>,
    ) -> Option<TokenStream> {
        let Slot::Value(symbol, e) = self.derivation.layout.slot(var) else {
            return None;
        };
        let index = Self::index(looped, e);
        match symbol {
            Symbol::Vector(v) => {
                written.insert(v);
                let d = deltas_ident(v);
                Some(quote! { #d[#index] })
            }
            Symbol::Param(q) => {
                let offset = Literal::usize_unsuffixed(self.plan.offsets[q]);
                Some(quote! { __part.acc[#offset + #index] })
            }
            _ => None,
        }
    }

    pub(super) fn delta_rows(&self, written: &BTreeSet<usize>) -> TokenStream {
        let mut out = TokenStream::new();
        for &v in written {
            let (d, field, n) = (
                deltas_ident(v),
                delta_field(v),
                self.width(Symbol::Vector(v)),
            );
            out.extend(quote! { let #d = &mut __part.#field[__r * #n..(__r + 1) * #n]; });
        }
        out
    }

    fn backward(&self, layer: &Layer) -> TokenStream {
        let (own, n) = (
            delta_field(layer.vector),
            Literal::usize_unsuffixed(layer.size),
        );
        match &layer.kind {
            Kind::Softmax { source, log } => {
                softmax::backward(*source, layer.vector, layer.size, *log)
            }
            Kind::Product(product) => self.product_backward(product, &own, layer.size),
            Kind::Elementwise(e) => {
                let def = &self.derivation.forward[layer.first];
                let looped = layer.size > 1;
                let mut written = BTreeSet::new();
                let mut targets = Vec::new();
                let mut roots = Vec::new();
                let in_product = |v: Var| match self.derivation.layout.slot(v) {
                    Slot::Value(s, _) => e
                        .products
                        .iter()
                        .any(|p| s == Symbol::Param(p.weight) || s == p.input),
                    Slot::Delta(..) => false,
                };
                for (var, partial) in &def.partials {
                    if in_product(*var) {
                        continue;
                    }
                    let moving = looped && !e.fixed.contains(var);
                    if let Some(t) = self.target(*var, moving, &mut written) {
                        targets.push(t);
                        roots.push(*partial);
                    }
                }
                let gain_roots: Vec<NodeId> = e
                    .gains
                    .iter()
                    .filter_map(|g| match g {
                        Gain::Node(x) | Gain::Neg(x) => Some(*x),
                        Gain::Const(_) => None,
                    })
                    .collect();
                let first_gain = roots.len();
                roots.extend(&gain_roots);
                if roots.is_empty() && e.products.is_empty() {
                    return TokenStream::new();
                }
                let mut reads = Reads::default();
                let subst = self.product_leaves(e, looped);
                let (statements, exprs) =
                    self.body(&roots, looped, &e.fixed, &subst, "b", &mut reads);
                let rows = self.row_bindings(&reads);
                let product_rows = self.product_rows(layer, e);
                let deltas = self.delta_rows(&written);
                let partials = &exprs[..first_gain.min(exprs.len())];
                let mut gains = exprs.get(first_gain..).unwrap_or_default().iter();
                let mut product_deltas = TokenStream::new();
                let mut product_delta_rows = TokenStream::new();
                let index = Self::index(looped, 0);
                for (i, g) in e.gains.iter().enumerate() {
                    let (q, field) = (
                        format_ident!("__q{}", i),
                        product_delta_field(layer.vector, i),
                    );
                    product_delta_rows
                        .extend(quote! { let #q = &mut __part.#field[__r * #n..(__r + 1) * #n]; });
                    let value = match g {
                        Gain::Const(c) => {
                            let c = expr::literal(self.float, *c);
                            quote! { __delta * #c }
                        }
                        Gain::Node(_) => {
                            let x = gains.next().cloned().unwrap_or_default();
                            quote! { __delta * (#x) }
                        }
                        Gain::Neg(_) => {
                            let x = gains.next().cloned().unwrap_or_default();
                            quote! { -(__delta * (#x)) }
                        }
                    };
                    product_deltas.extend(quote! { #q[#index] = #value; });
                }
                let products = e.products.iter().enumerate().map(|(i, product)| {
                    self.product_backward(
                        &Product {
                            bias: None,
                            ..*product
                        },
                        &product_delta_field(layer.vector, i),
                        layer.size,
                    )
                });
                quote! {
                    for __r in 0..__m {
                        let __dc = &__part.#own[__r * #n..(__r + 1) * #n];
                        #rows
                        #product_rows
                        #deltas
                        #product_delta_rows
                        for __k in 0..#n {
                            let __delta = __dc[__k];
                            #(#statements)*
                            #(#targets += __delta * (#partials);)*
                            #product_deltas
                        }
                    }
                    #(#products)*
                }
            }
        }
    }
}
