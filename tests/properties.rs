//! Property tests over randomly generated networks: the derived gradient agrees with central
//! finite differences of an independent interpreter, and the derivation's graph stays linear
//! in the number of parameters.

mod support;

use chainrule::core::check_source;
use chainrule::core::derive::derive;
use chainrule::core::latex::indexed::IndexPrinter;
use proptest::prelude::*;

/// One random layer: output size, convention, bias, activation, and whether the
/// pre-activation gets its own name.
#[derive(Clone, Debug)]
struct Layer {
    size: usize,
    row_vector: bool,
    bias: bool,
    activation: &'static str,
    named_pre: bool,
}

const ACTIVATIONS: [&str; 15] = [
    "sigmoid",
    "tanh",
    "relu",
    "linear",
    "sin",
    "cos",
    "softplus",
    "swish",
    "scaled",
    "abs",
    "erf",
    "leaky",
    "clip",
    "softmax",
    "log_softmax",
];
const LOSSES: [&str; 7] = [
    "0.5 * sum((t - y)^2)",
    "mean((y - t)^2)",
    "sum(abs(y - t))",
    "-sum(t * log(sigmoid(y)) + (1 - t) * log(1 - sigmoid(y)))",
    "-sum(t * log_softmax(y))",
    "-sum(t * log(softmax(y)))",
    "logsumexp(y) - sum(t * y)",
];
/// Regularizers of the first weight matrix (a matrix in element-wise expressions).
const PENALTIES: [&str; 3] = [
    "",
    " + 0.01 * sum(W0^2)",
    " + 0.001 * sum(abs(W0)) + 0.1 * mean(W0 * W0)",
];

fn layer() -> impl Strategy<Value = Layer> {
    (
        1usize..=4,
        any::<bool>(),
        any::<bool>(),
        0usize..ACTIVATIONS.len(),
        any::<bool>(),
    )
        .prop_map(|(size, row_vector, bias, a, named_pre)| Layer {
            // A softmax of one unit is the constant 1: with a one-hot target and `abs`, every
            // point sits on the kink and no finite difference is usable.
            size: if ACTIVATIONS[a].contains("softmax") {
                size.max(2)
            } else {
                size
            },
            row_vector,
            bias,
            activation: ACTIVATIONS[a],
            named_pre,
        })
}

/// The random network's text. `onehot` declares the target one-hot (the cross-entropy
/// deltas then simplify to `p - t`, and the points draw one-hot targets).
fn network_text(
    input: usize,
    layers: &[Layer],
    loss: usize,
    batch_sum: bool,
    penalty: usize,
    onehot: bool,
) -> String {
    let mut text =
        String::from("fn swish(z) = z * sigmoid(z)\nfn scaled(z, s) = s * tanh(z / s)\n");
    // The third round's two-argument built-ins: a leaky relu, and a clip at pi / 4.
    text.push_str("fn leaky(z) = maximum(0.01 * z, z)\n");
    text.push_str("network random {\n");
    text.push_str(&format!("    input x[{input}]\n"));
    let out = layers.last().map_or(input, |l| l.size);
    let kind = if onehot { " onehot" } else { "" };
    text.push_str(&format!("    target t[{out}]{kind}\n"));
    let mut previous = "x".to_string();
    for (i, l) in layers.iter().enumerate() {
        let product = if l.row_vector {
            format!("{previous} @ W{i}")
        } else {
            format!("W{i} @ {previous}")
        };
        let pre = if l.bias {
            format!("{product} + b{i}")
        } else {
            product
        };
        let activate = |arg: &str| match l.activation {
            "scaled" => format!("scaled({arg}, 2)"),
            "clip" => format!("minimum({arg}, pi / 4)"),
            f => format!("{f}({arg})"),
        };
        let name = if i + 1 == layers.len() {
            "y".to_string()
        } else {
            format!("a{i}")
        };
        if l.named_pre {
            text.push_str(&format!("    z{i}[{}] = {pre}\n", l.size));
            text.push_str(&format!("    {name} = {}\n", activate(&format!("z{i}"))));
        } else {
            text.push_str(&format!("    {name}[{}] = {}\n", l.size, activate(&pre)));
        }
        previous = name;
    }
    text.push_str(&format!(
        "    loss L = {}{}\n",
        LOSSES[loss], PENALTIES[penalty]
    ));
    if batch_sum {
        text.push_str("    batch sum\n");
    }
    text.push_str("}\n");
    text
}

