//! Prints IR expressions, as LaTeX or in the `.nn` language's own notation, with the fewest
//! parentheses precedence allows; breaks long LaTeX sums across lines.

use crate::builtin::{Builtin, Pairwise};
use crate::ir::{Graph, Node, NodeId, Var};

mod numbers;

pub use numbers::{break_terms, number, rounded, rounded_text, visual_width};

/// Binding strength of a printed form; a child printed where more is needed gets parentheses.
const SUM: u8 = 1;
const NEG: u8 = 2;
const PRODUCT: u8 = 3;
const POWER_BASE: u8 = 5;

/// The notation to print in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Style {
    /// LaTeX math: `\frac{a}{b}`, `\sigma\left(z\right)`, juxtaposed products.
    #[default]
    Latex,
    /// The `.nn` notation: `a / b`, `sigmoid(z)`, `a * b`, `x^2`.
    Text,
}

/// Prints nodes of one graph, naming leaves with `leaf`.
pub struct Printer<'a> {
    /// The graph the nodes live in.
    pub graph: &'a Graph,
    /// The name of a named scalar (or its value, in numeric mode), in the printer's style.
    pub leaf: &'a dyn Fn(Var) -> String,
    /// LaTeX or `.nn` notation.
    pub style: Style,
}

/// Most symbols one printed expression may have. Printers walk trees, and an expression
/// that shares sub-expressions (a local partial of a loss that holds `grad` of a deep
/// network) can be a small graph but an exponentially large tree: past this it is named, not
/// printed.
pub const MAX_PRINTED: u64 = 20_000;

