//! The network drawn as the seeds draw it by hand, in SVG: layers as columns of units, edges
//! named by the weights on them, the loss at the right. Shared by the HTML page and the notebook.
//!
//! A column is a depth in the data flow (inputs at depth 0). A vector computed element-wise
//! from one other vector of its size (`a1 = sigmoid(z1)`) shares that vector's units, as the
//! seeds draw `z` and `a` as one circle. A layer with more than [`MAX_UNITS`] units is drawn
//! compressed: its first units, an ellipsis, its last units. Feature maps and the steps of a
//! recurrence are drawn as blocks ([`blocks`]): a map as a stack of its channels, a
//! recurrence unrolled over a few steps with an ellipsis.

use std::fmt::Write as _;

use crate::model::{Network, Symbol, TExpr, TExprKind};

mod blocks;
use blocks::Form;

/// More units than this and a layer is drawn compressed.
pub const MAX_UNITS: usize = 7;
/// Edges are named by their weights only while both layers have at most this many units.
const LABELLED_UNITS: usize = 4;
const COLUMN_GAP: f64 = 190.0;
const UNIT_GAP: f64 = 58.0;
const GROUP_GAP: f64 = 40.0;
const RADIUS: f64 = 19.0;
const MARGIN: f64 = 50.0;

/// One drawn vector (or several sharing units), or the loss.
#[derive(Clone)]
struct Group {
    names: Vec<String>,
    size: usize,
    /// Units, a stack of feature maps, or the steps of a recurrence.
    form: Form,
    /// The parameters its definition reads, which name a block's incoming edge.
    params: Vec<String>,
    depth: usize,
    /// The unit indices drawn, `None` standing for the ellipsis.
    shown: Vec<Option<usize>>,
    /// Top of the group, filled in by the layout.
    top: f64,
}

/// How a source reaches a consumer.
#[derive(Clone, PartialEq)]
enum Via {
    /// Through `W @ v` (`false`) or `v @ W` (`true`): each edge is one weight of `W`.
    Matrix(String, bool),
    /// Through several products (`M @ x @ R`): edges named by the matrices' names.
    Products(Vec<String>),
    /// One unit to the same unit.
    Elementwise,
    /// Every unit to every unit (a reduction, a broadcast, an element reference).
    All,
}

struct Edge {
    from: usize,
    to: usize,
    via: Via,
}

/// The network as an SVG picture.
pub fn svg(network: &Network) -> String {
    let (groups, edges, group_of) = structure(network);
    let recurrent = blocks::recurrent_edges(network, &group_of);
    render(&groups, &edges, &recurrent)
}

fn shown_units(size: usize) -> Vec<Option<usize>> {
    if size <= MAX_UNITS {
        (0..size).map(Some).collect()
    } else {
        vec![
            Some(0),
            Some(1),
            Some(2),
            None,
            Some(size - 2),
            Some(size - 1),
        ]
    }
}

/// The symbols an expression reads, each with how it reaches the result.
fn sources(network: &Network, expr: &TExpr, products: &[String], out: &mut Vec<(Symbol, Via)>) {
    let mut push = |symbol: Symbol, via: Via| {
        if !out.iter().any(|(s, v)| *s == symbol && *v == via) {
            out.push((symbol, via));
        }
    };
    let via_products = |products: &[String], plain: Via| match products {
        [] => plain,
        _ => Via::Products(products.to_vec()),
    };
    match &expr.kind {
        TExprKind::Const(_) => {}
        TExprKind::Symbol(s) if matches!(s, Symbol::Input(_) | Symbol::Vector(_)) => {
            let plain = if network.shape_of(*s) == expr.shape {
                Via::Elementwise
            } else {
                Via::All
            };
            push(*s, via_products(products, plain));
        }
        TExprKind::Element(s, _) if matches!(s, Symbol::Input(_) | Symbol::Vector(_)) => {
            push(*s, via_products(products, Via::All));
        }
        TExprKind::Symbol(_) | TExprKind::Element(..) | TExprKind::Delta(..) => {}
        TExprKind::Neg(e) | TExprKind::Pow(e, _) | TExprKind::Builtin(_, e) => {
            sources(network, e, products, out)
        }
        TExprKind::SumOver(_, e)
        | TExprKind::ExtremumOver(_, _, e)
        | TExprKind::IndexDef(_, e)
        | TExprKind::Reduce(_, e)
        | TExprKind::VectorFn(_, e)
        | TExprKind::Grad(e, _) => {
            let mut inner = Vec::new();
            sources(network, e, products, &mut inner);
            for (s, via) in inner {
                let via = if via == Via::Elementwise {
                    Via::All
                } else {
                    via
                };
                push(s, via);
            }
        }
        TExprKind::Binary(_, a, b) => {
            sources(network, a, products, out);
            sources(network, b, products, out);
        }
        TExprKind::Call(_, args) => {
            for a in args {
                sources(network, a, products, out);
            }
        }
        TExprKind::MatVec(p, e) | TExprKind::VecMat(e, p) => {
            let name = network.params[*p].name.clone();
            let transposed = matches!(expr.kind, TExprKind::VecMat(..));
            let direct = matches!(
                &e.kind,
                TExprKind::Symbol(Symbol::Input(_) | Symbol::Vector(_))
            ) && products.is_empty();
            if direct {
                if let TExprKind::Symbol(s) = e.kind {
                    push(s, Via::Matrix(name, transposed));
                }
            } else {
                let mut products = products.to_vec();
                products.push(name);
                sources(network, e, &products, out);
            }
        }
    }
}

