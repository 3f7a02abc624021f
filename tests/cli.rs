//! The `chainrule` binary as scripts call it (../shared/spec/CLI.md): outputs, exit codes,
//! and error formats.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn chainrule(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chainrule"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("chainrule-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write temp file");
    path
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

#[test]
fn shapes_json_matches_the_spec_layout() {
    let out = chainrule(&["shapes", "examples/nets/seed004.nn", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["network"], "seed004");
    assert_eq!(v["inputs"], serde_json::json!({"x": 2}));
    assert_eq!(v["targets"], serde_json::json!({"t": 2}));
    assert_eq!(v["vectors"], serde_json::json!({"z1": 3, "a1": 3, "y": 2}));
    assert_eq!(v["params"], serde_json::json!({"W1": [3, 2], "W2": [2, 3]}));
    // Keys come in the spec's order.
    let keys: Vec<&String> = v.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["network", "inputs", "targets", "vectors", "params"]);
}

#[test]
fn shapes_text_lists_every_name() {
    let out = chainrule(&["shapes", "examples/nets/seed000_chain_rule.nn"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for needle in ["input", "x", "[2]", "W1", "[2][3]", "hidden", "[3]", "loss"] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
}

#[test]
fn eval_json_gives_the_pytorch_batch_step() {
    let out = chainrule(&["eval", "examples/nets/seed001_torch_batch.nn", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["network"], "torch_batch");
    assert_eq!(v["samples"], 2);
    assert_eq!(v["loss"], 2655.0);
    // PyTorch printed the changes for lr = 0.1: [[142.2, -215.0], [141.4, -210.0]].
    assert_eq!(
        v["gradient"]["W1"],
        serde_json::json!([[-1422.0, 2150.0], [-1414.0, 2100.0]])
    );
    assert_eq!(v["gradient"]["b2"], serde_json::json!([28.0, 98.0]));
}

#[test]
fn eval_reads_params_and_data_json() {
    let params = temp_file("p.json", br#"{"W1": [[1, 0], [2, 3]]}"#);
    let data = temp_file(
        "d.json",
        br#"{"x": [[-1, 2], [-3, 4]], "t": [[-6, 8], [-2, 4]]}"#,
    );
    let out = chainrule(&[
        "eval",
        "examples/nets/seed001_torch_batch.nn",
        "--params",
        p(&params),
        "--data",
        p(&data),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["loss"], 2655.0);
    // One sample: the first of the batch, whose outputs PyTorch printed as [15, 54].
    let one = temp_file("one.json", br#"{"x": [-1, 2], "t": [-6, 8]}"#);
    let out = chainrule(&[
        "eval",
        "examples/nets/seed001_torch_batch.nn",
        "--data",
        p(&one),
        "--json",
    ]);
    assert_eq!(
        json(&out)["loss"],
        0.5 * ((15.0f64 + 6.0).powi(2) + (54.0f64 - 8.0).powi(2))
    );
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

#[test]
fn json_errors_name_the_json_path_and_exit_2() {
    let cases: [(&str, &[u8], &str); 8] = [
        (
            "params",
            br#"{"W1": [[1, 0], [2]]}"#,
            "W1[1]: expected 2 elements",
        ),
        ("params", br#"{"W9": [1]}"#, "W9: not a parameter"),
        (
            "params",
            br#"{"W1": [[1, 0], [2, "a"]]}"#,
            "W1[1][1]: expected a number",
        ),
        ("params", br#"{"W1": [[1, 0], [2, 3]"#, "invalid JSON"),
        (
            "data",
            br#"{"x": [[-1, 2], [-3, 4]], "t": [[-6, 8], [-2, 4], [0, 0]]}"#,
            "t: the data has 3 samples",
        ),
        (
            "data",
            br#"{"x": [[[1, 2]]]}"#,
            "x[0][0]: expected a number, found an array",
        ),
        // One row beside a batch of two is not broadcast: every entry has the same count.
        (
            "data",
            br#"{"x": [[0, 0], [1, 1]], "t": [[0, 0]]}"#,
            "t: the data has 1 sample, but `x` has 2",
        ),
        (
            "data",
            br#"{"x": [0, 0], "t": [[0, 0], [1, 1]]}"#,
            "t: the data has 2 samples, but `x` has 1",
        ),
    ];
    for (i, (flag, contents, message)) in cases.iter().enumerate() {
        let file = temp_file(&format!("bad{i}.json"), contents);
        let out = chainrule(&[
            "eval",
            "examples/nets/seed001_torch_batch.nn",
            &format!("--{flag}"),
            p(&file),
        ]);
        assert_eq!(out.status.code(), Some(2), "case {i}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(message),
            "case {i}: expected `{message}` in {}",
            stderr(&out)
        );
        assert!(
            stderr(&out).starts_with(p(&file)),
            "case {i}: the error names the file: {}",
            stderr(&out)
        );
    }
}

#[test]
fn missing_values_are_named() {
    let out = chainrule(&["eval", "examples/nets/seed003_sine.nn"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("W1: no value"), "{}", stderr(&out));
}

#[test]
fn source_errors_have_file_line_col_and_a_caret() {
    let file = temp_file(
        "bad.nn",
        b"network n {\n    input x[2]\n    a = sigmod(x)\n    loss L = sum(a)\n}\n",
    );
    let out = chainrule(&["shapes", p(&file)]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines[0].starts_with(&format!(
            "{}:3:9: error: unknown function `sigmod` (did you mean `sigmoid`?); the functions are sigmoid,",
            p(&file)
        )),
        "{err}"
    );
    assert!(lines[1].ends_with("    a = sigmod(x)"), "{err}");
    assert!(lines[2].ends_with("        ^^^^^^"), "{err}");
}

/// A file whose warnings (a misspelt target became a parameter; a one-number parameter)
/// every subcommand prints once on standard error, as `FILE:LINE:COL: warning:` with the
/// line and a caret, and whose exit codes they do not change.
#[test]
fn every_subcommand_prints_the_warnings_once() {
    let text = "network typo {
    input  x[2] = [0.5, -1]
    target t[1] = [1]
    param reg = 0.05
    param W[1][2] = [[0.1, 0.2]]
    param tt[1] = [0.3]
    y = W @ x
    loss L = sum((y - t2)^2) + reg * sum(W^2)
}
";
    let file = temp_file("warned.nn", text.replace("t2", "tt ").as_bytes());
    let out_file = file.with_extension("out");
    let name = p(&file);
    let commands: [&[&str]; 9] = [
        &["shapes", name],
        &["eval", name],
        &["latex", name],
        &["explain", name],
        &["rust", name],
        &["check", name],
        &["html", name, "-o", p(&out_file)],
        &["notebook", name, "-o", p(&out_file)],
        &["numpy", name, "-o", p(&out_file)],
    ];
    for args in commands {
        let out = chainrule(args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        let warnings: Vec<&str> = err.lines().filter(|l| l.contains(": warning: ")).collect();
        assert_eq!(
            warnings,
            [
                format!("{name}:3:12: warning: target `t` is not used by the loss"),
                format!(
                    "{name}:4:11: warning: parameter `reg` holds one number and is trained like every parameter: if it is a constant, write `const reg = 0.05`"
                ),
            ],
            "{args:?}: {err}"
        );
        assert!(
            err.contains("3 |     target t[1] = [1]\n  |            ^\n"),
            "{err}"
        );
    }
    // Standard error a pipe whose reader is gone: the warnings are lost, the command still
    // succeeds (`eprint!` would panic on the broken pipe).
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let closed = Command::new(env!("CARGO_BIN_EXE_chainrule"))
        .args(["shapes", name])
        .stderr(writer)
        .output()
        .expect("the binary runs");
    assert_eq!(closed.status.code(), Some(0));
    assert!(
        stdout(&closed).contains("param   reg"),
        "{}",
        stdout(&closed)
    );
}

#[test]
fn several_networks_need_a_choice() {
    let out = chainrule(&["shapes", "examples/nets/seed001_torch_single.nn"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("torch_single, torch_single_printed"),
        "{}",
        stderr(&out)
    );
    let out = chainrule(&[
        "shapes",
        "examples/nets/seed001_torch_single.nn",
        "--network",
        "nope",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = chainrule(&[
        "shapes",
        "examples/nets/seed001_torch_single.nn",
        "--network",
        "torch_single_printed",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["vectors"]["z2"], 1);
}

#[test]
fn unreadable_and_non_utf8_files_exit_2() {
    let out = chainrule(&["shapes", "does/not/exist.nn"]);
    assert_eq!(out.status.code(), Some(2));
    let file = temp_file("latin1.nn", b"network n {\n  input x[2] # caf\xe9\n}\n");
    let out = chainrule(&["shapes", p(&file)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(":2:") && stderr(&out).contains("not valid UTF-8"),
        "{}",
        stderr(&out)
    );
    let empty = temp_file("empty.nn", b"");
    let out = chainrule(&["shapes", p(&empty)]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bad_usage_exits_2() {
    assert_eq!(chainrule(&["shapes"]).status.code(), Some(2));
    assert_eq!(chainrule(&["frobnicate", "x.nn"]).status.code(), Some(2));
    assert_eq!(chainrule(&["--help"]).status.code(), Some(0));
}

fn oracle_case(network: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/oracles/seeds.json"),
    )
    .expect("oracle");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    v["cases"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["network"] == network).cloned())
        .expect("case")
}

fn flat(v: &serde_json::Value) -> Vec<f64> {
    match v {
        serde_json::Value::Array(a) => a.iter().flat_map(flat).collect(),
        other => vec![other.as_f64().expect("number")],
    }
}

/// The gradient table rows of `explain`: parameter element -> its cells.
fn gradient_rows(text: &str) -> Vec<(String, Vec<String>)> {
    let table = text.split("Gradients").nth(1).expect("gradient table");
    table
        .lines()
        .skip(2)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cells: Vec<String> = l.split_whitespace().map(str::to_string).collect();
            (cells[0].clone(), cells)
        })
        .collect()
}

#[test]
fn explain_shows_the_changes_pytorch_printed() {
    let case = oracle_case("torch_batch");
    let out = chainrule(&[
        "explain",
        "examples/nets/seed001_torch_batch.nn",
        "--lr",
        "0.1",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = gradient_rows(&stdout(&out));
    let mut expected = Vec::new();
    for name in ["W1", "b1", "W2", "b2"] {
        expected.extend(flat(&case["param_changes"][name]));
    }
    assert_eq!(rows.len(), expected.len());
    for ((element, cells), want) in rows.iter().zip(expected) {
        let change: f64 = cells.last().expect("change").parse().expect("number");
        assert!(
            (change - want).abs() < 1e-9,
            "{element}: change {change}, PyTorch printed {want}"
        );
    }
    assert!(stdout(&out).contains("2655"), "the loss is shown");
}

#[test]
fn explain_shows_seed000_updated_weights() {
    let case = oracle_case("chain_rule");
    let out = chainrule(&[
        "explain",
        "examples/nets/seed000_chain_rule.nn",
        "--lr",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = gradient_rows(&stdout(&out));
    let mut expected = Vec::new();
    for name in ["W1", "b1", "W2", "b2"] {
        expected.extend(flat(&case["updated_params"][name]));
    }
    assert_eq!(rows.len(), expected.len());
    for ((element, cells), want) in rows.iter().zip(expected) {
        // Columns: parameter, dL/dp, sample 1, batch, value, updated, change.
        let updated: f64 = cells[cells.len() - 2].parse().expect("number");
        assert!(
            (updated - want).abs() < 1e-6,
            "{element}: updated {updated}, the seed printed {want}"
        );
    }
}

#[test]
fn explain_lists_every_chain_rule_factor_and_delta() {
    let out = chainrule(&["explain", "examples/nets/seed004.nn"]);
    let text = stdout(&out);
    for needle in [
        "dL/dy[0]",
        "da1[0]/dz1[0]",
        "a1[0] * (1 - a1[0])",
        "dy[1]/da1[2]",
        "delta(z1[2])",
        "dz1[2]/dW1[2][1]",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
}

#[test]
fn latex_chain_for_seed004_is_the_seeds_sum_of_two_paths() {
    let out = chainrule(&[
        "latex",
        "examples/nets/seed004.nn",
        "--weight",
        "W1[0][0]",
        "--form",
        "chain",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    // Seed 004: dMSE/dw1_00 = dMSE/dy0 dy0/dz0 dz0/da0 da0/dz0 dz0/dw00 + (the same through y1).
    let path = |i: usize| {
        format!(
            "\\frac{{\\partial L}}{{\\partial y_{{{i}}}}} \\, \\frac{{\\partial y_{{{i}}}}}{{\\partial a^{{(1)}}_{{0}}}} \\, \\frac{{\\partial a^{{(1)}}_{{0}}}}{{\\partial z^{{(1)}}_{{0}}}} \\, \\frac{{\\partial z^{{(1)}}_{{0}}}}{{\\partial w^{{(1)}}_{{00}}}}"
        )
    };
    assert!(text.contains(&format!("&= {}", path(0))), "{text}");
    assert!(text.contains(&format!("+ {}", path(1))), "{text}");
    assert_eq!(
        text.matches("\\partial L}{\\partial y_").count(),
        2,
        "exactly two paths: {text}"
    );
    assert!(text.starts_with("\\begin{align*}"));
}

#[test]
fn latex_standalone_and_output_files_are_whole_or_untouched() {
    let dir = std::env::temp_dir().join(format!("chainrule-cli-out-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let target = dir.join("derivation.tex");
    let out = chainrule(&[
        "latex",
        "examples/nets/seed004.nn",
        "--standalone",
        "-o",
        p(&target),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let written = std::fs::read_to_string(&target).expect("written");
    assert!(
        written.starts_with("\\documentclass") && written.trim_end().ends_with("\\end{document}")
    );
    // A failing run leaves the existing file exactly as it was, and no temporary file behind.
    let out = chainrule(&[
        "latex",
        "examples/nets/seed004.nn",
        "--weight",
        "W9[0][0]",
        "-o",
        p(&target),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(&target).expect("still there"),
        written
    );
    let bad = temp_file("broken.nn", b"network n {\n  input x[2]\n");
    let out = chainrule(&["latex", p(&bad), "-o", p(&target)]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(&target).expect("still there"),
        written
    );
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    // Writing into a directory that does not exist fails cleanly.
    let out = chainrule(&[
        "latex",
        "examples/nets/seed004.nn",
        "-o",
        "/nonexistent-dir/x.tex",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn latex_rejects_bad_forms_and_weights() {
    let out = chainrule(&["latex", "examples/nets/seed004.nn", "--form", "pretty"]);
    assert_eq!(out.status.code(), Some(2));
    for weight in ["W1[3][0]", "W1[0]", "W1[a][0]", "x[0]"] {
        let out = chainrule(&["latex", "examples/nets/seed004.nn", "--weight", weight]);
        assert_eq!(out.status.code(), Some(2), "{weight}: {}", stderr(&out));
    }
    let out = chainrule(&[
        "latex",
        "examples/nets/seed003_sine.nn",
        "--form",
        "numeric",
    ]);
    assert_eq!(out.status.code(), Some(2), "no defaults: {}", stderr(&out));
}

/// `latex --form matrix` (CLI.md third round): Nielsen's BP equations with transposes,
/// Hadamard and outer products and shapes; a network the tensor level does not cover yet is
/// refused with the reason, not printed wrong.
#[test]
fn latex_matrix_form() {
    let o = chainrule(&["latex", "examples/nets/seed004.nn", "--form", "matrix"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    for expected in [
        r"\delta_{a^{(1)}} &= \left(W^{(2)}\right)^{\top} \delta_{y} \quad \in \mathbf{R}^{3}",
        r"\delta_{z^{(1)}} &= \delta_{a^{(1)}} \odot a^{(1)} \odot \left(1 - a^{(1)}\right)",
        r"\frac{\partial L}{\partial W^{(1)}} &= \delta_{z^{(1)}} x^{\top} \quad \in \mathbf{R}^{3 \times 2}",
    ] {
        assert!(text.contains(expected), "missing {expected} in:\n{text}");
    }
    let o = chainrule(&["latex", "examples/nets/hamiltonian.nn", "--form", "matrix"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("grad(S, v) has no tensor-level form yet"),
        "{}",
        stderr(&o)
    );
}

// The generated `deep::Params::init(seed)`, which `--init SEED` must reproduce exactly.
chainrule::derive!(file = "tests/corpus/ok/deep_network.nn");

/// `Params::init(seed)` of the generated code as a `--params` JSON object.
fn init_params_json(seed: u64, keep: &[&str]) -> serde_json::Value {
    let text = std::fs::read_to_string("tests/corpus/ok/deep_network.nn").expect("read");
    let model = chainrule::core::check_source(&text).expect("checks");
    let flat = deep::Params::init(seed).flat();
    let mut at = 0;
    let mut object = serde_json::Map::new();
    for param in &model.networks[0].params {
        let values = &flat[at..at + param.shape.len()];
        at += param.shape.len();
        let value = match param.shape.dims().as_slice() {
            [_, cols] => serde_json::json!(values.chunks(*cols).collect::<Vec<_>>()),
            _ => serde_json::json!(values),
        };
        if keep.contains(&param.name.as_str()) {
            object.insert(param.name.clone(), value);
        }
    }
    assert_eq!(at, flat.len());
    serde_json::Value::Object(object)
}

#[test]
fn init_draws_exactly_what_the_generated_params_init_draws() {
    let data = temp_file(
        "init_data.json",
        br#"{"x": [[0.1, -0.2, 0.3], [1, 2, -1]], "t": [[0.5], [-1]]}"#,
    );
    let all = [
        "W1", "b1", "W2", "b2", "W3", "b3", "W4", "b4", "W5", "b5", "W6", "b6", "W7", "b7", "W8",
        "b8", "W9", "b9", "W10", "b10", "W11", "b11", "W12", "b12",
    ];
    for seed in [0, 7, u64::MAX] {
        let params = temp_file(
            &format!("init{seed}.json"),
            init_params_json(seed, &all).to_string().as_bytes(),
        );
        let seed_text = seed.to_string();
        for command in ["eval", "explain"] {
            let net = "tests/corpus/ok/deep_network.nn";
            let mut given = vec![command, net, "--data", p(&data), "--params", p(&params)];
            let mut drawn = vec![command, net, "--data", p(&data), "--init", &seed_text];
            if command == "eval" {
                given.push("--json");
                drawn.push("--json");
            }
            let expected = chainrule(&given);
            assert_eq!(expected.status.code(), Some(0), "{}", stderr(&expected));
            let out = chainrule(&drawn);
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            assert_eq!(stdout(&out), stdout(&expected), "{command} --init {seed}");
            assert!(
                stderr(&out).contains(&format!("`Params::init({seed})`"))
                    && stderr(&out).contains("W1, W2, W3")
                    && stderr(&out).contains("b1, b2, b3"),
                "{}",
                stderr(&out)
            );
        }
    }
    // Values given in --params win; the others are still the generated ones.
    let mut partial = init_params_json(7, &all);
    let w3_value = serde_json::json!(vec![vec![0.5; 8]; 7]);
    partial["W3"] = w3_value.clone();
    let expected = temp_file("init_w3.json", partial.to_string().as_bytes());
    let w3 = temp_file(
        "w3.json",
        serde_json::json!({ "W3": w3_value }).to_string().as_bytes(),
    );
    let net = "tests/corpus/ok/deep_network.nn";
    let a = chainrule(&[
        "eval",
        net,
        "--data",
        p(&data),
        "--params",
        p(&expected),
        "--json",
    ]);
    let b = chainrule(&[
        "eval",
        net,
        "--data",
        p(&data),
        "--params",
        p(&w3),
        "--init",
        "7",
        "--json",
    ]);
    assert_eq!(b.status.code(), Some(0), "{}", stderr(&b));
    assert_eq!(stdout(&a), stdout(&b));
    assert!(!stderr(&b).contains("W3"), "W3 was given: {}", stderr(&b));
}

#[test]
fn init_draws_parameters_but_not_data() {
    let out = chainrule(&["eval", "tests/corpus/ok/deep_network.nn", "--init", "7"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("x: no value")
            && stderr(&out).contains("--init draws parameters, not data"),
        "{}",
        stderr(&out)
    );
    // Without --init, the error says how to draw the parameters.
    let out = chainrule(&["eval", "examples/nets/seed003_sine.nn"]);
    assert!(stderr(&out).contains("--init SEED"), "{}", stderr(&out));
    // A file whose parameters all have values: --init draws nothing, and says so.
    let out = chainrule(&["eval", "examples/nets/seed004.nn", "--init", "1", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        stdout(&chainrule(&["eval", "examples/nets/seed004.nn", "--json"]))
    );
    assert!(
        stderr(&out).contains("nothing is drawn"),
        "{}",
        stderr(&out)
    );
}

/// A layer whose forward pass loops, and whose bias gradient `delta * step(W x + b)` is too
/// small to loop by its own cost: straight-line code would compute `W x + b` again for every
/// element (in each function of the backward pass), so the plan loops it too. Before the
/// fix the generated module read row 0 of `W` by literal indices 240 times.
#[test]
fn a_small_gradient_that_reads_a_looped_argument_loops_too() {
    let net = temp_file(
        "looped_argument.nn",
        b"network looped_argument {\n    input x[60]\n    target t[4]\n    param W[20][60]\n    a = relu(W @ x + b)\n    o = V @ a + c\n    loss L = 0.5 * sum((o - t)^2)\n}\n",
    );
    let net = net.to_str().expect("utf-8 path");
    let out = chainrule(&["rust", net]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let code = stdout(&out);
    assert!(code.contains("for "), "the layer loops");
    let straight = code.matches("p.W[0][").count();
    assert_eq!(straight, 0, "`W` read by literal indices {straight} times");
    // The control: straight-line code everywhere reads `W` element by element.
    let always = chainrule(&["rust", net, "--unroll", "always"]);
    assert_eq!(always.status.code(), Some(0), "{}", stderr(&always));
    assert!(
        stdout(&always).contains("p.W[0]["),
        "the control reads W by literal indices"
    );
}
