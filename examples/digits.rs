//! A softmax classifier on real data: scikit-learn's 8x8 handwritten digits (1,797 samples,
//! 64 pixels, 10 classes; `examples/data/digits.csv`, see `examples/data/README.md`), with
//! the 64-32-10 network of `examples/digits.nn` (tanh hidden layer, softmax, cross-entropy on
//! one-hot labels, weight decay on the output matrix) and its gradient from
//! `chainrule::derive!`.
//!
//! Holds out a fifth of the samples (shuffled with a fixed seed), trains by mini-batch SGD with
//! `sgd_step_batch`, prints the loss and both accuracies per epoch under a progress bar, exits
//! non-zero if the test accuracy stays below 95%, and draws the loss and the accuracies per
//! epoch as `digits.png` (or the path given as the first argument).
//!
//! Run with `cargo run --release --example digits [OUT.png]`.
//! `bench/digits_bench.py` trains the same network by the same algorithm with PyTorch and JAX.

chainrule::derive!(file = "examples/digits.nn");

use chainrule::ndarray::{Array2, s};
use digits::Params;
use indicatif::{ProgressBar, ProgressStyle};
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/digits.csv");
const SEED: u64 = 14;
const TEST_FRACTION: f64 = 0.2;
const EPOCHS: usize = 30;
const BATCH: usize = 16;
const LR: f64 = 0.1;
const REQUIRED_TEST_ACCURACY: f64 = 0.95;
const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// Pixels scaled to [0, 1], one row per sample, and one-hot labels.
struct Split {
    x: Array2<f64>,
    t: Array2<f64>,
}

/// What one epoch ended with.
struct Epoch {
    loss: f64,
    train_accuracy: f64,
    test_accuracy: f64,
}

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "digits.png".to_string());
    let (labels, pixels) = match read_digits(DATA) {
        Ok(data) => data,
        Err(e) => {
            eprintln!("error: {DATA}: {e}");
            std::process::exit(2);
        }
    };
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.shuffle(&mut rng);
    let test_len = (labels.len() as f64 * TEST_FRACTION).round() as usize;
    let (test_rows, train_rows) = order.split_at(test_len);
    let test = split(&labels, &pixels, test_rows);
    let mut train = split(&labels, &pixels, train_rows);
    println!(
        "digits: {} samples, {} for training, {} held out; 64-32-10, softmax, cross-entropy",
        labels.len(),
        train.x.nrows(),
        test.x.nrows()
    );

    let mut p = glorot(&mut rng);
    let bar = ProgressBar::new(EPOCHS as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} epoch {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut history = Vec::with_capacity(EPOCHS);
    // The time spent in `sgd_step_batch` only, comparable with bench/digits_bench.py's.
    let mut training = std::time::Duration::ZERO;
    for epoch in 1..=EPOCHS {
        shuffle_rows(&mut train, &mut rng);
        let mut total = 0.0;
        let mut batches = 0;
        for start in (0..train.x.nrows()).step_by(BATCH) {
            let end = (start + BATCH).min(train.x.nrows());
            let x = train.x.slice(s![start..end, ..]);
            let t = train.t.slice(s![start..end, ..]);
            let started = std::time::Instant::now();
            // The shapes come from `split`, so an error is a bug in this example.
            total += digits::sgd_step_batch(&mut p, x, t, LR).expect("x is n x 64, t is n x 10");
            training += started.elapsed();
            batches += 1;
        }
        let record = Epoch {
            loss: total / batches as f64,
            train_accuracy: accuracy(&p, &train),
            test_accuracy: accuracy(&p, &test),
        };
        bar.set_message(format!(
            "loss {:.4}  train {:.1}%  test {:.1}%",
            record.loss,
            100.0 * record.train_accuracy,
            100.0 * record.test_accuracy
        ));
        // Printed around the bar, and also when the bar is hidden (output not a terminal).
        bar.suspend(|| {
            println!(
                "epoch {epoch:>2}  mean batch loss {:.4}  train accuracy {:5.1}%  test accuracy {:5.1}%",
                record.loss,
                100.0 * record.train_accuracy,
                100.0 * record.test_accuracy
            )
        });
        bar.inc(1);
        history.push(record);
    }
    bar.finish_and_clear();

    let last = history.last().map_or(0.0, |e| e.test_accuracy);
    println!(
        "final: train accuracy {:.1}%, test accuracy {:.1}% on {} held-out digits",
        100.0 * history.last().map_or(0.0, |e| e.train_accuracy),
        100.0 * last,
        test.x.nrows()
    );
    println!(
        "training: {:.3} s in sgd_step_batch for {EPOCHS} epochs (batches of {BATCH}, lr {LR})",
        training.as_secs_f64()
    );
    match plot(&out, &history) {
        Ok(with_text) => {
            println!("saved {out}");
            if !with_text {
                println!("  without text: no font at {FONT}, so no axis labels or legend");
            }
        }
        Err(e) => {
            eprintln!("error: could not draw {out}: {e}");
            std::process::exit(1);
        }
    }
    // A diverged run (NaN) fails too.
    if last.is_nan() || last < REQUIRED_TEST_ACCURACY {
        eprintln!(
            "error: test accuracy {:.1}% is below {:.0}%",
            100.0 * last,
            100.0 * REQUIRED_TEST_ACCURACY
        );
        std::process::exit(1);
    }
}

