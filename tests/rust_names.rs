//! `chainrule rust` for a network whose inputs and targets are named as the generated code's
//! own items and bindings (tests/corpus/ok/generated_names.nn, issue 24): the printed text has
//! no hygiene to hide a clash, so committed copies of it (tests/generated/names_*.rs, checked
//! to be what the emitter prints now) are compiled here and give the evaluator's gradient.
//! Names Rust cannot take, and numbers an `f32` module cannot hold, are errors at their place.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use chainrule::core::check_source;
use chainrule::core::eval::evaluate_batch;
use chainrule::core::rust::{BatchMode, Float, Unroll, expand_network_with, format};

// The copies are whole modules; this test calls only a few of their items.
#[allow(dead_code, unused_assignments, unused_mut)]
mod auto {
    include!("generated/names_auto.rs");
}

#[allow(dead_code, unused_assignments, unused_mut)]
mod loops {
    include!("generated/names_loops.rs");
}

const NETWORK: &str = "tests/corpus/ok/generated_names.nn";

/// The committed copies and the options they were printed with.
const COPIES: [(&str, Unroll, BatchMode); 2] = [
    (
        "tests/generated/names_auto.rs",
        Unroll::Auto,
        BatchMode::Auto,
    ),
    (
        "tests/generated/names_loops.rs",
        Unroll::Never,
        BatchMode::Matrix,
    ),
];

#[test]
fn committed_copies_are_what_chainrule_rust_prints() {
    let text = std::fs::read_to_string(NETWORK).expect("network file");
    let model = check_source(&text).expect("checks");
    for (copy, unroll, batch) in COPIES {
        let tokens =
            expand_network_with(&model, &model.networks[0], Float::F64, unroll, batch, None)
                .expect("emits");
        let printed = format(tokens).expect("parses");
        let committed = std::fs::read_to_string(copy).unwrap_or_default();
        if printed != committed {
            if std::env::var_os("CHAINRULE_BLESS").is_some() {
                std::fs::write(copy, &printed).expect("write the copy");
            } else {
                panic!(
                    "{copy} is not what `chainrule rust` prints now: rerun with CHAINRULE_BLESS=1 and review the diff"
                );
            }
        }
    }
}

type Flat = fn(&[f64], &[f64]) -> (f64, Vec<f64>);

/// `gradient_flat`, `sgd_step_flat` and `gradient_batch_flat` of one copy.
macro_rules! flat {
    ($module:ident) => {
        (
            (|p: &[f64], d: &[f64]| {
                let (loss, g) = $module::generated_names::gradient_flat(
                    p.try_into().expect("params"),
                    d.try_into().expect("data"),
                );
                (loss, g.to_vec())
            }) as Flat,
            (|p: &[f64], d: &[f64]| {
                let mut params: [f64; $module::generated_names::PARAMS] =
                    p.try_into().expect("params");
                let loss = $module::generated_names::sgd_step_flat(
                    &mut params,
                    d.try_into().expect("data"),
                    1.0,
                );
                let moved: Vec<f64> = p.iter().zip(&params).map(|(a, b)| a - b).collect();
                (loss, moved)
            }) as Flat,
            (|p: &[f64], d: &[f64]| {
                let rows =
                    chainrule::ndarray::ArrayView2::from_shape((1, d.len()), d).expect("one row");
                let mut ws = $module::generated_names::BatchWorkspace::new();
                $module::generated_names::gradient_batch_flat(p, rows, &mut ws).expect("batch")
            }) as Flat,
        )
    };
}

#[test]
fn printed_modules_give_the_evaluators_gradient() {
    let text = std::fs::read_to_string(NETWORK).expect("network file");
    let model = check_source(&text).expect("checks");
    let network = &model.networks[0];
    let derivation = chainrule::core::derive::derive(network, &model.functions);
    let mut rng = support::Rng(24);
    for (copy, (gradient, step, batch)) in [("auto", flat!(auto)), ("loops", flat!(loops))] {
        let (params, samples) = support::random_point(network, &mut rng, 1, false);
        let core = evaluate_batch(&derivation, network, &params, &samples);
        let flat_params = params.concat();
        let sample = &samples[0];
        let data: Vec<f64> = sample
            .inputs
            .iter()
            .chain(&sample.targets)
            .flatten()
            .copied()
            .collect();
        let want = core.gradient.concat();
        for (function, f) in [
            ("gradient_flat", gradient),
            ("sgd_step_flat", step),
            ("gradient_batch_flat", batch),
        ] {
            let (loss, got) = f(&flat_params, &data);
            assert!(
                (loss - core.loss).abs() <= 1e-12 * core.loss.abs().max(1.0),
                "{copy} {function}: loss {loss} vs {}",
                core.loss
            );
            assert_eq!(got.len(), want.len());
            for (i, (a, b)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-10 * b.abs().max(1.0),
                    "{copy} {function}: element {i}: {a} vs the evaluator's {b}"
                );
            }
        }
    }
}

