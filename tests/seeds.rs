//! The seed notebooks' printed numbers (../shared/oracles/seeds.json, and forward values the
//! seeds printed) against what chainrule derives and evaluates for the example networks.

use std::path::Path;

use chainrule::core::derive::derive;
use chainrule::core::eval::{Sample, evaluate_batch};
use chainrule::core::model::{Model, Network, Symbol};
use chainrule::core::{check_source, point};
use serde_json::Value;

fn oracle() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/oracles/seeds.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("seeds.json is JSON")
}

fn case<'v>(oracle: &'v Value, network: &str) -> &'v Value {
    oracle["cases"]
        .as_array()
        .and_then(|cases| cases.iter().find(|c| c["network"] == network))
        .unwrap_or_else(|| panic!("no oracle case {network}"))
}

fn example(file: &str) -> Model {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/nets")
        .join(file);
    let text = std::fs::read_to_string(&path).expect("example exists");
    check_source(&text).unwrap_or_else(|e| panic!("{file} does not check: {e:?}"))
}

fn flat(value: &Value) -> Vec<f64> {
    match value {
        Value::Array(items) => items.iter().flat_map(flat).collect(),
        other => vec![other.as_f64().expect("a number")],
    }
}

fn assert_close(what: &str, got: &[f64], want: &[f64], tolerance: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tolerance * w.abs().max(1.0),
            "{what}[{i}]: got {g}, want {w}"
        );
    }
}

fn defaults(network: &Network) -> (Vec<Vec<f64>>, Vec<Sample>) {
    (
        point::params(network, None).expect("default params"),
        point::samples(network, None).expect("default samples"),
    )
}

/// The derivation of a network and its evaluation at the file's default point.
fn at_defaults(
    model: &Model,
    network: &Network,
) -> (
    chainrule::core::derive::Derivation,
    chainrule::core::eval::BatchResult,
) {
    let (params, samples) = defaults(network);
    let derivation = derive(network, &model.functions);
    let result = evaluate_batch(&derivation, network, &params, &samples);
    (derivation, result)
}

fn vector(
    network: &Network,
    slots: &[f64],
    derivation: &chainrule::core::derive::Derivation,
    name: &str,
) -> Vec<f64> {
    let Some(Symbol::Vector(v)) = network.lookup(name) else {
        panic!("no vector {name}")
    };
    derivation
        .layout
        .vars(Symbol::Vector(v))
        .map(|var| slots[var.index()])
        .collect()
}

#[test]
fn seed000_chain_rule_update_with_lr_1() {
    let oracle = oracle();
    let case = case(&oracle, "chain_rule");
    let model = example("seed000_chain_rule.nn");
    let network = &model.networks[0];
    let (params, samples) = defaults(network);
    let result = evaluate_batch(
        &derive(network, &model.functions),
        network,
        &params,
        &samples,
    );
    let lr = case["lr"].as_f64().expect("lr");
    for (p, param) in network.params.iter().enumerate() {
        let updated: Vec<f64> = params[p]
            .iter()
            .zip(&result.gradient[p])
            .map(|(w, g)| w - lr * g)
            .collect();
        // The seed computed with float32 weights.
        assert_close(
            &param.name,
            &updated,
            &flat(&case["updated_params"][&param.name]),
            1e-6,
        );
    }
}

#[test]
fn seed001_torch_batch_step() {
    let oracle = oracle();
    let case = case(&oracle, "torch_batch");
    let model = example("seed001_torch_batch.nn");
    let network = &model.networks[0];
    let params = point::params(network, None).expect("params");
    let samples = point::samples(network, Some(&case["data"])).expect("samples");
    let derivation = derive(network, &model.functions);
    let result = evaluate_batch(&derivation, network, &params, &samples);
    assert_close(
        "loss",
        &[result.loss],
        &[case["loss"].as_f64().expect("loss")],
        1e-12,
    );
    let outputs: Vec<f64> = result
        .samples
        .iter()
        .flat_map(|s| vector(network, &s.slots, &derivation, "y"))
        .collect();
    assert_close("outputs", &outputs, &flat(&case["outputs"]), 1e-12);
    let lr = case["lr"].as_f64().expect("lr");
    for (p, param) in network.params.iter().enumerate() {
        let change: Vec<f64> = result.gradient[p].iter().map(|g| -lr * g).collect();
        assert_close(
            &param.name,
            &change,
            &flat(&case["param_changes"][&param.name]),
            1e-9,
        );
    }
}

