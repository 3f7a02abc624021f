//! The derivation as LaTeX: the chain of partials for chosen weights, the delta recursion,
//! the general index form, and worked numbers; as an `align*` fragment or a whole document.

pub mod blocks;
mod chain;
pub(crate) mod general;
mod index_form;
pub mod indexed;
mod matrix;
pub mod names;
pub mod sample;
mod second;
mod wrap;

use crate::CompiledNetwork;
use crate::derive::Derivation;
use crate::ir::{NodeId, Var};
use crate::model::{Network, Symbol};
use crate::print::{Printer, Style, break_terms, rounded};

/// Which derivation to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// dL/dw as the sum over paths of products of partials, then expressions, then closed form.
    Chain,
    /// Every delta, back from the loss, with its recursion; then every gradient.
    Delta,
    /// The index form (`w_ij` with symbolic i, j), where the structure allows it.
    General,
    /// The delta form with values substituted, at a point.
    Numeric,
}

impl Form {
    /// The form named on the command line.
    pub fn from_name(name: &str) -> Option<Form> {
        Some(match name {
            "chain" => Form::Chain,
            "delta" => Form::Delta,
            "general" => Form::General,
            "numeric" => Form::Numeric,
            _ => return None,
        })
    }
}

/// Values for the numeric form.
#[derive(Clone, Debug)]
pub struct NumericPoint {
    /// Every slot's value for the sample shown (see [`crate::eval::SampleResult::slots`]).
    pub slots: Vec<f64>,
    /// With a learning rate, each parameter's update is shown too.
    pub lr: Option<f64>,
    /// The sample's gradient, one value per entry of [`Derivation::gradients`].
    pub gradient: Vec<f64>,
    /// How many samples the batch has, and its combined gradient (same order), shown when
    /// there is more than one sample.
    pub batch: Option<(usize, Vec<f64>)>,
}

/// Visual characters per line before a sum breaks.
const LINE_LIMIT: usize = 64;
/// More paths than this and the chain form shows the delta form instead.
pub const MAX_PATHS: u64 = 16;

/// Prints one network's derivation.
pub struct Latex<'a> {
    network: &'a Network,
    /// The derivation, read-only; a closed form builds its nodes in a private copy, made on
    /// the first one, so that no output writes into what `compile` returned.
    derivation: std::borrow::Cow<'a, Derivation>,
    lines: Vec<String>,
    /// Indices of `lines` where a new `align*` block starts (see [`blocks`]).
    breaks: Vec<usize>,
    /// What stands in the loss's place when the derivation is re-rooted (`--of y[0]`).
    root: Option<String>,
    /// Names of leaves numbered after the layout's slots (inner deltas, see `second`).
    extra: Vec<String>,
    /// Set once the inner level of a network with `grad` has been printed.
    two_level: bool,
    /// Print only the first element of each vector's deltas (see [`sample`]).
    first_deltas_only: bool,
    /// The compiled network whose tensor-level statements the general form prints; `None`
    /// for a derivation of its own (re-rooted by `--of`), whose general form is found by
    /// anti-unification.
    compiled: Option<&'a CompiledNetwork>,
}

