//! `chainrule notebook`: the notebook of every example network is executed top to bottom by
//! `jupyter nbconvert --execute` in the venv `./scripts/test` creates (tests/.venv), and the
//! numbers it prints (loss, every gradient element, the step) are compared with
//! `chainrule eval --json` at 1e-10; its finite-difference cell must have passed. The
//! committed `examples/notebooks/seed004.ipynb` must be what the tool generates now.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use chainrule::core::check_source;
use chainrule::core::model::Network;
use chainrule::core::report::nested;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn chainrule(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_chainrule"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("chainrule runs")
}

fn jupyter() -> PathBuf {
    let jupyter = root().join("tests/.venv/bin/jupyter");
    assert!(
        jupyter.exists(),
        "tests/.venv is missing: run ./scripts/test, which creates it (NumPy, nbconvert, ipykernel)"
    );
    jupyter
}

/// A random one-sample point as `--params` and `--data` JSON, for files that give none.
fn point_json(network: &Network, positive: bool) -> (Value, Value) {
    let mut rng = support::Rng(7);
    let (params, samples) = support::random_point(network, &mut rng, 2, positive);
    let params: serde_json::Map<String, Value> = network
        .params
        .iter()
        .zip(&params)
        .map(|(p, v)| (p.name.clone(), nested(v, p.shape)))
        .collect();
    let mut data = serde_json::Map::new();
    for (i, v) in network.inputs.iter().enumerate() {
        let rows = samples.iter().map(|s| &s.inputs[i]);
        data.insert(v.name.clone(), support::datum_json(v, rows));
    }
    for (i, v) in network.targets.iter().enumerate() {
        let rows = samples.iter().map(|s| &s.targets[i]);
        data.insert(v.name.clone(), support::datum_json(v, rows));
    }
    (Value::Object(params), Value::Object(data))
}

/// Every `name = number` line the executed notebook printed, and any error.
fn printed(notebook: &Path) -> (BTreeMap<String, f64>, Vec<String>, String) {
    let text = std::fs::read_to_string(notebook).expect("executed notebook");
    let nb: Value = serde_json::from_str(&text).expect("notebook JSON");
    let mut values = BTreeMap::new();
    let mut errors = Vec::new();
    let mut all = String::new();
    for cell in nb["cells"].as_array().expect("cells") {
        for output in cell["outputs"].as_array().into_iter().flatten() {
            match output["output_type"].as_str() {
                Some("stream") => {
                    let text: String = match &output["text"] {
                        Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect(),
                        Value::String(s) => s.clone(),
                        _ => String::new(),
                    };
                    for line in text.lines() {
                        if let Some((name, value)) = line.split_once(" = ")
                            && let Ok(v) = value.trim().parse::<f64>()
                        {
                            values.insert(name.to_string(), v);
                        }
                    }
                    all.push_str(&text);
                }
                Some("error") => errors.push(format!(
                    "{}: {}",
                    output["ename"].as_str().unwrap_or("?"),
                    output["evalue"].as_str().unwrap_or("?")
                )),
                _ => {}
            }
        }
    }
    (values, errors, all)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-10 * b.abs().max(1.0)
}

/// Row-major `(label suffix, value)` pairs of a JSON array: `[0][1]`.
fn elements(value: &Value, prefix: String, out: &mut Vec<(String, f64)>) {
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                elements(item, format!("{prefix}[{i}]"), out);
            }
        }
        Value::Number(n) => out.push((prefix, n.as_f64().expect("number"))),
        _ => {}
    }
}

