//! poem-openapi reads a JSON number or boolean where a string is declared as its text
//! (`{"name":123}` would create the group "123"). The spec says string, so every string a
//! client writes is read through [`strings`]: anything else is refused like any other wrong
//! type (400 `BAD_REQUEST` with the envelope).

use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult};
use serde_json::Value;

/// For a `String`, `Option<String>`, `Vec<String>` or string map field: only JSON strings
/// (or null where the field is optional) are accepted.
pub fn strings<T: ParseFromJSON>(value: Option<Value>) -> ParseResult<T> {
    let not_a_string = |v: &&Value| v.is_number() || v.is_boolean();
    let wrong = match &value {
        Some(Value::Array(items)) => items.iter().find(not_a_string),
        Some(Value::Object(map)) => map.values().find(not_a_string),
        other => other.as_ref().filter(not_a_string),
    };
    match wrong {
        Some(wrong) => Err(ParseError::expected_type(wrong.clone())),
        None => T::parse_from_json(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_json_strings_are_read_as_strings() {
        assert_eq!(strings::<String>(Some(json!("a"))).ok(), Some("a".into()));
        assert!(strings::<String>(Some(json!(123))).is_err());
        assert!(strings::<Option<String>>(Some(json!(true))).is_err());
        assert_eq!(
            strings::<Option<String>>(Some(Value::Null)).ok(),
            Some(None)
        );
        assert!(strings::<Vec<String>>(Some(json!(["a", 1]))).is_err());
        assert_eq!(
            strings::<Vec<String>>(Some(json!(["a"]))).ok(),
            Some(vec!["a".to_string()])
        );
        let map = strings::<Option<std::collections::HashMap<String, String>>>;
        assert!(map(Some(json!({"name": 1}))).is_err());
        assert!(map(Some(json!({"name": "x"}))).is_ok());
    }
}