proptest! {
    #![proptest_config(support::proptest_config(96))]

    #[test]
    fn gradients_match_finite_differences(
        input in 1usize..=3,
        layers in prop::collection::vec(layer(), 1..=4),
        loss in 0usize..LOSSES.len(),
        batch_sum in any::<bool>(),
        penalty in 0usize..PENALTIES.len(),
        onehot in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let text = network_text(input, &layers, loss, batch_sum, penalty, onehot);
        let model = check_source(&text).map_err(|e| TestCaseError::fail(format!("{text}\n{e:?}")))?;
        let network = &model.networks[0];
        let checked = support::check_gradients(&model, network, &text, seed).map_err(|e| TestCaseError::fail(format!("{text}\n{e}")))?;
        // Kinks can make a point unusable, but not all twelve of them.
        prop_assert!(checked > 0, "no usable point for\n{}", text);
    }
}

/// `layers` fully connected tanh layers of `width` units after `width` inputs.
fn dense(width: usize, layers: usize) -> String {
    let mut text = format!("network dense {{\n    input x[{width}]\n    target t[{width}]\n");
    let mut previous = "x".to_string();
    for i in 0..layers {
        text.push_str(&format!(
            "    z{i}[{width}] = W{i} @ {previous} + b{i}\n    a{i} = tanh(z{i})\n"
        ));
        previous = format!("a{i}");
    }
    text.push_str(&format!("    loss L = 0.5 * sum(({previous} - t)^2)\n}}\n"));
    text
}

/// The gradient graph grows with the parameters, not with the paths: a deep narrow network
/// has about 6^12 paths from the loss to a first-layer weight.
#[test]
fn graph_size_is_linear_in_parameters() {
    for (width, layers) in [(6, 12), (64, 2), (3, 40)] {
        let text = dense(width, layers);
        let model = check_source(&text).expect("dense network checks");
        let network = &model.networks[0];
        let mut derivation = derive(network, &model.functions);
        let params = network.param_count();
        let nodes = derivation.node_count();
        assert!(
            nodes <= 8 * params + 64,
            "{width}x{layers}: {nodes} nodes for {params} parameters"
        );
        // The closed forms of every gradient, expanded with one shared memo, stay linear too.
        let mut memo = std::collections::HashMap::new();
        let gradients: Vec<_> = derivation.gradients.iter().map(|(_, g)| *g).collect();
        for g in gradients {
            derivation.closed_form(g, &mut memo);
        }
        let expanded = derivation.node_count();
        assert!(
            expanded <= 16 * params + 128,
            "{width}x{layers}: {expanded} nodes after closed forms for {params} parameters"
        );
    }
}

/// Where `grad` goes in a random network: in the loss (double backpropagation), in a named
/// vector with respect to the input, or with respect to a hidden vector.
const GRAD_USES: [&str; 3] = ["loss", "vector", "hidden"];