/// Labels and raw pixel rows from the exported CSV (label, then 64 whole numbers 0-16).
fn read_digits(path: &str) -> Result<(Vec<usize>, Vec<[f64; 64]>), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut labels = Vec::new();
    let mut pixels = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split(',').collect();
        let bad = |what: &str| format!("line {}: {what}", n + 1);
        if fields.len() != 65 {
            return Err(bad(&format!("{} fields, expected 65", fields.len())));
        }
        let label: usize = fields[0].parse().map_err(|_| bad("the label is not 0-9"))?;
        if label > 9 {
            return Err(bad("the label is not 0-9"));
        }
        let mut row = [0.0; 64];
        for (slot, field) in row.iter_mut().zip(&fields[1..]) {
            *slot = field.parse().map_err(|_| bad("a pixel is not a number"))?;
        }
        labels.push(label);
        pixels.push(row);
    }
    Ok((labels, pixels))
}

/// The rows `rows` of the data set, pixels divided by 16 and labels one-hot.
fn split(labels: &[usize], pixels: &[[f64; 64]], rows: &[usize]) -> Split {
    let x = Array2::from_shape_fn((rows.len(), 64), |(r, c)| pixels[rows[r]][c] / 16.0);
    let t = Array2::from_shape_fn((rows.len(), 10), |(r, c)| {
        f64::from(u8::from(labels[rows[r]] == c))
    });
    Split { x, t }
}

/// Shuffles the samples of a split in place, keeping each image with its label.
fn shuffle_rows(data: &mut Split, rng: &mut StdRng) {
    let mut order: Vec<usize> = (0..data.x.nrows()).collect();
    order.shuffle(rng);
    data.x = Array2::from_shape_fn(data.x.dim(), |(r, c)| data.x[(order[r], c)]);
    data.t = Array2::from_shape_fn(data.t.dim(), |(r, c)| data.t[(order[r], c)]);
}

/// Starting weights drawn uniformly from +-sqrt(6 / (fan_in + fan_out)), biases zero: this
/// mirrors Glorot's initialisation for tanh layers.
fn glorot(rng: &mut StdRng) -> Params {
    let mut p = Params::zeros();
    let limit1 = (6.0 / (64.0 + 32.0_f64)).sqrt();
    for row in p.W1.iter_mut() {
        for w in row.iter_mut() {
            *w = rng.random_range(-limit1..limit1);
        }
    }
    let limit2 = (6.0 / (32.0 + 10.0_f64)).sqrt();
    for row in p.W2.iter_mut() {
        for w in row.iter_mut() {
            *w = rng.random_range(-limit2..limit2);
        }
    }
    p
}

