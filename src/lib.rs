//! chainrule: derives the chain rule of a neural network's loss for every weight.
//!
//! [`derive!`] turns `.nn` network descriptions into Rust modules with unrolled gradient code
//! (see `../shared/spec/RUST_API.md`); [`runtime`] holds what that code calls. With the `cli`
//! feature the engine is re-exported as [`core`] and [`cli`] is the command-line front end's
//! plumbing (`src/main.rs` is only argument parsing).
//!
//! Without the default `std` feature the crate is `#![no_std]` and needs no allocator: the
//! per-sample items of generated code use only `core` and `libm`. Generated code wraps the
//! items that need the standard library in [`__if_std!`], which this crate defines to keep or
//! to drop them by its own `std` feature (ARCHITECTURE.md, "no_std").

#![cfg_attr(not(feature = "std"), no_std)]

#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "std")]
pub mod parallel;
pub mod runtime;

#[cfg(feature = "cli")]
pub use chainrule_core as core;
#[cfg(feature = "cli")]
pub use chainrule_core::{Model, Network, SourceFile};
pub use chainrule_macros::derive;
/// libm, the math functions generated code uses without `std` (through [`runtime::Math`])
/// and `erf` everywhere (through [`runtime::Real::erf`]).
pub use libm;
#[cfg(feature = "std")]
pub use ndarray;
/// rayon, for generated code and for callers that size its thread pool (`parallel` feature).
#[cfg(feature = "parallel")]
pub use rayon;
#[cfg(feature = "std")]
pub use runtime::{ElementDiff, GradientDiff, ParamsError, Relation, ShapeError};

/// Keeps the items it wraps: the `std` feature is on. Generated code puts every item that
/// needs the standard library (batch functions, `Box`, JSON, reports) inside one call.
#[cfg(feature = "std")]
#[doc(hidden)]
#[macro_export]
macro_rules! __if_std {
    ($($item:tt)*) => { $($item)* };
}

/// Drops the items it wraps: the `std` feature is off.
#[cfg(not(feature = "std"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __if_std {
    ($($item:tt)*) => {};
}

/// The standard library's names that generated std-only items use, imported by them so that
/// they resolve even in a `#![no_std]` crate that enables the `std` feature.
#[cfg(feature = "std")]
#[doc(hidden)]
pub mod __std {
    pub use std::borrow::ToOwned;
    pub use std::boxed::Box;
    pub use std::format;
    pub use std::string::{String, ToString};
    pub use std::vec::Vec;
}
