//! Server time and the calendar of quotas and statistics: days, months and hours in the
//! configured time zone (default Asia/Shanghai).
//!
//! `LLM_PROXY_CLOCK_OFFSET_SECONDS` shifts this clock (not timers or token expiry); the
//! tests use it to cross a day or month boundary, or to produce old records, through the
//! real binary.

use std::cell::RefCell;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

pub const OFFSET_ENV: &str = "LLM_PROXY_CLOCK_OFFSET_SECONDS";

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    tz: Tz,
    offset: Duration,
}

/// A zone, a local day and an hour of it: all a [`Period`] depends on.
type LocalHour = (Tz, NaiveDate, u32);

thread_local! {
    /// The period this thread formatted last: every call is admitted in one, and formatting
    /// its three strings costs far more than copying them.
    static LAST_PERIOD: RefCell<Option<(LocalHour, Period)>> = const { RefCell::new(None) };
}

/// The calendar keys of one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// `YYYY-MM-DD`
    pub day: String,
    /// `YYYY-MM`
    pub month: String,
    /// `YYYY-MM-DD HH`
    pub hour: String,
    pub hour_of_day: i32,
}

impl Clock {
    pub fn new(tz: Tz, offset_seconds: i64) -> Self {
        Self {
            tz,
            offset: Duration::seconds(offset_seconds),
        }
    }

    pub fn from_env(tz: Tz) -> Self {
        let offset = std::env::var(OFFSET_ENV)
            .ok()
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or(0);
        Self::new(tz, offset)
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }

    pub fn period(&self, at: DateTime<Utc>) -> Period {
        let local = at.with_timezone(&self.tz);
        let key = (self.tz, local.date_naive(), local.hour());
        LAST_PERIOD.with_borrow_mut(|last| match last {
            Some((last_key, period)) if *last_key == key => period.clone(),
            _ => {
                let period = Period {
                    day: local.format("%Y-%m-%d").to_string(),
                    month: local.format("%Y-%m").to_string(),
                    hour: local.format("%Y-%m-%d %H").to_string(),
                    hour_of_day: local.hour() as i32,
                };
                *last = Some((key, period.clone()));
                period
            }
        })
    }

