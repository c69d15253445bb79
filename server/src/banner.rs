//! What the admin sees in the console at start-up, in Chinese and English.

use crate::{config::Config, secret::Secret};

pub fn admin_url(config: &Config) -> String {
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let mut addr = config.bind;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    format!("{scheme}://{addr}/admin/")
}

pub fn print(config: &Config, generated_admin: Option<&(String, Secret)>) {
    let url = admin_url(config);
    println!("llm-proxy {} 已启动 / started", env!("CARGO_PKG_VERSION"));
    println!("  管理后台 / admin UI:   {url}");
    println!(
        "  接口文档 / Swagger UI: {}",
        url.replace("/admin/", "/swagger")
    );
    println!("  数据目录 / data folder: {}", config.data_dir.display());
    if let Some((username, password)) = generated_admin {
        println!("  初始管理员 / first admin: {username}");
        // Shown once: the admin must copy it now (it is not stored anywhere in plain text).
        println!("  初始密码 / password:      {}", password.expose());
        println!("  请登录后立即修改密码 / change it after the first login.");
    }
    if config.tls.is_none() && !config.bind.ip().is_loopback() {
        tracing::warn!(
            bind = %config.bind,
            "listening on a network address without TLS: tokens and prompts travel in clear text; \
             configure [server] tls_cert/tls_key or put an HTTPS proxy in front"
        );
    }
}

/// Opens the default browser on the admin UI (Windows appliance convenience).
pub fn open_browser(config: &Config) {
    let url = admin_url(config);
    #[cfg(windows)]
    let result = std::process::Command::new("cmd")
        .args(["/C", "start", "", &url])
        .spawn();
    #[cfg(not(windows))]
    let result = std::process::Command::new("xdg-open").arg(&url).spawn();
    if let Err(err) = result {
        tracing::warn!(%err, "could not open the browser");
    }
}
