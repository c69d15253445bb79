//! Field checks shared by the admin resources; each failure names its field.

use crate::error::{AppError, AppResult};

/// A required text: trimmed, non-empty, at most `max` characters.
pub fn text(field: &'static str, label: &str, value: &str, max: usize) -> AppResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AppError::validation(field, format!("{label}不能为空")));
    }
    optional_text(field, label, Some(value.to_string()), max).map(|v| v.unwrap_or_default())
}

/// An optional text: empty means none.
pub fn optional_text(
    field: &'static str,
    label: &str,
    value: Option<String>,
    max: usize,
) -> AppResult<Option<String>> {
    let Some(value) = value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    if value.chars().count() > max {
        return Err(AppError::validation(
            field,
            format!("{label}不能超过 {max} 个字符"),
        ));
    }
    Ok(Some(value))
}

pub fn range_f64(
    field: &'static str,
    label: &str,
    value: f64,
    min: f64,
    max: f64,
) -> AppResult<f64> {
    if !value.is_finite() || value < min || value > max {
        return Err(AppError::validation(
            field,
            format!("{label}必须在 {min} 到 {max} 之间"),
        ));
    }
    Ok(value)
}

pub fn range_i64(
    field: &'static str,
    label: &str,
    value: i64,
    min: i64,
    max: i64,
) -> AppResult<i64> {
    if value < min || value > max {
        return Err(AppError::validation(
            field,
            format!("{label}必须在 {min} 到 {max} 之间"),
        ));
    }
    Ok(value)
}

/// An `http://` or `https://` URL with a host.
pub fn http_url(field: &'static str, value: &str) -> AppResult<String> {
    let value = value.trim();
    let parsed = url::Url::parse(value)
        .map_err(|_| AppError::validation(field, "API地址必须是有效的 http(s) URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(AppError::validation(
            field,
            "API地址必须是有效的 http(s) URL",
        ));
    }
    if value.chars().count() > 500 {
        return Err(AppError::validation(field, "API地址不能超过 500 个字符"));
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn checks_name_each_field() {
        assert_eq!(text("name", "名称", "  a  ", 10).unwrap(), "a");
        let err = text("name", "名称", "   ", 10).unwrap_err();
        assert_eq!(err.code(), "VALIDATION_FAILED");
        assert!(text("name", "名称", &"长".repeat(11), 10).is_err());
        assert!(text("name", "名称", &"长".repeat(10), 10).is_ok());
        assert!(range_f64("temperature", "Temperature", 2.01, 0.0, 2.0).is_err());
        assert!(range_f64("temperature", "Temperature", f64::NAN, 0.0, 2.0).is_err());
        assert!(http_url("api_url", "ftp://x").is_err());
        assert!(http_url("api_url", "https://api.openai.com/v1/chat/completions").is_ok());
        assert_eq!(
            optional_text("d", "说明", Some("  ".into()), 5).unwrap(),
            None
        );
    }
}
