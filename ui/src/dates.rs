//! Calendar arithmetic and timestamp display without a date library: the server sends
//! RFC 3339 instants, the page shows them in the browser's local time, and the filters
//! send plain `YYYY-MM-DD` days. `offset_min` is always minutes east of UTC (UTC+8 = 480).

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `YYYY-MM-DD` of a day number.
pub fn ymd(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The day number of a `YYYY-MM-DD` text.
pub fn parse_ymd(text: &str) -> Option<i64> {
    let text = text.trim();
    let mut parts = text.splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A parsed timestamp: seconds since the epoch (UTC) and whether it carried a zone.
/// A text without a zone (`2025-12-21 10:30:00`) is taken as already local.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instant {
    pub seconds: i64,
    pub zoned: bool,
}

/// Parses `YYYY-MM-DD[T ]HH:MM[:SS[.fff]][Z|±HH:MM]`.
pub fn parse_timestamp(text: &str) -> Option<Instant> {
    let text = text.trim();
    if text.len() < 16 || !text.is_char_boundary(10) {
        return None;
    }
    let days = parse_ymd(&text[..10])?;
    let sep = text.as_bytes()[10];
    if sep != b'T' && sep != b't' && sep != b' ' {
        return None;
    }
    let rest = &text[11..];
    let zone_at = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(zone_at);
    let mut fields = clock.split(':');
    let hour: i64 = fields.next()?.parse().ok()?;
    let minute: i64 = fields.next()?.parse().ok()?;
    let second: i64 = match fields.next() {
        Some(s) => s.split('.').next()?.parse().ok()?,
        None => 0,
    };
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let offset = match zone {
        "" => None,
        "Z" | "z" => Some(0),
        _ => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let (h, m) = zone[1..].split_once(':').unwrap_or((&zone[1..], "0"));
            let h: i64 = h.parse().ok()?;
            let m: i64 = m.parse().ok()?;
            Some(sign * (h * 60 + m))
        }
    };
    let local = days * 86_400 + hour * 3600 + minute * 60 + second;
    Some(Instant {
        seconds: local - offset.unwrap_or(0) * 60,
        zoned: offset.is_some(),
    })
}

/// `YYYY-MM-DD HH:MM:SS` in local time; the input unchanged when it is not a timestamp.
pub fn datetime(text: &str, offset_min: i64) -> String {
    match parse_timestamp(text) {
        Some(instant) => {
            let local = local_seconds(instant, offset_min);
            let (day, secs) = (local.div_euclid(86_400), local.rem_euclid(86_400));
            format!(
                "{} {:02}:{:02}:{:02}",
                ymd(day),
                secs / 3600,
                secs % 3600 / 60,
                secs % 60
            )
        }
        None => text.to_string(),
    }
}

fn local_seconds(instant: Instant, offset_min: i64) -> i64 {
    if instant.zoned {
        instant.seconds + offset_min * 60
    } else {
        instant.seconds
    }
}

/// The value of an `<input type="datetime-local">` (`YYYY-MM-DDTHH:MM`) as RFC 3339.
pub fn local_input_to_rfc3339(value: &str, offset_min: i64) -> Option<String> {
    let instant = parse_timestamp(value)?;
    if instant.zoned {
        return None;
    }
    let sign = if offset_min < 0 { '-' } else { '+' };
    let abs = offset_min.abs();
    let shown = datetime(value, 0).replace(' ', "T");
    Some(format!("{shown}{sign}{:02}:{:02}", abs / 60, abs % 60))
}

/// An RFC 3339 instant as an `<input type="datetime-local">` value in local time.
pub fn rfc3339_to_local_input(text: &str, offset_min: i64) -> String {
    let shown = datetime(text, offset_min);
    if parse_timestamp(text).is_none() {
        return String::new();
    }
    let shown = shown.replace(' ', "T");
    shown.get(..16).unwrap_or(&shown).to_string()
}

