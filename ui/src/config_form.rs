//! The model-config dialog's values as typed, and the JSON body they become.
//! The stored keys are never known here: on update `api_key` is sent only when retyped, and
//! then its lines replace every stored key.

use serde_json::{Map, Value, json};

use crate::api::models::ConfigView;
use crate::format::plain_number;
use crate::forms::{self, Checks, FieldError};
use crate::providers;

#[derive(Debug, Clone, PartialEq)]
pub struct ConfigForm {
    pub name: String,
    pub provider: String,
    pub api_url: String,
    /// Newly typed keys, one per line; empty keeps the stored ones.
    pub api_key: String,
    pub model: String,
    pub max_tokens: String,
    pub temperature: String,
    pub top_p: String,
    pub frequency_penalty: String,
    pub presence_penalty: String,
    /// Reasoning models refuse sampling parameters: the defaults above are then not sent.
    pub reasoning_model: bool,
    pub system_prompt: String,
    pub timeout_seconds: String,
    pub max_retries: String,
    pub input_price: String,
    pub output_price: String,
    pub currency: String,
    pub is_active: bool,
    /// Tried in this order when the config fails before answering.
    pub fallback_config_ids: Vec<i32>,
    /// Failures in a row that open the circuit; empty = no breaker.
    pub breaker_threshold: String,
    pub breaker_cooldown_seconds: String,
}

/// Slider bounds and steps: (field, min, max, step).
pub const MAX_TOKENS: (f64, f64, f64) = (1.0, 32000.0, 1.0);
pub const TEMPERATURE: (f64, f64, f64) = (0.0, 2.0, 0.01);
pub const TOP_P: (f64, f64, f64) = (0.0, 1.0, 0.01);
pub const PENALTY: (f64, f64, f64) = (-2.0, 2.0, 0.01);
/// Prices per million tokens (no slider: the bounds only).
const PRICE: (f64, f64, f64) = (0.0, 1_000_000.0, 0.0001);

impl Default for ConfigForm {
    /// The requirements' defaults, for a new config.
    fn default() -> Self {
        Self {
            name: String::new(),
            provider: "openai".into(),
            api_url: providers::url_after_change("openai", ""),
            api_key: String::new(),
            model: String::new(),
            max_tokens: "2000".into(),
            temperature: "0.7".into(),
            top_p: "1".into(),
            frequency_penalty: "0".into(),
            presence_penalty: "0".into(),
            reasoning_model: false,
            system_prompt: String::new(),
            timeout_seconds: "30".into(),
            max_retries: "3".into(),
            input_price: "0".into(),
            output_price: "0".into(),
            currency: "CNY".into(),
            is_active: true,
            fallback_config_ids: Vec::new(),
            breaker_threshold: String::new(),
            breaker_cooldown_seconds: "60".into(),
        }
    }
}

impl ConfigForm {
    pub fn from_view(view: &ConfigView) -> Self {
        Self {
            name: view.name.clone(),
            provider: view.provider.clone(),
            api_url: view.api_url.clone(),
            api_key: String::new(),
            model: view.model.clone(),
            max_tokens: view.max_tokens.to_string(),
            temperature: plain_number(view.temperature),
            top_p: plain_number(view.top_p),
            frequency_penalty: plain_number(view.frequency_penalty),
            presence_penalty: plain_number(view.presence_penalty),
            reasoning_model: view.reasoning_model,
            system_prompt: view.system_prompt.clone().unwrap_or_default(),
            timeout_seconds: view.timeout_seconds.to_string(),
            max_retries: view.max_retries.to_string(),
            input_price: plain_number(view.input_price),
            output_price: plain_number(view.output_price),
            currency: view.currency.clone(),
            is_active: view.is_active,
            fallback_config_ids: view.fallback_config_ids.clone(),
            breaker_threshold: view
                .breaker_threshold
                .map(|n| n.to_string())
                .unwrap_or_default(),
            breaker_cooldown_seconds: view.breaker_cooldown_seconds.to_string(),
        }
    }

    /// Switches the provider and pre-fills its default URL (a typed URL is kept).
    pub fn set_provider(&mut self, provider: &str) {
        self.api_url = providers::url_after_change(provider, &self.api_url);
        self.provider = provider.to_string();
    }

