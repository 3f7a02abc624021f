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
//! `examples/digits_cnn.rs` trains a convolutional network on the same split.

chainrule::derive!(file = "examples/digits.nn");

#[path = "common/digits_data.rs"]
mod digits_data;

use digits::Params;
use digits_data::{BATCH, EPOCHS, LR, SEED, Split, TEST_FRACTION, argmax};
use rand::RngExt;
use rand::rngs::StdRng;

const REQUIRED_TEST_ACCURACY: f64 = 0.95;

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "digits.png".to_string());
    let (mut train, test, mut rng) = digits_data::load(SEED, TEST_FRACTION);
    println!(
        "digits: {} samples, {} for training, {} held out; 64-32-10, softmax, cross-entropy",
        train.len() + test.len(),
        train.len(),
        test.len()
    );
    let mut p = glorot(&mut rng);
    let (history, training) = digits_data::train(
        &mut p,
        (&mut train, &test),
        &mut rng,
        (EPOCHS, BATCH),
        // The shapes come from `load`, so an error is a bug in this example.
        |p, b| digits::sgd_step_batch(p, b.x, b.t, LR).expect("x is n x 64, t is n x 10"),
        accuracy,
    );
    println!(
        "training: {:.3} s in sgd_step_batch for {EPOCHS} epochs (batches of {BATCH}, lr {LR})",
        training.as_secs_f64()
    );
    digits_data::finish(&out, &history, test.len(), REQUIRED_TEST_ACCURACY);
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
        let predicted = argmax(probabilities);
        if t[predicted] == 1.0 {
            right += 1;
        }
    }
    right as f64 / data.x.nrows() as f64
}
