//! Checks of typed form values. The server has the last word (its 422 names the field);
//! these only catch what is plainly wrong before sending.

use std::collections::HashMap;

use crate::api::ApiError;
use crate::i18n::Tr;

/// A message for one form field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub field: &'static str,
    /// i18n key of the message, which may use `{label}`, `{min}` and `{max}`.
    pub key: &'static str,
    /// i18n key of the field's label.
    pub label: &'static str,
    pub min: String,
    pub max: String,
}

impl FieldError {
    pub fn new(field: &'static str, label: &'static str, key: &'static str) -> Self {
        Self {
            field,
            key,
            label,
            min: String::new(),
            max: String::new(),
        }
    }

    pub fn message(&self, tr: Tr) -> String {
        tr.tf(
            self.key,
            &[
                ("label", tr.t(self.label)),
                ("min", &self.min),
                ("max", &self.max),
            ],
        )
    }
}

/// Every plain mistake of a form at once: checks keep their errors here instead of
/// stopping at the first, so the form marks all of them.
#[derive(Debug, Default)]
pub struct Checks {
    errors: Vec<FieldError>,
}

impl Checks {
    /// The checked value; on a mistake None, and the error kept.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(err) => {
                self.errors.push(err);
                None
            }
        }
    }

    pub fn fail(&mut self, err: FieldError) {
        self.errors.push(err);
    }

    /// `value` when nothing failed, else every error in form order.
    pub fn finish<T>(self, value: T) -> Result<T, Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(self.errors)
        }
    }
}

/// Field errors as a form shows them: the first message of each field.
pub fn by_field(errors: &[FieldError], tr: Tr) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for err in errors {
        out.entry(err.field.to_string())
            .or_insert_with(|| err.message(tr));
    }
    out
}

/// Where a failed save's error is shown: at its field when the form shows that field (and
/// then only there, never twice), else in the form's banner. A 401 shows nowhere: the
/// login page says it. Returns the field errors and the banner.
pub fn place_error(
    err: &ApiError,
    tr: Tr,
    fields: &[&str],
) -> (HashMap<String, String>, Option<String>) {
    let message = err.display(tr);
    match err.field().filter(|f| fields.contains(f)) {
        Some(field) => (HashMap::from([(field.to_string(), message)]), None),
        None if err.is_unauthorized() => (HashMap::new(), None),
        None => (HashMap::new(), Some(message)),
    }
}

/// A required text, trimmed.
pub fn required(
    field: &'static str,
    label: &'static str,
    value: &str,
) -> Result<String, FieldError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(FieldError::new(field, label, "form.required"));
    }
    Ok(value.to_string())
}

/// A whole number in `min..=max`.
pub fn int_in(
    field: &'static str,
    label: &'static str,
    value: &str,
    min: i64,
    max: i64,
) -> Result<i64, FieldError> {
    let parsed: i64 = value
        .trim()
        .parse()
        .map_err(|_| FieldError::new(field, label, "form.integer"))?;
    check_range(field, label, parsed as f64, min as f64, max as f64).map(|_| parsed)
}

/// A number in `min..=max`.
pub fn float_in(
    field: &'static str,
    label: &'static str,
    value: &str,
    min: f64,
    max: f64,
) -> Result<f64, FieldError> {
    let parsed: f64 = value
        .trim()
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| FieldError::new(field, label, "form.number"))?;
    check_range(field, label, parsed, min, max).map(|_| parsed)
}

/// An optional whole number ≥ 0: empty means none.
pub fn optional_count(
    field: &'static str,
    label: &'static str,
    value: &str,
    max: i64,
) -> Result<Option<i64>, FieldError> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    int_in(field, label, value, 0, max).map(Some)
}

fn check_range(
    field: &'static str,
    label: &'static str,
    value: f64,
    min: f64,
    max: f64,
) -> Result<(), FieldError> {
    if value < min || value > max {
        let mut err = FieldError::new(field, label, "form.range");
        err.min = trim_number(min);
        err.max = trim_number(max);
        return Err(err);
    }
    Ok(())
}

fn trim_number(value: f64) -> String {
    crate::format::plain_number(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn checks_values() {
        assert_eq!(required("name", "config.name", "  a "), Ok("a".into()));
        assert_eq!(
            required("name", "config.name", "  ").map_err(|e| e.key),
            Err("form.required")
        );
        assert_eq!(int_in("m", "config.max_tokens", "2000", 1, 32000), Ok(2000));
        assert_eq!(
            int_in("m", "config.max_tokens", "1.5", 1, 32000).map_err(|e| e.key),
            Err("form.integer")
        );
        let err = int_in("m", "config.max_tokens", "0", 1, 32000).err();
        assert_eq!(err.as_ref().map(|e| e.key), Some("form.range"));
        assert_eq!(
            err.map(|e| e.message(Tr(Lang::Zh))).as_deref(),
            Some("Max Tokens必须在 1 到 32000 之间")
        );
        assert_eq!(
            float_in("t", "config.temperature", "0.7", 0.0, 2.0),
            Ok(0.7)
        );
        assert_eq!(
            float_in("t", "config.temperature", "abc", 0.0, 2.0).map_err(|e| e.key),
            Err("form.number")
        );
        assert_eq!(
            float_in("t", "config.temperature", "NaN", 0.0, 2.0).map_err(|e| e.key),
            Err("form.number")
        );
        assert_eq!(optional_count("d", "group.daily_limit", " ", 10), Ok(None));
        assert_eq!(
            optional_count("d", "group.daily_limit", "5", 10),
            Ok(Some(5))
        );
        assert!(optional_count("d", "group.daily_limit", "-1", 10).is_err());
    }
}
