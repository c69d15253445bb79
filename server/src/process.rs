//! One running server process, whoever started it (the command line or the Windows
//! service): bind the port, open the database, start the background tasks, serve until a
//! shutdown trigger, then wind down in order so that every call in flight is recorded before
//! the database closes.

use crate::{bootstrap, config::Config, quotas::lease, server, state::AppState};

/// Runs the server until it is stopped.
pub async fn serve(mut config: Config) -> Result<(), String> {
    if !config.config_file_existed && cfg!(windows) {
        // The admin gets a commented file to edit, next to the program.
        let _ = std::fs::write(&config.config_path, include_str!("../../config.toml"));
    }
    // Bind before the database is touched: a start that fails on a busy port must not create
    // the first admin, whose generated password only a successful start prints.
    let acceptor = server::bind(&mut config)
        .await
        .map_err(|err| err.to_string())?;
    let prepared = bootstrap::prepare(config)
        .await
        .map_err(|err| err.to_string())?;
    let (state, recorder) = AppState::new(
        prepared.config,
        prepared.db.clone(),
        prepared.cipher,
        prepared.tokens,
    );
    crate::banner::print(&state.config, prepared.generated_admin.as_ref());
    if state.config.open_browser {
        crate::banner::open_browser(&state.config);
    }
    let grace = state.config.shutdown_grace;
    let (instance, lease) = (state.quotas.instance().clone(), state.config.instance_lease);
    lease::start(&state.db, &instance, lease, &state.alerts)
        .await
        .map_err(|err| format!("registering this instance in the database: {err}"))?;
    let leases = tokio::spawn(lease::run(
        state.db.clone(),
        instance.clone(),
        lease,
        state.alerts.clone(),
    ));
    let alert_checks = tokio::spawn(crate::alerts::checks::run(
        state.alerts.clone(),
        state.config.alerts,
    ));
    let alert_sender = tokio::spawn(
        crate::alerts::delivery::Sender::new(state.db.clone(), state.cipher.clone()).run(),
    );
    let purge = tokio::spawn(crate::quotas::retention::run(
        state.db.clone(),
        *state.quotas.clock(),
        state.config.log_retention_days,
    ));
    let metrics_listener = server::bind_metrics(&state)
        .await
        .map_err(|err| err.to_string())?;
    let checkpoints = tokio::spawn(state.db.clone().checkpoint_often());
    let search_index = tokio::spawn(crate::db::search_index::catch_up_every_second(
        state.db.clone(),
    ));
    let changes = tokio::spawn(state.db.clone().follow_changes());
    let relay = state.relay.clone();
    let result = server::run(state, acceptor).await;
    // A console closing leaves seconds, not the configured grace: use what the trigger left.
    let grace = *result.as_ref().unwrap_or(&grace);
    purge.abort();
    alert_checks.abort();
    alert_sender.abort();
    drop(metrics_listener);
    checkpoints.abort();
    search_index.abort();
    changes.abort();
    // Calls still running in detached tasks (a stream whose client left) finish, or are
    // interrupted once the grace is over, and are recorded before the database closes.
    relay.finish(grace).await;
    drop(relay);
    recorder.finish(grace).await;
    leases.abort();
    lease::stop(&prepared.db, &instance).await;
    prepared.db.close().await;
    tracing::info!("stopped");
    result.map(drop).map_err(|err| err.to_string())
}
