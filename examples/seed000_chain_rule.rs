//! Seed 000 ("Chain Rule"): a 2 -> 3 sigmoid -> 1 linear network with biases and MSE
//! (`examples/nets/seed000_chain_rule.nn`), one sample x = [1, 1], y = [0], one gradient step
//! with learning rate 1.
//!
//! Prints the forward values and the loss, then every weight after the step next to the value
//! the seed's chain-rule cells (In [10] to In [23]) printed for it: 0.03748860333147175 for
//! W1[0][0], ..., 0.6052061234525776 for b2[0].
//!
//! The seed's `feed_forward` wrote the sigmoid as `1/1+np.exp(-x)`, which is `1 + e^-x`, so the
//! loss it printed (1.0229782093232396) and the finite-difference update of its In [6] belong
//! to that other function. This example prints the correct loss, and recomputes the seed's
//! loss with the bug to show that the bug alone explains the printed number.
//!
//! Run with `cargo run --release --example seed000_chain_rule`.

chainrule::derive!(file = "examples/nets/seed000_chain_rule.nn");

use chain_rule::Params;

const X: [f64; 2] = [1.0, 1.0];
const Y: [f64; 1] = [0.0];
const LR: f64 = 1.0;

/// What the seed's cells In [10] to In [23] printed as the updated weight, in `Params::flat`
/// order (W1 row by row, b1, W2, b2).
const SEED_CHAIN_RULE: [f64; 13] = [
    0.03748860333147175,
    -0.6289373468565382,
    -0.304951263947996,
    0.42208860145914084,
    -0.5673373173880019,
    0.15694874675699821,
    0.028788602743620932,
    0.5137626696420274,
    -0.0954512566166247,
    0.8342055621416937,
    0.2509642654210383,
    0.422898309408289,
    0.6052061234525776,
];

fn main() {
    // The seed stores its weights as float32 arrays (`dtype=np.float32`) and computes with
    // them in float64 (they meet the int64 input). Rounding the declared decimals to f32
    // gives the same starting point, so the printed digits can be compared in full.
    let declared = Params::default();
    let mut p = Params::zeros();
    p.set_flat(&declared.flat().map(|v| f64::from(v as f32)));

    let f = chain_rule::evaluate(&p, &X, &Y);
    println!("Forward pass (seed 000, In [7]), x = {X:?}, y = {Y:?}");
    println!("  (weights: the file's values rounded to float32, the seed's dtype)");
    println!("  pre_hidden       {:?}", f.pre);
    println!("  hidden           {:?}", f.hidden);
    println!("  predicted_value  {:?}", f.out);
    println!("  loss (MSE)       {}", f.L);

    let buggy = buggy_feed_forward(&p, &X, &Y);
    println!();
    println!("The seed's feed_forward computes hidden = 1/1 + exp(-pre) = 1 + exp(-pre):");
    println!("  its loss         {buggy}   (the seed printed 1.0229782093232396)");
    println!(
        "  the correct loss is {}; the seed's In [6] update is finite differences of the",
        f.L
    );
    println!("  wrong function, and its chain-rule cells use the right sigmoid, as below.");

    let mut stepped = p;
    let loss = chain_rule::sgd_step(&mut stepped, &X, &Y, LR);
    assert_eq!(loss, f.L);
    println!();
    println!("One gradient step, learning rate {LR}: w <- w - lr * dL/dw");
    println!(
        "  {:<9} {:>12} {:>22} {:>22} {:>9}",
        "weight", "before", "after (chainrule)", "seed's chain rule", "|diff|"
    );
    let mut worst: f64 = 0.0;
    for (((name, before), after), seed) in Params::ELEMENTS
        .iter()
        .zip(p.flat())
        .zip(stepped.flat())
        .zip(SEED_CHAIN_RULE)
    {
        let diff = (after - seed).abs();
        worst = worst.max(diff);
        println!("  {name:<9} {before:>12.8} {after:>22} {seed:>22} {diff:>9.1e}");
    }
    // The seed evaluated its products in a different order; anything past a few ulps would
    // mean a wrong derivative, not rounding.
    if worst > 1e-12 {
        eprintln!("error: an updated weight differs from the seed's by {worst:e}");
        std::process::exit(1);
    }
    println!(
        "  every updated weight matches the seed's chain-rule cells (largest |diff| {worst:.1e})"
    );
    // The seed's learning rate overshoots on this sample: say so rather than let the table
    // suggest the step helped.
    let after = chain_rule::loss(&stepped, &X, &Y);
    println!("  loss after the step: {after} (before: {loss})");
    if after > loss {
        println!("  lr = 1 overshoots here: the step follows the gradient but is too long");
    }
}

/// The seed's `feed_forward`, bug included: `1/1+np.exp(-x)` parses as `(1/1) + e^-x`.
// Written as the seed wrote it; clippy's eq_op flags exactly this mistake.
#[allow(clippy::eq_op)]
fn buggy_feed_forward(p: &Params, x: &[f64; 2], y: &[f64; 1]) -> f64 {
    let mut out = p.b2[0];
    for j in 0..3 {
        let pre = x[0] * p.W1[0][j] + x[1] * p.W1[1][j] + p.b1[j];
        let hidden = 1.0 / 1.0 + (-pre).exp();
        out += hidden * p.W2[j][0];
    }
    (out - y[0]).powi(2)
}
