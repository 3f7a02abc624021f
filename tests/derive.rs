//! `chainrule::derive!` as a user writes it: inline networks, files, `network =`, `float = f32`,
//! and every item of ../shared/spec/RUST_API.md, checked against the seeds' numbers.

use chainrule::ndarray::{Array2, ArrayD, IxDyn};

chainrule::derive! {
    // 2 inputs -> 3 sigmoid units -> 2 linear outputs, half sum of squared errors.
    network seed004 {
        input  x[2]
        target t[2]
        z1[3] = W1 @ x          // W1 is inferred as 3x2
        a1    = sigmoid(z1)
        y[2]  = W2 @ a1
        loss L = 0.5 * sum((t - y)^2)
    }
}

mod from_file {
    chainrule::derive!(file = "examples/nets/seed001_torch_batch.nn");
    chainrule::derive!(
        file = "examples/nets/seed000_chain_rule.nn",
        network = chain_rule
    );
}

mod single {
    chainrule::derive!(float = f32, file = "examples/nets/seed004.nn");
}

fn seed004_params() -> seed004::Params {
    seed004::Params {
        W1: [
            [0.97007005, 0.61840113],
            [0.92420913, 0.97500156],
            [0.72183716, 0.53289514],
        ],
        W2: [
            [0.85264027, 0.97336448, 0.51301245],
            [0.2620828, 0.97489056, 0.90059674],
        ],
    }
}

#[test]
fn forward_reproduces_seed004_printed_activations() {
    let f = seed004::forward(&seed004_params(), &[1.0, 3.0]);
    for (got, want) in f.z1.iter().zip([2.82527343, 3.8492138, 2.32052258]) {
        assert!((got - want).abs() < 1e-7, "{got} vs {want}");
    }
    for (got, want) in f.a1.iter().zip([0.94402637, 0.97914761, 0.91056251]) {
        assert!((got - want).abs() < 1e-7, "{got} vs {want}");
    }
    assert_eq!(f.x, [1.0, 3.0]);
    assert!(f.L.is_nan(), "forward has no targets, so no loss");
    let e = seed004::evaluate(&seed004_params(), &[1.0, 3.0], &[4.0, 1.0]);
    let y = e.y;
    assert!((e.L - 0.5 * ((4.0 - y[0]).powi(2) + (1.0 - y[1]).powi(2))).abs() < 1e-12);
    assert_eq!(
        seed004::loss(&seed004_params(), &[1.0, 3.0], &[4.0, 1.0]),
        e.L
    );
}

/// The delta of the output layer is y - t (seed 004 wrote t - y): check the gradient of
/// W2 against the hand formula delta_i * a_j, with the right sign.
#[test]
#[allow(clippy::needless_range_loop)] // the indices are the formula's i, j, k
fn gradient_is_the_hand_formula_with_the_right_sign() {
    let p = seed004_params();
    let (x, t) = ([1.0, 3.0], [4.0, 1.0]);
    let (loss, g) = seed004::gradient(&p, &x, &t);
    let f = seed004::evaluate(&p, &x, &t);
    assert_eq!(loss, f.L);
    for i in 0..2 {
        for j in 0..3 {
            let hand = (f.y[i] - t[i]) * f.a1[j];
            assert!((g.W2[i][j] - hand).abs() < 1e-12);
        }
    }
    for k in 0..3 {
        let delta: f64 =
            (0..2).map(|i| (f.y[i] - t[i]) * p.W2[i][k]).sum::<f64>() * f.a1[k] * (1.0 - f.a1[k]);
        for j in 0..2 {
            assert!((g.W1[k][j] - delta * x[j]).abs() < 1e-12);
        }
    }
}

#[test]
fn sgd_step_moves_against_the_gradient() {
    let mut p = seed004_params();
    let before = p;
    let (x, t) = ([1.0, 3.0], [4.0, 1.0]);
    let (_, g) = seed004::gradient(&p, &x, &t);
    let loss = seed004::sgd_step(&mut p, &x, &t, 0.01);
    assert_eq!(loss, seed004::loss(&before, &x, &t));
    assert!((p.W1[2][1] - (before.W1[2][1] - 0.01 * g.W1[2][1])).abs() < 1e-15);
    assert!(
        seed004::loss(&p, &x, &t) < loss,
        "one small step lowers the loss"
    );
}

