//! `/api/admin/settings`: the exchange rates money budgets convert prices at.

use std::collections::BTreeMap;

use poem::web::Data;
use poem_openapi::{Object, OpenApi, payload::Json};

use crate::{
    api::{
        ApiTags,
        envelope::{Reply, ok},
    },
    auth::AdminAuth,
    error::{AppError, AppResult},
    quotas::money::{self, Rates},
    state::AppState,
};

/// How much one unit of each currency is worth in `base` (CNY), e.g. `{"USD": 7.1}`.
#[derive(Debug, Object)]
pub struct ExchangeRates {
    /// Always `CNY`: every rate is quoted in it.
    #[oai(read_only)]
    pub base: String,
    pub rates: BTreeMap<String, f64>,
}

pub struct SettingsApi;

#[OpenApi(prefix_path = "/admin/settings", tag = "ApiTags::AdminSettings")]
impl SettingsApi {
    /// 获取汇率（费用预算换算用）
    #[oai(
        path = "/exchange-rates",
        method = "get",
        operation_id = "admin_get_exchange_rates"
    )]
    async fn rates(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
    ) -> AppResult<Reply<ExchangeRates>> {
        Ok(ok(view(money::rates(&state.db).await?)))
    }

    /// 设置汇率：一单位外币值多少人民币（整体替换）
    #[oai(
        path = "/exchange-rates",
        method = "put",
        operation_id = "admin_set_exchange_rates"
    )]
    async fn set_rates(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        body: Json<ExchangeRates>,
    ) -> AppResult<Reply<ExchangeRates>> {
        let mut rates = BTreeMap::new();
        for (currency, rate) in body.0.rates {
            let code = currency.trim().to_uppercase();
            let valid_code =
                (3..=8).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_uppercase());
            if !valid_code || code == money::BASE {
                return Err(AppError::validation(
                    "rates",
                    format!("币种代码无效：{currency}"),
                ));
            }
            if !(rate.is_finite() && rate > 0.0 && rate < 1e6) {
                return Err(AppError::validation(
                    "rates",
                    format!("{code} 的汇率必须大于 0"),
                ));
            }
            rates.insert(code, rate);
        }
        let rates = Rates(rates);
        money::set_rates(&state.db, &rates).await?;
        tracing::info!(currencies = rates.0.len(), "exchange rates updated");
        Ok(ok(view(rates)))
    }
}

fn view(rates: Rates) -> ExchangeRates {
    ExchangeRates {
        base: money::BASE.into(),
        rates: rates.0,
    }
}
