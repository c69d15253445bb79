//! Counters for `GET /metrics` (Prometheus text format), kept in this one place.
//!
//! Off by default (`[metrics] enabled`): then every update is one branch on `None` and
//! nothing is counted. On, the call-record writer updates the call figures once per
//! committed batch (one lock per batch, not per call), the relay counts quota refusals.
//!
//! Labels are ids, not names: ids never change when an admin renames a config or group, and
//! their number is bounded by the rows an admin creates. Error codes are this server's own
//! fixed set, currencies those of the configs.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    sync::{Mutex, PoisonError},
    time::Duration,
};

use crate::db::call_logs::{CallStatus, NewCallLog};

/// Seconds: a call's duration.
const LATENCY_BOUNDS: &[f64] = &[
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];
/// Records per write transaction (the writer takes at most 512).
const BATCH_BOUNDS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];
/// Seconds from a record's hand-over to its commit.
const LAG_BOUNDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

pub struct Metrics(Option<Mutex<Counters>>);

impl Metrics {
    pub fn new(enabled: bool) -> Self {
        Self(enabled.then(|| Mutex::new(Counters::default())))
    }

    pub fn enabled(&self) -> bool {
        self.0.is_some()
    }

    fn update(&self, change: impl FnOnce(&mut Counters)) {
        if let Some(counters) = &self.0 {
            change(&mut counters.lock().unwrap_or_else(PoisonError::into_inner));
        }
    }

    /// A batch of call records committed; `lags` are each record's wait from hand-over to
    /// commit.
    pub fn recorded(&self, rows: &[NewCallLog], lags: &[Duration]) {
        if rows.is_empty() {
            // A batch of released reservations only.
            return;
        }
        self.update(|counters| {
            counters.batch_sizes.observe(rows.len() as f64);
            for lag in lags {
                counters.record_lag.observe(lag.as_secs_f64());
            }
            for row in rows {
                counters.add_call(row);
            }
        });
    }

    /// A call refused before anything went upstream (rate limit, quota or budget).
    pub fn refused(&self, code: &'static str) {
        self.update(|counters| *counters.refusals.entry(code).or_default() += 1);
    }