    /// The body of `POST` (creating, `has_key = false`) or `PUT` (editing), or every plain
    /// mistake at once (in form order), so the form marks them all.
    /// Editing with the key left empty omits `api_key`, so the stored key stays.
    pub fn to_body(&self, editing: bool) -> Result<Value, Vec<FieldError>> {
        let mut body = Map::new();
        let mut checks = Checks::default();
        if let Some(name) = checks.check(forms::required("name", "config.name", &self.name)) {
            body.insert("name".into(), json!(name));
        }
        body.insert("provider".into(), json!(self.provider));
        let url = self.api_url.trim();
        if url.is_empty() {
            if self.provider == "custom" || editing {
                checks.fail(FieldError::new(
                    "api_url",
                    "config.api_url",
                    "form.required",
                ));
            }
        } else if !(url.starts_with("http://") || url.starts_with("https://")) {
            checks.fail(FieldError::new("api_url", "config.api_url", "form.url"));
        } else {
            body.insert("api_url".into(), json!(url));
        }
        // One key per line; the server ignores blank lines and checks each key's shape.
        let key = self.api_key.trim();
        if !key.is_empty() {
            body.insert("api_key".into(), json!(key));
        } else if !editing {
            checks.fail(FieldError::new(
                "api_key",
                "config.api_key",
                "form.required",
            ));
        }
        if let Some(model) = checks.check(forms::required("model", "config.model", &self.model)) {
            body.insert("model".into(), json!(model));
        }
        let (lo, hi, _) = MAX_TOKENS;
        let max_tokens = forms::int_in(
            "max_tokens",
            "config.max_tokens",
            &self.max_tokens,
            lo as i64,
            hi as i64,
        );
        if let Some(value) = checks.check(max_tokens) {
            body.insert("max_tokens".into(), json!(value));
        }
        let floats = [
            (
                "temperature",
                "config.temperature",
                &self.temperature,
                TEMPERATURE,
            ),
            ("top_p", "config.top_p", &self.top_p, TOP_P),
            (
                "frequency_penalty",
                "config.frequency_penalty",
                &self.frequency_penalty,
                PENALTY,
            ),
            (
                "presence_penalty",
                "config.presence_penalty",
                &self.presence_penalty,
                PENALTY,
            ),
            (
                "input_price",
                "config.input_price",
                &self.input_price,
                PRICE,
            ),
            (
                "output_price",
                "config.output_price",
                &self.output_price,
                PRICE,
            ),
        ];
        for (field, label, value, (lo, hi, _)) in floats {
            if let Some(value) = checks.check(forms::float_in(field, label, value, lo, hi)) {
                body.insert(field.into(), json!(value));
            }
        }
        body.insert("reasoning_model".into(), json!(self.reasoning_model));
        let prompt = self.system_prompt.trim();
        if editing || !prompt.is_empty() {
            // On update an empty prompt clears the stored one.
            body.insert("system_prompt".into(), json!(prompt));
        }
        let ints = [
            (
                "timeout_seconds",
                "config.timeout",
                &self.timeout_seconds,
                1,
                600,
            ),
            ("max_retries", "config.retries", &self.max_retries, 0, 10),
        ];
        for (field, label, value, lo, hi) in ints {
            if let Some(value) = checks.check(forms::int_in(field, label, value, lo, hi)) {
                body.insert(field.into(), json!(value));
            }
        }
        let currency = forms::required("currency", "config.currency", &self.currency);
        if let Some(currency) = checks.check(currency) {
            body.insert("currency".into(), json!(currency.to_uppercase()));
        }
        body.insert("is_active".into(), json!(self.is_active));
        if editing || !self.fallback_config_ids.is_empty() {
            // On update `[]` removes the fallbacks.
            body.insert(
                "fallback_config_ids".into(),
                json!(self.fallback_config_ids),
            );
        }
        let breaker = forms::optional_count(
            "breaker_threshold",
            "config.breaker_threshold",
            &self.breaker_threshold,
            100,
        );
        match checks.check(breaker) {
            Some(Some(n)) => {
                body.insert("breaker_threshold".into(), json!(n));
            }
            // 0 turns a stored breaker off.
            Some(None) if editing => {
                body.insert("breaker_threshold".into(), json!(0));
            }
            _ => {}
        }
        let cooldown = forms::int_in(
            "breaker_cooldown_seconds",
            "config.breaker_cooldown",
            &self.breaker_cooldown_seconds,
            1,
            3600,
        );
        if let Some(seconds) = checks.check(cooldown) {
            body.insert("breaker_cooldown_seconds".into(), json!(seconds));
        }
        checks.finish(Value::Object(body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled() -> ConfigForm {
        ConfigForm {
            name: " GPT-4配置 ".into(),
            api_key: "sk-test".into(),
            model: "gpt-4".into(),
            ..ConfigForm::default()
        }
    }

    #[test]
    fn every_mistake_is_reported_at_once() {
        let form = ConfigForm {
            temperature: "9".into(),
            max_retries: "x".into(),
            ..ConfigForm::default()
        };
        let fields: Vec<&str> = form
            .to_body(false)
            .err()
            .unwrap_or_default()
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            vec!["name", "api_key", "model", "temperature", "max_retries"]
        );
    }

    #[test]
    fn creates_with_every_field() {
        let body = filled().to_body(false).unwrap_or_default();
        assert_eq!(body["name"], "GPT-4配置");
        assert_eq!(body["provider"], "openai");
        assert_eq!(
            body["api_url"],
            "https://api.openai.com/v1/chat/completions"
        );
        assert_eq!(body["api_key"], "sk-test");
        assert_eq!(body["max_tokens"], 2000);
        assert_eq!(body["temperature"], 0.7);
        assert_eq!(body["timeout_seconds"], 30);
        assert_eq!(body["currency"], "CNY");
        assert_eq!(body["reasoning_model"], false);
        assert!(body.get("system_prompt").is_none());
    }

    #[test]
    fn a_new_config_needs_a_key_but_an_edit_keeps_the_stored_one() {
        let mut form = filled();
        form.api_key = "  ".into();
        assert_eq!(form.to_body(false).map_err(|e| e[0].field), Err("api_key"));
        let body = form.to_body(true).unwrap_or_default();
        assert!(body.get("api_key").is_none());
        assert_eq!(body["system_prompt"], "");
    }

    #[test]
    fn names_the_field_at_fault() {
        let mut form = filled();
        form.temperature = "2.5".into();
        assert_eq!(
            form.to_body(false).map_err(|e| e[0].field),
            Err("temperature")
        );
        let mut form = filled();
        form.max_tokens = "abc".into();
        assert_eq!(
            form.to_body(false).map_err(|e| e[0].field),
            Err("max_tokens")
        );
        let mut form = filled();
        form.set_provider("custom");
        assert_eq!(form.api_url, "");
        assert_eq!(form.to_body(false).map_err(|e| e[0].field), Err("api_url"));
        form.api_url = "ftp://x".into();
        assert_eq!(form.to_body(false).map_err(|e| e[0].key), Err("form.url"));
        let mut form = filled();
        form.timeout_seconds = "601".into();
        assert_eq!(
            form.to_body(false).map_err(|e| e[0].field),
            Err("timeout_seconds")
        );
    }

    #[test]
    fn several_keys_fallbacks_and_the_breaker() {
        let mut form = filled();
        form.api_key = " sk-one\n\nsk-two \n".into();
        form.fallback_config_ids = vec![4, 2];
        form.breaker_threshold = "5".into();
        let body = form.to_body(false).unwrap_or_default();
        assert_eq!(body["api_key"], "sk-one\n\nsk-two");
        assert_eq!(body["fallback_config_ids"], json!([4, 2]));
        assert_eq!(body["breaker_threshold"], 5);
        assert_eq!(body["breaker_cooldown_seconds"], 60);
        // A new config without them sends neither; an edit sends them emptied.
        let body = filled().to_body(false).unwrap_or_default();
        assert!(body.get("fallback_config_ids").is_none());
        assert!(body.get("breaker_threshold").is_none());
        let body = filled().to_body(true).unwrap_or_default();
        assert_eq!(body["fallback_config_ids"], json!([]));
        assert_eq!(body["breaker_threshold"], 0);
        let mut form = filled();
        form.breaker_threshold = "101".into();
        form.breaker_cooldown_seconds = "0".into();
        let fields: Vec<&str> = form
            .to_body(false)
            .err()
            .unwrap_or_default()
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            vec!["breaker_threshold", "breaker_cooldown_seconds"]
        );
    }

    #[test]
    fn round_trips_a_view() {
        let view = ConfigView {
            name: "c".into(),
            provider: "zhipu".into(),
            api_url: "https://x.example/v1".into(),
            model: "glm-4".into(),
            max_tokens: 1000,
            temperature: 0.25,
            top_p: 1.0,
            frequency_penalty: -0.5,
            timeout_seconds: 60,
            max_retries: 2,
            input_price: 1.5,
            currency: "usd".into(),
            system_prompt: Some("你好".into()),
            is_active: false,
            reasoning_model: true,
            fallback_config_ids: vec![3, 1],
            breaker_threshold: Some(4),
            breaker_cooldown_seconds: 90,
            ..ConfigView::default()
        };
        let form = ConfigForm::from_view(&view);
        assert_eq!(form.temperature, "0.25");
        assert_eq!(form.frequency_penalty, "-0.5");
        let body = form.to_body(true).unwrap_or_default();
        assert_eq!(body["temperature"], 0.25);
        assert_eq!(body["is_active"], false);
        assert_eq!(body["currency"], "USD");
        assert_eq!(body["system_prompt"], "你好");
        assert_eq!(body["reasoning_model"], true);
        assert_eq!(body["fallback_config_ids"], json!([3, 1]));
        assert_eq!(body["breaker_threshold"], 4);
        assert_eq!(body["breaker_cooldown_seconds"], 90);
    }
}
