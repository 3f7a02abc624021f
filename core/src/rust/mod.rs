//! The Rust emitter: for each network, the module `chainrule::derive!` expands to
//! (../shared/spec/RUST_API.md), with unrolled, allocation-free gradient code.

pub mod batch;
mod code;

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use crate::derive::Derivation;
use crate::model::{Model, Network, Shape, Symbol};
pub use batch::BatchMode;
use code::CodeGen;

/// The float type of generated code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Float {
    /// `f32`.
    F32,
    /// `f64` (the default).
    #[default]
    F64,
}

/// Most operations one generated gradient function may perform. rustc's release build time
/// grows faster than linearly with a function's size (BENCHMARKS.md, section 4: 16k operations
/// 31 s, 19k 40 s, 31k 64 s, 59k 330 s; a library crate about 1.5x that); past this a network is refused with its size instead of a
/// compile of minutes.
pub const MAX_OPERATIONS: usize = 15_000;

/// A network whose generated code would be too large.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TooLarge {
    /// The network.
    pub network: String,
    /// Operations its gradient function would perform (a lower bound, the parameter count,
    /// when refused before deriving).
    pub operations: usize,
}

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "network `{}` would generate a gradient function of at least {} operations, more than the limit of {MAX_OPERATIONS}: rustc would take minutes to compile it; use fewer or smaller layers",
            self.network, self.operations
        )
    }
}

/// Why a checked network cannot become Rust.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EmitError {
    /// The gradient function would be too large for rustc.
    TooLarge(TooLarge),
    /// A name cannot be used in Rust: `(name, where it was declared, reason)`.
    Name(String, crate::Span, String),
}

impl std::fmt::Display for EmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EmitError::TooLarge(t) => t.fmt(f),
            EmitError::Name(_, _, reason) => f.write_str(reason),
        }
    }
}

/// Rust keywords and the names generated functions use for their own arguments and locals.
const RESERVED: [&str; 58] = [
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen", "lr", "tol", "hand",
    "rows", "first", "batch",
];

/// Names that become Rust identifiers must be usable as such.
fn check_names(network: &Network) -> Result<(), EmitError> {
    let inputs = network
        .inputs
        .iter()
        .chain(&network.targets)
        .map(|v| (&v.name, v.span, "input or target"));
    let others = network
        .vectors
        .iter()
        .map(|v| (&v.name, v.span, "vector"))
        .chain(
            network
                .params
                .iter()
                .map(|p| (&p.name, p.span, "parameter")),
        )
        .chain(std::iter::once((
            &network.loss.name,
            network.loss.span,
            "loss",
        )));
    for (name, span, kind) in inputs.chain(others) {
        let argument = kind == "input or target";
        if RESERVED[..52].contains(&name.as_str())
            || (argument && RESERVED[52..].contains(&name.as_str()))
            || name.starts_with("__")
        {
            return Err(EmitError::Name(
                name.clone(),
                span,
                format!(
                    "the {kind} name `{name}` cannot be used in generated Rust code (a Rust keyword or a name the generated functions use); rename it"
                ),
            ));
        }
    }
    if matches!(network.name.as_str(), n if RESERVED[..52].contains(&n)) {
        return Err(EmitError::Name(
            network.name.clone(),
            network.span,
            format!(
                "the network name `{}` is a Rust keyword; rename it",
                network.name
            ),
        ));
    }
    Ok(())
}

