//! `chainrule rust --batch MODE` (issue 13): the mode reaches the generated module, and a
//! mode that does not exist is a usage error (exit 2), never a panic.

use std::process::{Command, Output};

fn chainrule(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chainrule"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

#[test]
fn batch_mode_chooses_the_generated_batch_code() {
    let with = |mode: &str, file: &str| {
        let out = chainrule(&["rust", file, "--batch", mode]);
        assert!(
            out.status.success(),
            "{mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).contains("fn __chunk_matrix(")
    };
    // mlp16's products do 1,664 multiply-adds per sample: auto emits the matrix form.
    assert!(with("matrix", "benches/nets/mlp16.nn"));
    assert!(with("auto", "benches/nets/mlp16.nn"));
    assert!(!with("per_sample", "benches/nets/mlp16.nn"));
    // seed 004's do 12: auto keeps the per-sample code, matrix forces the matrix form.
    assert!(!with("auto", "examples/nets/seed004.nn"));
    assert!(with("matrix", "examples/nets/seed004.nn"));
    let default = chainrule(&["rust", "benches/nets/mlp16.nn"]);
    let auto = chainrule(&["rust", "benches/nets/mlp16.nn", "--batch", "auto"]);
    assert_eq!(default.stdout, auto.stdout, "auto is the default");
}

#[test]
fn networks_the_layer_plan_cannot_read_run_their_statements_over_rows() {
    let statements = |mode: &str, file: &str| {
        let (file, network) = file.split_once('#').unwrap_or((file, ""));
        let mut args = vec!["rust", file, "--batch", mode];
        if !network.is_empty() {
            args.extend(["--network", network]);
        }
        let out = chainrule(&args);
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            !text.contains("fn __chunk_matrix("),
            "{file}: not a layer plan"
        );
        text.contains("fn __chunk_statements(")
    };
    // Convolutions, pooling, gated cells and recurrences: matrix mode takes the statements
    // form, never silently the per-sample code.
    for file in [
        "examples/nets/convnet.nn",
        "examples/nets/gru.nn",
        "examples/nets/lstm.nn",
        "examples/digits_cnn.nn",
        "examples/sine_rnn.nn#sine_rnn",
        "benches/nets/elman.nn",
    ] {
        assert!(statements("matrix", file), "{file}");
        assert!(!statements("per_sample", file), "{file}");
    }
    // The Elman network's contractions (W @ h and U @ x over 32 steps) pay in auto mode.
    assert!(statements("auto", "benches/nets/elman.nn"));
}

#[test]
fn unknown_batch_mode_is_a_usage_error() {
    let out = chainrule(&["rust", "examples/nets/seed004.nn", "--batch", "gemm"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("per_sample") && err.contains("gemm"), "{err}");
}
