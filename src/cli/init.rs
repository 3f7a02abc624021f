//! `eval --init SEED` and `explain --init SEED`: parameters without values drawn exactly as the
//! generated `Params::init(SEED)` draws them, so a worked example at seed 7 shows the numbers
//! a user's training loop starts from.

use chainrule_core::Network;
use chainrule_core::derive::Derivation;
use chainrule_core::rust::{Start, param_start};

use crate::runtime::{SplitMix64, init_limit};

/// One parameter as `Params::init(seed)` sets it when neither `--params` nor the file gives it:
/// the same rule ([`param_start`]) and the same generator, element by element, in row-major
/// order, as the generated loop over `as_flattened_mut()`.
pub fn drawn(network: &Network, derivation: &Derivation, q: usize, seed: u64) -> Vec<f64> {
    let len = network.params[q].shape.len();
    match param_start(network, derivation, q) {
        Start::Random {
            fan_in,
            fan_out,
            relu,
            stream,
        } => {
            let limit = init_limit(fan_in, fan_out, relu);
            let mut rng = SplitMix64::new(seed, stream);
            (0..len).map(|_| rng.symmetric(limit)).collect()
        }
        Start::Declared | Start::Zero => vec![0.0; len],
    }
}

/// Every parameter's value: the one given (`--params` or the file) where there is one, else
/// drawn; and the note saying what was drawn, for standard error.
pub fn fill(
    network: &Network,
    derivation: &Derivation,
    given: Vec<Option<Vec<f64>>>,
    seed: u64,
) -> (Vec<Vec<f64>>, String) {
    let mut random = Vec::new();
    let mut zero = Vec::new();
    let values = given
        .into_iter()
        .enumerate()
        .map(|(q, value)| {
            value.unwrap_or_else(|| {
                let name = network.params[q].name.clone();
                match param_start(network, derivation, q) {
                    Start::Random { .. } => random.push(name),
                    _ => zero.push(name),
                }
                drawn(network, derivation, q, seed)
            })
        })
        .collect();
    let mut parts = Vec::new();
    if !random.is_empty() {
        parts.push(format!(
            "{} drawn (uniform, scaled by fan-in)",
            random.join(", ")
        ));
    }
    if !zero.is_empty() {
        parts.push(format!("{} zero", zero.join(", ")));
    }
    let note = if parts.is_empty() {
        format!("--init {seed}: every parameter has a value; nothing is drawn")
    } else {
        format!(
            "parameters without values as `Params::init({seed})` sets them: {}",
            parts.join("; ")
        )
    };
    (values, note)
}
