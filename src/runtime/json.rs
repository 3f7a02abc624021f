//! `Params::to_json` and `Params::from_json`: the `--params` layout of `chainrule eval` (an
//! object from parameter name to a number array of its shape, row-major; a scalar is a
//! number), read as strictly as the CLI reads it. Errors name the JSON path (`W1[2][0]`).

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use super::Real;

/// A `--params` JSON text that does not fit the network: where (`W1[2][0]`, a parameter's
/// name, or empty for the whole text) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamsError {
    /// The JSON path, or the name that is missing or unknown.
    pub path: String,
    /// A one-line reason.
    pub message: String,
}

impl ParamsError {
    fn new(path: impl Into<String>, message: impl Into<String>) -> ParamsError {
        ParamsError {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ParamsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ParamsError {}

/// One parameter as `Params::to_json` and `from_json` see it.
pub struct Entry<'a, F> {
    /// Its name in the network.
    pub name: &'a str,
    /// Its dimensions (empty for a scalar).
    pub dims: &'a [usize],
    /// Its elements, row-major.
    pub values: &'a [F],
}

/// The JSON text of every parameter, one per line, in declaration order. Each number is
/// written so that it reads back to the same value (shortest round-trip form of the `f64`
/// the element converts to exactly); a NaN or infinity, which JSON cannot hold, is `null`.
pub fn to_json<F: Real>(entries: &[Entry<'_, F>]) -> String {
    let mut out = String::from("{");
    for (i, entry) in entries.iter().enumerate() {
        out.push_str(if i == 0 { "\n  " } else { ",\n  " });
        // A name is a Rust identifier: no character needs escaping, but serde_json quotes it.
        out.push_str(&Value::from(entry.name).to_string());
        out.push_str(": ");
        let mut values = entry.values.iter();
        write_array(&mut out, entry.dims, &mut values);
    }
    out.push_str(if entries.is_empty() { "}\n" } else { "\n}\n" });
    out
}

fn write_array<'v, F: Real + 'v>(
    out: &mut String,
    dims: &[usize],
    values: &mut impl Iterator<Item = &'v F>,
) {
    match dims {
        [] => {
            let v: f64 = values.next().map_or(f64::NAN, |v| (*v).into());
            match serde_json::Number::from_f64(v) {
                Some(n) => out.push_str(&n.to_string()),
                None => out.push_str("null"),
            }
        }
        [n, rest @ ..] => {
            out.push('[');
            for i in 0..*n {
                if i > 0 {
                    out.push_str(", ");
                }
                write_array(out, rest, values);
            }
            out.push(']');
        }
    }
}

/// A parameter `from_json` reads: its name, dimensions, and whether the network declares
/// its value (then the key may be missing).
pub struct Expected<'a> {
    pub name: &'a str,
    pub dims: &'a [usize],
    pub declared: bool,
}

/// Reads `--params` JSON for a network's parameters: for each, its elements row-major, or
/// `None` where the key is missing and the network declares the value. A key given twice, a
/// name that is not a parameter, a missing parameter without a declared value, a wrong shape
/// or a value that is not a finite number is an error naming its JSON path, as the CLI's.
pub fn from_json(
    text: &str,
    network: &str,
    params: &[Expected<'_>],
) -> Result<Vec<Option<Vec<f64>>>, ParamsError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = serde_json::Deserializer::from_str(text);
    let entries = Entries::deserialize(&mut reader)
        .and_then(|entries| reader.end().map(|()| entries))
        .map_err(|e| match e.classify() {
            serde_json::error::Category::Data => ParamsError::new("", e.to_string()),
            _ => ParamsError::new("", format!("invalid JSON: {e}")),
        })?;
    let mut given: Vec<Option<&Value>> = vec![None; params.len()];
    for (key, value) in &entries.0 {
        let Some(at) = params.iter().position(|p| p.name == key) else {
            let names: Vec<&str> = params.iter().map(|p| p.name).collect();
            return Err(ParamsError::new(
                key.clone(),
                format!(
                    "not a parameter of network `{network}` (its parameters: {})",
                    names.join(", ")
                ),
            ));
        };
        if given[at].is_some() {
            return Err(ParamsError::new(
                key.clone(),
                "the key is given twice: each name may appear once",
            ));
        }
        given[at] = Some(value);
    }
    params
        .iter()
        .zip(given)
        .map(|(p, value)| match value {
            Some(value) => {
                let mut out = Vec::with_capacity(p.dims.iter().product());
                numbers(value, p.dims, p.name, &mut out)?;
                Ok(Some(out))
            }
            None if p.declared => Ok(None),
            None => Err(ParamsError::new(
                p.name,
                "no value: the JSON does not give it and the network declares none",
            )),
        })
        .collect()
}

/// The top-level object's entries in order, repeated keys kept (serde_json's own map would
/// keep only the last one, silently).
struct Entries(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;
        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = Entries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the params JSON to be an object from names to number arrays")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    out.push(entry);
                }
                Ok(Entries(out))
            }
        }
        deserializer.deserialize_map(EntriesVisitor)
    }
}

