//! A 784-128-10 MNIST-sized network trained by `sgd_step` on generated data: ten random
//! "digit" prototypes of 784 pixels, each sample a prototype with noise, the target its
//! one-hot class. The loss falls epoch by epoch and the accuracy climbs.
//!
//! Run with `cargo run --release --example mnist_like`.

chainrule::derive! {
    network mnist {
        input  x[784]
        target t[10]
        h[128] = sigmoid(W1 @ x + b1)
        y[10]  = W2 @ h + b2
        loss L = 0.5 * sum((y - t)^2)
    }
}

/// SplitMix64, for the data only (the weights come from `Params::init`).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn main() {
    let mut rng = Rng(2024);
    let prototypes: Vec<[f64; 784]> = (0..10)
        .map(|_| std::array::from_fn(|_| if rng.next() < 0.2 { 1.0 } else { 0.0 }))
        .collect();
    let samples: Vec<([f64; 784], [f64; 10], usize)> = (0..2_000)
        .map(|i| {
            let class = i % 10;
            let x = std::array::from_fn(|j| {
                (prototypes[class][j] + 0.5 * (rng.next() - 0.5)).clamp(0.0, 1.0)
            });
            let mut t = [0.0; 10];
            t[class] = 1.0;
            (x, t, class)
        })
        .collect();

    let mut p = mnist::Params::boxed_init(1);
    let lr = 0.005;
    let mut first = None;
    let mut last = f64::INFINITY;
    for epoch in 0..5 {
        let mut total = 0.0;
        for (x, t, _) in &samples {
            total += mnist::sgd_step(&mut p, x, t, lr);
        }
        let mean = total / samples.len() as f64;
        let correct = samples
            .iter()
            .filter(|(x, _, class)| {
                let y = mnist::forward(&p, x).y;
                let best = (0..10).max_by(|&a, &b| y[a].total_cmp(&y[b]));
                best == Some(*class)
            })
            .count();
        println!(
            "epoch {epoch}: mean loss {mean:.5}, accuracy {:.1}%",
            100.0 * correct as f64 / samples.len() as f64
        );
        first.get_or_insert(mean);
        last = mean;
    }
    let first = first.unwrap_or(f64::NAN);
    assert!(last < 0.5 * first, "the loss falls: {first} -> {last}");
}
