//! LaTeX of random networks: every activation and user `fn`, both `@` conventions, numbered
//! and plain names of every shape (`z^{(1)}`, `\hat{y}`, `\mathrm{hidden}`, Greek,
//! subscripted), every loss form, and powers of named vectors, through every form; each
//! `align*` block rendered by KaTeX with `throwOnError` and its default limits, and a sample
//! of standalone documents compiled by pdflatex.
//!
//! The networks come from a proptest strategy, but every fragment goes to ONE node process:
//! starting KaTeX per case would cost more than the whole check. A failure names the case and
//! prints its network and the seed (`CHAINRULE_LATEX_SEED=<seed>` replays it).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use chainrule::core::derive::derive;
use chainrule::core::eval::evaluate_batch;
use chainrule::core::latex::blocks::{EXPANSION_BUDGET, blocks, katex_expansions};
use chainrule::core::latex::{Form, NumericPoint, document, parse_weight, render};
use chainrule::core::model::Model;
use chainrule::core::point;
use chainrule::core::{check_source, compile_network};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Value, json};

/// How many random networks one run prints; each gives five to six fragments.
const CASES: usize = 120;
/// How many of them also go through pdflatex (about a second each).
const PDF_CASES: usize = 3;

/// Element-wise activations, written around their argument: every built-in, every user
/// function of [`FUNCTIONS`], and powers.
const ACTIVATIONS: [&str; 20] = [
    "sigmoid(#)",
    "tanh(#)",
    "relu(#)",
    "linear(#)",
    "sin(#)",
    "cos(#)",
    "exp(#)",
    "log(#)",
    "softplus(#)",
    "sqrt(#)",
    "abs(#)",
    "swish(#)",
    "scaled(#, 2)",
    "sq(#)",
    "gauss(#)",
    "#^2",
    "#^3",
    "tanh(#)^2",
    "sigmoid(#)^0.5",
    "exp(#)^2",
];

const FUNCTIONS: &str = "fn swish(z) = z * sigmoid(z)\nfn scaled(z, s) = s * tanh(z / s)\nfn sq(z) = z^2\nfn gauss(z) = exp(-z^2)\n";

/// Loss forms, written with `#` for the output and `@` for the target.
const LOSSES: [&str; 8] = [
    "0.5 * sum((@ - #)^2)",
    "mean((# - @)^2)",
    "sum(abs(# - @))",
    "-sum(@ * log(sigmoid(#)) + (1 - @) * log(1 - sigmoid(#)))",
    "mean(softplus(#) - @ * #)",
    "sum((# - @)^4) / 4",
    "sqrt(sum((# - @)^2) + 1)",
    "0.5 * sum((# - @)^2) + 0.01 * sum(#^2)",
];

/// Plain names for hidden vectors, parameters and biases: every shape `names.rs` knows.
const PLAIN_PRE: [&str; 4] = ["pre", "h_in", "u", "zeta"];
const PLAIN_ACT: [&str; 4] = ["hidden", "h_out", "v", "phi"];
const PLAIN_WEIGHT: [&str; 4] = ["W", "V", "U_mat", "theta"];
const PLAIN_BIAS: [&str; 4] = ["b", "c", "beta", "b_out"];
/// Stems of numbered names, one per layer.
const NUMBERED_PRE: [&str; 3] = ["z", "pre", "zeta"];
const NUMBERED_ACT: [&str; 3] = ["a", "hidden", "phi"];
const NUMBERED_WEIGHT: [&str; 3] = ["W", "Theta", "M"];
/// (input, target, output, loss) names.
const ENDS: [(&str, &str, &str, &str); 4] = [
    ("x", "t", "y", "L"),
    ("A", "y", "yhat", "L"),
    ("xi", "tau", "out", "E"),
    ("x_in", "t", "y1", "J"),
];

#[derive(Clone, Debug)]
struct Layer {
    size: usize,
    row_vector: bool,
    bias: bool,
    activation: usize,
    named_pre: bool,
}

#[derive(Clone, Debug)]
struct Net {
    input: usize,
    layers: Vec<Layer>,
    loss: usize,
    numbered: bool,
    ends: usize,
    batch: bool,
}

