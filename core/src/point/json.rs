//! Strict JSON reading for `--params` and `--data`: a key given twice is an error naming its
//! JSON path (serde_json alone keeps the last one silently, so a pasted-over value would win
//! unseen), a leading byte-order mark is accepted as it is in `.nn` files, and positions count
//! a lone `\r` as a line break, as the `.nn` diagnostics do.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::{PointError, error};

/// Parses JSON text, reporting a syntax error with its line and column and a repeated key
/// with its JSON path.
pub fn parse(text: &str) -> Result<Value, PointError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let repeated = RefCell::new(None);
    let mut reader = serde_json::Deserializer::from_str(text);
    let parsed = ValueSeed {
        path: String::new(),
        repeated: &repeated,
    }
    .deserialize(&mut reader)
    .and_then(|value| reader.end().map(|()| value));
    parsed.map_err(|e| {
        let (line, column) = position(text, e.line(), e.column());
        match repeated.into_inner() {
            Some(path) => error(
                path,
                format!(
                    "the key is given twice (again at line {line}, column {column}): each \
                     name may appear once"
                ),
            ),
            None => {
                // serde_json's message ends with its own `\n`-only position: drop it.
                let reason = e.to_string();
                let reason = reason
                    .rsplit_once(" at line ")
                    .map_or(reason.as_str(), |(r, _)| r);
                error(
                    "",
                    format!("invalid JSON at line {line}, column {column}: {reason}"),
                )
            }
        }
    })
}

/// serde_json's position (lines split at `\n` only, the column in bytes) as the `.nn`
/// diagnostics count it: lines also end at a lone `\r`, the column in characters.
fn position(text: &str, line: usize, column: usize) -> (usize, usize) {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let mut offset = (start + column.saturating_sub(1)).min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    crate::diagnostic::SourceFile::new("", text).line_col(offset)
}

/// Builds a [`Value`] like serde_json's own, recording the path of the first repeated key.
struct ValueSeed<'r> {
    path: String,
    repeated: &'r RefCell<Option<String>>,
}

impl ValueSeed<'_> {
    fn child(&self, path: String) -> Self {
        ValueSeed {
            path,
            repeated: self.repeated,
        }
    }
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) =
            seq.next_element_seed(self.child(format!("{}[{}]", self.path, items.len())))?
        {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.path.is_empty() {
                key.clone()
            } else {
                format!("{}.{key}", self.path)
            };
            if object.contains_key(&key) {
                *self.repeated.borrow_mut() = Some(path);
                return Err(de::Error::custom("a key is given twice"));
            }
            let value = map.next_value_seed(self.child(path))?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_key_names_its_path() {
        let e = parse("{\"W1\": [1],\n \"b\": {\"c\": 1, \"c\": 2}}").expect_err("repeated");
        assert_eq!(e.path, "b.c");
        assert!(e.message.contains("line 2"), "{}", e.message);
        let e = parse("{\"W1\": [1], \"W1\": [2]}").expect_err("repeated");
        assert_eq!(e.path, "W1");
    }

    #[test]
    fn values_are_read_as_serde_json_reads_them() {
        let text = r#"{"a": [1, -2, 0.5, 1e300], "b": null, "c": true, "d": "s", "e": {}}"#;
        let strict = parse(text).expect("valid"); // ok: a test
        let plain: Value = serde_json::from_str(text).expect("valid"); // ok: a test
        assert_eq!(strict, plain);
        let keys: Vec<&String> = strict.as_object().expect("object").keys().collect(); // ok: a test
        assert_eq!(keys, ["a", "b", "c", "d", "e"]);
    }

    #[test]
    fn a_byte_order_mark_is_accepted() {
        assert_eq!(
            parse("\u{feff}{\"x\": [1]}").expect("a BOM is not an error"), // ok: a test
            serde_json::json!({"x": [1]})
        );
    }

    #[test]
    fn positions_count_lone_carriage_returns_as_line_breaks() {
        for text in [
            "{\r\"x\": [1,\r2,\r]}",
            "{\r\n\"x\": [1,\r\n2,\r\n]}",
            "{\n\"x\": [1,\n2,\n]}",
        ] {
            let e = parse(text).expect_err("trailing comma");
            assert!(
                e.message.starts_with("invalid JSON at line 4, column 1:"),
                "{text:?}: {}",
                e.message
            );
            assert!(!e.message.contains(" at line 2"), "{}", e.message);
        }
    }

    #[test]
    fn text_after_the_value_is_an_error() {
        assert!(parse("{} {}").is_err());
    }
}
