//! The accept loop: every connection is served by hyper directly (HTTP/1.1 and HTTP/2), with a
//! graceful shutdown. poem's own `Server` is not used because behind it a request's handler
//! keeps running after its client closed the connection; served here, hyper notices the close
//! and drops the handler, so the relay sees the client leave and cancels the upstream call.

use std::{convert::Infallible, future::Future, sync::Arc, time::Duration};

use hyper::{body::Incoming, service::service_fn};
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::{conn::auto, graceful::GracefulShutdown},
};
use poem::{
    Endpoint,
    listener::{Acceptor, BoxAcceptor},
};

/// A pause after a failed accept (out of file descriptors, a failed TLS handshake), so a
/// persistent failure cannot spin.
const ACCEPT_RETRY: Duration = Duration::from_millis(10);
/// See `serve`: hyper's read buffer, the limit of a request's line and headers (431 past it).
const MAX_REQUEST_HEAD: usize = 128 * 1024;

/// How long connections may take to finish once the shutdown trigger left `grace`.
#[derive(Debug, Clone, Copy)]
pub struct Drain {
    /// The grace an ordinary stop leaves.
    pub configured: Duration,
    /// After an ordinary stop's grace, the relay answers interrupted calls; open connections
    /// get this much longer before they are left.
    pub backstop: Duration,
}

/// Serves `endpoint` until `trigger` resolves with the grace to use, then calls `stopping` with
/// it, stops accepting and lets open connections finish within the grace (a grace shorter than
/// the configured one, as a closing console leaves, is not extended). Returns the grace.
pub async fn serve<E>(
    mut acceptor: BoxAcceptor,
    endpoint: E,
    trigger: impl Future<Output = Duration>,
    stopping: impl FnOnce(Duration),
    drain: Drain,
) -> Duration
where
    E: Endpoint + 'static,
{
    let endpoint = Arc::new(endpoint);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // hyper's HTTP/1 read buffer, and so the largest request head it takes. It checks the
    // limit between reads, and a read may fill the buffer's whole spare room (up to twice the
    // limit): with its default (~400 KB) a 500 KB header was sometimes taken and answered
    // (under load). With this, a head over 128 KiB may be refused, one over 256 KiB always is.
    builder.http1().max_buf_size(MAX_REQUEST_HEAD);
    let graceful = GracefulShutdown::new();
    for addr in acceptor.local_addr() {
        tracing::info!(%addr, "listening");
    }
    tokio::pin!(trigger);
    let grace = loop {
        let accepted = tokio::select! {
            grace = &mut trigger => break grace,
            accepted = acceptor.accept() => accepted,
        };
        let (io, local, remote, scheme) = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                tracing::debug!(%err, "accepting a connection failed");
                tokio::time::sleep(ACCEPT_RETRY).await;
                continue;
            }
        };
        let endpoint = endpoint.clone();
        let service = service_fn(move |request: hyper::Request<Incoming>| {
            let endpoint = endpoint.clone();
            let request =
                poem::Request::from((request, local.clone(), remote.clone(), scheme.clone()));
            async move {
                // On the endpoint itself, not on its `Arc` (whose `call` is one more layer of
                // future that holds a copy of the request): hyper moves this future before it
                // polls it, so every layer it nests costs a copy.
                let response = E::get_response(&endpoint, request).await;
                Ok::<poem::http::Response<_>, Infallible>(response.into())
            }
        });
        let connection = builder
            .serve_connection(TokioIo::new(io), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%err, "connection ended with an error");
            }
        });
    };
    stopping(grace);
    drop(acceptor);
    let limit = if grace < drain.configured {
        grace
    } else {
        grace + drain.backstop
    };
    if tokio::time::timeout(limit, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("grace period over: leaving the remaining connections");
    }
    grace
}
