//! The Elman network of issue 20 (`benches/nets/elman.nn`: input 8, hidden 64, 32 steps): the
//! gradient of one sample, and of a batch of 64 on one and two threads (`--features
//! parallel`), the loop over time that `derive!` generates. `bench/elman_bench.py` times
//! JAX's `jit(value_and_grad)` over `lax.scan` on the same numbers; both print the loss so the
//! two can be compared.
//!
//! `cargo bench --bench elman --features parallel`; writes `bench/results/elman_rust.json`.

#[path = "batch_support.rs"]
mod support;

chainrule::derive!(file = "benches/nets/elman.nn");

const BATCH: usize = 64;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` and test harness probes
    }
    let mut p = elman::Params::zeros();
    p.set_flat(
        &support::numbers(7, elman::PARAMS, 0.2)
            .try_into()
            .expect("count"),
    );
    let x = support::numbers(8, BATCH * 32 * 8, 1.0);
    let y = support::numbers(9, BATCH * 32 * 2, 1.0);
    let xs = chainrule::ndarray::ArrayView2::from_shape((BATCH, 32 * 8), &x).expect("shape");
    let ys = chainrule::ndarray::ArrayView2::from_shape((BATCH, 32 * 2), &y).expect("shape");
    let sample = |s: usize| -> ([[f64; 8]; 32], [[f64; 2]; 32]) {
        let mut xi = [[0.0; 8]; 32];
        let mut yi = [[0.0; 2]; 32];
        for t in 0..32 {
            xi[t].copy_from_slice(&x[s * 256 + t * 8..s * 256 + t * 8 + 8]);
            yi[t].copy_from_slice(&y[s * 64 + t * 2..s * 64 + t * 2 + 2]);
        }
        (xi, yi)
    };
    let (x0, y0) = sample(0);
    let mut g = elman::Params::zeros();
    let per_sample = support::time(|| {
        std::hint::black_box(elman::gradient_into(&p, &x0, &y0, &mut g));
    });
    let mut ws = elman::BatchWorkspace::new();
    let mut gb = elman::Params::boxed_zeros();
    let loss = elman::gradient_batch_into(&p, xs, ys, &mut ws, &mut gb).expect("shapes");
    // The batch agrees with the mean of the per-sample gradients.
    let mut mean = elman::Params::zeros();
    let mut total = 0.0;
    for s in 0..BATCH {
        let (xi, yi) = sample(s);
        let (l, gi) = elman::gradient(&p, &xi, &yi);
        total += l / BATCH as f64;
        let mut flat = mean.flat();
        for (a, b) in flat.iter_mut().zip(gi.flat()) {
            *a += b / BATCH as f64;
        }
        mean.set_flat(&flat);
    }
    assert!(
        (total - loss).abs() <= 1e-12 * total.abs().max(1.0),
        "{total} vs {loss}"
    );
    for (a, b) in mean.flat().iter().zip(gb.flat()) {
        assert!((a - b).abs() <= 1e-10 * a.abs().max(1.0), "{a} vs {b}");
    }
    let mut out = serde_json::Map::new();
    out.insert("loss".into(), loss.into());
    out.insert(
        "per_sample_us".into(),
        (per_sample.as_secs_f64() * 1e6).into(),
    );
    println!("elman (8 -> 64, 32 steps): loss {loss:.12}");
    println!(
        "  gradient, one sample: {:.1} us",
        per_sample.as_secs_f64() * 1e6
    );
    for threads in [1, 2] {
        let Some(t) = support::on_threads(threads, || {
            support::time(|| {
                std::hint::black_box(
                    elman::gradient_batch_into(&p, xs, ys, &mut ws, &mut gb).expect("shapes"),
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
        "bench/results/elman_rust.json",
        serde_json::Value::Object(out).to_string(),
    )
    .expect("write");
}
