//! Reads the point to evaluate at: `--params` and `--data` JSON, falling back to the
//! defaults written in the `.nn` file. Errors name the JSON path (`W1[2]`).

use serde_json::Value;

use crate::eval::Sample;
use crate::model::{DataVar, Network};

/// A problem with a JSON input, at a JSON path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PointError {
    /// Where in the JSON (`W1[2]`), or the name that is missing.
    pub path: String,
    /// A one-line reason.
    pub message: String,
}

impl std::fmt::Display for PointError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

fn error(path: impl Into<String>, message: impl Into<String>) -> PointError {
    PointError {
        path: path.into(),
        message: message.into(),
    }
}

mod json;

/// Parses JSON text, reporting a syntax error with its line and column, and refusing a key
/// given twice with its JSON path; a leading byte-order mark is accepted.
pub fn parse_json(text: &str) -> Result<Value, PointError> {
    json::parse(text)
}

fn object<'v>(
    value: &'v Value,
    what: &str,
) -> Result<&'v serde_json::Map<String, Value>, PointError> {
    value.as_object().ok_or_else(|| {
        error(
            "",
            format!("the {what} JSON must be an object from names to number arrays"),
        )
    })
}

/// Reads a nested number array of the given sizes, row-major.
fn numbers(
    value: &Value,
    dims: &[usize],
    path: &str,
    out: &mut Vec<f64>,
) -> Result<(), PointError> {
    match dims {
        [] => match value.as_f64() {
            Some(v) if v.is_finite() => {
                out.push(v);
                Ok(())
            }
            Some(_) => Err(error(path, "the number is not finite")),
            None => Err(error(
                path,
                format!("expected a number, found {}", kind(value)),
            )),
        },
        [n, rest @ ..] => {
            let items = value.as_array().ok_or_else(|| {
                error(
                    path,
                    format!("expected an array of {n}, found {}", kind(value)),
                )
            })?;
            if rest.is_empty()
                && let Some(i) = items.iter().position(Value::is_array)
            {
                return Err(error(
                    format!("{path}[{i}]"),
                    "expected a number, found an array (nested one level too deep)",
                ));
            }
            if items.len() != *n {
                return Err(error(
                    path,
                    format!("expected {n} elements, found {}", items.len()),
                ));
            }
            items
                .iter()
                .enumerate()
                .try_for_each(|(i, item)| numbers(item, rest, &format!("{path}[{i}]"), out))
        }
    }
}

/// One input's or target's samples: from its JSON value where given (`true`), else the
/// file's default (`false`). A vector is one row or a batch of rows, a scalar a number or an
/// array of them, a label a class index or an array of them.
fn read_datum(var: &DataVar, given: Option<&Value>) -> Result<(Vec<Vec<f64>>, bool), PointError> {
    match given {
        Some(value) if var.kind == chainrule_grammar::TargetKind::Label => {
            labels(value, var).map(|rows| (rows, true))
        }
        Some(value) if var.shape == crate::model::Shape::Scalar => {
            let mut out = Vec::new();
            match value.as_array() {
                Some(rows) => numbers(value, &[rows.len()], &var.name, &mut out)?,
                None => numbers(value, &[], &var.name, &mut out)?,
            }
            Ok((out.into_iter().map(|v| vec![v]).collect(), true))
        }
        Some(value) => {
            // A sample nests one array per axis; a batch is one array of samples more.
            let dims = var.shape.dims();
            let batch = depth(value) > dims.len();
            let mut out = Vec::new();
            if batch {
                let rows = value.as_array().map_or(0, Vec::len);
                let with_rows: Vec<usize> = std::iter::once(rows).chain(dims).collect();
                numbers(value, &with_rows, &var.name, &mut out)?;
                Ok((out.chunks(var.size).map(<[f64]>::to_vec).collect(), true))
            } else {
                numbers(value, &dims, &var.name, &mut out)?;
                Ok((vec![out], true))
            }
        }
        None => var.default.clone().map(|d| (d, false)).ok_or_else(|| {
            error(var.name.clone(), "no value: give it in --data or as a default in the .nn file (`input x[N] = [...]`)")
        }),
    }
}

/// How many arrays are nested at the start of `value` (`[[1, 2]]`: 2).
fn depth(value: &Value) -> usize {
    match value.as_array() {
        Some(items) => 1 + items.first().map_or(0, depth),
        None => 0,
    }
}

