//! Query strings for the list endpoints, and the log filters that the logs page, the stats
//! cards and the CSV export share.

/// Percent-encodes a query value (everything but RFC 3986 unreserved characters).
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(byte))
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Reverses [`encode`] (and a form's `+` for a space); bytes that are not valid UTF-8
/// become U+FFFD rather than failing.
pub fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| {
            bytes
                .get(at..at + 2)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        };
        match bytes[i] {
            b'%' if hex(i + 1).is_some() => {
                out.extend(hex(i + 1));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `key=value` pairs of a query string (`?` optional), decoded.
pub fn parse(query: &str) -> Vec<(String, String)> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

/// `path?k=v&…` with empty values left out.
pub fn with_query(path: &str, pairs: &[(&str, String)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .filter(|(_, value)| !value.trim().is_empty())
        .map(|(key, value)| format!("{key}={}", encode(value.trim())))
        .collect();
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// The filters of the logs page, as typed (empty = no filter).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFilter {
    pub start_date: String,
    pub end_date: String,
    pub config_id: String,
    pub group_id: String,
    pub status: String,
    pub activation_code: String,
    pub api_key_id: String,
    pub q: String,
}

pub const PAGE_SIZES: [u32; 4] = [10, 20, 50, 100];

impl LogFilter {
    /// The filters of a logs-page address (the page writes them there, links bring them).
    pub fn from_query(query: &str) -> Self {
        let mut filter = Self::default();
        for (key, value) in parse(query) {
            let slot = match key.as_str() {
                "config_id" => &mut filter.config_id,
                "group_id" => &mut filter.group_id,
                "activation_code" => &mut filter.activation_code,
                "api_key_id" => &mut filter.api_key_id,
                "status" => &mut filter.status,
                "start_date" => &mut filter.start_date,
                "end_date" => &mut filter.end_date,
                "q" => &mut filter.q,
                _ => continue,
            };
            *slot = value;
        }
        filter
    }

    /// The logs page's own address query for these filters and `page` (1 left out).
    pub fn page_query(&self, page: u32) -> String {
        let mut pairs = self.pairs();
        if page > 1 {
            pairs.push(("page", page.to_string()));
        }
        with_query("", &pairs)
    }

    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("config_id", self.config_id.clone()),
            ("group_id", self.group_id.clone()),
            ("activation_code", self.activation_code.clone()),
            ("api_key_id", self.api_key_id.clone()),
            ("status", self.status.clone()),
            ("start_date", self.start_date.clone()),
            ("end_date", self.end_date.clone()),
            ("q", self.q.clone()),
        ]
    }

    /// `GET /api/admin/llm/logs` for one page (the table).
    pub fn list_url(&self, page: u32, page_size: u32) -> String {
        let mut pairs = self.pairs();
        pairs.push(("page", page.max(1).to_string()));
        pairs.push(("page_size", page_size.clamp(1, 100).to_string()));
        with_query("/api/admin/llm/logs", &pairs)
    }

    /// `GET /api/admin/llm/logs` for the totals of every match (the cards), with the same
    /// filters as the table but asked apart: on a million records a text found everywhere
    /// takes seconds to total, and the table need not wait for that.
    pub fn summary_url(&self) -> String {
        let mut pairs = self.pairs();
        pairs.push(("page_size", "1".into()));
        pairs.push(("summary", "true".into()));
        with_query("/api/admin/llm/logs", &pairs)
    }

    /// `GET /api/admin/llm/logs/export` with the same filters.
    pub fn export_url(&self) -> String {
        with_query("/api/admin/llm/logs/export", &self.pairs())
    }

    /// `GET /api/admin/llm/stats`: it knows only the date range, config and group.
    pub fn stats_url(&self) -> String {
        with_query(
            "/api/admin/llm/stats",
            &[
                ("start_date", self.start_date.clone()),
                ("end_date", self.end_date.clone()),
                ("config_id", self.config_id.clone()),
                ("group_id", self.group_id.clone()),
            ],
        )
    }

    /// A start date after the end date, which the server would answer with an empty list.
    pub fn dates_reversed(&self) -> bool {
        match (
            crate::dates::parse_ymd(&self.start_date),
            crate::dates::parse_ymd(&self.end_date),
        ) {
            (Some(start), Some(end)) => start > end,
            _ => false,
        }
    }
}

/// Page count for `total` rows (at least 1).
pub fn page_count(total: i64, page_size: u32) -> u32 {
    let size = i64::from(page_size.max(1));
    (((total.max(0) + size - 1) / size).max(1)).min(i64::from(u32::MAX)) as u32
}

/// The page buttons to show: first, last, and a window around the current page;
/// `None` marks a gap (`…`).
pub fn page_window(current: u32, count: u32) -> Vec<Option<u32>> {
    let count = count.max(1);
    let current = current.clamp(1, count);
    let mut pages: Vec<u32> = vec![1, count];
    for p in current.saturating_sub(2)..=current.saturating_add(2) {
        if (1..=count).contains(&p) {
            pages.push(p);
        }
    }
    pages.sort_unstable();
    pages.dedup();
    let mut out = Vec::new();
    for (i, page) in pages.iter().enumerate() {
        if i > 0 && page - pages[i - 1] > 1 {
            out.push(None);
        }
        out.push(Some(*page));
    }
    out
}

/// The `filename` of a `Content-Disposition` header, if any.
pub fn disposition_filename(header: &str) -> Option<String> {
    let lower = header.to_ascii_lowercase();
    if let Some(at) = lower.find("filename*=") {
        let value = header[at + 10..].split(';').next()?.trim();
        let encoded = value.rsplit("''").next()?;
        return percent_decode(encoded.trim_matches('"'));
    }
    let at = lower.find("filename=")?;
    let value = header[at + 9..].split(';').next()?.trim().trim_matches('"');
    (!value.is_empty()).then(|| value.to_string())
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok().filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_go_to_the_address_and_back() {
        let filter = LogFilter {
            status: "error".into(),
            q: "超时 100%".into(),
            activation_code: "ABC-1".into(),
            ..LogFilter::default()
        };
        let query = filter.page_query(3);
        assert_eq!(
            query,
            "?activation_code=ABC-1&status=error&q=%E8%B6%85%E6%97%B6%20100%25&page=3"
        );
        assert_eq!(LogFilter::from_query(&query), filter);
        assert_eq!(LogFilter::default().page_query(1), "");
        assert_eq!(decode("a+b%2"), "a b%2");
        assert_eq!(
            parse("?log_id=7&x"),
            vec![("log_id".into(), "7".into()), ("x".into(), String::new())]
        );
    }

    #[test]
    fn encodes_values() {
        assert_eq!(encode("abc-_.~09"), "abc-_.~09");
        assert_eq!(encode("a b&c=d"), "a%20b%26c%3Dd");
        assert_eq!(encode("你好"), "%E4%BD%A0%E5%A5%BD");
        assert_eq!(
            encode("2026-11-26T10:00:00+08:00"),
            "2026-11-26T10%3A00%3A00%2B08%3A00"
        );
    }

    #[test]
    fn builds_filter_urls() {
        let filter = LogFilter {
            start_date: "2026-11-01".into(),
            config_id: "3".into(),
            status: "error".into(),
            q: " 超时 ".into(),
            ..LogFilter::default()
        };
        assert_eq!(
            filter.list_url(2, 50),
            "/api/admin/llm/logs?config_id=3&status=error&start_date=2026-11-01&q=%E8%B6%85%E6%97%B6&page=2&page_size=50"
        );
        assert_eq!(
            filter.summary_url(),
            "/api/admin/llm/logs?config_id=3&status=error&start_date=2026-11-01&q=%E8%B6%85%E6%97%B6&page_size=1&summary=true"
        );
        assert_eq!(
            filter.export_url(),
            "/api/admin/llm/logs/export?config_id=3&status=error&start_date=2026-11-01&q=%E8%B6%85%E6%97%B6"
        );
        assert_eq!(
            filter.stats_url(),
            "/api/admin/llm/stats?start_date=2026-11-01&config_id=3"
        );
        assert_eq!(
            LogFilter::default().list_url(0, 500),
            "/api/admin/llm/logs?page=1&page_size=100"
        );
        assert_eq!(LogFilter::default().stats_url(), "/api/admin/llm/stats");
    }

    #[test]
    fn notices_reversed_dates() {
        let mut filter = LogFilter {
            start_date: "2026-11-02".into(),
            end_date: "2026-11-01".into(),
            ..LogFilter::default()
        };
        assert!(filter.dates_reversed());
        filter.end_date = "2026-11-02".into();
        assert!(!filter.dates_reversed());
    }

    #[test]
    fn paginates() {
        assert_eq!(page_count(0, 20), 1);
        assert_eq!(page_count(20, 20), 1);
        assert_eq!(page_count(21, 20), 2);
        assert_eq!(page_count(1234, 20), 62);
        assert_eq!(page_window(1, 1), vec![Some(1)]);
        assert_eq!(
            page_window(1, 10),
            vec![Some(1), Some(2), Some(3), None, Some(10)]
        );
        assert_eq!(
            page_window(6, 62),
            vec![
                Some(1),
                None,
                Some(4),
                Some(5),
                Some(6),
                Some(7),
                Some(8),
                None,
                Some(62)
            ]
        );
        assert_eq!(
            page_window(4, 5),
            vec![Some(1), Some(2), Some(3), Some(4), Some(5)]
        );
    }

    #[test]
    fn reads_download_names() {
        assert_eq!(
            disposition_filename(r#"attachment; filename="llm-logs.csv""#).as_deref(),
            Some("llm-logs.csv")
        );
        assert_eq!(
            disposition_filename("attachment; filename*=UTF-8''%E8%B0%83%E7%94%A8.csv").as_deref(),
            Some("调用.csv")
        );
        assert_eq!(disposition_filename("inline"), None);
    }
}
