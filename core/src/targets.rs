//! Targets declared `onehot` or `probabilities`: what their samples must satisfy, since the
//! derivation relies on every sample summing to one (cross-entropy's delta is `p_k - t_k`).

use chainrule_grammar::TargetKind;

/// How far a sample's sum may be from one: the rounding of a few hundred decimal entries.
const TOLERANCE: f64 = 1e-9;

/// Why `values` is not a sample of a target of this kind, or `None` if it is one.
pub fn violation(kind: TargetKind, values: &[f64]) -> Option<String> {
    let total: f64 = values.iter().sum();
    let fmt = |v: f64| format!("{v}");
    match kind {
        TargetKind::Plain => None,
        TargetKind::OneHot => {
            if let Some((i, v)) = values
                .iter()
                .enumerate()
                .find(|(_, v)| **v != 0.0 && **v != 1.0)
            {
                return Some(format!(
                    "a `onehot` target holds only 0 and 1, but element {i} is {}",
                    fmt(*v)
                ));
            }
            let ones = values.iter().filter(|v| **v == 1.0).count();
            (ones != 1)
                .then(|| format!("a `onehot` target has exactly one 1, but this sample has {ones}"))
        }
        TargetKind::Probabilities => {
            if let Some((i, v)) = values.iter().enumerate().find(|(_, v)| **v < 0.0) {
                return Some(format!(
                    "a `probabilities` target is never negative, but element {i} is {}",
                    fmt(*v)
                ));
            }
            ((total - 1.0).abs() > TOLERANCE * values.len().max(1) as f64).then(|| {
                format!(
                    "a `probabilities` target sums to 1, but this sample sums to {}",
                    fmt(total)
                )
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn onehot_samples() {
        assert_eq!(violation(TargetKind::OneHot, &[0.0, 1.0, 0.0]), None);
        assert!(
            violation(TargetKind::OneHot, &[0.0, 0.0, 0.0]).is_some_and(|m| m.contains("has 0"))
        );
        assert!(violation(TargetKind::OneHot, &[1.0, 1.0]).is_some_and(|m| m.contains("has 2")));
        assert!(
            violation(TargetKind::OneHot, &[0.5, 0.5])
                .is_some_and(|m| m.contains("element 0 is 0.5"))
        );
    }

    #[test]
    fn probability_samples() {
        assert_eq!(violation(TargetKind::Probabilities, &[0.25, 0.75]), None);
        assert_eq!(violation(TargetKind::Probabilities, &[0.1, 0.2, 0.7]), None);
        assert!(
            violation(TargetKind::Probabilities, &[0.5, 0.6])
                .is_some_and(|m| m.contains("sums to 1.1"))
        );
        assert!(
            violation(TargetKind::Probabilities, &[1.5, -0.5])
                .is_some_and(|m| m.contains("element 1 is -0.5"))
        );
        assert_eq!(violation(TargetKind::Plain, &[3.0, 4.0]), None);
    }
}
