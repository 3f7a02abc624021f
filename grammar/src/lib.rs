//! The `.nn` network description language: its pest grammar and a spanned syntax tree.
//!
//! [`parse_file`] is the only entry point; everything it returns carries byte spans into the
//! source so that later stages can report `file:line:col` with a caret.

pub mod ast;
mod parse;

pub use ast::*;
pub use parse::{MAX_DIM, MAX_NESTING, parse_file};
