//! The convolutional digits network of issue 23 (`examples/digits_cnn.nn`: sixteen 3x3
//! filters over a 1x8x8 image, relu, 2x2 max pooling, a dense layer 144 -> 10, cross-entropy
//! with a label, weight decay): the gradient of one sample, and of a batch of 256 on one and
//! two threads (`--features parallel`). `bench/digits_cnn_batch_bench.py` times JAX's
//! `jit(value_and_grad)` on the same numbers, `bench/candle`'s `digits_cnn` binary candle's
//! autograd; all print the loss so they can be compared.
//!
//! `cargo bench --bench digits_cnn --features parallel`; writes
//! `bench/results/digits_cnn_rust.json`.

#[path = "batch_support.rs"]
mod support;

chainrule::derive!(file = "examples/digits_cnn.nn");

const BATCH: usize = 256;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` and test harness probes
    }
    let mut p = digits_cnn::Params::zeros();
    p.set_flat(
        &support::numbers(7, digits_cnn::PARAMS, 0.3)
            .try_into()
            .expect("count"),
    );
    let x = support::numbers(8, BATCH * 64, 1.0);
    // Labels from the same generator: deterministic, every class present.
    let labels: Vec<usize> = support::numbers(9, BATCH, 1.0)
        .iter()
        .map(|v| (((v + 1.0) * 5.0) as usize).min(9))
        .collect();
    let xs = chainrule::ndarray::ArrayView2::from_shape((BATCH, 64), &x).expect("shape");
    let ys = chainrule::ndarray::ArrayView1::from(&labels[..]);
    let sample = |s: usize| -> [[[f64; 8]; 8]; 1] {
        let mut xi = [[[0.0; 8]; 8]; 1];
        for (e, v) in x[s * 64..s * 64 + 64].iter().enumerate() {
            xi[0][e / 8][e % 8] = *v;
        }
        xi
    };
    let x0 = sample(0);
    let mut g = digits_cnn::Params::zeros();
    let per_sample = support::time(|| {
        std::hint::black_box(digits_cnn::gradient_into(&p, &x0, labels[0], &mut g));
    });
    let mut ws = digits_cnn::BatchWorkspace::new();
    let mut gb = digits_cnn::Params::boxed_zeros();
    let loss = digits_cnn::gradient_batch_into(&p, xs, ys, &mut ws, &mut gb).expect("shapes");
    // The batch agrees with the mean of the per-sample gradients.
    let mut mean = vec![0.0; digits_cnn::PARAMS];
    let mut total = 0.0;
    for (s, &label) in labels.iter().enumerate() {
        let (l, gi) = digits_cnn::gradient(&p, &sample(s), label);
        total += l / BATCH as f64;
        for (a, b) in mean.iter_mut().zip(gi.flat()) {
            *a += b / BATCH as f64;
        }
    }
    assert!(
        (total - loss).abs() <= 1e-12 * total.abs().max(1.0),
        "{total} vs {loss}"
    );
    for (a, b) in mean.iter().zip(gb.flat()) {
        assert!((a - b).abs() <= 1e-10 * a.abs().max(1.0), "{a} vs {b}");
    }
    let mut out = serde_json::Map::new();
    out.insert("loss".into(), loss.into());
    out.insert(
        "per_sample_us".into(),
        (per_sample.as_secs_f64() * 1e6).into(),
    );
    // The gradient's norm, printed by bench/candle's `digits_cnn` too: candle's autograd
    // must agree.
    let norm = gb.flat().iter().map(|g| g * g).sum::<f64>().sqrt();
    println!(
        "digits_cnn (16 3x3 filters, 2x2 max pool, 144 -> 10): loss {loss:.12}, gradient norm {norm:.12}"
    );
    println!(
        "  gradient, one sample: {:.2} us",
        per_sample.as_secs_f64() * 1e6
    );
    for threads in [1, 2] {
        let Some(t) = support::on_threads(threads, || {
            support::time(|| {
                std::hint::black_box(
                    digits_cnn::gradient_batch_into(&p, xs, ys, &mut ws, &mut gb).expect("shapes"),
                );
            })
        }) else {
            continue;
        };
        println!(
            "  gradient_batch_into, {BATCH} rows, {threads} thread(s): {:.1} us",
            t.as_secs_f64() * 1e6
        );
        out.insert(
            format!("batch_{threads}_us"),
            (t.as_secs_f64() * 1e6).into(),
        );
    }
    std::fs::create_dir_all("bench/results").expect("results dir");
    std::fs::write(
        "bench/results/digits_cnn_rust.json",
        serde_json::Value::Object(out).to_string(),
    )
    .expect("write");
}