    /// The first instant of a local day.
    pub fn start_of_day(&self, date: NaiveDate) -> DateTime<Utc> {
        let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
        self.tz
            .from_local_datetime(&midnight)
            .earliest()
            .map(|at| at.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&midnight))
    }

    /// How long from `at` until the next local day (or month) begins.
    pub fn until_next_period(&self, at: DateTime<Utc>, monthly: bool) -> std::time::Duration {
        let today = at.with_timezone(&self.tz).date_naive();
        let next = match monthly {
            true => today
                .with_day(1)
                .and_then(|first| first.checked_add_months(chrono::Months::new(1))),
            false => today.succ_opt(),
        };
        next.map(|day| self.start_of_day(day) - at)
            .and_then(|left| left.to_std().ok())
            .unwrap_or_default()
    }

    /// Today's local date.
    pub fn today(&self) -> NaiveDate {
        self.now().with_timezone(&self.tz).date_naive()
    }

    /// The zone's offsets (minutes east of UTC) from `years` before `around` (Unix seconds)
    /// to `years` after:
    /// the first in force at the start, then one entry per change (daylight saving time),
    /// each with the Unix second it starts at. Lets a browser show any record's time with
    /// the offset of its own date, without a time-zone database of its own.
    pub fn offset_changes(&self, around: i64, years: i64) -> Vec<(i64, i32)> {
        let span = years * 366 * 86_400;
        let offset_at = |second: i64| {
            let at = DateTime::from_timestamp(second, 0).unwrap_or_default();
            self.tz
                .offset_from_utc_datetime(&at.naive_utc())
                .fix()
                .local_minus_utc()
                / 60
        };
        let mut changes = vec![(around - span, offset_at(around - span))];
        // Zones change their offset at most a few times a year, never twice in a day: step by
        // days and find each change's second by bisection.
        let mut day = around - span;
        while day < around + span {
            let next = day + 86_400;
            let (mut before, mut after) = (day, next);
            if offset_at(before) != offset_at(after) {
                while after - before > 1 {
                    let middle = before + (after - before) / 2;
                    if offset_at(middle) == offset_at(before) {
                        before = middle;
                    } else {
                        after = middle;
                    }
                }
                changes.push((after, offset_at(after)));
            }
            day = next;
        }
        changes
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn periods_follow_the_configured_time_zone() {
        let clock = Clock::new(chrono_tz::Asia::Shanghai, 0);
        // 2026-11-30 16:30 UTC is 2026-12-01 00:30 in Shanghai.
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 16, 30, 0).unwrap();
        let period = clock.period(at);
        assert_eq!(period.day, "2026-12-01");
        assert_eq!(period.month, "2026-12");
        assert_eq!(period.hour, "2026-12-01 00");
        assert_eq!(period.hour_of_day, 0);
        let start = clock.start_of_day(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
        assert_eq!(start, Utc.with_ymd_and_hms(2026, 11, 30, 16, 0, 0).unwrap());
        // 00:30 on the 1st: the day ends in 23.5 hours, the month in 30 days and 23.5 hours.
        let half_hour = 30 * 60;
        assert_eq!(
            clock.until_next_period(at, false).as_secs(),
            86_400 - half_hour
        );
        assert_eq!(
            clock.until_next_period(at, true).as_secs(),
            31 * 86_400 - half_hour
        );
    }

    #[test]
    fn each_hour_and_zone_gets_its_own_period() {
        let shanghai = Clock::new(chrono_tz::Asia::Shanghai, 0);
        let utc = Clock::new(chrono_tz::UTC, 0);
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 15, 59, 59).unwrap();
        let hour_later = at + Duration::seconds(1);
        assert_eq!(shanghai.period(at).hour, "2026-11-30 23");
        assert_eq!(shanghai.period(at).hour, "2026-11-30 23");
        assert_eq!(shanghai.period(hour_later).hour, "2026-12-01 00");
        assert_eq!(shanghai.period(hour_later).month, "2026-12");
        assert_eq!(utc.period(hour_later).hour, "2026-11-30 16");
        // The same hour of another day.
        let next_day = shanghai.period(hour_later + Duration::days(1));
        assert_eq!(next_day.day, "2026-12-02");
        assert_eq!(next_day.hour_of_day, 0);
    }

    #[test]
    fn offset_changes_find_daylight_saving_to_the_second() {
        let around = Utc
            .with_ymd_and_hms(2026, 11, 30, 0, 0, 0)
            .unwrap()
            .timestamp();
        let fixed = Clock::new(chrono_tz::Asia::Shanghai, 0).offset_changes(around, 2);
        assert_eq!(fixed.len(), 1, "no DST in Shanghai");
        assert_eq!(fixed[0].1, 480);
        let berlin = Clock::new(chrono_tz::Europe::Berlin, 0).offset_changes(around, 2);
        // Two changes a year, alternating between UTC+1 and UTC+2.
        assert!((8..=10).contains(&(berlin.len() - 1)), "{berlin:?}");
        assert!(berlin.windows(2).all(|w| w[0].1 != w[1].1));
        // 2026-03-29 01:00 UTC: clocks go from 02:00 CET to 03:00 CEST.
        let spring = Utc
            .with_ymd_and_hms(2026, 3, 29, 1, 0, 0)
            .unwrap()
            .timestamp();
        assert!(berlin.contains(&(spring, 120)), "{berlin:?}");
    }

    #[test]
    fn offset_shifts_now() {
        let clock = Clock::new(chrono_tz::UTC, 86_400);
        let delta = clock.now() - Utc::now();
        assert!(delta > Duration::seconds(86_390) && delta < Duration::seconds(86_410));
    }
}