/// A random network of `network_text` with a `grad` added where `usage` says.
fn grad_network_text(input: usize, layers: &[Layer], loss: usize, usage: &str) -> String {
    let text = network_text(input, layers, loss, false, 0, false);
    let (head, tail) = text.split_at(text.find("    loss L = ").unwrap_or(text.len()));
    let (vector, extra) = match usage {
        "loss" => (String::new(), " + 0.1 * sum(grad(sum(y), x)^2)".to_string()),
        "vector" => (
            format!("    gx[{input}] = grad(sum(y * y), x)\n"),
            " + sum(gx * x)".to_string(),
        ),
        _ => {
            // With respect to the first hidden vector, when there is one.
            let hidden = if layers.len() > 1 { "a0" } else { "x" };
            let n = if layers.len() > 1 {
                layers[0].size
            } else {
                input
            };
            (
                format!("    gh[{n}] = grad(sum(tanh(y)), {hidden})\n"),
                " + 0.5 * sum(gh^2)".to_string(),
            )
        }
    };
    let tail = tail.replacen('\n', &format!("{extra}\n"), 1);
    format!("{head}{vector}{tail}")
}

proptest! {
    #![proptest_config(support::proptest_config(32))]

    /// Second derivatives: the derived gradient of a loss that holds `grad` agrees with
    /// differences of differences of the reference interpreter (which computes `grad` by its
    /// own five-point differences, never from the IR).
    #[test]
    fn grad_gradients_match_nested_differences(
        input in 1usize..=3,
        layers in prop::collection::vec(layer(), 1..=3),
        loss in 0usize..2,
        usage in 0usize..GRAD_USES.len(),
        seed in any::<u64>(),
    ) {
        let text = grad_network_text(input, &layers, loss, GRAD_USES[usage]);
        let model = check_source(&text).map_err(|e| TestCaseError::fail(format!("{text}\n{e:?}")))?;
        let network = &model.networks[0];
        let checked = support::check_gradients(&model, network, &text, seed).map_err(|e| TestCaseError::fail(format!("{text}\n{e}")))?;
        prop_assert!(checked > 0, "no usable point for\n{}", text);
    }
}

/// LANGUAGE.md's Hamiltonian network made deep and narrow: `layers` tanh layers of `width`.
fn deep_hamiltonian(width: usize, layers: usize) -> String {
    let mut text = String::from(
        "network hnn {\n    input q[1]\n    input p[1]\n    target dq[1]\n    target dp[1]\n",
    );
    text.push_str(&format!("    h0[{width}] = tanh(Wq @ q + Wp @ p + b0)\n"));
    for i in 1..layers {
        text.push_str(&format!(
            "    h{i}[{width}] = tanh(W{i} @ h{} + b{i})\n",
            i - 1
        ));
    }
    text.push_str(&format!("    H[1] = V @ h{}\n", layers - 1));
    text.push_str("    loss L = sum((grad(H[0], p) - dq)^2) + sum((grad(H[0], q) + dp)^2)\n}\n");
    text
}

/// The inner derivative is one reverse sweep and the outer one differentiates through it:
/// a second-order loss still has a graph linear in the parameters (no path enumeration,
/// no per-parameter copy of the inner sweep).
#[test]
fn second_order_graph_is_linear_in_parameters() {
    for (width, layers) in [(16, 8), (4, 32), (48, 2)] {
        let text = deep_hamiltonian(width, layers);
        let model = check_source(&text).expect("deep Hamiltonian network checks");
        let network = &model.networks[0];
        let derivation = derive(network, &model.functions);
        let params = network.param_count();
        let nodes = derivation.node_count();
        eprintln!("{width}x{layers}: {nodes} nodes for {params} parameters");
        assert!(
            nodes <= 16 * params + 256,
            "{width}x{layers}: {nodes} nodes for {params} parameters"
        );
    }
}

/// A tensor network's gradient against the reference interpreter's finite differences (at a
/// usable point at least), and every statement of its tensor level verified element by element.
fn gradients_and_statements_hold(text: &str, seed: u64) -> Result<(), TestCaseError> {
    let fail = |e: String| TestCaseError::fail(format!("{text}\n{e}"));
    let model = check_source(text).map_err(|e| fail(format!("{e:?}")))?;
    let network = &model.networks[0];
    let checked = support::check_gradients(&model, network, text, seed).map_err(fail)?;
    prop_assert!(checked > 0, "no usable point for\n{}", text);
    let derivation = derive(network, &model.functions);
    let program = chainrule::core::tensor::program(network, &model.functions, &derivation)
        .map_err(|e| fail(format!("{e:?}")))?;
    prop_assert!(
        program.statements().all(|s| s.verified),
        "unverified statement in\n{}",
        text
    );
    Ok(())
}

