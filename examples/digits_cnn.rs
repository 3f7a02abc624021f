//! A convolutional network on the digits of `examples/digits.rs`, on the same held-out split:
//! `examples/digits_cnn.nn` (sixteen 3x3 filters, relu, 2x2 max pooling, a dense softmax layer,
//! an integer label per image), its gradient from `chainrule::derive!`, trained by mini-batch
//! SGD with `sgd_step_batch` from `Params::init`.
//!
//! Prints the loss and both accuracies per epoch, draws them as `digits_cnn.png` (or the path
//! given as the first argument), and exits non-zero if the held-out accuracy is below 97%:
//! above the 64-32-10 network's (`cargo run --release --example digits`).
//!
//! Run with `cargo run --release --example digits_cnn [OUT.png]`.

chainrule::derive!(file = "examples/digits_cnn.nn");

#[path = "common/digits_data.rs"]
mod digits_data;

use digits_cnn::Params;
use digits_data::{BATCH, EPOCHS, LR, SEED, Split, TEST_FRACTION, argmax};

const INIT_SEED: u64 = 7;
const REQUIRED_TEST_ACCURACY: f64 = 0.97;

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "digits_cnn.png".to_string());
    let (mut train, test, mut rng) = digits_data::load(SEED, TEST_FRACTION);
    println!(
        "digits_cnn: {} samples, {} for training, {} held out; conv 16x3x3, relu, max pool 2x2, dense 144-10",
        train.len() + test.len(),
        train.len(),
        test.len()
    );
    let mut p = Params::init(INIT_SEED);
    let (history, training) = digits_data::train(
        &mut p,
        (&mut train, &test),
        &mut rng,
        (EPOCHS, BATCH),
        // Each row of `x` is one image flattened row-major, as the batch functions take a
        // tensor input; the shapes come from `load`, so an error is a bug in this example.
        |p, b| {
            digits_cnn::sgd_step_batch(p, b.x, b.labels, LR).expect("x is n x 64, y holds n labels")
        },
        accuracy,
    );
    println!(
        "training: {:.3} s in sgd_step_batch for {EPOCHS} epochs (batches of {BATCH}, lr {LR})",
        training.as_secs_f64()
    );
    digits_data::finish(&out, &history, test.len(), REQUIRED_TEST_ACCURACY);
}

/// The fraction of images whose largest logit is at their label.
fn accuracy(p: &Params, data: &Split) -> f64 {
    let mut right = 0;
    for (x, &label) in data.x.rows().into_iter().zip(&data.labels) {
        let mut img = [[[0.0; 8]; 8]; 1];
        for (slot, v) in img.as_flattened_mut().as_flattened_mut().iter_mut().zip(x) {
            *slot = *v;
        }
        if argmax(digits_cnn::forward(p, &img).h) == label {
            right += 1;
        }
    }
    right as f64 / data.len() as f64
}
