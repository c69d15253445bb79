//! Prompt templates: `{identifier}` placeholders, found and filled in one pass.
//! Values are inserted verbatim and never scanned again, so a value containing `{x}`
//! stays as typed. Braces that do not enclose an identifier are plain text.

use std::collections::HashMap;

use crate::error::{AppError, AppResult};

/// A placeholder's span in the template: byte range of `{name}` and the name.
fn placeholders(content: &str) -> impl Iterator<Item = (usize, usize, &str)> {
    let bytes = content.as_bytes();
    let mut pos = 0;
    std::iter::from_fn(move || {
        while pos < bytes.len() {
            let start = pos + content[pos..].find('{')?;
            let name_start = start + 1;
            let name_len = content[name_start..]
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                .count();
            let end = name_start + name_len;
            let is_identifier = name_len > 0
                && !bytes[name_start].is_ascii_digit()
                && bytes.get(end) == Some(&b'}');
            if is_identifier {
                pos = end + 1;
                return Some((start, end + 1, &content[name_start..end]));
            }
            pos = name_start;
        }
        None
    })
}

/// The distinct variable names, in order of first appearance.
pub fn variables(content: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (_, _, name) in placeholders(content) {
        if !names.iter().any(|known| known == name) {
            names.push(name.to_string());
        }
    }
    names
}

/// Fills every placeholder; all missing variables are named in one error.
pub fn render(content: &str, values: &HashMap<String, String>) -> AppResult<String> {
    let missing: Vec<String> = variables(content)
        .into_iter()
        .filter(|name| !values.contains_key(name))
        .collect();
    if !missing.is_empty() {
        return Err(AppError::MissingVariables(missing));
    }
    let mut out = String::with_capacity(content.len());
    let mut last = 0;
    for (start, end, name) in placeholders(content) {
        out.push_str(&content[last..start]);
        if let Some(value) = values.get(name) {
            out.push_str(value);
        }
        last = end;
    }
    out.push_str(&content[last..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn finds_identifiers_only_in_order_without_duplicates() {
        let text = "你是客服，客户名叫{customer_name}。请回复：{message} {customer_name} {1x} { a } {} {json:1}";
        assert_eq!(variables(text), vec!["customer_name", "message"]);
        assert_eq!(variables("{{name}}"), vec!["name"]);
    }

    #[test]
    fn renders_verbatim_without_reexpansion() {
        let out = render(
            "客户名叫{customer_name}。请回复：{message}",
            &values(&[
                ("customer_name", "张三"),
                ("message", "{customer_name} 你好"),
            ]),
        )
        .unwrap();
        assert_eq!(out, "客户名叫张三。请回复：{customer_name} 你好");
    }

    #[test]
    fn names_every_missing_variable() {
        let err = render("{a}{b}{c}", &values(&[("b", "x")])).unwrap_err();
        assert_eq!(err.code(), "TEMPLATE_VARIABLES_MISSING");
        assert!(err.to_string().contains("a, c"), "{err}");
    }
}
