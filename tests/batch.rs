//! The batch functions (issue 13), compiled and run for every network of the corpus and the
//! examples in each `batch` mode (`per_sample`, `matrix`, `auto`): with 1, 2, 7 and 2,053
//! samples (not a multiple of any chunk or part size, and more rows than one part's chunk)
//! they agree with the per-sample `gradient` combined here by the network's batch rule, and
//! for the small batches with the core evaluator, within 1e-12 relative.

mod support;

use chainrule::core::check_source;
use chainrule::core::derive::derive;
use chainrule::core::eval::evaluate_batch;
use chainrule::ndarray::{Array2, ArrayView2};
use chainrule_grammar::BatchRule;

type Batch = dyn Fn(&[f64], ArrayView2<'_, f64>) -> (f64, Vec<f64>);
type Single = dyn Fn(&[f64], &[f64]) -> (f64, Vec<f64>);

/// `|a - b| <= 1e-12 * max(|a|, |b|, 1e-3 * scale)`: relative, except for elements far below
/// the gradient's largest (`scale`), where cancellation in a different summation order is
/// measured against the gradient's size.
fn close(a: f64, b: f64, scale: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1e-3 * scale) || a == b
}

fn check(file: &str, network: &str, single: &Single, modes: &[(&str, &Batch)]) {
    let text = std::fs::read_to_string(file).expect("corpus file");
    let model = check_source(&text).expect("corpus file checks");
    let network = model.network(network).expect("network");
    let derivation = derive(network, &model.functions);
    let mut rng = support::Rng(0xba7c ^ file.len() as u64);
    let positive = support::needs_positive(&text);
    for rows in [1usize, 2, 7, 2053] {
        let (params, samples) = support::random_point(network, &mut rng, rows, positive);
        let flat: Vec<f64> = params.concat();
        let width: usize = network
            .inputs
            .iter()
            .chain(&network.targets)
            .map(|v| v.size)
            .sum();
        let data: Vec<f64> = samples
            .iter()
            .flat_map(|s| s.inputs.iter().chain(&s.targets).flatten().copied())
            .collect();
        let data = Array2::from_shape_vec((rows, width), data).expect("rows x width");
        // The per-sample gradient, combined here.
        let mut loss = 0.0;
        let mut gradient = vec![0.0; flat.len()];
        for row in data.rows() {
            let (l, g) = single(&flat, row.as_slice().expect("contiguous row"));
            loss += l;
            gradient.iter_mut().zip(&g).for_each(|(t, v)| *t += v);
        }
        let scale = match network.batch {
            BatchRule::Sum => 1.0,
            BatchRule::Mean => 1.0 / rows as f64,
        };
        loss *= scale;
        gradient.iter_mut().for_each(|g| *g *= scale);
        if !loss.is_finite() {
            continue;
        }
        let size = gradient.iter().fold(0.0f64, |m, g| m.max(g.abs()));
        if rows <= 7 {
            let core = evaluate_batch(&derivation, network, &params, &samples);
            assert!(
                close(loss, core.loss, loss.abs()),
                "{file}: {rows} rows: loss {loss} vs core {}",
                core.loss
            );
            for (i, (g, c)) in gradient.iter().zip(core.gradient.concat()).enumerate() {
                assert!(
                    close(*g, c, size),
                    "{file}: {rows} rows: element {i}: per sample {g} vs core {c}"
                );
            }
        }
        for (mode, batch) in modes {
            let (l, g) = batch(&flat, data.view());
            assert!(
                close(l, loss, loss.abs()),
                "{file} ({mode}, {rows} rows): loss {l} vs per sample {loss}"
            );
            for (i, (b, s)) in g.iter().zip(&gradient).enumerate() {
                assert!(
                    close(*b, *s, size),
                    "{file} ({mode}, {rows} rows): element {i}: batch {b} vs per sample {s}"
                );
            }
        }
    }
}