impl Printer<'_> {
    /// The LaTeX of a node.
    pub fn expr(&self, id: NodeId) -> String {
        self.too_long(id).unwrap_or_else(|| self.at(id, 0))
    }

    /// The LaTeX of a node used as a factor of a product (parenthesised if it is a sum).
    pub fn factor(&self, id: NodeId) -> String {
        self.too_long(id).unwrap_or_else(|| self.at(id, PRODUCT))
    }

    /// The signed top-level terms of a sum (`(false, "a")`, `(true, "b")` for `a - b`).
    pub fn terms(&self, id: NodeId) -> Vec<(bool, String)> {
        if let Some(text) = self.too_long(id) {
            return vec![(false, text)];
        }
        let mut out = Vec::new();
        self.collect_terms(id, false, &mut out);
        out
    }

    /// A placeholder for an expression past [`MAX_PRINTED`] symbols written out.
    fn too_long(&self, id: NodeId) -> Option<String> {
        let size = tree_size(self.graph, id);
        (size > MAX_PRINTED).then(|| {
            let size = if size == u64::MAX {
                "more than 10^19".to_string()
            } else {
                size.to_string()
            };
            match self.style {
                Style::Latex => {
                    format!(
                        r"\left[\text{{an expression of {size} symbols, too long to print}}\right]"
                    )
                }
                Style::Text => format!("[an expression of {size} symbols, too long to print]"),
            }
        })
    }

    fn collect_terms(&self, id: NodeId, negative: bool, out: &mut Vec<(bool, String)>) {
        match self.graph.node(id) {
            Node::Add(a, b) => {
                self.collect_terms(*a, negative, out);
                self.collect_terms(*b, negative, out);
            }
            Node::Sub(a, b) => {
                self.collect_terms(*a, negative, out);
                self.collect_terms(*b, !negative, out);
            }
            Node::Sum(items) => items
                .iter()
                .for_each(|i| self.collect_terms(*i, negative, out)),
            // A negated sum stays one term, `-(t - y)`, as people write it.
            Node::Neg(a) => out.push((!negative, self.at(*a, PRODUCT))),
            Node::Const(b) if f64::from_bits(*b) < 0.0 => {
                out.push((!negative, self.bare_constant(-f64::from_bits(*b))))
            }
            // `a + (-0.01) s` reads `a - 0.01 s`.
            _ => match self.negated_product(id) {
                Some(text) => out.push((!negative, text)),
                None => out.push((negative, self.at(id, NEG + 1))),
            },
        }
    }

    /// For a product led by a negative constant (`-0.01 s`), the product with the constant's
    /// magnitude (`0.01 s`), so the sign is written once, in front.
    fn negated_product(&self, id: NodeId) -> Option<String> {
        if !matches!(self.graph.node(id), Node::Mul(..)) {
            return None;
        }
        let mut factors = Vec::new();
        self.collect_factors(id, &mut factors);
        let k = self.graph.constant(factors[0]).filter(|k| *k < 0.0)?;
        let mut texts = vec![self.bare_constant(-k)];
        texts.extend(factors[1..].iter().map(|f| self.at(*f, PRODUCT)));
        Some(self.join_factors(&texts))
    }

    fn join_factors(&self, texts: &[String]) -> String {
        let mut out = String::new();
        for (i, text) in texts.iter().enumerate() {
            if i > 0 {
                let numeric_next = text.starts_with(|c: char| c.is_ascii_digit() || c == '-');
                out.push_str(match (self.style, numeric_next) {
                    (Style::Text, _) => " * ",
                    (Style::Latex, true) => " \\cdot ",
                    (Style::Latex, false) => " ",
                });
            }
            out.push_str(text);
        }
        out
    }

    fn bare_constant(&self, v: f64) -> String {
        match self.style {
            Style::Latex => number(v),
            Style::Text => format!("{v}"),
        }
    }

    fn level(&self, id: NodeId) -> u8 {
        match self.graph.node(id) {
            Node::Add(..) | Node::Sub(..) | Node::Sum(_) => SUM,
            Node::Neg(_) => NEG,
            Node::Const(b) if f64::from_bits(*b) < 0.0 => NEG,
            Node::Mul(..) if self.negated_product(id).is_some() => NEG,
            Node::Mul(..) => PRODUCT,
            Node::Div(..) | Node::Pow(..) => 4,
            Node::Func(..)
            | Node::Pair(..)
            | Node::Var(_)
            | Node::Const(_)
            | Node::LogSumExp(_) => 6,
        }
    }

    fn at(&self, id: NodeId, needed: u8) -> String {
        let text = self.bare(id);
        if self.level(id) < needed {
            self.parens(&text)
        } else {
            text
        }
    }

    fn parens(&self, text: &str) -> String {
        match self.style {
            Style::Latex => format!("\\left({text}\\right)"),
            Style::Text => format!("({text})"),
        }
    }

    fn bare(&self, id: NodeId) -> String {
        match self.graph.node(id) {
            Node::Const(b) => match self.style {
                Style::Latex => number(f64::from_bits(*b)),
                Style::Text => format!("{}", f64::from_bits(*b)),
            },
            Node::Var(v) => (self.leaf)(*v),
            Node::Add(..) | Node::Sub(..) | Node::Sum(_) => join_terms(&self.terms(id)),
            Node::Neg(a) => format!("-{}", self.at(*a, PRODUCT)),
            Node::Mul(..) => match self.negated_product(id) {
                Some(text) => format!("-{text}"),
                None => {
                    let mut factors = Vec::new();
                    self.collect_factors(id, &mut factors);
                    let texts: Vec<String> = factors.iter().map(|f| self.at(*f, PRODUCT)).collect();
                    self.join_factors(&texts)
                }
            },
            Node::Div(a, b) => match self.style {
                Style::Latex => format!("\\frac{{{}}}{{{}}}", self.expr(*a), self.expr(*b)),
                Style::Text => format!("{} / {}", self.at(*a, PRODUCT), self.at(*b, POWER_BASE)),
            },
            Node::Pow(a, k) => match self.style {
                Style::Latex => format!(
                    "{}^{{{}}}",
                    power_base(&self.at(*a, POWER_BASE)),
                    number(f64::from_bits(*k))
                ),
                Style::Text => format!("{}^{}", self.at(*a, POWER_BASE), f64::from_bits(*k)),
            },
            Node::Func(f, a) => match self.style {
                Style::Latex => function(*f, &self.expr(*a)),
                Style::Text if *f == Builtin::LogSigmoid => {
                    format!("log(sigmoid({}))", self.expr(*a))
                }
                Style::Text => format!("{}({})", f.name(), self.expr(*a)),
            },
            Node::Pair(f, a, b) => pairwise(*f, &self.expr(*a), &self.expr(*b), self.style),
            Node::LogSumExp(items) => self.logsumexp(items),
        }
    }

    /// `\log \sum e^{..}` of the items, or `logsumexp(a, b, ..)` in text.
    fn logsumexp(&self, items: &[NodeId]) -> String {
        let args: Vec<String> = items.iter().map(|i| self.expr(*i)).collect();
        match self.style {
            Style::Latex => format!("\\operatorname{{LSE}}\\left({}\\right)", args.join(", ")),
            Style::Text => format!("logsumexp({})", args.join(", ")),
        }
    }

    fn collect_factors(&self, id: NodeId, out: &mut Vec<NodeId>) {
        match self.graph.node(id) {
            Node::Mul(a, b) => {
                self.collect_factors(*a, out);
                self.collect_factors(*b, out);
            }
            _ => out.push(id),
        }
    }
}

