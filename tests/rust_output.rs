//! `chainrule rust` output for every example network: insta snapshots of the formatted module
//! (reviewed by eye), and the unrolled gradient holds no loop and no heap allocation.

mod support;

use chainrule::core::check_source;
use chainrule::core::rust::{Float, expand_network, format};

/// The body of `pub fn NAME(` in formatted source, up to the next item.
fn function_body<'s>(source: &'s str, name: &str) -> &'s str {
    let start = source
        .find(&format!("pub fn {name}("))
        .unwrap_or_else(|| panic!("no fn {name}"));
    let rest = &source[start..];
    let end = rest[1..]
        .find("\n    pub ")
        .or_else(|| rest[1..].find("\n    ///"))
        .map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

#[test]
fn generated_modules_are_snapshotted_and_unrolled() {
    for (stem, text) in support::example_files() {
        let model = check_source(&text).expect("checks");
        for network in &model.networks {
            let tokens = expand_network(&model, network, Float::F64, None).expect("emits");
            let source = format(tokens).expect("parses and formats");
            let gradient = function_body(&source, "gradient");
            for forbidden in [
                "for ", "while ", "loop ", "loop{", "Vec", "vec!", "Box", "to_vec", "collect",
            ] {
                assert!(
                    !gradient.contains(forbidden),
                    "{stem}/{}: `{forbidden}` in gradient:\n{gradient}",
                    network.name
                );
            }
            insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false }, {
                insta::assert_snapshot!(format!("rust__{stem}__{}", network.name), source);
            });
        }
    }
}
