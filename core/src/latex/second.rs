//! The two levels of a derivation whose network holds `grad(S, v)`. First each inner
//! derivative dS/dv with its own deltas, written \bar{\delta}_u = \partial S / \partial u:
//! the recursion of first-order backpropagation, started from S instead of the loss. Then the
//! loss's deltas through it, where each inner derivative appears under its name
//! \partial S / \partial v_j instead of written out, so a student reads the outer level as
//! ordinary backpropagation through a few more named quantities.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{Form, Latex, NumericPoint, names};
use crate::derive::{Derivation, local_partials};
use crate::eval::Evaluator;
use crate::inner::Forward;
use crate::ir::{Graph, Node, NodeId, Var};
use crate::model::Network;
use crate::print::{Printer, Style, rounded};

/// One line of the inner level, printed once the outer printer exists.
enum Line {
    Text(String),
    Gap,
    /// `lhs = rhs...`, and the real node whose value the numeric form appends.
    Equation(String, Vec<Vec<(bool, String)>>, Option<NodeId>),
}

/// Names of slots, and of the extra leaves (inner deltas and inner results) numbered after
/// the layout's slots.
struct Namer<'n> {
    network: &'n Network,
    base: usize,
    extra: Vec<String>,
}

impl Namer<'_> {
    fn name(&self, d: &Derivation, v: Var) -> String {
        match v.index().checked_sub(self.base) {
            Some(i) => self.extra.get(i).cloned().unwrap_or_default(),
            None => names::slot(self.network, d.layout.slot(v), |s, e| {
                d.layout.indices(s, e)
            }),
        }
    }

    fn terms(&self, d: &Derivation, node: NodeId) -> Vec<(bool, String)> {
        let leaf = |v: Var| self.name(d, v);
        Printer {
            graph: &d.graph,
            leaf: &leaf,
            style: Style::Latex,
        }
        .terms(node)
    }

    /// A new extra leaf called `name`.
    fn leaf(&mut self, graph: &mut Graph, name: String) -> NodeId {
        let var = Var(u32::try_from(self.base + self.extra.len()).unwrap_or(u32::MAX)); // ok: far below 2^32 slots (size limits)
        self.extra.push(name);
        graph.var(var)
    }
}

