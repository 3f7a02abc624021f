//! Any derivative on request (`--of REF --wrt NAME`): the derivation re-rooted at a named
//! scalar other than the loss (an output `y[0]`, a hidden unit, a `grad` vector's element),
//! with respect to an input, a named vector or a parameter. Input Jacobians and saliency.
//!
//! Re-rooting keeps the derivation's shape, so every printer works on it unchanged: the
//! definitions end at `of` (which takes the loss's place), the deltas are d(of)/dv, and the
//! "gradients" are d(of)/dw for the elements of `wrt`.

use serde_json::{Value, json};

use crate::derive::{Derivation, chain_terms};
use crate::eval::{Evaluator, Sample};
use crate::ir::{NodeId, Var};
use crate::model::{Network, Shape, Symbol};
use crate::report::nested;

/// What was asked for, resolved against the network.
#[derive(Clone, Debug)]
pub struct Request {
    /// The named scalar differentiated.
    pub of: Var,
    /// Its symbol and flat element, for names.
    pub of_symbol: (Symbol, usize),
    /// `y[0]`, as printed in JSON.
    pub of_text: String,
    /// What it is differentiated with respect to.
    pub wrt: Symbol,
}

/// Resolves `--of REF` and `--wrt NAME` (the network's only input when left out).
pub fn request(
    network: &Network,
    derivation: &Derivation,
    of: &str,
    wrt: Option<&str>,
) -> Result<Request, String> {
    let (of_symbol, of_text) = parse_of(network, of)?;
    let wrt = match wrt {
        Some(name) => match network.lookup(name.trim()) {
            Some(Symbol::Target(_)) => {
                return Err(format!(
                    "--wrt `{name}` is a target: differentiate with respect to an input, a named vector or a parameter"
                ));
            }
            Some(Symbol::Loss) => {
                return Err(format!(
                    "--wrt `{name}` is the loss: differentiate with respect to an input, a named vector or a parameter"
                ));
            }
            Some(symbol) => symbol,
            None => {
                return Err(format!(
                    "--wrt `{name}` is not a name in network `{}`",
                    network.name
                ));
            }
        },
        None => match network.inputs.as_slice() {
            [_] => Symbol::Input(0),
            inputs => {
                let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
                return Err(format!(
                    "network `{}` has several inputs ({}): name one with --wrt",
                    network.name,
                    names.join(", ")
                ));
            }
        },
    };
    Ok(Request {
        of: derivation.layout.var(of_symbol.0, of_symbol.1),
        of_symbol,
        of_text,
        wrt,
    })
}

/// `L`, `y[0]`, or `y` for a vector of one element.
fn parse_of(network: &Network, text: &str) -> Result<((Symbol, usize), String), String> {
    let text = text.trim();
    let (name, rest) = text.split_at(text.find('[').unwrap_or(text.len()));
    let scalars = || {
        let vectors: Vec<String> = network
            .vectors
            .iter()
            .map(|v| format!("{}[0..{}]", v.name, v.size))
            .collect();
        format!("the loss `{}` or {}", network.loss.name, vectors.join(", "))
    };
    let symbol = match network.lookup(name) {
        Some(symbol @ (Symbol::Vector(_) | Symbol::Loss)) => symbol,
        _ => {
            return Err(format!(
                "--of `{text}` is not a named scalar of network `{}`: use {}",
                network.name,
                scalars()
            ));
        }
    };
    let size = network.shape_of(symbol).len();
    if rest.is_empty() {
        // A named scalar is written without an index, like the loss.
        let bare =
            symbol == Symbol::Loss || network.shape_of(symbol) == crate::model::Shape::Scalar;
        return if bare || size == 1 {
            Ok((
                (symbol, 0),
                format!("{name}{}", if bare { "" } else { "[0]" }),
            ))
        } else {
            Err(format!(
                "--of `{name}` is a vector of {size}: name one element, as in `{name}[0]`"
            ))
        };
    }
    let index = rest
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .and_then(|i| i.trim().parse::<usize>().ok());
    match index {
        Some(i) if symbol != Symbol::Loss && i < size => Ok(((symbol, i), format!("{name}[{i}]"))),
        _ => Err(format!(
            "--of `{text}` is not an element of `{name}`: use {}",
            scalars()
        )),
    }
}

/// The derivation with `of` in the loss's place and d(of)/dw for every `w` of `wrt` as its
/// gradients. Definitions after `of` cannot change it and are left out.
pub fn reroot(d: &Derivation, of: Var, wrt: &[Var]) -> Derivation {
    let end = d
        .forward
        .iter()
        .position(|def| def.var == of)
        .unwrap_or(d.forward.len().saturating_sub(1)); // ok: `of` is a vector element or the loss, which all have definitions
    let forward = d.forward[..=end].to_vec();
    let mut graph = d.graph.clone();
    let layout = d.layout.clone();
    let consumers = crate::derive::consumers_of(&forward, layout.len());
    let crate::derive::Sweep {
        live,
        delta_node,
        deltas,
    } = crate::derive::backward_sweep(&mut graph, &layout, &forward, &consumers, end);
    let gradients: Vec<(Var, NodeId)> = wrt
        .iter()
        .map(|&w| {
            if w == of {
                return (w, graph.constant_node(1.0));
            }
            let terms = chain_terms(&mut graph, &forward, &consumers[w.index()], &delta_node, w);
            (w, graph.sum(&terms))
        })
        .collect();
    let mut gradient_position = vec![None; layout.len()];
    for (i, (var, _)) in gradients.iter().enumerate() {
        gradient_position[var.index()] = Some(i);
    }
    Derivation {
        graph,
        layout,
        forward,
        deltas,
        gradients,
        consumers,
        live,
        gradient_position,
        inner: used_sites(d, end),
        functions: d.functions.clone(),
        rerooted: true,
    }
}