/// A label's data: a class index (one sample) or an array of them (a batch), each as its
/// one-hot vector, the form the derivation reads.
fn labels(value: &Value, var: &DataVar) -> Result<Vec<Vec<f64>>, PointError> {
    let classes = var.size;
    let one = |item: &Value, path: String| -> Result<Vec<f64>, PointError> {
        match item.as_u64() {
            Some(c) if (c as usize) < classes => Ok((0..classes)
                .map(|k| f64::from(u8::from(k as u64 == c)))
                .collect()),
            _ => Err(error(
                path,
                format!("a label is a class index, an integer in 0..{classes}, but this is {item}"),
            )),
        }
    };
    match value.as_array() {
        Some(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| one(item, format!("{}[{i}]", var.name)))
            .collect(),
        None => one(value, var.name.clone()).map(|row| vec![row]),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The parameter values: from `json` where given, else the file's defaults.
pub fn params(network: &Network, json: Option<&Value>) -> Result<Vec<Vec<f64>>, PointError> {
    params_or_missing(network, json)?
        .into_iter()
        .zip(&network.params)
        .map(|(value, p)| {
            value.ok_or_else(|| {
                error(
                    p.name.clone(),
                    "no value: give it in --params or as a default in the .nn file \
                     (`param ... = [...]`); `eval` and `explain` draw it with --init SEED",
                )
            })
        })
        .collect()
}

/// The parameter values from `json` where given, else the file's defaults, else `None`
/// (`--init` draws those).
pub fn params_or_missing(
    network: &Network,
    json: Option<&Value>,
) -> Result<Vec<Option<Vec<f64>>>, PointError> {
    let given = json.map(|j| object(j, "params")).transpose()?;
    if let Some(given) = given
        && let Some(unknown) = given
            .keys()
            .find(|k| !network.params.iter().any(|p| p.name == **k))
    {
        let names: Vec<&str> = network.params.iter().map(|p| p.name.as_str()).collect();
        return Err(error(
            unknown.clone(),
            format!(
                "not a parameter of network `{}` (its parameters: {})",
                network.name,
                names.join(", ")
            ),
        ));
    }
    network
        .params
        .iter()
        .map(|p| match given.and_then(|g| g.get(&p.name)) {
            Some(value) => {
                let mut out = Vec::with_capacity(p.shape.len());
                numbers(value, &p.shape.dims(), &p.name, &mut out)?;
                Ok(Some(out))
            }
            None => Ok(p.default.clone()),
        })
        .collect()
}

/// The samples: from `json` where given (one sample or a batch per name), else the defaults.
pub fn samples(network: &Network, json: Option<&Value>) -> Result<Vec<Sample>, PointError> {
    let given = json.map(|j| object(j, "data")).transpose()?;
    if let Some(given) = given {
        let known = |k: &str| {
            network
                .inputs
                .iter()
                .chain(&network.targets)
                .any(|v| v.name == k)
        };
        if let Some(unknown) = given.keys().find(|k| !known(k)) {
            return Err(error(
                unknown.clone(),
                format!("not an input or target of network `{}`", network.name),
            ));
        }
    }
    let read = |var: &DataVar| read_datum(var, given.and_then(|g| g.get(&var.name)));
    let columns: Vec<(&DataVar, Vec<Vec<f64>>, bool)> = network
        .inputs
        .iter()
        .chain(&network.targets)
        .map(|v| read(v).map(|(rows, from_json)| (v, rows, from_json)))
        .collect::<Result<_, _>>()?;
    // Every entry given in the JSON has the same number of samples (CLI.md): a one-row entry
    // beside a batch is a mistake, not a broadcast. A single default sample from the file
    // serves every sample of the batch, since the user gave no value for it.
    let given_count = columns
        .iter()
        .find(|(_, _, from_json)| *from_json)
        .map(|(var, rows, _)| (var.name.as_str(), rows.len()));
    let count = given_count.map_or_else(
        || {
            columns
                .iter()
                .map(|(_, rows, _)| rows.len())
                .find(|&n| n != 1)
                .unwrap_or(1)
        },
        |(_, n)| n,
    );
    for (var, rows, from_json) in &columns {
        let n = rows.len();
        let plural = |n: usize| if n == 1 { "sample" } else { "samples" };
        if *from_json && n != count {
            let (first, _) = given_count.unwrap_or_default();
            return Err(error(
                var.name.clone(),
                format!(
                    "the data has {n} {}, but `{first}` has {count}: every entry needs the \
                     same number of samples",
                    plural(n)
                ),
            ));
        }
        if !*from_json && n != count && n != 1 {
            return Err(error(
                var.name.clone(),
                format!(
                    "the file's default has {n} {}, but other entries have {count}",
                    plural(n)
                ),
            ));
        }
        if rows.is_empty() {
            return Err(error(var.name.clone(), "the batch has no sample"));
        }
        for (s, row) in rows.iter().enumerate() {
            if let Some(why) = crate::targets::violation(var.kind, row) {
                let path = if rows.len() == 1
                    && !matches!(
                        given
                            .and_then(|g| g.get(&var.name))
                            .and_then(Value::as_array)
                            .and_then(|a| a.first()),
                        Some(Value::Array(_))
                    ) {
                    var.name.clone()
                } else {
                    format!("{}[{s}]", var.name)
                };
                return Err(error(path, why));
            }
        }
    }
    let pick = |rows: &Vec<Vec<f64>>, s: usize| {
        if rows.len() == 1 {
            rows[0].clone()
        } else {
            rows[s].clone()
        }
    };
    let inputs = network.inputs.len();
    Ok((0..count)
        .map(|s| Sample {
            inputs: columns[..inputs]
                .iter()
                .map(|(_, rows, _)| pick(rows, s))
                .collect(),
            targets: columns[inputs..]
                .iter()
                .map(|(_, rows, _)| pick(rows, s))
                .collect(),
        })
        .collect())
}
