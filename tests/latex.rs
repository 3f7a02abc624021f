//! LaTeX of every example network in every form: insta snapshots (reviewed by eye), every
//! fragment rendered by KaTeX with `throwOnError`, and every network's standalone document
//! compiled by a real `pdflatex`. `./scripts/test` installs both tools.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use chainrule::core::derive::derive;
use chainrule::core::eval::evaluate_batch;
use chainrule::core::latex::{Form, NumericPoint, document, render};
use chainrule::core::model::{Model, Network, Symbol};
use chainrule::core::point;
use chainrule::core::{CompiledNetwork, check_source, compile_network};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn examples() -> Vec<(String, Model)> {
    support::example_files()
        .into_iter()
        .map(|(stem, text)| (stem, check_source(&text).expect("examples check")))
        .collect()
}

/// What `compile` makes of one of the model's networks.
fn compiled(model: &Model, network: &Network) -> CompiledNetwork {
    compile_network(
        model,
        model.position_of(network).expect("a network of the model"),
    )
}

/// Every form of a network's derivation: `(form name, fragment)`.
fn fragments(model: &Model, network: &Network) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let compiled = compiled(model, network);
    let derivation = &compiled.derivation;
    for (name, form) in [
        ("delta", Form::Delta),
        ("general", Form::General),
        ("chain", Form::Chain),
    ] {
        let mut fragment = render(network, &compiled, form, &[], None, false);
        if fragment.len() > chainrule::core::html::MAX_FORM_BYTES {
            // A recurrence's weights reach the loss through every later step: as the page
            // does, the first element of each parameter stands for the rest.
            let firsts: Vec<_> = (0..network.params.len())
                .filter_map(|p| derivation.layout.vars(Symbol::Param(p)).next())
                .collect();
            fragment = render(network, &compiled, form, &firsts, None, false);
        }
        out.push((name, fragment));
    }
    // The matrix form, where the tensor level covers the network.
    if let Ok(program) = compiled.program() {
        out.push((
            "matrix",
            chainrule::core::latex::render_matrix(network, program, false),
        ));
    }
    if let (Ok(params), Ok(samples)) = (point::params(network, None), point::samples(network, None))
    {
        let result = evaluate_batch(derivation, network, &params, &samples);
        let point = NumericPoint {
            slots: result.samples[0].slots.clone(),
            gradient: result.samples[0].gradient.concat(),
            lr: Some(0.1),
            batch: (samples.len() > 1).then(|| (samples.len(), result.gradient.concat())),
        };
        out.push((
            "numeric",
            render(network, &compiled, Form::Numeric, &[], Some(&point), false),
        ));
    }
    out
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("chainrule-latex-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

#[test]
fn snapshots_of_every_example() {
    for (stem, model) in examples() {
        for network in &model.networks {
            for (form, fragment) in fragments(&model, network) {
                insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false }, {
                    insta::assert_snapshot!(format!("latex__{stem}__{}__{form}", network.name), fragment);
                });
            }
        }
    }
}

#[test]
fn every_fragment_renders_with_katex() {
    let katex = root().join("tests/katex");
    assert!(
        katex.join("node_modules/katex").exists(),
        "KaTeX is not installed: run ./scripts/test (or `npm ci` in tests/katex)"
    );
    let dir = scratch("katex");
    let mut files = Vec::new();
    // The examples, and the corpus network that uses maximum, minimum, erf and pi.
    let builtins = std::fs::read_to_string(root().join("tests/corpus/ok/third_round_builtins.nn"))
        .expect("corpus file");
    let builtins = (
        "third_round_builtins".to_string(),
        check_source(&builtins).expect("checks"),
    );
    for (stem, model) in examples().into_iter().chain([builtins]) {
        for network in &model.networks {
            for (form, fragment) in fragments(&model, network) {
                let file = dir.join(format!("{stem}-{}-{form}.tex", network.name));
                std::fs::write(&file, fragment).expect("write fragment");
                files.push(file);
            }
        }
    }
    let out = Command::new("node")
        .arg(katex.join("render.js"))
        .args(&files)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "KaTeX failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with(&format!("{} rendered", files.len())));
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
    let pdf = tex.with_extension("pdf");
    if !dir.join(pdf.file_name().expect("name")).exists() {
        return Err(format!("no PDF for {}", tex.display()));
    }
    Ok(())
}

