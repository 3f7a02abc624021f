//! Classification networks (issue 14): softmax and cross-entropy stay finite and exact at
//! logits of +-1000 in the evaluator, `chainrule eval` / `explain` and the generated code; the
//! derived deltas are the textbook closed forms (`p_k sum_j t_j - t_k`, `p_k - t_k` for one-hot
//! targets, `a - t` for sigmoid with binary cross-entropy), checked against softmax and
//! sigmoid computed here; data that breaks a `onehot` declaration is refused.

mod support;

use std::process::Command;

use chainrule::core::check_source;
use chainrule::core::derive::derive;
use chainrule::core::eval::{Sample, evaluate_batch};
use chainrule::core::model::Symbol;

/// Logits of -1000, 1000 and 0 from W @ x with x = [1]: exp overflows for each of them.
const EXTREME: &str = "
network named {
    input  x[1] = [1]
    target t[3] onehot = [1, 0, 0]
    z[3] = W @ x
    p = softmax(z)
    loss L = -sum(t * log(p))
    param W[3][1] = [[-1000], [1000], [0]]
}
network inline {
    input  x[1] = [1]
    target t[3] = [1, 0, 0]
    z[3] = W @ x
    loss L = -sum(t * log(softmax(z)))
    param W[3][1] = [[-1000], [1000], [0]]
}
network log_softmax {
    input  x[1] = [1]
    target t[3] = [1, 0, 0]
    z[3] = W @ x
    loss L = -sum(t * log_softmax(z))
    param W[3][1] = [[-1000], [1000], [0]]
}
";

/// By hand: lse(-1000, 1000, 0) = 1000 + log(1 + e^-1000 + e^-2000) = 1000 in f64, so the
/// loss is lse - z_0 = 2000; p = (0, 1, 0) to f64, and dL/dW[k][0] = (p_k - t_k) x = (-1, 1, 0).
const EXTREME_LOSS: f64 = 2000.0;
const EXTREME_GRADIENT: [f64; 3] = [-1.0, 1.0, 0.0];