/// The groups, their edges, and which group draws each symbol.
type Structure = (Vec<Group>, Vec<Edge>, Vec<(Symbol, usize)>);

fn structure(network: &Network) -> Structure {
    let mut groups: Vec<Group> = Vec::new();
    let mut group_of: Vec<(Symbol, usize)> = Vec::new();
    let mut edges: Vec<Edge> = Vec::new();
    let find = |group_of: &[(Symbol, usize)], s: Symbol| {
        group_of.iter().find(|(t, _)| *t == s).map(|(_, g)| *g)
    };
    for (i, input) in network.inputs.iter().enumerate() {
        group_of.push((Symbol::Input(i), groups.len()));
        groups.push(Group {
            names: vec![input.name.clone()],
            size: input.size,
            form: blocks::form_of(network, Symbol::Input(i)),
            params: Vec::new(),
            depth: 0,
            shown: shown_units(input.size),
            top: 0.0,
        });
    }
    let mut add = |name: &str,
                   size: usize,
                   expr: &TExpr,
                   symbol: Option<Symbol>,
                   groups: &mut Vec<Group>,
                   group_of: &mut Vec<(Symbol, usize)>| {
        let mut read = Vec::new();
        sources(network, expr, &[], &mut read);
        let read: Vec<(usize, Via)> = read
            .into_iter()
            .filter_map(|(s, via)| find(group_of, s).map(|g| (g, via)))
            .collect();
        // An element-wise function of one vector of the same size shares its units.
        if let (Some(symbol), [(g, Via::Elementwise)]) = (symbol, read.as_slice())
            && groups[*g].size == size
        {
            groups[*g].names.push(name.to_string());
            group_of.push((symbol, *g));
            return;
        }
        let depth = read
            .iter()
            .map(|(g, _)| groups[*g].depth + 1)
            .max()
            .unwrap_or(1);
        let index = groups.len();
        groups.push(Group {
            names: vec![name.to_string()],
            size,
            form: symbol.map_or(Form::Units, |s| blocks::form_of(network, s)),
            params: blocks::params_read(network, expr),
            depth,
            shown: shown_units(size),
            top: 0.0,
        });
        if let Some(symbol) = symbol {
            group_of.push((symbol, index));
        }
        for (g, via) in read {
            edges.push(Edge {
                from: g,
                to: index,
                via,
            });
        }
    };
    for (v, vector) in network.vectors.iter().enumerate() {
        add(
            &vector.name,
            vector.size,
            &vector.expr,
            Some(Symbol::Vector(v)),
            &mut groups,
            &mut group_of,
        );
    }
    let loss = &network.loss;
    add(&loss.name, 1, &loss.expr, None, &mut groups, &mut group_of);
    // The loss always stands alone at the right.
    if let Some(last) = groups.len().checked_sub(1) {
        let rightmost = groups.iter().map(|g| g.depth).max().unwrap_or(0);
        let others = groups[..last].iter().any(|g| g.depth == groups[last].depth);
        if others || groups[last].depth < rightmost {
            groups[last].depth = rightmost + 1;
        }
    }
    (groups, edges, group_of)
}

fn unit_y(group: &Group, position: usize) -> f64 {
    group.top + RADIUS + position as f64 * UNIT_GAP
}