/// A base ready for a superscript. A base that already carries one (`a^{(2)}_{0}`, `e^{z}`,
/// `10^{-7}`) would make a double superscript, and one of several atoms (`1.5 \times 10^{-7}`,
/// `\sum_{k} x_{k}`) would give the power to its last atom only: both are parenthesised.
/// A lone subscript (`x_{0}^{2}`) is how people write it, and stays.
pub fn power_base(base: &str) -> String {
    if top_level(base).any(|c| c == '^' || c == ' ') {
        format!("\\left({base}\\right)")
    } else {
        base.to_string()
    }
}

/// The characters of LaTeX outside every `{..}` group and `\left..\right` pair.
fn top_level(latex: &str) -> impl Iterator<Item = char> + '_ {
    let mut depth = 0usize;
    let mut rest = latex;
    std::iter::from_fn(move || {
        loop {
            let c = rest.chars().next()?;
            // `\left(` opens a pair; `\leftarrow` is a symbol.
            let delimiter = |word: &str| {
                rest.strip_prefix(word)
                    .filter(|after| !after.starts_with(|n: char| n.is_ascii_alphabetic()))
            };
            if let Some(after) = delimiter("\\left") {
                depth += 1;
                rest = after;
                continue;
            }
            if let Some(after) = delimiter("\\right") {
                depth = depth.saturating_sub(1);
                rest = after;
                continue;
            }
            rest = &rest[c.len_utf8()..];
            match c {
                // An escaped character (`\{`, `\\`) is one symbol, never a group or a script.
                '\\' => {
                    if let Some(next) = rest.chars().next().filter(|n| !n.is_ascii_alphabetic()) {
                        rest = &rest[next.len_utf8()..];
                    }
                }
                '{' => depth += 1,
                '}' => depth = depth.saturating_sub(1),
                _ if depth == 0 => return Some(c),
                _ => {}
            }
        }
    })
}

/// `f(arg)` in the usual notation.
pub fn function(f: Builtin, arg: &str) -> String {
    match f {
        Builtin::Sigmoid => format!("\\sigma\\left({arg}\\right)"),
        Builtin::Tanh => format!("\\tanh\\left({arg}\\right)"),
        Builtin::Sin => format!("\\sin\\left({arg}\\right)"),
        Builtin::Cos => format!("\\cos\\left({arg}\\right)"),
        Builtin::Log => format!("\\log\\left({arg}\\right)"),
        Builtin::LogSigmoid => format!("\\log\\sigma\\left({arg}\\right)"),
        Builtin::Exp => format!("e^{{{arg}}}"),
        Builtin::Sqrt => format!("\\sqrt{{{arg}}}"),
        Builtin::Abs => format!("\\left|{arg}\\right|"),
        Builtin::Erf => format!("\\operatorname{{erf}}\\left({arg}\\right)"),
        Builtin::Linear => arg.to_string(),
        Builtin::Relu | Builtin::Softplus | Builtin::Step | Builtin::Sign => {
            format!("\\operatorname{{{}}}\\left({arg}\\right)", f.name())
        }
    }
}