/// The fraction of samples whose largest probability is at their label.
fn accuracy(p: &Params, data: &Split) -> f64 {
    let mut right = 0;
    for (x, t) in data.x.rows().into_iter().zip(data.t.rows()) {
        let mut input = [0.0; 64];
        for (slot, v) in input.iter_mut().zip(x) {
            *slot = *v;
        }
        let probabilities = digits::forward(p, &input).p;
        let predicted = argmax(&probabilities);
        if t[predicted] == 1.0 {
            right += 1;
        }
    }
    right as f64 / data.x.nrows() as f64
}

fn argmax(values: &[f64]) -> usize {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best
}

/// Two panels, 1000 x 450: the mean batch loss per epoch, and the train and test accuracy per
/// epoch. Returns whether text could be drawn (plotters loads no system fonts).
fn plot(path: &str, history: &[Epoch]) -> Result<bool, Box<dyn std::error::Error>> {
    let with_text = match std::fs::read(FONT) {
        // register_font keeps the bytes for the rest of the run.
        Ok(bytes) => register_font("sans-serif", FontStyle::Normal, Box::leak(bytes.into()))
            .map(|()| true)
            .map_err(|_| format!("{FONT} is not a usable font"))?,
        Err(_) => false,
    };
    let root = BitMapBackend::new(path, (1000, 450)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(500);
    let epochs = history.len() as f64;
    let max_loss = history.iter().map(|e| e.loss).fold(0.0, f64::max).max(1e-9);

    let mut builder = ChartBuilder::on(&left);
    builder.margin(20);
    if with_text {
        builder
            .caption("cross-entropy", ("sans-serif", 20))
            .x_label_area_size(40)
            .y_label_area_size(50);
    }
    let mut chart = builder.build_cartesian_2d(1.0..epochs.max(2.0), 0.0..max_loss * 1.05)?;
    if with_text {
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("mean batch loss")
            .draw()?;
    } else {
        chart.configure_mesh().x_labels(0).y_labels(0).draw()?;
    }
    let blue = RGBColor(0x1f, 0x77, 0xb4);
    chart.draw_series(LineSeries::new(
        history
            .iter()
            .enumerate()
            .map(|(i, e)| (i as f64 + 1.0, e.loss)),
        blue.stroke_width(2),
    ))?;

    let mut builder = ChartBuilder::on(&right);
    builder.margin(20);
    if with_text {
        builder
            .caption("accuracy", ("sans-serif", 20))
            .x_label_area_size(40)
            .y_label_area_size(50);
    }
    let low = history
        .iter()
        .map(|e| e.test_accuracy.min(e.train_accuracy))
        .fold(1.0, f64::min)
        .clamp(0.0, 0.9);
    let mut chart = builder.build_cartesian_2d(1.0..epochs.max(2.0), low..1.0)?;
    if with_text {
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("fraction right")
            .draw()?;
    } else {
        chart.configure_mesh().x_labels(0).y_labels(0).draw()?;
    }
    let orange = RGBColor(0xff, 0x7f, 0x0e);
    chart
        .draw_series(LineSeries::new(
            history
                .iter()
                .enumerate()
                .map(|(i, e)| (i as f64 + 1.0, e.train_accuracy)),
            blue.stroke_width(2),
        ))?
        .label("train")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], blue.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(
            history
                .iter()
                .enumerate()
                .map(|(i, e)| (i as f64 + 1.0, e.test_accuracy)),
            orange.stroke_width(2),
        ))?
        .label("test")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], orange.stroke_width(2)));
    if with_text {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font(("sans-serif", 16))
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(with_text)
}
