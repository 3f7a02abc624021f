//! The Rust emitter: for each network, the module `chainrule::derive!` expands to
//! (../shared/spec/RUST_API.md), with unrolled, allocation-free gradient code.

pub mod batch;
mod code;
mod compare;
mod context;
mod forward;
mod gradient;
mod indices;
mod init;
mod loops;
mod names;
mod optim;
mod params;
#[cfg(all(test, feature = "outputs"))]
mod parse_tests;
mod plan;
mod single;
mod step;
mod updates;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::CompiledNetwork;
use crate::model::{Model, Network};
pub use batch::BatchMode;
use context::Ctx;
pub use init::{Start, param_start};
pub use plan::{LOOP_OPERATIONS, Unroll};

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

/// Networks with more parameters than this get the general form as their `LATEX` instead of
/// the delta form.
pub const LATEX_DELTA_PARAMS: usize = 2_000;

/// A network whose generated code would be too large.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TooLarge {
    /// The network.
    pub network: String,
    /// Operations its gradient function would perform (a lower bound, the parameter count,
    /// when refused before deriving).
    pub operations: usize,
    /// What the tensor level does not cover, when that is why no step became a loop.
    pub uncovered: Option<String>,
}

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "network `{}` would generate at least {} operations of straight-line code, more than the limit of {MAX_OPERATIONS}: rustc would take minutes to compile it; ",
            self.network, self.operations
        )?;
        match &self.uncovered {
            Some(what) => write!(
                f,
                "no step can become a loop because the tensor level does not cover {what}"
            ),
            None => f.write_str(
                "use `unroll = auto` (loops for layers with one general index form) or fewer or smaller layers",
            ),
        }
    }
}

/// Why a checked network cannot become Rust.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EmitError {
    /// The gradient function would be too large for rustc.
    TooLarge(TooLarge),
    /// A name cannot be used in Rust: `(name, where it was declared, reason)`.
    Name(String, crate::Span, String),
    /// An expression is too long to write out (see [`crate::written`]).
    Written(String),
    /// A number of the source the float type cannot hold: `(where it was written, reason)`.
    Value(crate::Span, String),
}

impl std::fmt::Display for EmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EmitError::TooLarge(t) => t.fmt(f),
            EmitError::Name(_, _, reason)
            | EmitError::Written(reason)
            | EmitError::Value(_, reason) => f.write_str(reason),
        }
    }
}

