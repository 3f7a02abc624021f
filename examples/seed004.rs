//! Seed 004's forward pass, backward pass and one gradient-descent step (mu = 0.01) on its
//! 2 -> 3 sigmoid -> 2 linear network (`examples/nets/seed004.nn`), with the gradient derived
//! by `chainrule::derive!`.
//!
//! Prints `z_l1` and `a_l1` as the seed printed them, the `y` and MSE the seed printed (it fed
//! the pre-activation `z_l1` to layer 2) next to the correct ones (layer 2 reads `a_l1`), the
//! seed's `delta_L2` and weight gradients in its own sign convention, and the MSE before and
//! after one step of `W -= mu * dL/dW` (it falls). Last, the seed's own step re-created from
//! its z_l1-fed y, which reproduces every number of its BEFORE/AFTER cell (MSE 21.18238321 ->
//! 17.18395987).
//!
//! Run with `cargo run --release --example seed004`.

chainrule::derive!(file = "examples/nets/seed004.nn");

use seed004::Params;

/// The seed's input and target (`t = np.random.randint(5, size=(2,1))` drew [4, 1]).
const X: [f64; 2] = [1.0, 3.0];
const T: [f64; 2] = [4.0, 1.0];
const MU: f64 = 0.01;

fn main() {
    let p = seed_weights();
    let f = seed004::evaluate(&p, &X, &T);

    println!("Forward pass (seed 004, In [234])");
    println!("  x      {}", fmt_vec(&X));
    print_matrix("  W_l1", &p.W1);
    println!(
        "  z_l1   {}   seed: [2.82527343 3.8492138 2.32052258]",
        fmt_vec(&f.z1)
    );
    println!(
        "  a_l1   {}   seed: [0.94402637 0.97914761 0.91056251]",
        fmt_vec(&f.a1)
    );
    print_matrix("  W_l2", &p.W2);

    // The seed computed `z_l2 = W_l2 @ z_l1`: reproduce that to show where its numbers came
    // from, then use the network's own forward pass, which feeds a_l1 as the diagram says.
    let seed_y = matvec(&p.W2, &f.z1);
    let seed_mse = half_sse(&T, &seed_y);
    println!();
    println!("  the seed's y = W_l2 @ z_l1 (pre-activation, a mistake)");
    println!(
        "    y    {}   seed: [7.34608685 6.58287285]",
        fmt_vec(&seed_y)
    );
    println!("    MSE  {seed_mse:.8}   seed: 21.18238321");
    println!("  the correct y = W_l2 @ a_l1");
    println!("    y    {}", fmt_vec(&f.y));
    println!("    t    {}", fmt_vec(&T));
    println!("    MSE  {:.8}", f.L);

    let (loss, g) = seed004::gradient(&p, &X, &T);
    assert_eq!(loss, f.L);
    // The seed's delta_L2 is t - y, i.e. -dMSE/dy, and its W_grad arrays inherit that sign:
    // print its quantities in its convention so they can be compared cell by cell.
    let delta_l2: Vec<f64> = T.iter().zip(&f.y).map(|(t, y)| t - y).collect();
    println!();
    println!("Backward pass, in the seed's convention (delta = t - y = -dMSE/dy)");
    println!("  delta_L2 {}", fmt_vec(&delta_l2));
    print_matrix("  W_grad of layer 2 = -dMSE/dW_l2", &neg(&g.W2));
    print_matrix("  W_grad of layer 1 = -dMSE/dW_l1", &neg(&g.W1));
    let seed_delta: Vec<f64> = T.iter().zip(&seed_y).map(|(t, y)| t - y).collect();
    println!(
        "  the seed's delta_L2 = t - y of its z_l1-fed y: {}   seed: [-3.34608685 -5.58287285]",
        fmt_vec(&seed_delta)
    );
    // The seed's backward formulas are right; only its y is not. Applied to its y they give
    // exactly the gradients it printed, which is why those differ from the ones above.
    let seed_w2_grad: [[f64; 3]; 2] =
        std::array::from_fn(|i| std::array::from_fn(|j| seed_delta[i] * f.a1[j]));
    let seed_w1_grad: [[f64; 2]; 3] = std::array::from_fn(|k| {
        let delta_l1: f64 = (0..2)
            .map(|i| seed_delta[i] * p.W2[i][k] * f.a1[k] * (1.0 - f.a1[k]))
            .sum();
        X.map(|x| delta_l1 * x)
    });
    print_matrix("  the seed's W_grad of layer 2 from its y", &seed_w2_grad);
    println!(
        "    seed: [[-3.15879422 -3.27631294 -3.04682123] [-5.27037919 -5.4664566 -5.0835547]]"
    );
    print_matrix("  the seed's W_grad of layer 1 from its y", &seed_w1_grad);
    println!(
        "    seed: [[-0.22806964 -0.68420891] [-0.17762574 -0.53287723] [-0.54926157 -1.64778472]]"
    );

    let mut stepped = p;
    let before = seed004::sgd_step(&mut stepped, &X, &T, MU);
    let after = seed004::evaluate(&stepped, &X, &T);
    println!();
    println!("Gradient descent, mu = {MU}: W <- W - mu * dMSE/dW (both layers)");
    print_matrix("  w_l1 new", &stepped.W1);
    print_matrix("  w_l2 new", &stepped.W2);
    println!("  BEFORE  y {}  MSE {before:.8}", fmt_vec(&f.y));
    println!("  AFTER   y {}  MSE {:.8}", fmt_vec(&after.y), after.L);
    if after.L >= before {
        eprintln!("error: one step with mu = {MU} did not lower the MSE");
        std::process::exit(1);
    }
    println!("  the MSE fell by {:.8}", before - after.L);

    // The seed's own step, to account for its BEFORE/AFTER cell: its W_grad arrays are
    // -dMSE/dW of its z_l1-fed network, and the w_l1/w_l2 it printed are W + mu * W_grad for
    // both layers (In [241]'s code reads `W_l2 - mu * W_l2_grad`, but its printed w_l2 new is
    // the + version; the - version would raise its MSE to 24.2467).
    let seed_p = Params {
        W1: std::array::from_fn(|k| std::array::from_fn(|j| p.W1[k][j] + MU * seed_w1_grad[k][j])),
        W2: std::array::from_fn(|i| std::array::from_fn(|j| p.W2[i][j] + MU * seed_w2_grad[i][j])),
    };
    let seed_after_y = matvec(&seed_p.W2, &seed004::forward(&seed_p, &X).z1);
    println!();
    println!("The seed's step (its y from z_l1, W <- W + mu * W_grad):");
    println!(
        "  w_l1 new[0] {}   seed: [0.96778936 0.61155904]",
        fmt_vec(&seed_p.W1[0])
    );
    println!(
        "  w_l2 new[0] {}   seed: [0.82105233 0.94060135 0.48254424]",
        fmt_vec(&seed_p.W2[0])
    );
    println!(
        "  AFTER y {}  MSE {:.8}   seed: [6.9980903 6.03779459], 17.18395987",
        fmt_vec(&seed_after_y),
        half_sse(&T, &seed_after_y)
    );
}

