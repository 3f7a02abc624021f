//! Seed 002: 3 inputs (A) -> 4 sigmoid units (B) -> 1 sigmoid output (C), half squared error,
//! no biases (`examples/nets/seed002.nn`), the first row of the seed's data set
//! (A = [1, 0, 0], y = 1), and its update `W <- W - dL/dW`, `V <- V - dL/dV` (learning rate 1).
//!
//! Prints B, B_act, C_act = 0.79673635 and the loss 0.02065806 as the seed did, then the
//! correct dL/dV and dL/dW from `chainrule::derive!` and the weights after the step.
//!
//! The seed's hand derivation has two mistakes in its factors: `dl_dC_act=C_act=y[0]` takes
//! dl/dC_act as y (1) instead of C_act - y, and dc/dV as the pre-activation B instead of
//! B_act. Its dl/dW also collapses the hidden units into one number (its `np.dot` sums over
//! them), so every weight of W's first row moved by the same 0.0782113. The example writes the
//! seed's formulas as a hand gradient, shows that it reproduces the seed's printed update, and
//! lets `compare_gradient` report the differences; then it fixes only the first mistake to
//! show `compare_gradient` naming the constant factor it introduces.
//!
//! Run with `cargo run --release --example seed002`.

chainrule::derive!(file = "examples/nets/seed002.nn");

use chainrule::Relation;
use seed002::Params;

const A: [f64; 3] = [1.0, 0.0, 0.0];
const Y: [f64; 1] = [1.0];
/// The seed's update has no learning rate: `W=W-dl_dW.T`.
const LR: f64 = 1.0;

fn main() {
    let p = Params::default();
    let f = seed002::evaluate(&p, &A, &Y);
    println!("Forward pass (seed 002), A = {A:?}, y = {Y:?}");
    println!("  B      {}", fmt(&f.B));
    println!("         seed: [1.39501653 0.72739444 1.52188177 -0.27303581]");
    println!("  B_act  {}", fmt(&f.B_act));
    println!("         seed: [0.8013919 0.67423324 0.82081541 0.43216196]");
    println!("  C_act  {}   seed: [0.79673635]", fmt(&f.C_act));
    println!("  L      {:.8}   seed: [0.02065806]", f.L);

    let (_, g) = seed002::gradient(&p, &A, &Y);
    let dl_dv: Vec<f64> = g.V.iter().map(|row| row[0]).collect();
    println!();
    println!("The derived gradient");
    println!("  dL/dV  {}", fmt(&dl_dv));
    println!("  dL/dW");
    for row in &g.W {
        println!("         {}", fmt(row));
    }
    let mut q = p;
    seed002::sgd_step(&mut q, &A, &Y, LR);
    let v_row: Vec<f64> = q.V.iter().map(|row| row[0]).collect();
    println!("  after W <- W - dL/dW, V <- V - dL/dV:");
    println!("  W      {}", fmt(&q.W[0]));
    for row in &q.W[1..] {
        println!("         {}", fmt(row));
    }
    println!("  V      {}", fmt(&v_row));
    println!("  loss {:.8} -> {:.8}", f.L, seed002::loss(&q, &A, &Y));

    let (_, seed) = seed_gradient(&p, &A, &Y);
    let mut seed_w = p.W;
    for (row, grad) in seed_w.iter_mut().zip(seed.W) {
        for (w, d) in row.iter_mut().zip(grad) {
            *w -= LR * d;
        }
    }
    println!();
    println!("The seed's formulas as a hand gradient (dl/dC_act = y, dc/dV = B, dl/dW summed");
    println!("over the hidden units)");
    println!(
        "  its dl/dW for every weight of W's first row: {:.7}   seed: [0.0782113]",
        seed.W[0][0]
    );
    println!("  its W's first row after the update: {}", fmt(&seed_w[0]));
    println!("                                seed: [1.31680524 0.64918314 1.44367047 -0.3512471]");
    println!("  (the file declares the 8 digits the seed printed of W, hence the last digit)");
    let seed_dv: Vec<f64> = seed.V.iter().map(|row| row[0]).collect();
    println!("  its dl/dV at these weights: {}", fmt(&seed_dv));
    println!("  (the seed printed dl_dV = [-0.05089695 -0.01993249 0.3749755 0.05379077] at");
    println!("  In [175], before the cells that define its factors ran: those numbers come from");
    println!("  an earlier state of the notebook and cannot be recomputed from this one)");

    let report = seed002::compare_gradient(seed_gradient, &p, &A, &Y, 1e-9);
    println!();
    println!("compare_gradient(the seed's formulas, derived gradient):");
    println!("{report}");

    let report = seed002::compare_gradient(first_mistake_only, &p, &A, &Y, 1e-9);
    println!();
    println!("compare_gradient(correct formulas except dl/dC_act = y, derived gradient):");
    println!("{report}");
    let expected = 1.0 / (f.C_act[0] - Y[0]);
    match report.relation {
        Relation::ConstantFactor(c) if (c - expected).abs() < 1e-9 * expected.abs() => println!(
            "the factor is y / (C_act - y) = 1 / ({:.8} - 1) = {expected:.8}",
            f.C_act[0]
        ),
        other => {
            eprintln!("error: expected a constant factor {expected}, got {other:?}");
            std::process::exit(1);
        }
    }
}

/// The seed's cells In [196] to In [206], formula for formula.
fn seed_gradient(p: &Params, a: &[f64; 3], y: &[f64; 1]) -> (f64, Params) {
    let f = seed002::evaluate(p, a, y);
    let sigmoid_derivative = |s: f64| s * (1.0 - s);
    // `dl_dC_act=C_act=y[0]`: meant to be C_act - y.
    let dl_dc_act = y[0];
    let dact_c_dc = sigmoid_derivative(f.C_act[0]);
    let mut g = Params::zeros();
    for j in 0..4 {
        // `dl_dV=dl_dC_act*dact_c_dC*B`: the pre-activation B where C reads B_act.
        g.V[j][0] = dl_dc_act * dact_c_dc * f.B[j];
    }
    // `np.dot(np.dot(dl_dC_act, dact_c_dC*dc_dB_act).T, dact_b_dB)`: a dot product over the
    // hidden units, one number for all of them, then spread over W by `[A, A, A, A]`.
    let collapsed: f64 = (0..4)
        .map(|j| dl_dc_act * dact_c_dc * p.V[j][0] * sigmoid_derivative(f.B_act[j]))
        .sum();
    for (i, row) in g.W.iter_mut().enumerate() {
        row.fill(collapsed * a[i]);
    }
    (f.L, g)
}

/// The chain rule done right except for the seed's first factor, dl/dC_act = y.
fn first_mistake_only(p: &Params, a: &[f64; 3], y: &[f64; 1]) -> (f64, Params) {
    let f = seed002::evaluate(p, a, y);
    let sigmoid_derivative = |s: f64| s * (1.0 - s);
    let delta_c = y[0] * sigmoid_derivative(f.C_act[0]);
    let mut g = Params::zeros();
    for j in 0..4 {
        g.V[j][0] = delta_c * f.B_act[j];
        let delta_b = delta_c * p.V[j][0] * sigmoid_derivative(f.B_act[j]);
        for (i, row) in g.W.iter_mut().enumerate() {
            row[j] = delta_b * a[i];
        }
    }
    (f.L, g)
}

fn fmt(v: &[f64]) -> String {
    let cells: Vec<String> = v.iter().map(|x| format!("{:.8}", x + 0.0)).collect();
    format!("[{}]", cells.join(" "))
}
