//! The batch functions of a generated module: `gradient_batch`, `gradient_batch_into` (with a
//! reusable [`BatchWorkspace`]), `sgd_step_batch` and `sgd_step_batch_into`.
//!
//! A batch is split into parts fixed by its number of rows (`::chainrule::parallel`), run on
//! every core with the `parallel` feature, and the parts' sums are combined in order, so the
//! result never depends on the thread count. Each part either calls the per-sample
//! `gradient` once per row, or, in the matrix form (`matrix.rs`), computes every layer over
//! chunks of rows with GEMMs, its element-wise parts as loops built from the derivation.
//!
//! [`BatchWorkspace`]: ../../../chainrule/index.html

mod data;
mod elementwise;
mod expr;
mod fields;
mod gemm;
mod kernels;
mod layers;
mod loss;
mod matrix;
mod softmax;
mod statements;
mod widest;

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use crate::CompiledNetwork;
use crate::model::{Network, Shape};

use super::Float;
use super::names::Names;
pub use layers::{Irregular, Plan, plan};

/// How the batch functions compute a batch (`derive!(batch = ...)`, `chainrule rust --batch`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BatchMode {
    /// The per-sample gradient once per row.
    PerSample,
    /// The matrix form wherever the network's structure allows it (else per sample).
    Matrix,
    /// The matrix form for networks and batches where it is faster (measured), else per
    /// sample.
    #[default]
    Auto,
}

impl BatchMode {
    /// The mode named as in `derive!` and the CLI: `per_sample`, `matrix`, `auto`.
    pub fn from_name(name: &str) -> Option<BatchMode> {
        match name {
            "per_sample" => Some(BatchMode::PerSample),
            "matrix" => Some(BatchMode::Matrix),
            "auto" => Some(BatchMode::Auto),
            _ => None,
        }
    }
}

/// Rows per matrix-form chunk: bounds the workspace (chunk x the vectors' widths, twice) and
/// is a multiple of every GEMM kernel's block.
pub const CHUNK: usize = 256;

/// Fewest rows per part in the matrix form and per sample: a part's fixed cost (zeroing and
/// combining a gradient accumulator) stays small beside its work.
const MATRIX_PART: usize = 32;
const SAMPLE_PART: usize = 32;
/// Fewest rows per part in the statements form: a recurrence runs one GEMM per step with a
/// column per row of the part, and below this its per-call cost (packing, dispatch) weighs
/// (benches/elman.rs: 64 rows in one part against two).
const STATEMENTS_PART: usize = 64;

/// In `auto`, the matrix form is emitted when the products do at least this many
/// multiply-adds per sample (measured with `benches/batch_crossover.rs`, docs/batch.md: at 96
/// per sample the per-sample code stays faster up to 64 rows, at 320 the matrix form wins
/// from 8 rows, at 1,664 from 2).
pub const AUTO_MIN_WORK: usize = 256;
/// Products at least this large use the matrix form from [`AUTO_MIN_ROWS_LARGE`] rows,
/// smaller ones from [`AUTO_MIN_ROWS`].
pub const AUTO_LARGE_WORK: usize = 1024;
/// See [`AUTO_LARGE_WORK`].
pub const AUTO_MIN_ROWS: usize = 8;
/// See [`AUTO_LARGE_WORK`].
pub const AUTO_MIN_ROWS_LARGE: usize = 2;