/// The seed printed W_l1 and W_l2 to 8 digits, and the file declares those digits. Its other
/// printed numbers (z_l1 = 2.82527343, not the 2.82527344 the 8-digit weights give) come from
/// the full doubles: these are the 12 consecutive `np.random.rand` draws after
/// `np.random.seed(0)` that round to the printed weights (MT19937 32-bit outputs 59737 on,
/// re-generated outside numpy). Checking them against the file keeps the two in step.
fn seed_weights() -> Params {
    let p = Params {
        W1: [
            [0.97007005140549, 0.6184011265538064],
            [0.9242091321693024, 0.9750015575312788],
            [0.7218371571333473, 0.5328951416429281],
        ],
        W2: [
            [0.8526402676301591, 0.9733644776342232, 0.5130124473899972],
            [0.2620827973665941, 0.9748905639997749, 0.9005967368300349],
        ],
    };
    let declared = Params::default();
    for (full, printed) in p.flat().iter().zip(declared.flat()) {
        assert!(
            (full - printed).abs() <= 5e-9,
            "{full} does not round to {printed}"
        );
    }
    p
}

fn matvec<const R: usize, const C: usize>(m: &[[f64; C]; R], v: &[f64; C]) -> [f64; R] {
    m.map(|row| row.iter().zip(v).map(|(w, x)| w * x).sum())
}

fn half_sse(t: &[f64], y: &[f64]) -> f64 {
    0.5 * t.iter().zip(y).map(|(t, y)| (t - y).powi(2)).sum::<f64>()
}

fn neg<const R: usize, const C: usize>(m: &[[f64; C]; R]) -> [[f64; C]; R] {
    m.map(|row| row.map(|v| -v))
}

fn fmt_vec(v: &[f64]) -> String {
    let cells: Vec<String> = v.iter().map(|x| format!("{x:.8}")).collect();
    format!("[{}]", cells.join(" "))
}

fn print_matrix<const R: usize, const C: usize>(label: &str, m: &[[f64; C]; R]) {
    println!("{label}");
    for row in m {
        println!("    {}", fmt_vec(row));
    }
}
