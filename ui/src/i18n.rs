//! Chinese (default) and English texts. Keys are looked up in one table; a missing key
//! shows as a visible marker, and a test checks that every key used in the sources exists.
//! Arguments are `{name}` placeholders, filled by the same code as prompt templates.

use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Self::Zh => "zh",
            Self::En => "en",
        }
    }

    /// The value of `<html lang>`.
    pub fn html_code(self) -> &'static str {
        match self {
            Self::Zh => "zh-CN",
            Self::En => "en",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "zh" => Some(Self::Zh),
            "en" => Some(Self::En),
            _ => None,
        }
    }
}

/// The translator handed to every page (`tr.t("key")`, `tr.tf("key", &[("n", "5")])`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tr(pub Lang);

impl Tr {
    pub fn t(self, key: &str) -> &'static str {
        match TABLE.iter().find(|(k, _, _)| *k == key) {
            Some((_, zh, en)) => match self.0 {
                Lang::Zh => zh,
                Lang::En => en,
            },
            None => MISSING,
        }
    }

    pub fn tf(self, key: &str, args: &[(&str, &str)]) -> String {
        let values: HashMap<String, String> = args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        crate::template::render(self.t(key), &values)
    }
}

/// What a missing key shows, so it is noticed on screen rather than hidden.
const MISSING: &str = "⚠missing-i18n-key";