/// The widest `Overfull \hbox` a pdflatex log reports, in points.
fn widest_overfull(log: &str) -> f64 {
    log.lines()
        .filter_map(|l| l.strip_prefix("Overfull \\hbox ("))
        .filter_map(|l| l.split("pt").next()?.parse::<f64>().ok())
        .fold(0.0, f64::max)
}

/// Points a line may pass the margin by: pdflatex's own `\hfuzz` is 0.1pt; a few points are
/// not visible, hundreds are a formula cut off at the page's edge.
const OVERFULL_TOLERANCE: f64 = 10.0;

#[test]
fn standalone_lines_stay_within_the_page() {
    // A relu unit's derivative repeats its whole pre-activation sum (one product term, which
    // the printer's sum breaking cannot split), and the general form's formulas were never
    // broken: lines ran up to 1,310pt past the margin (issue 24).
    let wide = "network wide {\n  input x[24]\n  target t[10] onehot\n  h[12] = relu(W1 @ x + b1)\n  z[10] = W2 @ h + b2\n  loss L = logsumexp(z) - sum(t * z)\n}\n";
    let mut models = examples();
    models.push(("wide".to_string(), check_source(wide).expect("checks")));
    let dir = scratch("overfull");
    for (stem, model) in models {
        for network in &model.networks {
            let sections: Vec<(String, String)> = fragments(&model, network)
                .into_iter()
                .map(|(form, f)| (format!("{} ({form})", network.name), f))
                .collect();
            let file = dir.join(format!("{stem}-{}.tex", network.name));
            std::fs::write(&file, document(&sections)).expect("write");
            pdflatex(&dir, &file).unwrap_or_else(|e| panic!("{e}"));
            let log = std::fs::read_to_string(file.with_extension("log")).expect("a log");
            let widest = widest_overfull(&log);
            assert!(
                widest <= OVERFULL_TOLERANCE,
                "{stem} {}: a line runs {widest}pt past the margin",
                network.name
            );
        }
    }
}