/// A nested number array of the given dimensions, row-major, as the CLI reads it.
fn numbers(
    value: &Value,
    dims: &[usize],
    path: &str,
    out: &mut Vec<f64>,
) -> Result<(), ParamsError> {
    match dims {
        [] => match value.as_f64() {
            Some(v) if v.is_finite() => {
                out.push(v);
                Ok(())
            }
            Some(_) => Err(ParamsError::new(path, "the number is not finite")),
            None => Err(ParamsError::new(
                path,
                format!("expected a number, found {}", kind(value)),
            )),
        },
        [n, rest @ ..] => {
            let Some(items) = value.as_array() else {
                return Err(ParamsError::new(
                    path,
                    format!("expected an array of {n}, found {}", kind(value)),
                ));
            };
            if rest.is_empty()
                && let Some(i) = items.iter().position(Value::is_array)
            {
                return Err(ParamsError::new(
                    format!("{path}[{i}]"),
                    "expected a number, found an array (nested one level too deep)",
                ));
            }
            if items.len() != *n {
                return Err(ParamsError::new(
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

#[cfg(test)]
mod tests {
    use super::*;

    const W: Expected<'static> = Expected {
        name: "W",
        dims: &[2, 1],
        declared: false,
    };
    const B: Expected<'static> = Expected {
        name: "b",
        dims: &[],
        declared: true,
    };

    fn read(text: &str) -> Result<Vec<Option<Vec<f64>>>, String> {
        from_json(text, "n", &[W, B]).map_err(|e| e.to_string())
    }

    #[test]
    fn round_trip() {
        let (w, b) = ([0.1f64, -3e-300], [f64::MAX]);
        let text = to_json(&[
            Entry {
                name: "W",
                dims: &[2, 1],
                values: &w,
            },
            Entry {
                name: "b",
                dims: &[],
                values: &b,
            },
        ]);
        assert_eq!(read(&text), Ok(vec![Some(w.to_vec()), Some(b.to_vec())]));
    }

    #[test]
    fn errors_name_the_path() {
        assert_eq!(
            read(r#"{"W": [[1], ["x"]]}"#),
            Err("W[1][0]: expected a number, found a string".into())
        );
        assert_eq!(
            read(r#"{"W": [1, 2]}"#),
            Err("W[0]: expected an array of 1, found a number".into())
        );
        assert_eq!(
            read(r#"{"W": [[1]]}"#),
            Err("W: expected 2 elements, found 1".into())
        );
        assert_eq!(
            read(r#"{"W": [[1], [2]], "W": [[1], [2]]}"#),
            Err("W: the key is given twice: each name may appear once".into())
        );
        assert!(
            read(r#"{"V": 1}"#).is_err_and(|e| e.starts_with("V: not a parameter of network `n`"))
        );
        assert!(read(r#"{"b": 1}"#).is_err_and(|e| e.starts_with("W: no value")));
        assert_eq!(
            read(r#"{"W": [[1], [2]]}"#),
            Ok(vec![Some(vec![1.0, 2.0]), None])
        );
        assert!(
            read("[1]").is_err_and(|e| e.contains("object")),
            "{:?}",
            read("[1]")
        );
        assert!(read("{").is_err_and(|e| e.starts_with("invalid JSON")));
        assert!(read(r#"{"W": [[1], [1e999]]}"#).is_err());
    }
}
