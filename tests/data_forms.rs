//! The third round's data forms: scalar inputs, targets and named values, and class labels.
//! A label's cross-entropy against the same network with a one-hot target (an independent
//! formulation of the same function), and both networks' gradients against finite
//! differences of the reference interpreter (tests/support, which never uses the IR).

mod support;

use chainrule::core::check_source;
use chainrule::core::derive::derive;
use chainrule::core::eval::{BatchResult, evaluate_batch};
use chainrule::core::point;

fn read(path: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `eval` of a file's only network at the given `--params` and `--data` JSON.
fn eval(path: &str, params: &str, data: &str) -> BatchResult {
    let model = check_source(&read(path)).unwrap_or_else(|e| panic!("{path}: {e:?}"));
    let network = &model.networks[0];
    let params = point::parse_json(params).expect("params JSON");
    let data = point::parse_json(data).expect("data JSON");
    let params = point::params(network, Some(&params)).expect("params");
    let samples = point::samples(network, Some(&data)).expect("data");
    let derivation = derive(network, &model.functions);
    evaluate_batch(&derivation, network, &params, &samples)
}

const BIASES: &str = r#"{"b1": [0.1, -0.2, 0.05, 0.0, 0.3], "b2": [0.2, -0.1, 0.05]}"#;
const X: &str = "[[0.5, -1.0, 2.0, 0.25], [1.5, 0.5, -0.5, -2.0], [-0.25, 0.75, 1.0, 0.5]]";

#[test]
fn label_cross_entropy_equals_the_one_hot_form() {
    let label = eval(
        "examples/nets/label_classifier.nn",
        BIASES,
        &format!(r#"{{"x": {X}, "y": [2, 0, 1]}}"#),
    );
    let onehot = eval(
        "tests/corpus/ok/label_onehot_twin.nn",
        BIASES,
        &format!(r#"{{"x": {X}, "t": [[0, 0, 1], [1, 0, 0], [0, 1, 0]]}}"#),
    );
    assert_eq!(label.gradient.len(), onehot.gradient.len());
    assert!(
        (label.loss - onehot.loss).abs() <= 1e-12,
        "{} vs {}",
        label.loss,
        onehot.loss
    );
    assert!(label.loss > 0.1, "a real loss: {}", label.loss);
    for (a, b) in label
        .gradient
        .iter()
        .flatten()
        .zip(onehot.gradient.iter().flatten())
    {
        assert!((a - b).abs() <= 1e-12, "{a} vs {b}");
    }
}

#[test]
fn one_label_and_a_batch_of_one_agree() {
    let one = eval(
        "examples/nets/label_classifier.nn",
        BIASES,
        r#"{"x": [0.5, -1.0, 2.0, 0.25], "y": 2}"#,
    );
    let batch = eval(
        "examples/nets/label_classifier.nn",
        BIASES,
        r#"{"x": [[0.5, -1.0, 2.0, 0.25]], "y": [2]}"#,
    );
    assert_eq!(one.loss, batch.loss);
    assert_eq!(one.gradient, batch.gradient);
}

#[test]
fn labels_that_are_not_class_indices_name_their_json_path() {
    let model = check_source(&read("examples/nets/label_classifier.nn")).expect("check");
    let network = &model.networks[0];
    for (data, path) in [
        (r#"{"y": 3}"#, "y"),
        (r#"{"y": 1.5}"#, "y"),
        (r#"{"y": [0, -1]}"#, "y[1]"),
        (r#"{"y": [[0, 0, 1]]}"#, "y[0]"),
    ] {
        let json = point::parse_json(data).expect("JSON");
        let error = point::samples(network, Some(&json))
            .expect_err(data)
            .to_string();
        assert!(error.starts_with(&format!("{path}:")), "{data}: {error}");
        assert!(error.contains("class index"), "{data}: {error}");
    }
}

#[test]
fn scalar_data_is_a_bare_number_per_sample() {
    let params = r#"{"w": [0.1, 0.2, -0.3]}"#;
    let one = eval("tests/corpus/ok/named_scalar.nn", params, r#"{"t": 1.5}"#);
    // By hand: x = [1, 2, 4], mu = 7/3, y = sum(w * (x - mu)) = -0.7, L = (y - t)^2.
    assert!((one.loss - 4.84).abs() < 1e-12, "{}", one.loss);
    let g = &one.gradient[0];
    let expected = [-4.4 * (-4.0 / 3.0), -4.4 * (-1.0 / 3.0), -4.4 * (5.0 / 3.0)];
    for (a, b) in g.iter().zip(expected) {
        assert!((a - b).abs() < 1e-12, "{g:?}");
    }
    let batch = eval(
        "tests/corpus/ok/named_scalar.nn",
        params,
        r#"{"t": [1.5, 0.5], "x": [[1, 2, 4], [0, 1, 0]]}"#,
    );
    assert_eq!(batch.samples.len(), 2);
}

/// Both example networks of this work against finite differences of the reference
/// interpreter at random points (labels drawn as classes, scalars as numbers).
#[test]
fn gradients_match_finite_differences_of_the_reference() {
    for path in [
        "tests/corpus/ok/named_scalar.nn",
        "tests/corpus/ok/scalar_data.nn",
        "tests/corpus/ok/label_picks.nn",
        "examples/nets/label_classifier.nn",
    ] {
        let text = read(path);
        let model = check_source(&text).unwrap_or_else(|e| panic!("{path}: {e:?}"));
        for network in &model.networks {
            let checked = support::check_gradients(&model, network, &text, 0xda7a)
                .unwrap_or_else(|e| panic!("{path}: {e}"));
            assert_eq!(checked, 3, "{path}: only {checked} points checked");
        }
    }
}

/// The command line reads labels as integers (CLI.md, third round), gives the one-hot
/// twin's numbers for them, and names the JSON path of a bad one.
#[test]
fn eval_reads_integer_labels_from_data_json() {
    let dir = std::env::temp_dir().join(format!("chainrule-data-forms-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let params = dir.join("params.json");
    std::fs::write(&params, BIASES).expect("write params");
    let run = |file: &str, data: &str| {
        let path = dir.join("data.json");
        std::fs::write(&path, data).expect("write");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_chainrule"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["eval", file, "--json", "--params"])
            .arg(&params)
            .arg("--data")
            .arg(&path)
            .output()
            .expect("run chainrule");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.code(), stdout, stderr)
    };
    let (code, label, stderr) = run(
        "examples/nets/label_classifier.nn",
        &format!(r#"{{"x": {X}, "y": [2, 0, 1]}}"#),
    );
    assert_eq!(code, Some(0), "{stderr}");
    let (code, onehot, stderr) = run(
        "tests/corpus/ok/label_onehot_twin.nn",
        &format!(r#"{{"x": {X}, "t": [[0, 0, 1], [1, 0, 0], [0, 1, 0]]}}"#),
    );
    assert_eq!(code, Some(0), "{stderr}");
    let label: serde_json::Value = serde_json::from_str(&label).expect("JSON");
    let onehot: serde_json::Value = serde_json::from_str(&onehot).expect("JSON");
    let numbers = |v: &serde_json::Value| -> Vec<f64> {
        let mut out = vec![v["loss"].as_f64().expect("loss")];
        for name in ["W1", "b1", "W2", "b2"] {
            let mut stack = vec![&v["gradient"][name]];
            while let Some(x) = stack.pop() {
                match x {
                    serde_json::Value::Array(items) => stack.extend(items.iter().rev()),
                    other => out.push(other.as_f64().expect("number")),
                }
            }
        }
        out
    };
    let (a, b) = (numbers(&label), numbers(&onehot));
    assert_eq!(a.len(), 1 + 20 + 5 + 15 + 3);
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() <= 1e-12, "{x} vs {y}");
    }
    let (code, _, stderr) = run(
        "examples/nets/label_classifier.nn",
        &format!(r#"{{"x": {X}, "y": [2, 5, 0]}}"#),
    );
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("y[1]: a label is a class index"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