/// The fragment of `latex`'s derivation with both levels shown.
pub(super) fn fragment(
    latex: Latex<'_>,
    form: Form,
    weights: &[Var],
    point: Option<&NumericPoint>,
) -> String {
    let mut d: Derivation = latex.derivation.as_ref().clone();
    let known = Forward::from_definitions(d.forward.clone());
    let mut namer = Namer {
        network: latex.network,
        base: d.layout.len(),
        extra: Vec::new(),
    };
    let mut lines: Vec<Line> = Vec::new();
    let mut substitution: HashMap<NodeId, NodeId> = HashMap::new();
    let mut reals: Vec<NodeId> = Vec::new();
    let sites = d.inner.clone();
    for (m, site) in sites.iter().enumerate() {
        let bar = |element: &str| {
            if sites.len() > 1 {
                format!("\\bar{{\\delta}}^{{({})}}_{{{element}}}", m + 1)
            } else {
                format!("\\bar{{\\delta}}_{{{element}}}")
            }
        };
        let s_name = match d.graph.node(site.of) {
            Node::Var(u) => namer.name(&d, *u),
            _ if sites.len() > 1 => format!("S^{{({})}}", m + 1),
            _ => "S".to_string(),
        };
        let wrt_name = site
            .wrt
            .first()
            .map(|w| match d.layout.slot(*w) {
                crate::layout::Slot::Value(symbol, _) => {
                    names::symbol(latex.network.name_of(symbol))
                }
                crate::layout::Slot::Delta(..) => String::new(),
            })
            .unwrap_or_default();
        if m > 0 {
            lines.push(Line::Gap);
        }
        lines.push(Line::Text(format!(
            "&\\text{{Inner derivative }} {}\\text{{, with inner deltas }} {} = {}\\text{{:}}",
            names::partial(&s_name, &wrt_name),
            bar("u"),
            names::partial(&s_name, "u")
        )));
        if !matches!(d.graph.node(site.of), Node::Var(_)) {
            let terms = namer.terms(&d, site.of);
            lines.push(Line::Equation(s_name.clone(), vec![terms], None));
        }
        let leaves: HashSet<Var> = site.wrt.iter().copied().collect();
        let leads = known.leads_to(&leaves);
        // Per named scalar: (consumer, local partial); `None` is S itself.
        let mut contributions: BTreeMap<Var, Vec<(Option<Var>, NodeId)>> = BTreeMap::new();
        for (u, p) in local_partials(&mut d.graph, site.of, &known.named) {
            if known.relevant(u, &leaves, &leads) {
                contributions.entry(u).or_default().push((None, p));
            }
        }
        let mut bar_real: HashMap<Var, NodeId> = HashMap::new();
        let mut bar_shown: HashMap<Var, NodeId> = HashMap::new();
        let combine = |d: &mut Derivation,
                       namer: &Namer<'_>,
                       var: Var,
                       terms: &[(Option<Var>, NodeId)],
                       bar_real: &HashMap<Var, NodeId>,
                       bar_shown: &HashMap<Var, NodeId>| {
            let mut recursion = Vec::new();
            let (mut real, mut shown) = (Vec::new(), Vec::new());
            for &(c, p) in terms {
                let one = d.graph.constant_node(1.0);
                let (r, s) = match c {
                    None => {
                        recursion.push((false, names::partial(&s_name, &namer.name(d, var))));
                        (one, one)
                    }
                    Some(c) => {
                        recursion.push((
                            false,
                            format!(
                                "{} \\, {}",
                                bar(&namer.name(d, c)),
                                names::partial(&namer.name(d, c), &namer.name(d, var))
                            ),
                        ));
                        (
                            bar_real.get(&c).copied().unwrap_or(one),
                            bar_shown.get(&c).copied().unwrap_or(one),
                        )
                    }
                };
                real.push(d.graph.mul(r, p));
                shown.push(d.graph.mul(s, p));
            }
            let real = d.graph.sum(&real);
            let shown = d.graph.sum(&shown);
            // Straight from S, the recursion would only repeat the left-hand side.
            let direct = terms.iter().all(|(c, _)| c.is_none());
            let mut rhs = if direct {
                vec![namer.terms(d, shown)]
            } else {
                vec![recursion, namer.terms(d, shown)]
            };
            rhs.dedup();
            (real, rhs)
        };
        for k in (0..d.forward.len()).rev() {
            let var = d.forward[k].var;
            if leaves.contains(&var) {
                continue;
            }
            let Some(terms) = contributions.remove(&var) else {
                continue;
            };
            let (real, rhs) = combine(&mut d, &namer, var, &terms, &bar_real, &bar_shown);
            let name = bar(&namer.name(&d, var));
            let lhs = format!("{name} = {}", names::partial(&s_name, &namer.name(&d, var)));
            lines.push(Line::Equation(lhs, rhs, Some(real)));
            // A constant inner delta (1 at S itself) is shown as its value.
            let leaf = if d.graph.constant(real).is_some() {
                real
            } else {
                reals.push(real);
                namer.leaf(&mut d.graph, name)
            };
            bar_real.insert(var, real);
            bar_shown.insert(var, leaf);
            for i in 0..d.forward[k].partials.len() {
                let (u, p) = d.forward[k].partials[i];
                if known.relevant(u, &leaves, &leads) {
                    contributions.entry(u).or_default().push((Some(var), p));
                }
            }
        }
        for (j, &w) in site.wrt.iter().enumerate() {
            let terms = contributions.remove(&w).unwrap_or_default();
            let lhs = names::partial(&s_name, &namer.name(&d, w));
            let (real, rhs) = combine(&mut d, &namer, w, &terms, &bar_real, &bar_shown);
            let rhs = if terms.is_empty() {
                vec![vec![(false, "0".to_string())]]
            } else {
                rhs
            };
            lines.push(Line::Equation(lhs.clone(), rhs, Some(real)));
            let result = site.result.get(j).copied().unwrap_or(real);
            if d.graph.constant(result).is_none() && !substitution.contains_key(&result) {
                let leaf = namer.leaf(&mut d.graph, lhs);
                reals.push(result);
                substitution.insert(result, leaf);
            }
        }
    }
    // Numbers for the extra leaves and the inner lines, computed from the real nodes.
    let (point, values) = match point {
        Some(p) => {
            let mut evaluator = Evaluator::from_slots(&d, &p.slots);
            let mut values: HashMap<NodeId, f64> = HashMap::new();
            let shown_reals = lines.iter().filter_map(|line| match line {
                Line::Equation(_, _, real) => *real,
                _ => None,
            });
            for r in reals.iter().copied().chain(shown_reals) {
                let v = evaluator.value(r);
                values.insert(r, v);
            }
            let mut slots = p.slots.clone();
            slots.extend(reals.iter().map(|r| values[r]));
            (Some(NumericPoint { slots, ..p.clone() }), values)
        }
        None => (None, HashMap::new()),
    };
    // The general form finds index patterns over the layout's own slots only.
    if form != Form::General {
        substitute_all(&mut d, &substitution);
    }
    let mut outer = Latex {
        network: latex.network,
        derivation: std::borrow::Cow::Borrowed(&d),
        lines: Vec::new(),
        breaks: Vec::new(),
        root: latex.root.clone(),
        extra: namer.extra,
        two_level: true,
        first_deltas_only: latex.first_deltas_only,
        compiled: None,
    };
    for line in lines {
        match line {
            Line::Text(text) => outer.lines.push(text),
            Line::Gap => outer.gap(),
            Line::Equation(lhs, mut rhs, real) => {
                if let (Some(real), Some(_)) = (real, &point) {
                    let value = values.get(&real).copied().unwrap_or(f64::NAN);
                    let shown = vec![(false, rounded(value, 6))];
                    if rhs.last() != Some(&shown) {
                        rhs.push(shown);
                    }
                }
                outer.equation(&lhs, rhs);
            }
        }
    }
    outer.gap();
    let root = outer.loss_name();
    outer.lines.push(format!(
        "&\\text{{Then the derivatives of }} {root}\\text{{, through the inner derivatives:}}"
    ));
    outer.fragment(form, weights, point.as_ref())
}

