//! Runs the `#![no_std]` library's online calibration on the host. Prints the mean loss of the
//! last 35 samples after a number of steps (tests/no_std.rs reads that it falls) and, with
//! `--time`, the time per step of `adam_step` and `sgd_step` (BENCHMARKS.md; a release build).

use std::hint::black_box;
use std::time::Instant;

use chainrule_no_std_check::{
    Adam, Params, chainrule_adam_step, chainrule_sgd_step, chainrule_train,
    chainrule_train_f32, chainrule_train_momentum, sample,
};

fn main() {
    for steps in [35, 350, 3500] {
        println!("adam {steps} {}", chainrule_train(1, steps));
    }
    println!("momentum 350 {}", chainrule_train_momentum(1, 350));
    println!("f32 adam 3500 {}", chainrule_train_f32(1, 3500));
    if std::env::args().any(|a| a == "--time") {
        const STEPS: u32 = 2_000_000;
        let samples: Vec<_> = (0..35).map(sample).collect();
        let (mut p, mut s) = (Params::init(1), Adam::new(0.001));
        let start = Instant::now();
        for i in 0..STEPS {
            let (x, t) = &samples[(i % 35) as usize];
            black_box(chainrule_adam_step(&mut p, &mut s, black_box(x), t));
        }
        let adam = start.elapsed().as_secs_f64() / f64::from(STEPS);
        let mut p = Params::init(1);
        let start = Instant::now();
        for i in 0..STEPS {
            let (x, t) = &samples[(i % 35) as usize];
            black_box(chainrule_sgd_step(&mut p, black_box(x), t, 0.001));
        }
        let sgd = start.elapsed().as_secs_f64() / f64::from(STEPS);
        println!("time per step: adam_step {:.1} ns, sgd_step {:.1} ns", adam * 1e9, sgd * 1e9);
    }
}