/// The `grad` sites that the definitions up to `end` use: only those are shown.
fn used_sites(d: &Derivation, end: usize) -> Vec<crate::inner::Site> {
    let mut seen = std::collections::HashSet::new();
    let mut stack: Vec<NodeId> = d.forward[..=end].iter().map(|def| def.value).collect();
    while let Some(n) = stack.pop() {
        if seen.insert(n) {
            d.graph.node(n).for_each_child(|c| stack.push(c));
        }
    }
    d.inner
        .iter()
        .filter(|site| site.result.iter().any(|r| seen.contains(r)))
        .cloned()
        .collect()
}

/// One sample's numbers for a re-rooted derivation.
#[derive(Clone, Debug)]
pub struct Point {
    /// The value of `of`.
    pub value: f64,
    /// d(of)/dw per element of `wrt`, row-major.
    pub derivative: Vec<f64>,
    /// Every slot (forward values and deltas), for the numeric LaTeX form.
    pub slots: Vec<f64>,
}

/// Evaluates a re-rooted derivation at one sample.
pub fn evaluate(
    rooted: &Derivation,
    network: &Network,
    params: &[Vec<f64>],
    sample: &Sample,
) -> Point {
    let mut e = Evaluator::new(rooted, network, params, sample);
    for def in &rooted.forward {
        let v = e.value(def.value);
        e.slots[def.var.index()] = v;
    }
    for (slot, expr) in &rooted.deltas {
        let v = e.value(*expr);
        e.slots[slot.index()] = v;
    }
    let derivative: Vec<f64> = rooted.gradients.iter().map(|(_, g)| e.value(*g)).collect();
    let value = rooted
        .forward
        .last()
        .map_or(f64::NAN, |def| e.slot(def.var));
    Point {
        value,
        derivative,
        slots: e.slots,
    }
}

/// `eval --of --json`: one sample as numbers, a batch as one entry per sample.
pub fn eval_json(network: &Network, request: &Request, points: &[Point]) -> Value {
    let shape = wrt_shape(network, request.wrt);
    let (value, derivative) = match points {
        [one] => (json!(one.value), nested(&one.derivative, shape)),
        many => (
            Value::Array(many.iter().map(|p| json!(p.value)).collect()),
            Value::Array(many.iter().map(|p| nested(&p.derivative, shape)).collect()),
        ),
    };
    json!({
        "network": network.name,
        "of": request.of_text,
        "wrt": network.name_of(request.wrt),
        "value": value,
        "derivative": derivative,
    })
}

/// `eval --of` for a terminal.
pub fn eval_text(network: &Network, request: &Request, points: &[Point]) -> String {
    let wrt = network.name_of(request.wrt);
    let shape = wrt_shape(network, request.wrt);
    let cols = match shape {
        Shape::Matrix(_, c) => c.max(1),
        _ => shape.len().max(1),
    };
    let mut out = format!(
        "network {}: d{}/d{wrt} at {} sample(s)\n",
        network.name,
        request.of_text,
        points.len()
    );
    for (i, p) in points.iter().enumerate() {
        if points.len() > 1 {
            out.push_str(&format!("sample {}:\n", i + 1));
        }
        out.push_str(&format!("{} = {}\n", request.of_text, p.value));
        out.push_str(&format!("d{}/d{wrt}:\n", request.of_text));
        for row in p.derivative.chunks(cols) {
            let cells: Vec<String> = row.iter().map(|v| format!("{v:>14}")).collect();
            out.push_str(&format!("  {}\n", cells.join(" ")));
        }
    }
    out
}

/// The shape `wrt` has (a scalar parameter stays a scalar).
fn wrt_shape(network: &Network, wrt: Symbol) -> Shape {
    network.shape_of(wrt)
}

/// The re-rooted derivation as LaTeX in any form; the numeric form shows `point`.
pub fn latex(
    network: &Network,
    rooted: &mut Derivation,
    request: &Request,
    form: crate::latex::Form,
    point: Option<&Point>,
    standalone: bool,
) -> String {
    use crate::latex::{Latex, NumericPoint, document, names};
    let (symbol, elem) = request.of_symbol;
    let indices = rooted.layout.indices(symbol, elem);
    let root = names::symbol_element(network, symbol, &indices);
    let numeric = point.map(|p| NumericPoint {
        slots: p.slots.clone(),
        lr: None,
        gradient: p.derivative.clone(),
        batch: None,
    });
    let fragment =
        Latex::rerooted(network, rooted)
            .with_root(root)
            .fragment(form, &[], numeric.as_ref());
    if !standalone {
        return fragment;
    }
    let title = format!(
        "Network {}: d{}/d{}",
        network.name,
        request.of_text,
        network.name_of(request.wrt)
    );
    document(&[(title, fragment)])
}
