//! Values drawn as blocks rather than units: a feature map as a stack of its channels (never
//! thousands of circles), the steps of a recurrence unrolled, a few boxes and an ellipsis, with
//! the arrows that carry a state from one step to the next.

use std::fmt::Write as _;

use super::{Group, Via, escape};
use crate::model::{IndexTerm, Network, Symbol, TExpr, TExprKind};

/// How a group is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Form {
    /// A column of units.
    Units,
    /// A stack of feature maps: channels, height, width (the last three axes).
    Maps(usize, usize, usize),
    /// The rows of a value over the steps of a recurrence: one box per step shown.
    Steps(usize),
}

const BOX_WIDTH: f64 = 58.0;
const BOX_HEIGHT: f64 = 28.0;
const STEP_GAP: f64 = 46.0;
const MAP_SIDE: f64 = 46.0;
const MAP_OFFSET: f64 = 7.0;
/// Most channels drawn in a stack.
const MAPS_DRAWN: usize = 3;
/// More steps than this and the middle ones are an ellipsis.
const STEPS_DRAWN: usize = 4;

/// The form of a symbol's value: maps for three axes or more, steps for a matrix whose rows
/// a recurrence takes one at a time (its own, or its input's `x[t]`).
pub(super) fn form_of(network: &Network, symbol: Symbol) -> Form {
    let dims = network.shape_of(symbol).dims();
    if let [.., c, h, w] = dims[..]
        && dims.len() >= 3
    {
        return Form::Maps(c, h, w);
    }
    let [steps, _] = dims[..] else {
        return Form::Units;
    };
    let recurrent = network.vectors.iter().enumerate().any(|(v, vector)| {
        (network.recurrence_of(v).is_some() || vector.expr.reads(Symbol::Vector(v)))
            && vector.shape.dims().first() == Some(&steps)
    });
    match recurrent {
        true => Form::Steps(steps),
        false => Form::Units,
    }
}

/// The parameters an expression reads, in order of first reading.
pub(super) fn params_read(network: &Network, expr: &TExpr) -> Vec<String> {
    let mut out = Vec::new();
    collect_params(network, expr, &mut out);
    // A window's maximum reads no weight: the edge says what it does.
    if out.is_empty() && has_maximum(expr) {
        out.push("max".to_string());
    }
    out
}

fn has_maximum(e: &TExpr) -> bool {
    let mut found = matches!(e.kind, TExprKind::ExtremumOver(..));
    e.for_each_child(|c| found |= has_maximum(c));
    found
}

fn collect_params(network: &Network, e: &TExpr, out: &mut Vec<String>) {
    let param = match &e.kind {
        TExprKind::Symbol(Symbol::Param(p)) | TExprKind::Element(Symbol::Param(p), _) => Some(*p),
        TExprKind::MatVec(p, _) | TExprKind::VecMat(_, p) => Some(*p),
        _ => None,
    };
    if let Some(p) = param {
        let name = &network.params[p].name;
        if !out.contains(name) {
            out.push(name.clone());
        }
    }
    e.for_each_child(|c| collect_params(network, c, out));
}

/// The steps a `Steps` group shows: `None` stands for the ellipsis.
fn shown_steps(steps: usize) -> Vec<Option<usize>> {
    if steps <= STEPS_DRAWN {
        (0..steps).map(Some).collect()
    } else {
        vec![Some(0), Some(1), None, Some(steps - 1)]
    }
}

pub(super) fn height(group: &Group) -> f64 {
    match group.form {
        Form::Units => 0.0,
        Form::Maps(c, ..) => MAP_SIDE + MAP_OFFSET * (c.min(MAPS_DRAWN) - 1) as f64 + 18.0,
        Form::Steps(steps) => {
            BOX_HEIGHT + STEP_GAP * (shown_steps(steps).len().saturating_sub(1)) as f64
        }
    }
}

/// The centre of the box of step `t` of a `Steps` group, if it is shown.
fn step_y(group: &Group, t: usize) -> Option<f64> {
    let Form::Steps(steps) = group.form else {
        return None;
    };
    let position = shown_steps(steps).iter().position(|s| *s == Some(t))?;
    Some(group.top + BOX_HEIGHT / 2.0 + position as f64 * STEP_GAP)
}

fn centre_y(group: &Group) -> f64 {
    group.top + height(group) / 2.0
}

