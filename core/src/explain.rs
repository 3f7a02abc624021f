//! `chainrule explain`: a worked numeric example in aligned tables, as the seed notebooks
//! print it step by step: inputs, forward values, the loss, every chain-rule factor, every
//! delta, every gradient, and with a learning rate the updated parameters and their change.

use chainrule_grammar::BatchRule;

use crate::derive::Derivation;
use crate::eval::{BatchResult, Sample, evaluate_batch};
use crate::ir::{NodeId, Var};
use crate::model::{Network, Symbol};
use crate::print::{Printer, Style, rounded_text};

/// At most this many samples get their own column.
const MAX_COLUMNS: usize = 8;
/// Definitions longer than this are shortened in the tables.
const MAX_DEFINITION: usize = 60;

/// One table: a title, column headers, and rows of text cells.
struct Table {
    title: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn render(&self) -> String {
        let columns = self.header.len();
        let mut widths = vec![0; columns];
        // A one-cell row (`... and 781 more`) spans the table; it sets no column's width.
        let full = |row: &&Vec<String>| row.len() > 1 || columns == 1;
        for row in std::iter::once(&self.header).chain(self.rows.iter().filter(full)) {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = format!("{}\n", self.title);
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = String::from("  ");
            for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
                // Names and formulas read left to right; numbers line up on the right.
                let numeric = i >= 2
                    || (i == 1 && self.header.get(1).is_some_and(|h| h.starts_with("sample")));
                let pad = w.saturating_sub(cell.chars().count());
                if numeric && !std::ptr::eq(row, &self.header) {
                    line.push_str(&" ".repeat(pad));
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    line.push_str(&" ".repeat(pad));
                }
                line.push_str("  ");
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

fn shorten(text: String) -> String {
    if text.chars().count() <= MAX_DEFINITION {
        return text;
    }
    let head: String = text.chars().take(MAX_DEFINITION - 3).collect();
    format!("{head}...")
}

/// The worked example for a network at a point, every row of it.
pub fn explain(
    network: &Network,
    derivation: &Derivation,
    params: &[Vec<f64>],
    samples: &[Sample],
    lr: Option<f64>,
) -> String {
    let shown = Shown::new(network, derivation, &[], true);
    explain_shown(network, derivation, params, samples, lr, &shown)
}

/// The worked example, with only the rows `shown` picks.
pub fn explain_shown(
    network: &Network,
    derivation: &Derivation,
    params: &[Vec<f64>],
    samples: &[Sample],
    lr: Option<f64>,
    shown_rows: &Shown,
) -> String {
    let result = evaluate_batch(derivation, network, params, samples);
    let shown = samples.len().min(MAX_COLUMNS);
    let layout = &derivation.layout;
    let name = |v: Var| layout.describe(network, v);
    let text = |node: NodeId| {
        let leaf = |v: Var| layout.describe(network, v);
        shorten(
            Printer {
                graph: &derivation.graph,
                leaf: &leaf,
                style: Style::Text,
            }
            .expr(node),
        )
    };
    let values = |var: Var| -> Vec<String> {
        result.samples[..shown]
            .iter()
            .map(|s| rounded_text(s.slots[var.index()], 7))
            .collect()
    };
    let sample_headers: Vec<String> = (1..=shown).map(|s| format!("sample {s}")).collect();
    let batch = match network.batch {
        BatchRule::Mean => "mean",
        BatchRule::Sum => "sum",
    };
    let mut out = format!(
        "network {}: worked example over {} sample(s), batch {batch}\n",
        network.name,
        samples.len()
    );
    if shown < samples.len() {
        out.push_str(&format!(
            "(tables show the first {shown} samples; totals use all {})\n",
            samples.len()
        ));
    }
    let mut tables = Vec::new();

    let mut data_rows = Vec::new();
    for symbol in (0..network.inputs.len())
        .map(Symbol::Input)
        .chain((0..network.targets.len()).map(Symbol::Target))
    {
        for var in layout.vars(symbol) {
            if shown_rows.value(var) {
                let mut row = vec![name(var)];
                row.extend(values(var));
                data_rows.push(row);
            }
        }
    }
    let total = network.inputs.iter().map(|v| v.size).sum::<usize>()
        + network.targets.iter().map(|v| v.size).sum::<usize>();
    more(&mut data_rows, total);
    tables.push(Table {
        title: "Inputs and targets".into(),
        header: std::iter::once("name".to_string())
            .chain(sample_headers.clone())
            .collect(),
        rows: data_rows,
    });

    let with_definition = |title: &str, rows: Vec<(String, String, Var)>| Table {
        title: title.into(),
        header: ["name", "definition"]
            .iter()
            .map(|s| s.to_string())
            .chain(sample_headers.clone())
            .collect(),
        rows: rows
            .into_iter()
            .map(|(n, d, var)| {
                let mut row = vec![n, d];
                row.extend(values(var));
                row
            })
            .collect(),
    };
    let loss_index = derivation.forward.len() - 1;
    let forward: Vec<(String, String, Var)> = derivation.forward[..loss_index]
        .iter()
        .filter(|d| shown_rows.value(d.var))
        .map(|d| (name(d.var), text(d.value), d.var))
        .collect();
    let mut table = with_definition("Forward pass", forward);
    more(&mut table.rows, loss_index);
    tables.push(table);
    let loss = &derivation.forward[loss_index];
    let mut loss_table =
        with_definition("Loss", vec![(name(loss.var), text(loss.value), loss.var)]);
    loss_table.header.push(format!("batch {batch}"));
    loss_table.rows[0].push(rounded_text(result.loss, 7));
    tables.push(loss_table);

    tables.push(factor_table(
        network,
        derivation,
        &result,
        shown,
        &text,
        &sample_headers,
        shown_rows,
    ));

    let all_deltas = derivation.deltas_by_vector();
    let delta_count = all_deltas.len();
    let deltas: Vec<(String, String, Var)> = all_deltas
        .into_iter()
        .filter(|&(_, _, value, _, _)| shown_rows.value(value))
        .map(|(_, _, _, slot, expr)| (name(slot), text(expr), slot))
        .collect();
    let mut table = with_definition("Deltas (dL/dv, from the loss backwards)", deltas);
    more(&mut table.rows, delta_count);
    tables.push(table);

    tables.push(gradient_table(
        network,
        derivation,
        &result,
        params,
        shown,
        lr,
        &text,
        &sample_headers,
        shown_rows,
    ));
    for table in tables {
        out.push('\n');
        out.push_str(&table.render());
    }
    out
}

/// Every local partial d(c)/d(u) on a path to the loss: the factors of the chain rule.
fn factor_table(
    network: &Network,
    derivation: &Derivation,
    result: &BatchResult,
    shown: usize,
    text: &dyn Fn(NodeId) -> String,
    sample_headers: &[String],
    rows_shown: &Shown,
) -> Table {
    let layout = &derivation.layout;
    let mut total = 0;
    let mut evaluators: Vec<crate::eval::Evaluator<'_>> = result.samples[..shown]
        .iter()
        .map(|s| crate::eval::Evaluator::from_slots(derivation, &s.slots))
        .collect();
    let mut rows = Vec::new();
    for (_, def) in derivation
        .forward
        .iter()
        .enumerate()
        .filter(|(c, _)| derivation.live[*c])
    {
        for &(u, partial) in &def.partials {
            if matches!(
                layout.slot(u),
                crate::layout::Slot::Value(Symbol::Input(_) | Symbol::Target(_), _)
            ) {
                continue;
            }
            total += 1;
            if !rows_shown.factor(def.var, u) {
                continue;
            }
            let mut row = vec![
                format!(
                    "d{}/d{}",
                    layout.describe(network, def.var),
                    layout.describe(network, u)
                ),
                text(partial),
            ];
            row.extend(
                evaluators
                    .iter_mut()
                    .map(|e| rounded_text(e.value(partial), 7)),
            );
            rows.push(row);
        }
    }
    more(&mut rows, total);
    Table {
        title: "Chain-rule factors (local partial derivatives)".into(),
        header: ["factor", "expression"]
            .iter()
            .map(|s| s.to_string())
            .chain(sample_headers.iter().cloned())
            .collect(),
        rows,
    }
}

#[allow(clippy::too_many_arguments)]
fn gradient_table(
    network: &Network,
    derivation: &Derivation,
    result: &BatchResult,
    params: &[Vec<f64>],
    shown: usize,
    lr: Option<f64>,
    text: &dyn Fn(NodeId) -> String,
    sample_headers: &[String],
    rows_shown: &Shown,
) -> Table {
    let layout = &derivation.layout;
    let mut header: Vec<String> = ["parameter", "dL/dp"]
        .iter()
        .map(|s| s.to_string())
        .chain(sample_headers.iter().cloned())
        .collect();
    header.push("batch".into());
    if lr.is_some() {
        header.extend(["value", "updated", "change"].iter().map(|s| s.to_string()));
    }
    let flat_params: Vec<f64> = params.concat();
    let flat_gradient: Vec<f64> = result.gradient.concat();
    let per_sample: Vec<Vec<f64>> = result.samples[..shown]
        .iter()
        .map(|s| s.gradient.concat())
        .collect();
    let mut rows = Vec::new();
    for (i, &(var, expr)) in derivation.gradients.iter().enumerate() {
        if !rows_shown.value(var) {
            continue;
        }
        let mut row = vec![layout.describe(network, var), text(expr)];
        row.extend(per_sample.iter().map(|g| rounded_text(g[i], 7)));
        row.push(rounded_text(flat_gradient[i], 7));
        if let Some(lr) = lr {
            let old = flat_params[i];
            let new = old - lr * flat_gradient[i];
            row.extend([
                rounded_text(old, 7),
                rounded_text(new, 7),
                rounded_text(new - old, 7),
            ]);
        }
        rows.push(row);
    }
    more(&mut rows, derivation.gradients.len());
    let title = match lr {
        Some(lr) => format!("Gradients and one gradient-descent step with learning rate {lr}"),
        None => "Gradients".to_string(),
    };
    Table {
        title,
        header,
        rows,
    }
}

/// Most rows a table shows before `explain` shows a sample (without `--all`).
pub const MAX_ROWS: usize = 200;
/// In a sample, the first elements of each name that get a row.
pub const SAMPLE_ELEMENTS: usize = 3;

/// Which rows `explain` prints: every one for a small network or with `--all`; otherwise the
/// first [`SAMPLE_ELEMENTS`] elements of each name, and the weights asked for by `--weight`
/// (their factors and gradients) in place of the parameters' sample.
pub struct Shown {
    /// Per value slot: whether its rows are printed; `None` prints every row.
    rows: Option<Vec<bool>>,
    /// Whether a parameter slot was asked for by `--weight` (its factors are printed even when
    /// the unit that reads it is not).
    asked: Vec<bool>,
    /// What a reader is told when rows were left out.
    pub note: Option<String>,
}

impl Shown {
    /// The rows for `--weight` choices `asked` (parameter slots) and `--all`.
    pub fn new(network: &Network, derivation: &Derivation, asked: &[Var], all: bool) -> Shown {
        let layout = &derivation.layout;
        let mut chosen = vec![false; layout.len()];
        for v in asked {
            chosen[v.index()] = true;
        }
        let factors: usize = derivation.forward.iter().map(|d| d.partials.len()).sum();
        let largest = [
            layout.len(),
            factors,
            derivation.gradients.len(),
            derivation.deltas.len(),
        ];
        let small = largest.iter().all(|&n| n <= MAX_ROWS);
        if all || (small && asked.is_empty()) {
            return Shown {
                rows: None,
                asked: chosen,
                note: None,
            };
        }
        let rows: Vec<bool> = (0..layout.len())
            .map(|i| match layout.slot(Var(i as u32)) {
                crate::layout::Slot::Value(Symbol::Param(_), elem) => {
                    chosen[i] || (asked.is_empty() && (small || elem < SAMPLE_ELEMENTS))
                }
                crate::layout::Slot::Value(_, elem) => small || elem < SAMPLE_ELEMENTS,
                crate::layout::Slot::Delta(..) => false,
            })
            .collect();
        let example = asked
            .first()
            .copied()
            .or_else(|| derivation.gradients.first().map(|g| g.0))
            .map(|v| layout.describe(network, v))
            .unwrap_or_default();
        let param = example.split('[').next().unwrap_or_default();
        let note = (!small).then(|| {
            format!(
                "network {} is large: the tables show the first {SAMPLE_ELEMENTS} elements of each name{}. Ask for a weight's factors and gradient with --weight ({example}, or {param} for all of its elements), or for every row with --all.",
                network.name,
                if asked.is_empty() {
                    ""
                } else {
                    " and the weights asked for"
                }
            )
        });
        Shown {
            rows: Some(rows),
            asked: chosen,
            note,
        }
    }

    /// Whether the rows of a named scalar's value (or gradient) are printed.
    fn value(&self, var: Var) -> bool {
        self.rows.as_ref().is_none_or(|rows| rows[var.index()])
    }

    /// Whether the factor d(c)/d(u) is printed: both ends shown, or `u` asked for.
    fn factor(&self, c: Var, u: Var) -> bool {
        self.asked[u.index()] || (self.value(c) && self.value(u))
    }
}

/// Ends a table that holds fewer rows than `total` with a row that says how many are missing.
fn more(rows: &mut Vec<Vec<String>>, total: usize) {
    if total > rows.len() {
        let missing = total - rows.len();
        rows.push(vec![format!("... and {missing} more (--weight or --all)")]);
    }
}
