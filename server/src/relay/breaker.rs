//! Per-config circuit breakers (optional, per instance): after `breaker_threshold`
//! consecutive failed calls a config is skipped for `breaker_cooldown_seconds`, so calls go
//! straight to its fallbacks instead of waiting on an upstream that is down. The first call
//! after the cool-down tries it again (and a failure opens it again at once).

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use entity::llm_configs;

#[derive(Debug, Default)]
pub struct Breakers {
    states: Mutex<HashMap<i32, State>>,
}

#[derive(Debug, Default, Clone, Copy)]
struct State {
    failures: u32,
    open_until: Option<(Instant, DateTime<Utc>)>,
}

impl Breakers {
    pub fn is_open(&self, config: &llm_configs::Model) -> bool {
        config.breaker_threshold.is_some() && self.open_until(config.id).is_some()
    }

    /// When the config's circuit closes again, while it is open.
    pub fn open_until(&self, config_id: i32) -> Option<DateTime<Utc>> {
        let states = self.lock();
        let (until, shown) = states.get(&config_id)?.open_until?;
        (until > Instant::now()).then_some(shown)
    }

    /// A call's result on `config`: a success closes the circuit, the threshold's failure in
    /// a row opens it.
    pub fn record(&self, config: &llm_configs::Model, succeeded: bool) {
        let Some(threshold) = config.breaker_threshold.filter(|n| *n > 0) else {
            return;
        };
        let mut states = self.lock();
        let state = states.entry(config.id).or_default();
        if succeeded {
            *state = State::default();
            return;
        }
        state.failures += 1;
        if state.failures >= threshold as u32 {
            let cooldown = Duration::from_secs(config.breaker_cooldown_seconds.max(1) as u64);
            let shown = Utc::now() + chrono::Duration::seconds(cooldown.as_secs() as i64);
            state.open_until = Some((Instant::now() + cooldown, shown));
            state.failures = 0;
            tracing::warn!(config_id = config.id, ?cooldown, "circuit opened");
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i32, State>> {
        self.states.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(threshold: Option<i32>) -> llm_configs::Model {
        llm_configs::Model {
            id: 1,
            name: "c".into(),
            provider: "openai".into(),
            api_url: String::new(),
            api_key: String::new(),
            model: "m".into(),
            max_tokens: 1,
            temperature: 0.0,
            top_p: 1.0,
            frequency_penalty: 0.0,
            presence_penalty: 0.0,
            reasoning_model: false,
            fallback_config_ids: None,
            breaker_threshold: threshold,
            breaker_cooldown_seconds: 60,
            system_prompt: None,
            timeout_seconds: 1,
            max_retries: 0,
            input_price: 0.0,
            output_price: 0.0,
            currency: "CNY".into(),
            is_active: true,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            created_by: None,
        }
    }

    #[test]
    fn opens_after_the_threshold_in_a_row_and_a_success_resets_the_count() {
        let breakers = Breakers::default();
        let guarded = config(Some(3));
        for _ in 0..2 {
            breakers.record(&guarded, false);
        }
        breakers.record(&guarded, true);
        breakers.record(&guarded, false);
        breakers.record(&guarded, false);
        assert!(!breakers.is_open(&guarded), "the success broke the run");
        breakers.record(&guarded, false);
        assert!(breakers.is_open(&guarded));
        assert!(breakers.open_until(1).is_some_and(|at| at > Utc::now()));

        let unguarded = config(None);
        let other = Breakers::default();
        for _ in 0..10 {
            other.record(&unguarded, false);
        }
        assert!(!other.is_open(&unguarded));
    }
}
