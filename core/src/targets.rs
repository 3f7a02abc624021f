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
        TargetKind::OneHot | TargetKind::Label => {
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

/// A sample of a target of this kind from `unit`, uniform draws in [0, 1), for a file that
/// gives no values: one class for `onehot`, positive multiples of 1e-4 that sum to exactly
/// one for `probabilities` (short numbers in a notebook, still a valid sample), and
/// `plain(draw)` for every element of a plain target.
pub fn draw(
    kind: TargetKind,
    size: usize,
    unit: &mut impl FnMut() -> f64,
    plain: impl Fn(f64) -> f64,
) -> Vec<f64> {
    match kind {
        TargetKind::Plain => (0..size).map(|_| plain(unit())).collect(),
        TargetKind::OneHot | TargetKind::Label => {
            let class = ((unit() * size as f64) as usize).min(size.saturating_sub(1));
            (0..size).map(|k| f64::from(u8::from(k == class))).collect()
        }
        TargetKind::Probabilities => {
            // Whole ten-thousandths, each at least one, the last taking what is left.
            const WHOLE: u64 = 10_000;
            let n = size.max(1) as u64;
            let weights: Vec<f64> = (0..size).map(|_| 0.1 + unit()).collect();
            let total: f64 = weights.iter().sum();
            let spare = WHOLE.saturating_sub(n) as f64;
            let mut counts: Vec<u64> = weights
                .iter()
                .map(|w| 1 + (spare * w / total).floor() as u64)
                .collect();
            let used: u64 = counts.iter().take(size.saturating_sub(1)).sum();
            if let Some(last) = counts.last_mut() {
                *last = WHOLE.saturating_sub(used);
            }
            counts.iter().map(|&c| c as f64 / WHOLE as f64).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawn_samples_are_samples_of_their_kind() {
        let mut state = 0.0f64;
        let mut unit = || {
            state = (state + 0.618_033_988_749_895) % 1.0;
            state
        };
        for size in [1, 2, 3, 10, 784] {
            for kind in [TargetKind::OneHot, TargetKind::Probabilities] {
                for _ in 0..20 {
                    let sample = draw(kind, size, &mut unit, |u| u);
                    assert_eq!(sample.len(), size);
                    assert_eq!(violation(kind, &sample), None, "{kind:?} {sample:?}");
                }
            }
        }
        let plain = draw(TargetKind::Plain, 3, &mut unit, |u| 2.0 * u - 1.0);
        assert!(plain.iter().all(|v| (-1.0..1.0).contains(v)), "{plain:?}");
    }

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