    /// The Prometheus text exposition (format 0.0.4); None when metrics are off.
    pub fn render(&self) -> Option<String> {
        let counters = self.0.as_ref()?;
        let counters = counters.lock().unwrap_or_else(PoisonError::into_inner);
        Some(counters.render())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Route {
    config_id: Option<i32>,
    group_id: Option<i32>,
}

impl Route {
    fn labels(self) -> String {
        let id = |value: Option<i32>| value.map(|v| v.to_string()).unwrap_or_default();
        format!(
            "config_id=\"{}\",group_id=\"{}\"",
            id(self.config_id),
            id(self.group_id)
        )
    }
}

struct PerRoute {
    /// By status: success, error, interrupted.
    calls: [u64; 3],
    prompt_tokens: u64,
    completion_tokens: u64,
    /// First tries, retries and configs fallen back from.
    upstream_attempts: u64,
    latency: Histogram,
}

impl Default for PerRoute {
    fn default() -> Self {
        Self {
            calls: [0; 3],
            prompt_tokens: 0,
            completion_tokens: 0,
            upstream_attempts: 0,
            latency: Histogram::new(LATENCY_BOUNDS),
        }
    }
}

struct Counters {
    routes: BTreeMap<Route, PerRoute>,
    errors: BTreeMap<(Route, String), u64>,
    cost: BTreeMap<(Route, String), f64>,
    refusals: BTreeMap<&'static str, u64>,
    batch_sizes: Histogram,
    record_lag: Histogram,
}

impl Default for Counters {
    fn default() -> Self {
        Self {
            routes: BTreeMap::new(),
            errors: BTreeMap::new(),
            cost: BTreeMap::new(),
            refusals: BTreeMap::new(),
            batch_sizes: Histogram::new(BATCH_BOUNDS),
            record_lag: Histogram::new(LAG_BOUNDS),
        }
    }
}

const STATUSES: [CallStatus; 3] = [
    CallStatus::Success,
    CallStatus::Error,
    CallStatus::Interrupted,
];

impl Counters {
    fn add_call(&mut self, row: &NewCallLog) {
        let route = Route {
            config_id: row.config_id,
            group_id: row.group_id,
        };
        let entry = self.routes.entry(route).or_default();
        if let Some(index) = STATUSES.iter().position(|status| *status == row.status) {
            entry.calls[index] += 1;
        }
        let tokens = |value: Option<i32>| u64::try_from(value.unwrap_or(0)).unwrap_or(0);
        entry.prompt_tokens += tokens(row.prompt_tokens);
        entry.completion_tokens += tokens(row.completion_tokens);
        let fallbacks = row
            .fallback_attempts
            .as_ref()
            .and_then(|attempts| attempts.as_array())
            .map_or(0, Vec::len) as u64;
        entry.upstream_attempts += 1 + u64::try_from(row.retry_count).unwrap_or(0) + fallbacks;
        entry
            .latency
            .observe(f64::from(row.duration_ms.max(0)) / 1000.0);
        if let Some(code) = &row.error_code {
            *self.errors.entry((route, code.clone())).or_default() += 1;
        }
        if row.cost != 0.0 {
            *self.cost.entry((route, row.currency.clone())).or_default() += row.cost;
        }
    }

    fn render(&self) -> String {
        let mut out = String::new();
        header(
            &mut out,
            "calls_total",
            "counter",
            "Calls recorded, by config, group and status.",
        );
        for (route, entry) in &self.routes {
            for (status, count) in STATUSES.iter().zip(entry.calls) {
                let _ = writeln!(
                    out,
                    "llm_proxy_calls_total{{{},status=\"{}\"}} {count}",
                    route.labels(),
                    status.as_str()
                );
            }
        }
        header(
            &mut out,
            "call_errors_total",
            "counter",
            "Failed calls, by config, group and error code.",
        );
        for ((route, code), count) in &self.errors {
            let _ = writeln!(
                out,
                "llm_proxy_call_errors_total{{{},code=\"{}\"}} {count}",
                route.labels(),
                escape(code)
            );
        }
        header(
            &mut out,
            "tokens_total",
            "counter",
            "Tokens used, by config, group and kind (prompt, completion).",
        );
        for (route, entry) in &self.routes {
            for (kind, count) in [
                ("prompt", entry.prompt_tokens),
                ("completion", entry.completion_tokens),
            ] {
                let _ = writeln!(
                    out,
                    "llm_proxy_tokens_total{{{},kind=\"{kind}\"}} {count}",
                    route.labels()
                );
            }
        }
        header(
            &mut out,
            "cost_total",
            "counter",
            "Cost of calls, by config, group and the config's currency.",
        );
        for ((route, currency), cost) in &self.cost {
            let _ = writeln!(
                out,
                "llm_proxy_cost_total{{{},currency=\"{}\"}} {cost}",
                route.labels(),
                escape(currency)
            );
        }
        header(
            &mut out,
            "upstream_attempts_total",
            "counter",
            "Upstream attempts of recorded calls (first tries, retries and configs fallen back from), by config and group.",
        );
        for (route, entry) in &self.routes {
            let _ = writeln!(
                out,
                "llm_proxy_upstream_attempts_total{{{}}} {}",
                route.labels(),
                entry.upstream_attempts
            );
        }
        header(
            &mut out,
            "call_duration_seconds",
            "histogram",
            "Call durations, by config and group.",
        );
        for (route, entry) in &self.routes {
            entry
                .latency
                .render(&mut out, "llm_proxy_call_duration_seconds", &route.labels());
        }
        header(
            &mut out,
            "quota_refusals_total",
            "counter",
            "Calls refused before going upstream, by code (rate limit, token quota, money budget).",
        );
        for (code, count) in &self.refusals {
            let _ = writeln!(
                out,
                "llm_proxy_quota_refusals_total{{code=\"{code}\"}} {count}"
            );
        }
        header(
            &mut out,
            "record_batch_size",
            "histogram",
            "Call records per write transaction of the record writer.",
        );
        self.batch_sizes
            .render(&mut out, "llm_proxy_record_batch_size", "");
        header(
            &mut out,
            "record_lag_seconds",
            "histogram",
            "Seconds from a call record's hand-over to its commit.",
        );
        self.record_lag
            .render(&mut out, "llm_proxy_record_lag_seconds", "");
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(
        out,
        "# HELP llm_proxy_{name} {help}\n# TYPE llm_proxy_{name} {kind}"
    );
}

/// A label value with `\`, `"` and newlines escaped, as the text format requires.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

struct Histogram {
    bounds: &'static [f64],
    /// Per bound, observations ≤ it (not cumulative; summed when rendered).
    counts: Vec<u64>,
    count: u64,
    sum: f64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: vec![0; bounds.len()],
            count: 0,
            sum: 0.0,
        }
    }

    fn observe(&mut self, value: f64) {
        if let Some(index) = self.bounds.iter().position(|bound| value <= *bound) {
            self.counts[index] += 1;
        }
        self.count += 1;
        self.sum += value;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let comma = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            cumulative += count;
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{comma}le=\"{bound}\"}} {cumulative}"
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{comma}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = |labels: &str| match labels {
            "" => String::new(),
            labels => format!("{{{labels}}}"),
        };
        let _ = writeln!(out, "{name}_sum{} {}", braces(labels), self.sum);
        let _ = writeln!(out, "{name}_count{} {}", braces(labels), self.count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_counts_nothing_and_renders_nothing() {
        let metrics = Metrics::new(false);
        metrics.refused("RATE_LIMITED");
        assert!(metrics.render().is_none());
    }

    #[test]
    fn histograms_are_cumulative_with_sum_and_count() {
        let mut histogram = Histogram::new(&[1.0, 2.0]);
        for value in [0.5, 1.5, 1.5, 9.0] {
            histogram.observe(value);
        }
        let mut out = String::new();
        histogram.render(&mut out, "x", "a=\"1\"");
        assert_eq!(
            out,
            "x_bucket{a=\"1\",le=\"1\"} 1\nx_bucket{a=\"1\",le=\"2\"} 3\n\
             x_bucket{a=\"1\",le=\"+Inf\"} 4\nx_sum{a=\"1\"} 12.5\nx_count{a=\"1\"} 4\n"
        );
    }
}
