//! `chainrule numpy`: the module of every corpus and example network is imported by one Python
//! process (the venv `./scripts/test` creates in `tests/.venv`, NumPy only) and its loss and
//! gradient over a random batch of three samples, and at the file's own point, are compared
//! with `chainrule eval --json` at 1e-10.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use chainrule::core::check_source;
use chainrule::core::model::Network;
use chainrule::core::report::nested;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The venv's Python (`./scripts/test` creates it), or a clear failure.
pub fn python() -> PathBuf {
    let venv = root().join("tests/.venv/bin/python");
    assert!(
        venv.exists(),
        "tests/.venv is missing: run ./scripts/test, which creates it (NumPy, nbconvert, ipykernel)"
    );
    venv
}

fn chainrule(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_chainrule"))
        .args(args)
        .output()
        .expect("chainrule runs")
}

fn files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["tests/corpus/ok", "examples/nets", "examples/claims"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .expect("dir")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "nn"))
            .collect();
        files.sort();
        out.extend(files);
    }
    out
}

fn point_json(network: &Network, seed: u64, positive: bool) -> (Value, Value) {
    let mut rng = support::Rng(seed);
    let (params, samples) = support::random_point(network, &mut rng, 3, positive);
    let params: serde_json::Map<String, Value> = network
        .params
        .iter()
        .zip(&params)
        .map(|(p, v)| (p.name.clone(), nested(v, p.shape)))
        .collect();
    let mut data = serde_json::Map::new();
    for (i, v) in network.inputs.iter().enumerate() {
        data.insert(
            v.name.clone(),
            support::datum_json(v, samples.iter().map(|s| &s.inputs[i])),
        );
    }
    for (i, v) in network.targets.iter().enumerate() {
        data.insert(
            v.name.clone(),
            support::datum_json(v, samples.iter().map(|s| &s.targets[i])),
        );
    }
    (Value::Object(params), Value::Object(data))
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write");
}