/// The cells of the random recurrences: their definitions over `t` with state `h` (width
/// `H`, input `x[t]` of width `D`), each reading the previous state `h[t - 1]`.
const CELLS: [&str; 4] = [
    // Elman.
    "    h[t][H] = tanh(W @ h[t - 1] + U @ x[t] + b)\n",
    // A GRU (Cho et al. 2014).
    "    z[t][H] = sigmoid(Wz @ h[t - 1] + Uz @ x[t] + bz)
    r[t][H] = sigmoid(Wr @ h[t - 1] + Ur @ x[t] + br)
    n[t][H] = tanh(Wn @ (r[t] * h[t - 1]) + Un @ x[t] + bn)
    h[t][H] = (1 - z[t]) * n[t] + z[t] * h[t - 1]\n",
    // An LSTM.
    "    f[t][H] = sigmoid(Wf @ h[t - 1] + Uf @ x[t] + bf)
    i[t][H] = sigmoid(Wi @ h[t - 1] + Ui @ x[t] + bi)
    g[t][H] = tanh(Wg @ h[t - 1] + Ug @ x[t] + bg)
    o[t][H] = sigmoid(Wo @ h[t - 1] + Uo @ x[t] + bo)
    c[t][H] = f[t] * c[t - 1] + i[t] * g[t]
    h[t][H] = o[t] * tanh(c[t])\n",
    // Two states a step apart, in index notation throughout, the second two steps back.
    "    param A[H][H]
    param B[H][D]
    a[t][k] = tanh(sum(j, A[k][j] * h[t - 1][j]) + sum(d, B[k][d] * x[t][d]))
    h[t][k] = sigmoid(a[t][k] + 0.5 * h[t - 2][k])\n",
];

/// A recurrent network of `cell` over `steps` steps, its loss on every step's output or on
/// the last step's only.
fn recurrent_text(
    cell: usize,
    steps: usize,
    input: usize,
    width: usize,
    last_only: bool,
) -> String {
    let mut text = format!("network random_cell {{\n    input x[{steps}][{input}]\n");
    let body = CELLS[cell]
        .replace("[H]", &format!("[{width}]"))
        .replace("[D]", &format!("[{input}]"));
    text.push_str(&body);
    if last_only {
        text.push_str(&format!(
            "    target y[2]\n    p = V @ h[{}] + e\n    loss L = 0.5 * sum((p - y)^2)\n",
            steps - 1
        ));
    } else {
        text.push_str(&format!(
            "    target y[{steps}]\n    q[t] = sum(j, v[j] * h[t][j])\n    loss L = 0.5 * sum((q - y)^2)\n"
        ));
    }
    text.push_str("}\n");
    text
}

proptest! {
    #![proptest_config(support::proptest_config(48))]

    /// Backpropagation through time over random cells, lengths and widths: the gradient agrees
    /// with finite differences of the reference interpreter (which runs the steps on its own),
    /// and every tensor-level statement reproduces the scalar derivation element by element.
    #[test]
    fn recurrent_gradients_match_finite_differences(
        cell in 0usize..CELLS.len(),
        steps in 1usize..=5,
        input in 1usize..=3,
        width in 1usize..=3,
        last_only in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let text = recurrent_text(cell, steps, input, width, last_only);
        gradients_and_statements_hold(&text, seed)?;
    }
}