impl<'a> Latex<'a> {
    /// A printer for one compiled network: its scalar derivation and its statements.
    pub fn new(network: &'a Network, compiled: &'a CompiledNetwork) -> Latex<'a> {
        Latex {
            compiled: Some(compiled),
            ..Latex::rerooted(network, &compiled.derivation)
        }
    }

    /// A printer for a derivation that is not a compiled network's own (re-rooted by
    /// `--of`, see `crate::derivative`): every form but the general one reads only it.
    pub fn rerooted(network: &'a Network, derivation: &'a Derivation) -> Latex<'a> {
        Latex {
            compiled: None,
            network,
            derivation: std::borrow::Cow::Borrowed(derivation),
            lines: Vec::new(),
            breaks: Vec::new(),
            root: None,
            extra: Vec::new(),
            two_level: false,
            first_deltas_only: false,
        }
    }

    /// Prints a derivation re-rooted at another named scalar (see `crate::derivative`), whose
    /// LaTeX name takes the loss's place in every partial.
    pub fn with_root(mut self, name: String) -> Self {
        self.root = Some(name);
        self
    }

    /// The LaTeX name of a slot.
    pub fn name(&self, var: Var) -> String {
        let layout = &self.derivation.layout;
        if let Some(extra) = var.index().checked_sub(layout.len()) {
            return self.extra.get(extra).cloned().unwrap_or_default();
        }
        names::slot(self.network, layout.slot(var), |s, e| layout.indices(s, e))
    }

    fn loss_name(&self) -> String {
        match &self.root {
            Some(name) => name.clone(),
            None => names::symbol(&self.network.loss.name),
        }
    }

    fn terms(&self, node: NodeId) -> Vec<(bool, String)> {
        let leaf = |v: Var| self.name(v);
        Printer {
            graph: &self.derivation.graph,
            leaf: &leaf,
            style: Style::Latex,
        }
        .terms(node)
    }

    fn factor(&self, node: NodeId) -> String {
        let leaf = |v: Var| self.name(v);
        Printer {
            graph: &self.derivation.graph,
            leaf: &leaf,
            style: Style::Latex,
        }
        .factor(node)
    }

    /// `lhs &= first line \\ &\quad continuation`, lines pushed to the block.
    fn equation(&mut self, lhs: &str, rhs: Vec<Vec<(bool, String)>>) {
        for (i, terms) in rhs.iter().enumerate() {
            let broken = break_terms(terms, LINE_LIMIT);
            for (j, line) in broken.into_iter().enumerate() {
                let head = match (i, j) {
                    (0, 0) => format!("{lhs} &= "),
                    (_, 0) => "&= ".to_string(),
                    _ => "&".to_string(),
                };
                self.lines.push(format!("{head}{line}"));
            }
        }
    }

    /// Ends the current `align*` block: what follows (another weight, delta vector or
    /// parameter) starts its own, so no block outgrows a renderer's limits.
    fn gap(&mut self) {
        self.breaks.push(self.lines.len());
    }

    /// The `align*` block of the chosen form for the chosen weights (all when empty).
    pub fn fragment(mut self, form: Form, weights: &[Var], point: Option<&NumericPoint>) -> String {
        if !self.two_level && !self.derivation.inner.is_empty() {
            return second::fragment(self, form, weights, point);
        }
        let all: Vec<Var> = self.derivation.gradients.iter().map(|(v, _)| *v).collect();
        let weights = if weights.is_empty() {
            all
        } else {
            weights.to_vec()
        };
        match form {
            Form::Chain => {
                for (i, w) in weights.iter().enumerate() {
                    if i > 0 {
                        self.gap();
                    }
                    self.chain(*w);
                }
            }
            Form::Delta => {
                self.deltas(None);
                self.gap();
                self.gradients(&weights, None);
            }
            Form::Numeric => {
                self.deltas(point);
                self.gap();
                self.gradients(&weights, point);
            }
            Form::General => index_form::general(&mut self, &weights),
        }
        blocks::finish(&self.lines, &self.breaks)
    }

    /// `delta_c \frac{\partial c}{\partial var}` for each live consumer (the loss has no delta).
    fn recursion_terms(&self, var: Var) -> Vec<(bool, String)> {
        let loss_index = self.derivation.forward.len() - 1;
        let consumers = self.live_consumers(var);
        let several = consumers.len() > 1;
        consumers
            .into_iter()
            .flat_map(|c| {
                let consumer = self.derivation.forward[c].var;
                let partial = names::partial(&self.name(consumer), &self.name(var));
                if c == loss_index {
                    // Beside other paths, `dL/dw` would repeat the left-hand side: the loss's
                    // own term (weight decay's `2 lambda w`) is written out instead.
                    let direct = self.derivation.forward[c]
                        .partials
                        .iter()
                        .find(|(u, _)| *u == var)
                        .map(|(_, node)| *node);
                    match direct {
                        Some(node) if several => self.terms(node),
                        _ => vec![(false, partial)],
                    }
                } else {
                    vec![(
                        false,
                        format!("{} \\, {partial}", names::delta(&self.name(consumer))),
                    )]
                }
            })
            .collect()
    }

    /// Deltas grouped by vector, from the loss backwards, each element in order.
    fn deltas(&mut self, point: Option<&NumericPoint>) {
        let order = self.derivation.deltas_by_vector();
        let mut previous = None;
        for (v, element, value, slot, expr) in order {
            if self.first_deltas_only && element > 0 {
                continue;
            }
            if previous.is_some_and(|p| p != v) {
                self.gap();
            }
            previous = Some(v);
            let partial = names::partial(&self.loss_name(), &self.name(value));
            let lhs = format!("{} = {partial}", names::delta(&self.name(value)));
            let recursion = self.recursion_terms(value);
            // Straight from the loss, the recursion would only repeat the left-hand side.
            let mut rhs = if recursion == [(false, partial)] {
                vec![]
            } else {
                vec![recursion]
            };
            rhs.push(self.terms(expr));
            rhs.dedup();
            if let Some(point) = point {
                rhs.extend(self.numeric(expr, point.slots[slot.index()], point));
            }
            self.equation(&lhs, rhs);
        }
    }

    /// dL/dw for each weight: its recursion over deltas and its expression.
    fn gradients(&mut self, weights: &[Var], point: Option<&NumericPoint>) {
        let mut previous = None;
        for &w in weights {
            let param = match self.derivation.layout.slot(w) {
                crate::layout::Slot::Value(symbol, _) => Some(symbol),
                crate::layout::Slot::Delta(..) => None,
            };
            if previous.is_some() && previous != param {
                self.gap();
            }
            previous = param;
            let node = self.gradient_node(w);
            let lhs = names::partial(&self.loss_name(), &self.name(w));
            let mut rhs = vec![self.recursion_terms(w), self.terms(node)];
            rhs.dedup();
            if let Some(point) = point {
                let position = self.derivation.gradient_position[w.index()].unwrap_or(0);
                let value = point.gradient[position];
                rhs.extend(self.numeric(node, value, point));
                self.equation(&lhs, rhs);
                if let Some((samples, batch)) = &point.batch {
                    self.lines.push(format!(
                        // The value stays math: `1.5 \\times 10^{-5}` is no text.
                        "&\\text{{(sample 1 of {samples}; over the batch: }}{}\\text{{)}}",
                        rounded(batch[position], 6)
                    ));
                }
                if let Some(lr) = point.lr {
                    let step = point.batch.as_ref().map_or(value, |(_, b)| b[position]);
                    let weight = self.name(w);
                    let current = point.slots[w.index()];
                    self.lines.push(format!(
                        "{weight} &\\leftarrow {weight} - \\eta \\, {} = {} - {} \\cdot {} = {}",
                        names::partial(&self.loss_name(), &weight),
                        rounded(current, 6),
                        rounded(lr, 6),
                        parenthesised(step),
                        rounded(current - lr * step, 6)
                    ));
                }
            } else {
                self.equation(&lhs, rhs);
            }
        }
    }

    /// The expression with values substituted, then its value.
    fn numeric(&self, node: NodeId, value: f64, point: &NumericPoint) -> Vec<Vec<(bool, String)>> {
        let leaf = |v: Var| parenthesised(point.slots[v.index()]);
        let printer = Printer {
            graph: &self.derivation.graph,
            leaf: &leaf,
            style: Style::Latex,
        };
        let substituted = printer.terms(node);
        let result = vec![(false, rounded(value, 6))];
        if substituted == result {
            vec![result]
        } else {
            vec![substituted, result]
        }
    }
}