/// Whether an instant lies before `now_ms` (milliseconds since the epoch).
pub fn is_past(text: &str, now_ms: f64) -> bool {
    parse_timestamp(text)
        .filter(|instant| instant.zoned)
        .is_some_and(|instant| (instant.seconds as f64) * 1000.0 < now_ms)
}

/// The day number (days since 1970-01-01) of an instant in a zone `offset_min` east of UTC.
pub fn day_at(ms: f64, offset_min: i64) -> i64 {
    ((ms + offset_min as f64 * 60_000.0) / 86_400_000.0).floor() as i64
}

/// `UTC+08:00`, `UTC-03:30`.
pub fn utc_offset(offset_min: i64) -> String {
    let sign = if offset_min < 0 { '-' } else { '+' };
    let minutes = offset_min.abs();
    format!("UTC{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_offsets_in_a_zone() {
        // 2026-11-29T17:00:00Z is already the 30th in Shanghai.
        let ms = 1_795_971_600_000.0;
        assert_eq!(ymd(day_at(ms, 0)), "2026-11-29");
        assert_eq!(ymd(day_at(ms, 480)), "2026-11-30");
        assert_eq!(utc_offset(480), "UTC+08:00");
        assert_eq!(utc_offset(-210), "UTC-03:30");
        assert_eq!(utc_offset(0), "UTC+00:00");
    }

    #[test]
    fn civil_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        for days in [-1000, -1, 0, 59, 10_956, 19_000, 20_419, 30_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(ymd(days_from_civil(2024, 2, 29) + 1), "2024-03-01");
        assert_eq!(ymd(days_from_civil(2026, 11, 26) - 29), "2026-10-28");
    }

    #[test]
    fn parses_dates() {
        assert_eq!(parse_ymd("2026-11-26"), Some(days_from_civil(2026, 11, 26)));
        assert_eq!(parse_ymd("2023-02-29"), None);
        assert_eq!(parse_ymd("2024-02-29"), Some(days_from_civil(2024, 2, 29)));
        assert_eq!(parse_ymd("2026-13-01"), None);
        assert_eq!(parse_ymd("yesterday"), None);
    }

    #[test]
    fn shows_instants_in_local_time() {
        assert_eq!(
            datetime("2026-11-26T02:30:05.123456Z", 480),
            "2026-11-26 10:30:05"
        );
        assert_eq!(
            datetime("2026-11-26T23:30:00+00:00", 480),
            "2026-11-27 07:30:00"
        );
        assert_eq!(
            datetime("2026-01-01T00:10:00+08:00", -300),
            "2025-12-31 11:10:00"
        );
        assert_eq!(datetime("2025-12-21 10:30:00", 480), "2025-12-21 10:30:00");
        assert_eq!(datetime("not a date", 480), "not a date");
        assert_eq!(datetime("", 480), "");
    }

    #[test]
    fn converts_datetime_local_inputs() {
        assert_eq!(
            local_input_to_rfc3339("2026-12-31T23:59", 480).as_deref(),
            Some("2026-12-31T23:59:00+08:00")
        );
        assert_eq!(
            local_input_to_rfc3339("2026-12-31T23:59", -330).as_deref(),
            Some("2026-12-31T23:59:00-05:30")
        );
        assert_eq!(local_input_to_rfc3339("", 480), None);
        assert_eq!(
            rfc3339_to_local_input("2026-12-31T15:59:00Z", 480),
            "2026-12-31T23:59"
        );
        assert_eq!(rfc3339_to_local_input("", 480), "");
    }

    #[test]
    fn compares_with_now() {
        let at = (days_from_civil(2026, 1, 1) * 86_400) as f64 * 1000.0;
        assert!(is_past("2025-12-31T23:59:59Z", at));
        assert!(!is_past("2026-01-01T00:00:01Z", at));
        assert!(!is_past("garbage", at));
    }
}
