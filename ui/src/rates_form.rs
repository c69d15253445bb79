//! The exchange-rate table as typed (settings page) and the body of
//! `PUT /api/admin/settings/exchange-rates`: every rate says what one unit of a currency is
//! worth in the base currency (CNY), and the table replaces the stored one as a whole.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::format::plain_number;

/// The server's base currency: it has no rate of its own.
pub const BASE: &str = "CNY";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateRow {
    pub currency: String,
    pub rate: String,
}

/// A row's mistake: its index and the i18n key of the message.
pub type RowError = (usize, &'static str);

pub fn rows_of(rates: &BTreeMap<String, f64>) -> Vec<RateRow> {
    rates
        .iter()
        .map(|(currency, rate)| RateRow {
            currency: currency.clone(),
            rate: plain_number(*rate),
        })
        .collect()
}

/// The body, or every row's first mistake. Rows left wholly empty are dropped.
pub fn to_body(rows: &[RateRow]) -> Result<Value, Vec<RowError>> {
    let mut rates = BTreeMap::new();
    let mut errors = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        let code = row.currency.trim().to_uppercase();
        if code.is_empty() && row.rate.trim().is_empty() {
            continue;
        }
        let rate = row.rate.trim().parse::<f64>().ok();
        let problem =
            if !((3..=8).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_uppercase())) {
                Some("rates.bad_code")
            } else if code == BASE {
                Some("rates.base_code")
            } else if rates.contains_key(&code) {
                Some("rates.repeated")
            } else if !rate.is_some_and(|r| r.is_finite() && r > 0.0 && r < 1e6) {
                Some("rates.bad_rate")
            } else {
                None
            };
        match (problem, rate) {
            (Some(key), _) => errors.push((index, key)),
            (None, Some(rate)) => {
                rates.insert(code, rate);
            }
            (None, None) => {}
        }
    }
    if errors.is_empty() {
        // `base` is the server's to say (read-only): only the rates are sent.
        Ok(json!({ "rates": rates }))
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(currency: &str, rate: &str) -> RateRow {
        RateRow {
            currency: currency.into(),
            rate: rate.into(),
        }
    }

    #[test]
    fn sends_the_whole_table_with_codes_in_capitals() {
        let body = to_body(&[row(" usd ", "7.1"), row("", " "), row("EUR", "7.75")]);
        assert_eq!(body, Ok(json!({"rates": {"USD": 7.1, "EUR": 7.75}})));
        assert_eq!(to_body(&[]), Ok(json!({"rates": {}})));
    }

    #[test]
    fn marks_each_bad_row() {
        let errors = to_body(&[
            row("US", "7"),
            row("CNY", "1"),
            row("USD", "7"),
            row("usd", "7.2"),
            row("JPY", "0"),
            row("EUR", "x"),
        ]);
        assert_eq!(
            errors,
            Err(vec![
                (0, "rates.bad_code"),
                (1, "rates.base_code"),
                (3, "rates.repeated"),
                (4, "rates.bad_rate"),
                (5, "rates.bad_rate"),
            ])
        );
    }

    #[test]
    fn reads_the_stored_rates() {
        let stored = BTreeMap::from([("USD".to_string(), 7.1), ("JPY".to_string(), 0.048)]);
        assert_eq!(
            rows_of(&stored),
            vec![row("JPY", "0.048"), row("USD", "7.1")]
        );
    }
}