#[test]
fn seed001_torch_batch_defaults_are_the_printed_batch() {
    let model = example("seed001_torch_batch.nn");
    let network = &model.networks[0];
    let (params, samples) = defaults(network);
    let result = evaluate_batch(
        &derive(network, &model.functions),
        network,
        &params,
        &samples,
    );
    assert_eq!(samples.len(), 2);
    assert_close("loss", &[result.loss], &[2655.0], 1e-12);
}

#[test]
fn seed001_manual_3nn_forward_and_loss() {
    let oracle = oracle();
    let case = oracle["cases"]
        .as_array()
        .and_then(|c| {
            c.iter()
                .find(|c| c["network"].as_str().is_some_and(|n| n.contains("manual")))
        })
        .expect("case");
    let model = example("seed001_manual_3nn.nn");
    let network = &model.networks[0];
    let (derivation, result) = at_defaults(&model, network);
    assert_close(
        "hidden",
        &vector(network, &result.samples[0].slots, &derivation, "h"),
        &flat(&case["hidden"]),
        1e-12,
    );
    assert_close(
        "outputs",
        &vector(network, &result.samples[0].slots, &derivation, "y"),
        &flat(&case["outputs"]),
        1e-12,
    );
    assert_close(
        "loss",
        &[result.loss],
        &[case["loss (0.5 * sum of squares)"].as_f64().expect("loss")],
        1e-12,
    );
}

/// Printed by seed 001's PyTorch single-sample cell: output -0.7869, loss 0.8281, and
/// parameter changes that are -0.25 times the tanh-tanh model's gradient.
#[test]
fn seed001_torch_single_printed_numbers() {
    let model = example("seed001_torch_single.nn");
    let network = model.network("torch_single_printed").expect("network");
    let (derivation, result) = at_defaults(&model, network);
    assert_close(
        "output",
        &vector(network, &result.samples[0].slots, &derivation, "y"),
        &[-0.7869],
        1e-4,
    );
    assert_close("loss", &[result.loss], &[0.8281], 1e-4);
    let printed = [
        ("W1", vec![0.0092, 0.0829, 0.0139, 0.1255]),
        ("b1", vec![0.0921, 0.1395]),
        ("W2", vec![0.0300, -0.0658]),
        ("b2", vec![0.1225]),
    ];
    for (name, change) in printed {
        let p = network
            .params
            .iter()
            .position(|p| p.name == name)
            .expect("param");
        let got: Vec<f64> = result.gradient[p].iter().map(|g| -0.25 * g).collect();
        for (g, w) in got.iter().zip(&change) {
            assert!(
                (g - w).abs() <= 6e-5,
                "{name}: got {got:?}, printed {change:?}"
            );
        }
    }
}

/// Seed 002 printed B_act and C_act for its first sample.
#[test]
fn seed002_forward_values() {
    let model = example("seed002.nn");
    let network = &model.networks[0];
    let (derivation, result) = at_defaults(&model, network);
    let slots = &result.samples[0].slots;
    assert_close(
        "B_act",
        &vector(network, slots, &derivation, "B_act"),
        &[0.8013919, 0.67423324, 0.82081541, 0.43216196],
        1e-7,
    );
    assert_close(
        "C_act",
        &vector(network, slots, &derivation, "C_act"),
        &[0.79673635],
        1e-7,
    );
    assert_close("loss", &[result.loss], &[0.02065806], 1e-7);
}

/// Seed 004 printed z_l1 and a_l1 (its later values used z_l1 where a_l1 belongs).
#[test]
fn seed004_forward_values() {
    let model = example("seed004.nn");
    let network = &model.networks[0];
    let (derivation, result) = at_defaults(&model, network);
    let slots = &result.samples[0].slots;
    assert_close(
        "z1",
        &vector(network, slots, &derivation, "z1"),
        &[2.82527343, 3.8492138, 2.32052258],
        1e-8,
    );
    assert_close(
        "a1",
        &vector(network, slots, &derivation, "a1"),
        &[0.94402637, 0.97914761, 0.91056251],
        1e-8,
    );
}