/// A two-argument built-in of printed arguments: `\max\left(a, b\right)` and the Iverson
/// brackets of its derivative, `\left[a \geq b\right]`, in LaTeX; `maximum(a, b)` and
/// `[a >= b]` in `.nn` notation.
pub fn pairwise(f: Pairwise, a: &str, b: &str, style: Style) -> String {
    match (f, style) {
        (Pairwise::Maximum, Style::Latex) => format!("\\max\\left({a}, {b}\\right)"),
        (Pairwise::Minimum, Style::Latex) => format!("\\min\\left({a}, {b}\\right)"),
        (Pairwise::AtLeast, Style::Latex) => format!("\\left[{a} \\geq {b}\\right]"),
        (Pairwise::Above, Style::Latex) => format!("\\left[{a} > {b}\\right]"),
        (Pairwise::Maximum | Pairwise::Minimum, Style::Text) => format!("{}({a}, {b})", f.name()),
        (Pairwise::AtLeast, Style::Text) => format!("[{a} >= {b}]"),
        (Pairwise::Above, Style::Text) => format!("[{a} > {b}]"),
    }
}

/// `a + b - c` from signed terms.
pub fn join_terms(terms: &[(bool, String)]) -> String {
    let mut out = String::new();
    for (i, (negative, text)) in terms.iter().enumerate() {
        match (i, negative) {
            (0, true) => out.push('-'),
            (0, false) => {}
            (_, true) => out.push_str(" - "),
            (_, false) => out.push_str(" + "),
        }
        out.push_str(text);
    }
    if out.is_empty() {
        out.push('0');
    }
    out
}