fn chainrule_rust(name: &str, source: &str, f32: bool) -> Output {
    let dir = std::env::temp_dir().join(format!("chainrule-rust-names-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, source).expect("write");
    let mut args = vec!["rust", name];
    if f32 {
        args.push("--f32");
    }
    Command::new(env!("CARGO_BIN_EXE_chainrule"))
        .args(&args)
        .current_dir(Path::new(&dir))
        .output()
        .expect("the binary runs")
}

/// `chainrule rust` fails with exit code 2 and `file:line:col: error: ...`, the source line
/// and a caret under `marked`, whose first character is at `col` of `line`.
fn assert_refused(out: &Output, file: &str, line: usize, col: usize, marked: &str, words: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty(), "no code is printed");
    assert!(
        stderr.starts_with(&format!("{file}:{line}:{col}: error: ")),
        "{stderr}"
    );
    assert!(stderr.contains(words), "`{words}` not in {stderr}");
    let caret = format!("{}{}", " ".repeat(col - 1), "^".repeat(marked.len()));
    assert!(
        stderr
            .lines()
            .any(|l| l.ends_with(&caret) && l.contains('|')),
        "no caret under `{marked}` at column {col}:\n{stderr}"
    );
}

#[test]
fn underscore_and_a_network_named_chainrule_are_located_errors() {
    let out = chainrule_rust(
        "underscore.nn",
        "network n {\n  input _[2]\n  target t[1]\n  y[1] = W @ _\n  loss L = sum((y - t)^2)\n}\n",
        false,
    );
    assert_refused(
        &out,
        "underscore.nn",
        2,
        9,
        "_",
        "`_` names no field or argument",
    );
    let out = chainrule_rust(
        "crate_name.nn",
        "network chainrule {\n  input x[2]\n  target t[1]\n  y[1] = W @ x\n  loss L = sum((y - t)^2)\n}\n",
        false,
    );
    assert_refused(
        &out,
        "crate_name.nn",
        1,
        9,
        "chainrule",
        "would shadow the crate `chainrule`",
    );
}

#[test]
fn numbers_f32_cannot_hold_are_located_errors_of_f32_code() {
    let constant = "network big {\n  input x[2]\n  target t[1]\n  y[1] = W @ x\n  loss L = 1e39 * sum((y - t)^2)\n}\n";
    let out = chainrule_rust("constant.nn", constant, true);
    assert_refused(
        &out,
        "constant.nn",
        5,
        12,
        "1e39",
        "the number 1e39 is out of the range of a 32-bit float",
    );
    // The same network is fine in f64, and so is a number f32 rounds to zero.
    assert_eq!(
        chainrule_rust("constant.nn", constant, false).status.code(),
        Some(0)
    );
    let tiny = constant.replace("1e39", "1e-60");
    assert_eq!(
        chainrule_rust("tiny.nn", &tiny, true).status.code(),
        Some(0)
    );

    let default = "network big {\n  input x[2]\n  target t[1]\n  param W[1][2] = [[1, -4e38]]\n  y[1] = W @ x\n  loss L = sum((y - t)^2)\n}\n";
    let out = chainrule_rust("default.nn", default, true);
    assert_refused(
        &out,
        "default.nn",
        4,
        9,
        "W",
        "the value -4e38 given to parameter `W`",
    );

    let function = "fn huge(v) = v * 5e38\nnetwork big {\n  input x[2]\n  target t[1]\n  y[1] = W @ x\n  loss L = sum((huge(y) - t)^2)\n}\n";
    let out = chainrule_rust("function.nn", function, true);
    assert_refused(
        &out,
        "function.nn",
        6,
        17,
        "huge(y)",
        "the number 5e38 in function `huge`",
    );
}
