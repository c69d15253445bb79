//! The group dialog's values and the body they become. On update a limit that was set and
//! is now left empty is sent in `clear_limits` (back to unlimited / the default); the same
//! goes for a config list given up for 「全部已启用的配置」.

use serde_json::{Map, Value, json};

use crate::api::models::{ConfigView, GroupView};
use crate::forms::{self, Checks, FieldError};
use crate::i18n::Tr;

#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// 「全部已启用的配置」 (`config_ids` null); otherwise only `config_ids`.
    pub all_configs: bool,
    /// Kept sorted, so ticking and unticking the same box leaves the form clean.
    pub config_ids: Vec<i32>,
}

impl Default for GroupForm {
    fn default() -> Self {
        Self {
            name: String::new(),
            description: String::new(),
            daily_token_limit: String::new(),
            monthly_token_limit: String::new(),
            requests_per_minute: String::new(),
            daily_cost_limit: String::new(),
            monthly_cost_limit: String::new(),
            cost_currency: String::new(),
            all_configs: true,
            config_ids: Vec::new(),
        }
    }
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
            all_configs: view.config_ids.is_none(),
            config_ids: sorted(view.config_ids.clone().unwrap_or_default()),
        }
    }

    /// Ticks or unticks one config of the list.
    pub fn toggle_config(&mut self, id: i32, on: bool) {
        self.config_ids.retain(|c| *c != id);
        if on {
            self.config_ids.push(id);
            self.config_ids.sort_unstable();
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
        if self.all_configs {
            if original.is_some_and(|g| g.config_ids.is_some()) {
                cleared.push("config_ids");
            }
        } else if self.config_ids.is_empty() {
            // A group allowed nothing is a mistake more often than a wish.
            checks.fail(FieldError::new(
                "config_ids",
                "group.access",
                "group.access_none",
            ));
        } else {
            body.insert("config_ids".into(), json!(self.config_ids));
        }
        if !cleared.is_empty() {
            body.insert("clear_limits".into(), json!(cleared));
        }
        checks.finish(Value::Object(body))
    }
}

fn sorted(mut ids: Vec<i32>) -> Vec<i32> {
    ids.sort_unstable();
    ids
}

/// What the group may use, for the list: 「全部」 or the configs' names (an id without a
/// config, deleted meanwhile, shows as `#id`).
pub fn access_text(config_ids: Option<&[i32]>, configs: &[ConfigView], tr: Tr) -> String {
    let Some(ids) = config_ids else {
        return tr.t("group.access_all_short").into();
    };
    if ids.is_empty() {
        return tr.t("group.access_nothing").into();
    }
    ids.iter()
        .map(|id| {
            configs
                .iter()
                .find(|c| c.id == *id)
                .map(|c| c.name.clone())
                .unwrap_or_else(|| format!("#{id}"))
        })
        .collect::<Vec<_>>()
        .join("、")
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
    fn config_access_is_sent_cleared_and_checked() {
        let mut form = GroupForm {
            name: "g".into(),
            ..GroupForm::default()
        };
        assert!(
            form.to_body(None)
                .unwrap_or_default()
                .get("config_ids")
                .is_none()
        );
        form.all_configs = false;
        assert_eq!(
            form.to_body(None).map_err(|e| (e[0].field, e[0].key)),
            Err(("config_ids", "group.access_none"))
        );
        form.toggle_config(7, true);
        form.toggle_config(3, true);
        form.toggle_config(9, true);
        form.toggle_config(9, false);
        assert_eq!(
            form.to_body(None).unwrap_or_default()["config_ids"],
            json!([3, 7])
        );
        let view = GroupView {
            name: "g".into(),
            config_ids: Some(vec![7, 3]),
            ..GroupView::default()
        };
        let mut form = GroupForm::from_view(&view);
        assert!(!form.all_configs);
        assert_eq!(form.config_ids, vec![3, 7]);
        form.all_configs = true;
        let body = form.to_body(Some(&view)).unwrap_or_default();
        assert_eq!(body["clear_limits"], json!(["config_ids"]));
        assert!(body.get("config_ids").is_none());
    }

    #[test]
    fn access_reads_as_all_or_names() {
        use crate::i18n::Lang;
        let tr = Tr(Lang::Zh);
        let configs = [
            ConfigView {
                id: 1,
                name: "客服".into(),
                ..ConfigView::default()
            },
            ConfigView {
                id: 2,
                name: "翻译".into(),
                ..ConfigView::default()
            },
        ];
        assert_eq!(access_text(None, &configs, tr), "全部");
        assert_eq!(
            access_text(Some(&[2, 1, 5]), &configs, tr),
            "翻译、客服、#5"
        );
        assert_eq!(access_text(Some(&[]), &configs, tr), "无");
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
