//! Second-order derivatives (`grad(S, v)` inside a network) and derivatives on request
//! (`--of/--wrt`) against numbers SymPy computed independently: `tests/sympy/second_order.py`
//! writes each case by hand as SymPy expressions and differentiates twice; its output,
//! `tests/sympy/second_order.json`, is committed (regenerate with
//! `bench/.venv/bin/python tests/sympy/second_order.py`).

use std::path::{Path, PathBuf};
use std::process::Command;

use chainrule::core::check_source;
use chainrule::core::derivative::{evaluate, request, reroot};
use chainrule::core::derive::derive;
use chainrule::core::eval::evaluate_batch;
use chainrule::core::point;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cases() -> Vec<Value> {
    let text = std::fs::read_to_string(root().join("tests/sympy/second_order.json"))
        .expect("tests/sympy/second_order.json");
    let cases: Value = serde_json::from_str(&text).expect("the SymPy cases parse");
    cases.as_array().expect("a list of cases").clone()
}

fn flat(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(items) => items.iter().flat_map(flat).collect(),
        other => vec![other.as_f64().expect("a number")],
    }
}

fn close(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: {got:?} against {want:?}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-11 * w.abs().max(1.0),
            "{what}[{i}]: chainrule gives {g}, SymPy {w}"
        );
    }
}

#[test]
fn loss_and_gradient_match_sympy() {
    let cases = cases();
    assert_eq!(cases.len(), 3);
    for case in &cases {
        let name = case["name"].as_str().unwrap_or_default();
        let text = std::fs::read_to_string(root().join(case["file"].as_str().unwrap_or_default()))
            .expect("the case's file");
        let model = check_source(&text).expect("the case checks");
        let network = &model.networks[0];
        let params = point::params(network, None).expect("defaults");
        let samples = point::samples(network, None).expect("a default sample");
        let derivation = derive(network, &model.functions);
        let result = evaluate_batch(&derivation, network, &params, &samples);
        close(
            &format!("{name}: loss"),
            &[result.loss],
            &[case["loss"].as_f64().unwrap_or(f64::NAN)],
        );
        for (p, g) in network.params.iter().zip(&result.gradient) {
            close(
                &format!("{name}: dL/d{}", p.name),
                g,
                &flat(&case["gradient"][&p.name]),
            );
        }
    }
}

#[test]
fn derivatives_on_request_match_sympy() {
    for case in &cases() {
        let name = case["name"].as_str().unwrap_or_default();
        let of = &case["of"];
        let text = std::fs::read_to_string(root().join(case["file"].as_str().unwrap_or_default()))
            .expect("the case's file");
        let model = check_source(&text).expect("the case checks");
        let network = &model.networks[0];
        let params = point::params(network, None).expect("defaults");
        let samples = point::samples(network, None).expect("a default sample");
        let derivation = derive(network, &model.functions);
        let req = request(
            network,
            &derivation,
            of["of"].as_str().unwrap_or_default(),
            of["wrt"].as_str(),
        )
        .expect("the request resolves");
        let wrt: Vec<_> = derivation.layout.vars(req.wrt).collect();
        let rooted = reroot(&derivation, req.of, &wrt);
        let at = evaluate(&rooted, network, &params, &samples[0]);
        close(
            &format!("{name}: {}", of["of"]),
            &[at.value],
            &[of["value"].as_f64().unwrap_or(f64::NAN)],
        );
        close(
            &format!("{name}: d{}/d{}", of["of"], of["wrt"]),
            &at.derivative,
            &flat(&of["derivative"]),
        );
    }
}

