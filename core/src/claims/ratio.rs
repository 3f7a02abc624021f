//! Constant ratios between a claim and the derivation in words: a forgotten `1/N` of a
//! `mean`, the loss's 1/2 convention, a sign flip, and numbers printed as the fractions they
//! are (`2/3`, not `0.6666666666666666`).

use chainrule_grammar::Reduction;

use crate::model::{Network, TExpr, TExprKind};

/// A number as a reader writes it: `3`, `2/3`, `-1/2`, when it is one to rounding; the
/// decimal otherwise (a ratio computed from values is `3.0000000000000004`, not 3).
pub(super) fn fraction(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    let tolerance = 1e-9 * x.abs().max(1.0);
    for q in 1..=64u32 {
        let p = (x * f64::from(q)).round();
        if p.abs() < 1e15 && (x - p / f64::from(q)).abs() <= tolerance {
            // `p` is a whole number below 10^15: the cast is exact.
            let p = p as i64;
            return if q == 1 {
                format!("{p}")
            } else {
                format!("{p}/{q}")
            };
        }
    }
    format!("{x}")
}

/// The element counts of every `mean` in the network's definitions and loss.
fn mean_sizes(network: &Network) -> Vec<usize> {
    fn walk(e: &TExpr, out: &mut Vec<usize>) {
        if let TExprKind::Reduce(Reduction::Mean, arg) = &e.kind {
            out.push(arg.shape.len());
        }
        e.for_each_child(|c| walk(c, out));
    }
    let mut out = Vec::new();
    for v in &network.vectors {
        walk(&v.expr, &mut out);
    }
    walk(&network.loss.expr, &mut out);
    out.retain(|&n| n > 1);
    out.sort_unstable();
    out.dedup();
    out
}

/// A constant ratio (claimed over derived) in words: the `1/N` of a `mean` forgotten first,
/// since its `N` is often 2 and would otherwise pass for the loss's convention.
pub(super) fn name_ratio(r: f64, network: &Network) -> String {
    let near = |x: f64| (r - x).abs() < 1e-9 * x.abs().max(1.0);
    for n in mean_sizes(network) {
        let size = n as f64;
        for (sign, signed) in [(1.0, ""), (-1.0, " and has its sign flipped")] {
            let two = ", and a factor 2 (the square's exponent, or the loss's 1/2 convention)";
            let found = if near(sign * size) {
                Some(format!(
                    "the claim lacks the 1/{n} of `mean` over {n} elements{signed}"
                ))
            } else if near(sign * 2.0 * size) || near(sign * size / 2.0) {
                Some(format!(
                    "the claim lacks the 1/{n} of `mean` over {n} elements{signed}{two}"
                ))
            } else if near(sign / size) {
                Some(format!(
                    "the claim divides by {n} once more than the derivation: the 1/{n} of `mean` over {n} elements is counted twice{signed}"
                ))
            } else {
                None
            };
            if let Some(found) = found {
                return format!("a constant factor of {}: {found}", fraction(r));
            }
        }
    }
    if near(-1.0) {
        "a sign flip: the claim is the derivative times -1".into()
    } else if near(2.0) || near(0.5) || near(-2.0) || near(-0.5) {
        format!(
            "a constant factor of {}: the convention of the loss (1/2 in 1/2 * sum(...)^2, or its absence) differs",
            fraction(r)
        )
    } else {
        format!("a constant factor of {}", fraction(r))
    }
}

#[cfg(test)]
mod tests {
    use super::fraction;

    #[test]
    fn ratios_print_as_the_fractions_they_are() {
        assert_eq!(fraction(3.0000000000000004), "3");
        assert_eq!(fraction(2.0 / 3.0), "2/3");
        assert_eq!(fraction(-0.5), "-1/2");
        assert_eq!(fraction(1.0 / 784.0), format!("{}", 1.0 / 784.0));
        assert_eq!(
            fraction(std::f64::consts::PI),
            format!("{}", std::f64::consts::PI)
        );
    }
}
