//! Independent checks shared by the integration tests: a reference interpreter of checked
//! networks that never touches the IR, central finite differences over it, and a small
//! deterministic random source.

#![allow(dead_code)]

use chainrule::core::eval::Sample;
use chainrule::core::model::{Model, Network, Shape, TExpr, TExprKind};
use chainrule_grammar::{BatchRule, TargetKind};

mod reference;
pub use reference::Reference;

/// SplitMix64: reproducible random numbers without a dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
    }
}

/// The batch loss by the reference interpreter; `None` when a point sits near a kink.
pub fn reference_batch_loss(
    model: &Model,
    network: &Network,
    params: &[Vec<f64>],
    samples: &[Sample],
) -> Option<f64> {
    let mut total = 0.0;
    for s in samples {
        let mut r = Reference::new(model, network, params, s);
        total += r.loss();
        if r.near_kink {
            return None;
        }
    }
    Some(match network.batch {
        BatchRule::Sum => total,
        BatchRule::Mean => total / samples.len() as f64,
    })
}

/// Central finite differences of the reference batch loss for every parameter element. A
/// network with `grad` gets a five-point stencil with a larger step: its reference values
/// are themselves differences, whose rounding a tiny step would magnify.
pub fn finite_differences(
    model: &Model,
    network: &Network,
    params: &[Vec<f64>],
    samples: &[Sample],
) -> Option<Vec<Vec<f64>>> {
    let nested = has_grad(network);
    let mut out = Vec::new();
    for p in 0..params.len() {
        let mut row = Vec::new();
        for e in 0..params[p].len() {
            let scale = params[p][e].abs().max(1.0);
            let at = |d: f64| {
                let mut moved = params.to_vec();
                moved[p][e] += d;
                reference_batch_loss(model, network, &moved, samples)
            };
            let value = if nested {
                let h = 1e-3 * scale;
                let (p2, p1, m1, m2) = (at(2.0 * h)?, at(h)?, at(-h)?, at(-2.0 * h)?);
                (-p2 + 8.0 * p1 - 8.0 * m1 + m2) / (12.0 * h)
            } else {
                let h = 1e-6 * scale;
                (at(h)? - at(-h)?) / (2.0 * h)
            };
            row.push(value);
        }
        out.push(row);
    }
    Some(out)
}

/// Whether any vector or the loss holds `grad(S, v)`.
pub fn has_grad(network: &Network) -> bool {
    fn walk(e: &TExpr) -> bool {
        match &e.kind {
            TExprKind::Grad(..) => true,
            TExprKind::Const(_)
            | TExprKind::Symbol(_)
            | TExprKind::Element(..)
            | TExprKind::Delta(..) => false,
            TExprKind::Neg(a)
            | TExprKind::Pow(a, _)
            | TExprKind::Builtin(_, a)
            | TExprKind::MatVec(_, a)
            | TExprKind::VecMat(a, _)
            | TExprKind::Reduce(_, a)
            | TExprKind::SumOver(_, a)
            | TExprKind::ExtremumOver(_, _, a)
            | TExprKind::IndexDef(_, a)
            | TExprKind::VectorFn(_, a) => walk(a),
            TExprKind::Binary(_, a, b) => walk(a) || walk(b),
            TExprKind::Call(_, args) => args.iter().any(walk),
        }
    }
    network.vectors.iter().any(|v| walk(&v.expr)) || walk(&network.loss.expr)
}

/// A random point: parameters and samples drawn from `[lo, hi)`; inputs feeding `log` or
/// `sqrt` are kept positive by drawing from `(0.1, hi)` when `positive` is set.
pub fn random_point(
    network: &Network,
    rng: &mut Rng,
    samples: usize,
    positive: bool,
) -> (Vec<Vec<f64>>, Vec<Sample>) {
    let (lo, hi) = if positive { (0.1, 1.0) } else { (-1.0, 1.0) };
    let params = network
        .params
        .iter()
        .map(|p| (0..p.shape.len()).map(|_| rng.uniform(lo, hi)).collect())
        .collect();
    let samples = (0..samples)
        .map(|_| Sample {
            inputs: network
                .inputs
                .iter()
                .map(|v| (0..v.size).map(|_| rng.uniform(lo, hi)).collect())
                .collect(),
            targets: network
                .targets
                .iter()
                .map(|v| random_target(v.kind, v.size, rng, lo, hi))
                .collect(),
        })
        .collect();
    (params, samples)
}

