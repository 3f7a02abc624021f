//! Rust names in generated code. The only names of the network that become Rust bindings are
//! its inputs and targets (the generated functions' arguments); every other binding is made
//! up by the generator. Hygiene keeps the two apart inside `derive!`, but `chainrule rust`
//! prints plain text, so both sides are chosen here so that they can never meet:
//!
//! - an argument keeps the user's name unless that name would not be a fresh binding in the
//!   module (a `const`, a function the generated code calls, a prelude variant such as
//!   `None`); then it gets trailing underscores until it is free;
//! - a generated binding (`p`, `g`, `lr`, `z1_0`, `tmp3`, ...) is its base name with trailing
//!   underscores added while it equals an argument. No base name ends in `_`, so distinct
//!   bases stay distinct.
//!
//! Names beginning with `__` are left to the batch functions' internals: the emitter refuses
//! them in a network (`check_names`).

use std::collections::BTreeSet;

use proc_macro2::{Ident, Span};

use crate::model::{Network, Symbol};

/// Value-namespace names in scope in every generated module that an argument of the same
/// name would shadow or, for constants and variants, turn into a pattern: the module's
/// functions and constants (see `module_items_are_reserved` below) and the prelude's variants.
pub const RESERVED_ITEMS: &[&str] = &[
    "Some",
    "None",
    "Ok",
    "Err",
    "forward",
    "evaluate",
    "loss",
    "gradient",
    "gradient_into",
    "sgd_step",
    "gradient_batch",
    "gradient_batch_into",
    "gradient_batch_flat",
    "sgd_step_batch",
    "sgd_step_batch_into",
    "compare_gradient",
    "gradient_flat",
    "sgd_step_flat",
    "PARAMS",
    "DATA",
    "LATEX",
];

/// The Rust names of one network's generated code.
#[derive(Clone, Debug)]
pub struct Names {
    /// The argument of each input, then each target, in declaration order.
    arguments: Vec<String>,
    /// The same, for lookups.
    taken: BTreeSet<String>,
    /// How many of them are inputs.
    inputs: usize,
}

impl Names {
    /// The names for `network`.
    pub fn new(network: &Network) -> Names {
        let users: BTreeSet<&str> = network
            .inputs
            .iter()
            .chain(&network.targets)
            .map(|v| v.name.as_str())
            .collect();
        let arguments: Vec<String> = network
            .inputs
            .iter()
            .chain(&network.targets)
            .map(|v| {
                let mut name = v.name.clone();
                if RESERVED_ITEMS.contains(&name.as_str()) {
                    name.push('_');
                    while RESERVED_ITEMS.contains(&name.as_str()) || users.contains(name.as_str()) {
                        name.push('_');
                    }
                }
                name
            })
            .collect();
        let taken = arguments.iter().cloned().collect();
        Names {
            arguments,
            taken,
            inputs: network.inputs.len(),
        }
    }

    /// The argument of input or target `i` (inputs first, then targets).
    pub fn argument(&self, i: usize) -> Ident {
        Ident::new(&self.arguments[i], Span::call_site())
    }

    /// The argument of an input or a target.
    pub fn data(&self, symbol: Symbol) -> Option<Ident> {
        match symbol {
            Symbol::Input(i) => Some(self.argument(i)),
            Symbol::Target(i) => Some(self.argument(self.inputs + i)),
            _ => None,
        }
    }

    /// Every input's argument, then every target's.
    pub fn arguments(&self) -> Vec<Ident> {
        (0..self.arguments.len())
            .map(|i| self.argument(i))
            .collect()
    }

    /// A binding of the generated code: `base`, or `base_`, `base__`, ... if an argument has
    /// that name. Hygienic inside `derive!` as well.
    pub fn local(&self, base: &str) -> Ident {
        debug_assert!(!base.ends_with('_'), "generated base name `{base}`");
        let mut name = base.to_string();
        while self.taken.contains(&name) {
            name.push('_');
        }
        Ident::new(&name, Span::mixed_site())
    }
}
