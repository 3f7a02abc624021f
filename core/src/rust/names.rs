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
    "momentum_step",
    "adam_step",
    "momentum_step_batch",
    "momentum_step_batch_into",
    "adam_step_batch",
    "adam_step_batch_into",
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

#[cfg(all(test, feature = "outputs"))]
mod tests {
    use super::*;
    use crate::rust::{BatchMode, Float, Unroll, expand_network_with};

    /// Every function, constant or static of a generated module, and every struct an argument
    /// could name as a pattern, is reserved (or private to the batch functions, `__`).
    #[test]
    fn module_items_are_reserved() {
        let source = "network n {\n input x[40]\n target t[20]\n h[30] = relu(W1 @ x + b1)\n y[20] = W2 @ h\n loss L = 0.5 * sum((y - t)^2)\n}\n";
        let model = crate::check_source(source).expect("checks"); // ok: a test
        for (unroll, batch) in [
            (Unroll::Auto, BatchMode::Auto),
            (Unroll::Never, BatchMode::Matrix),
        ] {
            let tokens =
                expand_network_with(&model, &model.networks[0], Float::F64, unroll, batch, None)
                    .expect("emits"); // ok: a test
            let file: syn::File = syn::parse2(tokens).expect("parses"); // ok: a test
            let Some(syn::Item::Mod(module)) = file.items.first() else {
                panic!("a module"); // ok: a test
            };
            let items = &module.content.as_ref().expect("inline module").1; // ok: a test
            let mut values = Vec::new();
            for item in items {
                match item {
                    syn::Item::Fn(f) => values.push(f.sig.ident.to_string()),
                    syn::Item::Const(c) => values.push(c.ident.to_string()),
                    syn::Item::Static(s) => values.push(s.ident.to_string()),
                    syn::Item::Struct(s) if !matches!(s.fields, syn::Fields::Named(_)) => {
                        values.push(s.ident.to_string())
                    }
                    _ => {}
                }
            }
            assert!(values.len() > 10, "{values:?}");
            for name in values {
                assert!(
                    name.starts_with("__") || RESERVED_ITEMS.contains(&name.as_str()),
                    "`{name}` is in every generated module but not in RESERVED_ITEMS"
                );
            }
        }
    }

    /// An argument that must move gets underscores until it is free, and generated bindings
    /// move away from every argument.
    #[test]
    fn arguments_and_bindings_never_share_a_name() {
        let source = "network n {\n input LATEX[1]\n input LATEX_[1]\n input p[1]\n target p_[1]\n loss L = sum(LATEX * LATEX_ * p - p_)\n}\n";
        let model = crate::check_source(source).expect("checks"); // ok: a test
        let names = Names::new(&model.networks[0]);
        let arguments: Vec<String> = names.arguments().iter().map(Ident::to_string).collect();
        assert_eq!(arguments, ["LATEX__", "LATEX_", "p", "p_"]);
        assert_eq!(names.local("p").to_string(), "p__");
        assert_eq!(names.local("g").to_string(), "g");
    }
}
