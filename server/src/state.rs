//! What every handler can reach: configuration, database, cipher, token keys, the relay.

use std::{ops::Deref, sync::Arc};

use crate::{
    auth::Tokens, auth::login_limiter::LoginLimiter, config::Config, crypto::Cipher, db::Db,
};

#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub config: Config,
    pub db: Db,
    pub cipher: Cipher,
    pub tokens: Tokens,
    pub login_limiter: LoginLimiter,
}

impl AppState {
    pub fn new(config: Config, db: Db, cipher: Cipher, tokens: Tokens) -> Self {
        let login_limiter = LoginLimiter::new(config.login_attempts_per_minute);
        Self(Arc::new(Shared {
            config,
            db,
            cipher,
            tokens,
            login_limiter,
        }))
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}