#[test]
fn every_standalone_document_compiles_with_pdflatex() {
    let dir = scratch("pdflatex");
    for (stem, model) in examples() {
        for network in &model.networks {
            // The CLI's own --standalone output of the default form...
            let standalone = render(
                network,
                &compiled(&model, network),
                Form::Delta,
                &[],
                None,
                true,
            );
            let file = dir.join(format!("{stem}-{}.tex", network.name));
            std::fs::write(&file, standalone).expect("write");
            pdflatex(&dir, &file).unwrap_or_else(|e| panic!("{e}"));
            // ...and one document with every form.
            let sections: Vec<(String, String)> = fragments(&model, network)
                .into_iter()
                .map(|(form, f)| (format!("{} ({form})", network.name), f))
                .collect();
            let file = dir.join(format!("{stem}-{}-all.tex", network.name));
            std::fs::write(&file, document(&sections)).expect("write");
            pdflatex(&dir, &file).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

/// Issue 24, item 2: a general formula is printed only if every element satisfies it. With
/// the loss reading `y[1]` alone, `y[0]` has no delta, so `2(y_k - t_0)` is false for k = 0.
#[test]
fn general_form_never_generalises_from_some_elements() {
    let source = "network sparse {\n    input x[2] = [1, 2]\n    target t[1] = [0.5]\n    \
                  y[2] = W @ x\n    loss L = (y[1] - t[0])^2\n    \
                  param W[2][2] = [[1, 2], [3, 4]]\n}\n";
    let model = check_source(source).expect("checks");
    let network = &model.networks[0];
    let general = render(
        network,
        &compiled(&model, network),
        Form::General,
        &[],
        None,
        false,
    );
    assert!(
        !general.contains("y_{k} - t_{0}"),
        "a formula true only for k = 1 was printed:\n{general}"
    );
    // The tensor level says exactly where the delta is zero, and the gradient of W holds
    // for both rows (row 0's delta is that zero).
    assert!(
        general.contains(r"\left[k = 1\right] \cdot 2 \left(y_{1} - t_{0}\right)"),
        "{general}"
    );
    assert!(general.contains(r"\frac{\partial L}{\partial w_{ij}} &= \delta_{y_{i}} x_{j}"));
}

/// A leaky relu written as a `fn`: its derivative's negative slope prints as `+ 0.01`, in
/// every form, never as `-(-0.01)` or `- \left(-0.01\right)` (issue 24, item 12).
#[test]
fn a_negative_slope_prints_as_a_plain_number() {
    let text = "fn leaky(z) = relu(z) - 0.01 * relu(-z)
network act {
    input  x[2]
    target t[1]
    h[3] = W1 @ x + b1
    g = leaky(h)
    y[1] = W2 @ g
    loss L = 0.5 * sum((y - t)^2)
}
";
    let model = check_source(text).expect("the network checks");
    let network = &model.networks[0];
    for (name, fragment) in fragments(&model, network) {
        if name == "numeric" {
            continue;
        }
        assert!(!fragment.contains("(-0.01"), "{name}:\n{fragment}");
        assert!(!fragment.contains("- -0.01"), "{name}:\n{fragment}");
        if name == "general" || name == "matrix" {
            // The structured forms name the function and say its derivative once.
            assert!(
                fragment.contains(
                    "\\operatorname{leaky}'\\left(z\\right) &= \\operatorname{step}\\left(z\\right) + 0.01 \\operatorname{step}\\left(-z\\right)"
                ),
                "{name}:\n{fragment}"
            );
        } else {
            assert!(
                fragment.contains("+ 0.01 \\operatorname{step}\\left(-h_{"),
                "{name}:\n{fragment}"
            );
        }
    }
}

/// Issue 24, item 12: a user function keeps its name in the general and matrix forms,
/// `gelu'` of the argument, and its derivative is said once; every statement verified.
#[test]
fn user_functions_keep_their_names() {
    let text = "fn gelu(z) = 0.5 * z * (1 + tanh(0.7978845608 * (z + 0.044715 * z^3)))
network act {
    input  x[2]
    target t[1]
    h[3] = gelu(W1 @ x + b1)
    y[1] = W2 @ h
    loss L = 0.5 * sum((y - t)^2)
}
";
    let model = check_source(text).expect("the network checks");
    let network = &model.networks[0];
    let fragments = fragments(&model, network);
    let form = |name: &str| {
        fragments
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| f.clone())
            .unwrap_or_default()
    };
    let general = form("general");
    assert!(
        general.contains("\\operatorname{gelu}'\\left(\\tilde{h_{i}}\\right)"),
        "{general}"
    );
    assert_eq!(
        general
            .matches("\\operatorname{gelu}'\\left(z\\right) &=")
            .count(),
        1
    );
    let matrix = form("matrix");
    assert!(
        matrix.contains("h &= \\operatorname{gelu}\\left(\\tilde{h}\\right)"),
        "{matrix}"
    );
    let derivation = derive(network, &model.functions);
    let program =
        chainrule::core::tensor::program(network, &model.functions, &derivation).expect("covered");
    assert!(program.statements().all(|s| s.verified));
}

/// Issue 19, item 5: `maximum`, `minimum`, `erf` and `pi` print as written (`\max`, `\min`,
/// `\operatorname{erf}`, `\pi`), their derivatives as Iverson brackets and `2/\sqrt{\pi}`, in
/// every form; the tensor-level statements are all verified. The fragments are snapshots.
#[test]
fn maximum_minimum_erf_and_pi_print_as_written() {
    let text = std::fs::read_to_string(root().join("tests/corpus/ok/third_round_builtins.nn"))
        .expect("corpus file");
    let model = check_source(&text).expect("the network checks");
    let network = &model.networks[0];
    let fragments = fragments(&model, network);
    for (name, fragment) in &fragments {
        if *name == "numeric" {
            continue;
        }
        // Every form states the derivatives; the matrix form states the values too.
        let mut needles = vec![
            " \\geq ",
            "\\frac{2}{\\sqrt{\\pi}}",
            "\\operatorname{erf}\\left(",
        ];
        if *name == "matrix" {
            needles.extend(["\\max\\left(", "\\min\\left("]);
        }
        for needle in needles {
            assert!(
                fragment.contains(needle),
                "{name} lacks {needle}:\n{fragment}"
            );
        }
        insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(format!("latex__third_round_builtins__{name}"), fragment);
        });
    }
    assert!(fragments.iter().any(|(n, _)| *n == "matrix"));
    let derivation = derive(network, &model.functions);
    let program =
        chainrule::core::tensor::program(network, &model.functions, &derivation).expect("covered");
    assert!(program.statements().all(|s| s.verified));
}