/// The derivation of a recurrence is one statement per definition, whatever the number of
/// steps: an LSTM over 7 steps and over 61 has the same statements, which differ only in the
/// number of steps they name.
#[test]
fn recurrent_statements_do_not_grow_with_steps() {
    let lines = |steps: usize| {
        let text = recurrent_text(2, steps, 2, 3, false);
        let model = check_source(&text).expect("the LSTM checks");
        let network = &model.networks[0];
        let derivation = derive(network, &model.functions);
        let program = chainrule::core::tensor::program(network, &model.functions, &derivation)
            .expect("covered");
        let printer = IndexPrinter::new(&program, network, "L".into());
        assert!(program.statements().all(|s| s.verified));
        program
            .statements()
            .map(|s| printer.line(s))
            .collect::<Vec<_>>()
    };
    let (short, long) = (lines(7), lines(61));
    assert!(
        short.len() >= 6 + 6 + 13,
        "values, deltas and gradients: {short:?}"
    );
    let long: Vec<String> = long.iter().map(|l| l.replace("61", "7")).collect();
    assert_eq!(short, long);
}

/// A random convolutional network: `channels` input maps of `height` x `width`, padded by
/// `padding`, `filters` kernels of `kernel` x `kernel` at stride `stride`, a bias per filter,
/// tanh, then max or average pooling of 2 (where the maps are large enough) or none, and the
/// squared error against a target of the resulting shape.
fn conv_text(
    (channels, filters): (usize, usize),
    (height, width): (usize, usize),
    (kernel, stride, padding): (usize, usize, usize),
    pooling: usize,
) -> Option<String> {
    let out = |n: usize| {
        (n + 2 * padding)
            .checked_sub(kernel)
            .map(|r| r / stride + 1)
    };
    let (rows, cols) = (out(height)?, out(width)?);
    let mut text = format!(
        "network random_conv {{\n    input  x[{channels}][{height}][{width}]\n    param  K[{filters}][{channels}][{kernel}][{kernel}]\n"
    );
    let input = if padding > 0 {
        text.push_str(&format!("    xp = pad(x, {padding})\n"));
        "xp"
    } else {
        "x"
    };
    text.push_str(&format!(
        "    y = conv2d({input}, K, {stride})\n    z[f][i][j] = y[f][i][j] + b[f]\n"
    ));
    text.push_str("    a = tanh(z)\n");
    // Padding makes whole windows of equal values (tanh of the bias alone), where a maximum
    // has no derivative: a padded network pools by the mean.
    let pooling = if padding > 0 && pooling == 1 {
        2
    } else {
        pooling
    };
    let pooled = [("", 1), ("maxpool2d", 2), ("avgpool2d", 2)][pooling];
    let (last, rows, cols) = match pooled {
        (function, 2) if rows >= 2 && cols >= 2 => {
            text.push_str(&format!("    m = {function}(a, 2)\n"));
            ("m", rows / 2, cols / 2)
        }
        _ => ("a", rows, cols),
    };
    text.push_str(&format!(
        "    target t[{filters}][{rows}][{cols}]\n    loss L = 0.5 * sum(({last} - t)^2)\n}}\n"
    ));
    Some(text)
}

proptest! {
    #![proptest_config(support::proptest_config(48))]

    /// Convolutions over random shapes, strides, paddings and channel counts, with and without
    /// pooling (windows and strides that do not divide the size drop the last partial one):
    /// the gradient agrees with finite differences of the reference interpreter, which computes
    /// convolution and pooling directly, and every tensor statement (the flipped kernel with
    /// its ranges, the pooling routes) reproduces the scalar derivation element by element.
    #[test]
    fn convolution_gradients_match_finite_differences(
        maps in (1usize..=2, 1usize..=3),
        size in (2usize..=7, 2usize..=7),
        window in (1usize..=3, 1usize..=2, 0usize..=1),
        pooling in 0usize..3,
        seed in any::<u64>(),
    ) {
        let Some(text) = conv_text(maps, size, window, pooling) else {
            return Ok(()); // a kernel larger than the padded image: an error of its own
        };
        gradients_and_statements_hold(&text, seed)?;
    }
}