/// A target sample of the declared kind: a random class for `onehot`, positive numbers
/// normalized to sum to one for `probabilities`, else uniform in `[lo, hi)`.
pub fn random_target(kind: TargetKind, size: usize, rng: &mut Rng, lo: f64, hi: f64) -> Vec<f64> {
    match kind {
        TargetKind::Plain => (0..size).map(|_| rng.uniform(lo, hi)).collect(),
        TargetKind::OneHot | TargetKind::Label => {
            let class = (rng.next_u64() % size as u64) as usize;
            (0..size).map(|k| f64::from(u8::from(k == class))).collect()
        }
        TargetKind::Probabilities => {
            let raw: Vec<f64> = (0..size).map(|_| rng.uniform(0.1, 1.0)).collect();
            let total: f64 = raw.iter().sum();
            raw.iter().map(|r| r / total).collect()
        }
    }
}

/// Whether the network calls a function that needs positive arguments.
pub fn needs_positive(source: &str) -> bool {
    source.contains("log(")
        || source.contains("sqrt(")
        || source.contains("^0.5")
        || source.contains("^ 0.5")
        || source.contains("^-")
}

/// Compares the derivation's gradient with finite differences of the reference interpreter
/// at a few random points. Returns a description of the first disagreement.
pub fn check_gradients(
    model: &Model,
    network: &Network,
    source: &str,
    seed: u64,
) -> Result<usize, String> {
    let derivation = chainrule::core::derive::derive(network, &model.functions);
    let mut rng = Rng(seed);
    let positive = needs_positive(source);
    let mut checked = 0;
    for attempt in 0..12 {
        if checked == 3 {
            break;
        }
        let (params, samples) = random_point(network, &mut rng, 1 + attempt % 3, positive);
        let Some(reference_loss) = reference_batch_loss(model, network, &params, &samples) else {
            continue;
        };
        let Some(fd) = finite_differences(model, network, &params, &samples) else {
            continue;
        };
        if !reference_loss.is_finite() {
            continue;
        }
        let result = chainrule::core::eval::evaluate_batch(&derivation, network, &params, &samples);
        let scale = reference_loss.abs().max(1.0);
        if (result.loss - reference_loss).abs() > 1e-9 * scale {
            return Err(format!(
                "{}: loss {} but the reference gives {}",
                network.name, result.loss, reference_loss
            ));
        }
        for (p, (g, f)) in result.gradient.iter().zip(&fd).enumerate() {
            for (e, (a, b)) in g.iter().zip(f).enumerate() {
                let tolerance = 1e-5 * a.abs().max(b.abs()).max(1.0);
                if (a - b).abs() > tolerance {
                    return Err(format!(
                        "{}: dL/d{}[{e}] is {a} but finite differences give {b} (params {params:?})",
                        network.name, network.params[p].name
                    ));
                }
            }
        }
        checked += 1;
    }
    Ok(checked)
}

/// Every `examples/nets/*.nn` file as `(file stem, text)`, in name order.
pub fn example_files() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/nets");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("examples/nets")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "nn"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            (
                p.file_stem().expect("stem").to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).expect("read"),
            )
        })
        .collect()
}

/// A proptest configuration of `cases` cases with a fixed seed, so that the suite runs the
/// same cases on every machine (a rare kink can otherwise fail one run in many); set
/// `PROPTEST_RNG_SEED` to explore other seeds.
pub fn proptest_config(cases: u32) -> proptest::test_runner::Config {
    use proptest::test_runner::{Config, RngSeed};
    let rng_seed = match std::env::var("PROPTEST_RNG_SEED") {
        Ok(_) => Config::default().rng_seed,
        Err(_) => RngSeed::Fixed(0x00c4_a172_0126),
    };
    Config {
        cases,
        rng_seed,
        ..Config::default()
    }
}

/// A batch of one input or target in the `--data` layout: rows of a vector, numbers of a
/// scalar, class indices of a label (a sample holds a label as its one-hot row).
pub fn datum_json<'s>(
    v: &chainrule::core::model::DataVar,
    rows: impl Iterator<Item = &'s Vec<f64>>,
) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = rows
        .map(|r| {
            if v.kind == TargetKind::Label {
                serde_json::json!(r.iter().position(|e| *e == 1.0).unwrap_or(0))
            } else if v.shape == Shape::Scalar {
                serde_json::json!(r[0])
            } else {
                // A tensor's sample nests one array per axis, as `--data` reads it.
                chainrule::core::report::nested(r, v.shape)
            }
        })
        .collect();
    serde_json::Value::Array(rows)
}
