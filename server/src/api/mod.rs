//! The HTTP API, by audience: `auth` (sign-in), `client` (the Windows client's calls),
//! `admin` (everything an admin manages), assembled into one OpenAPI service; and `v1`, the
//! OpenAI- and Anthropic-compatible surface for standard SDKs.

pub mod admin;
pub mod auth;
pub mod client;
pub mod envelope;
pub mod metrics;
pub mod strict;
mod system;
pub mod v1;

use poem_openapi::{OpenApiService, Tags};

#[derive(Tags)]
pub enum ApiTags {
    /// 登录与激活 (sign-in for admins/users, activation for Windows clients)
    Auth,
    /// 客户端接口 (the Windows client: models, templates, calls) — client token
    Client,
    /// 大模型配置 (admin: model configs)
    AdminConfigs,
    /// Prompt模板 (admin: prompt templates)
    AdminTemplates,
    /// 分组 (admin: client groups and their limits)
    AdminGroups,
    /// 激活码 (admin: activation codes)
    AdminActivationCodes,
    /// API Key (admin: keys that tools call the model endpoints with)
    AdminApiKeys,
    /// 用户 (admin: back-office accounts)
    AdminUsers,
    /// 调用记录与统计 (admin: call records, export, statistics)
    AdminLogs,
    /// 系统设置 (admin: exchange rates for money budgets)
    AdminSettings,
    /// 告警与 Webhook (admin: alerts and where they are sent)
    AdminAlerts,
    /// 系统 (health)
    System,
}

pub type Apis = (
    system::SystemApi,
    auth::AuthApi,
    client::ClientApi,
    admin::configs::ConfigsApi,
    admin::templates::TemplatesApi,
    admin::groups::GroupsApi,
    admin::activation_codes::ActivationCodesApi,
    admin::api_keys::ApiKeysApi,
    admin::users::UsersApi,
    admin::logs::LogsApi,
    admin::stats::StatsApi,
    admin::settings::SettingsApi,
    admin::alerts::AlertsApi,
);

pub fn service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            system::SystemApi,
            auth::AuthApi,
            client::ClientApi,
            admin::configs::ConfigsApi,
            admin::templates::TemplatesApi,
            admin::groups::GroupsApi,
            admin::activation_codes::ActivationCodesApi,
            admin::api_keys::ApiKeysApi,
            admin::users::UsersApi,
            admin::logs::LogsApi,
            admin::stats::StatsApi,
            admin::settings::SettingsApi,
            admin::alerts::AlertsApi,
        ),
        "llm-proxy API",
        env!("CARGO_PKG_VERSION"),
    )
    // Operations are mounted under /api; the spec shows their full paths.
    .url_prefix("/api")
    .description(
        "大模型API代理。客户端接口使用激活码换取的 ClientToken（或管理员创建的 API Key `sk-…`）；/api/admin 下的接口仅管理员(AdminToken)可用。\n\n\
         Every answer is an envelope: `{\"success\":true,\"data\":…}` or \
         `{\"success\":false,\"code\":\"STABLE_CODE\",\"message\":\"中文说明\"}` with a meaningful HTTP status.",
    )
}

/// The spec as served at `/api/openapi.json` (and committed as a snapshot).
pub fn spec_json() -> String {
    service().spec()
}
