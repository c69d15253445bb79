//! Money budgets: the admin's exchange rates and what a call costs in its group's currency.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{
    db::{self, Db},
    error::{AppError, AppResult},
};

/// Where the rates are kept (`app_settings`).
pub const RATES_KEY: &str = "exchange_rates";
/// The currency every rate is quoted in.
pub const BASE: &str = "CNY";

/// How much one unit of each currency is worth in [`BASE`] (e.g. `USD → 7.1`); `CNY` is 1.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Rates(pub BTreeMap<String, f64>);

impl Rates {
    fn in_base(&self, currency: &str) -> Option<f64> {
        if currency.eq_ignore_ascii_case(BASE) {
            return Some(1.0);
        }
        self.0
            .get(&currency.to_uppercase())
            .copied()
            .filter(|rate| *rate > 0.0)
    }

    /// The factor that turns an amount in `from` into `to`.
    pub fn factor(&self, from: &str, to: &str) -> Option<f64> {
        if from.eq_ignore_ascii_case(to) {
            return Some(1.0);
        }
        Some(self.in_base(from)? / self.in_base(to)?)
    }
}

pub async fn rates(db: &Db) -> AppResult<Rates> {
    match db::app_settings::get(&db.read, RATES_KEY).await? {
        None => Ok(Rates::default()),
        Some(stored) => serde_json::from_str(&stored)
            .map_err(|err| AppError::Internal(format!("stored exchange rates: {err}"))),
    }
}

pub async fn set_rates(db: &Db, rates: &Rates) -> AppResult<()> {
    let stored = serde_json::to_string(rates)
        .map_err(|err| AppError::Internal(format!("exchange rates: {err}")))?;
    Ok(db::app_settings::put(&db.write, RATES_KEY, &stored).await?)
}

/// A group's budget currency and the rates a call's costs convert at.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    pub currency: String,
    pub rates: Rates,
}

impl Budget {
    /// `amount` in `currency` as the group's money, and the factor used.
    pub fn convert(&self, amount: f64, currency: &str) -> Option<(f64, f64)> {
        let factor = self.rates.factor(currency, &self.currency)?;
        Some((amount * factor, factor))
    }

    /// Like [`Self::convert`], refusing a currency without a rate (a budget cannot count it).
    pub fn require(&self, amount: f64, currency: &str) -> AppResult<f64> {
        self.convert(amount, currency)
            .map(|(converted, _)| converted)
            .ok_or_else(|| {
                AppError::Unavailable(format!(
                    "缺少 {currency} 到 {} 的汇率，请管理员在系统设置中填写",
                    self.currency
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_through_the_base_currency() {
        let rates = Rates(BTreeMap::from([("USD".into(), 7.0), ("EUR".into(), 8.0)]));
        assert_eq!(rates.factor("USD", "CNY"), Some(7.0));
        assert_eq!(rates.factor("cny", "CNY"), Some(1.0));
        assert_eq!(rates.factor("USD", "EUR"), Some(7.0 / 8.0));
        assert_eq!(rates.factor("JPY", "CNY"), None);
        let budget = Budget {
            currency: "CNY".into(),
            rates,
        };
        assert_eq!(budget.convert(2.0, "USD"), Some((14.0, 7.0)));
        assert!(budget.require(1.0, "JPY").is_err());
    }
}