#[test]
fn file_networks_reproduce_pytorch_and_seed000() {
    use from_file::torch_batch;
    // Params::default() holds the file's declared values.
    let p = torch_batch::Params::default();
    assert_eq!(p.W1, [[1.0, 0.0], [2.0, 3.0]]);
    let x = Array2::from_shape_vec((2, 2), vec![-1.0, 2.0, -3.0, 4.0]).expect("shape");
    let t = Array2::from_shape_vec((2, 2), vec![-6.0, 8.0, -2.0, 4.0]).expect("shape");
    let (loss, g) = torch_batch::gradient_batch(&p, x.view(), t.view()).expect("shapes fit");
    assert_eq!(loss, 2655.0);
    assert_eq!(g.W1, [[-1422.0, 2150.0], [-1414.0, 2100.0]]);
    assert_eq!(g.b1, [728.0, 686.0]);
    assert_eq!(g.W2, [[70.0, 126.0], [190.0, 496.0]]);
    assert_eq!(g.b2, [28.0, 98.0]);

    let mut p = from_file::chain_rule::Params::default();
    from_file::chain_rule::sgd_step(&mut p, &[1.0, 1.0], &[0.0], 1.0);
    assert!((p.W1[0][0] - 0.03748860333147175).abs() < 1e-6);
    assert!((p.b2[0] - 0.6052061234525776).abs() < 1e-6);
}

#[test]
fn gradient_batch_rejects_wrong_shapes() {
    let p = from_file::torch_batch::Params::default();
    let x = Array2::<f64>::zeros((2, 3));
    let t = Array2::<f64>::zeros((2, 2));
    let e = from_file::torch_batch::gradient_batch(&p, x.view(), t.view()).expect_err("3 columns");
    assert_eq!(e.name, "x");
    let x = Array2::<f64>::zeros((2, 2));
    let t = Array2::<f64>::zeros((3, 2));
    assert!(from_file::torch_batch::gradient_batch(&p, x.view(), t.view()).is_err());
    let empty = Array2::<f64>::zeros((0, 2));
    assert!(from_file::torch_batch::gradient_batch(&p, empty.view(), empty.view()).is_err());
}

#[test]
fn ndarray_exchange_round_trips() {
    let p = seed004_params();
    let arrays = p.to_ndarray();
    assert_eq!(arrays["W1"].shape(), &[3, 2]);
    assert_eq!(arrays["W2"][[1, 2]], 0.90059674);
    assert_eq!(
        seed004::Params::from_ndarray(&arrays).expect("round trip"),
        p
    );
    let mut wrong = arrays.clone();
    wrong.insert("W1".into(), ArrayD::zeros(IxDyn(&[2, 3])));
    assert!(seed004::Params::from_ndarray(&wrong).is_err());
    let mut unknown = arrays;
    unknown.insert("W9".into(), ArrayD::zeros(IxDyn(&[1])));
    assert!(seed004::Params::from_ndarray(&unknown).is_err());
    assert_eq!(seed004::Params::zeros().flat(), [0.0; 12]);
    assert_eq!(
        seed004::Params::default(),
        seed004::Params::zeros(),
        "no declared values inline"
    );
}

#[test]
fn f32_code_agrees_with_f64() {
    let p64 = seed004_params();
    let p32 = single::seed004::Params::default();
    let (l64, g64) = seed004::gradient(&p64, &[1.0, 3.0], &[4.0, 1.0]);
    let (l32, g32) = single::seed004::gradient(&p32, &[1.0, 3.0], &[4.0, 1.0]);
    assert!((l64 - f64::from(l32)).abs() < 1e-4 * l64.abs());
    for (a, b) in g64.flat().iter().zip(g32.flat()) {
        assert!(
            (a - f64::from(b)).abs() < 1e-4 * a.abs().max(1.0),
            "{a} vs {b}"
        );
    }
}

#[test]
fn compare_gradient_names_a_sign_flip_and_a_factor() {
    let p = seed004_params();
    let (x, t) = ([1.0, 3.0], [4.0, 1.0]);
    // Seed 004's mistake: delta = t - y instead of y - t.
    let flipped = |p: &seed004::Params, x: &[f64; 2], t: &[f64; 2]| {
        let (loss, mut g) = seed004::gradient(p, x, t);
        g.W2.iter_mut().flatten().for_each(|v| *v = -*v);
        (loss, g)
    };
    let report = seed004::compare_gradient(flipped, &p, &x, &t, 1e-9);
    assert_eq!(report.differences.len(), 6);
    assert_eq!(report.differences[0].name, "W2[0][0]");
    assert_eq!(report.relation, chainrule::Relation::SignFlip);
    let doubled = |p: &seed004::Params, x: &[f64; 2], t: &[f64; 2]| {
        let (loss, mut g) = seed004::gradient(p, x, t);
        g.W1.iter_mut().flatten().for_each(|v| *v *= 2.0);
        g.W2.iter_mut().flatten().for_each(|v| *v *= 2.0);
        (loss, g)
    };
    let report = seed004::compare_gradient(doubled, &p, &x, &t, 1e-9);
    assert_eq!(report.relation, chainrule::Relation::ConstantFactor(2.0));
    assert!(report.to_string().contains("times 2"));
    let same = seed004::compare_gradient(seed004::gradient, &p, &x, &t, 1e-12);
    assert!(same.is_match(), "{same}");
}

