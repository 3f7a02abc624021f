//! Online training on a device without an operating system: a small network learns a
//! nonlinear function one sample at a time with `adam_step`, using only `core` (and `libm`
//! through chainrule). tests/no_std.rs builds it (`firmware/` links it as a static library,
//! `driver/` runs it on the host) and checks what it links.

#![no_std]

chainrule::derive! {
    network ctrl {
        input  x[2]
        target t[1]
        h[6]  = tanh(W1 @ x + b1)
        y[1]  = W2 @ h + b2
        loss L = 0.5 * sum((y - t)^2) + 0.001 * sum(exp(-h^2))
    }
}

/// A deterministic sample: inputs on a small grid, target `sin(x0) * x1`.
fn sample(i: u32) -> ([f64; 2], [f64; 1]) {
    let x0 = (i % 7) as f64 / 3.0 - 1.0;
    let x1 = (i % 5) as f64 / 2.0 - 1.0;
    ([x0, x1], [chainrule::libm::sin(x0) * x1])
}

/// Trains from `Params::init(seed)` for `steps` steps; returns the mean loss of the last 35
/// samples before their updates, or NaN for fewer steps.
#[unsafe(no_mangle)]
pub extern "C" fn chainrule_train(seed: u64, steps: u32) -> f64 {
    let mut p = ctrl::Params::init(seed);
    let mut s = ctrl::Adam::new(0.01);
    let mut recent = 0.0;
    for i in 0..steps {
        let (x, t) = sample(i);
        let loss = ctrl::adam_step(&mut p, &mut s, &x, &t);
        if i + 35 >= steps {
            recent += loss;
        }
    }
    if steps < 35 { f64::NAN } else { recent / 35.0 }
}

/// The same with momentum and plain SGD, so that every per-sample update links.
#[unsafe(no_mangle)]
pub extern "C" fn chainrule_train_momentum(seed: u64, steps: u32) -> f64 {
    let mut p = ctrl::Params::init(seed);
    let mut s = ctrl::Momentum::new(0.01, 0.9);
    let mut last = 0.0;
    for i in 0..steps {
        let (x, t) = sample(i);
        last = ctrl::momentum_step(&mut p, &mut s, &x, &t) + 0.0 * ctrl::sgd_step(&mut p, &x, &t, 0.0);
    }
    let (x, _) = sample(0);
    last + 0.0 * ctrl::forward(&p, &x).y[0]
}