#[test]
fn cross_entropy_is_exact_at_extreme_logits_in_the_evaluator() {
    let model = check_source(EXTREME).expect("checks");
    for network in &model.networks {
        let derivation = derive(network, &model.functions);
        let params = chainrule::core::point::params(network, None).expect("defaults");
        let samples = chainrule::core::point::samples(network, None).expect("defaults");
        let result = evaluate_batch(&derivation, network, &params, &samples);
        assert_eq!(result.loss, EXTREME_LOSS, "{}", network.name);
        assert_eq!(result.gradient[0], EXTREME_GRADIENT, "{}", network.name);
    }
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_chainrule"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cross_entropy_is_exact_at_extreme_logits_in_the_cli() {
    let dir = std::env::temp_dir().join(format!("chainrule-classify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("extreme.nn");
    std::fs::write(&file, EXTREME).expect("write");
    let file = file.to_string_lossy().into_owned();
    for network in ["named", "inline", "log_softmax"] {
        let (code, out, err) = run(&["eval", &file, "--network", network, "--json"]);
        assert_eq!(code, Some(0), "{err}");
        let json: serde_json::Value = serde_json::from_str(&out).expect("json");
        assert_eq!(json["loss"], 2000.0, "{out}");
        assert_eq!(
            json["gradient"]["W"],
            serde_json::json!([[-1.0], [1.0], [0.0]]),
            "{out}"
        );
        let (code, out, err) = run(&["explain", &file, "--network", network, "--lr", "0.1"]);
        assert_eq!(code, Some(0), "{err}");
        assert!(out.contains("2000"), "{out}");
        let lower = out.to_lowercase();
        assert!(!lower.contains("nan") && !lower.contains("inf"), "{out}");
        let (code, out, err) = run(&["latex", &file, "--network", network, "--form", "numeric"]);
        assert_eq!(code, Some(0), "{err}");
        assert!(!out.contains("NaN") && !out.contains("inf"), "{out}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

chainrule::derive! {
    network extreme {
        input  x[1]
        target t[3] onehot
        z[3] = W @ x
        p = softmax(z)
        loss L = -sum(t * log(p))
    }
}

#[test]
fn cross_entropy_is_exact_at_extreme_logits_in_generated_code() {
    let p = extreme::Params {
        W: [[-1000.0], [1000.0], [0.0]],
    };
    let (loss, g) = extreme::gradient(&p, &[1.0], &[1.0, 0.0, 0.0]);
    assert_eq!(loss, EXTREME_LOSS);
    assert_eq!(
        [g.W[0][0], g.W[1][0], g.W[2][0]],
        EXTREME_GRADIENT,
        "generated gradient"
    );
    let forward = extreme::forward(&p, &[1.0]);
    assert_eq!(forward.p, [0.0, 1.0, 0.0]);
}

/// softmax computed here, from its definition with the usual shift.
fn softmax(z: &[f64]) -> Vec<f64> {
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
    let total: f64 = e.iter().sum();
    e.iter().map(|v| v / total).collect()
}

const CLOSED_FORMS: &str = "
network plain {
    input  x[3]
    target t[4]
    z[4] = W @ x + b
    p = softmax(z)
    loss L = -sum(t * log(p))
}
network onehot {
    input  x[3]
    target t[4] onehot
    z[4] = W @ x + b
    p = softmax(z)
    loss L = -sum(t * log(p))
}
network bce {
    input  x[3]
    target t[2]
    z[2] = W @ x + b
    a = sigmoid(z)
    loss L = -sum(t * log(a) + (1 - t) * log(1 - a))
}
";

/// The delta of every element of `z` at random points against its closed form, computed here
/// from `z` and `t` only: `p_k sum_j t_j - t_k`, `p_k - t_k`, `sigmoid(z_k) - t_k`.
#[test]
fn deltas_are_the_closed_forms() {
    let model = check_source(CLOSED_FORMS).expect("checks");
    let mut rng = support::Rng(14);
    for network in &model.networks {
        let derivation = derive(network, &model.functions);
        let z = network
            .vectors
            .iter()
            .position(|v| v.name == "z")
            .expect("z");
        for _ in 0..8 {
            let (params, samples) = support::random_point(network, &mut rng, 1, false);
            let result = evaluate_batch(&derivation, network, &params, &samples);
            let slots = &result.samples[0].slots;
            let size = network.vectors[z].size;
            let zs: Vec<f64> = (0..size)
                .map(|k| slots[derivation.layout.var(Symbol::Vector(z), k).index()])
                .collect();
            let t = &samples[0].targets[0];
            let want: Vec<f64> = match network.name.as_str() {
                "plain" => {
                    let total: f64 = t.iter().sum();
                    softmax(&zs)
                        .iter()
                        .zip(t)
                        .map(|(p, t)| p * total - t)
                        .collect()
                }
                "onehot" => softmax(&zs).iter().zip(t).map(|(p, t)| p - t).collect(),
                _ => zs
                    .iter()
                    .zip(t)
                    .map(|(z, t)| 1.0 / (1.0 + (-z).exp()) - t)
                    .collect(),
            };
            for (k, want) in want.iter().enumerate() {
                let var = derivation.layout.var(Symbol::Vector(z), k);
                let delta = derivation.layout.delta_of(var).expect("a delta slot");
                let got = slots[delta.index()];
                assert!(
                    (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                    "{}: delta(z[{k}]) = {got}, closed form {want}",
                    network.name
                );
            }
        }
    }
}

/// The simplified forms are what every output sees: the delta form's text.
#[test]
fn delta_form_reads_as_textbooks_write_it() {
    let model = check_source(CLOSED_FORMS).expect("checks");
    let general = |name: &str| {
        let index = model.networks.iter().position(|n| n.name == name);
        let network = &model.networks[index.expect("network")];
        let compiled = chainrule::core::compile_network(&model, index.expect("network"));
        chainrule::core::latex::render(
            network,
            &compiled,
            chainrule::core::latex::Form::General,
            &[],
            None,
            false,
        )
    };
    assert!(
        general("plain").contains(
            r"\delta_{z_{k}} = \frac{\partial L}{\partial z_{k}} &= p_{k} \sum_{i} t_{i} - t_{k}"
        ),
        "{}",
        general("plain")
    );
    assert!(
        general("onehot").contains(r"&= p_{k} - t_{k}"),
        "{}",
        general("onehot")
    );
    assert!(
        general("bce").contains(r"&= a_{k} - t_{k}"),
        "{}",
        general("bce")
    );
}

#[test]
fn data_that_breaks_onehot_is_refused() {
    let dir = std::env::temp_dir().join(format!("chainrule-onehot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("onehot.nn");
    std::fs::write(
        &file,
        "network n {\n input x[1] = [1]\n target t[3] onehot\n z[3] = W @ x\n loss L = -sum(t * log_softmax(z))\n param W[3][1] = [[1], [2], [3]]\n}\n",
    )
    .expect("write");
    let data = dir.join("data.json");
    std::fs::write(
        &data,
        r#"{"x": [[1], [2]], "t": [[0, 1, 0], [0.5, 0.5, 0]]}"#,
    )
    .expect("write");
    let (code, _, err) = run(&[
        "eval",
        &file.to_string_lossy(),
        "--data",
        &data.to_string_lossy(),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("t[1]")
            && err.contains("a `onehot` target holds only 0 and 1, but element 0 is 0.5"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn one_hot_samples_evaluate() {
    // The same network accepts one-hot data, and its loss is the cross-entropy computed here.
    let model = check_source(CLOSED_FORMS).expect("checks");
    let network = model.network("onehot").expect("network");
    let derivation = derive(network, &model.functions);
    let params = vec![vec![0.1; 12], vec![0.0, 0.5, -0.5, 1.0]];
    let sample = Sample {
        inputs: vec![vec![1.0, 2.0, 3.0]],
        targets: vec![vec![0.0, 0.0, 1.0, 0.0]],
    };
    let result = evaluate_batch(&derivation, network, &params, &[sample]);
    let z = [0.6, 1.1, 0.1, 1.6];
    let want = -softmax(&z)[2].ln();
    assert!(
        (result.loss - want).abs() < 1e-12,
        "{} vs {want}",
        result.loss
    );
}