#[test]
fn every_module_agrees_with_eval() {
    let python = python();
    let dir = std::env::temp_dir().join(format!("chainrule-numpy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let mut cases = Vec::new();
    let mut modules = 0;
    for (f, file) in files().iter().enumerate() {
        let text = std::fs::read_to_string(file).expect("read");
        let model = check_source(&text).expect("corpus checks");
        let file_arg = file.to_str().expect("utf-8 path");
        for (n, network) in model.networks.iter().enumerate() {
            let module = dir.join(format!("net_{f}_{n}.py"));
            let out = chainrule(&[
                "numpy",
                file_arg,
                "--network",
                &network.name,
                "-o",
                module.to_str().expect("path"),
            ]);
            // Values of two or more axes are refused at once, and nothing is written.
            let compiled = chainrule::core::compile_network(&model, n);
            if chainrule::core::numpy::unsupported(network, &compiled).is_some() {
                assert_eq!(out.status.code(), Some(2), "numpy {file_arg}: refused");
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert!(
                    stderr.contains("no index formula to write over them"),
                    "{stderr}"
                );
                assert!(!module.exists(), "numpy {file_arg}: no module written");
                continue;
            }
            assert!(
                out.status.success(),
                "numpy {file_arg} {}: {}",
                network.name,
                String::from_utf8_lossy(&out.stderr)
            );
            modules += 1;
            let label = format!("{} ({})", file.display(), network.name);
            // A random batch: the module reads the same JSON layout as `eval`.
            let (params, data) = point_json(network, 16 + f as u64, support::needs_positive(&text));
            let pj = dir.join(format!("params_{f}_{n}.json"));
            let dj = dir.join(format!("data_{f}_{n}.json"));
            write(&pj, &params.to_string());
            write(&dj, &data.to_string());
            let out = chainrule(&[
                "eval",
                file_arg,
                "--network",
                &network.name,
                "--params",
                pj.to_str().expect("path"),
                "--data",
                dj.to_str().expect("path"),
                "--json",
            ]);
            assert!(out.status.success(), "eval {label}");
            let expected: Value = serde_json::from_slice(&out.stdout).expect("eval json");
            cases.push(
                json!({"label": format!("{label} at a random batch"), "module": module,
                "params": params, "data": data, "expected": expected}),
            );
            // The file's own point, when it has one: the module's defaults must be the file's.
            let out = chainrule(&["eval", file_arg, "--network", &network.name, "--json"]);
            if out.status.success() {
                let expected: Value = serde_json::from_slice(&out.stdout).expect("eval json");
                cases.push(
                    json!({"label": format!("{label} at the file's point"), "module": module,
                    "params": null, "data": null, "expected": expected}),
                );
            }
        }
    }
    let manifest = dir.join("cases.json");
    write(&manifest, &Value::Array(cases.clone()).to_string());
    let out = Command::new(&python)
        .arg(root().join("tests/numpy_check.py"))
        .arg(&manifest)
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "NumPy modules disagree with eval:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("{} cases agree", cases.len())),
        "{stdout}"
    );
    assert!(modules >= 40, "only {modules} modules");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The seeds' network in matrix form, as the seeds write it by hand: `Z = X @ W.T`, the
/// deltas by matrix products, the gradient as `delta.T @ activations` over the batch.
#[test]
fn seed004_reads_like_the_seeds_cells() {
    let out = chainrule(&[
        "numpy",
        root()
            .join("examples/nets/seed004.nn")
            .to_str()
            .expect("path"),
    ]);
    let module = String::from_utf8_lossy(&out.stdout);
    for line in [
        "z1 = x @ W1.T",
        "a1 = _sigmoid(z1)",
        "y = a1 @ W2.T",
        "d_y = -(t - y)",
        "d_a1 = d_y @ W2",
        "d_z1 = d_a1 * (a1 * (1.0 - a1))",
        "g_W1 = d_z1.T @ x / batch_size",
        "g_W2 = d_y.T @ a1 / batch_size",
        "# delta_a1 = dL/da1[k] = sum_i delta_y[i] * W2[i][k]",
    ] {
        assert!(module.contains(line), "missing `{line}` in:\n{module}");
    }
    assert!(
        !module.contains("written out"),
        "an element-wise fallback:\n{module}"
    );
}

/// Names that are Python keywords, NumPy's alias, the module's own variables or helpers'
/// prefix still give a module that agrees with `eval`.
#[test]
fn awkward_names_do_not_shadow_anything() {
    let dir = std::env::temp_dir().join(format!("chainrule-numpy-names-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let source = dir.join("names.nn");
    write(
        &source,
        "network names {\n  input np[2] = [0.5, -1]\n  target d[2] = [1, 2]\n  lambda[3] = p @ np\n  _read = tanh(lambda)\n  batch_size[2] = values @ _read\n  loss L = sum((batch_size - d)^2)\n  param p[3][2] = [[1, 2], [3, 4], [5, 6]]\n  param values[2][3] = [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]\n}\n",
    );
    let module = dir.join("names.py");
    let out = chainrule(&[
        "numpy",
        source.to_str().expect("path"),
        "-o",
        module.to_str().expect("path"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = chainrule(&["eval", source.to_str().expect("path"), "--json"]);
    let expected: Value = serde_json::from_slice(&out.stdout).expect("eval json");
    let manifest = dir.join("cases.json");
    write(
        &manifest,
        &json!([{"label": "names", "module": module, "params": null, "data": null,
            "expected": expected}])
        .to_string(),
    );
    let out = Command::new(python())
        .arg(root().join("tests/numpy_check.py"))
        .arg(&manifest)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Nielsen's 784-30-10 network (tests/large): every contraction is a matrix product
/// (`x @ W1.T + b1`, not 784 products written out per line), and the module still agrees with
/// `eval` at 1e-12 on a batch.
#[test]
fn nielsen_784_30_10_is_written_as_matrix_products() {
    let python = python();
    let dir = std::env::temp_dir().join(format!("chainrule-numpy-nielsen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = root().join("tests/large/nielsen_784_30_10.nn");
    let file_arg = file.to_str().expect("path");
    let module = dir.join("nielsen.py");
    let out = chainrule(&["numpy", file_arg, "-o", module.to_str().expect("path")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&module).expect("module");
    for line in [
        "z1 = x @ W1.T + b1",
        "a1 = _sigmoid(z1)",
        "z2 = a1 @ W2.T + b2",
        "a2 = _sigmoid(z2)",
        "d_a1 = d_z2 @ W2",
        "g_W1 = d_z1.T @ x / batch_size",
    ] {
        assert!(text.contains(line), "missing `{line}` in:\n{text}");
    }
    // The functions' lines are short: no element is written out.
    let body = &text[text.find("def forward").expect("forward")..];
    let longest = body.lines().map(str::len).max().unwrap_or(0);
    assert!(longest < 120, "a line of {longest} characters in:\n{body}");
    let text_nn = std::fs::read_to_string(&file).expect("read");
    let model = check_source(&text_nn).expect("checks");
    let (params, data) = point_json(&model.networks[0], 5, false);
    let pj = dir.join("params.json");
    let dj = dir.join("data.json");
    write(&pj, &params.to_string());
    write(&dj, &data.to_string());
    let out = chainrule(&[
        "eval",
        file_arg,
        "--params",
        pj.to_str().expect("path"),
        "--data",
        dj.to_str().expect("path"),
        "--json",
    ]);
    assert!(out.status.success(), "eval");
    let expected: Value = serde_json::from_slice(&out.stdout).expect("eval json");
    let manifest = dir.join("cases.json");
    write(
        &manifest,
        &json!([{"label": "nielsen 784-30-10", "module": module, "params": params,
            "data": data, "expected": expected, "tolerance": 1e-12}])
        .to_string(),
    );
    let out = Command::new(python)
        .arg(root().join("tests/numpy_check.py"))
        .arg(&manifest)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The module text of one network (`--network`), or a failure with its stderr.
fn module_text(file: &Path, network: &str) -> String {
    let out = chainrule(&["numpy", file.to_str().expect("path"), "--network", network]);
    assert!(
        out.status.success(),
        "numpy {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Index notation (issue 19): every vector, delta and gradient of the index networks is its
/// verified tensor-level statement, one line of NumPy each, never one element at a time.
#[test]
fn index_networks_are_written_from_their_formulas() {
    let mut checked = 0;
    for entry in std::fs::read_dir(root().join("tests/corpus/ok")).expect("dir") {
        let file = entry.expect("entry").path();
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !(name.starts_with("index_") && name.ends_with(".nn")) {
            continue;
        }
        let model = check_source(&std::fs::read_to_string(&file).expect("read")).expect("checks");
        for (index, network) in model.networks.iter().enumerate() {
            let compiled = chainrule::core::compile_network(&model, index);
            if chainrule::core::numpy::unsupported(network, &compiled).is_some() {
                continue;
            }
            let text = module_text(&file, &network.name);
            let body = &text[text.find("def forward").expect("forward")..];
            for bad in ["written out", "np.stack(", "np.array([", "_combine("] {
                assert!(
                    !body.contains(bad),
                    "`{bad}` in {name} ({}):\n{body}",
                    network.name
                );
            }
            // Each statement is a comment and one line, and the line is short; the rest is
            // the functions' frame (unpacking each symbol, returns).
            let statements = body.lines().filter(|l| l.starts_with("    # ")).count();
            let symbols = network.params.len()
                + network.inputs.len()
                + network.targets.len()
                + network.vectors.len();
            let lines = body.lines().count();
            assert!(
                lines <= 20 + 2 * statements + 2 * symbols,
                "{lines} lines for {statements} statements in {name}:\n{body}"
            );
            // A bracketed read that leaves its tensor (the flipped kernel) writes its index
            // twice, in the mask and clipped in the read: the longest line, about 210. A
            // pooling delta's first-maximum bracket reads its window again inside
            // `np.argmax` (2 x 2 windows of min pooling: about 690).
            let longest = body.lines().map(str::len).max().unwrap_or(0);
            let limit = if body.contains("np.arg") { 720 } else { 240 };
            assert!(
                longest < limit,
                "a line of {longest} characters in {name}:\n{body}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 4, "only {checked} index networks");
    // The convolution and the pooling, as the tensor statements write them.
    let text = module_text(
        &root().join("tests/corpus/ok/index_conv1d.nn"),
        "index_conv1d",
    );
    for line in [
        "# c[k] = sum_i K[i] * x[k + i] + c0",
        "c = np.einsum(\"i,bki->bk\", K, x[:, np.arange(60)[:, None] + np.arange(5)]) + c0",
        "s = a[:, 2 * np.arange(30)[:, None] + np.arange(2)].sum(axis=2) / 2.0",
        "# delta_a = dL/da[k] = 0.5 * (sum_i [0 <= k - 2*i < 2] * delta_s[i])",
        "g_K = np.einsum(\"bj,bij->i\", d_c, x[:, np.arange(5)[:, None] + np.arange(60)]) / batch_size",
    ] {
        assert!(text.contains(line), "missing `{line}` in:\n{text}");
    }
}

/// The convolution and pooling networks' gradients against central differences of the
/// module's own loss (independent of `eval` and of the derivation): index_conv1d.nn, a
/// strided convolution with shifted reads written here, and max and min pooling.
#[test]
fn conv1d_and_pooling_agree_with_finite_differences() {
    let python = python();
    let dir = std::env::temp_dir().join(format!("chainrule-numpy-fd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let strided = dir.join("strided.nn");
    write(
        &strided,
        "network strided {\n    input x[11]\n    target t[4]\n    param K[3]\n    param V[4][2]\n    \
         c[i] = sum(p, K[p] * x[2*i + p])\n    h[i] = tanh(c[i])\n    u[i] = h[i + 1] - h[i]\n    \
         z[i] = sum(q < 2, V[i][q] * h[i + q])\n    loss L = 0.5 * sum((z - t)^2) + 0.1 * sum(u^2)\n}\n",
    );
    let mut modules = Vec::new();
    for (file, network) in [
        (
            root().join("tests/corpus/ok/index_conv1d.nn"),
            "index_conv1d",
        ),
        (strided, "strided"),
        (
            root().join("tests/corpus/ok/index_maxpool_overlap.nn"),
            "index_maxpool_overlap",
        ),
        (
            root().join("tests/corpus/ok/index_minpool.nn"),
            "index_minpool",
        ),
    ] {
        let module = dir.join(format!("{network}.py"));
        write(&module, &module_text(&file, network));
        modules.push(module.to_str().expect("path").to_string());
    }
    let script = dir.join("fd.py");
    write(
        &script,
        r#"import importlib.util, sys
import numpy as np

rng = np.random.default_rng(7)
for path in sys.argv[1:]:
    spec = importlib.util.spec_from_file_location("m", path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    params = {k: rng.uniform(-1, 1, s) for k, s in m.PARAM_SHAPES.items()}
    data = {k: rng.uniform(-1, 1, (3, n)) for k, n in m.DATA_SIZES.items()}
    value, grads = m.gradient(params, data)
    assert abs(value - m.loss(params, data)) < 1e-12, path
    worst = 0.0
    for name, g in grads.items():
        assert g.shape == params[name].shape, (path, name, g.shape)
        for index in np.ndindex(g.shape):
            up = {k: v.copy() for k, v in params.items()}
            down = {k: v.copy() for k, v in params.items()}
            up[name][index] += 1e-6
            down[name][index] -= 1e-6
            numeric = (m.loss(up, data) - m.loss(down, data)) / 2e-6
            error = abs(numeric - g[index]) / max(1.0, abs(numeric))
            worst = max(worst, error)
            assert error < 1e-6, (path, name, index, numeric, g[index])
    print(f"{path}: {sum(g.size for g in grads.values())} elements agree (worst {worst:.1e})")
"#,
    );
    let out = Command::new(&python)
        .arg(&script)
        .args(&modules)
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.matches("elements agree").count(), 4, "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// At ties the NumPy module sends each pooling delta to the first maximal element, as the
/// language says (the gradient worked out by hand in tests/extrema.rs).
#[test]
fn max_pooling_ties_route_to_the_first_maximum() {
    let python = python();
    let dir = std::env::temp_dir().join(format!("chainrule-numpy-ties-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = root().join("tests/corpus/ok/index_maxpool_ties.nn");
    let module = dir.join("ties.py");
    write(&module, &module_text(&file, "index_maxpool_ties"));
    let script = dir.join("ties_check.py");
    write(
        &script,
        r#"import importlib.util, sys
import numpy as np

spec = importlib.util.spec_from_file_location("m", sys.argv[1])
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
params = {"w": np.array([1.0, 3.0, 3.0, 2.0, 3.0, 0.0]), "v": np.array([5.0, 2.0, 2.0, 7.0])}
data = {"x": np.array([[0.0]]), "t": np.array([[1.0, 10.0, 100.0, 1000.0]])}
value, grads = m.gradient(params, data)
assert value == 3.0 * 1111.0 + 1.5 + 2000.0, value
assert list(grads["w"]) == [0.0, 11.5, 100.0, 0.0, 1000.0, 0.0], grads["w"]
assert list(grads["v"]) == [0.0, 1000.0, 0.0, 0.0], grads["v"]
print("ties route to the first maximum")
"#,
    );
    let out = Command::new(&python)
        .arg(&script)
        .arg(&module)
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("ties route"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}
