//! Sensor calibration on a device without an operating system (issue 22): a sensor whose
//! reading is nonlinear and drifts with temperature; a 2-6-1 tanh network learns, online, one
//! sample at a time with `adam_step`, to map (raw reading, temperature) to the value a reference
//! instrument gives. It uses only `core` (and `libm` through chainrule), no allocator.
//!
//! tests/no_std.rs builds it (`firmware/` links it as a static library with a panic handler,
//! as a device image would; `driver/` runs it on the host) and checks what it links;
//! BENCHMARKS.md reports its code size, stack use and time per step.

#![no_std]

chainrule::derive! {
    network calib {
        input  x[2]          // raw reading and temperature, both scaled to [-1, 1]
        target t[1]          // the reference instrument's value
        h[6]  = tanh(W1 @ x + b1)
        y[1]  = W2 @ h + b2
        loss L = 0.5 * sum((y - t)^2)
    }
}

pub use calib::{Adam, Momentum, Params};
use chainrule::runtime::Math as _;

/// The same network in single precision, as a microcontroller with a single-precision FPU
/// would run it (`libm`'s `f32` functions).
pub mod single {
    chainrule::derive! {
        float = f32,
        network calib {
            input  x[2]
            target t[1]
            h[6]  = tanh(W1 @ x + b1)
            y[1]  = W2 @ h + b2
            loss L = 0.5 * sum((y - t)^2)
        }
    }
}

/// The sensor's true response: cubic in the raw reading, with a temperature-dependent gain
/// and offset (what calibration must learn).
pub fn truth(raw: f64, temp: f64) -> f64 {
    raw + 0.3 * raw * raw * raw - 0.2 * temp * raw + 0.1 * temp
}

/// A deterministic sample: raw readings and temperatures on a small grid.
pub fn sample(i: u32) -> ([f64; 2], [f64; 1]) {
    let raw = (i % 7) as f64 / 3.0 - 1.0;
    let temp = (i % 5) as f64 / 2.0 - 1.0;
    ([raw, temp], [truth(raw, temp)])
}

/// One calibration update: what a device's loop calls once per reference reading.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn chainrule_adam_step(p: &mut Params, s: &mut Adam, x: &[f64; 2], t: &[f64; 1]) -> f64 {
    calib::adam_step(p, s, x, t)
}

/// The same update with plain gradient descent, to compare size and time.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn chainrule_sgd_step(p: &mut Params, x: &[f64; 2], t: &[f64; 1], lr: f64) -> f64 {
    calib::sgd_step(p, x, t, lr)
}

/// Trains from `Params::init(seed)` for `steps` steps; returns the mean loss of the last 35
/// samples before their updates, or NaN for fewer steps.
#[unsafe(no_mangle)]
pub extern "C" fn chainrule_train(seed: u64, steps: u32) -> f64 {
    let mut p = Params::init(seed);
    let mut s = Adam::new(0.01);
    let mut recent = 0.0;
    for i in 0..steps {
        let (x, t) = sample(i);
        let loss = chainrule_adam_step(&mut p, &mut s, &x, &t);
        if i + 35 >= steps {
            recent += loss;
        }
    }
    if steps < 35 { f64::NAN } else { recent / 35.0 }
}

/// [`chainrule_train`] in single precision.
#[unsafe(no_mangle)]
pub extern "C" fn chainrule_train_f32(seed: u64, steps: u32) -> f32 {
    let mut p = single::calib::Params::init(seed);
    let mut s = single::calib::Adam::new(0.01);
    let mut recent = 0.0;
    for i in 0..steps {
        let (x, t) = sample(i);
        let (x, t) = ([x[0] as f32, x[1] as f32], [t[0] as f32]);
        let loss = single::calib::adam_step(&mut p, &mut s, &x, &t);
        if i + 35 >= steps {
            recent += loss;
        }
    }
    if steps < 35 { f32::NAN } else { recent / 35.0 }
}

/// The same with momentum, so that every per-sample update links.
#[unsafe(no_mangle)]
pub extern "C" fn chainrule_train_momentum(seed: u64, steps: u32) -> f64 {
    let mut p = Params::init(seed);
    let mut s = Momentum::new(0.01, 0.9);
    let mut last = 0.0;
    for i in 0..steps {
        let (x, t) = sample(i);
        last = calib::momentum_step(&mut p, &mut s, &x, &t);
    }
    let (x, _) = sample(0);
    last + 0.0 * calib::forward(&p, &x).y[0]
}

/// Adam's moments for the hand-written pass, laid out like `Params`, and `beta1^t`, `beta2^t`
/// kept as products (cheaper than raising to the power `t` each step).
pub struct Moments {
    m: Params,
    v: Params,
    beta1_t: f64,
    beta2_t: f64,
}

impl Default for Moments {
    fn default() -> Self {
        Moments::new()
    }
}

impl Moments {
    /// Before the first step.
    pub fn new() -> Self {
        Moments {
            m: Params::zeros(),
            v: Params::zeros(),
            beta1_t: 1.0,
            beta2_t: 1.0,
        }
    }
}

/// One Adam step over every weight, written by hand as a `no_std` user would after
/// `gradient` (square roots from `libm`, through the runtime's `Math`): the same arithmetic
/// as the generated `adam_step` (PyTorch's rule, bias corrections as factors). The baseline
/// of issue 22's target for `adam_step` (BENCHMARKS.md); the driver times it.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn chainrule_adam_pass(p: &mut Params, s: &mut Moments, g: &Params, lr: f64) {
    let (beta1, beta2, eps) = (0.9f64, 0.999f64, 1e-8f64);
    s.beta1_t *= beta1;
    s.beta2_t *= beta2;
    let c1 = 1.0 / (1.0 - s.beta1_t);
    let c2 = 1.0 / (1.0 - s.beta2_t);
    let fields = [
        (
            p.W1.as_flattened_mut(),
            s.m.W1.as_flattened_mut(),
            s.v.W1.as_flattened_mut(),
            g.W1.as_flattened(),
        ),
        (&mut p.b1[..], &mut s.m.b1[..], &mut s.v.b1[..], &g.b1[..]),
        (
            p.W2.as_flattened_mut(),
            s.m.W2.as_flattened_mut(),
            s.v.W2.as_flattened_mut(),
            g.W2.as_flattened(),
        ),
        (&mut p.b2[..], &mut s.m.b2[..], &mut s.v.b2[..], &g.b2[..]),
    ];
    for (p, m, v, g) in fields {
        for k in 0..p.len() {
            m[k] = beta1 * m[k] + (1.0 - beta1) * g[k];
            v[k] = beta2 * v[k] + (1.0 - beta2) * g[k] * g[k];
            p[k] -= lr * (m[k] * c1) / ((v[k] * c2).sqrt() + eps);
        }
    }
}