/// The number of nodes `id` prints as (a node shared by several parents counts once per
/// parent), saturating; linear in the sub-graph.
fn tree_size(graph: &Graph, id: NodeId) -> u64 {
    let mut reachable = vec![id];
    let mut seen = std::collections::HashSet::from([id]);
    let mut at = 0;
    while let Some(&n) = reachable.get(at) {
        at += 1;
        graph.node(n).for_each_child(|c| {
            if seen.insert(c) {
                reachable.push(c);
            }
        });
    }
    // Children have smaller ids than their parents: ascending ids see children first.
    reachable.sort_unstable();
    let mut size: std::collections::HashMap<NodeId, u64> =
        std::collections::HashMap::with_capacity(reachable.len());
    for n in reachable {
        let mut total = 1u64;
        graph.node(n).for_each_child(|c| {
            total = total.saturating_add(size.get(&c).copied().unwrap_or(1));
        });
        size.insert(n, total);
    }
    size.get(&id).copied().unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visual_width_counts_what_shows() {
        assert_eq!(visual_width("x_{0}"), 2);
        assert_eq!(visual_width("\\left(1 - a^{(1)}_{0}\\right)"), 9);
        assert_eq!(visual_width("\\frac{\\partial L}{\\partial y_{0}}"), 3);
    }

    /// A negative constant factor is written once, as a sign: never `-(-0.01)` or
    /// `+ (-0.01) s` (a leaky relu's derivative), in both notations.
    #[test]
    fn negative_constant_factors_print_as_signs() {
        let mut g = Graph::new();
        let (a, s, x) = (g.var(Var(0)), g.var(Var(1)), g.var(Var(2)));
        let neg_small = g.constant_node(-0.01);
        let scaled = g.mul(neg_small, s);
        let difference = g.sub(a, scaled);
        let sum = g.sum(&[a, x, scaled]);
        let minus_scaled = g.neg(scaled);
        let square = g.pow(scaled, 2.0);
        let product = g.mul(x, square);
        let leaf = |v: Var| ["a", "s", "x"][v.index()].to_string();
        let print = |style, id| {
            Printer {
                graph: &g,
                leaf: &leaf,
                style,
            }
            .expr(id)
        };
        for (id, latex, text) in [
            (difference, "a + 0.01 s", "a + 0.01 * s"),
            (sum, "a + x - 0.01 s", "a + x - 0.01 * s"),
            (scaled, "-0.01 s", "-0.01 * s"),
            (minus_scaled, "0.01 s", "0.01 * s"),
        ] {
            assert_eq!(print(Style::Latex, id), latex);
            assert_eq!(print(Style::Text, id), text);
        }
        assert_eq!(print(Style::Text, square), "(-0.01 * s)^2");
        assert_eq!(print(Style::Latex, product), "x \\left(-0.01 s\\right)^{2}");
    }

    #[test]
    fn long_sums_break() {
        let term = (false, "\\left(-\\left(t_{0} - y_{0}\\right)\\right) w^{(2)}_{00} a^{(1)}_{0} \\left(1 - a^{(1)}_{0}\\right) x_{0}".to_string());
        let lines = break_terms(&[term.clone(), term.clone(), term], 64);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[1].starts_with("\\quad + "));
    }

    #[test]
    fn powers_of_every_name_shape_have_one_superscript() {
        // Bases as the printer meets them: names of every shape, values, functions.
        for (base, power) in [
            ("x", "x^{2}"),
            ("x_{0}", "x_{0}^{2}"),
            ("\\alpha", "\\alpha^{2}"),
            ("\\hat{y}_{0}", "\\hat{y}_{0}^{2}"),
            ("\\mathrm{hidden}_{3}", "\\mathrm{hidden}_{3}^{2}"),
            ("B_{\\mathrm{act},0}", "B_{\\mathrm{act},0}^{2}"),
            ("\\delta_{z^{(1)}_{0}}", "\\delta_{z^{(1)}_{0}}^{2}"),
            (
                "\\left(1 - a^{(1)}_{0}\\right)",
                "\\left(1 - a^{(1)}_{0}\\right)^{2}",
            ),
            (
                "\\sigma\\left(z^{(1)}_{0}\\right)",
                "\\sigma\\left(z^{(1)}_{0}\\right)^{2}",
            ),
            ("a^{(2)}_{0}", "\\left(a^{(2)}_{0}\\right)^{2}"),
            ("w^{(1)}_{ij}", "\\left(w^{(1)}_{ij}\\right)^{2}"),
            ("W^{(1)}", "\\left(W^{(1)}\\right)^{2}"),
            ("e^{z_{0}}", "\\left(e^{z_{0}}\\right)^{2}"),
            (
                "1.5 \\times 10^{-7}",
                "\\left(1.5 \\times 10^{-7}\\right)^{2}",
            ),
            ("\\sum_{k} x_{k}", "\\left(\\sum_{k} x_{k}\\right)^{2}"),
        ] {
            assert_eq!(format!("{}^{{2}}", power_base(base)), power, "{base}");
        }
    }

    #[test]
    fn numbers_read_back() {
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(2.0), "2");
        assert_eq!(number(-std::f64::consts::PI), "-\\pi");
        assert_eq!(
            number(2.0 / std::f64::consts::PI.sqrt()),
            "\\frac{2}{\\sqrt{\\pi}}"
        );
        assert_eq!(number(2f64.sqrt()), "\\sqrt{2}");
        assert_eq!(number(3.25), "3.25");
        assert_eq!(rounded(-0.0658122456, 6), "-0.0658122");
        assert_eq!(rounded(1.5e-7, 3), "1.5 \\times 10^{-7}");
        assert_eq!(rounded_text(1.5e-7, 3), "1.5e-7");
    }
}
