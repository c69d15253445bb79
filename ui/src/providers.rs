//! The providers the server knows, their labels and default endpoints
//! (the same URLs as `ProviderKind::default_api_url` on the server).

pub struct Provider {
    pub id: &'static str,
    /// i18n key of the label.
    pub label: &'static str,
    pub default_url: &'static str,
    /// i18n key of what its API key looks like (the key field's placeholder).
    pub key_hint: &'static str,
}

pub const PROVIDERS: [Provider; 7] = [
    Provider {
        id: "openai",
        label: "provider.openai",
        key_hint: "key.openai",
        default_url: "https://api.openai.com/v1/chat/completions",
    },
    Provider {
        id: "anthropic",
        label: "provider.anthropic",
        key_hint: "key.anthropic",
        default_url: "https://api.anthropic.com/v1/messages",
    },
    Provider {
        id: "aliyun",
        label: "provider.aliyun",
        key_hint: "key.aliyun",
        default_url: "https://dashscope.aliyuncs.com/api/v1/services/aigc/text-generation/generation",
    },
    Provider {
        id: "xunfei",
        label: "provider.xunfei",
        key_hint: "key.xunfei",
        default_url: "https://spark-api-open.xf-yun.com/v1/chat/completions",
    },
    Provider {
        id: "baidu",
        label: "provider.baidu",
        key_hint: "key.baidu",
        default_url: "https://aip.baidubce.com/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/completions",
    },
    Provider {
        id: "zhipu",
        label: "provider.zhipu",
        key_hint: "key.zhipu",
        default_url: "https://open.bigmodel.cn/api/paas/v4/chat/completions",
    },
    Provider {
        id: "custom",
        label: "provider.custom",
        key_hint: "key.custom",
        default_url: "",
    },
];

/// i18n key of the key field's placeholder for a provider.
pub fn key_hint(id: &str) -> &'static str {
    find(id).map_or("config.api_key_placeholder", |p| p.key_hint)
}

pub fn find(id: &str) -> Option<&'static Provider> {
    PROVIDERS.iter().find(|p| p.id == id)
}

/// i18n key of a provider's label; an unknown id is shown as it is by the caller.
pub fn label_key(id: &str) -> Option<&'static str> {
    find(id).map(|p| p.label)
}

/// The API URL after the provider changes: the new default, unless the admin typed a URL
/// of their own (anything that is not empty and not some provider's default).
pub fn url_after_change(new_provider: &str, current_url: &str) -> String {
    let current = current_url.trim();
    let is_default = current.is_empty() || PROVIDERS.iter().any(|p| p.default_url == current);
    if is_default {
        find(new_provider)
            .map(|p| p.default_url.to_string())
            .unwrap_or_default()
    } else {
        current_url.to_string()
    }
}

/// A model name to suggest as placeholder for each provider.
/// Model names a provider commonly serves, offered while typing (any name is accepted).
pub fn model_suggestions(id: &str) -> &'static [&'static str] {
    match id {
        "openai" => &[
            "gpt-4o",
            "gpt-4o-mini",
            "gpt-4.1",
            "gpt-4.1-mini",
            "o3-mini",
            "o4-mini",
        ],
        "anthropic" => &[
            "claude-sonnet-4-5",
            "claude-opus-4-1",
            "claude-3-5-haiku-latest",
            "claude-3-5-sonnet-latest",
        ],
        "aliyun" => &["qwen-max", "qwen-plus", "qwen-turbo", "qwen-long"],
        "xunfei" => &["4.0Ultra", "generalv3.5", "max-32k", "lite"],
        "baidu" => &[
            "ernie-4.0-8k",
            "ernie-3.5-8k",
            "ernie-speed-128k",
            "ernie-lite-8k",
        ],
        "zhipu" => &["glm-4-plus", "glm-4-air", "glm-4-flash", "glm-4"],
        _ => &[],
    }
}

pub fn model_hint(id: &str) -> &'static str {
    match id {
        "openai" => "gpt-4o",
        "anthropic" => "claude-3-5-sonnet-latest",
        "aliyun" => "qwen-plus",
        "xunfei" => "generalv3.5",
        "baidu" => "ernie-4.0-8k",
        "zhipu" => "glm-4",
        _ => "model-name",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefills_default_urls_without_clobbering_custom_ones() {
        assert_eq!(
            url_after_change("anthropic", ""),
            "https://api.anthropic.com/v1/messages"
        );
        assert_eq!(
            url_after_change("zhipu", "https://api.openai.com/v1/chat/completions"),
            "https://open.bigmodel.cn/api/paas/v4/chat/completions"
        );
        assert_eq!(
            url_after_change("custom", "https://api.openai.com/v1/chat/completions"),
            ""
        );
        assert_eq!(
            url_after_change("openai", "https://my-gateway.example/v1/chat"),
            "https://my-gateway.example/v1/chat"
        );
    }

    #[test]
    fn every_provider_is_known() {
        for id in [
            "openai",
            "anthropic",
            "aliyun",
            "xunfei",
            "baidu",
            "zhipu",
            "custom",
        ] {
            assert!(find(id).is_some(), "{id}");
        }
        assert!(label_key("other").is_none());
        assert_eq!(
            find("aliyun").map(|p| p.default_url),
            Some("https://dashscope.aliyuncs.com/api/v1/services/aigc/text-generation/generation")
        );
    }
}
