//! Double backpropagation (LANGUAGE.md's `smooth`): a gradient penalty on the network's input
//! gradient. Two copies of the same small network fit the same noisy samples of a smooth
//! function, one with the plain squared error and one with `0.05 * sum(grad(sum(y), x)^2)`
//! added. The penalty's parameter gradient differentiates the input gradient again (a second
//! derivative), which `chainrule::derive!` writes as straight-line code.
//!
//! Prints each network's fit on the training samples, its error on a clean test grid, and
//! the mean squared input gradient |dy/dx|^2 over that grid: the penalised network must have
//! the smaller one (exit 1 otherwise).
//!
//! Run with `cargo run --release --example double_backprop`.

chainrule::derive! {
    network plain {
        input  x[2]
        target t[1]
        h[12] = tanh(W1 @ x + b1)
        y[1] = W2 @ h
        gx[2] = grad(sum(y), x)         // computed for the report; not in the loss
        loss L = 0.5 * sum((y - t)^2)
    }
    network smooth {
        input  x[2]
        target t[1]
        h[12] = tanh(W1 @ x + b1)
        y[1] = W2 @ h
        gx[2] = grad(sum(y), x)
        loss L = 0.5 * sum((y - t)^2) + 0.05 * sum(gx^2)
    }
}

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const SEED: u64 = 2;
const SAMPLES: usize = 60;
const NOISE: f64 = 0.3;
const EPOCHS: usize = 600;
const LR: f64 = 0.02;

/// The function sampled: smooth, with noise added to the training samples only.
fn target(x: [f64; 2]) -> f64 {
    (1.5 * x[0]).sin() * (0.5 + 0.5 * x[1])
}

fn main() {
    let mut rng = StdRng::seed_from_u64(SEED);
    let uniform = |rng: &mut StdRng| 2.0 * rng.random::<f64>() - 1.0;
    let data: Vec<([f64; 2], f64)> = (0..SAMPLES)
        .map(|_| {
            let x = [uniform(&mut rng), uniform(&mut rng)];
            (x, target(x) + NOISE * uniform(&mut rng))
        })
        .collect();

    // The same starting weights for both networks.
    let mut a = plain::Params::zeros();
    for k in 0..12 {
        for j in 0..2 {
            a.W1[k][j] = 1.5 * uniform(&mut rng);
        }
        a.b1[k] = 0.5 * uniform(&mut rng);
        a.W2[0][k] = 0.5 * uniform(&mut rng);
    }
    let mut b = smooth::Params {
        W1: a.W1,
        b1: a.b1,
        W2: a.W2,
    };

    for _ in 0..EPOCHS {
        for (x, t) in &data {
            plain::sgd_step(&mut a, x, &[*t], LR);
            smooth::sgd_step(&mut b, x, &[*t], LR);
        }
    }

    // A clean test grid: the error against the noiseless function and the input gradient.
    let grid: Vec<[f64; 2]> = (0..21)
        .flat_map(|i| (0..21).map(move |j| [i as f64 / 10.0 - 1.0, j as f64 / 10.0 - 1.0]))
        .collect();
    let report = |name: &str, fit: f64, forward: &dyn Fn([f64; 2]) -> (f64, [f64; 2])| {
        let (mut error, mut slope) = (0.0, 0.0);
        for &x in &grid {
            let (y, g) = forward(x);
            error += (y - target(x)).powi(2);
            slope += g[0] * g[0] + g[1] * g[1];
        }
        let n = grid.len() as f64;
        println!(
            "  {name:<28} training MSE {fit:.4}   test MSE {:.4}   mean |dy/dx|^2 {:.4}",
            error / n,
            slope / n
        );
        slope / n
    };
    let training_mse = |forward: &dyn Fn([f64; 2]) -> f64| {
        data.iter()
            .map(|(x, t)| (forward(*x) - t).powi(2))
            .sum::<f64>()
            / data.len() as f64
    };
    println!(
        "{SAMPLES} noisy samples (noise {NOISE}) of sin(1.5 x0) (0.5 + 0.5 x1), {EPOCHS} epochs of per-sample sgd_step, lr {LR}"
    );
    let plain_slope = report(
        "plain squared error",
        training_mse(&|x| plain::forward(&a, &x).y[0]),
        &|x| {
            let f = plain::forward(&a, &x);
            (f.y[0], f.gx)
        },
    );
    let smooth_slope = report(
        "with the gradient penalty",
        training_mse(&|x| smooth::forward(&b, &x).y[0]),
        &|x| {
            let f = smooth::forward(&b, &x);
            (f.y[0], f.gx)
        },
    );
    let true_slope = grid
        .iter()
        .map(|x| {
            let d0 = 1.5 * (1.5 * x[0]).cos() * (0.5 + 0.5 * x[1]);
            let d1 = 0.5 * (1.5 * x[0]).sin();
            d0 * d0 + d1 * d1
        })
        .sum::<f64>()
        / grid.len() as f64;
    println!("  (the noiseless function itself: mean |df/dx|^2 {true_slope:.4})");
    let smoother = smooth_slope < plain_slope;
    if !smoother {
        eprintln!("error: the gradient penalty did not make the fitted function smoother");
        std::process::exit(1);
    }
}
