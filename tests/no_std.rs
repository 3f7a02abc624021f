//! `chainrule` without its default `std` feature (issue 22): tests/no_std_crate, a
//! `#![no_std]` library that trains a network with `adam_step`, builds with `cargo build`; its
//! normal dependencies (proc macros aside) are only `chainrule` and `libm`; its static library
//! references no allocator and nothing of `std`; and its host driver shows the loss falling.
//! Its build compiles, for the `derive!` macro, only the engine the macro runs.

use std::path::{Path, PathBuf};
use std::process::Command;

fn crate_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/no_std_crate")
}

/// A target directory of its own inside this build's (wherever CARGO_TARGET_DIR points).
fn target_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no_std_crate")
}

fn cargo(args: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(args)
        .current_dir(crate_dir())
        .env("CARGO_TARGET_DIR", target_dir())
        // The outer build's flags are not the inner one's.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("cargo runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "cargo {args:?} failed:\n{stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The names of the packages `cargo tree` lists for the crate along `edges`, sorted and
/// without repeats, and the tree itself (for a failure's message).
fn packages(edges: &str) -> (Vec<String>, String) {
    let tree = cargo(&[
        "tree",
        "--locked",
        "-p",
        "chainrule-no-std-check",
        "-e",
        edges,
        "--prefix",
        "none",
    ]);
    let mut names: Vec<String> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    names.sort_unstable();
    names.dedup();
    (names, tree)
}

#[test]
fn a_no_std_crate_trains_without_std_or_an_allocator() {
    cargo(&["build", "--locked", "--workspace"]);

    // Proc macros run on the host and link nothing into the library: left out.
    let (packages, tree) = packages("normal,no-proc-macro");
    assert_eq!(
        packages,
        ["chainrule", "chainrule-no-std-check", "libm"],
        "{tree}"
    );

    // The static library holds the crate and everything it links.
    let library = target_dir().join("debug/libchainrule_no_std_firmware.a");
    let nm = Command::new("nm")
        .arg(&library)
        .output()
        .expect("nm (binutils) runs");
    assert!(nm.status.success(), "nm failed");
    let symbols = String::from_utf8_lossy(&nm.stdout);
    assert!(
        symbols.contains("chainrule_train"),
        "the library was not built"
    );
    for forbidden in [
        "__rust_alloc",
        "__rg_alloc",
        "__rust_no_alloc_shim_is_unstable",
    ] {
        assert!(
            !symbols.contains(forbidden),
            "the library references {forbidden}"
        );
    }
    // Anything of the crates `std` or `alloc`, in legacy (`_ZN3std`) and v0 mangling (a crate
    // root is `C`, its disambiguator ending in `_`, then the name: `..._3std`; `core::alloc`
    // is `4core5alloc`, not matched).
    for forbidden in ["_ZN3std", "_ZN5alloc", "_3std", "_5alloc"] {
        let hit = symbols.lines().find(|l| {
            l.split_whitespace()
                .last()
                .is_some_and(|s| s.contains(forbidden))
        });
        assert!(
            hit.is_none(),
            "the library references std or alloc: {hit:?}"
        );
    }

    // Trained one sample at a time on the host, the loss falls.
    let driver = target_dir().join("debug/chainrule-no-std-driver");
    let out = Command::new(driver).output().expect("the driver runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let loss = |key: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no `{key}` in {text}"))
    };
    let (early, late) = (loss("adam 35 "), loss("adam 3500 "));
    // The calibration entry points are linked whole, under their own names.
    for entry in ["chainrule_adam_step", "chainrule_sgd_step"] {
        assert!(symbols.contains(entry), "{entry} is not in the library");
    }
    assert!(late.is_finite() && late < early / 4.0, "{text}");
    assert!(loss("momentum 350 ").is_finite(), "{text}");
    // Single precision learns as well.
    assert!(loss("f32 adam 3500 ") < early / 4.0, "{text}");
}

/// What the `derive!` macro makes a user compile on the host is the engine it runs and no more:
/// no pest generator (the parser is committed, grammar/tests/generated_parser.rs), no stack
/// guard with its C build (pest without `std`), no JSON, formatter or full syn (chainrule-core
/// without `outputs`). A cold build of a user crate took half the time after this
/// (BENCHMARKS.md, "A library user's cold build"); a new dependency here is a choice to make
/// on purpose.
#[test]
fn the_macro_builds_only_the_engine_it_runs() {
    let (packages, tree) = packages("normal,build");
    assert_eq!(
        packages,
        [
            "chainrule",
            "chainrule-core",
            "chainrule-grammar",
            "chainrule-macros",
            "chainrule-no-std-check",
            "foldhash",
            // The scalar graph's index of its nodes (no dependencies of its own, 0.4 s to
            // build): a third less memory in deriving (BENCHMARKS.md, "compile_network").
            "hashbrown",
            "libm",
            "memchr",
            "pest",
            "proc-macro2",
            "quote",
            "strsim",
            "syn",
            "ucd-trie",
            "unicode-ident",
        ],
        "{tree}"
    );
    let syn = cargo(&[
        "tree",
        "--locked",
        "-p",
        "chainrule-no-std-check",
        "-e",
        "features",
        "-i",
        "syn",
    ]);
    assert!(
        !syn.contains("\"full\""),
        "syn is built with `full`:\n{syn}"
    );
}