#[test]
fn latex_constant_is_the_derivation() {
    assert!(seed004::LATEX.starts_with("\\begin{align*}"));
    assert!(seed004::LATEX.contains("\\delta_{z^{(1)}_{0}}"));
    assert_eq!(seed004::PARAMS, 12);
    assert_eq!(seed004::DATA, 4);
}

#[test]
fn sgd_step_batch_matches_pytorch_step() {
    let mut p = from_file::torch_batch::Params::default();
    let x = Array2::from_shape_vec((2, 2), vec![-1.0, 2.0, -3.0, 4.0]).expect("shape");
    let t = Array2::from_shape_vec((2, 2), vec![-6.0, 8.0, -2.0, 4.0]).expect("shape");
    let loss = from_file::torch_batch::sgd_step_batch(&mut p, x.view(), t.view(), 0.1)
        .expect("shapes fit");
    assert_eq!(loss, 2655.0);
    // PyTorch printed the updated input-to-hidden weights [[143.2, -215.0], [143.4, -207.0]].
    for (got, want) in p.W1.iter().flatten().zip([143.2, -215.0, 143.4, -207.0]) {
        assert!((got - want).abs() < 1e-9, "{got} vs {want}");
    }
}

chainrule::derive! {
    // maximum and minimum of operands that tie when a == b: the derivative goes to the
    // first operand (LANGUAGE.md: "of `maximum(a, b)` to `a` where `a >= b`").
    network tie {
        input  a[2]
        input  b[2]
        m[2] = maximum(W @ a, W @ b)
        n[2] = minimum(V @ a, V @ b)
        loss L = sum(m) + 2 * sum(n)
    }
}

/// At a tie each weight's gradient is counted once, through the first operand: dL/dW[i][j]
/// is a[j] (not 0, not 2 a[j]), in the per-sample code, the batch code and the evaluator.
#[test]
#[allow(clippy::needless_range_loop)] // the indices are the formula's i, j
fn maximum_and_minimum_at_a_tie_differentiate_the_first_operand() {
    let p = tie::Params {
        W: [[0.5, -1.0], [2.0, 0.25]],
        V: [[-0.75, 1.5], [1.0, 1.0]],
    };
    let a = [0.5, -2.0];
    let (_, g) = tie::gradient(&p, &a, &a);
    for i in 0..2 {
        for j in 0..2 {
            assert_eq!(g.W[i][j], a[j], "dL/dW[{i}][{j}]");
            assert_eq!(g.V[i][j], 2.0 * a[j], "dL/dV[{i}][{j}]");
        }
    }
    let rows = Array2::from_shape_vec((2, 2), vec![0.5, -2.0, 0.5, -2.0]).expect("shape");
    let (_, batch) = tie::gradient_batch(&p, rows.view(), rows.view()).expect("shapes fit");
    assert_eq!(batch.W, g.W);
    assert_eq!(batch.V, g.V);

    let source = "network tie {\n input a[2]\n input b[2]\n m[2] = maximum(W @ a, W @ b)\n \
                  n[2] = minimum(V @ a, V @ b)\n loss L = sum(m) + 2 * sum(n)\n}";
    let model = chainrule::core::check_source(source).expect("checks");
    let network = &model.networks[0];
    let derivation = chainrule::core::derive::derive(network, &model.functions);
    let sample = chainrule::core::eval::Sample {
        inputs: vec![a.to_vec(), a.to_vec()],
        targets: vec![],
    };
    let params = vec![p.W.concat(), p.V.concat()];
    let result = chainrule::core::eval::evaluate_batch(
        &derivation,
        network,
        &params,
        std::slice::from_ref(&sample),
    );
    assert_eq!(result.gradient, vec![g.W.concat(), g.V.concat()]);
}