fn net() -> impl Strategy<Value = Net> {
    let layer = (
        1usize..=3,
        proptest::bool::ANY,
        proptest::bool::ANY,
        0..ACTIVATIONS.len(),
        proptest::bool::ANY,
    )
        .prop_map(|(size, row_vector, bias, activation, named_pre)| Layer {
            size,
            row_vector,
            bias,
            activation,
            named_pre,
        });
    (
        1usize..=3,
        proptest::collection::vec(layer, 1..=3),
        0..LOSSES.len(),
        proptest::bool::ANY,
        0..ENDS.len(),
        proptest::bool::ANY,
    )
        .prop_map(|(input, layers, loss, numbered, ends, batch)| Net {
            input,
            layers,
            loss,
            numbered,
            ends,
            batch,
        })
}

fn network_text(net: &Net) -> String {
    let (input, target, output, loss) = ENDS[net.ends];
    let mut text = String::from(FUNCTIONS);
    text.push_str("network random {\n");
    text.push_str(&format!("    input {input}[{}]\n", net.input));
    let out = net.layers.last().map_or(net.input, |l| l.size);
    text.push_str(&format!("    target {target}[{out}]\n"));
    let mut previous = input.to_string();
    for (i, l) in net.layers.iter().enumerate() {
        let (pre, act, weight, bias) = if net.numbered {
            // Layer numbers on every name shape: `z^{(1)}`, `\mathrm{hidden}^{(2)}`,
            // `\phi^{(3)}`.
            let n = i + 1;
            (
                format!("{}{n}", NUMBERED_PRE[i]),
                format!("{}{n}", NUMBERED_ACT[i]),
                format!("{}{n}", NUMBERED_WEIGHT[i]),
                format!("b{n}"),
            )
        } else {
            (
                PLAIN_PRE[i].to_string(),
                PLAIN_ACT[i].to_string(),
                PLAIN_WEIGHT[i].to_string(),
                PLAIN_BIAS[i].to_string(),
            )
        };
        let product = if l.row_vector {
            format!("{previous} @ {weight}")
        } else {
            format!("{weight} @ {previous}")
        };
        let affine = if l.bias {
            format!("{product} + {bias}")
        } else {
            product
        };
        let name = if i + 1 == net.layers.len() {
            output.to_string()
        } else {
            act
        };
        let activation = ACTIVATIONS[l.activation];
        if l.named_pre {
            text.push_str(&format!("    {pre}[{}] = {affine}\n", l.size));
            text.push_str(&format!("    {name} = {}\n", activation.replace('#', &pre)));
        } else {
            let arg = if activation.starts_with('#') {
                format!("({affine})")
            } else {
                affine
            };
            text.push_str(&format!(
                "    {name}[{}] = {}\n",
                l.size,
                activation.replace('#', &arg)
            ));
        }
        previous = name;
    }
    let loss_expr = LOSSES[net.loss]
        .replace('#', &previous)
        .replace('@', target);
    text.push_str(&format!("    loss {loss} = {loss_expr}\n"));
    if net.batch {
        text.push_str("    batch sum\n");
    }
    text.push_str("}\n");
    text
}

/// Values in [-1, 1) for every parameter, and one or two samples.
fn point_json(model: &Model, seed: u64) -> Value {
    let mut state = seed;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    };
    let network = &model.networks[0];
    let mut params = serde_json::Map::new();
    for p in &network.params {
        let dims = p.shape.dims();
        let value = match dims.as_slice() {
            [r, c] => json!(
                (0..*r)
                    .map(|_| (0..*c).map(|_| next()).collect::<Vec<_>>())
                    .collect::<Vec<_>>()
            ),
            [n] => json!((0..*n).map(|_| next()).collect::<Vec<_>>()),
            _ => json!(next()),
        };
        params.insert(p.name.clone(), value);
    }
    let rows = 1 + (seed % 2) as usize;
    let mut data = serde_json::Map::new();
    for v in network.inputs.iter().chain(&network.targets) {
        let batch: Vec<Vec<f64>> = (0..rows)
            .map(|_| (0..v.size).map(|_| next()).collect())
            .collect();
        data.insert(v.name.clone(), json!(batch));
    }
    json!({ "params": params, "data": data })
}