/// The batch items of a network's module, calling its `gradient`, `Params::flat` and
/// `Params::zeros`.
pub fn items(
    network: &Network,
    compiled: &CompiledNetwork,
    float: Float,
    mode: BatchMode,
) -> TokenStream {
    let derivation = &compiled.derivation;
    let f = match float {
        Float::F64 => quote! { f64 },
        Float::F32 => quote! { f32 },
    };
    let names = Names::new(network);
    let local = |name: &str| names.local(name);
    let (p, g, lr, ws) = (local("p"), local("g"), local("lr"), local("ws"));
    let (params, data_arg) = (local("params"), local("data"));
    let planned = match mode {
        BatchMode::PerSample => None,
        _ => plan(network, derivation).ok(),
    };
    // Whether the matrix form is emitted, and from how many rows it runs.
    let matrix = planned.filter(|plan| match mode {
        BatchMode::Matrix => true,
        _ => plan.has_product() && plan.product_work() >= AUTO_MIN_WORK,
    });
    // Networks the layer plan does not read run their tensor-level statements over chunks.
    let statements = match (mode, &matrix) {
        (BatchMode::PerSample, _) | (_, Some(_)) => None,
        _ => statements::form(network, compiled).ok().filter(|program| {
            mode == BatchMode::Matrix
                || statements::contraction_work(network, program) >= AUTO_MIN_WORK
        }),
    };
    let min_rows = match (mode, &matrix) {
        (BatchMode::Matrix, _) => 1,
        (_, Some(plan)) if plan.product_work() >= AUTO_LARGE_WORK => AUTO_MIN_ROWS_LARGE,
        _ => AUTO_MIN_ROWS,
    };

    let data = data::data(network, &names);
    let idents: Vec<&Ident> = data.iter().map(|d| &d.ident).collect();
    let view_args = data::view_args(&data, &f);
    let count = Literal::usize_unsuffixed(network.param_count());
    let first_name = data.first().map_or("", |d| d.name);
    let rows = data::rows(&data);
    let checks = data::checks(&data);
    let scale = match network.batch {
        chainrule_grammar::BatchRule::Mean => quote! { 1.0 / (__rows as #f) },
        chainrule_grammar::BatchRule::Sum => quote! { 1.0 },
    };

    // Per sample: copy each row into the fixed-size arrays `gradient` takes.
    let (row_copies, row_arguments) = data::row_arguments(&data, &f);
    let per_sample = quote! {
        for __row in __range {
            #(#row_copies)*
            // One sample's gradient into the part's heap scratch: no `Params` on the stack,
            // whatever the network's size.
            let __g = __part.scratch.get_or_insert_with(Params::boxed_zeros);
            __part.loss += gradient_into(#p, #(#row_arguments,)* __g);
            __g.add_to(&mut __part.acc);
        }
        for __a in __part.acc.iter_mut() {
            *__a *= __scale;
        }
    };

    let sample_part = Literal::usize_unsuffixed(SAMPLE_PART);
    let labels: Vec<bool> = data
        .iter()
        .map(|d| matches!(d.kind, data::Kind::Label(_)))
        .collect();
    let emitted = match (&matrix, &statements) {
        (Some(plan), _) => Some(matrix::emit(
            network, derivation, float, plan, &idents, &labels, &p,
        )),
        (None, Some(program)) => Some(statements::emit(
            network, program, float, &idents, &labels, &p,
        )),
        (None, None) => None,
    };
    let statements_form = matrix.is_none() && statements.is_some();
    // Multiply-adds per row, which decide how many parts a batch is worth splitting into (the
    // parameter count stands for them per sample: one multiply-add per weight, twice).
    let work = match (&matrix, &statements) {
        (Some(plan), _) => plan.product_work(),
        (None, Some(program)) => statements::contraction_work(network, program),
        (None, None) => network.param_count(),
    };
    let work = Literal::usize_unsuffixed(work.max(1));
    let (part_fields, prepare, chunk_fn, choose, run_matrix) = match emitted {
        Some(m) => {
            let chunk = Literal::usize_unsuffixed(CHUNK);
            let min_rows = Literal::usize_unsuffixed(min_rows);
            let matrix_part = Literal::usize_unsuffixed(if statements_form {
                STATEMENTS_PART
            } else {
                MATRIX_PART
            });
            let call = m.call;
            (
                m.fields,
                m.prepare,
                m.function,
                quote! {
                    let __matrix = __rows >= #min_rows;
                    let __parts = ::chainrule::parallel::parts(__rows, if __matrix { #matrix_part } else { #sample_part }, #work);
                    let __chunk = if __matrix { (__rows / __parts + 1).min(#chunk) } else { 0 };
                },
                quote! {
                    if __matrix {
                        let mut __start = __range.start;
                        while __start < __range.end {
                            let __end = (__start + #chunk).min(__range.end);
                            #call
                            __start = __end;
                        }
                        return;
                    }
                },
            )
        }
        None => (
            TokenStream::new(),
            TokenStream::new(),
            TokenStream::new(),
            quote! {
                let __parts = ::chainrule::parallel::parts(__rows, #sample_part, #work);
                let __chunk = 0usize;
            },
            TokenStream::new(),
        ),
    };

    let (data_len, flat_views) = data::flat_views(&data, &data_arg);
    let copy_out = write_params(network, &g, None);
    let step = write_params(network, &p, Some(&lr));
    let s = local("s");
    let momentum = optimizer_updates(network, &p, &s, false);
    let adam = optimizer_updates(network, &p, &s, true);

    quote! {
        /// Buffers the batch functions reuse between calls ([`gradient_batch_into`],
        /// [`sgd_step_batch_into`]): one gradient accumulator per part of a batch and, in
        /// the matrix form, each vector and its delta for one chunk of rows. They grow to
        /// the largest batch seen and are never shrunk.
        #[derive(Clone, Debug, Default)]
        pub struct BatchWorkspace {
            parts: Vec<__Part>,
            total: Vec<F>,
        }

        #[derive(Clone, Debug, Default)]
        struct __Part {
            loss: F,
            acc: Vec<F>,
            scratch: Option<Box<Params>>,
            #part_fields
        }

        impl BatchWorkspace {
            /// An empty workspace; the first call sizes it.
            pub fn new() -> Self {
                Self::default()
            }

            fn prepare(&mut self, __parts: usize, __chunk: usize) {
                if self.parts.len() < __parts {
                    self.parts.resize_with(__parts, __Part::default);
                }
                for __part in &mut self.parts[..__parts] {
                    __part.acc.resize(#count, 0.0);
                    #prepare
                }
                self.total.resize(#count, 0.0);
            }
        }

        #chunk_fn

        /// Sums the batch's loss and gradient, combined by the `batch` rule, into
        /// `__ws.total`; returns the loss.
        fn __accumulate(#p: &Params, #view_args __ws: &mut BatchWorkspace) -> Result<F, ::chainrule::runtime::ShapeError> {
            let __rows = #rows;
            #checks
            if __rows == 0 {
                return Err(::chainrule::runtime::ShapeError::new(#first_name, "at least one row", "0 rows"));
            }
            let __scale: F = #scale;
            #choose
            __ws.prepare(__parts, __chunk);
            ::chainrule::parallel::for_each_part(&mut __ws.parts[..__parts], |__i, __part| {
                let __range = ::chainrule::parallel::part_range(__rows, __parts, __i);
                __part.loss = 0.0;
                __part.acc.iter_mut().for_each(|__a| *__a = 0.0);
                #run_matrix
                #per_sample
            });
            // Parts combine in a fixed order: the result does not depend on the threads. One
            // part's sum is the total (its buffer swapped in, not copied); two or more start
            // with the first two added in one pass.
            let mut __loss: F = 0.0;
            for __part in &__ws.parts[..__parts] {
                __loss += __part.loss;
            }
            match &mut __ws.parts[..__parts] {
                [__only] => ::core::mem::swap(&mut __ws.total, &mut __only.acc),
                [__first, __second, __rest @ ..] => {
                    for ((__t, __a), __b) in __ws.total.iter_mut().zip(&__first.acc).zip(&__second.acc) {
                        *__t = *__a + *__b;
                    }
                    for __part in __rest {
                        for (__t, __a) in __ws.total.iter_mut().zip(&__part.acc) {
                            *__t += *__a;
                        }
                    }
                }
                [] => {}
            }
            Ok(__loss * __scale)
        }

        /// The loss and gradient over a batch, one sample per row, combined by the
        /// network's `batch` rule. Wrong column or row counts are an `Err`.
        pub fn gradient_batch(#p: &Params, #view_args) -> Result<(F, Params), ::chainrule::runtime::ShapeError> {
            let mut __ws = BatchWorkspace::new();
            let mut __g = Params::boxed_zeros();
            let __loss = gradient_batch_into(#p, #(#idents,)* &mut __ws, &mut __g)?;
            Ok((__loss, *__g))
        }

        /// [`gradient_batch`] into `g`, reusing the buffers of `ws`: no allocation once `ws`
        /// has seen a batch this large. Returns the loss.
        pub fn gradient_batch_into(#p: &Params, #view_args #ws: &mut BatchWorkspace, #g: &mut Params) -> Result<F, ::chainrule::runtime::ShapeError> {
            let __loss = __accumulate(#p, #(#idents,)* #ws)?;
            let __total = &#ws.total;
            #copy_out
            Ok(__loss)
        }

        /// [`gradient_batch`] over flat arguments, for generic callers (tests, benchmarks):
        /// parameters in [`Params::flat`] order, and one row per sample holding every input
        /// and target element in declaration order. Returns the gradient in the same order.
        pub fn gradient_batch_flat(#params: &[F], #data_arg: ::chainrule::ndarray::ArrayView2<'_, F>, #ws: &mut BatchWorkspace) -> Result<(F, Vec<F>), ::chainrule::runtime::ShapeError> {
            let __values: &[F; #count] = #params.try_into().map_err(|_| ::chainrule::runtime::ShapeError::new("params", format!("{} elements", #count), format!("{} elements", #params.len())))?;
            if #data_arg.ncols() != #data_len {
                return Err(::chainrule::runtime::ShapeError::new("data", format!("{} columns", #data_len), format!("{} columns", #data_arg.ncols())));
            }
            let mut __p = Params::boxed_zeros();
            __p.set_flat(__values);
            #(#flat_views)*
            let __loss = __accumulate(&__p, #(#idents,)* #ws)?;
            Ok((__loss, #ws.total.clone()))
        }

        /// One gradient-descent step over a batch, the gradient combined by the network's
        /// `batch` rule; returns the loss before it.
        pub fn sgd_step_batch(#p: &mut Params, #view_args #lr: F) -> Result<F, ::chainrule::runtime::ShapeError> {
            let mut __ws = BatchWorkspace::new();
            sgd_step_batch_into(#p, #(#idents,)* #lr, &mut __ws)
        }

        /// [`sgd_step_batch`] reusing the buffers of `ws`; `p` is updated in place.
        pub fn sgd_step_batch_into(#p: &mut Params, #view_args #lr: F, #ws: &mut BatchWorkspace) -> Result<F, ::chainrule::runtime::ShapeError> {
            let __loss = __accumulate(#p, #(#idents,)* #ws)?;
            let __total = &#ws.total;
            #step
            Ok(__loss)
        }

        /// One step of gradient descent with momentum ([`momentum_step`]) over a batch,
        /// the gradient combined by the network's `batch` rule; returns the loss before it.
        pub fn momentum_step_batch(#p: &mut Params, #s: &mut Momentum, #view_args) -> Result<F, ::chainrule::runtime::ShapeError> {
            let mut __ws = BatchWorkspace::new();
            momentum_step_batch_into(#p, #s, #(#idents,)* &mut __ws)
        }

        /// [`momentum_step_batch`] reusing the buffers of `ws`. On an `Err` neither `p` nor
        /// `s` changes.
        pub fn momentum_step_batch_into(#p: &mut Params, #s: &mut Momentum, #view_args #ws: &mut BatchWorkspace) -> Result<F, ::chainrule::runtime::ShapeError> {
            let __loss = __accumulate(#p, #(#idents,)* #ws)?;
            let __total = &#ws.total;
            let __k = ::chainrule::runtime::MomentumStep { lr: #s.lr, mu: #s.mu };
            #momentum
            Ok(__loss)
        }

        /// One Adam step ([`adam_step`]) over a batch, the gradient combined by the
        /// network's `batch` rule; returns the loss before it.
        pub fn adam_step_batch(#p: &mut Params, #s: &mut Adam, #view_args) -> Result<F, ::chainrule::runtime::ShapeError> {
            let mut __ws = BatchWorkspace::new();
            adam_step_batch_into(#p, #s, #(#idents,)* &mut __ws)
        }

        /// [`adam_step_batch`] reusing the buffers of `ws`. On an `Err` neither `p` nor `s`
        /// changes.
        pub fn adam_step_batch_into(#p: &mut Params, #s: &mut Adam, #view_args #ws: &mut BatchWorkspace) -> Result<F, ::chainrule::runtime::ShapeError> {
            let __loss = __accumulate(#p, #(#idents,)* #ws)?;
            let __total = &#ws.total;
            #s.t = #s.t.saturating_add(1);
            let __k = ::chainrule::runtime::AdamStep::with_powers(#s.lr, #s.beta1, #s.beta2, #s.eps, #s.weight_decay, #s.powers.at(#s.beta1, #s.beta2, #s.t));
            #adam
            Ok(__loss)
        }
    }
}

/// Applies the optimizer's update to every element of `p` with the batch gradient
/// `__total` (flat order): `momentum_update` with `s.buf`, or `adam_update` with `s.m`, `s.v`.
fn optimizer_updates(network: &Network, p: &Ident, s: &Ident, adam: bool) -> TokenStream {
    let mut at = 0;
    let mut out = TokenStream::new();
    for param in &network.params {
        let field = format_ident!("{}", param.name);
        let (start, end) = (
            Literal::usize_unsuffixed(at),
            Literal::usize_unsuffixed(at + param.shape.len()),
        );
        at += param.shape.len();
        let slice = |base: TokenStream| {
            crate::rust::context::flat_receiver(quote! { #base.#field }, param.shape, true)
        };
        let weights = slice(quote! { #p });
        out.extend(if adam {
            let (m, v) = (slice(quote! { #s.m }), slice(quote! { #s.v }));
            quote! {
                for (((__w, __m), __v), __d) in #weights.iter_mut().zip(#m.iter_mut()).zip(#v.iter_mut()).zip(&__total[#start..#end]) {
                    ::chainrule::runtime::adam_update(__w, __m, __v, *__d, &__k);
                }
            }
        } else {
            let buf = slice(quote! { #s.buf });
            quote! {
                for ((__w, __b), __d) in #weights.iter_mut().zip(#buf.iter_mut()).zip(&__total[#start..#end]) {
                    ::chainrule::runtime::momentum_update(__w, __b, *__d, &__k);
                }
            }
        });
    }
    out
}

/// Writes `__total` (flat order) into `target` (`g`), or, with a learning rate, subtracts it
/// times `__total` from `target` (`p`).
fn write_params(network: &Network, target: &Ident, lr: Option<&Ident>) -> TokenStream {
    let mut at = 0;
    let mut out = TokenStream::new();
    for param in &network.params {
        let field = format_ident!("{}", param.name);
        let len = param.shape.len();
        let (start, end) = (
            Literal::usize_unsuffixed(at),
            Literal::usize_unsuffixed(at + len),
        );
        at += len;
        out.extend(match (param.shape, lr) {
            (Shape::Scalar, None) => quote! { #target.#field = __total[#start]; },
            (Shape::Scalar, Some(lr)) => quote! { #target.#field -= #lr * __total[#start]; },
            (Shape::Vector(_), None) => {
                quote! { #target.#field.copy_from_slice(&__total[#start..#end]); }
            }
            (shape, None) => {
                let flat =
                    crate::rust::context::flat_receiver(quote! { #target.#field }, shape, true);
                quote! { #flat.copy_from_slice(&__total[#start..#end]); }
            }
            (shape, Some(lr)) => {
                let elements =
                    crate::rust::context::flat_receiver(quote! { #target.#field }, shape, true);
                quote! {
                    for (__w, __d) in #elements.iter_mut().zip(&__total[#start..#end]) {
                        *__w -= #lr * *__d;
                    }
                }
            }
        });
    }
    out
}
