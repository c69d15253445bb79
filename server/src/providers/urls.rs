//! The upstream URLs, parsed once. Parsing one costs more than building the rest of the
//! request (some 7k instructions), and every call to a config posts to the same text.

use reqwest::Url;

use crate::memo::Memo;

/// Parsed URLs by their text (see [`Memo`]): a config whose `api_url` is edited is parsed
/// afresh, never answered with its old URL.
#[derive(Debug, Default)]
pub(crate) struct ParsedUrls(Memo<Url>);

impl ParsedUrls {
    /// `text` parsed; a text that does not parse is not kept.
    pub fn parse(&self, text: &str) -> Result<Url, url::ParseError> {
        self.0.get_or_try(text, || Url::parse(text))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn each_text_gets_its_own_parse_and_an_edited_url_is_not_served_stale() {
        let urls = ParsedUrls::default();
        let before = "http://127.0.0.1:1/v1/chat/completions";
        let after = "https://api.example.com/v2/chat";
        assert_eq!(urls.parse(before).unwrap().as_str(), before);
        assert_eq!(urls.parse(before).unwrap().as_str(), before);
        assert_eq!(urls.parse(after).unwrap().as_str(), after);
        assert_eq!(urls.parse(before).unwrap().as_str(), before);
        assert!(urls.parse("not a url").is_err());
    }

    #[test]
    fn a_url_that_does_not_parse_still_fails_the_attempt_as_rejected() {
        let err = crate::providers::Providers::default()
            .post("not a url")
            .build()
            .unwrap_err();
        let err = crate::providers::errors::from_reqwest(err);
        assert_eq!(err.kind, crate::providers::FailureKind::Rejected, "{err}");
    }
}
