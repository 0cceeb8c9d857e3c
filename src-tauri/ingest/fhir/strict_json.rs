//! JSON decoding that refuses a key repeated within one object.
//!
//! RFC 8259 section 4 says names within an object SHOULD be unique and that with duplicates
//! "the behavior of software that receives such an object is unpredictable"; FHIR's JSON format
//! (<http://hl7.org/fhir/R4/json.html>) represents each element once. `serde_json::Value`
//! silently keeps the last value, so `"valueQuantity": {"value": 72}, ..., "valueQuantity":
//! {"value": 290}` would import 290, and a resource typed both `Patient` and `Observation`
//! would be read as whichever came last. Here the second occurrence is an error instead, the
//! way the model package manifest is already read.
//!
//! The check costs one map lookup per key (the map being built), so decoding stays linear.

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Decodes one JSON document, refusing duplicate keys. Errors carry serde_json's line and
/// column, like any other syntax error.
pub(super) fn from_slice(bytes: &[u8]) -> serde_json::Result<Value> {
    serde_json::from_slice::<Strict>(bytes).map(|strict| strict.0)
}

/// A [`Value`] decoded with unique keys.
pub(super) struct Strict(pub(super) Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

/// Builds a [`Value`], refusing a repeated key; the streaming reader (`stream.rs`) hands it
/// whatever it does not walk itself.
pub(super) struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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
        // serde_json hands only finite numbers to a visitor; `from_f64` is `None` otherwise.
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(duplicate(&key));
            }
            let Strict(value) = access.next_value()?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

/// The error for a key seen twice in one object.
pub(super) fn duplicate<E: de::Error>(key: &str) -> E {
    E::custom(format!(
        "duplicate key '{}' in one object: which value holds is ambiguous",
        crate::ingest::shown(key.as_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_decode_as_serde_json_does() {
        let text = br#"{"a": [1, -2, 3.25, 1e400, "x", null, true, {"b": {}}], "c": 18446744073709551615}"#;
        let strict = from_slice(text);
        // 1e400 overflows: serde_json refuses it, and so does the strict decoder.
        assert!(strict.is_err() && serde_json::from_slice::<Value>(text).is_err());
        let text = br#"{"a": [1, -2, 3.25, 0.1, "x", null, true, {"b": {}}], "c": 18446744073709551615}"#;
        assert_eq!(from_slice(text).unwrap(), serde_json::from_slice::<Value>(text).unwrap());
    }

    #[test]
    fn a_repeated_key_is_refused_at_any_depth_with_its_line() {
        let e = from_slice(b"{\"a\": 1,\n \"b\": {\"c\": 1, \"c\": 2}}").unwrap_err();
        assert!(e.to_string().starts_with("duplicate key 'c' in one object"), "{e}");
        assert_eq!(e.line(), 2);
        assert!(from_slice(br#"[{"a": 1}, {"a": 2}]"#).is_ok(), "the same key in two objects is fine");
    }
}
