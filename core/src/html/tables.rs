//! The worked numeric example as HTML tables, the same rows `chainrule explain` prints:
//! inputs and targets, forward values, the loss, the chain-rule factors, the deltas and the
//! gradients (with a learning rate, the step). Long tables stop after [`MAX_ROWS`] rows.

use std::fmt::Write as _;

use chainrule_grammar::BatchRule;

use super::escape;
use crate::derive::Derivation;
use crate::eval::{BatchResult, Evaluator};
use crate::ir::{NodeId, Var};
use crate::layout::Slot;
use crate::model::{Network, Symbol};
use crate::print::{Printer, Style, rounded_text};

/// Rows a table shows before it says how many it left out.
pub const MAX_ROWS: usize = 60;
/// Samples that get their own column.
const MAX_COLUMNS: usize = 8;
/// Definitions longer than this are shortened.
const MAX_DEFINITION: usize = 80;

struct Table {
    title: String,
    header: Vec<String>,
    /// Cells; the first `text_columns` are names and formulas, the rest numbers.
    rows: Vec<Vec<String>>,
    text_columns: usize,
    /// How many rows the whole table has (`rows` may hold only the first of them).
    total: usize,
}

impl Table {
    fn render(&self, out: &mut String) {
        let _ = writeln!(out, "<h3>{}</h3>\n<table>", escape(&self.title));
        out.push_str("<tr>");
        for h in &self.header {
            let _ = write!(out, "<th>{}</th>", escape(h));
        }
        out.push_str("</tr>\n");
        for row in self.rows.iter().take(MAX_ROWS) {
            out.push_str("<tr>");
            for (i, cell) in row.iter().enumerate() {
                let class = if i >= self.text_columns { "num" } else { "def" };
                let _ = write!(out, "<td class=\"{class}\">{}</td>", escape(cell));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</table>\n");
        let total = self.total.max(self.rows.len());
        if total > MAX_ROWS {
            let _ = writeln!(
                out,
                "<p class=\"note\">... and {} more rows (<code>chainrule explain</code> prints them all).</p>",
                total - MAX_ROWS
            );
        }
    }
}

fn shorten(text: String) -> String {
    if text.chars().count() <= MAX_DEFINITION {
        return text;
    }
    let head: String = text.chars().take(MAX_DEFINITION - 3).collect();
    format!("{head}...")
}

/// Every table of the worked example.
pub fn tables(
    network: &Network,
    derivation: &Derivation,
    result: &BatchResult,
    params: &[Vec<f64>],
    lr: Option<f64>,
) -> String {
    let layout = &derivation.layout;
    let shown = result.samples.len().min(MAX_COLUMNS);
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
    let samples: Vec<String> = (1..=shown).map(|s| format!("sample {s}")).collect();
    let with = |first: &[&str]| -> Vec<String> {
        first
            .iter()
            .map(|s| s.to_string())
            .chain(samples.iter().cloned())
            .collect()
    };
    let batch = match network.batch {
        BatchRule::Mean => "mean",
        BatchRule::Sum => "sum",
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<p>At the file's point: {} sample(s), combined by their {batch}.{}</p>",
        result.samples.len(),
        if shown < result.samples.len() {
            format!(" The tables show the first {shown} samples; totals use all.")
        } else {
            String::new()
        }
    );

    let mut data = Vec::new();
    for symbol in (0..network.inputs.len())
        .map(Symbol::Input)
        .chain((0..network.targets.len()).map(Symbol::Target))
    {
        for var in layout.vars(symbol) {
            let mut row = vec![name(var)];
            row.extend(values(var));
            data.push(row);
        }
    }
    let mut tables = vec![Table {
        title: "Inputs and targets".into(),
        header: with(&["name"]),
        total: data.len(),
        rows: data,
        text_columns: 1,
    }];
    let defined = |title: &str, header: &[&str], rows: Vec<(String, NodeId, Var)>| Table {
        title: title.into(),
        total: rows.len(),
        header: with(header),
        rows: rows
            .into_iter()
            .map(|(n, d, var)| {
                let mut row = vec![n, text(d)];
                row.extend(values(var));
                row
            })
            .collect(),
        text_columns: 2,
    };
    let loss_index = derivation.forward.len() - 1;
    tables.push(defined(
        "Forward pass",
        &["name", "definition"],
        derivation.forward[..loss_index]
            .iter()
            .map(|d| (name(d.var), d.value, d.var))
            .collect(),
    ));
    let loss = &derivation.forward[loss_index];
    let mut loss_table = defined(
        "Loss",
        &["name", "definition"],
        vec![(name(loss.var), loss.value, loss.var)],
    );
    loss_table.header.push(format!("batch {batch}"));
    loss_table.rows[0].push(rounded_text(result.loss, 7));
    tables.push(loss_table);

    let mut evaluators: Vec<Evaluator<'_>> = result.samples[..shown]
        .iter()
        .map(|s| Evaluator::from_slots(derivation, &s.slots))
        .collect();
    let mut factors = Vec::new();
    let mut total = 0;
    for (c, def) in derivation.forward.iter().enumerate() {
        if !derivation.live[c] {
            continue;
        }
        for &(u, partial) in &def.partials {
            if matches!(
                layout.slot(u),
                Slot::Value(Symbol::Input(_) | Symbol::Target(_), _)
            ) {
                continue;
            }
            total += 1;
            if factors.len() >= MAX_ROWS {
                continue;
            }
            let mut row = vec![format!("d{}/d{}", name(def.var), name(u)), text(partial)];
            row.extend(
                evaluators
                    .iter_mut()
                    .map(|e| rounded_text(e.value(partial), 7)),
            );
            factors.push(row);
        }
    }
    tables.push(Table {
        title: "Chain-rule factors (local partial derivatives)".into(),
        header: with(&["factor", "expression"]),
        rows: factors,
        text_columns: 2,
        total,
    });
    tables.push(defined(
        "Deltas (dL/dv, from the loss backwards)",
        &["delta", "expression"],
        derivation
            .deltas_by_vector()
            .into_iter()
            .map(|(_, _, _, slot, expr)| (name(slot), expr, slot))
            .collect(),
    ));

    let mut header = with(&["parameter", "dL/dp"]);
    header.push(format!("batch {batch}"));
    if lr.is_some() {
        header.extend(["value", "updated", "change"].map(String::from));
    }
    let flat_params = params.concat();
    let flat_gradient = result.gradient.concat();
    let per_sample: Vec<Vec<f64>> = result.samples[..shown]
        .iter()
        .map(|s| s.gradient.concat())
        .collect();
    let mut rows = Vec::new();
    for (i, &(var, expr)) in derivation.gradients.iter().enumerate().take(MAX_ROWS) {
        let mut row = vec![name(var), text(expr)];
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
    let gradients = Table {
        title: match lr {
            Some(lr) => format!("Gradients and one gradient-descent step with learning rate {lr}"),
            None => "Gradients".to_string(),
        },
        header,
        rows,
        text_columns: 2,
        total: derivation.gradients.len(),
    };
    tables.push(gradients);
    for table in &tables {
        table.render(&mut out);
    }
    out
}
