//! The source a page shows: the network's own block and the `fn`s it calls (directly or
//! through other `fn`s), each with the comment lines written right above it, in file order.
//! A page is about one network; the file's other networks and their comments are not its
//! source.

use std::collections::BTreeSet;

use chainrule_grammar::{Expr, ExprKind, FnDef, Span, StatementKind, parse_file};

use crate::diagnostic::line_starts;

/// The excerpt of `source` a page about `network` shows, and whether anything was left out.
/// A file that does not parse (the page is only made of checked files) is shown whole.
pub fn excerpt(source: &str, network: &str) -> (String, bool) {
    let Ok(file) = parse_file(source) else {
        return (source.to_string(), false);
    };
    let Some(block) = file.networks.iter().find(|n| n.name.name == network) else {
        return (source.to_string(), false);
    };
    let mut called = BTreeSet::new();
    let mut pending: Vec<&Expr> = block
        .statements
        .iter()
        .filter_map(|s| match &s.kind {
            StatementKind::Vector { expr, .. } | StatementKind::Loss { expr, .. } => Some(expr),
            StatementKind::Claim(claim) => Some(&claim.rhs),
            _ => None,
        })
        .collect();
    while let Some(expr) = pending.pop() {
        calls(expr, &mut |name| {
            if let Some((i, f)) = function(&file.functions, name)
                && called.insert(i)
            {
                pending.push(&f.body);
            }
        });
    }
    let mut spans: Vec<Span> = called.iter().map(|&i| file.functions[i].span).collect();
    spans.push(block.span);
    spans.sort_by_key(|s| s.start);
    let starts = line_starts(source);
    let pieces: Vec<&str> = spans
        .iter()
        .map(|span| source[with_comments(source, &starts, *span)].trim_end())
        .collect();
    let shown = pieces.join("\n\n") + "\n";
    let left_out = file.networks.len() > 1 || called.len() < file.functions.len();
    (shown, left_out)
}

fn function<'f>(functions: &'f [FnDef], name: &str) -> Option<(usize, &'f FnDef)> {
    functions
        .iter()
        .enumerate()
        .find(|(_, f)| f.name.name == name)
}

/// Calls `seen` with the name of every function called in `expr`.
fn calls<'e>(expr: &'e Expr, seen: &mut impl FnMut(&'e str)) {
    match &expr.kind {
        ExprKind::Number(_)
        | ExprKind::Name(_)
        | ExprKind::Indexed { .. }
        | ExprKind::DeltaRef { .. } => {}
        ExprKind::Call { func, args } => {
            seen(&func.name);
            args.iter().for_each(|a| calls(a, seen));
        }
        ExprKind::Reduce { arg, .. } | ExprKind::Neg(arg) | ExprKind::Select { base: arg, .. } => {
            calls(arg, seen)
        }
        ExprKind::Binary { lhs, rhs, .. } => {
            calls(lhs, seen);
            calls(rhs, seen);
        }
    }
}

/// The span's whole lines, widened upwards over the comment lines right above it (no blank
/// line between): a network's or function's description.
fn with_comments(source: &str, starts: &[usize], span: Span) -> std::ops::Range<usize> {
    let line_of = |offset: usize| starts.partition_point(|&s| s <= offset) - 1;
    let text_of = |line: usize| {
        let end = starts.get(line + 1).copied().unwrap_or(source.len());
        source[starts[line]..end].trim()
    };
    let mut first = line_of(span.start);
    // Only when the span starts its line: a comment above `x = 1; network n {` is not n's.
    if !source[starts[first]..span.start].trim().is_empty() {
        return span.start..span.end;
    }
    while first > 0 && {
        let above = text_of(first - 1);
        above.starts_with('#') || above.starts_with("//")
    } {
        first -= 1;
    }
    starts[first]..span.end
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# The file's header.\n\n\
        fn leaky(z) = max0(z) + 0.01 * z\n\
        # Used by leaky.\n\
        fn max0(z) = relu(z)\n\
        fn unused(z) = z\n\n\
        # First network.\n\
        network a {\n  input x[2]\n  y[2] = W @ x\n  loss L = sum(y)\n}\n\n\
        // Second network, which calls leaky.\n\
        network b {\n  input x[2]\n  y[2] = leaky(W @ x)\n  loss L = sum(y)\n}\n";

    #[test]
    fn a_network_shows_its_block_and_its_comments() {
        let (shown, left_out) = excerpt(FILE, "a");
        assert_eq!(
            shown,
            "# First network.\nnetwork a {\n  input x[2]\n  y[2] = W @ x\n  loss L = sum(y)\n}\n"
        );
        assert!(left_out);
    }

    #[test]
    fn the_functions_it_calls_come_along_in_file_order() {
        let (shown, _) = excerpt(FILE, "b");
        assert_eq!(
            shown,
            "fn leaky(z) = max0(z) + 0.01 * z\n\n# Used by leaky.\nfn max0(z) = relu(z)\n\n\
             // Second network, which calls leaky.\nnetwork b {\n  input x[2]\n  \
             y[2] = leaky(W @ x)\n  loss L = sum(y)\n}\n"
        );
        assert!(!shown.contains("unused") && !shown.contains("header"));
    }

    #[test]
    fn a_file_of_one_network_is_shown_as_it_is() {
        let text = "# one\nnetwork a {\n  input x[1]\n  loss L = sum(x)\n}\n";
        assert_eq!(excerpt(text, "a"), (text.to_string(), false));
    }
}
