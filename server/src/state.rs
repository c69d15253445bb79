//! What every handler can reach: configuration, database, cipher, token keys, the relay.

use std::{ops::Deref, sync::Arc};

use crate::{
    alerts::Alerts,
    auth::{Tokens, VerifiedTokens, login_limiter::LoginLimiter},
    clock::Clock,
    config::Config,
    crypto::Cipher,
    db::Db,
    metrics::Metrics,
    providers::{Providers, http_client},
    quotas::{Quotas, lease::InstanceId},
    relay::{
        Observers, Relay,
        recorder::{Recorder, RecorderTask},
    },
};

#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub config: Config,
    pub db: Db,
    pub cipher: Cipher,
    pub tokens: Tokens,
    /// Callers verified in the last moment.
    pub verified: Arc<VerifiedTokens>,
    pub login_limiter: LoginLimiter,
    pub relay: Arc<Relay>,
    pub quotas: Arc<Quotas>,
    pub alerts: Alerts,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    /// Builds the state and starts the call-record writer; finish the returned task after
    /// the server stopped so no record is lost.
    pub fn new(config: Config, db: Db, cipher: Cipher, tokens: Tokens) -> (Self, RecorderTask) {
        let login_limiter = LoginLimiter::new(config.login_attempts_per_minute);
        let verified = Arc::new(VerifiedTokens::default());
        let follower: Arc<dyn crate::db::changes::Follower> = verified.clone();
        db.follow(Arc::downgrade(&follower));
        let clock = Clock::from_env(config.timezone);
        let alerts = Alerts::new(db.clone(), clock);
        let metrics = Arc::new(Metrics::new(config.metrics.enabled));
        let (recorder, recorder_task) = Recorder::start(db.clone(), metrics.clone());
        let quotas = Arc::new(Quotas::new(
            clock,
            config.default_requests_per_minute,
            InstanceId::generate(),
            alerts.clone(),
        ));
        let relay = Arc::new(Relay::new(
            db.clone(),
            cipher.clone(),
            quotas.clone(),
            Providers::new(http_client()),
            recorder,
            config.client_write_timeout,
            Observers {
                metrics: metrics.clone(),
                alerts: alerts.clone(),
            },
        ));
        let state = Self(Arc::new(Shared {
            quotas,
            alerts,
            metrics,
            config,
            db,
            cipher,
            tokens,
            verified,
            login_limiter,
            relay,
        }));
        (state, recorder_task)
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}
