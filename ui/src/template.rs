//! Prompt-template placeholders, with exactly the server's rule (`server/src/relay/template.rs`):
//! `{` + name (letters, digits and `_` of any script, not starting with a digit) + `}`,
//! so `{对话内容}` is a variable; distinct names in order of first
//! appearance; any other brace is literal text. Values are inserted verbatim, never re-expanded.

use std::collections::HashMap;

/// One piece of a rendered preview, so the page can highlight filled and missing values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Text(String),
    Value { name: String, value: String },
    Missing(String),
}

/// A name is letters, digits and `_` of any script (`{对话内容}`, `{kunde_name}`), so
/// admins may name variables in their own language.
fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// A name does not start with a digit (`{1x}` and `{2}` are text).
fn starts_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| !c.is_numeric())
}

/// Placeholder spans: byte range of `{name}` and the name.
fn placeholders(content: &str) -> Vec<(usize, usize, &str)> {
    let bytes = content.as_bytes();
    let mut found = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let Some(offset) = content[pos..].find('{') else {
            break;
        };
        let start = pos + offset;
        let name_start = start + 1;
        let name_len: usize = content[name_start..]
            .chars()
            .take_while(|c| is_name_char(*c))
            .map(char::len_utf8)
            .sum();
        let end = name_start + name_len;
        let is_identifier = starts_name(&content[name_start..end]) && bytes.get(end) == Some(&b'}');
        if is_identifier {
            found.push((start, end + 1, &content[name_start..end]));
            pos = end + 1;
        } else {
            pos = name_start;
        }
    }
    found
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

/// The template split into text, filled values and still-missing placeholders.
/// A value that is empty counts as missing, so the preview shows what is left to type.
pub fn preview(content: &str, values: &HashMap<String, String>) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut last = 0;
    let push_text = |out: &mut Vec<Segment>, text: &str| {
        if text.is_empty() {
            return;
        }
        if let Some(Segment::Text(prev)) = out.last_mut() {
            prev.push_str(text);
        } else {
            out.push(Segment::Text(text.to_string()));
        }
    };
    for (start, end, name) in placeholders(content) {
        push_text(&mut out, &content[last..start]);
        match values.get(name).filter(|v| !v.is_empty()) {
            Some(value) => out.push(Segment::Value {
                name: name.to_string(),
                value: value.clone(),
            }),
            None => out.push(Segment::Missing(name.to_string())),
        }
        last = end;
    }
    push_text(&mut out, &content[last..]);
    out
}

/// The preview as plain text: missing placeholders stay as `{name}`.
pub fn render(content: &str, values: &HashMap<String, String>) -> String {
    preview(content, values)
        .into_iter()
        .map(|segment| match segment {
            Segment::Text(text) => text,
            Segment::Value { value, .. } => value,
            Segment::Missing(name) => format!("{{{name}}}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
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
        assert_eq!(variables("{_a1}{A}{a-b}{é}"), vec!["_a1", "A", "é"]);
        assert!(variables("no braces {").is_empty());
        assert!(variables("").is_empty());
    }

    #[test]
    fn names_may_be_in_any_language() {
        let text = "请总结：{对话内容}，{kunde_größe} {名字1} {1号} {对话 内容}";
        assert_eq!(variables(text), vec!["对话内容", "kunde_größe", "名字1"]);
        let out = render("请总结：{对话内容}", &values(&[("对话内容", "退货")]));
        assert_eq!(out, "请总结：退货");
    }

    #[test]
    fn renders_verbatim_without_reexpansion() {
        let out = render(
            "客户名叫{customer_name}。请回复：{message}",
            &values(&[
                ("customer_name", "张三"),
                ("message", "{customer_name} 你好"),
            ]),
        );
        assert_eq!(out, "客户名叫张三。请回复：{customer_name} 你好");
    }

    #[test]
    fn keeps_missing_and_empty_placeholders_visible() {
        let segments = preview("{a}-{b}-{a}!", &values(&[("a", "1"), ("b", "")]));
        assert_eq!(
            segments,
            vec![
                Segment::Value {
                    name: "a".into(),
                    value: "1".into()
                },
                Segment::Text("-".into()),
                Segment::Missing("b".into()),
                Segment::Text("-".into()),
                Segment::Value {
                    name: "a".into(),
                    value: "1".into()
                },
                Segment::Text("!".into()),
            ]
        );
        assert_eq!(render("{a}-{b}", &values(&[("a", "1")])), "1-{b}");
    }

    #[test]
    fn literal_braces_merge_into_text() {
        assert_eq!(
            preview("{ x } {1} {}", &HashMap::new()),
            vec![Segment::Text("{ x } {1} {}".into())]
        );
    }
}
