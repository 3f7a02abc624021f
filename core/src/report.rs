//! Plain-text and JSON reports about a checked network (`chainrule shapes`).

use serde_json::{Map, Value, json};

use crate::model::{Network, Shape};

/// `shapes --json`: `{"network", "inputs", "targets", "vectors", "params"}` in declaration order.
pub fn shapes_json(network: &Network) -> Value {
    let sizes = |items: &mut dyn Iterator<Item = (&str, usize)>| -> Value {
        Value::Object(
            items
                .map(|(n, s)| (n.to_string(), json!(s)))
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
        "inputs": sizes(&mut network.inputs.iter().map(|v| (v.name.as_str(), v.size))),
        "targets": sizes(&mut network.targets.iter().map(|v| (v.name.as_str(), v.size))),
        "vectors": sizes(&mut network.vectors.iter().map(|v| (v.name.as_str(), v.size))),
        "params": params,
    })
}

/// `shapes` as an aligned table for a terminal.
pub fn shapes_text(network: &Network) -> String {
    let mut rows: Vec<(&str, &str, String)> = Vec::new();
    for v in &network.inputs {
        rows.push(("input", &v.name, format!("[{}]", v.size)));
    }
    for v in &network.targets {
        rows.push(("target", &v.name, format!("[{}]", v.size)));
    }
    for v in &network.vectors {
        rows.push(("vector", &v.name, format!("[{}]", v.size)));
    }
    for p in &network.params {
        let shape = match p.shape {
            Shape::Scalar => "scalar".to_string(),
            other => other.dims().iter().map(|d| format!("[{d}]")).collect(),
        };
        rows.push(("param", &p.name, shape));
    }
    rows.push(("loss", &network.loss.name, "scalar".to_string()));
    let width = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    let mut out = format!("network {}\n", network.name);
    for (kind, name, shape) in rows {
        out.push_str(&format!("  {kind:<7} {name:<width$}  {shape}\n"));
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