/// (key, 中文, English)
const TABLE: &[(&str, &str, &str)] = &[
    ("app.title", "LLM Proxy 管理后台", "LLM Proxy Admin"),
    ("app.subtitle", "管理后台", "Admin console"),
    ("lang.other", "English", "中文"),
    ("lang.switch", "切换语言", "Switch language"),
    // navigation
    ("nav.group.llm", "大模型", "Large models"),
    ("nav.group.accounts", "账号与授权", "Accounts & access"),
    ("nav.configs", "大模型配置", "Model configs"),
    ("nav.logs", "调用记录", "Call logs"),
    ("nav.stats", "调用统计", "Call statistics"),
    ("nav.groups", "分组管理", "Groups"),
    ("nav.codes", "激活码", "Activation codes"),
    ("nav.api_keys", "API Key", "API keys"),
    ("nav.users", "用户管理", "Users"),
    ("nav.alerts", "告警", "Alerts"),
    ("nav.api_docs", "接口文档", "API docs"),
    ("nav.group.system", "系统", "System"),
    ("nav.settings", "系统设置", "Settings"),
    // auth
    ("auth.logout", "退出登录", "Log out"),
    ("account.menu", "账号菜单", "Account menu"),
    ("nav.dashboard", "概览", "Overview"),
    ("config.copy_name", "{name} 副本", "{name} (copy)"),
    ("config.copy", "复制为新配置", "Copy as new"),
    (
        "config.search",
        "搜索名称、模型或提供商",
        "Search name, model or provider",
    ),
    ("config.sort.id", "按 ID", "By ID"),
    ("config.sort.name", "按名称", "By name"),
    ("config.sort.provider", "按提供商", "By provider"),
    ("config.sort.newest", "最新创建", "Newest first"),
    ("config.no_match", "没有匹配的配置", "No config matches"),
    ("logs.auto_refresh", "自动刷新", "Auto-refresh"),
    (
        "logs.auto_refresh_hint",
        "每 {s} 秒重新查询一次",
        "Queries again every {s} seconds",
    ),
    ("dash.today", "今日", "Today"),
    ("dash.month", "本月", "This month"),
    ("dash.open_logs", "查看调用记录", "Open the call logs"),
    ("dash.open_groups", "查看分组", "Open groups"),
    ("dash.error_rate", "错误率", "Error rate"),
    ("dash.errors", "{n} 次失败", "{n} failed"),
    (
        "dash.busiest_configs",
        "本月最忙的配置",
        "Busiest configs this month",
    ),
    (
        "dash.busiest_groups",
        "本月最忙的分组",
        "Busiest groups this month",
    ),
    (
        "dash.near_limits",
        "接近限额的分组",
        "Groups near their limits",
    ),
    (
        "dash.none_near",
        "没有分组用量超过限额的 80%",
        "No group has used 80 % of a limit",
    ),
    ("dash.recent_failures", "最近失败的调用", "Recent failures"),
    ("dash.recent_alerts", "最近告警", "Recent alerts"),
    ("dash.open_alerts", "全部告警", "All alerts"),
    ("alert.recent", "告警", "Alerts"),
    ("alert.none", "暂无告警", "No alerts"),
    ("alert.critical", "严重", "Critical"),
    ("alert.warning", "警告", "Warning"),
    (
        "alert.delivered",
        "已送达（{n} 次尝试）",
        "Delivered ({n} attempts)",
    ),
    (
        "alert.failed",
        "发送失败（{n} 次尝试）",
        "Failed ({n} attempts)",
    ),
    (
        "alert.pending",
        "发送中（{n} 次尝试）",
        "Sending ({n} attempts)",
    ),
    ("alert.mark_read", "全部标为已读", "Mark all read"),
    ("alert.unread", "未读", "Unread"),
    ("webhook.title", "告警通知 Webhook", "Alert webhooks"),
    (
        "webhook.about",
        "告警会推送到这里启用的 Webhook：企业微信、钉钉、飞书群机器人或通用 JSON。地址中的令牌与签名密钥加密保存，只显示主机名。发送失败会自动重试。",
        "Alerts are sent to the enabled webhooks: WeCom, DingTalk or Feishu group robots, or a generic JSON POST. URL tokens and signing secrets are stored encrypted and only the host is shown. Failed deliveries are retried.",
    ),
    ("webhook.add", "添加 Webhook", "Add webhook"),
    ("webhook.edit", "编辑 Webhook", "Edit webhook"),
    ("webhook.name", "名称", "Name"),
    ("webhook.kind", "类型", "Type"),
    (
        "webhook.kind.wecom",
        "企业微信群机器人",
        "WeCom group robot",
    ),
    ("webhook.kind.dingtalk", "钉钉机器人", "DingTalk robot"),
    ("webhook.kind.feishu", "飞书机器人", "Feishu / Lark bot"),
    ("webhook.kind.generic", "通用 JSON", "Generic JSON"),
    ("webhook.url", "Webhook 地址", "Webhook URL"),
    (
        "webhook.url_hint",
        "机器人设置中复制的完整地址（含 key / access_token）",
        "The full URL from the robot's settings (with its key / access_token)",
    ),
    (
        "webhook.url_keep",
        "当前：{host}；留空则不修改",
        "Current: {host}; leave blank to keep it",
    ),
    ("webhook.secret", "签名密钥", "Signing secret"),
    (
        "webhook.secret_hint",
        "钉钉「加签」的 SEC… 密钥或飞书的签名校验密钥；编辑时留空则不修改",
        "DingTalk's SEC… signing secret or Feishu's; leave blank to keep it",
    ),
    ("webhook.signed", "已设签名", "Signed"),
    ("webhook.last", "最近发送", "Last delivery"),
    ("webhook.last_ok", "成功", "Delivered"),
    ("webhook.last_failed", "失败", "Failed"),
    ("webhook.test", "发送测试", "Send test"),
    (
        "webhook.test_ok",
        "测试消息已发送到「{name}」",
        "Test message sent to {name}",
    ),
    (
        "webhook.test_failed",
        "测试消息发送失败：{error}",
        "Test message failed: {error}",
    ),
    (
        "webhook.saved",
        "已保存 Webhook「{name}」",
        "Webhook {name} saved",
    ),
    (
        "webhook.deleted",
        "已删除 Webhook「{name}」",
        "Webhook {name} deleted",
    ),
    ("webhook.delete_title", "删除 Webhook", "Delete webhook"),
    (
        "webhook.delete_body",
        "确定删除 Webhook「{name}」？其未送达的告警将不再发送。",
        "Delete webhook {name}? Its undelivered alerts will not be sent.",
    ),
    ("dash.no_failures", "暂无失败的调用", "No failed calls"),
    (
        "guard.title",
        "放弃未保存的修改？",
        "Discard unsaved changes?",
    ),
    (
        "guard.body",
        "表单中有尚未保存的修改，关闭后将丢失。",
        "The form has changes that are not saved; closing loses them.",
    ),
    ("guard.discard", "放弃修改", "Discard"),
    (
        "zone.note",
        "时间均按服务器时区 {zone}（{offset}）",
        "Times are in the server's zone {zone} ({offset})",
    ),
    ("password.title", "修改密码", "Change password"),
    ("password.old", "当前密码", "Current password"),
    ("password.new", "新密码", "New password"),
    ("password.confirm", "确认新密码", "Repeat the new password"),
    (
        "password.hint",
        "至少 8 个字符。修改后，其他设备和浏览器上的登录会失效。",
        "At least 8 characters. Sign-ins on other devices and browsers end.",
    ),
    (
        "password.old_missing",
        "请输入当前密码",
        "Enter the current password",
    ),
    (
        "password.too_short",
        "新密码至少需要 8 个字符",
        "The new password needs at least 8 characters",
    ),
    (
        "password.mismatch",
        "两次输入的新密码不一致",
        "The two new passwords differ",
    ),
    ("password.changed", "密码已修改", "Password changed"),
    (
        "auth.expired",
        "登录已过期，请重新登录",
        "Your session has expired. Please log in again.",
    ),
    ("auth.logged_out", "您已退出登录", "You have logged out."),
    ("login.title", "LLM Proxy 管理后台", "LLM Proxy Admin"),
    (
        "login.subtitle",
        "请使用管理员账号登录",
        "Log in with an administrator account",
    ),
    ("login.username", "用户名", "Username"),
    ("login.password", "密码", "Password"),
    ("login.submit", "登录", "Log in"),
    (
        "login.missing",
        "请输入用户名和密码",
        "Please enter your username and password.",
    ),
    (
        "login.bad_role",
        "服务器返回了未知的账号角色",
        "The server returned an unknown account role.",
    ),
    (
        "noaccess.title",
        "后台暂无可用功能",
        "Nothing to manage here",
    ),
    (
        "noaccess.body",
        "您当前的账号角色为「{role}」。管理后台的大模型配置、调用记录等功能仅对管理员开放。",
        "Your account role is \u{201c}{role}\u{201d}. Model configs, call logs and the other back-office pages are for administrators only.",
    ),
    (
        "noaccess.client",
        "调用大模型请使用 Windows 客户端；如需开通权限请联系管理员。",
        "Use the Windows client to call the models; ask an administrator if you need access.",
    ),
    ("notfound.title", "页面不存在", "Page not found"),
    (
        "notfound.body",
        "您访问的页面不存在或已被移动。",
        "The page you asked for does not exist or has moved.",
    ),
    ("notfound.home", "返回首页", "Back to the start"),
    ("role.admin", "管理员", "Administrator"),
    ("role.user", "普通用户", "User"),
    ("role.subaccount", "子账号", "Sub-account"),
    // common
    ("common.actions", "操作", "Actions"),
    ("common.all", "全部", "All"),
    ("common.cancel", "取消", "Cancel"),
    ("common.choose", "请选择", "Choose…"),
    ("common.close", "关闭", "Close"),
    ("common.confirm", "确定", "OK"),
    ("common.copy", "复制", "Copy"),
    (
        "common.expand_all",
        "展开全部（{n} 字）",
        "Show all ({n} characters)",
    ),
    ("common.collapse", "收起", "Collapse"),
    ("common.copied", "已复制到剪贴板", "Copied to the clipboard"),
    (
        "common.copy_failed",
        "复制失败，请手动选择文本复制",
        "Could not copy; please select the text and copy it by hand.",
    ),
    ("common.created_at", "创建时间", "Created"),
    ("common.delete", "删除", "Delete"),
    (
        "common.deleted_named",
        "已删除「{name}」",
        "Deleted \u{201c}{name}\u{201d}",
    ),
    ("common.disable", "禁用", "Disable"),
    ("common.disabled", "禁用", "Disabled"),
    ("common.edit", "编辑", "Edit"),
    ("common.empty", "暂无数据", "No data"),
    ("common.enable", "启用", "Enable"),
    ("common.enabled", "启用", "Enabled"),
    ("common.loading", "加载中…", "Loading…"),
    ("common.query", "查询", "Query"),
    ("common.refresh", "刷新", "Refresh"),
    ("common.reset", "重置", "Reset"),
    ("common.retry", "重试", "Retry"),
    ("common.save", "保存", "Save"),
    (
        "common.saved_named",
        "已保存「{name}」",
        "Saved \u{201c}{name}\u{201d}",
    ),
    ("common.search", "搜索", "Search"),
    ("common.status", "状态", "Status"),
    ("common.unlimited", "不限", "Unlimited"),
    ("unit.seconds", "秒", "s"),
    ("unit.times", "次", "times"),
    // errors made on this side
    (
        "err.network",
        "无法连接服务器，请检查网络后重试（{detail}）",
        "Cannot reach the server; check the connection and retry ({detail}).",
    ),
    (
        "err.bad_response",
        "服务器响应格式不正确（HTTP {status}）",
        "The server sent an unexpected answer (HTTP {status}).",
    ),
    (
        "err.http",
        "请求失败（HTTP {status}）",
        "The request failed (HTTP {status}).",
    ),
    ("form.required", "{label}不能为空", "{label} is required"),
    (
        "form.number",
        "{label}必须是数字",
        "{label} must be a number",
    ),
    (
        "form.integer",
        "{label}必须是整数",
        "{label} must be a whole number",
    ),
    (
        "form.range",
        "{label}必须在 {min} 到 {max} 之间",
        "{label} must be between {min} and {max}",
    ),
    (
        "form.url",
        "API地址必须以 http:// 或 https:// 开头",
        "The API URL must start with http:// or https://",
    ),
    // paging
    ("page.total", "共 {n} 条", "{n} in total"),
    ("page.total_at_least", "共 {n}+ 条", "{n}+ in total"),
    ("page.per", "{n} 条/页", "{n} / page"),
    ("page.size", "每页条数", "Page size"),
    ("page.prev", "上一页", "Previous page"),
    ("page.next", "下一页", "Next page"),
    // providers
    ("provider.openai", "OpenAI", "OpenAI"),
    (
        "provider.anthropic",
        "Anthropic (Claude)",
        "Anthropic (Claude)",
    ),
    (
        "provider.aliyun",
        "阿里云（通义千问）",
        "Alibaba Cloud (Qwen)",
    ),
    ("provider.xunfei", "讯飞星火", "iFlytek Spark"),
    ("provider.baidu", "百度文心", "Baidu ERNIE"),
    ("provider.zhipu", "智谱AI", "Zhipu AI"),
    ("provider.custom", "自定义", "Custom"),
    // configs
    ("config.add", "新增配置", "New config"),
    ("config.stats", "调用统计", "Statistics"),
    ("config.test", "测试连接", "Test"),
    ("config.templates", "模板", "Templates"),
    ("config.name", "配置名称", "Config name"),
    ("config.name_placeholder", "如：GPT-4配置", "e.g. GPT-4"),
    ("config.provider", "提供商", "Provider"),
    ("config.model", "模型", "Model"),
    ("config.api_url", "API地址", "API URL"),
    (
        "config.api_url_hint",
        "选择提供商会自动填入其默认地址",
        "Choosing a provider fills in its default URL",
    ),
    ("config.api_key", "API Key", "API key"),
    ("config.api_key_set", "已设置", "Set"),
    (
        "config.api_key_keep",
        "留空则保留已设置的 Key；填写则整体替换（每行一个）",
        "Leave empty to keep the stored keys; keys typed here replace them all (one per line)",
    ),
    (
        "config.api_key_lines",
        "每行一个 Key，调用在可用的 Key 之间轮换",
        "One key per line; calls take turns over the usable keys",
    ),
    (
        "config.api_key_placeholder",
        "输入提供商的 API Key",
        "The provider's API key",
    ),
    (
        "config.api_key_hint",
        "加密存储，保存后不再显示",
        "Stored encrypted; never shown again after saving",
    ),
    (
        "key.openai",
        "sk-…（OpenAI API Key）",
        "sk-… (OpenAI API key)",
    ),
    (
        "key.anthropic",
        "sk-ant-…（Anthropic API Key）",
        "sk-ant-… (Anthropic API key)",
    ),
    (
        "key.aliyun",
        "sk-…（阿里云百炼 DashScope API Key）",
        "sk-… (DashScope API key)",
    ),
    (
        "key.xunfei",
        "APIPassword（讯飞控制台 · HTTP 服务接口认证信息）",
        "APIPassword (iFlytek console, HTTP API authentication)",
    ),
    (
        "key.baidu",
        "client_id:client_secret（API Key 与 Secret Key 用英文冒号连接）",
        "client_id:client_secret (API Key and Secret Key joined by a colon)",
    ),
    (
        "key.zhipu",
        "id.secret（智谱 API Key）",
        "id.secret (Zhipu API key)",
    ),
    (
        "key.custom",
        "服务商提供的 API Key",
        "The service's API key",
    ),
    ("config.show_key", "显示输入的 Key", "Show the typed key"),
    ("config.hide_key", "隐藏 Key", "Hide the key"),
    ("config.max_tokens", "Max Tokens", "Max tokens"),
    ("config.temperature", "Temperature", "Temperature"),
    ("config.top_p", "Top P", "Top P"),
    (
        "config.frequency_penalty",
        "Frequency Penalty",
        "Frequency penalty",
    ),
    (
        "config.presence_penalty",
        "Presence Penalty",
        "Presence penalty",
    ),
    ("config.reasoning_model", "推理模型", "Reasoning model"),
    (
        "config.reasoning_model_hint",
        "o 系列、GPT-5 和思考模型会拒绝采样参数：开启后不发送上面的温度、Top P 和惩罚参数（调用方自己传的值仍会发送）",
        "o-series, GPT-5 and thinking models refuse sampling parameters: when on, the temperature, top P and penalties above are not sent (a caller's own values still are)",
    ),
    (
        "config.reasoning_model_on",
        "不发送采样参数",
        "Sampling parameters not sent",
    ),
    (
        "config.reasoning_model_off",
        "发送采样参数",
        "Sampling parameters sent",
    ),
    ("config.system_prompt", "System Prompt", "System prompt"),
    (
        "config.system_prompt_placeholder",
        "你是一个专业的助手…",
        "You are a helpful assistant…",
    ),
    (
        "config.manage_templates",
        "管理Prompt模板",
        "Manage prompt templates",
    ),
    (
        "config.templates_after_save",
        "保存配置后可管理模板",
        "Save the config first to manage its templates",
    ),
    (
        "config.input_price",
        "输入价格（每百万Token）",
        "Input price (per million tokens)",
    ),
    (
        "config.output_price",
        "输出价格（每百万Token）",
        "Output price (per million tokens)",
    ),
    ("config.currency", "币种", "Currency"),
    (
        "config.price_hint",
        "用于估算调用费用，可留 0",
        "Used to estimate call costs; 0 is fine",
    ),
    ("config.timeout", "超时时间", "Timeout"),
    ("config.retries", "重试次数", "Retries"),
    ("config.active", "是否启用", "Enabled"),
    ("config.section.basic", "基础配置", "Basics"),
    ("config.section.params", "参数配置", "Parameters"),
    ("config.section.prompt", "Prompt配置", "Prompt"),
    ("config.section.price", "价格", "Prices"),
    ("config.section.advanced", "高级配置", "Advanced"),
    ("config.add_title", "新增大模型配置", "New model config"),
    ("config.edit_title", "编辑大模型配置", "Edit model config"),
    (
        "config.test_form_hint",
        "用表单中当前的值测试（不保存）",
        "Tests the values in the form (nothing is saved)",
    ),
    (
        "config.enabled_ok",
        "已启用「{name}」",
        "Enabled \u{201c}{name}\u{201d}",
    ),
    (
        "config.disabled_ok",
        "已禁用「{name}」",
        "Disabled \u{201c}{name}\u{201d}",
    ),
    ("config.delete_title", "删除配置", "Delete config"),
    (
        "config.delete_body",
        "确定删除配置「{name}」吗？其Prompt模板会一并删除，调用记录保留。",
        "Delete the config \u{201c}{name}\u{201d}? Its prompt templates are deleted too; call logs are kept.",
    ),
    // config test
    ("test.title", "测试连接 · {name}", "Test · {name}"),
    (
        "test.about",
        "向模型 {model} 发送一条测试消息（使用已保存的配置）。",
        "Sends a test message to {model} with the saved config.",
    ),
    (
        "test.about_form",
        "用表单中当前的值（未保存）向模型 {model} 发送一条测试消息。",
        "Sends a test message to {model} with the values in the form (not saved).",
    ),
    ("test.unnamed", "未命名配置", "Unnamed config"),
    ("test.upstream_said", "上游返回", "The upstream said"),
    ("test.message", "测试消息", "Test message"),
    ("test.default_message", "你好", "Hello"),
    ("test.run", "发送测试", "Send test"),
    ("test.running", "正在调用模型…", "Calling the model…"),
    ("test.ok", "配置测试成功", "The config works"),
    ("test.duration", "耗时 {d}", "took {d}"),
    ("test.reply", "模型回复", "Reply"),
    (
        "test.log_id",
        "查看调用记录 #{id}",
        "Open call record #{id}",
    ),
    // templates
    (
        "template.title",
        "Prompt模板管理 · {name}",
        "Prompt templates · {name}",
    ),
    ("template.add", "新增模板", "New template"),
    (
        "template.about",
        "模板中的 {变量名} 会在调用时被替换",
        "{variable} placeholders are filled in at call time",
    ),
    ("template.name", "模板名称", "Template name"),
    (
        "template.name_placeholder",
        "如：客户问候",
        "e.g. Customer greeting",
    ),
    ("template.variables", "变量", "Variables"),
    ("template.description", "模板说明", "Description"),
    ("template.content", "模板内容", "Content"),
    (
        "template.content_hint",
        "用 {变量名} 作为占位符，变量名由字母、数字、下划线组成且不以数字开头",
        "Use {name} placeholders; names are letters, digits and underscores, not starting with a digit",
    ),
    (
        "template.content_placeholder",
        "你是一个专业的客服人员，客户名叫{customer_name}。请用友好的语气回复客户的问题：{message}",
        "You are a friendly support agent. The customer is {customer_name}. Reply to: {message}",
    ),
    ("template.detected", "检测到的变量", "Detected variables"),
    ("template.no_variables", "暂无变量", "No variables"),
    ("template.samples", "示例值", "Sample values"),
    ("template.sample_placeholder", "输入示例值", "Sample value"),
    ("template.preview", "预览", "Preview"),
    (
        "template.add_title",
        "新增Prompt模板",
        "New prompt template",
    ),
    (
        "template.edit_title",
        "编辑Prompt模板",
        "Edit prompt template",
    ),
    ("template.delete_title", "删除模板", "Delete template"),
    (
        "template.delete_body",
        "确定删除模板「{name}」吗？",
        "Delete the template \u{201c}{name}\u{201d}?",
    ),
    // logs
    ("logs.range", "时间范围", "Date range"),
    ("logs.start", "开始日期", "Start date"),
    ("logs.end", "截止日期", "End date"),
    ("logs.today", "今天", "Today"),
    ("logs.last7", "近7天", "Last 7 days"),
    ("logs.last30", "近30天", "Last 30 days"),
    ("logs.config", "配置", "Config"),
    ("logs.provider", "提供商", "Provider"),
    ("logs.model", "模型", "Model"),
    ("logs.group", "分组", "Group"),
    ("logs.template", "模板", "Template"),
    ("logs.user", "测试用户", "Tested by"),
    ("logs.activation_code", "激活码", "Activation code"),
    ("logs.api_key", "API Key", "API key"),
    ("logs.finish_reason", "结束原因", "Finish reason"),
    ("logs.upstream_id", "上游响应ID", "Upstream answer id"),
    (
        "logs.code_placeholder",
        "完整激活码",
        "Full activation code",
    ),
    ("logs.keyword", "内容搜索", "Text search"),
    (
        "logs.keyword_placeholder",
        "请求或响应中的文字",
        "Text in the request or reply",
    ),
    ("logs.export", "导出CSV", "Export CSV"),
    ("logs.exported", "已导出 {name}", "Exported {name}"),
    (
        "logs.export_failed",
        "浏览器无法保存文件",
        "The browser could not save the file",
    ),
    (
        "logs.dates_reversed",
        "开始日期晚于截止日期",
        "The start date is after the end date",
    ),
    ("logs.request_preview", "请求预览", "Request"),
    ("logs.response_preview", "响应预览", "Response"),
    ("logs.duration", "耗时", "Duration"),
    ("logs.time", "调用时间", "Time"),
    ("logs.detail", "详情", "Details"),
    ("logs.detail_title", "调用详情 #{id}", "Call #{id}"),
    ("logs.success", "成功", "Success"),
    ("logs.error", "失败", "Failed"),
    ("logs.stream", "流式", "Stream"),
    ("logs.non_stream", "非流式", "Non-stream"),
    ("logs.mode", "调用方式", "Mode"),
    ("logs.retries", "重试次数", "Retries"),
    ("logs.cost", "费用", "Cost"),
    ("logs.basic", "基本信息", "Basics"),
    ("logs.tokens", "Token统计", "Tokens"),
    ("logs.total", "总计", "Total"),
    ("logs.estimated", "估算值", "Estimated"),
    (
        "logs.estimated_hint",
        "上游未返回用量，按文本长度估算",
        "The upstream reported no usage; estimated from the text length",
    ),
    ("logs.error_info", "错误信息", "Error"),
    ("logs.request", "请求内容", "Request"),
    ("logs.as_json", "查看JSON", "Show JSON"),
    ("logs.as_chat", "按消息查看", "Show messages"),
    ("logs.params", "请求参数", "Request parameters"),
    ("logs.response", "响应内容", "Response"),
    (
        "logs.raw_response",
        "完整响应（JSON）",
        "Full response (JSON)",
    ),
    // stats
    ("stats.total_calls", "总调用次数", "Total calls"),
    (
        "stats.calls_split",
        "成功 {ok} · 失败 {err}",
        "{ok} ok · {err} failed",
    ),
    (
        "stats.token_split",
        "输入 {p} · 输出 {c}",
        "in {p} · out {c}",
    ),
    ("stats.success_rate", "成功率", "Success rate"),
    ("stats.avg_duration", "平均耗时", "Avg. duration"),
    ("stats.tokens", "Token消耗", "Tokens used"),
    ("stats.cost", "费用", "Cost"),
    ("stats.calls", "调用次数", "Calls"),
    (
        "stats.failed",
        "统计数据加载失败：{msg}",
        "Could not load the statistics: {msg}",
    ),
    ("stats.daily", "每日趋势", "Daily trend"),
    ("stats.hourly", "每小时调用分布", "Calls by hour of day"),
    ("stats.metric.calls", "调用次数", "Calls"),
    ("stats.metric.tokens", "Token", "Tokens"),
    ("stats.metric.cost", "费用", "Cost"),
    ("stats.by_config", "按配置统计", "By config"),
    ("stats.by_group", "按分组统计", "By group"),
    ("stats.by_tokens", "按Token", "By tokens"),
    ("stats.by_cost", "按费用", "By cost"),
    (
        "stats.no_group",
        "未分组（管理员测试）",
        "No group (admin tests)",
    ),
    ("stats.no_config", "无配置", "No config"),
    (
        "stats.range",
        "统计区间：{start} ~ {end}",
        "Range: {start} ~ {end}",
    ),
    // groups
    ("group.add", "新增分组", "New group"),
    ("group.add_title", "新增分组", "New group"),
    ("group.edit_title", "编辑分组", "Edit group"),
    ("group.name", "分组名称", "Group name"),
    ("group.description", "分组说明", "Description"),
    ("group.daily_limit", "每日Token上限", "Daily token limit"),
    (
        "group.monthly_limit",
        "每月Token上限",
        "Monthly token limit",
    ),
    ("group.rpm", "每分钟请求数", "Requests per minute"),
    ("group.daily_cost_limit", "每日费用预算", "Daily budget"),
    ("group.monthly_cost_limit", "每月费用预算", "Monthly budget"),
    ("group.cost_currency", "预算币种", "Budget currency"),
    (
        "group.budget_hint",
        "留空不限；按预算币种计，其他币种的价格按管理员设置的汇率换算，预算不会被超支",
        "Empty: unlimited. Counted in the budget currency (other prices convert at the admin's rates); never overspent",
    ),
    ("group.rpm_default", "系统默认", "Server default"),
    (
        "group.empty_unlimited",
        "留空表示不限",
        "Empty means unlimited",
    ),
    (
        "group.empty_default",
        "留空则使用系统默认值",
        "Empty uses the server default",
    ),
    ("group.today", "今日用量", "Today"),
    ("group.month", "本月用量", "This month"),
    (
        "group.calls_cost",
        "{calls} 次 · 费用 {cost}",
        "{calls} calls · cost {cost}",
    ),
    (
        "group.usage_failed",
        "用量数据加载失败：{msg}",
        "Could not load the usage: {msg}",
    ),
    ("group.delete_title", "删除分组", "Delete group"),
    (
        "group.delete_body",
        "确定删除分组「{name}」吗？分组下仍有激活码或 API Key 时无法删除。",
        "Delete the group \u{201c}{name}\u{201d}? A group that still has activation codes or API keys cannot be deleted.",
    ),
    ("group.access", "可用配置", "Configs allowed"),
    (
        "group.access_all",
        "全部已启用的配置",
        "Every enabled config",
    ),
    ("group.access_only", "仅以下配置", "Only these configs"),
    (
        "group.access_none",
        "请至少选择一个配置",
        "Choose at least one config",
    ),
    ("group.access_all_short", "全部", "All"),
    ("group.access_nothing", "无", "None"),
    (
        "group.access_hint",
        "该分组的客户端只能看到并调用这些配置，其他配置的调用会被拒绝",
        "The group's clients see and may call only these configs; calls to others are refused",
    ),
    ("group.no_configs", "还没有配置", "No config yet"),
    // a config's keys, fallbacks and circuit breaker
    (
        "config.section.routing",
        "备用与熔断",
        "Fallbacks and circuit breaker",
    ),
    ("config.routing", "Key 与备用", "Keys and fallbacks"),
    ("config.breaker_threshold", "熔断阈值", "Breaker threshold"),
    (
        "config.breaker_threshold_hint",
        "连续失败这么多次后暂停使用本配置（由备用配置接替）；留空不启用",
        "After this many failures in a row the config is skipped (its fallbacks answer); empty: off",
    ),
    ("config.breaker_off", "不启用", "Off"),
    (
        "config.breaker_cooldown",
        "熔断冷却时间",
        "Breaker cool-down",
    ),
    (
        "breaker.open_until",
        "已熔断，{time} 恢复",
        "Circuit open until {time}",
    ),
    ("key.healthy", "正常", "Healthy"),
    ("key.set_aside", "已搁置", "Set aside"),
    (
        "key.set_aside_detail",
        "{reason}（{time}）",
        "{reason} ({time})",
    ),
    (
        "key.cooling_until",
        "限流冷却中，至 {time}",
        "Rate-limited, rests until {time}",
    ),
    ("key.restore", "恢复", "Restore"),
    ("key.restored", "已恢复 Key {key}", "Key {key} restored"),
    ("key.count", "{n} 个 Key", "{n} key(s)"),
    ("key.count_set_aside", "{n} 个已搁置", "{n} set aside"),
    ("key.count_cooling", "{n} 个冷却中", "{n} cooling off"),
    ("fallback.label", "备用配置", "Fallback configs"),
    (
        "fallback.hint",
        "本配置失败（连接错误、限流、过载、Key 被拒）时按顺序尝试；流式调用只在首个输出前切换。最多 5 个，不能形成循环",
        "Tried in order when this config fails (connection error, rate limit, overload, refused key); streams switch only before the first output. At most 5, no cycles",
    ),
    ("fallback.pick", "选择备用配置…", "Choose a fallback…"),
    ("fallback.add", "添加", "Add"),
    ("fallback.up", "上移", "Move up"),
    ("fallback.down", "下移", "Move down"),
    ("fallback.list", "备用：{names}", "Fallbacks: {names}"),
    // settings: exchange rates
    ("rates.title", "汇率", "Exchange rates"),
    (
        "rates.intro",
        "分组的费用预算与配置的价格币种不同时（例如预算按人民币、价格按美元），调用费用按这里的汇率换算后计入预算：填写 1 单位外币值多少人民币。",
        "When a group's budget is in another currency than a config's prices (say a budget in CNY, prices in USD), a call's cost is converted at these rates before it counts: enter what one unit of the currency is worth in CNY.",
    ),
    ("rates.currency", "币种", "Currency"),
    ("rates.rate", "汇率", "Rate"),
    ("rates.rate_in", "1 单位 = ? {base}", "1 unit = ? {base}"),
    ("rates.empty", "尚未设置汇率", "No rate set yet"),
    ("rates.add", "添加币种", "Add a currency"),
    ("rates.unsaved", "有未保存的修改", "Unsaved changes"),
    ("rates.saved", "汇率已保存", "Exchange rates saved"),
    (
        "rates.bad_code",
        "币种代码应为 3–8 个英文字母，如 USD",
        "A currency code is 3–8 letters, e.g. USD",
    ),
    (
        "rates.base_code",
        "CNY 是基准币种，无需汇率",
        "CNY is the base currency: it needs no rate",
    ),
    ("rates.repeated", "币种重复", "Currency listed twice"),
    (
        "rates.bad_rate",
        "汇率必须是大于 0 的数字",
        "The rate must be a number above 0",
    ),
    // activation codes
    ("code.add", "新增激活码", "New activation code"),
    ("code.add_title", "新增激活码", "New activation code"),
    ("code.edit_title", "编辑激活码", "Edit activation code"),
    ("code.need_group", "请先创建分组", "Create a group first"),
    ("code.code", "激活码", "Code"),
    ("code.auto", "留空自动生成", "Empty = generated"),
    (
        "code.code_hint",
        "4 到 32 位字母、数字、- 或 _",
        "4 to 32 letters, digits, - or _",
    ),
    ("code.expires", "有效期至", "Expires"),
    (
        "code.expires_hint",
        "留空表示永久有效（按本地时间）",
        "Empty = never (local time)",
    ),
    (
        "code.bad_expiry",
        "有效期格式不正确",
        "The expiry date is not valid",
    ),
    ("code.never", "永久有效", "Never"),
    ("code.expired", "已过期", "Expired"),
    ("code.last_used", "最后使用", "Last used"),
    // A code is "used" once, to activate a client; the client's calls do not touch it.
    ("code.last_activated", "最后激活", "Last activated"),
    ("code.note", "备注", "Note"),
    ("code.copied", "已复制激活码 {code}", "Copied {code}"),
    (
        "code.created",
        "已创建激活码 {name}",
        "Created the activation code {name}",
    ),
    ("code.delete_title", "删除激活码", "Delete activation code"),
    (
        "code.delete_body",
        "确定删除激活码 {code} 吗？使用它的客户端将无法再次激活。",
        "Delete the activation code {code}? Clients can no longer activate with it.",
    ),
    // API keys
    ("apikey.add", "新建 API Key", "New API key"),
    (
        "apikey.about",
        "API Key 供工具调用模型接口（/api/llm/*），计入所属分组的限流和配额，不能访问管理接口。",
        "API keys let tools call the model endpoints (/api/llm/*); calls count against the key's group limits. Keys cannot use the admin API.",
    ),
    ("apikey.name", "名称", "Name"),
    ("apikey.key", "Key", "Key"),
    ("apikey.created_title", "API Key 已创建", "API key created"),
    (
        "apikey.once_warning",
        "请立即复制并妥善保存此 Key。关闭此窗口后将无法再次查看完整 Key。",
        "Copy this key now and keep it safe. Once this dialog is closed, the full key cannot be shown again.",
    ),
    ("apikey.copied", "已复制 API Key", "API key copied"),
    ("apikey.done", "我已保存", "I have saved it"),
    ("apikey.revoke", "吊销", "Revoke"),
    ("apikey.revoke_title", "吊销 API Key", "Revoke API key"),
    (
        "apikey.revoke_body",
        "确定吊销 API Key「{name}」吗？使用它的工具将立即被拒绝，且无法恢复。",
        "Revoke the API key \u{201c}{name}\u{201d}? Tools using it are refused at once. This cannot be undone.",
    ),
    (
        "apikey.revoked",
        "已吊销 API Key {name}",
        "Revoked the API key {name}",
    ),
    // users
    ("user.add", "新增用户", "New user"),
    ("user.add_title", "新增用户", "New user"),
    ("user.edit_title", "编辑用户", "Edit user"),
    (
        "user.about",
        "子账号显示在其所属用户下方",
        "Sub-accounts are listed under their owner",
    ),
    ("user.username", "用户名", "Username"),
    ("user.password", "密码", "Password"),
    (
        "user.password_hint",
        "至少 8 个字符",
        "At least 8 characters",
    ),
    (
        "user.password_short",
        "密码至少需要 8 个字符",
        "The password needs at least 8 characters",
    ),
    (
        "user.password_mismatch",
        "两次输入的密码不一致",
        "The passwords do not match",
    ),
    ("user.role", "角色", "Role"),
    ("user.parent", "所属用户", "Owner"),
    (
        "user.parent_hint",
        "子账号只能属于普通用户",
        "A sub-account belongs to an ordinary user",
    ),
    (
        "user.group_hint",
        "分组可以更换，但不能清空",
        "The group can be changed but not removed",
    ),
    ("user.no_group", "无", "None"),
    ("user.active", "正常", "Active"),
    ("user.inactive", "已停用", "Disabled"),
    ("user.activate", "启用", "Enable"),
    ("user.deactivate", "停用", "Disable"),
    ("user.last_login", "最后登录", "Last login"),
    ("user.me", "当前账号", "you"),
    ("user.reset_password", "重置密码", "Reset password"),
    (
        "user.password_title",
        "重置密码 · {name}",
        "Reset password · {name}",
    ),
    ("user.new_password", "新密码", "New password"),
    ("user.repeat_password", "确认新密码", "Repeat the password"),
    (
        "user.password_reset_ok",
        "已重置「{name}」的密码",
        "Reset the password of \u{201c}{name}\u{201d}",
    ),
    ("user.delete_title", "删除用户", "Delete user"),
    (
        "user.delete_body",
        "确定删除用户「{name}」吗？",
        "Delete the user \u{201c}{name}\u{201d}?",
    ),
    (
        "user.delete_body_children",
        "确定删除用户「{name}」吗？其子账号会一并删除。",
        "Delete the user \u{201c}{name}\u{201d}? Their sub-accounts are deleted too.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::path::Path;

    #[test]
    fn looks_up_and_fills() {
        assert_eq!(Tr(Lang::Zh).t("nav.configs"), "大模型配置");
        assert_eq!(Tr(Lang::En).t("nav.configs"), "Model configs");
        assert_eq!(
            Tr(Lang::Zh).tf("page.total", &[("n", "1,234")]),
            "共 1,234 条"
        );
        assert_eq!(Tr(Lang::En).tf("page.total", &[("n", "3")]), "3 in total");
        assert_eq!(Tr(Lang::Zh).t("no.such.key"), "⚠missing-i18n-key");
        assert_eq!(Tr(Lang::Zh).t("auth.expired"), "登录已过期，请重新登录");
        assert_eq!(Lang::parse("en"), Some(Lang::En));
        assert_eq!(Lang::parse(Lang::Zh.code()), Some(Lang::Zh));
        assert_eq!(Lang::parse("fr"), None);
    }

    #[test]
    fn table_is_complete_and_unique() {
        let mut seen = HashSet::new();
        for (key, zh, en) in TABLE {
            assert!(seen.insert(*key), "duplicate key {key}");
            assert!(!zh.is_empty() && !en.is_empty(), "empty text for {key}");
            // Placeholders must match between the languages.
            let mut a = crate::template::variables(zh);
            let mut b = crate::template::variables(en);
            a.sort();
            b.sort();
            if *key != "template.about" && *key != "template.content_hint" {
                assert_eq!(a, b, "placeholders differ for {key}");
            }
        }
    }

    /// Every `"some.key"` literal in the sources that looks like an i18n key must exist.
    #[test]
    fn every_key_used_in_the_sources_exists() {
        let keys: HashSet<&str> = TABLE.iter().map(|(k, _, _)| *k).collect();
        let prefixes: HashSet<&str> = keys.iter().filter_map(|k| k.split('.').next()).collect();
        let mut missing = Vec::new();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut stack = vec![src];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if path.file_name().and_then(|n| n.to_str()) == Some("i18n.rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                for literal in string_literals(&text) {
                    let looks_like_key = literal.contains('.')
                        && literal.chars().all(|c| {
                            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_'
                        })
                        && literal
                            .split('.')
                            .next()
                            .is_some_and(|p| prefixes.contains(p));
                    if looks_like_key && !keys.contains(literal.as_str()) {
                        missing.push(format!("{}: {literal}", path.display()));
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "keys missing from the i18n table: {missing:?}"
        );
    }

    /// The contents of the string literals of a Rust source (plain and raw; escapes kept).
    fn string_literals(text: &str) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '/' if chars.get(i + 1) == Some(&'/') => {
                    while i < chars.len() && chars[i] != '\n' {
                        i += 1;
                    }
                }
                '\'' => {
                    // A char literal ('"', '\'', 'x') is skipped; a lifetime is not a literal.
                    if chars.get(i + 1) == Some(&'\\') {
                        i += 2;
                        while i < chars.len() && chars[i] != '\'' {
                            i += 1;
                        }
                    } else if chars.get(i + 2) == Some(&'\'') {
                        i += 2;
                    }
                    i += 1;
                }
                'r' if matches!(chars.get(i + 1), Some('#') | Some('"'))
                    && (i == 0 || !chars[i - 1].is_alphanumeric() && chars[i - 1] != '_') =>
                {
                    let mut hashes = 0;
                    let mut j = i + 1;
                    while chars.get(j) == Some(&'#') {
                        hashes += 1;
                        j += 1;
                    }
                    if chars.get(j) != Some(&'"') {
                        i += 1;
                        continue;
                    }
                    let start = j + 1;
                    let mut end = start;
                    while end < chars.len() {
                        if chars[end] == '"'
                            && (0..hashes).all(|h| chars.get(end + 1 + h) == Some(&'#'))
                        {
                            break;
                        }
                        end += 1;
                    }
                    out.push(chars[start..end.min(chars.len())].iter().collect());
                    i = end + 1 + hashes;
                }
                '"' => {
                    let mut literal = String::new();
                    i += 1;
                    while i < chars.len() && chars[i] != '"' {
                        if chars[i] == '\\' {
                            literal.push(chars[i]);
                            i += 1;
                        }
                        if let Some(c) = chars.get(i) {
                            literal.push(*c);
                        }
                        i += 1;
                    }
                    out.push(literal);
                    i += 1;
                }
                _ => i += 1,
            }
        }
        out
    }

    #[test]
    fn finds_string_literals() {
        let source = r##"let a = "x.y"; let c = '"'; let d = r#"{"k":"v"}"#; // "comment.key"
let e: &'static str = "a\"b"; let f = "z";"##;
        assert_eq!(
            string_literals(source),
            vec!["x.y", "{\"k\":\"v\"}", "a\\\"b", "z"]
        );
    }
}