/// Rust keywords (strict, reserved and weak ones that cannot name a binding): no network name
/// can be one. Other names are free: `names.rs` keeps the generated ones apart from them.
const KEYWORDS: [&str; 52] = [
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// Names that become Rust identifiers must be usable as such.
fn check_names(network: &Network) -> Result<(), EmitError> {
    let data = network
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
    for (name, span, kind) in data.chain(others) {
        let reason = if KEYWORDS.contains(&name.as_str()) {
            "a Rust keyword"
        } else if name == "_" {
            "`_` names no field or argument in Rust"
        } else if name.starts_with("__") {
            "names beginning with `__` are kept for the generated code's own"
        } else {
            continue;
        };
        return Err(EmitError::Name(
            name.clone(),
            span,
            format!(
                "the {kind} name `{name}` cannot be used in generated Rust code ({reason}); rename it"
            ),
        ));
    }
    let reason = match network.name.as_str() {
        n if KEYWORDS.contains(&n) => "is a Rust keyword",
        "_" => "names no module in Rust",
        // `pub mod chainrule` would shadow the crate the generated code and the macro's own
        // invocation (`chainrule::derive!`) name, in the module that holds it.
        "chainrule" => "would shadow the crate `chainrule` in the module that holds it",
        _ => return Ok(()),
    };
    Err(EmitError::Name(
        network.name.clone(),
        network.span,
        format!("the network name `{}` {reason}; rename it", network.name),
    ))
}

fn emit_with(
    network: &Network,
    compiled: &CompiledNetwork,
    float: Float,
    unroll: Unroll,
    batch_mode: BatchMode,
    latex: &str,
    source_path: Option<&str>,
) -> Result<TokenStream, EmitError> {
    let ctx = Ctx::new(network, compiled, float, unroll);
    let name = format_ident!("{}", network.name);
    let f = &ctx.f;
    let (params, params_std) = params::params(&ctx);
    let (constructors, constructors_std) = init::constructors(&ctx);
    let forward = forward::forward(&ctx);
    let gradient = gradient::gradient(&ctx)?;
    let step = step::sgd_step(&ctx)?;
    let optimizers = optim::optimizers(&ctx)?;
    let batch = batch::items(network, compiled, float, batch_mode);
    let set_flat = params::set_flat(&ctx);
    let compare = compare::compare(&ctx);
    let flat_gradient = params::flat_gradient(&ctx);
    let track = source_path.map(|path| quote! { const _SOURCE: &[u8] = include_bytes!(#path); });
    let doc = format!(
        " The network `{}`: derived by `chainrule::derive!`.",
        network.name
    );

    // The items that need the standard library go inside one `__if_std!`, which the
    // `chainrule` crate defines to keep them or drop them by its `std` feature: the macro
    // never needs to know the feature (ARCHITECTURE.md, "no_std").
    Ok(quote! {
        #[doc = #doc]
        #[allow(non_snake_case, non_camel_case_types, unused_variables, unused_parens, clippy::all)]
        pub mod #name {
            #track
            // Without `std`, `x.exp()` and the other float methods come from this trait
            // (libm); with it, the standard library's own methods take precedence.
            #[allow(unused_imports)]
            use ::chainrule::runtime::Math as _;

            /// The float type of this module.
            pub type F = #f;

            #params
            #constructors
            #forward
            #gradient
            #step
            #optimizers
            #set_flat
            #flat_gradient

            ::chainrule::__if_std! {
                #params_std
                #constructors_std
                #batch
                #compare
            }

            /// The whole derivation, as `chainrule latex` prints it.
            pub const LATEX: &str = #latex;
        }
    })
}

/// The module of one network with its `LATEX` constant, as `derive!` expands it, with
/// `unroll = auto`.
pub fn expand_network(
    model: &Model,
    network: &Network,
    float: Float,
    source_path: Option<&str>,
) -> Result<TokenStream, EmitError> {
    expand_network_with(
        model,
        network,
        float,
        Unroll::Auto,
        BatchMode::Auto,
        source_path,
    )
}

/// [`expand_network`] with a choice between loops and straight-line code, and of the batch
/// functions' form (`derive!(unroll = ..., batch = ...)`).
pub fn expand_network_with(
    model: &Model,
    network: &Network,
    float: Float,
    unroll: Unroll,
    batch: BatchMode,
    source_path: Option<&str>,
) -> Result<TokenStream, EmitError> {
    check_names(network)?;
    if float == Float::F32 {
        single::check(network, &model.functions)?;
    }
    // Straight-line code costs at least one operation per parameter: refuse the hopeless
    // cases before deriving.
    if unroll == Unroll::Always && network.param_count() > MAX_OPERATIONS {
        return Err(EmitError::TooLarge(TooLarge {
            network: network.name.clone(),
            operations: network.param_count(),
            uncovered: None,
        }));
    }
    let index = model
        .position_of(network)
        .expect("the network to expand is one of the model's"); // ok: every caller (derive!, the CLI, tests) passes an element of `model.networks`, never user input
    let compiled = crate::compile_network(model, index);
    crate::written::check(network, &compiled.derivation).map_err(EmitError::Written)?;
    // The delta form prints every element; past a size only the general form stays readable
    // (and bounded: one line per vector and parameter).
    let form = if network.param_count() > LATEX_DELTA_PARAMS {
        crate::latex::Form::General
    } else {
        crate::latex::Form::Delta
    };
    let latex = crate::latex::render(network, &compiled, form, &[], None, false);
    emit_with(
        network,
        &compiled,
        float,
        unroll,
        batch,
        &latex,
        source_path,
    )
}

/// Generated tokens as formatted Rust source (prettyplease). prettyplease prints a macro's
/// tokens as they come, so the items inside each network's `__if_std!` are formatted on their
/// own and put back in its braces, indented.
#[cfg(feature = "outputs")]
pub fn format(tokens: TokenStream) -> Result<String, String> {
    let mut file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("generated code does not parse: {e}"))?;
    let mut gated = Vec::new();
    for item in &mut file.items {
        let syn::Item::Mod(module) = item else {
            continue;
        };
        for inner in module.content.iter_mut().flat_map(|(_, items)| items) {
            if let syn::Item::Macro(m) = inner
                && m.mac
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "__if_std")
            {
                let items: syn::File = syn::parse2(std::mem::take(&mut m.mac.tokens))
                    .map_err(|e| format!("generated code does not parse: {e}"))?;
                m.mac.tokens = quote! { __chainrule_std_items };
                gated.push(prettyplease::unparse(&items));
            }
        }
    }
    let mut out = String::new();
    let mut gated = gated.into_iter();
    for line in prettyplease::unparse(&file).lines() {
        let marker = line.trim_start();
        match (marker == "__chainrule_std_items", &gated.len()) {
            (true, 1..) => {
                let indent = &line[..line.len() - marker.len()];
                for item_line in gated.next().unwrap_or_default().lines() {
                    if !item_line.is_empty() {
                        out.push_str(indent);
                    }
                    out.push_str(item_line);
                    out.push('\n');
                }
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    Ok(out)
}
