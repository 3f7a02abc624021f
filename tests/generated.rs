//! Generated code, compiled and run: for every network of the corpus and the examples, the
//! gradient `chainrule::derive!` generates (f64 and f32) agrees with the core evaluator and
//! with central finite differences of the independent interpreter in `tests/support`.

mod support;

use chainrule::core::check_source;
use chainrule::core::derive::derive;
use chainrule::core::eval::{Sample, evaluate_batch};

type Gradient64 = dyn Fn(&[f64], &[f64]) -> (f64, Vec<f64>);
type Gradient32 = dyn Fn(&[f32], &[f32]) -> (f32, Vec<f32>);
type Step64 = dyn Fn(&[f64], &[f64], f64) -> (f64, Vec<f64>);

/// Runs the generated gradient of one network at a few random points.
fn check(file: &str, network: &str, generated: &Gradient64, single: &Gradient32, step: &Step64) {
    let text = std::fs::read_to_string(file).expect("corpus file");
    let model = check_source(&text).expect("corpus file checks");
    let network = model.network(network).expect("network");
    let derivation = derive(network, &model.functions);
    let mut rng = support::Rng(0xc0de ^ file.len() as u64);
    let positive = support::needs_positive(&text);
    let mut checked = 0;
    for _ in 0..12 {
        if checked == 3 {
            break;
        }
        let (params, samples) = support::random_point(network, &mut rng, 1, positive);
        let Some(fd) = support::finite_differences(&model, network, &params, &samples) else {
            continue;
        };
        let flat_params: Vec<f64> = params.concat();
        let sample = &samples[0];
        let data: Vec<f64> = sample
            .inputs
            .iter()
            .chain(&sample.targets)
            .flatten()
            .copied()
            .collect();
        let (loss, gradient) = generated(&flat_params, &data);
        let core = evaluate_batch(
            &derivation,
            network,
            &params,
            std::slice::from_ref::<Sample>(sample),
        );
        if !core.loss.is_finite() {
            continue;
        }
        assert!(
            (loss - core.loss).abs() <= 1e-12 * core.loss.abs().max(1.0),
            "{file}: loss {loss} vs core {}",
            core.loss
        );
        for (i, ((g, c), f)) in gradient
            .iter()
            .zip(core.gradient.concat())
            .zip(fd.concat())
            .enumerate()
        {
            assert!(
                (g - c).abs() <= 1e-10 * c.abs().max(1.0),
                "{file}: element {i}: generated {g} vs core {c}"
            );
            assert!(
                (g - f).abs() <= 1e-5 * f.abs().max(1.0),
                "{file}: element {i}: generated {g} vs finite differences {f}"
            );
        }
        // One step in place: the weights move by exactly lr times the evaluator's gradient.
        let lr = 0.125;
        let (step_loss, stepped) = step(&flat_params, &data, lr);
        assert!(
            (step_loss - core.loss).abs() <= 1e-12 * core.loss.abs().max(1.0),
            "{file}: sgd_step loss {step_loss} vs core {}",
            core.loss
        );
        for (i, ((w, c), before)) in stepped
            .iter()
            .zip(core.gradient.concat())
            .zip(&flat_params)
            .enumerate()
        {
            let want = before - lr * c;
            assert!(
                (w - want).abs() <= 1e-10 * want.abs().max(1.0),
                "{file}: element {i}: sgd_step gives {w}, the evaluator's step {want}"
            );
        }
        let params32: Vec<f32> = flat_params.iter().map(|v| *v as f32).collect();
        let data32: Vec<f32> = data.iter().map(|v| *v as f32).collect();
        let (loss32, gradient32) = single(&params32, &data32);
        assert!(
            (f64::from(loss32) - loss).abs() <= 1e-3 * loss.abs().max(1.0),
            "{file}: f32 loss {loss32} vs {loss}"
        );
        for (i, (g32, g)) in gradient32.iter().zip(&gradient).enumerate() {
            assert!(
                (f64::from(*g32) - g).abs() <= 2e-3 * g.abs().max(1.0),
                "{file}: element {i}: f32 {g32} vs f64 {g}"
            );
        }
        checked += 1;
    }
    assert!(checked > 0, "{file}: no usable random point");
}

/// One module per unroll mode and float type; each checked against the evaluator and finite
/// differences.
macro_rules! case {
    ($module:ident, $file:literal, $network:ident) => {
        // `deprecated`: a corpus network may have warnings on purpose (`derive!` reports them
        // through the deprecation lint); these tests are about the code, not the warnings.
        #[allow(non_snake_case, deprecated)]
        mod $module {
            mod auto {
                chainrule::derive!(file = $file, network = $network);
                pub mod single {
                    chainrule::derive!(float = f32, file = $file, network = $network);
                }
            }
            mod always {
                chainrule::derive!(unroll = always, file = $file, network = $network);
                pub mod single {
                    chainrule::derive!(unroll = always, float = f32, file = $file, network = $network);
                }
            }
            mod never {
                chainrule::derive!(unroll = never, file = $file, network = $network);
                pub mod single {
                    chainrule::derive!(unroll = never, float = f32, file = $file, network = $network);
                }
            }

            case!(@mode auto, $file, $network);
            case!(@mode always, $file, $network);
            case!(@mode never, $file, $network);
        }
    };
    (@mode $mode:ident, $file:literal, $network:ident) => {
        #[test]
        fn $mode() {
            use $mode::$network as double;
            use $mode::single::$network as single;
            let generated = |p: &[f64], d: &[f64]| {
                let (loss, g) =
                    double::gradient_flat(p.try_into().expect("params"), d.try_into().expect("data"));
                (loss, g.to_vec())
            };
            let single = |p: &[f32], d: &[f32]| {
                let (loss, g) =
                    single::gradient_flat(p.try_into().expect("params"), d.try_into().expect("data"));
                (loss, g.to_vec())
            };
            let step = |p: &[f64], d: &[f64], lr: f64| {
                let mut params: [f64; double::PARAMS] = p.try_into().expect("params");
                let loss = double::sgd_step_flat(&mut params, d.try_into().expect("data"), lr);
                (loss, params.to_vec())
            };
            super::check($file, stringify!($network), &generated, &single, &step);
        }
    };
}

include!("generated/cases.rs");

/// The case list covers every network of the corpus and the examples.
#[test]
fn case_list_is_up_to_date() {
    let listed = std::fs::read_to_string("tests/generated/cases.rs").expect("case list");
    for dir in ["tests/corpus/ok", "examples/nets"] {
        for entry in std::fs::read_dir(dir).expect("dir") {
            let path = entry.expect("entry").path();
            if path.extension().is_none_or(|e| e != "nn") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read");
            let model = check_source(&text).expect("checks");
            for network in &model.networks {
                let needle = format!("\"{}\", {});", path.display(), network.name);
                assert!(
                    listed.contains(&needle),
                    "{} is not in tests/generated/cases.rs: run scripts/generate-cases",
                    needle
                );
            }
        }
    }
}
