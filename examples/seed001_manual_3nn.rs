//! Seed 001, "Forward/Stochastic Back Propagation for a 3-NN": 3 inputs (the last a constant
//! 1 for the hidden bias) -> 2 linear units -> 2 linear outputs with a bias, half sum of
//! squared errors (`examples/nets/seed001_manual_3nn.nn`), one step with learning rate 0.1.
//!
//! Prints the hidden layer [3, 4], the outputs [15, 54] and the loss 1278.5 as the seed did,
//! then the weight changes in the seed's layout (hidden->output with the bias as its last row,
//! input->hidden) and the updated weights.
//!
//! The seed's printed changes (-1.93e-06, ...) are wrong: its backward pass multiplies by the
//! sigmoid derivative at each unit's net value, but these units are linear (derivative 1).
//! The example prints the correct changes, re-creates the seed's mistake as a hand-written
//! gradient to show it reproduces the printed numbers, and lets `compare_gradient` report it.
//!
//! Run with `cargo run --release --example seed001_manual_3nn`.

chainrule::derive!(file = "examples/nets/seed001_manual_3nn.nn");

use manual_3nn::Params;

const X: [f64; 3] = [-1.0, 2.0, 1.0];
const T: [f64; 2] = [-6.0, 8.0];
const LR: f64 = 0.1;

fn main() {
    let p = Params::default();
    let f = manual_3nn::evaluate(&p, &X, &T);
    println!("Forward pass (seed 001, 3-NN, linear activations)");
    println!("  inputs                         {X:?}");
    println!("  hidden layer (post activation) {:?}   seed: [3, 4]", f.h);
    println!(
        "  final layer (post activation)  {:?}   seed: [15, 54]",
        f.y
    );
    println!("  the loss is {}   seed: 1278.5", f.L);

    let (_, g) = manual_3nn::gradient(&p, &X, &T);
    let correct = changes(&g);
    let mut updated = p;
    manual_3nn::sgd_step(&mut updated, &X, &T, LR);
    println!();
    println!("Correct changes, lr = {LR}: change = -lr * dL/dw");
    print_seed_layout(
        "  the changes in weights between hidden and output layer",
        &correct.0,
    );
    print_seed_layout(
        "  the updated weights (hidden -> output, bias last)",
        &output_layer(&updated),
    );
    print_seed_layout(
        "  the changes in weights between input and hidden layer",
        &correct.1,
    );
    print_seed_layout("  the updated weights (input -> hidden)", &updated.W1);
    // With errors of 21 and 46 on linear units, lr = 0.1 is far too long a step: show it
    // rather than leave the impression that the update helps.
    let after = manual_3nn::loss(&updated, &X, &T);
    println!("  loss after the step: {after} (before: {})", f.L);
    if after > f.L {
        println!(
            "  lr = {LR} overshoots on this sample: the step follows the gradient but is too long"
        );
    }

    let seed = changes(&seed_backward(&p, &X, &T).1);
    println!();
    println!("The seed's backward pass, re-created: it takes sigmoid'(net) as each unit's");
    println!("derivative although the units are linear (their derivative is 1)");
    print_seed_layout("  its changes between hidden and output layer", &seed.0);
    println!(
        "    seed printed: [[-1.92718344e-06 -0], [-2.56957792e-06 -0], [-6.42394480e-07 -0]]"
    );
    print_seed_layout("  its changes between input and hidden layer", &seed.1);
    println!("    seed printed: [[1.45106184e-07 -0], [-2.90212368e-07 0], [-1.45106184e-07 0]]");

    let report = manual_3nn::compare_gradient(seed_backward, &p, &X, &T, 1e-9);
    println!();
    println!("compare_gradient(seed's backward pass, derived gradient):");
    println!("{report}");
}

/// The seed's `backward`, as the gradient it implies (its change is `lr * ...` added to the
/// weights, so the gradient is `-change / lr`). Kept loop for loop with the notebook,
/// including `derivative(net_value, 'sigmoid')` on linear units.
#[allow(clippy::needless_range_loop)] // the indices are the notebook's k, j, i
fn seed_backward(p: &Params, x: &[f64; 3], t: &[f64; 2]) -> (f64, Params) {
    let f = manual_3nn::evaluate(p, x, t);
    let sigmoid_derivative = |z: f64| {
        let s = 1.0 / (1.0 + (-z).exp());
        s * (1.0 - s)
    };
    let hidden_with_one = [f.h[0], f.h[1], 1.0];
    let w_out = output_layer(p);
    let mut g = Params::zeros();
    let mut delta_k = [0.0; 2];
    for k in 0..2 {
        // The notebook's net value of output k is the linear output itself.
        let net: f64 = (0..3).map(|j| w_out[j][k] * hidden_with_one[j]).sum();
        delta_k[k] = (t[k] - f.y[k]) * sigmoid_derivative(net);
        for j in 0..2 {
            g.W2[j][k] = -delta_k[k] * hidden_with_one[j];
        }
        g.b2[k] = -delta_k[k];
    }
    for j in 0..2 {
        let net: f64 = (0..3).map(|i| p.W1[i][j] * x[i]).sum();
        let required_sum: f64 = (0..2).map(|k| w_out[j][k] * delta_k[k]).sum();
        for i in 0..3 {
            g.W1[i][j] = -sigmoid_derivative(net) * required_sum * x[i];
        }
    }
    (f.L, g)
}

/// The seed's hidden->output matrix: W2 with the output bias appended as a last row.
fn output_layer(p: &Params) -> [[f64; 2]; 3] {
    [p.W2[0], p.W2[1], p.b2]
}

/// `-lr * gradient` in the seed's two matrices: (hidden -> output with bias row, input ->
/// hidden).
fn changes(g: &Params) -> ([[f64; 2]; 3], [[f64; 2]; 3]) {
    let scale = |m: [[f64; 2]; 3]| m.map(|row| row.map(|v| -LR * v));
    (scale(output_layer(g)), scale(g.W1))
}

fn print_seed_layout(label: &str, m: &[[f64; 2]; 3]) {
    println!("{label}");
    for row in m {
        println!("    [{:>16} {:>16}]", number(row[0]), number(row[1]));
    }
}

/// Plain decimals where they read well, numpy-like scientific notation for the seed's tiny
/// changes; `-0` shows as `0` (its sign depends only on the order of the products).
fn number(v: f64) -> String {
    let v = v + 0.0;
    if v == 0.0 || (1e-3..1e6).contains(&v.abs()) {
        format!("{v:.4}")
    } else {
        let s = format!("{v:.8e}");
        let (mantissa, exponent) = s.split_once('e').expect("scientific notation");
        let exponent: i32 = exponent.parse().expect("an integer exponent");
        format!(
            "{mantissa}e{}{:02}",
            if exponent < 0 { '-' } else { '+' },
            exponent.abs()
        )
    }
}
