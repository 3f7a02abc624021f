//! The tensor-level statements (issue 19) against the scalar derivation, the reference:
//! every statement of every corpus and example network, instantiated element by element,
//! must reproduce the scalar derivation's values, and the index formulas printed from them
//! must say what the scalar derivation says.

mod support;

use std::path::Path;

use chainrule::core::check_source;
use chainrule::core::derive::derive;
use chainrule::core::latex::indexed::IndexPrinter;
use chainrule::core::model::Network;
use chainrule::core::tensor::{self, Program};

fn corpus_files() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/ok");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("tests/corpus/ok")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "nn"))
        .collect();
    files.sort();
    let mut out: Vec<(String, String)> = files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read");
            (p.display().to_string(), text)
        })
        .collect();
    out.extend(support::example_files());
    out
}

/// The checked model of a file of the repository.
fn checked(path: &str) -> chainrule::core::Model {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    check_source(&text).unwrap_or_else(|e| panic!("{path}: {e:?}"))
}

fn describe(program: &Program, network: &Network) -> String {
    let printer = IndexPrinter::new(program, network, "L".into());
    program
        .statements()
        .map(|s| {
            format!(
                "{} {}",
                if s.verified { "ok " } else { "BAD" },
                printer.line(s)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every statement of every network the tensor level covers is verified; networks it does
/// not cover yet say why (`grad` and `flatten` today), and are counted so the gap cannot grow
/// unseen.
#[test]
fn every_statement_reproduces_the_scalar_derivation() {
    let mut failures = Vec::new();
    let mut covered = 0;
    let mut uncovered = Vec::new();
    for (name, text) in corpus_files() {
        let model = check_source(&text).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        for network in &model.networks {
            let derivation = derive(network, &model.functions);
            match tensor::program(network, &model.functions, &derivation) {
                Ok(program) => {
                    covered += 1;
                    if program.statements().any(|s| !s.verified) {
                        failures.push(format!(
                            "{name} / {}:\n{}",
                            network.name,
                            describe(&program, network)
                        ));
                    }
                }
                Err(why) => uncovered.push(format!("{name} / {}: {why}", network.name)),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(covered >= 40, "only {covered} networks covered");
    for line in &uncovered {
        assert!(
            line.contains("grad(S, v)") || line.contains("flatten"),
            "not covered: {line}"
        );
    }
}

/// Issue 24 item 2 at the tensor level: a loss that reads `y[1]` gives `y` a delta that is
/// zero for k = 0, and the formula says so with a bracket instead of generalising.
#[test]
fn a_fixed_index_becomes_a_bracket() {
    let source = "network sparse {\n    input x[2] = [1, 2]\n    target t[1] = [0.5]\n    \
                  y[2] = W @ x\n    loss L = (y[1] - t[0])^2\n    \
                  param W[2][2] = [[1, 2], [3, 4]]\n}\n";
    let model = check_source(source).expect("checks");
    let network = &model.networks[0];
    let derivation = derive(network, &model.functions);
    let program = tensor::program(network, &model.functions, &derivation).expect("covered");
    assert!(
        program.statements().all(|s| s.verified),
        "{}",
        describe(&program, network)
    );
    let text = describe(&program, network);
    assert!(
        text.contains(r"\left[k = 1\right]"),
        "the delta of y is not bracketed:\n{text}"
    );
}

/// The check can fail: a gradient formula with one factor changed is refused.
#[test]
fn a_wrong_formula_is_refused() {
    let model = checked("examples/nets/seed004.nn");
    let network = &model.networks[0];
    let derivation = derive(network, &model.functions);
    let mut program = tensor::program(network, &model.functions, &derivation).expect("covered");
    assert!(program.statements().all(|s| s.verified));
    let formula = program.gradients[0].formula;
    let half = program.graph.constant_node(0.5);
    program.gradients[0].formula = program.graph.mul(half, formula);
    tensor::verify::verify(&mut program, network, &derivation);
    assert!(!program.gradients[0].verified, "a halved gradient passed");
    assert!(program.gradients[1].verified);
}

/// Index notation (issue 19, the third round's language): a convolution over a hidden layer
/// derives the flipped kernel for the layer's delta, stated with its range, and the kernel
/// gradient as a correlation summed over positions; every statement is verified.
#[test]
fn a_convolution_in_index_notation_derives_the_flipped_kernel() {
    let source = "network conv_hidden {\n    input x[8]\n    target t[6]\n    param U[8][8]\n    \
                  param K[3]\n    h[i] = tanh(sum(j, U[i][j] * x[j]))\n    \
                  c[i] = sum(p, K[p] * h[i + p])\n    loss L = 0.5 * sum((c - t)^2)\n}\n";
    let model = check_source(source).expect("checks");
    let network = &model.networks[0];
    let derivation = derive(network, &model.functions);
    let program = tensor::program(network, &model.functions, &derivation).expect("covered");
    let text = describe(&program, network);
    assert!(program.statements().all(|s| s.verified), "{text}");
    assert!(text.contains(r"h_{j + i}"), "the kernel gradient:\n{text}");
}

/// `flat = flatten(p1)` on a line of its own (issue 23) is one reshape statement over the
/// pooled maps' axes, writing each element at its row-major position; the maps' delta reads the
/// flat delta there. Every statement is verified, and a reshape with its positions permuted
/// (`9c + u + 3v`: the maps read column-major) is refused.
#[test]
fn a_named_flatten_is_one_reshape_statement() {
    let model = checked("tests/corpus/ok/tensor_flatten.nn");
    let network = &model.networks[0];
    let derivation = derive(network, &model.functions);
    let mut program = tensor::program(network, &model.functions, &derivation).expect("covered");
    let described = describe(&program, network);
    assert!(program.statements().all(|s| s.verified), "{described}");
    assert!(
        described.contains(r"\delta_{p^{(1)}_{cuv}} = \frac{\partial L}{\partial p^{(1)}_{cuv}} &= \delta_{\mathrm{flat}_{9c + 3u + v}}"),
        "the pooled maps' delta:\n{described}"
    );
    let flat = network
        .vectors
        .iter()
        .position(|v| v.name == "flat")
        .expect("flat");
    let position = program
        .forward
        .iter()
        .position(|s| {
            s.defines == tensor::Tensor::Value(chainrule::core::model::Symbol::Vector(flat))
        })
        .expect("a statement for flat");
    let statement = &program.forward[position];
    assert_eq!(statement.shape, vec![2, 3, 3]);
    let [c, u, v] = statement.indices[..] else {
        panic!("one index per axis of p1: {:?}", statement.indices)
    };
    let permuted = tensor::Affine::constant(0)
        .plus_scaled(&tensor::Affine::var(c), 9)
        .plus_scaled(&tensor::Affine::var(u), 1)
        .plus_scaled(&tensor::Affine::var(v), 3);
    program.forward[position].reshape = Some(vec![permuted]);
    tensor::verify::verify(&mut program, network, &derivation);
    assert!(
        !program.forward[position].verified,
        "a permuted flatten passed"
    );
}

/// `W @ flatten(p1)` inside an expression is one contraction over the maps' own axes, the
/// matrix read at their row-major position: every statement verifies, the pooled maps' delta
/// reads `W` at `9c + 3u + v`, and the straight-line limit no longer applies (the Rust code
/// loops).
#[test]
fn a_flatten_inside_a_product_is_a_contraction_over_its_axes() {
    let model = checked("tests/corpus/ok/tensor_inline_flatten.nn");
    let network = &model.networks[0];
    let derivation = derive(network, &model.functions);
    let program = tensor::program(network, &model.functions, &derivation).expect("covered");
    let described = describe(&program, network);
    assert!(program.statements().all(|s| s.verified), "{described}");
    assert!(
        described.contains(r"\delta_{p^{(1)}_{cuv}} = \frac{\partial L}{\partial p^{(1)}_{cuv}} &= \sum_{i} \delta_{h_{i}} w_{i,9c + 3u + v}"),
        "the pooled maps' delta:\n{described}"
    );
    // The matrix form writes the flattened dense layer as textbooks do.
    let matrix = chainrule::core::latex::render_matrix(network, &program, false);
    assert!(
        matrix.contains(
            r"h &= W \operatorname{vec}\left(p^{(1)}\right) + b \quad \in \mathbf{R}^{3}"
        ),
        "{matrix}"
    );
}

/// An element-wise map of a `flatten` inside a product (`W @ tanh(flatten(p1) - c)`, and
/// `sigmoid(flatten(z1)) @ V` in the other convention) is the same contraction over the maps'
/// axes, a flat vector beside the `flatten` read at the row-major position: every statement
/// verifies, and the maps' delta carries the map's derivative at each of their elements.
#[test]
fn a_mapped_flatten_inside_a_product_is_a_contraction_over_its_axes() {
    let model = checked("tests/corpus/ok/tensor_flatten_operand.nn");
    let wanted = [
        r"\delta_{p^{(1)}_{tuv}} = \frac{\partial L}{\partial p^{(1)}_{tuv}} &= \left(1 - \tanh\left(p^{(1)}_{tuv} - c_{9t + 3u + v}\right)^{2}\right) \sum_{i} \delta_{h_{i}} w_{i,9t + 3u + v}",
        r"\delta_{z^{(1)}_{cuv}} = \frac{\partial L}{\partial z^{(1)}_{cuv}} &= \sigma\left(z^{(1)}_{cuv}\right) \left(1 - \sigma\left(z^{(1)}_{cuv}\right)\right) \sum_{i} \delta_{h_{i}} v_{16c + 4u + v,i}",
    ];
    for (network, wanted) in model.networks.iter().zip(wanted) {
        let derivation = derive(network, &model.functions);
        let program = tensor::program(network, &model.functions, &derivation).expect("covered");
        let described = describe(&program, network);
        assert!(program.statements().all(|s| s.verified), "{described}");
        assert!(described.contains(wanted), "{}:\n{described}", network.name);
    }
    // In the matrix form, an element-wise map of the flattened maps is one `vec`.
    let rows = &model.networks[1];
    let derivation = derive(rows, &model.functions);
    let program = tensor::program(rows, &model.functions, &derivation).expect("covered");
    let matrix = chainrule::core::latex::render_matrix(rows, &program, false);
    assert!(
        matrix.contains(
            r"h &= V^{\top} \operatorname{vec}\left(\sigma\left(z^{(1)}\right)\right) + d"
        ),
        "{matrix}"
    );
}

/// A verification point where a derivative does not exist says nothing about a formula: here
/// the gauss underflows to 0 at one of the seeded points, `sqrt(U_mat @ h_out)` is then 0 and
/// its derivative `0.5 / y` infinite, so the reference's delta of `h_out` is 0 or NaN by the
/// order of its products while the statement's is NaN. Such a point is skipped (every delta
/// and gradient of the reference must be finite), and every statement verifies; it did not
/// (the random-network property test's seed 1796603417339521807).
#[test]
fn a_point_where_a_derivative_is_not_finite_verifies_nothing() {
    let text = "fn gauss(z) = exp(-z^2)\nnetwork random {\n    input x[2]\n    target t[2]\n    \
                pre[3] = W @ x + b\n    hidden = pre^3\n    h_out[1] = gauss(hidden @ V + c)\n    \
                y[2] = sqrt(U_mat @ h_out)\n    loss L = mean(softplus(y) - t * y)\n}\n";
    let model = check_source(text).expect("checks");
    let network = &model.networks[0];
    let derivation = derive(network, &model.functions);
    let program = tensor::program(network, &model.functions, &derivation).expect("covered");
    assert!(program.checked_at > 0);
    let described = describe(&program, network);
    assert!(program.statements().all(|s| s.verified), "{described}");
}

/// Networks of three- and four-axis tensors (a convolution with max pooling and a label, a
/// strided convolution with average pooling) against JAX's own `conv_general_dilated` and
/// `reduce_window`, and an Elman recurrence, an LSTM and a GRU against `jax.lax.scan`
/// (tests/oracles/tensors.py wrote tests/oracles/tensors.json): the loss and every gradient element over a batch of
/// three, read through the `--params`/`--data` layouts.
#[test]
fn tensor_and_recurrent_networks_agree_with_jax() {
    use chainrule::core::{eval, point};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracles");
    let text = std::fs::read_to_string(root.join("tensors.nn")).expect("tensors.nn");
    let model = check_source(&text).expect("tensors.nn checks");
    let oracle: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("tensors.json")).expect("tensors.json"),
    )
    .expect("oracle JSON");
    let cases = oracle.as_array().expect("a list of cases");
    assert_eq!(cases.len(), 5);
    for case in cases {
        let name = case["network"].as_str().expect("network");
        let network = model.network(name).expect("the oracle's network");
        let params = point::params(network, Some(&case["params"])).expect("params");
        let samples = point::samples(network, Some(&case["data"])).expect("data");
        assert_eq!(samples.len(), 3, "{name}: a batch of three");
        let derivation = derive(network, &model.functions);
        let result = eval::evaluate_batch(&derivation, network, &params, &samples);
        let want = case["loss"].as_f64().expect("loss");
        assert!(
            (result.loss - want).abs() <= 1e-12 * want.abs().max(1.0),
            "{name}: loss {} vs JAX {want}",
            result.loss
        );
        for (p, got) in network.params.iter().zip(&result.gradient) {
            let mut want = Vec::new();
            flatten(&case["gradient"][&p.name], &mut want);
            assert_eq!(got.len(), want.len(), "{name}: {} elements", p.name);
            for (e, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (g - w).abs() <= 1e-12 * w.abs().max(1.0),
                    "{name}: dL/d{}[{e}] = {g}, JAX {w}",
                    p.name
                );
            }
        }
    }
}

/// A nested JSON array's numbers in row-major order.
fn flatten(value: &serde_json::Value, out: &mut Vec<f64>) {
    match value {
        serde_json::Value::Array(items) => items.iter().for_each(|v| flatten(v, out)),
        v => out.push(v.as_f64().expect("a number")),
    }
}
