//! Training end to end: seed 004's problem (`examples/seed004_problem.rs`: 10,000 samples of
//! y = 300 exp(sin x), a 67/33 split, 50 epochs of per-sample SGD at learning rate 1e-4 over the
//! 6,700 training samples, the train and test loss summed after every epoch) with the
//! generated `sgd_step`, and with the hand-written fixed-size step for reference. Wall time of
//! the whole loop, best and median of several runs.
//!
//! Writes the data set and initial weights to `bench/results/seed004_problem.json` (so that
//! `bench/python_bench.py` trains PyTorch and JAX on exactly the same numbers and compares the
//! final losses) and the timings to `bench/results/training_rust.json`.
//!
//! `cargo bench --bench training`

#[path = "baselines/mod.rs"]
mod baselines;

use std::hint::black_box;
use std::time::Instant;

use baselines::fixed;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

chainrule::derive!(file = "examples/nets/seed004.nn");

const SAMPLES: usize = 10_000;
const TEST: usize = 3_300;
const EPOCHS: usize = 50;
const LR: f64 = 1e-4;
const RUNS: usize = 7;

type Sample = ([f64; 2], [f64; 2]);

/// The data and initial weights of `examples/seed004_problem.rs`, drawn the same way.
fn problem() -> (Vec<Sample>, Vec<Sample>, seed004::Params) {
    let mut data_rng = StdRng::seed_from_u64(0);
    let mut data: Vec<Sample> = (0..SAMPLES)
        .map(|_| {
            let x = [data_rng.random::<f64>(), data_rng.random::<f64>()];
            (x, x.map(|v| 300.0 * v.sin().exp()))
        })
        .collect();
    data.shuffle(&mut StdRng::seed_from_u64(42));
    let (test, train) = data.split_at(TEST);
    let mut init_rng = StdRng::seed_from_u64(4);
    let mut p = seed004::Params::zeros();
    p.set_flat(&std::array::from_fn(|_| init_rng.random::<f64>()));
    (train.to_vec(), test.to_vec(), p)
}

/// The per-epoch losses of one run.
struct Run {
    seconds: f64,
    train: Vec<f64>,
    test: Vec<f64>,
}

fn train_generated(train: &[Sample], test: &[Sample], p0: seed004::Params) -> Run {
    let start = Instant::now();
    let mut p = p0;
    let (mut tr, mut te) = (Vec::new(), Vec::new());
    for _ in 0..EPOCHS {
        for (x, t) in train {
            seed004::sgd_step(&mut p, x, t, LR);
        }
        tr.push(train.iter().map(|(x, t)| seed004::loss(&p, x, t)).sum());
        te.push(test.iter().map(|(x, t)| seed004::loss(&p, x, t)).sum());
    }
    black_box(&p);
    Run {
        seconds: start.elapsed().as_secs_f64(),
        train: tr,
        test: te,
    }
}

fn train_hand(train: &[Sample], test: &[Sample], p0: seed004::Params) -> Run {
    let start = Instant::now();
    let mut p = fixed::Seed004::from_flat(&p0.flat());
    let (mut tr, mut te) = (Vec::new(), Vec::new());
    for _ in 0..EPOCHS {
        for (x, t) in train {
            fixed::seed004_sgd_step(&mut p, x, t, LR);
        }
        tr.push(
            train
                .iter()
                .map(|(x, t)| fixed::seed004_loss(&p, x, t))
                .sum(),
        );
        te.push(
            test.iter()
                .map(|(x, t)| fixed::seed004_loss(&p, x, t))
                .sum(),
        );
    }
    black_box(&p);
    Run {
        seconds: start.elapsed().as_secs_f64(),
        train: tr,
        test: te,
    }
}

fn stats(runs: &[Run]) -> String {
    let mut s: Vec<f64> = runs.iter().map(|r| r.seconds).collect();
    s.sort_by(f64::total_cmp);
    let last = &runs[0];
    format!(
        "{{\"best_s\": {:?}, \"median_s\": {:?}, \"runs\": {}, \"first_train_loss\": {:?}, \"final_train_loss\": {:?}, \"final_test_loss\": {:?}}}",
        s[0],
        s[s.len() / 2],
        s.len(),
        last.train[0],
        last.train[EPOCHS - 1],
        last.test[EPOCHS - 1]
    )
}

fn json_samples(set: &[Sample]) -> String {
    let xs: Vec<String> = set
        .iter()
        .map(|(x, _)| format!("[{:?},{:?}]", x[0], x[1]))
        .collect();
    let ts: Vec<String> = set
        .iter()
        .map(|(_, t)| format!("[{:?},{:?}]", t[0], t[1]))
        .collect();
    format!("{{\"x\": [{}], \"t\": [{}]}}", xs.join(","), ts.join(","))
}

fn main() {
    // `cargo bench` passes `--bench`; a filter that names another bench skips this one.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if !args.is_empty() && !args.iter().any(|a| "training".contains(a.as_str())) {
        return;
    }
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/results");
    std::fs::create_dir_all(&out).expect("bench/results can be created");

    let (train, test, p0) = problem();
    let w = p0.flat();
    let data = format!(
        "{{\"epochs\": {EPOCHS}, \"lr\": {LR:?}, \"W1\": [[{:?},{:?}],[{:?},{:?}],[{:?},{:?}]], \"W2\": [[{:?},{:?},{:?}],[{:?},{:?},{:?}]],\n\"train\": {},\n\"test\": {}}}\n",
        w[0],
        w[1],
        w[2],
        w[3],
        w[4],
        w[5],
        w[6],
        w[7],
        w[8],
        w[9],
        w[10],
        w[11],
        json_samples(&train),
        json_samples(&test)
    );
    std::fs::write(out.join("seed004_problem.json"), data).expect("writes the data set");

    let generated: Vec<Run> = (0..RUNS)
        .map(|_| train_generated(&train, &test, p0))
        .collect();
    let hand: Vec<Run> = (0..RUNS).map(|_| train_hand(&train, &test, p0)).collect();
    // Both run the same arithmetic in the same order, up to the loss's summation order.
    let (g, h) = (generated[0].train[EPOCHS - 1], hand[0].train[EPOCHS - 1]);
    assert!(
        (g - h).abs() <= 1e-9 * g.abs(),
        "the hand-written training ends at {h}, the generated at {g}"
    );
    assert!(g < generated[0].train[0], "the train loss did not fall");
    let json = format!(
        "{{\"steps\": {}, \"generated\": {}, \"hand_fixed\": {}}}\n",
        EPOCHS * train.len(),
        stats(&generated),
        stats(&hand)
    );
    std::fs::write(out.join("training_rust.json"), &json).expect("writes the results");
    print!(
        "training (seed 004's problem, {EPOCHS} epochs x {} samples): {json}",
        train.len()
    );
}