fn parenthesised(v: f64) -> String {
    let text = rounded(v, 6);
    if v < 0.0 {
        format!("\\left({text}\\right)")
    } else {
        text
    }
}

/// Parses `--weight` references: `W1[0][1]` (one element) or `W1` (every element).
pub fn parse_weight(
    network: &Network,
    derivation: &Derivation,
    text: &str,
) -> Result<Vec<Var>, String> {
    let text = text.trim();
    let (name, rest) = text.split_at(text.find('[').unwrap_or(text.len()));
    let Some(Symbol::Param(p)) = network.lookup(name) else {
        let params: Vec<&str> = network.params.iter().map(|p| p.name.as_str()).collect();
        return Err(format!(
            "`{name}` is not a parameter of network `{}` (its parameters: {})",
            network.name,
            params.join(", ")
        ));
    };
    let symbol = Symbol::Param(p);
    if rest.is_empty() {
        return Ok(derivation.layout.vars(symbol).collect());
    }
    let indices: Vec<usize> = rest
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split("][")
        .map(|i| {
            i.trim()
                .parse::<usize>()
                .map_err(|_| format!("`{text}`: indices are whole numbers, as in `W1[0][1]`"))
        })
        .collect::<Result<_, _>>()?;
    let dims = network.params[p].shape.dims();
    if indices.len() != dims.len() || indices.iter().zip(&dims).any(|(i, d)| i >= d) {
        let shape: String = dims.iter().map(|d| format!("[{d}]")).collect();
        return Err(format!(
            "`{text}` is not an element of `{name}`, which is {name}{shape}"
        ));
    }
    let elem = indices.iter().zip(&dims).fold(0, |acc, (i, d)| acc * d + i);
    Ok(vec![derivation.layout.var(symbol, elem)])
}

/// The derivation of a network in a form, as an `align*` fragment or a whole document.
pub fn render(
    network: &Network,
    compiled: &CompiledNetwork,
    form: Form,
    weights: &[Var],
    point: Option<&NumericPoint>,
    standalone: bool,
) -> String {
    let fragment = Latex::new(network, compiled).fragment(form, weights, point);
    if !standalone {
        return fragment;
    }
    document(&[(form_title(network, form), fragment)])
}

/// A standalone document's section title.
fn form_title(network: &Network, form: Form) -> String {
    let form_name = match form {
        Form::Chain => "the chain rule",
        Form::Delta => "deltas",
        Form::General => "general form",
        Form::Numeric => "worked numbers",
    };
    format!("Network {}: {form_name}", network.name)
}

/// The matrix form (`--form matrix`) of a network's verified tensor-level statements.
pub fn render_matrix(
    network: &Network,
    program: &crate::tensor::Program,
    standalone: bool,
) -> String {
    let loss = names::symbol(&network.loss.name);
    let (lines, breaks) = matrix::lines(program, network, &loss);
    let fragment = blocks::finish(&lines, &breaks);
    if !standalone {
        return fragment;
    }
    document(&[(format!("Network {}: matrix form", network.name), fragment)])
}

/// A whole LaTeX document around fragments, one section per titled fragment.
pub fn document(sections: &[(String, String)]) -> String {
    let mut out = String::from(
        "\\documentclass[10pt]{article}\n\\usepackage{amsmath}\n\\setlength{\\textwidth}{6.5in}\n\\setlength{\\oddsidemargin}{0in}\n\\allowdisplaybreaks\n\\begin{document}\n",
    );
    for (title, fragment) in sections {
        out.push_str(&format!(
            "\\section*{{{}}}\n{fragment}\n",
            title.replace('_', "\\_")
        ));
    }
    out.push_str("\\end{document}\n");
    out
}
