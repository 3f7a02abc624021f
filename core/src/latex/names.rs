//! LaTeX names of the language's names: `W1` -> `W^{(1)}`, `W1[i][j]` -> `w^{(1)}_{ij}`,
//! `a1[k]` -> `a^{(1)}_{k}`, Greek names as letters, other long names in `\mathrm{}`.

use crate::layout::Slot;
use crate::model::{Network, Shape, Symbol};

const GREEK: [&str; 34] = [
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
    "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi",
    "Omega",
];

/// A name split into the parts LaTeX places around it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Parts {
    /// The base symbol (`W`, `\alpha`, `\mathrm{hidden}`).
    base: String,
    /// A subscript that is part of the name (`\mathrm{act}` in `B_act`).
    sub: Option<String>,
    /// The layer number (`1` in `W1`), shown as `^{(1)}`.
    layer: Option<String>,
}

fn base_symbol(word: &str) -> String {
    if word.chars().count() == 1 {
        return word.to_string();
    }
    if GREEK.contains(&word) {
        return format!("\\{word}");
    }
    if let Some(stem) = word.strip_suffix("hat").filter(|s| s.chars().count() == 1) {
        return format!("\\hat{{{stem}}}");
    }
    format!("\\mathrm{{{}}}", escape(word))
}

/// Escapes the characters LaTeX treats specially inside `\mathrm{}`.
pub fn escape(text: &str) -> String {
    text.replace('_', "\\_")
}

fn parts(name: &str) -> Parts {
    let (head, tail) = match name.split_once('_') {
        Some((h, t)) if !h.is_empty() && !t.is_empty() => (h, Some(t)),
        _ => (name, None),
    };
    let digits = head.len() - head.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (word, layer) = if digits > 0 && digits < head.len() && tail.is_none() {
        (
            &head[..head.len() - digits],
            Some(head[head.len() - digits..].to_string()),
        )
    } else {
        (head, None)
    };
    Parts {
        base: base_symbol(word),
        sub: tail.map(|t| format!("\\mathrm{{{}}}", escape(t))),
        layer,
    }
}

fn assemble(parts: &Parts, indices: &str) -> String {
    let mut out = parts.base.clone();
    if let Some(layer) = &parts.layer {
        out.push_str(&format!("^{{({layer})}}"));
    }
    let sub = match (&parts.sub, indices.is_empty()) {
        (Some(s), true) => Some(s.clone()),
        (Some(s), false) => Some(format!("{s},{indices}")),
        (None, false) => Some(indices.to_string()),
        (None, true) => None,
    };
    if let Some(sub) = sub {
        out.push_str(&format!("_{{{sub}}}"));
    }
    out
}

/// Index text: `ij` when every index is one character, else comma-separated.
pub fn index_text(indices: &[String]) -> String {
    if indices.iter().all(|i| i.chars().count() == 1) {
        indices.concat()
    } else {
        indices.join(",")
    }
}

/// A whole symbol: `W^{(1)}`, `x`, `\mathrm{hidden}`.
pub fn symbol(name: &str) -> String {
    assemble(&parts(name), "")
}

/// An element with (possibly symbolic) indices: `w^{(1)}_{ij}`, `a^{(1)}_{0}`.
/// Elements of matrices are written with a lower-case letter, as in `w_{ij}`.
pub fn element(name: &str, is_matrix: bool, indices: &[String]) -> String {
    let mut p = parts(name);
    if is_matrix && p.base.chars().count() == 1 {
        p.base = p.base.to_lowercase();
    }
    assemble(&p, &index_text(indices))
}

/// The LaTeX of one slot of a network.
pub fn slot(
    network: &Network,
    slot: Slot,
    indices_of: impl Fn(Symbol, usize) -> Vec<usize>,
) -> String {
    match slot {
        Slot::Value(symbol, elem) => symbol_element(network, symbol, &indices_of(symbol, elem)),
        Slot::Delta(v, elem) => delta(&symbol_element(
            network,
            Symbol::Vector(v),
            &indices_of(Symbol::Vector(v), elem),
        )),
    }
}

/// Whether a symbol is a label target, whose elements print as Iverson brackets.
pub fn is_label(network: &Network, symbol: Symbol) -> bool {
    matches!(symbol, Symbol::Target(i)
        if network.targets[i].kind == chainrule_grammar::TargetKind::Label)
}

/// Element `index` of label `name`'s one-hot vector: the Iverson bracket `[k = y]`.
pub fn label_element(name: &str, index: &str) -> String {
    format!("[{index} = {}]", self::symbol(name))
}

/// An element of a symbol with concrete indices.
pub fn symbol_element(network: &Network, symbol: Symbol, indices: &[usize]) -> String {
    if symbol == Symbol::Loss {
        return self::symbol(&network.loss.name);
    }
    if let (true, [k]) = (is_label(network, symbol), indices) {
        return label_element(network.name_of(symbol), &k.to_string());
    }
    let shape = network.shape_of(symbol);
    let indices: Vec<String> = indices.iter().map(usize::to_string).collect();
    match shape {
        Shape::Scalar => self::symbol(network.name_of(symbol)),
        _ => element(
            network.name_of(symbol),
            matches!(shape, Shape::Matrix(..)),
            &indices,
        ),
    }
}

/// The delta of an element: `\delta_{z^{(1)}_{0}}`.
pub fn delta(element: &str) -> String {
    format!("\\delta_{{{element}}}")
}

/// `\frac{\partial of}{\partial wrt}`.
pub fn partial(of: &str, wrt: &str) -> String {
    format!("\\frac{{\\partial {of}}}{{\\partial {wrt}}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_names() {
        assert_eq!(symbol("W1"), "W^{(1)}");
        assert_eq!(
            element("W1", true, &["i".into(), "j".into()]),
            "w^{(1)}_{ij}"
        );
        assert_eq!(symbol("z1"), "z^{(1)}");
        assert_eq!(element("a1", false, &["k".into()]), "a^{(1)}_{k}");
        assert_eq!(symbol("x"), "x");
        assert_eq!(symbol("L"), "L");
        assert_eq!(symbol("alpha"), "\\alpha");
        assert_eq!(symbol("delta"), "\\delta");
        assert_eq!(symbol("hidden"), "\\mathrm{hidden}");
        assert_eq!(
            element("B_act", false, &["0".into()]),
            "B_{\\mathrm{act},0}"
        );
        assert_eq!(element("W", true, &["10".into(), "2".into()]), "w_{10,2}");
        assert_eq!(symbol("yhat"), "\\hat{y}");
    }
}
