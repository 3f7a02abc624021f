//! Plain-text and JSON reports about a checked network (`chainrule shapes`).

use serde_json::{Map, Value, json};

use crate::model::{Network, Shape};

/// `shapes --json`: `{"network", "inputs", "targets", "vectors", "params"}` in declaration order.
pub fn shapes_json(network: &Network) -> Value {
    // A vector's size as a number (the second round's layout); a scalar's (`[]`) and a
    // tensor's as their axes, as parameters are written.
    let sizes = |items: &mut dyn Iterator<Item = (&str, Shape)>| -> Value {
        Value::Object(
            items
                .map(|(n, s)| match s {
                    Shape::Vector(len) => (n.to_string(), json!(len)),
                    _ => (n.to_string(), json!(s.dims())),
                })
                .collect::<Map<_, _>>(),
        )
    };
    let params: Map<String, Value> = network
        .params
        .iter()
        .map(|p| (p.name.clone(), json!(p.shape.dims())))
        .collect();
    json!({
        "network": network.name,
        "inputs": sizes(&mut network.inputs.iter().map(|v| (v.name.as_str(), v.shape))),
        "targets": sizes(&mut network.targets.iter().map(|v| (v.name.as_str(), v.shape))),
        "vectors": sizes(&mut network.vectors.iter().map(|v| (v.name.as_str(), v.shape))),
        "params": params,
    })
}

/// `shapes` as an aligned table for a terminal.
pub fn shapes_text(network: &Network) -> String {
    let mut rows: Vec<(&str, &str, String)> = Vec::new();
    let written = |shape: Shape| match shape {
        Shape::Scalar => "scalar".to_string(),
        other => other.dims().iter().map(|d| format!("[{d}]")).collect(),
    };
    for v in &network.inputs {
        rows.push(("input", &v.name, written(v.shape)));
    }
    for v in &network.targets {
        let shape = match v.kind {
            chainrule_grammar::TargetKind::Label => format!("label[{}]", v.size),
            _ => written(v.shape),
        };
        rows.push(("target", &v.name, shape));
    }
    for v in &network.vectors {
        rows.push(("vector", &v.name, written(v.shape)));
    }
    for p in &network.params {
        let shape = match p.shape {
            Shape::Scalar => "scalar".to_string(),
            other => other.dims().iter().map(|d| format!("[{d}]")).collect(),
        };
        rows.push(("param", &p.name, shape));
    }
    rows.push(("loss", &network.loss.name, "scalar".to_string()));
    let width = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0);
    let mut out = format!("network {}\n", network.name);
    for (kind, name, shape) in rows {
        // Padded by hand: a format width past u16::MAX (an identifier of 65,536 characters)
        // panics inside `format!`.
        let pad = " ".repeat(width - name.chars().count());
        out.push_str(&format!("  {kind:<7} {name}{pad}  {shape}\n"));
    }
    let batch = match network.batch {
        chainrule_grammar::BatchRule::Mean => "mean",
        chainrule_grammar::BatchRule::Sum => "sum",
    };
    out.push_str(&format!(
        "  {} trainable parameters; batch {batch}\n",
        network.param_count()
    ));
    out
}

/// Row-major values as a JSON array of the given shape.
pub fn nested(values: &[f64], shape: Shape) -> Value {
    match shape {
        Shape::Scalar => json!(values.first().copied().unwrap_or(0.0)),
        Shape::Vector(_) => json!(values),
        shape => nested_dims(values, &shape.dims()),
    }
}

/// Row-major values as JSON arrays nested along `dims`.
fn nested_dims(values: &[f64], dims: &[usize]) -> Value {
    match dims {
        [] | [_] => json!(values),
        [_, inner @ ..] => {
            let stride = inner.iter().product::<usize>().max(1);
            Value::Array(
                values
                    .chunks(stride)
                    .map(|part| nested_dims(part, inner))
                    .collect(),
            )
        }
    }
}

/// `eval --json`: `{"network", "samples", "loss", "gradient": {name: array}}`.
pub fn eval_json(network: &Network, samples: usize, loss: f64, gradient: &[Vec<f64>]) -> Value {
    let gradient: Map<String, Value> = network
        .params
        .iter()
        .zip(gradient)
        .map(|(p, g)| (p.name.clone(), nested(g, p.shape)))
        .collect();
    json!({
        "network": network.name,
        "samples": samples,
        "loss": loss,
        "gradient": gradient,
    })
}

/// `eval` for a terminal: the loss, then each parameter's gradient as rows.
pub fn eval_text(network: &Network, samples: usize, loss: f64, gradient: &[Vec<f64>]) -> String {
    let batch = match network.batch {
        chainrule_grammar::BatchRule::Mean => "mean",
        chainrule_grammar::BatchRule::Sum => "sum",
    };
    let mut out = format!(
        "network {}: {samples} sample(s), batch {batch}\n",
        network.name
    );
    out.push_str(&format!("loss {} = {loss}\n", network.loss.name));
    for (p, g) in network.params.iter().zip(gradient) {
        out.push_str(&format!("d{}/d{}:\n", network.loss.name, p.name));
        let cols = match p.shape {
            Shape::Matrix(_, c) => c.max(1),
            Shape::Tensor(d) => d.sizes().last().copied().unwrap_or(1).max(1),
            _ => g.len().max(1),
        };
        for row in g.chunks(cols) {
            let cells: Vec<String> = row.iter().map(|v| format!("{v:>14}")).collect();
            out.push_str(&format!("  {}\n", cells.join(" ")));
        }
    }
    out
}
