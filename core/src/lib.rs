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

use std::sync::OnceLock;

pub use chainrule_grammar::{Diagnostic, Span};
pub use diagnostic::SourceFile;
pub use model::{Model, Network};

/// Everything derived for one network; emitters read it and never write into it.
///
/// The tensor-level statements are derived on first use, once: `eval`, `explain` and the
/// chain and delta forms read only the scalar derivation and do not pay for them.
pub struct CompiledNetwork {
    /// Its position in [`Model::networks`].
    pub index: usize,
    /// The scalar derivation: the reference every formula is checked against.
    pub derivation: derive::Derivation,
    /// The checked network the statements are lowered from.
    network: Network,
    /// The statements as printed (a user function kept as a call by its name).
    printed: OnceLock<Result<tensor::Program, tensor::lower::Unsupported>>,
    /// The statements with user functions written in place, when the file has any.
    inlined: OnceLock<Result<tensor::Program, tensor::lower::Unsupported>>,
}

impl CompiledNetwork {
    /// The tensor-level statements as printed (a user function kept as a call by its name),
    /// each verified against the scalar derivation, or what the tensor level does not cover.
    pub fn program(&self) -> &Result<tensor::Program, tensor::lower::Unsupported> {
        self.printed.get_or_init(|| self.statements(true))
    }

    /// The statements generated code is built from: user functions written in place.
    pub fn code_program(&self) -> &Result<tensor::Program, tensor::lower::Unsupported> {
        // Without user functions, printing and code lower every definition alike.
        if self.derivation.functions.is_empty() {
            return self.program();
        }
        self.inlined.get_or_init(|| self.statements(false))
    }

    fn statements(&self, named_calls: bool) -> Result<tensor::Program, tensor::lower::Unsupported> {
        let functions = &self.derivation.functions;
        tensor::program_with(&self.network, functions, &self.derivation, named_calls)
    }
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
    let networks = (0..model.networks.len())
        .map(|index| compile_network(&model, index))
        .collect();
    Ok(Compiled { model, networks })
}

/// Both levels of the network at `index` of a checked model: the scalar derivation, and the
/// statements checked against it when first asked for. Every output of the network reads this
/// one result.
pub fn compile_network(model: &Model, index: usize) -> CompiledNetwork {
    let network = &model.networks[index];
    CompiledNetwork {
        index,
        derivation: derive::derive(network, &model.functions),
        network: network.clone(),
        printed: OnceLock::new(),
        inlined: OnceLock::new(),
    }
}

/// Parses and checks a whole file. Errors come back all at once, in source order.
pub fn check_source(source: &str) -> Result<Model, Vec<Diagnostic>> {
    let file = chainrule_grammar::parse_file(source)?;
    check::check(&file, source)
}
