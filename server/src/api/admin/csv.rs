//! The CSV export, produced in batches while it is sent: memory stays flat however many
//! records match.

use bytes::Bytes;
use futures::Stream;

use crate::{
    db::{self, call_logs::LogFilter},
    log_text::request_text,
    state::AppState,
};

const BATCH: u64 = 500;
/// UTF-8 byte-order mark: without it Excel on Windows reads the file as ANSI.
const BOM: &str = "\u{feff}";
const CALL_TIME: &str = "调用时间";
const HEADER: [&str; 20] = [
    "ID",
    CALL_TIME,
    "配置",
    "提供商",
    "模型",
    "分组ID",
    "激活码",
    "API Key",
    "状态",
    "Prompt Token",
    "Completion Token",
    "Token合计",
    "费用",
    "币种",
    "耗时(ms)",
    "重试次数",
    "错误码",
    "错误信息",
    "请求内容",
    "响应内容",
];

/// The file as a stream of chunks: header first, then one chunk per batch of records.
pub fn rows(
    state: AppState,
    filter: LogFilter,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    // The time column says its zone: Excel shows the text as it is, with no zone of its own.
    let zone = state.quotas.clock().tz().name().to_string();
    let header = HEADER.map(|name| match name {
        CALL_TIME => format!("{CALL_TIME} ({zone})"),
        other => other.to_string(),
    });
    let start = Some(format!("{BOM}{}\r\n", line(header)));
    futures::stream::unfold(
        (state, filter, None::<i64>, start, false),
        |(state, filter, before, header, done)| async move {
            if let Some(header) = header {
                return Some((
                    Ok(Bytes::from(header)),
                    (state, filter, before, None, false),
                ));
            }
            if done {
                return None;
            }
            match db::call_logs::batch_before(&state.db, &filter, before, BATCH).await {
                Err(err) => {
                    tracing::error!(%err, "CSV export stopped");
                    Some((
                        Err(std::io::Error::other("export failed")),
                        (state, filter, before, None, true),
                    ))
                }
                Ok(batch) if batch.is_empty() => None,
                Ok(batch) => {
                    let last = batch.last().map(|row| row.id);
                    let finished = (batch.len() as u64) < BATCH;
                    let tz = state.quotas.clock().tz();
                    let mut chunk = String::new();
                    for row in batch {
                        chunk.push_str(&line([
                            row.id.to_string(),
                            row.call_time
                                .with_timezone(&tz)
                                .format("%Y-%m-%d %H:%M:%S")
                                .to_string(),
                            row.config_name,
                            row.provider,
                            row.model,
                            row.group_id.map(|g| g.to_string()).unwrap_or_default(),
                            row.activation_code.unwrap_or_default(),
                            row.api_key_name.unwrap_or_default(),
                            row.status,
                            number(row.prompt_tokens),
                            number(row.completion_tokens),
                            number(row.tokens_used),
                            format!("{:.6}", row.cost),
                            row.currency,
                            number(row.duration_ms),
                            row.retry_count.to_string(),
                            row.error_code.unwrap_or_default(),
                            row.error_message.unwrap_or_default(),
                            request_text(&row.request_messages),
                            row.response_content.unwrap_or_default(),
                        ]));
                        chunk.push_str("\r\n");
                    }
                    Some((
                        Ok(Bytes::from(chunk)),
                        (state, filter, last, None, finished),
                    ))
                }
            }
        },
    )
}

fn number(value: Option<i32>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

fn line<const N: usize>(cells: [String; N]) -> String {
    cells
        .iter()
        .map(|cell| field(cell))
        .collect::<Vec<_>>()
        .join(",")
}

/// RFC 4180 quoting, and a leading `'` before `= + - @` so a spreadsheet never runs a
/// formula that came from untrusted log content.
fn field(value: &str) -> String {
    let guarded = match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_string(),
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_defuses_formulas() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\"\nbye"), "\"say \"\"hi\"\"\nbye\"");
        assert_eq!(field("=1+1"), "'=1+1");
        assert_eq!(field("-5"), "'-5");
        assert_eq!(line(["1".to_string(), "你好".to_string()]), "1,你好");
    }
}
