//! The `Allow` header a 405 answer must carry (RFC 9110): the methods the OpenAPI spec
//! documents for the requested path, read once from the spec itself so it cannot drift.

use std::sync::OnceLock;

use poem::http::HeaderValue;

/// One documented path: its segments (`None` for a `{parameter}`) and its methods.
type Documented = (Vec<Option<String>>, String);

/// The `Allow` value for `path`, when the spec documents it.
pub fn allowed(path: &str) -> Option<HeaderValue> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    documented()
        .iter()
        .find(|(pattern, _)| {
            pattern.len() == segments.len()
                && pattern
                    .iter()
                    .zip(&segments)
                    .all(|(want, got)| want.as_deref().is_none_or(|want| want == *got))
        })
        .and_then(|(_, methods)| HeaderValue::from_str(methods).ok())
}

fn documented() -> &'static [Documented] {
    static PATHS: OnceLock<Vec<Documented>> = OnceLock::new();
    PATHS.get_or_init(|| {
        let spec: serde_json::Value =
            serde_json::from_str(&crate::api::spec_json()).unwrap_or_default();
        let Some(paths) = spec.get("paths").and_then(|p| p.as_object()) else {
            return Vec::new();
        };
        paths
            .iter()
            .map(|(path, operations)| {
                let pattern = path
                    .trim_end_matches('/')
                    .split('/')
                    .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
                    .collect();
                let methods = operations
                    .as_object()
                    .map(|ops| {
                        ops.keys()
                            .map(|m| m.to_ascii_uppercase())
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default();
                (pattern, methods)
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn allow_lists_the_documented_methods_of_the_path() {
        assert_eq!(allowed("/api/health").unwrap(), "GET");
        let user = allowed("/api/admin/users/7").unwrap();
        let user = user.to_str().unwrap();
        assert!(user.contains("PUT") && user.contains("DELETE"), "{user}");
        assert!(allowed("/api/nothing/here").is_none());
    }
}
