//! Query parameters shared by the log list, the CSV export and the statistics:
//! dates in the configured time zone, or exact RFC 3339 instants.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::{
    clock::Clock,
    db::call_logs::{CallStatus, LogFilter},
    error::{AppError, AppResult},
};

/// A `start_date` / `end_date` value: a local date or an instant.
enum Bound {
    Date(NaiveDate),
    Instant(DateTime<Utc>),
}

fn parse(field: &'static str, value: &str) -> AppResult<Bound> {
    let value = value.trim();
    if let Ok(date) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return Ok(Bound::Date(date));
    }
    DateTime::parse_from_rfc3339(value)
        .map(|at| Bound::Instant(at.with_timezone(&Utc)))
        .map_err(|_| AppError::validation(field, "日期格式应为 YYYY-MM-DD 或 RFC 3339 时间"))
}

/// The first instant included.
pub fn start(clock: &Clock, value: Option<&str>) -> AppResult<Option<DateTime<Utc>>> {
    value
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            parse("start_date", v).map(|bound| match bound {
                Bound::Date(date) => clock.start_of_day(date),
                Bound::Instant(at) => at,
            })
        })
        .transpose()
}

/// The first instant excluded: an end date includes its whole day.
pub fn end(clock: &Clock, value: Option<&str>) -> AppResult<Option<DateTime<Utc>>> {
    value
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            parse("end_date", v).map(|bound| match bound {
                Bound::Date(date) => clock.start_of_day(date + Duration::days(1)),
                Bound::Instant(at) => at,
            })
        })
        .transpose()
}

/// The log search as given in the query string.
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    pub config_id: Option<i32>,
    pub group_id: Option<i32>,
    pub activation_code: Option<String>,
    pub api_key_id: Option<i32>,
    pub status: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub q: Option<String>,
}

impl LogQuery {
    pub fn filter(self, clock: &Clock) -> AppResult<LogFilter> {
        let status = match self.status.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(value) => Some(CallStatus::parse(value).ok_or_else(|| {
                AppError::validation("status", "状态只能是 success、error 或 interrupted")
            })?),
        };
        let non_empty = |value: Option<String>| {
            value
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        Ok(LogFilter {
            config_id: self.config_id,
            group_id: self.group_id,
            activation_code: non_empty(self.activation_code),
            api_key_id: self.api_key_id,
            status,
            from: start(clock, self.start_date.as_deref())?,
            until: end(clock, self.end_date.as_deref())?,
            text: non_empty(self.q),
        })
    }
}
