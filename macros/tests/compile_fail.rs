//! Every kind of error `chainrule::derive!` reports, as trybuild `.rs`/`.stderr` pairs: each
//! must be a compile error at the right tokens (never a panic), with no follow-on errors.

use std::path::{Path, PathBuf};

/// The crate trybuild builds the cases in: `tests/trybuild/<crate>` under the target dir,
/// wherever that is (`CARGO_TARGET_DIR` may point outside the checkout). A case's
/// `file = "..."` is relative to that crate's manifest directory, as a user's is to theirs.
fn trybuild_crate() -> PathBuf {
    // Cargo gives integration tests `<target dir>/tmp`; trybuild asks `cargo metadata` for
    // the same target dir.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is inside the target dir")
        .to_path_buf();
    target.join("tests/trybuild").join(env!("CARGO_PKG_NAME"))
}

/// Puts the `.nn` files the cases read in `nets/` beside the trybuild crate, so the cases
/// name them as users do (`file = "nets/bad.nn"`) and their expected output holds no path
/// that depends on where the target dir is.
fn place_network_files() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let nets = trybuild_crate().join("nets");
    std::fs::create_dir_all(&nets).expect("create the trybuild crate's nets/");
    let sources = [
        manifest.join("tests/ui/nets/bad.nn"),
        manifest.join("../examples/nets/seed004.nn"),
    ];
    for source in sources {
        let name = source.file_name().expect("a file name");
        std::fs::copy(&source, nets.join(name))
            .unwrap_or_else(|e| panic!("copy {}: {e}", source.display()));
    }
}

#[test]
fn macro_errors() {
    place_network_files();
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    // A network with warnings (its expansion's deprecated items) builds.
    t.pass("tests/pass/*.rs");
}