/// Writes every expression the printers show with each inner result replaced by its leaf.
fn substitute_all(d: &mut Derivation, substitution: &HashMap<NodeId, NodeId>) {
    let mut memo = substitution.clone();
    for i in 0..d.deltas.len() {
        d.deltas[i].1 = substitute(&mut d.graph, d.deltas[i].1, &mut memo);
    }
    for i in 0..d.gradients.len() {
        d.gradients[i].1 = substitute(&mut d.graph, d.gradients[i].1, &mut memo);
    }
    for c in 0..d.forward.len() {
        for i in 0..d.forward[c].partials.len() {
            let p = d.forward[c].partials[i].1;
            d.forward[c].partials[i].1 = substitute(&mut d.graph, p, &mut memo);
        }
    }
}

/// `node` rebuilt bottom-up with `memo`'s replacements (which carry over between calls).
fn substitute(graph: &mut Graph, node: NodeId, memo: &mut HashMap<NodeId, NodeId>) -> NodeId {
    let mut stack = vec![(node, false)];
    while let Some((n, children_done)) = stack.pop() {
        if memo.contains_key(&n) {
            continue;
        }
        let current = graph.node(n).clone();
        if !children_done {
            stack.push((n, true));
            current.for_each_child(|c| {
                if !memo.contains_key(&c) {
                    stack.push((c, false));
                }
            });
            continue;
        }
        let m = |c: &NodeId| memo.get(c).copied().unwrap_or(*c);
        let rebuilt = match &current {
            Node::Const(_) | Node::Var(_) => n,
            Node::Add(a, b) => graph.add(m(a), m(b)),
            Node::Sub(a, b) => graph.sub(m(a), m(b)),
            Node::Mul(a, b) => graph.mul(m(a), m(b)),
            Node::Div(a, b) => graph.div(m(a), m(b)),
            Node::Neg(a) => graph.neg(m(a)),
            Node::Pow(a, k) => graph.pow(m(a), f64::from_bits(*k)),
            Node::Func(f, a) => graph.func(*f, m(a)),
            Node::Pair(f, a, b) => graph.pair(*f, m(a), m(b)),
            Node::Sum(items) => {
                let items: Vec<NodeId> = items.iter().map(m).collect();
                graph.sum(&items)
            }
            Node::LogSumExp(items) => {
                let items: Vec<NodeId> = items.iter().map(m).collect();
                graph.logsumexp(&items)
            }
        };
        memo.insert(n, rebuilt);
    }
    memo.get(&node).copied().unwrap_or(node)
}