/// Every form of the network's derivation, as `(form, fragment)`.
fn fragments(model: &Model, seed: u64) -> Vec<(String, String)> {
    let network = &model.networks[0];
    let compiled = compile_network(model, 0);
    let derivation = &compiled.derivation;
    let mut out = Vec::new();
    for (name, form) in [
        ("delta", Form::Delta),
        ("general", Form::General),
        ("chain", Form::Chain),
    ] {
        out.push((
            name.to_string(),
            render(network, &compiled, form, &[], None, false),
        ));
    }
    // The matrix form from the tensor statements; every statement of a random network must
    // reproduce the scalar derivation element by element (issue 19).
    if let Ok(program) = compiled.program()
        && program.checked_at > 0
    {
        let unverified: Vec<String> = program
            .statements()
            .filter(|s| !s.verified)
            .map(|s| format!("{:?}", s.defines))
            .collect();
        assert!(
            unverified.is_empty(),
            "seed {seed}: tensor statements {unverified:?} disagree with the scalar derivation"
        );
        out.push((
            "matrix".to_string(),
            chainrule::core::latex::render_matrix(network, program, false),
        ));
    }
    // `--form chain --weight W` for the first layer's whole matrix: the largest chain.
    let first = network.params[0].name.clone();
    let weights = parse_weight(network, derivation, &first).expect("a parameter's name");
    out.push((
        format!("chain --weight {first}"),
        render(network, &compiled, Form::Chain, &weights, None, false),
    ));
    let json = point_json(model, seed);
    let params = point::params(network, Some(&json["params"])).expect("params for every parameter");
    let samples = point::samples(network, Some(&json["data"])).expect("every input and target");
    let result = evaluate_batch(derivation, network, &params, &samples);
    let point = NumericPoint {
        slots: result.samples[0].slots.clone(),
        gradient: result.samples[0].gradient.concat(),
        lr: Some(0.1),
        batch: (samples.len() > 1).then(|| (samples.len(), result.gradient.concat())),
    };
    out.push((
        "numeric".to_string(),
        render(network, &compiled, Form::Numeric, &[], Some(&point), false),
    ));
    out
}

