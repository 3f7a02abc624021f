//! `chainrule rust` output for every example network: insta snapshots of the formatted module
//! (reviewed by eye); the gradient holds no heap allocation in any mode, and no loop when
//! unrolled.

mod support;

use chainrule::core::check_source;
use chainrule::core::rust::{
    BatchMode, Float, Unroll, expand_network, expand_network_with, format,
};

/// The body of `pub fn NAME(` in formatted source, up to the next item.
fn function_body<'s>(source: &'s str, name: &str) -> &'s str {
    let start = source
        .find(&format!("pub fn {name}("))
        .unwrap_or_else(|| panic!("no fn {name}"));
    let rest = &source[start..];
    let end = ["\n    pub ", "\n    ///", "\n    #["]
        .iter()
        .filter_map(|end| rest[1..].find(end))
        .min()
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
            let gradient = function_body(&source, "gradient_into");
            // A convolution over feature maps loops even by default (its reductions run over
            // whole windows and maps), and so does a gated cell over its steps; every other
            // example is small enough to unroll.
            let maps = network.vectors.iter().any(|v| v.shape.rank() >= 3)
                || !network.recurrences.is_empty();
            let forbidden = [
                "for ", "while ", "loop ", "loop{", "Vec", "vec!", "Box", "to_vec", "collect",
            ];
            for forbidden in forbidden.into_iter().filter(|f| !(maps && *f == "for ")) {
                assert!(
                    !gradient.contains(forbidden),
                    "{stem}/{}: `{forbidden}` in gradient:\n{gradient}",
                    network.name
                );
            }
            let tokens = expand_network_with(
                &model,
                network,
                Float::F64,
                Unroll::Never,
                BatchMode::Auto,
                None,
            )
            .expect("emits");
            let looped = format(tokens).expect("parses and formats");
            for name in ["gradient_into", "sgd_step"] {
                let body = function_body(&looped, name);
                for forbidden in ["Vec", "vec!", "Box", "to_vec", "collect", "while ", "loop "] {
                    assert!(
                        !body.contains(forbidden),
                        "{stem}/{}: `{forbidden}` in looped {name}:\n{body}",
                        network.name
                    );
                }
            }
            if stem == "seed004" {
                insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false }, {
                    insta::assert_snapshot!(format!("rust_loops__{stem}__{}", network.name), looped);
                });
            }
            insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false }, {
                insta::assert_snapshot!(format!("rust__{stem}__{}", network.name), source);
            });
        }
    }
}
