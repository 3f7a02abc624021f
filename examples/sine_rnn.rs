//! A recurrent network on a sequence task with known answers: predict the next value of a
//! noisy sine wave whose frequency and phase differ from sequence to sequence. The recurrent
//! network of `examples/sine_rnn.nn` (an 8-unit Elman network, 89 weights, backpropagation
//! through time derived by `chainrule::derive!`) against a dense network of about the same
//! size (91 weights) that sees the last four samples, both trained with `adam_step_batch` on
//! the same 800 sequences and scored on 200 held-out ones at steps 3 to 19 (where the window
//! is full).
//!
//! Prints the held-out mean squared error per epoch for both, draws the curves as
//! `sine_rnn.png` (or the path given as the first argument), and exits non-zero unless the
//! recurrent network ends below the dense one.
//!
//! Run with `cargo run --release --example sine_rnn [OUT.png]`.

chainrule::derive!(file = "examples/sine_rnn.nn", network = sine_rnn);
chainrule::derive!(file = "examples/sine_rnn.nn", network = sine_window);

use chainrule::ndarray::{Array1, Array2, Axis};
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

const STEPS: usize = 20;
const WINDOW: usize = 4;
const TRAIN: usize = 800;
const TEST: usize = 200;
const NOISE: f64 = 0.15;
const EPOCHS: usize = 60;
const BATCH: usize = 16;
const LR: f64 = 0.01;
const SEED: u64 = 20;
const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// Sequences, one per row: noisy samples `x` and the clean next values `y`.
struct Waves {
    x: Array2<f64>,
    y: Array2<f64>,
}

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sine_rnn.png".to_string());
    let mut rng = StdRng::seed_from_u64(SEED);
    let train = waves(TRAIN, &mut rng);
    let test = waves(TEST, &mut rng);
    let (train_w, train_t) = windows(&train);
    println!(
        "sine_rnn: {TRAIN} training and {TEST} held-out sequences of {STEPS} noisy samples; \
         Elman 8 units (89 weights) against a dense network over {WINDOW} samples (91 weights)"
    );

    let mut rnn = sine_rnn::Params::init(1);
    let mut rnn_adam = sine_rnn::Adam::new(LR);
    let mut dense = sine_window::Params::init(1);
    let mut dense_adam = sine_window::Adam::new(LR);
    let mut history = Vec::with_capacity(EPOCHS);
    for epoch in 1..=EPOCHS {
        let mut order: Vec<usize> = (0..TRAIN).collect();
        order.shuffle(&mut rng);
        for rows in order.chunks(BATCH) {
            let (x, y) = (train.x.select(Axis(0), rows), train.y.select(Axis(0), rows));
            // Shapes come from `waves`: an error is a bug in this example.
            sine_rnn::adam_step_batch(&mut rnn, &mut rnn_adam, x.view(), y.view())
                .expect("x and y are n x 20");
        }
        // The same sequences, as the dense network sees them: every full window of each.
        let per_sequence = STEPS - WINDOW + 1;
        for rows in order.chunks(BATCH) {
            let windows: Vec<usize> = rows
                .iter()
                .flat_map(|&r| r * per_sequence..(r + 1) * per_sequence)
                .collect();
            let (w, t) = (
                train_w.select(Axis(0), &windows),
                train_t.select(Axis(0), &windows),
            );
            sine_window::adam_step_batch(&mut dense, &mut dense_adam, w.view(), t.view())
                .expect("w is n x 4, y holds n numbers");
        }
        let scores = (rnn_error(&rnn, &test), dense_error(&dense, &test));
        if epoch % 5 == 0 || epoch == 1 {
            println!(
                "epoch {epoch:>2}  held-out mean squared error: recurrent {:.5}  dense {:.5}",
                scores.0, scores.1
            );
        }
        history.push(scores);
    }
    let (rnn_final, dense_final) = history.last().copied().unwrap_or((f64::NAN, f64::NAN));
    println!(
        "final: recurrent {rnn_final:.5}, dense {dense_final:.5} (noise variance {:.5}; \
         repeating the last sample: {:.5})",
        NOISE * NOISE,
        persistence_error(&test)
    );
    if let Err(e) = plot(&out, &history) {
        eprintln!("error: could not draw {out}: {e}");
        std::process::exit(1);
    }
    println!("saved {out}");
    if rnn_final.is_nan() || rnn_final >= dense_final {
        eprintln!("error: the recurrent network did not beat the dense one");
        std::process::exit(1);
    }
}

