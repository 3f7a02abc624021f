//! Runs the `#![no_std]` library's online calibration on the host. Prints the mean loss of the
//! last 35 samples after a number of steps (tests/no_std.rs reads that it falls) and, with
//! `--time`, the time per step of `adam_step`, of `sgd_step`, of one hand-written Adam pass
//! over the weights, and of the gradient followed by that pass (BENCHMARKS.md; a release
//! build): issue 22's target compares `adam_step` with `sgd_step` plus one pass.

use std::hint::black_box;
use std::time::Instant;

use chainrule_no_std_check::{
    Adam, Moments, Params, calib, chainrule_adam_pass, chainrule_adam_step, chainrule_sgd_step,
    chainrule_train, chainrule_train_f32, chainrule_train_momentum, sample,
};

const STEPS: u32 = 2_000_000;

fn main() {
    for steps in [35, 350, 3500] {
        println!("adam {steps} {}", chainrule_train(1, steps));
    }
    println!("momentum 350 {}", chainrule_train_momentum(1, 350));
    println!("f32 adam 3500 {}", chainrule_train_f32(1, 3500));
    if std::env::args().any(|a| a == "--time") {
        time();
    }
}

/// Nanoseconds per call of `step(i)`, over `STEPS` calls.
fn per_step(mut step: impl FnMut(u32)) -> f64 {
    let start = Instant::now();
    for i in 0..STEPS {
        step(i);
    }
    start.elapsed().as_secs_f64() / f64::from(STEPS) * 1e9
}

fn time() {
    let samples: Vec<_> = (0..35).map(sample).collect();
    let (mut p, mut s) = (Params::init(1), Adam::new(0.001));
    let adam = per_step(|i| {
        let (x, t) = &samples[(i % 35) as usize];
        black_box(chainrule_adam_step(&mut p, &mut s, black_box(x), t));
    });
    let mut p = Params::init(1);
    let sgd = per_step(|i| {
        let (x, t) = &samples[(i % 35) as usize];
        black_box(chainrule_sgd_step(&mut p, black_box(x), t, 0.001));
    });
    let fresh = Moments::new;
    let (mut p, mut moments) = (Params::init(1), fresh());
    let g = calib::gradient(&p, &samples[0].0, &samples[0].1).1;
    let pass = per_step(|_| chainrule_adam_pass(&mut p, &mut moments, black_box(&g), 0.001));
    let (mut p, mut moments) = (Params::init(1), fresh());
    let unfused = per_step(|i| {
        let (x, t) = &samples[(i % 35) as usize];
        let (loss, g) = calib::gradient(&p, black_box(x), t);
        chainrule_adam_pass(&mut p, &mut moments, &g, 0.001);
        black_box(loss);
    });
    println!(
        "time per step: adam_step {adam:.1} ns, sgd_step {sgd:.1} ns, Adam pass {pass:.1} ns, \
         gradient + Adam pass {unfused:.1} ns; adam_step / (sgd_step + pass) = {:.2}",
        adam / (sgd + pass)
    );
}
