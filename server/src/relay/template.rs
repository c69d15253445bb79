//! Prompt templates: `{name}` placeholders (letters, digits and `_` of any script, not
//! starting with a digit), found and filled in one pass.
//! Values are inserted verbatim and never scanned again, so a value containing `{x}`
//! stays as typed. Braces that do not enclose an identifier are plain text.

use std::collections::HashMap;

use crate::error::{AppError, AppResult};

/// A name is letters, digits and `_` of any script (`{对话内容}`, `{kunde_name}`), so
/// admins may name variables in their own language.
fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// A name does not start with a digit (`{1x}` and `{2}` are text).
fn starts_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| !c.is_numeric())
}

/// A placeholder's span in the template: byte range of `{name}` and the name.
fn placeholders(content: &str) -> impl Iterator<Item = (usize, usize, &str)> {
    let bytes = content.as_bytes();
    let mut pos = 0;
    std::iter::from_fn(move || {
        while pos < bytes.len() {
            let start = pos + content[pos..].find('{')?;
            let name_start = start + 1;
            let name_len: usize = content[name_start..]
                .chars()
                .take_while(|c| is_name_char(*c))
                .map(char::len_utf8)
                .sum();
            let end = name_start + name_len;
            let is_identifier =
                starts_name(&content[name_start..end]) && bytes.get(end) == Some(&b'}');
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
    fn names_may_be_in_any_language() {
        let text = "请总结：{对话内容}，客户 {kunde_größe} {名字1} {1号} {对话 内容}";
        assert_eq!(variables(text), vec!["对话内容", "kunde_größe", "名字1"]);
        let out = render(
            "请总结：{对话内容}",
            &values(&[("对话内容", "你好，我想退货")]),
        )
        .unwrap();
        assert_eq!(out, "请总结：你好，我想退货");
        let err = render("{对话内容}", &values(&[])).unwrap_err();
        assert!(err.to_string().contains("对话内容"), "{err}");
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
