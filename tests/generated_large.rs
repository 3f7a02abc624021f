//! Networks of real size through `chainrule::derive!`: a 784-256-256-10 network (269,322
//! weights) whose `gradient_into` and `sgd_step` run on a thread with a 2 MiB stack, checked
//! against the independent interpreter of `tests/support` (its loss, and central finite
//! differences at sampled weights) and against the core evaluator.

mod support;

use chainrule::core::check_source;
use chainrule::core::eval::Sample;
use support::{Reference, Rng};

chainrule::derive!(file = "tests/large/mnist_784_256_256_10.nn");

const FILE: &str = "tests/large/mnist_784_256_256_10.nn";

/// The parameters in the interpreter's layout: one row-major vector per parameter.
fn split(flat: &[f64]) -> Vec<Vec<f64>> {
    let mut rows = Vec::new();
    let mut at = 0;
    for len in [256 * 784, 256, 256 * 256, 256, 10 * 256, 10] {
        rows.push(flat[at..at + len].to_vec());
        at += len;
    }
    assert_eq!(at, flat.len());
    rows
}

fn sample(rng: &mut Rng) -> ([f64; 784], [f64; 10]) {
    let mut x = [0.0; 784];
    x.iter_mut().for_each(|v| *v = rng.uniform(0.0, 1.0));
    let mut t = [0.0; 10];
    t[(rng.next_u64() % 10) as usize] = 1.0;
    (x, t)
}

/// Runs `f` on a thread with a 2 MiB stack, as a user's worker thread would.
fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .expect("thread")
        .join()
        .expect("no panic, no stack overflow");
}

#[test]
fn gradient_into_agrees_with_the_interpreter_on_a_2_mib_stack() {
    on_small_stack(|| {
        let text = std::fs::read_to_string(FILE).expect("file");
        let model = check_source(&text).expect("checks");
        let network = model.network("mnist").expect("network");
        let mut rng = Rng(0x5eed);
        let p = mnist::Params::boxed_init(7);
        let mut g = mnist::Params::boxed_zeros();
        let (x, t) = sample(&mut rng);
        let loss = mnist::gradient_into(&p, &x, &t, &mut g);

        let params = split(&p.to_vec());
        let sample = Sample {
            inputs: vec![x.to_vec()],
            targets: vec![t.to_vec()],
        };
        let reference = Reference::new(&model, network, &params, &sample).loss();
        assert!(
            (loss - reference).abs() <= 1e-10 * reference.abs().max(1.0),
            "loss {loss} vs interpreter {reference}"
        );
        let gradient = g.to_vec();
        let mut checked = 0;
        for _ in 0..40 {
            // Half the draws in the small output layers, where every weight matters.
            let e = if rng.next_u64().is_multiple_of(2) {
                (rng.next_u64() % gradient.len() as u64) as usize
            } else {
                gradient.len() - 1 - (rng.next_u64() % 2_570) as usize
            };
            let h = 1e-6;
            let at = |delta: f64| {
                let mut flat = p.to_vec();
                flat[e] += delta;
                let params = split(&flat);
                let mut r = Reference::new(&model, network, &params, &sample);
                let l = r.loss();
                (!r.near_kink).then_some(l)
            };
            let (Some(up), Some(down)) = (at(h), at(-h)) else {
                continue;
            };
            let fd = (up - down) / (2.0 * h);
            assert!(
                (gradient[e] - fd).abs() <= 1e-5 * fd.abs().max(1.0),
                "element {e} ({}): generated {} vs finite differences {fd}",
                mnist::Params::element_name(e),
                gradient[e]
            );
            checked += 1;
        }
        assert!(
            checked >= 20,
            "only {checked} elements away from relu's kink"
        );
    });
}

#[test]
fn sgd_step_updates_in_place_and_the_loss_falls_on_a_2_mib_stack() {
    on_small_stack(|| {
        let mut rng = Rng(0xface);
        let (x, t) = sample(&mut rng);
        let p = mnist::Params::boxed_init(11);
        let mut g = mnist::Params::boxed_zeros();
        let before = mnist::gradient_into(&p, &x, &t, &mut g);
        let mut q = mnist::Params::boxed_init(11);
        let lr = 0.001;
        let loss = mnist::sgd_step(&mut q, &x, &t, lr);
        assert_eq!(loss, before, "sgd_step returns the loss before the step");
        for (i, ((after, w), d)) in q
            .to_vec()
            .iter()
            .zip(p.to_vec())
            .zip(g.to_vec())
            .enumerate()
        {
            let want = w - lr * d;
            assert!(
                (after - want).abs() <= 1e-12 * want.abs().max(1.0),
                "element {i}: {after} vs {want}"
            );
        }
        let mut last = loss;
        for _ in 0..5 {
            let l = mnist::sgd_step(&mut q, &x, &t, lr);
            assert!(l < last, "the loss falls on one sample: {l} after {last}");
            last = l;
        }
    });
}

