//! Number, duration, percentage and money formatting for tables and cards.

use crate::api::models::Money;

/// `1234567` → `1,234,567`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Short form for cards: `9,999`, `125.3K`, `1.23M`, `4.5B`.
pub fn compact(n: i64) -> String {
    let abs = n.unsigned_abs() as f64;
    let sign = if n < 0 { "-" } else { "" };
    let (value, unit) = if abs < 10_000.0 {
        return thousands(n);
    } else if abs < 1_000_000.0 {
        (abs / 1_000.0, "K")
    } else if abs < 1_000_000_000.0 {
        (abs / 1_000_000.0, "M")
    } else {
        (abs / 1_000_000_000.0, "B")
    };
    let text = if value < 100.0 {
        trim_zeros(&format!("{value:.2}"))
    } else {
        trim_zeros(&format!("{value:.1}"))
    };
    format!("{sign}{text}{unit}")
}

/// Milliseconds for people: `850ms`, `1.2s`, `2m05s`.
pub fn duration_ms(ms: f64) -> String {
    if !ms.is_finite() || ms < 0.0 {
        return "-".into();
    }
    if ms < 1000.0 {
        return format!("{}ms", ms.round() as i64);
    }
    let seconds = ms / 1000.0;
    if seconds < 60.0 {
        return format!("{}s", trim_zeros(&format!("{seconds:.1}")));
    }
    let total = seconds.round() as i64;
    format!("{}m{:02}s", total / 60, total % 60)
}

/// A rate in 0..=1 as a percentage with at most one decimal: `0.985` → `98.5%`.
pub fn percent(rate: f64) -> String {
    if !rate.is_finite() {
        return "-".into();
    }
    format!("{}%", trim_zeros(&format!("{:.1}", rate * 100.0)))
}

/// Money: two decimals, more when the amount is small (`0.000123`), never scientific.
pub fn cost(value: f64) -> String {
    if !value.is_finite() {
        return "-".into();
    }
    if value == 0.0 {
        return "0.00".into();
    }
    let abs = value.abs();
    let text = if abs >= 1.0 {
        format!("{value:.2}")
    } else if abs >= 0.01 {
        let text = trim_zeros(&format!("{value:.4}"));
        pad_two_decimals(text)
    } else {
        trim_zeros(&format!("{value:.6}"))
    };
    if text == "0" || text == "-0" {
        return "0.00".into();
    }
    text
}

/// The sign of a well-known currency.
fn symbol(currency: &str) -> Option<&'static str> {
    Some(match currency {
        "CNY" | "RMB" => "¥",
        "USD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "HKD" => "HK$",
        _ => return None,
    })
}

/// An amount with its currency: `¥1.91`, `$0.145`, `12.00 JPY`.
pub fn money(amount: f64, currency: &str) -> String {
    match symbol(currency) {
        Some(sign) if amount < 0.0 => format!("-{sign}{}", cost(-amount)),
        Some(sign) => format!("{sign}{}", cost(amount)),
        None if currency.is_empty() => cost(amount),
        None => format!("{} {currency}", cost(amount)),
    }
}

/// Amounts in several currencies, each with its own sign, never added: `¥1.91 + $0.145`.
pub fn moneys(costs: &[Money]) -> String {
    if costs.is_empty() {
        return cost(0.0);
    }
    costs
        .iter()
        .map(|m| money(m.amount, &m.currency))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// A price per million tokens as typed in the form (no forced decimals).
pub fn plain_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        trim_zeros(&format!("{value:.6}"))
    }
}

fn pad_two_decimals(text: String) -> String {
    match text.split_once('.') {
        None => format!("{text}.00"),
        Some((_, frac)) if frac.len() < 2 => format!("{text}0"),
        Some(_) => text,
    }
}

fn trim_zeros(text: &str) -> String {
    if !text.contains('.') {
        return text.to_string();
    }
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A name, else `#id` for a real id (> 0), else `none`.
pub fn name_or_id(name: Option<&str>, id: Option<i32>, none: &str) -> String {
    match (
        name.map(str::trim).filter(|n| !n.is_empty()),
        id.filter(|id| *id > 0),
    ) {
        (Some(name), _) => name.to_string(),
        (None, Some(id)) => format!("#{id}"),
        (None, None) => none.to_string(),
    }
}

/// An optional count, with `-` for none.
pub fn opt_thousands(n: Option<i64>) -> String {
    n.map(thousands).unwrap_or_else(|| "-".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_keeps_its_currency() {
        assert_eq!(money(1.91, "CNY"), "¥1.91");
        assert_eq!(money(0.145, "USD"), "$0.145");
        assert_eq!(money(12.0, "JPY"), "12.00 JPY");
        let both = [
            Money {
                currency: "CNY".into(),
                amount: 1.91,
            },
            Money {
                currency: "USD".into(),
                amount: 0.145,
            },
        ];
        assert_eq!(moneys(&both), "¥1.91 + $0.145");
        assert_eq!(moneys(&[]), "0.00");
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(-1234), "-1,234");
        assert_eq!(thousands(i64::MIN), "-9,223,372,036,854,775,808");
        assert_eq!(opt_thousands(None), "-");
        assert_eq!(name_or_id(Some("GPT-4"), Some(1), "-"), "GPT-4");
        assert_eq!(name_or_id(Some(" "), Some(3), "-"), "#3");
        assert_eq!(name_or_id(None, Some(0), "未分组"), "未分组");
        assert_eq!(name_or_id(Some(""), None, "-"), "-");
    }

    #[test]
    fn compacts_large_numbers() {
        assert_eq!(compact(1234), "1,234");
        assert_eq!(compact(125_000), "125K");
        assert_eq!(compact(125_340), "125.3K");
        assert_eq!(compact(12_345), "12.35K");
        assert_eq!(compact(1_230_000), "1.23M");
        assert_eq!(compact(4_500_000_000), "4.5B");
        assert_eq!(compact(-20_000), "-20K");
    }

    #[test]
    fn formats_durations() {
        assert_eq!(duration_ms(0.0), "0ms");
        assert_eq!(duration_ms(850.4), "850ms");
        assert_eq!(duration_ms(1200.0), "1.2s");
        assert_eq!(duration_ms(1000.0), "1s");
        assert_eq!(duration_ms(59_940.0), "59.9s");
        assert_eq!(duration_ms(125_000.0), "2m05s");
        assert_eq!(duration_ms(f64::NAN), "-");
    }

    #[test]
    fn formats_percentages() {
        assert_eq!(percent(0.985), "98.5%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(0.33333), "33.3%");
        assert_eq!(percent(f64::INFINITY), "-");
    }

    #[test]
    fn formats_costs() {
        assert_eq!(cost(0.0), "0.00");
        assert_eq!(cost(12.5), "12.50");
        assert_eq!(cost(1234.567), "1234.57");
        assert_eq!(cost(0.1), "0.10");
        assert_eq!(cost(0.1234), "0.1234");
        assert_eq!(cost(0.000123), "0.000123");
        assert_eq!(cost(0.0000001), "0.00");
        assert_eq!(plain_number(2.0), "2");
        assert_eq!(plain_number(0.15), "0.15");
    }
}