fn field_type(shape: Shape, float: &TokenStream) -> TokenStream {
    match shape {
        Shape::Scalar => quote! { #float },
        Shape::Vector(n) => {
            let n = Literal::usize_unsuffixed(n);
            quote! { [#float; #n] }
        }
        Shape::Matrix(r, c) => {
            let (r, c) = (Literal::usize_unsuffixed(r), Literal::usize_unsuffixed(c));
            quote! { [[#float; #c]; #r] }
        }
    }
}

/// A value of a shape from row-major numbers.
fn shaped(values: &[TokenStream], shape: Shape) -> TokenStream {
    match shape {
        Shape::Scalar => values.first().cloned().unwrap_or_default(),
        Shape::Vector(_) => quote! { [#(#values),*] },
        Shape::Matrix(_, c) => {
            let rows = values.chunks(c.max(1)).map(|row| quote! { [#(#row),*] });
            quote! { [#(#rows),*] }
        }
    }
}

/// Every element of a parameter as an lvalue/rvalue path: `W1[0][1]`.
fn element_paths(base: &TokenStream, shape: Shape) -> Vec<TokenStream> {
    match shape {
        Shape::Scalar => vec![quote! { #base }],
        Shape::Vector(n) => (0..n)
            .map(|i| {
                let i = Literal::usize_unsuffixed(i);
                quote! { #base[#i] }
            })
            .collect(),
        Shape::Matrix(r, c) => (0..r * c)
            .map(|e| {
                let (i, j) = (
                    Literal::usize_unsuffixed(e / c),
                    Literal::usize_unsuffixed(e % c),
                );
                quote! { #base[#i][#j] }
            })
            .collect(),
    }
}

fn emit_with(
    network: &Network,
    derivation: &Derivation,
    float: Float,
    latex: &str,
    source_path: Option<&str>,
    batch: BatchMode,
) -> Result<TokenStream, EmitError> {
    check_names(network)?;
    let f = match float {
        Float::F64 => quote! { f64 },
        Float::F32 => quote! { f32 },
    };
    let name = format_ident!("{}", network.name);
    let layout = &derivation.layout;

    // Parameters.
    let param_fields: Vec<Ident> = network
        .params
        .iter()
        .map(|p| format_ident!("{}", p.name))
        .collect();
    let param_types: Vec<TokenStream> = network
        .params
        .iter()
        .map(|p| field_type(p.shape, &f))
        .collect();
    let literals = CodeGen::new(network, derivation, float);
    let defaults: Vec<TokenStream> = network
        .params
        .iter()
        .map(|p| {
            let values: Vec<TokenStream> = match &p.default {
                Some(v) => v.iter().map(|x| literals.literal(*x)).collect(),
                None => vec![literals.literal(0.0); p.shape.len()],
            };
            shaped(&values, p.shape)
        })
        .collect();
    let zeros: Vec<TokenStream> = network
        .params
        .iter()
        .map(|p| shaped(&vec![literals.literal(0.0); p.shape.len()], p.shape))
        .collect();
    let count = network.param_count();
    let count_lit = Literal::usize_unsuffixed(count);
    let element_names: Vec<String> = network
        .params
        .iter()
        .enumerate()
        .flat_map(|(i, _)| {
            layout
                .vars(Symbol::Param(i))
                .map(|v| layout.describe(network, v))
                .collect::<Vec<_>>()
        })
        .collect();
    let self_paths: Vec<TokenStream> = network
        .params
        .iter()
        .zip(&param_fields)
        .flat_map(|(p, field)| element_paths(&quote! { self.#field }, p.shape))
        .collect();
    let param_names: Vec<&str> = network.params.iter().map(|p| p.name.as_str()).collect();
    let param_dims: Vec<TokenStream> = network
        .params
        .iter()
        .map(|p| {
            let dims = p.shape.dims().into_iter().map(Literal::usize_unsuffixed);
            quote! { &[#(#dims),*] }
        })
        .collect();
    let param_lens: Vec<Literal> = network
        .params
        .iter()
        .map(|p| Literal::usize_unsuffixed(p.shape.len()))
        .collect();

    // Inputs and targets as arguments.
    let input_idents: Vec<Ident> = network
        .inputs
        .iter()
        .map(|v| format_ident!("{}", v.name))
        .collect();
    let target_idents: Vec<Ident> = network
        .targets
        .iter()
        .map(|v| format_ident!("{}", v.name))
        .collect();
    let array = |n: usize| {
        let n = Literal::usize_unsuffixed(n);
        quote! { [#f; #n] }
    };
    let input_types: Vec<TokenStream> = network.inputs.iter().map(|v| array(v.size)).collect();
    let target_types: Vec<TokenStream> = network.targets.iter().map(|v| array(v.size)).collect();
    let data_args =
        quote! { #(#input_idents: &#input_types,)* #(#target_idents: &#target_types,)* };
    let data_call = quote! { #(#input_idents,)* #(#target_idents,)* };

    // evaluate: every forward value and the loss.
    let mut forward_gen = CodeGen::new(network, derivation, float);
    let forward_roots: Vec<_> = derivation.forward.iter().map(|d| d.value).collect();
    let forward_values = forward_gen.compute(&forward_roots);
    let forward_statements = forward_gen.take_statements();
    let vector_fields: Vec<Ident> = network
        .vectors
        .iter()
        .map(|v| format_ident!("{}", v.name))
        .collect();
    let vector_types: Vec<TokenStream> = network.vectors.iter().map(|v| array(v.size)).collect();
    let mut next = 0;
    let vector_values: Vec<TokenStream> = network
        .vectors
        .iter()
        .map(|v| {
            let items = &forward_values[next..next + v.size];
            next += v.size;
            quote! { [#(#items),*] }
        })
        .collect();
    let loss_value = forward_values.last().cloned().unwrap_or_default();
    let loss_field = format_ident!("{}", network.loss.name);

    // loss alone.
    let mut loss_gen = CodeGen::new(network, derivation, float);
    let loss_root = derivation
        .forward
        .last()
        .map(|d| d.value)
        .into_iter()
        .collect::<Vec<_>>();
    let loss_only = loss_gen.compute(&loss_root);
    let loss_statements = loss_gen.take_statements();
    let loss_only = &loss_only[0];

    // gradient: the loss, the deltas, every parameter's gradient.
    let mut gradient_gen = CodeGen::new(network, derivation, float);
    gradient_gen.limit = MAX_OPERATIONS;
    let mut gradient_roots = loss_root.clone();
    gradient_roots.extend(derivation.gradients.iter().map(|(_, g)| *g));
    let gradient_values = gradient_gen.compute(&gradient_roots);
    if gradient_gen.size > MAX_OPERATIONS {
        return Err(EmitError::TooLarge(TooLarge {
            network: network.name.clone(),
            operations: gradient_gen.size,
        }));
    }
    let gradient_statements = gradient_gen.take_statements();
    let gradient_loss = &gradient_values[0];
    let mut next = 1;
    let gradient_fields: Vec<TokenStream> = network
        .params
        .iter()
        .map(|p| {
            let values = &gradient_values[next..next + p.shape.len()];
            next += p.shape.len();
            shaped(values, p.shape)
        })
        .collect();

    let batch_fields: Vec<Ident> = input_idents.iter().chain(&target_idents).cloned().collect();
    let batch_items = batch::items(network, derivation, float, batch);
    let nan_targets: Vec<TokenStream> = network
        .targets
        .iter()
        .map(|v| {
            let n = Literal::usize_unsuffixed(v.size);
            quote! { &[<#f as ::chainrule::runtime::Real>::NAN; #n] }
        })
        .collect();
    let data_sizes: Vec<Literal> = network
        .inputs
        .iter()
        .chain(&network.targets)
        .map(|v| Literal::usize_unsuffixed(v.size))
        .collect();
    let data_len = Literal::usize_unsuffixed(
        network
            .inputs
            .iter()
            .chain(&network.targets)
            .map(|v| v.size)
            .sum(),
    );
    let p = code::params_ident();
    let placeholders: Vec<Ident> = (0..count)
        .map(|i| format_ident!("e{}", i, span = proc_macro2::Span::mixed_site()))
        .collect();
    let self_paths_placeholder = &placeholders;
    let track = source_path.map(|path| quote! { const _SOURCE: &[u8] = include_bytes!(#path); });
    let doc = format!(
        " The network `{}`: derived by `chainrule::derive!`.",
        network.name
    );

    Ok(quote! {
        #[doc = #doc]
        #[allow(non_snake_case, non_camel_case_types, unused_variables, unused_parens, clippy::all)]
        pub mod #name {
            #track
            /// The float type of this module.
            pub type F = #f;

            /// Every trainable parameter, named as in the network.
            #[derive(Clone, Copy, Debug, PartialEq)]
            pub struct Params {
                #(pub #param_fields: #param_types,)*
            }

            impl Default for Params {
                /// The values declared in the network, zeros elsewhere.
                fn default() -> Self {
                    Params { #(#param_fields: #defaults,)* }
                }
            }

            impl Params {
                /// Every parameter zero.
                pub fn zeros() -> Self {
                    Params { #(#param_fields: #zeros,)* }
                }

                /// The names of the elements, in the order of [`Params::flat`]: `W1[0][1]`, ...
                pub const ELEMENTS: [&'static str; #count_lit] = [#(#element_names),*];

                /// Every element, row-major, parameter by parameter.
                pub fn flat(&self) -> [F; #count_lit] {
                    [#(#self_paths),*]
                }

                /// Every parameter as an `ndarray` array, by name.
                pub fn to_ndarray(&self) -> ::std::collections::BTreeMap<String, ::chainrule::ndarray::ArrayD<F>> {
                    let flat = self.flat();
                    let mut out = ::std::collections::BTreeMap::new();
                    let mut at = 0usize;
                    #(
                        let dims: &[usize] = #param_dims;
                        let values = flat[at..at + #param_lens].to_vec();
                        at += #param_lens;
                        out.insert(#param_names.to_string(), ::chainrule::ndarray::ArrayD::from_shape_vec(::chainrule::ndarray::IxDyn(dims), values).expect("shape matches its length")); // ok: generated code; the values slice has exactly the product of dims elements
                    )*
                    let _ = at;
                    out
                }

                /// Parameters from `ndarray` arrays by name; a missing name keeps its default,
                /// an unknown name or a wrong shape is an error.
                pub fn from_ndarray(arrays: &::std::collections::BTreeMap<String, ::chainrule::ndarray::ArrayD<F>>) -> Result<Self, ::chainrule::runtime::ShapeError> {
                    let known: &[&str] = &[#(#param_names),*];
                    if let Some(unknown) = arrays.keys().find(|k| !known.contains(&k.as_str())) {
                        return Err(::chainrule::runtime::ShapeError::new(unknown.clone(), "a parameter of this network", "an unknown name"));
                    }
                    let mut flat = Params::default().flat();
                    let mut at = 0usize;
                    #(
                        let dims: &[usize] = #param_dims;
                        if let Some(array) = arrays.get(#param_names) {
                            if array.shape() != dims {
                                return Err(::chainrule::runtime::ShapeError::new(#param_names, format!("shape {:?}", dims), format!("shape {:?}", array.shape())));
                            }
                            for (slot, value) in flat[at..at + #param_lens].iter_mut().zip(array.iter()) {
                                *slot = *value;
                            }
                        }
                        at += #param_lens;
                    )*
                    let _ = at;
                    let mut params = Params::zeros();
                    params.set_flat(&flat);
                    Ok(params)
                }
            }

            /// Every input, named vector and the loss of one sample.
            #[derive(Clone, Copy, Debug, PartialEq)]
            pub struct Forward {
                #(pub #input_idents: #input_types,)*
                #(pub #vector_fields: #vector_types,)*
                pub #loss_field: F,
            }

            /// The forward pass; the loss and anything computed from targets are NaN (use
            /// [`evaluate`] to get them).
            pub fn forward(#p: &Params, #(#input_idents: &#input_types),*) -> Forward {
                evaluate(#p, #(#input_idents,)* #(#nan_targets,)*)
            }

            /// The forward pass and the loss of one sample.
            pub fn evaluate(#p: &Params, #data_args) -> Forward {
                #(#forward_statements)*
                Forward {
                    #(#input_idents: *#input_idents,)*
                    #(#vector_fields: #vector_values,)*
                    #loss_field: #loss_value,
                }
            }

            /// The loss of one sample.
            pub fn loss(#p: &Params, #data_args) -> F {
                #(#loss_statements)*
                #loss_only
            }

            /// The loss and dL/dp for every parameter of one sample: straight-line code.
            #[inline]
            pub fn gradient(#p: &Params, #data_args) -> (F, Params) {
                #(#gradient_statements)*
                (#gradient_loss, Params { #(#param_fields: #gradient_fields,)* })
            }

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

            #batch_items

            impl Params {
                /// Sets every element from [`Params::flat`] order.
                pub fn set_flat(&mut self, values: &[F; #count_lit]) {
                    let [#(#self_paths_placeholder),*] = *values;
                    #(#self_paths = #self_paths_placeholder;)*
                }
            }

            /// Compares a hand-written gradient function (same signature as [`gradient`]) with
            /// the derived one at one sample: which elements differ, and whether by a sign
            /// flip or a constant factor.
            pub fn compare_gradient<H>(hand: H, #p: &Params, #data_args tol: F) -> ::chainrule::runtime::GradientDiff
            where
                H: Fn(&Params, #(&#input_types,)* #(&#target_types,)*) -> (F, Params),
            {
                let (derived_loss, derived) = gradient(#p, #data_call);
                let (hand_loss, hand_gradient) = hand(#p, #data_call);
                let derived: Vec<f64> = derived.flat().iter().map(|v| (*v).into()).collect();
                let hand_values: Vec<f64> = hand_gradient.flat().iter().map(|v| (*v).into()).collect();
                ::chainrule::runtime::GradientDiff::compare(&Params::ELEMENTS, &derived, &hand_values, tol.into(), (derived_loss.into(), hand_loss.into()))
            }

            /// How many parameter elements [`gradient_flat`] takes.
            pub const PARAMS: usize = #count_lit;
            /// How many input and target elements [`gradient_flat`] takes.
            pub const DATA: usize = #data_len;

            /// [`gradient`] over flat arrays: parameters in [`Params::flat`] order, then every
            /// input and target element in declaration order. For generic callers (tests,
            /// benchmarks).
            pub fn gradient_flat(params: &[F; #count_lit], data: &[F; #data_len]) -> (F, [F; #count_lit]) {
                let mut parameters = Params::zeros();
                parameters.set_flat(params);
                let mut at = 0usize;
                #(
                    let mut #batch_fields = [<#f as ::chainrule::runtime::Real>::ZERO; #data_sizes];
                    #batch_fields.copy_from_slice(&data[at..at + #data_sizes]);
                    at += #data_sizes;
                )*
                let _ = at;
                let (loss, g) = gradient(&parameters, #(&#batch_fields,)*);
                (loss, g.flat())
            }

            /// The whole derivation, as `chainrule latex` prints it.
            pub const LATEX: &str = #latex;
        }
    })
}

/// The module of one network with its `LATEX` constant, as `derive!` expands it.
pub fn expand_network(
    model: &Model,
    network: &Network,
    float: Float,
    source_path: Option<&str>,
) -> Result<TokenStream, EmitError> {
    expand_network_with(model, network, float, source_path, BatchMode::Auto)
}

/// [`expand_network`] with the batch functions' mode chosen (`derive!(batch = ...)`).
pub fn expand_network_with(
    model: &Model,
    network: &Network,
    float: Float,
    source_path: Option<&str>,
    batch: BatchMode,
) -> Result<TokenStream, EmitError> {
    // Every parameter costs at least one operation: refuse the hopeless cases before deriving.
    if network.param_count() > MAX_OPERATIONS {
        return Err(EmitError::TooLarge(TooLarge {
            network: network.name.clone(),
            operations: network.param_count(),
        }));
    }
    let mut derivation = crate::derive::derive(network, &model.functions);
    let latex = crate::latex::render(
        network,
        &mut derivation,
        crate::latex::Form::Delta,
        &[],
        None,
        false,
    );
    emit_with(network, &derivation, float, &latex, source_path, batch)
}

/// Generated tokens as formatted Rust source (prettyplease).
pub fn format(tokens: TokenStream) -> Result<String, String> {
    let file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("generated code does not parse: {e}"))?;
    Ok(prettyplease::unparse(&file))
}
