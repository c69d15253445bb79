//! Assembles the HTTP application and runs it until a shutdown trigger (Ctrl+C, SIGTERM,
//! a service stop or a console event; see `shutdown`).

use std::time::Duration;

use crate::{
    api,
    config::Config,
    connections::{self, Drain},
    error::render_error,
    parse_errors::EnvelopeParseErrors,
    shutdown,
    state::AppState,
    web::AdminUi,
};
use futures::StreamExt;
use poem::{
    Endpoint, EndpointExt, Route,
    endpoint::make_sync,
    http::uri::Scheme,
    listener::{
        Acceptor, AcceptorExt, BoxAcceptor, Listener, RustlsCertificate, RustlsConfig, TcpAcceptor,
        TcpListener,
    },
    middleware::{Compression, Cors},
    web::Redirect,
    web::{LocalAddr, RemoteAddr},
};

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
    let mut route = Route::new();
    // On the main port only with a token: this port may face the internet.
    if state.config.metrics.enabled
        && let Some(token) = &state.config.metrics.token
    {
        route = route.at(
            "/metrics",
            api::metrics::endpoint(state.metrics.clone(), Some(token.clone())),
        );
    }
    let mut route = route
        .at("/api/openapi.json", spec)
        .nest("/swagger", swagger)
        // The wasm bundle is about 1 MB raw, a third of that compressed.
        .nest("/admin", AdminUi.with(Compression::new()))
        .at("/", make_sync(|_| Redirect::see_other("/admin/")))
        .nest("/api", service)
        .nest("/v1", api::v1::routes())
        .boxed();
    if !state.config.cors_origins.is_empty() {
        let mut cors = Cors::new().allow_credentials(false);
        for origin in &state.config.cors_origins {
            cors = cors.allow_origin(origin.as_str());
        }
        route = route.with(cors).boxed();
    }
    route
        .around(crate::guard::guard)
        .data(state)
        .catch_all_error(render_error)
        .around(crate::headers::secure)
}

/// Binds now, so a busy port is reported before anything else starts. With port 0 the system
/// picks a free port: `config.bind` then becomes the real address, which the banner shows (the
/// tests start servers that way and read the port from it).
pub async fn bind(config: &mut Config) -> Result<BoxAcceptor, ServeError> {
    let addr = config.bind;
    let tcp = TcpListener::bind(addr)
        .into_acceptor()
        .await
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::AddrInUse => ServeError::PortInUse { port: addr.port() },
            _ => ServeError::Listen { addr, source },
        })?;
    if let Some(bound) = tcp
        .local_addr()
        .first()
        .and_then(|addr| addr.as_socket_addr())
    {
        config.bind = *bound;
    }
    let acceptor = NoDelay(tcp);
    Ok(match &config.tls {
        None => EnvelopeParseErrors(acceptor).boxed(),
        Some((cert, key)) => {
            let cert = std::fs::read(cert).map_err(ServeError::Tls)?;
            let key = std::fs::read(key).map_err(ServeError::Tls)?;
            let tls = RustlsConfig::new().fallback(RustlsCertificate::new().cert(cert).key(key));
            // One configuration for the life of the server; the stream then stays open.
            let configs = futures::stream::once(futures::future::ready(tls))
                .chain(futures::stream::pending());
            EnvelopeParseErrors(acceptor.rustls(configs)).boxed()
        }
    })
}

/// Accepts TCP connections with Nagle's algorithm off: a streamed answer is many small
/// writes, and Nagle plus the client's delayed ACK would hold each one back ~40 ms.
struct NoDelay(TcpAcceptor);

impl Acceptor for NoDelay {
    type Io = tokio::net::TcpStream;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.0.local_addr()
    }

    async fn accept(&mut self) -> std::io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let accepted = self.0.accept().await?;
        if let Err(err) = accepted.0.set_nodelay(true) {
            tracing::debug!(%err, "could not set TCP_NODELAY");
        }
        Ok(accepted)
    }
}

/// After the grace, calls still running are interrupted and answered; connections that
/// are still open this much later are closed regardless.
const SHUTDOWN_BACKSTOP: Duration = Duration::from_secs(5);

/// Serves until a shutdown trigger (see [`shutdown`]), then lets in-flight requests finish
/// within the grace period that trigger leaves; calls still running then are interrupted by
/// the relay (and recorded so). Returns that grace so the caller's own clean-up keeps to it.
pub async fn run(state: AppState, acceptor: BoxAcceptor) -> Result<Duration, ServeError> {
    let configured = state.config.shutdown_grace;
    let relay = state.relay.clone();
    let drain = Drain {
        configured,
        backstop: SHUTDOWN_BACKSTOP,
    };
    Ok(connections::serve(
        acceptor,
        app(state),
        shutdown::wait(configured),
        |grace| relay.begin_shutdown(grace),
        drain,
    )
    .await)
}

/// The metrics listener of its own (`[metrics] bind`), when enabled: `/metrics` alone. Runs
/// until the task is aborted.
pub async fn bind_metrics(state: &AppState) -> Result<Option<MetricsServer>, ServeError> {
    let metrics = &state.config.metrics;
    let Some(addr) = metrics.bind.filter(|_| metrics.enabled) else {
        return Ok(None);
    };
    let acceptor = TcpListener::bind(addr)
        .into_acceptor()
        .await
        .map_err(|source| ServeError::Listen { addr, source })?;
    let route = Route::new().at(
        "/metrics",
        api::metrics::endpoint(state.metrics.clone(), metrics.token.clone()),
    );
    tracing::info!(%addr, "serving /metrics");
    Ok(Some(MetricsServer(tokio::spawn(async move {
        if let Err(err) = poem::Server::new_with_acceptor(acceptor).run(route).await {
            tracing::error!(%err, "metrics listener stopped");
        }
    }))))
}

/// The metrics listener's task; dropping it stops the listener.
pub struct MetricsServer(tokio::task::JoinHandle<()>);

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How long `healthcheck` waits for an answer.
pub const HEALTHCHECK_TIMEOUT: Duration = Duration::from_secs(5);