fn chainrule(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_chainrule"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// CLI.md's layout: `{"network", "of", "wrt", "value", "derivative"}`, one entry per sample
/// with a batch; the numbers are SymPy's.
#[test]
fn eval_of_json_layout() {
    let smooth = cases()
        .into_iter()
        .find(|c| c["name"] == "smooth")
        .expect("the smooth case");
    let (code, out, err) = chainrule(&[
        "eval",
        "examples/nets/smooth.nn",
        "--of",
        "y[0]",
        "--wrt",
        "x",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("JSON");
    let keys: Vec<&str> = v
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["network", "of", "wrt", "value", "derivative"]);
    assert_eq!(v["network"], "smooth");
    assert_eq!(v["of"], "y[0]");
    assert_eq!(v["wrt"], "x");
    close(
        "value",
        &[v["value"].as_f64().unwrap_or(f64::NAN)],
        &[smooth["of"]["value"].as_f64().unwrap_or(f64::NAN)],
    );
    close(
        "derivative",
        &flat(&v["derivative"]),
        &flat(&smooth["of"]["derivative"]),
    );

    // A batch of two samples, the second the file's default again: one entry per sample.
    let dir = std::env::temp_dir().join(format!("chainrule-second-order-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch");
    let data = dir.join("d.json");
    std::fs::write(
        &data,
        r#"{"x": [[0.1, 0.2], [0.5, -1.0]], "t": [[0.0], [0.25]]}"#,
    )
    .expect("write");
    let data = data.to_string_lossy().into_owned();
    let (code, out, err) = chainrule(&[
        "eval",
        "examples/nets/smooth.nn",
        "--of",
        "y[0]",
        "--data",
        &data,
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["value"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["derivative"].as_array().map(Vec::len), Some(2));
    close(
        "second sample",
        &flat(&v["derivative"][1]),
        &flat(&smooth["of"]["derivative"]),
    );
    let _ = std::fs::remove_dir_all(Path::new(&dir));
}

#[test]
fn bad_requests_are_input_errors() {
    for (args, words) in [
        (vec!["--of", "y[3]"], "not an element of `y`"),
        (vec!["--of", "nope"], "not a named scalar"),
        (vec!["--of", "y[0]", "--wrt", "t"], "is a target"),
        (vec!["--of", "h"], "name one element"),
    ] {
        let mut all = vec!["eval", "examples/nets/smooth.nn"];
        all.extend(args);
        let (code, _, err) = chainrule(&all);
        assert_eq!(code, 2, "{all:?}: {err}");
        assert!(err.contains(words), "{all:?}: {err}");
        assert!(!err.contains("panicked"), "{all:?}: {err}");
    }
    // Several inputs and no --wrt: the user is asked to name one.
    let (code, _, err) = chainrule(&["latex", "examples/nets/hamiltonian.nn", "--of", "H[0]"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("several inputs"), "{err}");
}

/// Every form of `latex --of` works on a network with `grad` (the numbers of the numeric form
/// are the evaluator's, checked above against SymPy).
#[test]
fn latex_of_every_form() {
    for form in ["delta", "chain", "general", "numeric"] {
        let (code, out, err) = chainrule(&[
            "latex",
            "examples/nets/hamiltonian.nn",
            "--of",
            "H[0]",
            "--wrt",
            "q",
            "--form",
            form,
        ]);
        assert_eq!(code, 0, "{form}: {err}");
        assert!(out.starts_with("\\begin{align*}"), "{form}: {out}");
        // The general form writes the element with a symbolic index, `q_{i}`.
        assert!(
            out.contains("\\frac{\\partial H_{0}}{\\partial q_{"),
            "{form}: {out}"
        );
    }
}

/// A loss with `grad` of a deep network has local partials that are small graphs but huge
/// trees: every LaTeX form still prints, naming what is too long instead of writing it out.
#[test]
fn deep_second_order_latex_stays_printable() {
    use chainrule::core::latex::{Form, render};
    let (width, depth) = (8, 8);
    let mut text = String::from(
        "network hnn {\n    input q[1]\n    input p[1]\n    target dq[1]\n    target dp[1]\n",
    );
    text.push_str(&format!("    h0[{width}] = tanh(Wq @ q + Wp @ p + b0)\n"));
    for i in 1..depth {
        text.push_str(&format!(
            "    h{i}[{width}] = tanh(W{i} @ h{} + b{i})\n",
            i - 1
        ));
    }
    text.push_str(&format!("    H[1] = V @ h{}\n", depth - 1));
    text.push_str("    loss L = sum((grad(H[0], p) - dq)^2) + sum((grad(H[0], q) + dp)^2)\n}\n");
    let model = check_source(&text).expect("the deep network checks");
    let network = &model.networks[0];
    let start = std::time::Instant::now();
    let compiled = chainrule::core::compile_network(&model, 0);
    let latex = render(network, &compiled, Form::Delta, &[], None, false);
    assert!(latex.contains("too long to print"), "nothing was too long?");
    assert!(latex.len() < 20_000_000, "{} bytes", latex.len());
    assert!(start.elapsed().as_secs() < 60, "{:?}", start.elapsed());
}
