//! chainrule's engine: semantic checks, the symbolic IR, derivation, evaluation and emitters.
//!
//! The pipeline reads top to bottom in [`compile`]: parse -> check -> lower -> derive, at
//! two levels: the scalar graph (one node per element, the reference) and the tensor-level
//! statements (one per definition, verified against the scalar graph element by element).
//! Everything here is plain Rust (no `proc_macro`), so the macro and the CLI share it and
//! all of it is testable outside a macro. The default `outputs` feature holds every output
//! but the Rust items of `derive!`; the macro builds without it (ARCHITECTURE.md, "Features").

pub mod builtin;
pub mod canon;
pub mod check;
#[cfg(feature = "outputs")]
pub mod claims;
pub mod collect;
#[cfg(feature = "outputs")]
pub mod derivative;
pub mod derive;
pub mod diagnostic;
#[cfg(feature = "outputs")]
pub mod diagram;
pub mod draw;
pub mod eval;
#[cfg(feature = "outputs")]
pub mod explain;
#[cfg(feature = "outputs")]
pub mod html;
pub mod inner;
pub mod ir;
pub mod latex;
pub mod layout;
pub mod lower;
pub mod model;
#[cfg(feature = "outputs")]
pub mod notebook;
#[cfg(feature = "outputs")]
pub mod numpy;
pub mod partials;
#[cfg(feature = "outputs")]
pub mod point;
pub mod print;
#[cfg(feature = "outputs")]
pub mod report;
pub mod rust;
pub mod softmax;
pub mod targets;
pub mod tensor;
pub mod warnings;
pub mod written;

pub use chainrule_grammar::{Diagnostic, Span};
pub use diagnostic::SourceFile;
pub use model::{Model, Network};

/// Everything derived for one network; emitters read it and never write into it.
pub struct CompiledNetwork {
    /// Its position in [`Model::networks`].
    pub index: usize,
    /// The scalar derivation: the reference every formula is checked against.
    pub derivation: derive::Derivation,
    /// The tensor-level statements, or what the tensor level does not cover yet.
    pub program: Result<tensor::Program, tensor::lower::Unsupported>,
}

/// A compiled file: its checked model and every network's derivations.
pub struct Compiled {
    /// The checked model.
    pub model: Model,
    /// One entry per network, in file order.
    pub networks: Vec<CompiledNetwork>,
}

impl Compiled {
    /// The network at `index` of the model and its derivations.
    pub fn network(&self, index: usize) -> (&Network, &CompiledNetwork) {
        (&self.model.networks[index], &self.networks[index])
    }
}

/// The pipeline: parse -> check -> lower -> derive, for every network of a file; errors
/// come back all at once, in source order.
pub fn compile(source: &str) -> Result<Compiled, Vec<Diagnostic>> {
    let model = check_source(source)?;
    let networks = model
        .networks
        .iter()
        .enumerate()
        .map(|(index, network)| compile_network(&model, index, network))
        .collect();
    Ok(Compiled { model, networks })
}

/// Both levels of one network: the scalar derivation, then the statements checked against it.
pub fn compile_network(model: &Model, index: usize, network: &Network) -> CompiledNetwork {
    let derivation = derive::derive(network, &model.functions);
    let program = tensor::program(network, &model.functions, &derivation);
    CompiledNetwork {
        index,
        derivation,
        program,
    }
}

/// Parses and checks a whole file. Errors come back all at once, in source order.
pub fn check_source(source: &str) -> Result<Model, Vec<Diagnostic>> {
    let file = chainrule_grammar::parse_file(source)?;
    check::check(&file, source)
}
