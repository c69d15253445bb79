//! The group dialog's values and the body they become. On update a limit that was set and
//! is now left empty is sent in `clear_limits` (back to unlimited / the default).

use serde_json::{Map, Value, json};

use crate::api::models::GroupView;
use crate::forms::{self, Checks, FieldError};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupForm {
    pub name: String,
    pub description: String,
    pub daily_token_limit: String,
    pub monthly_token_limit: String,
    pub requests_per_minute: String,
    pub daily_cost_limit: String,
    pub monthly_cost_limit: String,
    /// Empty on a new group: the server's default (CNY).
    pub cost_currency: String,
}

const LIMIT_MAX: i64 = i32::MAX as i64 * 1000;
const BUDGET_MAX: f64 = 1e12;

impl GroupForm {
    pub fn from_view(view: &GroupView) -> Self {
        let text = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        let money = |v: Option<f64>| v.map(crate::format::plain_number).unwrap_or_default();
        Self {
            name: view.name.clone(),
            description: view.description.clone().unwrap_or_default(),
            daily_token_limit: text(view.daily_token_limit),
            monthly_token_limit: text(view.monthly_token_limit),
            requests_per_minute: text(view.requests_per_minute),
            daily_cost_limit: money(view.daily_cost_limit),
            monthly_cost_limit: money(view.monthly_cost_limit),
            cost_currency: view.cost_currency.clone(),
        }
    }

    /// The request body, or every mistake at once.
    pub fn to_body(&self, original: Option<&GroupView>) -> Result<Value, Vec<FieldError>> {
        let mut body = Map::new();
        let mut checks = Checks::default();
        if let Some(name) = checks.check(forms::required("name", "group.name", &self.name)) {
            body.insert("name".into(), json!(name));
        }
        body.insert("description".into(), json!(self.description.trim()));
        let limits = [
            (
                "daily_token_limit",
                "group.daily_limit",
                &self.daily_token_limit,
                LIMIT_MAX,
                original.and_then(|g| g.daily_token_limit),
            ),
            (
                "monthly_token_limit",
                "group.monthly_limit",
                &self.monthly_token_limit,
                LIMIT_MAX,
                original.and_then(|g| g.monthly_token_limit),
            ),
            (
                "requests_per_minute",
                "group.rpm",
                &self.requests_per_minute,
                1_000_000,
                original.and_then(|g| g.requests_per_minute),
            ),
        ];
        let mut cleared = Vec::new();
        for (field, label, value, max, before) in limits {
            match checks.check(forms::optional_count(field, label, value, max)) {
                Some(Some(limit)) => {
                    body.insert(field.into(), json!(limit));
                }
                Some(None) if before.is_some() => cleared.push(field),
                _ => {}
            }
        }
        let budgets = [
            (
                "daily_cost_limit",
                "group.daily_cost_limit",
                &self.daily_cost_limit,
                original.and_then(|g| g.daily_cost_limit),
            ),
            (
                "monthly_cost_limit",
                "group.monthly_cost_limit",
                &self.monthly_cost_limit,
                original.and_then(|g| g.monthly_cost_limit),
            ),
        ];
        for (field, label, value, before) in budgets {
            if value.trim().is_empty() {
                if before.is_some() {
                    cleared.push(field);
                }
            } else if let Some(budget) =
                checks.check(forms::float_in(field, label, value, 0.0, BUDGET_MAX))
            {
                body.insert(field.into(), json!(budget));
            }
        }
        let currency = self.cost_currency.trim().to_uppercase();
        if !currency.is_empty() {
            body.insert("cost_currency".into(), json!(currency));
        }
        if !cleared.is_empty() {
            body.insert("clear_limits".into(), json!(cleared));
        }
        checks.finish(Value::Object(body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_with_optional_limits() {
        let form = GroupForm {
            name: "默认分组".into(),
            daily_token_limit: "100000".into(),
            ..GroupForm::default()
        };
        let body = form.to_body(None).unwrap_or_default();
        assert_eq!(body["name"], "默认分组");
        assert_eq!(body["daily_token_limit"], 100000);
        assert!(body.get("monthly_token_limit").is_none());
        assert!(body.get("clear_limits").is_none());
    }

    #[test]
    fn clears_limits_that_were_emptied() {
        let view = GroupView {
            name: "g".into(),
            daily_token_limit: Some(5),
            requests_per_minute: Some(60),
            ..GroupView::default()
        };
        let mut form = GroupForm::from_view(&view);
        assert_eq!(form.requests_per_minute, "60");
        form.daily_token_limit.clear();
        let body = form.to_body(Some(&view)).unwrap_or_default();
        assert_eq!(body["clear_limits"], json!(["daily_token_limit"]));
        assert_eq!(body["requests_per_minute"], 60);
    }

    #[test]
    fn money_budgets_are_sent_cleared_and_checked() {
        let form = GroupForm {
            name: "g".into(),
            daily_cost_limit: "12.5".into(),
            cost_currency: " usd ".into(),
            ..GroupForm::default()
        };
        let body = form.to_body(None).unwrap_or_default();
        assert_eq!(body["daily_cost_limit"], 12.5);
        assert_eq!(body["cost_currency"], "USD");
        assert!(body.get("monthly_cost_limit").is_none());
        let view = GroupView {
            name: "g".into(),
            monthly_cost_limit: Some(300.0),
            cost_currency: "CNY".into(),
            ..GroupView::default()
        };
        let mut form = GroupForm::from_view(&view);
        assert_eq!(form.monthly_cost_limit, "300");
        form.monthly_cost_limit.clear();
        let body = form.to_body(Some(&view)).unwrap_or_default();
        assert_eq!(body["clear_limits"], json!(["monthly_cost_limit"]));
        form.daily_cost_limit = "-1".into();
        assert_eq!(
            form.to_body(Some(&view)).map_err(|e| e[0].field),
            Err("daily_cost_limit")
        );
    }

    #[test]
    fn rejects_bad_numbers() {
        let form = GroupForm {
            name: "g".into(),
            requests_per_minute: "-3".into(),
            ..GroupForm::default()
        };
        assert_eq!(
            form.to_body(None).map_err(|e| e[0].field),
            Err("requests_per_minute")
        );
        let form = GroupForm::default();
        assert_eq!(form.to_body(None).map_err(|e| e[0].field), Err("name"));
    }
}
