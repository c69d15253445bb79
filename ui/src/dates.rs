//! Calendar arithmetic and timestamp display without a date library: the server sends
//! RFC 3339 instants, the page shows them in the server's zone, and the filters send plain
//! `YYYY-MM-DD` days. Offsets are always minutes east of UTC (UTC+8 = 480).

/// A time zone as the offsets it uses: one for a zone without daylight saving time, else
/// each offset with the instant it starts at (the server sends them, see `/api/auth/me`).
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    /// `(from, offset_min)`, `from` in Unix seconds, ascending; the first also applies
    /// before its `from`.
    changes: Vec<(i64, i64)>,
}

impl Zone {
    pub fn fixed(offset_min: i64) -> Self {
        Self {
            changes: vec![(i64::MIN, offset_min)],
        }
    }

    /// The zone from its changes; a fixed UTC zone when there are none.
    pub fn from_changes(mut changes: Vec<(i64, i64)>) -> Self {
        changes.sort_by_key(|change| change.0);
        match changes.is_empty() {
            true => Self::fixed(0),
            false => Self { changes },
        }
    }

    /// The offset in force at an instant (Unix seconds).
    pub fn offset_at(&self, seconds: i64) -> i64 {
        let after = self.changes.partition_point(|change| change.0 <= seconds);
        self.changes[after.saturating_sub(1)].1
    }

    /// The offset of a local wall-clock time (seconds as if it were UTC). In the hour a
    /// change skips or repeats, the offset before the change.
    pub fn offset_at_local(&self, local_seconds: i64) -> i64 {
        let first_guess = self.offset_at(local_seconds);
        self.offset_at(local_seconds - first_guess * 60)
    }
}

impl Default for Zone {
    fn default() -> Self {
        Self::fixed(0)
    }
}

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
pub fn datetime(text: &str, zone: &Zone) -> String {
    match parse_timestamp(text) {
        Some(instant) => {
            let local = local_seconds(instant, zone);
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

fn local_seconds(instant: Instant, zone: &Zone) -> i64 {
    if instant.zoned {
        instant.seconds + zone.offset_at(instant.seconds) * 60
    } else {
        instant.seconds
    }
}

/// The value of an `<input type="datetime-local">` (`YYYY-MM-DDTHH:MM`) as RFC 3339.
pub fn local_input_to_rfc3339(value: &str, zone: &Zone) -> Option<String> {
    let instant = parse_timestamp(value)?;
    if instant.zoned {
        return None;
    }
    let offset_min = zone.offset_at_local(instant.seconds);
    let sign = if offset_min < 0 { '-' } else { '+' };
    let abs = offset_min.abs();
    let shown = datetime(value, &Zone::fixed(0)).replace(' ', "T");
    Some(format!("{shown}{sign}{:02}:{:02}", abs / 60, abs % 60))
}

/// An RFC 3339 instant as an `<input type="datetime-local">` value in local time.
pub fn rfc3339_to_local_input(text: &str, zone: &Zone) -> String {
    let shown = datetime(text, zone);
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

/// The day number (days since 1970-01-01) of an instant (milliseconds) in a zone.
pub fn day_at(ms: f64, zone: &Zone) -> i64 {
    let offset_min = zone.offset_at((ms / 1000.0).floor() as i64);
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
        assert_eq!(ymd(day_at(ms, &Zone::fixed(0))), "2026-11-29");
        assert_eq!(ymd(day_at(ms, &Zone::fixed(480))), "2026-11-30");
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
            datetime("2026-11-26T02:30:05.123456Z", &Zone::fixed(480)),
            "2026-11-26 10:30:05"
        );
        assert_eq!(
            datetime("2026-11-26T23:30:00+00:00", &Zone::fixed(480)),
            "2026-11-27 07:30:00"
        );
        assert_eq!(
            datetime("2026-01-01T00:10:00+08:00", &Zone::fixed(-300)),
            "2025-12-31 11:10:00"
        );
        assert_eq!(
            datetime("2025-12-21 10:30:00", &Zone::fixed(480)),
            "2025-12-21 10:30:00"
        );
        assert_eq!(datetime("not a date", &Zone::fixed(480)), "not a date");
        assert_eq!(datetime("", &Zone::fixed(480)), "");
    }

    #[test]
    fn converts_datetime_local_inputs() {
        assert_eq!(
            local_input_to_rfc3339("2026-12-31T23:59", &Zone::fixed(480)).as_deref(),
            Some("2026-12-31T23:59:00+08:00")
        );
        assert_eq!(
            local_input_to_rfc3339("2026-12-31T23:59", &Zone::fixed(-330)).as_deref(),
            Some("2026-12-31T23:59:00-05:30")
        );
        assert_eq!(local_input_to_rfc3339("", &Zone::fixed(480)), None);
        assert_eq!(
            rfc3339_to_local_input("2026-12-31T15:59:00Z", &Zone::fixed(480)),
            "2026-12-31T23:59"
        );
        assert_eq!(rfc3339_to_local_input("", &Zone::fixed(480)), "");
    }

    #[test]
    fn compares_with_now() {
        let at = (days_from_civil(2026, 1, 1) * 86_400) as f64 * 1000.0;
        assert!(is_past("2025-12-31T23:59:59Z", at));
        assert!(!is_past("2026-01-01T00:00:01Z", at));
        assert!(!is_past("garbage", at));
    }

    #[test]
    fn times_take_the_offset_of_their_own_date() {
        // Berlin: UTC+1, UTC+2 from 2026-03-29 01:00 UTC, UTC+1 again from 2026-10-25 01:00 UTC.
        let berlin = Zone::from_changes(vec![(1_774_746_000, 120), (0, 60), (1_792_890_000, 60)]);
        assert_eq!(
            datetime("2026-07-01T10:00:00Z", &berlin),
            "2026-07-01 12:00:00"
        );
        assert_eq!(
            datetime("2026-12-01T10:00:00Z", &berlin),
            "2026-12-01 11:00:00"
        );
        assert_eq!(
            datetime("2026-03-29T00:59:59Z", &berlin),
            "2026-03-29 01:59:59"
        );
        assert_eq!(
            datetime("2026-03-29T01:00:00Z", &berlin),
            "2026-03-29 03:00:00"
        );
        assert_eq!(
            local_input_to_rfc3339("2026-07-01T12:00", &berlin).as_deref(),
            Some("2026-07-01T12:00:00+02:00")
        );
        assert_eq!(
            local_input_to_rfc3339("2026-12-01T12:00", &berlin).as_deref(),
            Some("2026-12-01T12:00:00+01:00")
        );
        assert_eq!(
            rfc3339_to_local_input("2026-07-01T10:00:00Z", &berlin),
            "2026-07-01T12:00"
        );
        // 2026-10-24 23:30 UTC is already the 25th in Berlin (UTC+2 until 01:00 UTC).
        assert_eq!(ymd(day_at(1_792_884_600_000.0, &berlin)), "2026-10-25");
        assert_eq!(Zone::from_changes(Vec::new()).offset_at(0), 0);
    }
}
