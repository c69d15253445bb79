//! Assembles the HTTP application and runs it until Ctrl+C / SIGTERM.

use std::time::Duration;

use poem::{
    Endpoint, EndpointExt, Route, Server,
    endpoint::make_sync,
    listener::{AcceptorExt, BoxAcceptor, Listener, RustlsCertificate, RustlsConfig, TcpListener},
    middleware::{Compression, Cors},
    web::Redirect,
};

use crate::{api, error::render_error, state::AppState, web::AdminUi};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "端口 {port} 已被占用，无法启动。请关闭占用该端口的程序，或在 config.toml 的 [server] bind 中（或用环境变量 LLM_PROXY_BIND）换一个端口。\n\
         Port {port} is already in use: stop the other program or set another port in config.toml [server] bind (or LLM_PROXY_BIND)."
    )]
    PortInUse { port: u16 },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot read TLS certificate or key: {0}")]
    Tls(std::io::Error),
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// The whole HTTP application, as tests and `serve` use it.
pub fn app(state: AppState) -> impl Endpoint {
    let service = api::service();
    let swagger = service.swagger_ui();
    let spec = service.spec_endpoint();
    let mut route = Route::new()
        .at("/api/openapi.json", spec)
        .nest("/swagger", swagger)
        // The wasm bundle is about 1 MB raw, a third of that compressed.
        .nest("/admin", AdminUi.with(Compression::new()))
        .at("/", make_sync(|_| Redirect::see_other("/admin/")))
        .nest("/api", service)
        .boxed();
    if !state.config.cors_origins.is_empty() {
        let mut cors = Cors::new().allow_credentials(false);
        for origin in &state.config.cors_origins {
            cors = cors.allow_origin(origin.as_str());
        }
        route = route.with(cors).boxed();
    }
    route.data(state).catch_all_error(render_error)
}

/// Binds now, so a busy port is reported before anything else starts.
pub async fn bind(state: &AppState) -> Result<BoxAcceptor, ServeError> {
    let addr = state.config.bind;
    let listener = TcpListener::bind(addr);
    let acceptor = match &state.config.tls {
        None => listener
            .into_acceptor()
            .await
            .map(|acceptor| acceptor.boxed()),
        Some((cert, key)) => {
            let cert = std::fs::read(cert).map_err(ServeError::Tls)?;
            let key = std::fs::read(key).map_err(ServeError::Tls)?;
            let tls = RustlsConfig::new().fallback(RustlsCertificate::new().cert(cert).key(key));
            listener
                .rustls(tls)
                .into_acceptor()
                .await
                .map(|acceptor| acceptor.boxed())
        }
    };
    acceptor.map_err(|source| match source.kind() {
        std::io::ErrorKind::AddrInUse => ServeError::PortInUse { port: addr.port() },
        _ => ServeError::Listen { addr, source },
    })
}

/// Serves until a shutdown signal, then lets in-flight requests finish within the grace period.
pub async fn run(state: AppState, acceptor: BoxAcceptor) -> Result<(), ServeError> {
    let grace = state.config.shutdown_grace;
    Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(app(state), shutdown_signal(), Some(grace))
        .await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(windows)]
    let terminate = async {
        // Closing the console window sends CTRL_CLOSE_EVENT; Windows gives about 5 s.
        match tokio::signal::windows::ctrl_close() {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested: finishing in-flight requests");
}

/// How long `healthcheck` waits for an answer.
pub const HEALTHCHECK_TIMEOUT: Duration = Duration::from_secs(5);
