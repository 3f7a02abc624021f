//! What the digits examples share: scikit-learn's 8x8 digits read from
//! `examples/data/digits.csv`, a held-out split, the epoch loop with its progress bar, and the
//! plot of the loss and the accuracies per epoch. Each example names the network it trains.

// Each example reads the fields its network takes (one-hot rows or labels).
#![allow(dead_code)]

use chainrule::ndarray::{Array1, Array2, ArrayView1, ArrayView2, s};
use indicatif::{ProgressBar, ProgressStyle};
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

pub const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/digits.csv");
/// The split, the shuffles and the training both examples share, so their networks see the
/// same data the same way.
pub const SEED: u64 = 14;
pub const TEST_FRACTION: f64 = 0.2;
pub const EPOCHS: usize = 30;
pub const BATCH: usize = 16;
pub const LR: f64 = 0.1;
const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// Pixels scaled to [0, 1], one row per sample (row-major 8x8), with one-hot labels and the
/// class indices.
pub struct Split {
    pub x: Array2<f64>,
    pub t: Array2<f64>,
    pub labels: Array1<usize>,
}

impl Split {
    /// The number of samples.
    pub fn len(&self) -> usize {
        self.x.nrows()
    }
}

/// What one epoch ended with.
pub struct Epoch {
    pub loss: f64,
    pub train_accuracy: f64,
    pub test_accuracy: f64,
}

/// The data set shuffled with `seed` and split into (train, test), `test_fraction` held out;
/// exits with an error when the file cannot be read.
pub fn load(seed: u64, test_fraction: f64) -> (Split, Split, StdRng) {
    let (labels, pixels) = match read_digits(DATA) {
        Ok(data) => data,
        Err(e) => {
            eprintln!("error: {DATA}: {e}");
            std::process::exit(2);
        }
    };
    let mut rng = StdRng::seed_from_u64(seed);
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.shuffle(&mut rng);
    let test_len = (labels.len() as f64 * test_fraction).round() as usize;
    let (test_rows, train_rows) = order.split_at(test_len);
    let test = split(&labels, &pixels, test_rows);
    let train = split(&labels, &pixels, train_rows);
    (train, test, rng)
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

/// The rows `rows` of the data set, pixels divided by 16, labels one-hot and as indices.
fn split(labels: &[usize], pixels: &[[f64; 64]], rows: &[usize]) -> Split {
    let x = Array2::from_shape_fn((rows.len(), 64), |(r, c)| pixels[rows[r]][c] / 16.0);
    let t = Array2::from_shape_fn((rows.len(), 10), |(r, c)| {
        f64::from(u8::from(labels[rows[r]] == c))
    });
    let labels = Array1::from_shape_fn(rows.len(), |r| labels[rows[r]]);
    Split { x, t, labels }
}

/// Shuffles the samples of a split in place, keeping each image with its label.
fn shuffle_rows(data: &mut Split, rng: &mut StdRng) {
    let mut order: Vec<usize> = (0..data.len()).collect();
    order.shuffle(rng);
    data.x = Array2::from_shape_fn(data.x.dim(), |(r, c)| data.x[(order[r], c)]);
    data.t = Array2::from_shape_fn(data.t.dim(), |(r, c)| data.t[(order[r], c)]);
    data.labels = Array1::from_shape_fn(data.len(), |r| data.labels[order[r]]);
}

/// One mini-batch: its pixel rows, one-hot rows and labels.
pub struct Batch<'a> {
    pub x: ArrayView2<'a, f64>,
    pub t: ArrayView2<'a, f64>,
    pub labels: ArrayView1<'a, usize>,
}

/// `epochs` epochs of mini-batch training of `model`: each shuffles `train`, calls `step` on
/// every batch (its mean loss back), then `accuracy` on both splits; prints one line per epoch
/// under a progress bar. Returns the history and the time spent in `step`.
pub fn train<P>(
    model: &mut P,
    (train, test): (&mut Split, &Split),
    rng: &mut StdRng,
    (epochs, batch): (usize, usize),
    step: impl Fn(&mut P, Batch<'_>) -> f64,
    accuracy: impl Fn(&P, &Split) -> f64,
) -> (Vec<Epoch>, std::time::Duration) {
    let bar = ProgressBar::new(epochs as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} epoch {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut history = Vec::with_capacity(epochs);
    let mut training = std::time::Duration::ZERO;
    for epoch in 1..=epochs {
        shuffle_rows(train, rng);
        let mut total = 0.0;
        let mut batches = 0;
        for start in (0..train.len()).step_by(batch) {
            let end = (start + batch).min(train.len());
            let started = std::time::Instant::now();
            total += step(
                model,
                Batch {
                    x: train.x.slice(s![start..end, ..]),
                    t: train.t.slice(s![start..end, ..]),
                    labels: train.labels.slice(s![start..end]),
                },
            );
            training += started.elapsed();
            batches += 1;
        }
        let record = Epoch {
            loss: total / batches as f64,
            train_accuracy: accuracy(model, train),
            test_accuracy: accuracy(model, test),
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
    (history, training)
}

/// The index of the largest value (the first of equal ones).
pub fn argmax(values: impl IntoIterator<Item = f64>) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for (i, v) in values.into_iter().enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best.0
}

/// Prints the final accuracies, draws `out`, and exits non-zero when the held-out accuracy
/// is below `required` (or NaN).
pub fn finish(out: &str, history: &[Epoch], test_len: usize, required: f64) {
    let last = history.last().map_or(0.0, |e| e.test_accuracy);
    println!(
        "final: train accuracy {:.1}%, test accuracy {:.1}% on {test_len} held-out digits",
        100.0 * history.last().map_or(0.0, |e| e.train_accuracy),
        100.0 * last,
    );
    match plot(out, history) {
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
    if last.is_nan() || last < required {
        eprintln!(
            "error: test accuracy {:.1}% is below {:.0}%",
            100.0 * last,
            100.0 * required
        );
        std::process::exit(1);
    }
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