#[test]
fn every_example_notebook_executes_and_prints_what_eval_computes() {
    let jupyter = jupyter();
    let dir = std::env::temp_dir().join(format!("chainrule-notebook-{}", std::process::id()));
    let executed = dir.join("executed");
    std::fs::create_dir_all(&executed).expect("dir");
    let mut cases = Vec::new();
    for (stem, text) in support::example_files() {
        let model = check_source(&text).expect("examples check");
        let file = format!("examples/nets/{stem}.nn");
        for network in &model.networks {
            let name = format!("{stem}-{}", network.name);
            let notebook = dir.join(format!("{name}.ipynb"));
            let mut args: Vec<String> = vec!["--network".into(), network.name.clone()];
            let defaults = chainrule::core::point::params(network, None).ok();
            let mut param_values: Value = match &defaults {
                Some(values) => Value::Object(
                    network
                        .params
                        .iter()
                        .zip(values)
                        .map(|(p, v)| (p.name.clone(), nested(v, p.shape)))
                        .collect(),
                ),
                None => Value::Null,
            };
            if chainrule(&["eval", &file, "--network", &network.name])
                .status
                .code()
                != Some(0)
            {
                // No default point in the file: the same random point for both commands.
                let (params, data) = point_json(network, support::needs_positive(&text));
                param_values = params.clone();
                let pj = dir.join(format!("{name}-params.json"));
                let dj = dir.join(format!("{name}-data.json"));
                std::fs::write(&pj, params.to_string()).expect("write");
                std::fs::write(&dj, data.to_string()).expect("write");
                args.extend([
                    "--params".into(),
                    pj.display().to_string(),
                    "--data".into(),
                    dj.display().to_string(),
                ]);
            }
            let mut nb_args = vec!["notebook".to_string(), file.clone()];
            nb_args.extend(args.iter().cloned());
            nb_args.extend(["-o".into(), notebook.display().to_string()]);
            let refs: Vec<&str> = nb_args.iter().map(String::as_str).collect();
            let out = chainrule(&refs);
            assert!(
                out.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let mut eval_args = vec!["eval".to_string(), file.clone()];
            eval_args.extend(args);
            eval_args.push("--json".into());
            let refs: Vec<&str> = eval_args.iter().map(String::as_str).collect();
            let out = chainrule(&refs);
            assert!(out.status.success(), "eval {name}");
            let expected: Value = serde_json::from_slice(&out.stdout).expect("eval JSON");
            cases.push((name, notebook, expected, param_values));
        }
    }
    // One nbconvert for all notebooks: starting Jupyter once is most of its time.
    let out = Command::new(&jupyter)
        .args(["nbconvert", "--to", "notebook", "--execute", "--output-dir"])
        .arg(&executed)
        .args(cases.iter().map(|(_, nb, _, _)| nb))
        .output()
        .expect("jupyter runs");
    assert!(
        out.status.success(),
        "nbconvert --execute failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (name, notebook, expected, param_values) in &cases {
        let (values, errors, all) = printed(&executed.join(notebook.file_name().expect("name")));
        assert!(errors.is_empty(), "{name}: {errors:?}");
        assert!(
            all.contains("finite differences agree with every gradient checked"),
            "{name}: the finite-difference cell did not finish:\n{all}"
        );
        let loss = expected["loss"].as_f64().expect("loss");
        let printed_loss = values.get("loss").copied().unwrap_or(f64::NAN);
        assert!(
            close(printed_loss, loss),
            "{name}: loss {printed_loss} != {loss}"
        );
        let mut compared = 0;
        for (param, gradient) in expected["gradient"].as_object().expect("gradient") {
            let mut want = Vec::new();
            elements(gradient, String::new(), &mut want);
            for (suffix, value) in want.iter().take(24) {
                let label = format!("dL/d{param}{suffix}");
                let got = values.get(&label).copied().unwrap_or(f64::NAN);
                assert!(
                    close(got, *value),
                    "{name}: {label} = {got}, eval says {value}"
                );
                compared += 1;
            }
            // The step: p - 0.1 dL/dp, from eval's gradient and the point's values.
            let mut current = Vec::new();
            elements(&param_values[param], String::new(), &mut current);
            for ((suffix, g), (_, p)) in want.iter().zip(&current).take(24) {
                let label = format!("updated {param}{suffix}");
                let got = values.get(&label).copied().unwrap_or(f64::NAN);
                let step = p - 0.1 * g;
                assert!(close(got, step), "{name}: {label} = {got}, expected {step}");
            }
        }
        assert!(compared > 0, "{name}: no gradient printed");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_committed_seed004_notebook_is_up_to_date() {
    let out = chainrule(&["notebook", "examples/nets/seed004.nn"]);
    assert!(out.status.success());
    let committed = std::fs::read_to_string(root().join("examples/notebooks/seed004.ipynb"))
        .expect("examples/notebooks/seed004.ipynb");
    assert!(
        committed == String::from_utf8_lossy(&out.stdout),
        "examples/notebooks/seed004.ipynb is stale: run \
         `cargo run --features cli -- notebook examples/nets/seed004.nn -o examples/notebooks/seed004.ipynb`"
    );
}

/// A file without values: the notebook draws its own point, and its targets must be what the
/// declaration allows (one class for `onehot`, a probability vector for `probabilities`), or
/// the notebook's own finite-difference cell disagrees with the derivation, which assumes it.
#[test]
fn drawn_targets_satisfy_their_declaration_and_the_notebook_executes() {
    use chainrule::core::targets::violation;
    let jupyter = jupyter();
    let dir = std::env::temp_dir().join(format!("chainrule-drawn-{}", std::process::id()));
    let executed = dir.join("executed");
    std::fs::create_dir_all(&executed).expect("dir");
    let file = dir.join("drawn.nn");
    let text = "network drawn {\n    input  x[2]\n    target t[3] onehot\n    target q[4] probabilities\n    z[3] = W @ x + b\n    p = softmax(z)\n    u[4] = V @ x\n    loss L = -sum(t * log(p)) - sum(q * log_softmax(u))\n}\n";
    std::fs::write(&file, text).expect("write");
    let notebook = dir.join("drawn.ipynb");
    let out = chainrule(&[
        "notebook",
        &file.display().to_string(),
        "-o",
        &notebook.display().to_string(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The drawn data, as the notebook's data cell writes it: `"t": np.array([[...]]),`.
    let nb: Value =
        serde_json::from_str(&std::fs::read_to_string(&notebook).expect("read")).expect("JSON");
    let source: String = nb["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .filter(|c| c["cell_type"] == "code")
        .flat_map(|c| c["source"].as_array().cloned().unwrap_or_default())
        .filter_map(|l| l.as_str().map(str::to_string))
        .collect();
    let model = check_source(text).expect("checks");
    for target in &model.networks[0].targets {
        let key = format!("\"{}\": np.array([[", target.name);
        let start = source.find(&key).expect("the target's drawn values") + key.len();
        let values: Vec<f64> = source[start..]
            .split("]]")
            .next()
            .expect("values")
            .split(", ")
            .map(|v| v.trim().parse().expect("a number"))
            .collect();
        assert_eq!(values.len(), target.size, "{}: {values:?}", target.name);
        assert_eq!(
            violation(target.kind, &values),
            None,
            "{}: {values:?}",
            target.name
        );
    }
    let out = Command::new(&jupyter)
        .args(["nbconvert", "--to", "notebook", "--execute", "--output-dir"])
        .arg(&executed)
        .arg(&notebook)
        .output()
        .expect("jupyter runs");
    assert!(
        out.status.success(),
        "nbconvert --execute failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, errors, all) = printed(&executed.join("drawn.ipynb"));
    assert!(errors.is_empty(), "{errors:?}");
    assert!(
        all.contains("finite differences agree with every gradient checked"),
        "the finite-difference cell did not finish:\n{all}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