#[test]
fn init_is_deterministic_and_scaled_by_fan_in() {
    on_small_stack(|| {
        let a = mnist::Params::boxed_init(3);
        let b = mnist::Params::boxed_init(3);
        let c = mnist::Params::boxed_init(4);
        assert!(*a == *b, "the same seed gives the same weights");
        assert!(a.W1 != c.W1, "another seed gives other weights");
        assert!(
            a.b1.iter().chain(&a.b2).chain(&a.b3).all(|b| *b == 0.0),
            "biases zero"
        );
        // He for the relu layers (fan-in 784, 256), Glorot for the linear output (256 -> 10):
        // uniform on [-limit, limit), so a variance of limit^2 / 3.
        let layers: [(&[f64], f64); 3] = [
            (a.W1.as_flattened(), (6.0f64 / 784.0).sqrt()),
            (a.W2.as_flattened(), (6.0f64 / 256.0).sqrt()),
            (a.W3.as_flattened(), (6.0f64 / 266.0).sqrt()),
        ];
        for (weights, limit) in layers {
            assert!(weights.iter().all(|w| w.abs() <= limit));
            let variance = weights.iter().map(|w| w * w).sum::<f64>() / weights.len() as f64;
            let want = limit * limit / 3.0;
            assert!(
                (variance - want).abs() <= 0.1 * want,
                "variance {variance} vs {want}"
            );
        }
        // The first weights of seed 3, as SplitMix64 (Steele, Lea and Flood) gives them:
        // stream 0 is seeded with 3 ^ 0, its first output the state, then two draws.
        fn next(state: &mut u64) -> u64 {
            *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = *state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        let mut state: u64 = 3;
        state = next(&mut state);
        let limit = (6.0f64 / 784.0).sqrt();
        for w in &a.W1[0][..2] {
            let unit = (next(&mut state) >> 11) as f64 / (1u64 << 53) as f64;
            assert_eq!(*w, (2.0 * unit - 1.0) * limit);
        }
    });
}

#[test]
fn latex_is_the_bounded_general_form() {
    assert!(mnist::LATEX.contains("\\sum_{i}"));
    assert!(mnist::LATEX.len() < 4_000, "{} bytes", mnist::LATEX.len());
}

mod wide {
    chainrule::derive!(file = "tests/large/wide.nn");
    pub mod never {
        chainrule::derive!(unroll = never, file = "tests/large/wide.nn");
    }
    pub mod single {
        chainrule::derive!(float = f32, file = "tests/large/wide.nn");
    }
}

#[test]
fn a_wide_network_agrees_with_the_evaluator_at_random_points() {
    use chainrule::core::derive::derive;
    use chainrule::core::eval::evaluate_batch;
    let text = std::fs::read_to_string("tests/large/wide.nn").expect("file");
    let model = check_source(&text).expect("checks");
    let network = model.network("wide").expect("network");
    let derivation = derive(network, &model.functions);
    let mut rng = Rng(0x1de);
    for _ in 0..2 {
        let (params, samples) = support::random_point(network, &mut rng, 1, false);
        let core = evaluate_batch(&derivation, network, &params, &samples);
        let flat: Vec<f64> = params.concat();
        let data: Vec<f64> = samples[0]
            .inputs
            .concat()
            .into_iter()
            .chain(samples[0].targets.concat())
            .collect();
        let data: &[f64; wide::wide::DATA] = data.as_slice().try_into().expect("data");
        let mut p = wide::wide::Params::boxed_zeros();
        p.set_flat(flat.as_slice().try_into().expect("params"));
        let x: &[f64; 200] = data[..200].try_into().expect("x");
        let t: &[f64; 10] = data[200..].try_into().expect("t");
        let mut g = wide::wide::Params::boxed_zeros();
        let mut g_never = wide::never::wide::Params::boxed_zeros();
        let mut p_never = wide::never::wide::Params::boxed_zeros();
        p_never.set_flat(flat.as_slice().try_into().expect("params"));
        let loss = wide::wide::gradient_into(&p, x, t, &mut g);
        let loss_never = wide::never::wide::gradient_into(&p_never, x, t, &mut g_never);
        let mut p32 = wide::single::wide::Params::boxed_zeros();
        let flat32: Vec<f32> = flat.iter().map(|v| *v as f32).collect();
        p32.set_flat(flat32.as_slice().try_into().expect("params"));
        let x32 = x.map(|v| v as f32);
        let t32 = t.map(|v| v as f32);
        let mut g32 = wide::single::wide::Params::boxed_zeros();
        let loss32 = wide::single::wide::gradient_into(&p32, &x32, &t32, &mut g32);
        for l in [loss, loss_never] {
            assert!(
                (l - core.loss).abs() <= 1e-10 * core.loss.abs().max(1.0),
                "{l} vs {}",
                core.loss
            );
        }
        assert!((f64::from(loss32) - core.loss).abs() <= 1e-3 * core.loss.abs().max(1.0));
        let want = core.gradient.concat();
        for (i, ((a, b), c)) in g
            .to_vec()
            .iter()
            .zip(g_never.to_vec())
            .zip(g32.to_vec())
            .enumerate()
        {
            let w = want[i];
            assert!(
                (a - w).abs() <= 1e-10 * w.abs().max(1.0),
                "element {i}: {a} vs {w}"
            );
            assert!(
                (b - w).abs() <= 1e-10 * w.abs().max(1.0),
                "element {i}: never {b} vs {w}"
            );
            assert!(
                (f64::from(c) - w).abs() <= 2e-3 * w.abs().max(1.0),
                "element {i}: f32 {c} vs {w}"
            );
        }
    }
}
