//! chainrule: derives the chain rule of a neural network's loss for every weight.
//!
//! [`derive!`] turns `.nn` network descriptions into Rust modules with unrolled gradient code
//! (see `../shared/spec/RUST_API.md`); [`runtime`] holds what that code calls. The engine is
//! re-exported as [`core`]; [`cli`] is the command-line front end's plumbing (`src/main.rs` is
//! only argument parsing).

pub mod cli;
pub mod parallel;
pub mod runtime;

pub use chainrule_core as core;
pub use chainrule_core::{Model, Network, SourceFile};
pub use chainrule_macros::derive;
/// libm, whose `erf` generated code reaches through [`runtime::Real::erf`].
pub use libm;
pub use ndarray;
/// rayon, for generated code and for callers that size its thread pool (`parallel` feature).
#[cfg(feature = "parallel")]
pub use rayon;
pub use runtime::{ElementDiff, GradientDiff, Relation, ShapeError};