fn group_height(group: &Group) -> f64 {
    match group.form {
        Form::Units => 2.0 * RADIUS + (group.shown.len().saturating_sub(1)) as f64 * UNIT_GAP,
        _ => blocks::height(group),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn render(groups: &[Group], edges: &[Edge], recurrent: &[blocks::Recurrent]) -> String {
    let mut groups: Vec<Group> = groups.to_vec();
    let columns = groups.iter().map(|g| g.depth).max().unwrap_or(0) + 1;
    let column_height = |groups: &[Group], d: usize| -> f64 {
        let members: Vec<&Group> = groups.iter().filter(|g| g.depth == d).collect();
        let inner: f64 = members.iter().map(|g| group_height(g)).sum();
        inner + GROUP_GAP * members.len().saturating_sub(1) as f64
    };
    let tallest = (0..columns)
        .map(|d| column_height(&groups, d))
        .fold(0.0, f64::max);
    for d in 0..columns {
        let mut top = MARGIN + (tallest - column_height(&groups, d)) / 2.0;
        for g in groups.iter_mut().filter(|g| g.depth == d) {
            g.top = top;
            top += group_height(g) + GROUP_GAP;
        }
    }
    let x = |g: &Group| MARGIN + 40.0 + g.depth as f64 * COLUMN_GAP;
    let width = 2.0 * MARGIN + 80.0 + (columns - 1) as f64 * COLUMN_GAP;
    let height = tallest + 2.0 * MARGIN;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="network" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif">"#
    );
    out.push_str("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    let mut labels = String::new();
    for edge in edges {
        let (from, to) = (&groups[edge.from], &groups[edge.to]);
        if from.form != Form::Units || to.form != Form::Units {
            blocks::edge(
                &mut out,
                &mut labels,
                (from, x(from)),
                (to, x(to)),
                &edge.via,
            );
            continue;
        }
        let labelled = from.size <= LABELLED_UNITS && to.size <= LABELLED_UNITS;
        for (pj, j) in from.shown.iter().enumerate() {
            let Some(j) = j else { continue };
            for (pi, i) in to.shown.iter().enumerate() {
                let Some(i) = i else { continue };
                if edge.via == Via::Elementwise && i != j {
                    continue;
                }
                let (x1, y1) = (x(from) + RADIUS, unit_y(from, pj));
                let (x2, y2) = (x(to) - RADIUS, unit_y(to, pi));
                let _ = writeln!(
                    out,
                    r##"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="#8a8a8a" stroke-width="1"/>"##
                );
                let label = match &edge.via {
                    Via::Matrix(name, false) => format!("{name}[{i}][{j}]"),
                    Via::Matrix(name, true) => format!("{name}[{j}][{i}]"),
                    Via::Products(names) if pi == 0 && pj == 0 => names.join(", "),
                    _ => continue,
                };
                if !labelled && !matches!(edge.via, Via::Products(_)) {
                    continue;
                }
                // Labels of edges into different units sit at different distances, so the
                // labels of a fully connected layer do not pile up where the edges cross.
                let t = 0.22 + 0.56 * (pi as f64 + 0.5) / to.shown.len() as f64;
                let (lx, ly) = (x1 + t * (x2 - x1), y1 + t * (y2 - y1) - 3.0);
                let _ = writeln!(
                    labels,
                    r##"<text x="{lx:.1}" y="{ly:.1}" font-size="10" text-anchor="middle" fill="#1f4e8c" stroke="white" stroke-width="3" paint-order="stroke">{}</text>"##,
                    escape(&label)
                );
            }
        }
    }
    for r in recurrent {
        let (from, to) = (&groups[r.from], &groups[r.to]);
        blocks::recurrent(&mut out, &mut labels, (from, x(from)), (to, x(to)), r);
    }
    out.push_str(&labels);
    for g in &groups {
        let cx = x(g);
        let _ = writeln!(
            out,
            r#"<text x="{cx:.1}" y="{:.1}" font-size="13" font-weight="bold" text-anchor="middle">{}</text>"#,
            g.top - 10.0,
            escape(&g.names.join(" \u{2192} "))
        );
        if g.form != Form::Units {
            blocks::draw(&mut out, g, cx);
            continue;
        }
        for (position, unit) in g.shown.iter().enumerate() {
            let cy = unit_y(g, position);
            match unit {
                Some(u) => {
                    let _ = writeln!(
                        out,
                        r##"<circle cx="{cx:.1}" cy="{cy:.1}" r="{RADIUS}" fill="#eef3fb" stroke="#1f4e8c" stroke-width="1.5"/>"##
                    );
                    let text = if g.size == 1 && g.names.len() == 1 && g.depth > 0 {
                        g.names[0].clone()
                    } else {
                        u.to_string()
                    };
                    let _ = writeln!(
                        out,
                        r#"<text x="{cx:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}</text>"#,
                        cy + 4.0,
                        escape(&text)
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        r#"<text x="{cx:.1}" y="{:.1}" font-size="18" text-anchor="middle">&#8942;</text>"#,
                        cy + 6.0
                    );
                    let _ = writeln!(
                        out,
                        r##"<text x="{:.1}" y="{:.1}" font-size="10" fill="#555">{} units</text>"##,
                        cx + RADIUS + 4.0,
                        cy + 4.0,
                        g.size
                    );
                }
            }
        }
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(text: &str) -> Network {
        crate::check_source(text)
            .expect("checks") // ok: unit test
            .networks
            .remove(0)
    }

    #[test]
    fn seed004_has_three_columns_of_units_and_every_weight_on_an_edge() {
        let n = network(
            "network n { input x[2]\n target t[2]\n z1[3] = W1 @ x\n a1 = sigmoid(z1)\n y[2] = W2 @ a1\n loss L = 0.5 * sum((t - y)^2) }",
        );
        let svg = svg(&n);
        // 2 + 3 + 2 units and the loss.
        assert_eq!(svg.matches("<circle").count(), 8);
        for i in 0..3 {
            for j in 0..2 {
                assert!(svg.contains(&format!(">W1[{i}][{j}]<")), "W1[{i}][{j}]");
                assert!(svg.contains(&format!(">W2[{j}][{i}]<")), "W2[{j}][{i}]");
            }
        }
        assert!(svg.contains("z1 \u{2192} a1"));
    }

    #[test]
    fn a_wide_layer_is_compressed() {
        let n = network(
            "network n { input x[784]\n target t[10]\n h[120] = relu(W1 @ x + b1)\n y[10] = W2 @ h + b2\n loss L = sum((y - t)^2) }",
        );
        let svg = svg(&n);
        assert_eq!(svg.matches("<circle").count(), 5 + 5 + 5 + 1);
        assert!(svg.contains("784 units") && svg.contains("120 units"));
        assert!(!svg.contains("W1[")); // too many edges to name
    }

    #[test]
    fn feature_maps_are_stacks_named_by_their_kernel() {
        let n = network(
            "network n { input img[1][6][6]\n target y label[3]\n param K[2][1][3][3]\n param W[3][2][2][2]\n z[f][i][j] = sum(c, p, q, K[f][c][p][q] * img[c][i + p][j + q])\n a = tanh(z)\n m = maxpool2d(a, 2)\n h[k] = sum(f, i, j, W[k][f][i][j] * m[f][i][j])\n loss L = -log_softmax(h)[y] }",
        );
        let svg = svg(&n);
        // img: one channel; z -> a and m: two each. No circle for a map's elements.
        assert_eq!(svg.matches("class=\"map\"").count(), 1 + 2 + 2, "{svg}");
        assert_eq!(svg.matches("<circle").count(), 3 + 1);
        assert!(svg.contains("2 &#215; 4 &#215; 4") && svg.contains("z \u{2192} a"));
        assert!(svg.contains(">K<") && svg.contains(">max<") && svg.contains(">W<"));
    }

    #[test]
    fn a_recurrence_is_unrolled_with_its_carried_state() {
        let n = network(
            "network n { input x[9][3]\n target y[9][2]\n h[t][4] = tanh(W @ h[t - 1] + U @ x[t] + b)\n o[t][2] = V @ h[t] + c\n loss L = 0.5 * sum((o - y)^2) }",
        );
        let svg = svg(&n);
        // Steps 0, 1 and 8 of x, h and o, an ellipsis for the rest.
        assert_eq!(svg.matches("class=\"step\"").count(), 3 * 3, "{svg}");
        for t in [0, 1, 8] {
            assert!(svg.contains(&format!(">h[{t}]<")), "h[{t}]");
        }
        assert_eq!(svg.matches("&#8942;").count(), 3);
        // h[0] -> h[1] carried through W (the shown consecutive steps), named once.
        assert_eq!(svg.matches("class=\"carried\"").count(), 1);
        assert!(svg.contains(">W<") && svg.contains(">U<") && svg.contains(">V<"));
    }
}
