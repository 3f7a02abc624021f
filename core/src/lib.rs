//! chainrule's engine: semantic checks, the symbolic IR, derivation, evaluation and emitters.
//!
//! The pipeline reads top to bottom in [`compile`]: parse -> check -> lower -> derive.
//! Everything here is plain Rust (no `proc_macro`), so the macro and the CLI share it and
//! all of it is testable outside a macro.

pub mod builtin;
pub mod check;
pub mod claims;
pub mod collect;
pub mod derivative;
pub mod derive;
pub mod diagnostic;
pub mod diagram;
pub mod eval;
pub mod explain;
pub mod html;
pub mod inner;
pub mod ir;
pub mod latex;
pub mod layout;
pub mod lower;
pub mod model;
pub mod notebook;
pub mod numpy;
pub mod point;
pub mod print;
pub mod report;
pub mod rust;
pub mod softmax;
pub mod tensor;
pub mod targets;

pub use chainrule_grammar::{Diagnostic, Span};
pub use diagnostic::SourceFile;
pub use model::{Model, Network};

/// Parses and checks a whole file. Errors come back all at once, in source order.
pub fn check_source(source: &str) -> Result<Model, Vec<Diagnostic>> {
    let file = chainrule_grammar::parse_file(source)?;
    check::check(&file, source)
}