fn seed() -> u64 {
    match std::env::var("CHAINRULE_LATEX_SEED") {
        Ok(text) => text
            .trim()
            .parse()
            .expect("CHAINRULE_LATEX_SEED is a whole number"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
    }
}

/// `CASES` random networks from the strategy: (network text, checked model).
fn cases(seed: u64) -> Vec<(String, Model)> {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    );
    let strategy = net();
    (0..CASES)
        .map(|_| {
            let net = strategy.new_tree(&mut runner).expect("a network").current();
            let text = network_text(&net);
            let model = check_source(&text).unwrap_or_else(|e| {
                panic!("seed {seed}: the generator wrote\n{text}\nwhich fails to check: {e:?}")
            });
            (text, model)
        })
        .collect()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "chainrule-latex-random-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

#[test]
fn random_networks_render_with_katex_and_pdflatex() {
    let katex = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/katex");
    assert!(
        katex.join("node_modules/katex").exists(),
        "KaTeX is not installed: run ./scripts/test (or `npm ci` in tests/katex)"
    );
    let seed = seed();
    let cases = cases(seed);
    let mut batch = Vec::new();
    let mut texts = Vec::new();
    for (n, (text, model)) in cases.iter().enumerate() {
        let forms = fragments(model, seed.wrapping_add(n as u64));
        for (form, fragment) in &forms {
            // The printer's own estimate keeps every block within KaTeX's limit...
            for block in blocks(fragment) {
                assert!(
                    katex_expansions(block) <= EXPANSION_BUDGET,
                    "seed {seed}, case {n} ({form}): a block of {} expansions\n{text}",
                    katex_expansions(block)
                );
            }
            batch.push(json!({ "name": format!("case {n} ({form})"), "tex": fragment }));
        }
        texts.push((text, forms));
    }
    // ...and KaTeX itself is the judge.
    let mut child = Command::new("node")
        .arg(katex.join("render.js"))
        .arg("--stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(serde_json::to_string(&batch).expect("JSON").as_bytes())
        .expect("write fragments");
    let out = child.wait_with_output().expect("node finishes");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let first = stderr
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("case "))
            .and_then(|l| l.split(' ').next())
            .and_then(|n| n.parse::<usize>().ok());
        let network = first.map_or("", |n| texts[n].0.as_str());
        panic!(
            "seed {seed}: KaTeX failed:\n{}{stderr}\nfirst failing network:\n{network}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .starts_with(&format!("{} rendered, 0 failed", batch.len())),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let dir = scratch("pdflatex");
    for (n, (text, forms)) in texts.iter().take(PDF_CASES).enumerate() {
        let sections: Vec<(String, String)> = forms
            .iter()
            .map(|(form, fragment)| (format!("random {n} ({form})"), fragment.clone()))
            .collect();
        let file = dir.join(format!("random-{n}.tex"));
        std::fs::write(&file, document(&sections)).expect("write");
        pdflatex(&dir, &file).unwrap_or_else(|e| panic!("seed {seed}, case {n}: {e}\n{text}"));
    }
    // The CLI's --standalone output of the chain form, the largest.
    let (text, model) = &cases[0];
    let network = &model.networks[0];
    let standalone = render(
        network,
        &compile_network(model, 0),
        Form::Chain,
        &[],
        None,
        true,
    );
    let file = dir.join("random-standalone.tex");
    std::fs::write(&file, standalone).expect("write");
    pdflatex(&dir, &file).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{text}"));
    let _ = std::fs::remove_dir_all(&dir);
}

fn pdflatex(dir: &Path, tex: &Path) -> Result<(), String> {
    let out = Command::new("pdflatex")
        .args([
            "-interaction=nonstopmode",
            "-halt-on-error",
            "-output-directory",
        ])
        .arg(dir)
        .arg(tex)
        .output()
        .map_err(|e| {
            format!("pdflatex does not run ({e}): run ./scripts/test, which installs TeX Live")
        })?;
    let log = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || log.lines().any(|l| l.starts_with("! ")) {
        return Err(format!("pdflatex failed on {}:\n{log}", tex.display()));
    }
    if !tex.with_extension("pdf").exists() {
        return Err(format!("no PDF for {}", tex.display()));
    }
    Ok(())
}

/// The failure this file exists for (issue 11): `tanh` on a numbered layer printed
/// `a^{(2)}_{0}^{2}`, and a three-layer network's `--form chain --weight W1` was one block
/// that KaTeX refused.
#[test]
fn the_reported_network_has_no_double_superscript_and_small_blocks() {
    let text = "network three {\n input x[2]\n target t[2]\n z1[3] = x @ W1 + b1\n a1 = relu(z1)\n z2[2] = W2 @ a1 + b2\n a2 = tanh(z2)\n y[2] = W3 @ a2 + b3\n loss L = 0.5 * sum((y - t)^2)\n}\n";
    let model = check_source(text).expect("checks");
    let network = &model.networks[0];
    let compiled = compile_network(&model, 0);
    let derivation = &compiled.derivation;
    let delta = render(network, &compiled, Form::Delta, &[], None, false);
    assert!(
        delta.contains("\\left(1 - \\left(a^{(2)}_{0}\\right)^{2}\\right)"),
        "{delta}"
    );
    let weights = parse_weight(network, derivation, "W1").expect("W1");
    let chain = render(network, &compiled, Form::Chain, &weights, None, false);
    // One block per element of W1 (3x2).
    assert_eq!(blocks(&chain).len(), 6, "{chain}");
}

/// Issue 19: every tensor-level statement of many random networks reproduces the scalar
/// derivation element by element (the cheap check alone, over more networks than render).
#[test]
fn tensor_statements_of_random_networks_verify() {
    let seed = seed();
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    );
    let strategy = net();
    let mut checked = 0;
    for _ in 0..600 {
        let net = strategy.new_tree(&mut runner).expect("a network").current();
        let text = network_text(&net);
        let model = check_source(&text).expect("the generator writes valid networks");
        let network = &model.networks[0];
        let derivation = derive(network, &model.functions);
        if let Ok(program) =
            chainrule::core::tensor::program(network, &model.functions, &derivation)
            && program.checked_at > 0
        {
            let bad: Vec<String> = program
                .statements()
                .filter(|s| !s.verified)
                .map(|s| format!("{:?}", s.defines))
                .collect();
            assert!(bad.is_empty(), "seed {seed}: {bad:?} disagree in\n{text}");
            checked += 1;
        }
    }
    // Only `grad` or no finite point at all leaves a network unchecked: rarely.
    assert!(
        checked >= 500,
        "seed {seed}: only {checked} of 600 networks checked"
    );
}