/// Draws a block group at horizontal centre `cx`.
pub(super) fn draw(out: &mut String, group: &Group, cx: f64) {
    let name = group.names.last().map_or("", String::as_str);
    match group.form {
        Form::Units => {}
        Form::Maps(c, h, w) => {
            let drawn = c.min(MAPS_DRAWN);
            // Back to front: the first channel in front, lowest and leftmost.
            for k in (0..drawn).rev() {
                let offset = k as f64 * MAP_OFFSET;
                let (x, y) = (
                    cx - MAP_SIDE / 2.0 - MAP_OFFSET + offset,
                    group.top + MAP_OFFSET * (drawn - 1) as f64 - offset,
                );
                let _ = writeln!(
                    out,
                    r##"<rect class="map" x="{x:.1}" y="{y:.1}" width="{MAP_SIDE}" height="{MAP_SIDE}" fill="#eef3fb" stroke="#1f4e8c" stroke-width="1.5"/>"##
                );
            }
            let _ = writeln!(
                out,
                r##"<text x="{cx:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#333">{c} &#215; {h} &#215; {w}</text>"##,
                group.top + height(group) - 2.0
            );
        }
        Form::Steps(steps) => {
            for (position, step) in shown_steps(steps).into_iter().enumerate() {
                let cy = group.top + BOX_HEIGHT / 2.0 + position as f64 * STEP_GAP;
                let Some(t) = step else {
                    let _ = writeln!(
                        out,
                        r#"<text x="{cx:.1}" y="{:.1}" font-size="18" text-anchor="middle">&#8942;</text>"#,
                        cy + 6.0
                    );
                    continue;
                };
                let _ = writeln!(
                    out,
                    r##"<rect class="step" x="{:.1}" y="{:.1}" width="{BOX_WIDTH}" height="{BOX_HEIGHT}" rx="6" fill="#eef3fb" stroke="#1f4e8c" stroke-width="1.5"/>"##,
                    cx - BOX_WIDTH / 2.0,
                    cy - BOX_HEIGHT / 2.0
                );
                let _ = writeln!(
                    out,
                    r#"<text x="{cx:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}[{t}]</text>"#,
                    cy + 4.0,
                    escape(name)
                );
            }
        }
    }
}

/// The half width of a group at its side.
fn half_width(group: &Group) -> f64 {
    match group.form {
        Form::Units => super::RADIUS,
        Form::Maps(..) => MAP_SIDE / 2.0 + MAP_OFFSET,
        Form::Steps(_) => BOX_WIDTH / 2.0,
    }
}

/// An edge with a block at one end: step to step where both sides have the same steps, else
/// one arrow between the centres, named by what the consumer's definition reads.
pub(super) fn edge(
    out: &mut String,
    labels: &mut String,
    (from, from_x): (&Group, f64),
    (to, to_x): (&Group, f64),
    via: &Via,
) {
    let name = match via {
        Via::Matrix(name, _) => name.clone(),
        Via::Products(names) => names.join(", "),
        Via::Elementwise | Via::All => to.params.join(", "),
    };
    let (x1, x2) = (from_x + half_width(from), to_x - half_width(to));
    let pairs: Vec<(f64, f64)> = match (from.form, to.form) {
        (Form::Steps(a), Form::Steps(b)) if a == b => shown_steps(a)
            .into_iter()
            .flatten()
            .filter_map(|t| Some((step_y(from, t)?, step_y(to, t)?)))
            .collect(),
        _ => vec![(centre_y(from), centre_y(to))],
    };
    for (n, &(y1, y2)) in pairs.iter().enumerate() {
        let _ = writeln!(
            out,
            r##"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="#8a8a8a" stroke-width="1.5"/>"##
        );
        if n == 0 && !name.is_empty() {
            let (lx, ly) = ((x1 + x2) / 2.0, (y1 + y2) / 2.0 - 4.0);
            let _ = writeln!(
                labels,
                r##"<text x="{lx:.1}" y="{ly:.1}" font-size="11" text-anchor="middle" fill="#1f4e8c" stroke="white" stroke-width="3" paint-order="stroke">{}</text>"##,
                escape(&name)
            );
        }
    }
}

