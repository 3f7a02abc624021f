//! chainrule: derives the chain rule of a neural network's loss for every weight.
//!
//! This facade crate re-exports the engine (`chainrule-core`) and holds the command-line
//! front end's shared plumbing in [`cli`]; `src/main.rs` is only argument parsing.

pub mod cli;

pub use chainrule_core as core;
pub use chainrule_core::{Model, Network, SourceFile};
