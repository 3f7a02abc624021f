//! What `chainrule latex` shows of a large network: the per-element forms (chain, delta,
//! numeric) print a few lines per weight and per delta, so past [`ALL_ELEMENTS_LIMIT`] of
//! them they show a sample, the first element of each parameter (and of each vector's
//! deltas), with a note saying how to ask for others. Nielsen's 784-30-10 in full is 124 MB of
//! chain form; its sample is a page.

use super::{Form, Latex, NumericPoint, document, form_title};
use crate::CompiledNetwork;
use crate::derive::Derivation;
use crate::ir::Var;
use crate::model::{Network, Symbol};

/// Most weights (or delta elements) a per-element form prints before it shows a sample.
pub const ALL_ELEMENTS_LIMIT: usize = 200;

/// What to print and what was left out.
#[derive(Debug)]
pub struct Selection {
    /// The weights whose gradients (or chains) are printed.
    pub weights: Vec<Var>,
    /// Whether only the first element of each vector's deltas is printed.
    pub first_deltas_only: bool,
    /// What a reader is told when something was left out.
    pub note: Option<String>,
}

/// The weights and deltas a reader gets by default: everything when the network is small,
/// `--weight` asked for something, or `all` is set; otherwise a sample and a note.
pub fn select(
    network: &Network,
    derivation: &Derivation,
    form: Form,
    asked: &[Var],
    all: bool,
) -> Selection {
    let every: Vec<Var> = derivation.gradients.iter().map(|(v, _)| *v).collect();
    let deltas = derivation.deltas_by_vector().len();
    let per_element = form != Form::General;
    let sample_weights =
        per_element && !all && asked.is_empty() && every.len() > ALL_ELEMENTS_LIMIT;
    let prints_deltas = matches!(form, Form::Delta | Form::Numeric);
    let first_deltas_only = prints_deltas && !all && deltas > ALL_ELEMENTS_LIMIT;
    let weights = if sample_weights {
        (0..network.params.len())
            .filter_map(|p| derivation.layout.vars(Symbol::Param(p)).next())
            .collect()
    } else {
        asked.to_vec()
    };
    let mut left_out = Vec::new();
    if sample_weights {
        let names: Vec<String> = weights
            .iter()
            .map(|v| derivation.layout.describe(network, *v))
            .collect();
        left_out.push(format!(
            "{} of its {} weights ({})",
            weights.len(),
            every.len(),
            names.join(", ")
        ));
    }
    if first_deltas_only {
        left_out.push(format!(
            "the first delta of each vector, of {deltas} deltas"
        ));
    }
    let note = (!left_out.is_empty()).then(|| {
        let example = weights
            .first()
            .or(every.first())
            .map(|v| derivation.layout.describe(network, *v))
            .unwrap_or_default();
        let param = example.split('[').next().unwrap_or_default().to_string();
        format!(
            "network {} is large: this shows {}. Ask for other weights with --weight ({example}, or {param} for all of its elements), or for everything with --all.",
            network.name,
            left_out.join(" and ")
        )
    });
    Selection {
        weights,
        first_deltas_only,
        note,
    }
}

/// The CLI's LaTeX: the selection's fragment (or document), with its note as LaTeX comment
/// lines at the top (and as a paragraph in a document, where comments do not show).
pub fn render_selected(
    network: &Network,
    compiled: &CompiledNetwork,
    form: Form,
    selection: &Selection,
    point: Option<&NumericPoint>,
    standalone: bool,
) -> String {
    let mut latex = Latex::new(network, compiled);
    latex.first_deltas_only = selection.first_deltas_only;
    let fragment = latex.fragment(form, &selection.weights, point);
    let Some(note) = &selection.note else {
        return if standalone {
            document(&[(form_title(network, form), fragment)])
        } else {
            fragment
        };
    };
    let comment = format!("% {note}\n");
    if standalone {
        let text = format!("\\noindent {}\n\n{comment}{fragment}", text_escape(note));
        document(&[(form_title(network, form), text)])
    } else {
        format!("{comment}{fragment}")
    }
}

/// Plain text made safe for LaTeX's text mode (`--all` would print as an en dash).
fn text_escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '_' | '%' | '&' | '#' | '$' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '~' | '^' => out.push_str(&format!("\\string{c}")),
            '-' => out.push_str("-{}"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_latex() {
        assert_eq!(text_escape("--all W_1 50%"), "-{}-{}all W\\_1 50\\%");
    }
}
