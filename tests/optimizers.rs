//! The generated optimizers (issue 22) against NumPy: `momentum_step`, `adam_step` (Adam and
//! AdamW) and their batch forms over 100 steps of tests/oracles/optimizers.nn agree to 1e-12
//! with tests/oracles/optimizers.json, which tests/oracles/optimizers.py computes with the
//! update rules PyTorch documents and a gradient written by hand. Straight-line and loop code,
//! per-sample and matrix batch forms, are each checked.

use chainrule::ndarray::Array2;
use serde_json::Value;

mod straight {
    chainrule::derive!(
        unroll = always,
        batch = per_sample,
        file = "tests/oracles/optimizers.nn"
    );
}
mod looped {
    chainrule::derive!(
        unroll = never,
        batch = matrix,
        file = "tests/oracles/optimizers.nn"
    );
}

fn oracle() -> Value {
    let text = std::fs::read_to_string("tests/oracles/optimizers.json").expect("oracle file");
    serde_json::from_str(&text).expect("oracle JSON")
}

fn rows<const N: usize>(v: &Value) -> Vec<[f64; N]> {
    v.as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            let mut row = [0.0; N];
            for (slot, x) in row.iter_mut().zip(r.as_array().expect("row")) {
                *slot = x.as_f64().expect("number");
            }
            row
        })
        .collect()
}

fn setting(o: &Value, kind: &str, name: &str, default: f64) -> f64 {
    o["settings"][kind][name].as_f64().unwrap_or(default)
}

/// Every loss and final weight within 1e-12 of the oracle's (relative above 1).
fn compare(what: &str, losses: &[f64], flat: &[f64], expected: &Value, params: Vec<f64>) {
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0);
    let want: Vec<f64> = expected["losses"]
        .as_array()
        .expect("losses")
        .iter()
        .map(|v| v.as_f64().expect("loss"))
        .collect();
    assert_eq!(losses.len(), want.len(), "{what}");
    for (i, (a, b)) in losses.iter().zip(&want).enumerate() {
        assert!(close(*a, *b), "{what}: loss of step {i}: {a} vs NumPy {b}");
    }
    for (i, (a, b)) in flat.iter().zip(&params).enumerate() {
        assert!(close(*a, *b), "{what}: weight {i}: {a} vs NumPy {b}");
    }
}

macro_rules! check_module {
    ($test:ident, $m:ident) => {
        #[test]
        fn $test() {
            use $m::opt::{Adam, Momentum, Params};
            let o = oracle();
            let steps = o["steps"].as_u64().expect("steps") as usize;
            let init = Params::from_json(&o["init"].to_string()).expect("init in --params layout");
            let (xs, ts) = (rows::<3>(&o["x"]), rows::<2>(&o["t"]));
            let (x, t) = (Array2::from(xs.clone()), Array2::from(ts.clone()));
            let expected_params = |kind: &str, mode: &str| {
                Params::from_json(&o[kind][mode]["params"].to_string())
                    .expect("params")
                    .flat()
                    .to_vec()
            };
            let adam = |kind: &str| {
                Adam::with(
                    setting(&o, kind, "lr", 0.0),
                    setting(&o, kind, "beta1", 0.9),
                    setting(&o, kind, "beta2", 0.999),
                    setting(&o, kind, "eps", 1e-8),
                    setting(&o, kind, "weight_decay", 0.0),
                )
            };
            let (lr, mu) = (
                setting(&o, "momentum", "lr", 0.0),
                setting(&o, "momentum", "mu", 0.0),
            );
            assert_eq!(
                Adam::new(0.01),
                adam("adam"),
                "Adam::new has PyTorch's defaults"
            );

            // Per sample, cycling through the samples.
            let (mut p, mut s) = (init, Momentum::new(lr, mu));
            let losses: Vec<f64> = (0..steps)
                .map(|i| {
                    $m::opt::momentum_step(&mut p, &mut s, &xs[i % xs.len()], &ts[i % ts.len()])
                })
                .collect();
            compare(
                "momentum per sample",
                &losses,
                &p.flat(),
                &o["momentum"]["per_sample"],
                expected_params("momentum", "per_sample"),
            );
            for kind in ["adam", "adamw"] {
                let (mut p, mut s) = (init, adam(kind));
                let losses: Vec<f64> = (0..steps)
                    .map(|i| {
                        $m::opt::adam_step(&mut p, &mut s, &xs[i % xs.len()], &ts[i % ts.len()])
                    })
                    .collect();
                assert_eq!(s.t as usize, steps);
                compare(
                    &format!("{kind} per sample"),
                    &losses,
                    &p.flat(),
                    &o[kind]["per_sample"],
                    expected_params(kind, "per_sample"),
                );
            }

            // The whole batch at every step, one call with its own workspace and one reusing one.
            let (mut p, mut s) = (init, Momentum::new(lr, mu));
            let losses: Vec<f64> = (0..steps)
                .map(|_| {
                    $m::opt::momentum_step_batch(&mut p, &mut s, x.view(), t.view())
                        .expect("shapes")
                })
                .collect();
            compare(
                "momentum batch",
                &losses,
                &p.flat(),
                &o["momentum"]["batch"],
                expected_params("momentum", "batch"),
            );
            let mut ws = $m::opt::BatchWorkspace::new();
            for kind in ["adam", "adamw"] {
                let (mut p, mut s) = (init, adam(kind));
                let losses: Vec<f64> = (0..steps)
                    .map(|_| {
                        $m::opt::adam_step_batch_into(&mut p, &mut s, x.view(), t.view(), &mut ws)
                            .expect("shapes")
                    })
                    .collect();
                compare(
                    &format!("{kind} batch"),
                    &losses,
                    &p.flat(),
                    &o[kind]["batch"],
                    expected_params(kind, "batch"),
                );
            }

            // A batch of the wrong shape is an error that changes nothing.
            let (mut p, mut s) = (init, adam("adam"));
            let wrong = Array2::<f64>::zeros((4, 2));
            assert!($m::opt::adam_step_batch(&mut p, &mut s, wrong.view(), t.view()).is_err());
            assert_eq!((p, s), (init, adam("adam")));
        }
    };
}

check_module!(straight_line_code_matches_numpy, straight);
check_module!(loop_code_matches_numpy, looped);