/// A read of an earlier step: `to` at step t reads `from` at step t - `lag`.
pub(super) struct Recurrent {
    pub(super) from: usize,
    pub(super) to: usize,
    lag: usize,
    /// The weight the read goes through (`W` of `W @ h[t - 1]`), if one.
    weight: Option<String>,
}

/// Every read of a recurrence's earlier steps (`h[t - 1]`), between the groups that draw them.
pub(super) fn recurrent_edges(network: &Network, group_of: &[(Symbol, usize)]) -> Vec<Recurrent> {
    let group = |s: Symbol| group_of.iter().find(|(t, _)| *t == s).map(|(_, g)| *g);
    let mut out: Vec<Recurrent> = Vec::new();
    for (v, vector) in network.vectors.iter().enumerate() {
        let mut reads = Vec::new();
        earlier_reads(&vector.expr, None, &mut reads);
        for (u, lag, weight) in reads {
            let (Some(from), Some(to)) = (group(Symbol::Vector(u)), group(Symbol::Vector(v)))
            else {
                continue;
            };
            let weight = weight.map(|p| network.params[p].name.clone());
            if !out
                .iter()
                .any(|r| r.from == from && r.to == to && r.lag == lag)
            {
                out.push(Recurrent {
                    from,
                    to,
                    lag,
                    weight,
                });
            }
        }
    }
    out
}

/// The vectors `e` reads at an earlier step of its first index, with the lag and the
/// parameter of the product around the read (`inside`).
fn earlier_reads(e: &TExpr, inside: Option<usize>, out: &mut Vec<(usize, usize, Option<usize>)>) {
    if let TExprKind::Element(Symbol::Vector(u), indices) = &e.kind
        && let Some(IndexTerm::Affine(parts, offset)) = indices.first()
        && parts[..] == [(0, 1)]
        && *offset < 0
    {
        out.push((*u, offset.unsigned_abs() as usize, inside));
    }
    let inside = match &e.kind {
        TExprKind::MatVec(p, _) | TExprKind::VecMat(_, p) => Some(*p),
        _ => inside,
    };
    e.for_each_child(|c| earlier_reads(c, inside, out));
}

/// Draws the arrows of one earlier-step read between the steps shown on both sides: dashed,
/// from step t - lag of `from` to step t of `to` (an arc beside the column when both are one
/// group), named by its weight once.
pub(super) fn recurrent(
    out: &mut String,
    labels: &mut String,
    (from, from_x): (&Group, f64),
    (to, to_x): (&Group, f64),
    r: &Recurrent,
) {
    let Form::Steps(steps) = to.form else {
        return;
    };
    let mut named = false;
    for t in r.lag..steps {
        let (Some(y1), Some(y2)) = (step_y(from, t - r.lag), step_y(to, t)) else {
            continue;
        };
        let (path, (lx, ly)) = if r.from == r.to {
            // Down the left side of the column, from one step's box to the next one's.
            let x = from_x - BOX_WIDTH / 2.0;
            let bend = x - 26.0;
            (
                format!("M {x:.1} {y1:.1} C {bend:.1} {y1:.1} {bend:.1} {y2:.1} {x:.1} {y2:.1}"),
                (bend - 4.0, (y1 + y2) / 2.0 + 4.0),
            )
        } else {
            let (x1, x2) = (from_x + BOX_WIDTH / 2.0, to_x - BOX_WIDTH / 2.0);
            let (xa, xb) = if x1 <= x2 {
                (x1, x2)
            } else {
                (from_x - BOX_WIDTH / 2.0, to_x + BOX_WIDTH / 2.0)
            };
            (
                format!("M {xa:.1} {y1:.1} L {xb:.1} {y2:.1}"),
                ((xa + xb) / 2.0, (y1 + y2) / 2.0 - 4.0),
            )
        };
        let _ = writeln!(
            out,
            r##"<path class="carried" d="{path}" fill="none" stroke="#b05a1a" stroke-width="1.5" stroke-dasharray="5 3"/>"##
        );
        if let Some(weight) = r.weight.as_deref().filter(|_| !named) {
            named = true;
            let _ = writeln!(
                labels,
                r##"<text x="{lx:.1}" y="{ly:.1}" font-size="11" text-anchor="end" fill="#b05a1a" stroke="white" stroke-width="3" paint-order="stroke">{}</text>"##,
                escape(weight)
            );
        }
    }
}
