//! `check::outline`, what `derive!`'s stand-in module is built from: on a file that checks it
//! says exactly what the checked model says, and on any broken file (every err corpus file,
//! and random cuts of every corpus and example file) it returns without panicking and never
//! claims a size the declarations contradict.

use std::path::Path;

use chainrule::core::check::{NetworkOutline, outline};
use chainrule::core::check_source;
use proptest::prelude::*;

fn files(dir: &str) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut paths: Vec<_> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "nn"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("read"))
        .collect()
}

fn all_files() -> Vec<String> {
    let mut all = files("tests/corpus/ok");
    all.extend(files("tests/corpus/err"));
    all.extend(files("examples/nets"));
    all
}

/// Every input and target declared with one positive size has that size in the outline,
/// whatever else is broken, and no size is zero (a `[F; 0]` field would turn the user's
/// indexing into errors of its own).
fn declared_sizes_hold(file: &chainrule_grammar::File, outlines: &[NetworkOutline], text: &str) {
    use chainrule_grammar::StatementKind;
    for (network, o) in file.networks.iter().zip(outlines) {
        let known: Vec<(String, usize)> = o
            .inputs
            .iter()
            .chain(&o.targets)
            .map(|(name, form)| (name.clone(), form.size()))
            .collect();
        for statement in &network.statements {
            let (StatementKind::Input(d) | StatementKind::Target(d)) = &statement.kind else {
                continue;
            };
            if let [dim] = d.dims.as_slice()
                && dim.size > 0
            {
                assert!(
                    known.contains(&(d.name.name.clone(), dim.size)),
                    "`{}[{}]` is missing from {o:?} of\n{text}",
                    d.name.name,
                    dim.size
                );
            }
        }
        let sizes = known
            .iter()
            .map(|(_, n)| *n)
            .chain(o.vectors.iter().filter_map(|(_, s)| s.map(|s| s.len())));
        assert!(
            sizes.into_iter().all(|n| n > 0),
            "a zero size in {o:?} of\n{text}"
        );
    }
}

#[test]
fn on_a_file_that_checks_the_outline_is_the_model() {
    let mut compared = 0;
    for text in all_files() {
        let Ok(model) = check_source(&text) else {
            continue;
        };
        let file = chainrule_grammar::parse_file(&text).expect("a checked file parses");
        let outlines = outline(&file, &text);
        assert_eq!(outlines.len(), model.networks.len());
        for (o, network) in outlines.iter().zip(&model.networks) {
            let mut expected = NetworkOutline::of(network);
            // The model lists vectors in evaluation order; the outline in source order.
            let mut got = o.clone();
            expected.vectors.sort_by(|a, b| a.0.cmp(&b.0));
            got.vectors.sort_by(|a, b| a.0.cmp(&b.0));
            assert_eq!(got, expected, "{text}");
            compared += 1;
        }
    }
    assert!(compared > 20, "only {compared} networks compared");
}

#[test]
fn every_err_corpus_file_has_an_outline() {
    for text in files("tests/corpus/err") {
        if let Ok(file) = chainrule_grammar::parse_file(&text) {
            let outlines = outline(&file, &text);
            assert_eq!(outlines.len(), file.networks.len());
            declared_sizes_hold(&file, &outlines, &text);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    /// A random span cut out of a random file: whatever still parses has an outline.
    #[test]
    fn a_cut_file_never_panics(pick in any::<prop::sample::Index>(), from in 0.0f64..1.0, len in 1usize..40) {
        let all = all_files();
        let text = &all[pick.index(all.len())];
        let start = ((text.len() as f64) * from) as usize;
        let end = (start + len).min(text.len());
        if text.is_char_boundary(start) && text.is_char_boundary(end) {
            let cut = format!("{}{}", &text[..start], &text[end..]);
            if let Ok(file) = chainrule_grammar::parse_file(&cut) {
                let outlines = outline(&file, &cut);
                prop_assert_eq!(outlines.len(), file.networks.len());
                declared_sizes_hold(&file, &outlines, &cut);
            }
        }
    }
}