macro_rules! case {
    ($module:ident, $file:literal, $network:ident) => {
        // `deprecated`: a corpus network may have warnings on purpose (`derive!` reports them
        // through the deprecation lint); these tests are about the code, not the warnings.
        #[allow(non_snake_case, deprecated)]
        mod $module {
            mod auto {
                chainrule::derive!(file = $file, network = $network);
            }
            mod matrix {
                chainrule::derive!(batch = matrix, file = $file, network = $network);
            }
            mod per_sample {
                chainrule::derive!(batch = per_sample, file = $file, network = $network);
            }

            #[test]
            fn batch_matches_per_sample() {
                use chainrule::ndarray::ArrayView2;
                let single = |p: &[f64], d: &[f64]| {
                    let (loss, g) = auto::$network::gradient_flat(
                        p.try_into().expect("params"),
                        d.try_into().expect("data"),
                    );
                    (loss, g.to_vec())
                };
                let auto = |p: &[f64], d: ArrayView2<'_, f64>| {
                    let mut ws = auto::$network::BatchWorkspace::new();
                    auto::$network::gradient_batch_flat(p, d, &mut ws).expect("shapes")
                };
                let matrix = |p: &[f64], d: ArrayView2<'_, f64>| {
                    let mut ws = matrix::$network::BatchWorkspace::new();
                    matrix::$network::gradient_batch_flat(p, d, &mut ws).expect("shapes")
                };
                let per_sample = |p: &[f64], d: ArrayView2<'_, f64>| {
                    let mut ws = per_sample::$network::BatchWorkspace::new();
                    per_sample::$network::gradient_batch_flat(p, d, &mut ws).expect("shapes")
                };
                super::check(
                    $file,
                    stringify!($network),
                    &single,
                    &[
                        ("auto", &auto),
                        ("matrix", &matrix),
                        ("per_sample", &per_sample),
                    ],
                );
            }
        }
    };
}

include!("generated/cases.rs");
case!(bench__mlp16, "benches/nets/mlp16.nn", mlp16);
// The matrix form with weight decay: the loss's parameter-only term once per chunk.
case!(example__digits, "examples/digits.nn", digits);
// The statements form: a recurrence, a convolution with pooling and a label.
case!(example__digits_cnn, "examples/digits_cnn.nn", digits_cnn);
case!(example__sine_rnn, "examples/sine_rnn.nn", sine_rnn);

/// The matrix form is not a silent fallback: the layered networks of the corpus and the
/// examples get a plan (and therefore GEMM code), the irregular ones are named.
#[test]
fn layered_networks_get_the_matrix_form() {
    let listed = std::fs::read_to_string("tests/generated/cases.rs").expect("case list");
    let mut planned = Vec::new();
    let mut irregular = Vec::new();
    for line in listed.lines().filter(|l| l.starts_with("case!")) {
        let file = line.split('"').nth(1).expect("file");
        let name = line
            .rsplit(", ")
            .next()
            .expect("name")
            .trim_end_matches(");");
        let model = check_source(&std::fs::read_to_string(file).expect("read")).expect("checks");
        let network = model.network(name).expect("network");
        let derivation = derive(network, &model.functions);
        match chainrule::core::rust::batch::plan(network, &derivation) {
            Ok(plan) if plan.has_product() => planned.push(name.to_string()),
            Ok(_) => {}
            Err(why) => irregular.push(format!("{name}: {}", why.reason)),
        }
    }
    eprintln!("matrix form: {planned:?}\nper sample only: {irregular:#?}");
    for expected in [
        "seed004",
        "torch_batch",
        "wide",
        "deep",
        "sine",
        "seed002",
        // softmax and log_softmax rows (issue 21)
        "classifier",
        "softmax_named",
        "log_softmax_loss",
        "softmax_mse",
        "cs231n",
        // label targets read as their one-hot elements (issue 21)
        "label_classifier",
        "label_softmax",
    ] {
        assert!(
            planned.iter().any(|p| p == expected),
            "{expected} has no matrix plan"
        );
    }
}
