//! `Params::to_json` and `Params::from_json` (issue 22): a round trip in Rust, the CLI's
//! `eval --params` reading what Rust wrote (the same loss and gradient), Rust reading the
//! `--params` layout as the CLI's documentation and a person write it, and errors that name
//! the JSON path.

use std::path::PathBuf;
use std::process::Command;

use chainrule::ndarray::Array2;
use serde_json::Value;

chainrule::derive!(file = "examples/nets/seed004.nn");
chainrule::derive!(file = "examples/nets/seed001_torch_batch.nn");

mod single {
    chainrule::derive!(float = f32, file = "examples/nets/seed004.nn");
}

/// `chainrule eval NET --params P --json` on what `params` holds; the parsed output.
fn eval(net: &str, params: &str) -> Value {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("params_json");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("{}-{}.json", std::process::id(), params.len()));
    std::fs::write(&path, params).expect("write params");
    let out = Command::new(env!("CARGO_BIN_EXE_chainrule"))
        .args(["eval", net, "--params"])
        .arg(&path)
        .arg("--json")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("eval --json prints JSON")
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn round_trip_is_exact() {
    let mut p = seed004::Params::init(7);
    // Values whose shortest form needs an exponent, a negative zero, the extremes.
    p.W1[0][0] = 1e-300;
    p.W1[0][1] = -0.0;
    p.W1[1][0] = f64::MAX;
    p.W1[1][1] = 0.1 + 0.2;
    let text = p.to_json();
    let back = seed004::Params::from_json(&text).expect("reads what it wrote");
    assert_eq!(back, p);
    assert_eq!(back.W1[0][1].to_bits(), (-0.0f64).to_bits());
    assert!(text.starts_with("{\n  \"W1\": [["), "{text}");

    let q = single::seed004::Params::init(3);
    assert_eq!(single::seed004::Params::from_json(&q.to_json()), Ok(q));
}

#[test]
fn the_cli_reads_what_rust_wrote() {
    let p = seed004::Params::init(11);
    let (x, t) = ([1.0, 3.0], [4.0, 1.0]);
    let (loss, gradient) = seed004::gradient(&p, &x, &t);
    let out = eval("examples/nets/seed004.nn", &p.to_json());
    let cli_loss = out["loss"].as_f64().expect("loss");
    assert!(close(cli_loss, loss), "cli {cli_loss} vs rust {loss}");
    // The gradient the CLI prints is itself `--params` layout: Rust reads it.
    let cli_gradient = seed004::Params::from_json(&out["gradient"].to_string()).expect("layout");
    for (c, r) in cli_gradient.flat().iter().zip(gradient.flat()) {
        assert!(close(*c, r), "cli {c} vs rust {r}");
    }
}

#[test]
fn rust_reads_the_cli_layout() {
    // Written as CLI.md shows it (integers, a parameter left to the file's declared value).
    let text = std::fs::read_to_string("tests/params/torch_batch.json").expect("params file");
    let p = torch_batch::Params::from_json(&text).expect("reads the --params layout");
    assert_eq!(p.W1, [[1.0, 0.0], [2.0, 3.0]]);
    assert_eq!(p.b2, torch_batch::Params::default().b2);
    let x = Array2::from(vec![[-1.0, 2.0], [-3.0, 4.0]]);
    let t = Array2::from(vec![[-6.0, 8.0], [-2.0, 4.0]]);
    let (loss, _) = torch_batch::gradient_batch(&p, x.view(), t.view()).expect("shapes");
    let out = eval("examples/nets/seed001_torch_batch.nn", &text);
    assert_eq!(out["loss"].as_f64(), Some(loss));
    // Seed 001's PyTorch loss.
    assert_eq!(loss, 2655.0);
}

#[test]
fn errors_name_the_json_path_and_never_panic() {
    let error = |text: &str| {
        seed004::Params::from_json(text)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let w2 = "[[1, 2, 3], [4, 5, 6]]";
    assert_eq!(
        error(&format!(
            r#"{{"W1": [[1, 2], [3, 4], ["a", 6]], "W2": {w2}}}"#
        )),
        Err("W1[2][0]: expected a number, found a string".into())
    );
    assert_eq!(
        error(&format!(r#"{{"W1": [[1, 2], [3, 4]], "W2": {w2}}}"#)),
        Err("W1: expected 3 elements, found 2".into())
    );
    assert_eq!(
        error(&format!(
            r#"{{"W1": [[1, 2], [3, 4], [5, [6]]], "W2": {w2}}}"#
        )),
        Err("W1[2][1]: expected a number, found an array (nested one level too deep)".into())
    );
    // seed004.nn declares both parameters: a missing one keeps its declared value.
    let p = seed004::Params::from_json(&format!(r#"{{"W2": {w2}}}"#)).expect("W1 declared");
    assert_eq!(p.W1, seed004::Params::default().W1);
    assert!(error(r#"{"W3": 1}"#).is_err_and(|e| e.starts_with("W3: not a parameter")));
    assert!(
        error(r#"{"W2": [[1, 2, 3], [4, 5, 6]], "W2": [[1, 2, 3], [4, 5, 6]]}"#)
            .is_err_and(|e| e.starts_with("W2: the key is given twice"))
    );
    for bad in [
        "",
        "{",
        "[]",
        "null",
        "{\"W1\": 1e999}",
        "{\"W1\": null}",
        "\u{feff}{}x",
    ] {
        assert!(error(bad).is_err(), "{bad:?}");
    }
    // A leading byte-order mark is accepted, as the CLI accepts it.
    assert!(error("\u{feff}{}").is_ok());
}