/// `n` sequences with frequencies in [0.3, 0.9) and phases in [0, 2 pi), uniform noise of
/// standard deviation `NOISE` on the inputs.
fn waves(n: usize, rng: &mut StdRng) -> Waves {
    let mut x = Array2::zeros((n, STEPS));
    let mut y = Array2::zeros((n, STEPS));
    let spread = NOISE * 3f64.sqrt();
    for r in 0..n {
        let omega: f64 = rng.random_range(0.3..0.9);
        let phase: f64 = rng.random_range(0.0..std::f64::consts::TAU);
        for t in 0..STEPS {
            let noise: f64 = rng.random_range(-spread..spread);
            x[(r, t)] = (omega * t as f64 + phase).sin() + noise;
            y[(r, t)] = (omega * (t + 1) as f64 + phase).sin();
        }
    }
    Waves { x, y }
}

/// Every full window of every sequence (the last `WINDOW` samples up to step t) with the
/// target at t, sequence by sequence.
fn windows(waves: &Waves) -> (Array2<f64>, Array1<f64>) {
    let per_sequence = STEPS - WINDOW + 1;
    let rows = waves.x.nrows() * per_sequence;
    let w = Array2::from_shape_fn((rows, WINDOW), |(i, k)| {
        let (r, t) = (i / per_sequence, i % per_sequence + WINDOW - 1);
        waves.x[(r, t + 1 + k - WINDOW)]
    });
    let y = Array1::from_shape_fn(rows, |i| {
        let (r, t) = (i / per_sequence, i % per_sequence + WINDOW - 1);
        waves.y[(r, t)]
    });
    (w, y)
}

/// The recurrent network's mean squared error at steps `WINDOW - 1..STEPS`.
fn rnn_error(p: &sine_rnn::Params, waves: &Waves) -> f64 {
    scored(waves, |r| {
        let mut x = [[0.0; 1]; STEPS];
        for (t, slot) in x.iter_mut().enumerate() {
            slot[0] = waves.x[(r, t)];
        }
        let o = sine_rnn::forward(p, &x).o;
        (WINDOW - 1..STEPS).map(|t| o[t][0]).collect()
    })
}

/// The dense network's mean squared error at the same steps.
fn dense_error(p: &sine_window::Params, waves: &Waves) -> f64 {
    scored(waves, |r| {
        (WINDOW - 1..STEPS)
            .map(|t| {
                let w: [f64; WINDOW] = std::array::from_fn(|k| waves.x[(r, t + 1 + k - WINDOW)]);
                sine_window::forward(p, &w).o
            })
            .collect()
    })
}

/// Predicting each next value as the last noisy sample, for scale.
fn persistence_error(waves: &Waves) -> f64 {
    scored(waves, |r| {
        (WINDOW - 1..STEPS).map(|t| waves.x[(r, t)]).collect()
    })
}

/// The mean squared error of `predict(row)` (one prediction per scored step) over `waves`.
fn scored(waves: &Waves, predict: impl Fn(usize) -> Vec<f64>) -> f64 {
    let mut total = 0.0;
    let mut count = 0;
    for r in 0..waves.x.nrows() {
        for (prediction, t) in predict(r).into_iter().zip(WINDOW - 1..STEPS) {
            total += (prediction - waves.y[(r, t)]).powi(2);
            count += 1;
        }
    }
    total / count as f64
}

/// Held-out error per epoch, both networks.
fn plot(path: &str, history: &[(f64, f64)]) -> Result<(), Box<dyn std::error::Error>> {
    let with_text = match std::fs::read(FONT) {
        Ok(bytes) => register_font("sans-serif", FontStyle::Normal, Box::leak(bytes.into()))
            .map(|()| true)
            .map_err(|_| format!("{FONT} is not a usable font"))?,
        Err(_) => false,
    };
    let root = BitMapBackend::new(path, (800, 450)).into_drawing_area();
    root.fill(&WHITE)?;
    let high = history
        .iter()
        .flat_map(|&(a, b)| [a, b])
        .fold(1e-6, f64::max);
    let mut builder = ChartBuilder::on(&root);
    builder.margin(20);
    if with_text {
        builder
            .caption("held-out next-value error", ("sans-serif", 20))
            .x_label_area_size(40)
            .y_label_area_size(60);
    }
    let epochs = history.len().max(2) as f64;
    let mut chart = builder.build_cartesian_2d(1.0..epochs, 0.0..high * 1.05)?;
    if with_text {
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("mean squared error")
            .draw()?;
    } else {
        chart.configure_mesh().x_labels(0).y_labels(0).draw()?;
    }
    let (blue, orange) = (RGBColor(0x1f, 0x77, 0xb4), RGBColor(0xff, 0x7f, 0x0e));
    let series = |pick: fn(&(f64, f64)) -> f64| {
        history
            .iter()
            .enumerate()
            .map(move |(i, e)| (i as f64 + 1.0, pick(e)))
    };
    chart
        .draw_series(LineSeries::new(series(|e| e.0), blue.stroke_width(2)))?
        .label("recurrent (8 units)")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], blue.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(series(|e| e.1), orange.stroke_width(2)))?
        .label("dense (window of 4)")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], orange.stroke_width(2)));
    if with_text {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font(("sans-serif", 16))
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}
