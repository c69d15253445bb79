//! The admin UI, built by trunk into `assets/` and compiled into the binary. Client-side
//! routes fall back to `index.html`; hashed files are cached for a year, `index.html` never.
//! A missing file (a path with an extension) is a 404, not the page, so a stale cached page
//! fails clearly instead of with a MIME error.

use poem::{Endpoint, Request, Response, Result, http::header};
use rust_embed::RustEmbed;

use crate::error::AppError;

#[derive(RustEmbed)]
#[folder = "../assets/"]
#[exclude = "*.md"]
#[exclude = "ui.hash"]
#[exclude = ".*"]
struct Assets;

pub struct AdminUi;

impl Endpoint for AdminUi {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let path = req
            .uri()
            .path()
            .trim_start_matches("/admin")
            .trim_start_matches('/');
        let is_file_path = path
            .rsplit('/')
            .next()
            .is_some_and(|name| name.contains('.'));
        // A missing file is an error like any other: the JSON envelope, not an empty body.
        match Assets::get(path).filter(|_| !path.is_empty()) {
            Some(file) => Ok(file_response(path, file, true)),
            None if is_file_path => Err(AppError::NotFound("文件").into()),
            None => Assets::get("index.html")
                .map(|index| file_response("index.html", index, false))
                .ok_or_else(|| AppError::NotFound("管理后台页面").into()),
        }
    }
}

/// The bodies of the inline `<script>` elements of `index.html` (trunk's loader), for the
/// Content-Security-Policy's hashes.
pub fn inline_scripts() -> Vec<String> {
    let Some(index) = Assets::get("index.html") else {
        return Vec::new();
    };
    let html = String::from_utf8_lossy(&index.data).into_owned();
    let mut scripts = Vec::new();
    let mut rest = html.as_str();
    while let Some(start) = rest.find("<script") {
        rest = &rest[start..];
        let Some(open_end) = rest.find('>') else {
            break;
        };
        let tag = &rest[..open_end];
        rest = &rest[open_end + 1..];
        let Some(close) = rest.find("</script>") else {
            break;
        };
        if !tag.contains("src=") {
            scripts.push(rest[..close].to_string());
        }
        rest = &rest[close..];
    }
    scripts
}

fn file_response(path: &str, file: rust_embed::EmbeddedFile, cacheable: bool) -> Response {
    let mime = mime_for(path);
    let cache = if cacheable && path != "index.html" {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Response::builder()
        .header(header::CONTENT_TYPE, mime)
        .header(header::CACHE_CONTROL, cache)
        .header("X-Content-Type-Options", "nosniff")
        .body(file.data.into_owned())
}

fn mime_for(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}
