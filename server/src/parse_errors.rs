//! Requests the HTTP parser itself refuses — a malformed request line or header, a URI over
//! its limit, headers over its buffer, conflicting `Content-Length`s — never reach the
//! application: hyper answers them on its own, with an empty body, and closes the
//! connection. hyper has no hook for that answer, so each connection is wrapped and the
//! answer is recognised as it is written and replaced by the error envelope. Every answer a
//! client can get is then the envelope.

use std::{
    io,
    pin::Pin,
    task::{Context, Poll, ready},
};

use poem::{
    http::{HeaderMap, uri::Scheme},
    listener::Acceptor,
    web::{LocalAddr, RemoteAddr},
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::{error::AppError, headers};

/// Wraps every connection `A` accepts in [`Enveloping`].
pub struct EnvelopeParseErrors<A>(pub A);

impl<A: Acceptor> Acceptor for EnvelopeParseErrors<A> {
    type Io = Enveloping<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.0.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let (inner, local, remote, scheme) = self.0.accept().await?;
        let io = Enveloping {
            inner,
            replacement: Vec::new(),
            sent: 0,
        };
        Ok((io, local, remote, scheme))
    }
}

/// A connection whose parser-made error answers go out as the envelope.
pub struct Enveloping<IO> {
    inner: IO,
    /// The envelope answer written in place of hyper's, sent from `sent` on.
    replacement: Vec<u8>,
    sent: usize,
}

impl<IO: AsyncWrite + Unpin> Enveloping<IO> {
    fn poll_replacement(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.replacement.len() {
            let written =
                ready!(Pin::new(&mut self.inner).poll_write(cx, &self.replacement[self.sent..]))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += written;
        }
        Poll::Ready(Ok(()))
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Enveloping<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Enveloping<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_replacement(cx))?;
        match parser_answer(buf) {
            Some((error, date)) => {
                tracing::debug!(code = error.code(), "request refused by the HTTP parser");
                this.replacement = envelope_answer(&error, date);
                this.sent = 0;
                // Sent by the next flush or shutdown, which hyper always does next.
                Poll::Ready(Ok(buf.len()))
            }
            None => Pin::new(&mut this.inner).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_replacement(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_replacement(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }

    /// Not vectored: hyper then writes each answer head as one flat buffer, which is what
    /// `parser_answer` recognises.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// hyper's own answer to a request it could not parse, exactly as it writes it (see
/// `hyper::proto::h1::role::Server::on_error`): no other header, no body. Our answers always
/// carry a content type and the security headers, so they never look like this.
fn parser_answer(buf: &[u8]) -> Option<(AppError, &str)> {
    let text = std::str::from_utf8(buf).ok()?;
    let (status_line, rest) = text.strip_prefix("HTTP/1.1 ")?.split_once("\r\n")?;
    let date = rest
        .strip_prefix("connection: close\r\ncontent-length: 0\r\ndate: ")?
        .strip_suffix("\r\n\r\n")?;
    if date.contains(['\r', '\n']) {
        return None;
    }
    let error = match status_line.split(' ').next()? {
        "400" => AppError::BadRequest(
            "无法解析的 HTTP 请求（请求行、请求头或 Content-Length 有误）".into(),
        ),
        "414" => AppError::UriTooLong,
        "431" => AppError::HeadersTooLarge,
        _ => return None,
    };
    Some((error, date))
}

fn envelope_answer(error: &AppError, date: &str) -> Vec<u8> {
    let body = serde_json::to_vec(&error.body()).unwrap_or_default();
    let status = error.status();
    let mut answer = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json; charset=utf-8\r\n\
         content-length: {}\r\nconnection: close\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or_default(),
        body.len()
    )
    .into_bytes();
    let mut security = HeaderMap::new();
    headers::insert_api_policy(&mut security);
    for (name, value) in &security {
        answer.extend_from_slice(name.as_str().as_bytes());
        answer.extend_from_slice(b": ");
        answer.extend_from_slice(value.as_bytes());
        answer.extend_from_slice(b"\r\n");
    }
    answer.extend_from_slice(format!("date: {date}\r\n\r\n").as_bytes());
    answer.extend_from_slice(&body);
    answer
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const HYPER_414: &str = "HTTP/1.1 414 URI Too Long\r\nconnection: close\r\n\
                             content-length: 0\r\ndate: Mon, 30 Nov 2026 12:57:58 GMT\r\n\r\n";

    #[test]
    fn recognises_exactly_the_parsers_answer() {
        let (error, date) = parser_answer(HYPER_414.as_bytes()).unwrap();
        assert_eq!(error.code(), "URI_TOO_LONG");
        assert_eq!(date, "Mon, 30 Nov 2026 12:57:58 GMT");
        // One of ours: it has a body and other headers.
        let ours = "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n\
                    content-length: 2\r\n\r\n{}";
        assert!(parser_answer(ours.as_bytes()).is_none());
        // Other statuses, and anything following the head, are left alone.
        assert!(parser_answer(HYPER_414.replace("414", "500").as_bytes()).is_none());
        assert!(parser_answer(format!("{HYPER_414}x").as_bytes()).is_none());
    }

    #[test]
    fn the_replacement_is_a_complete_envelope_answer() {
        let answer = envelope_answer(&AppError::HeadersTooLarge, "D");
        let text = String::from_utf8(answer).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        assert!(head.contains("x-content-type-options: nosniff"));
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["code"], "HEADERS_TOO_LARGE");
        assert_eq!(body["success"], false);
    }
}
