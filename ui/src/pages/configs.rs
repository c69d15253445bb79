//! `/admin/llm-config`: the model configs (大模型配置) with add, edit, delete, enable/disable,
//! connection test and the prompt templates of each; each row shows its keys' states, its
//! fallbacks and an open circuit breaker.

use serde_json::json;
use yew::platform::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;

use super::config_dialog::ConfigDialog;
use super::config_keys::KeySummary;
use super::config_test::{TestDialog, TestTarget};
use super::templates::TemplatesDialog;
use crate::api::models::ConfigView;
use crate::components::dialog::Confirm;
use crate::components::form::{on_input, on_select};
use crate::components::icon::Icon;
use crate::components::misc::{ActiveBadge, Badge};
use crate::components::table::{Column, DataTable};
use crate::context::use_app;
use crate::hooks::{use_fetch, use_version};
use crate::providers;
use crate::route::Route;

/// The table's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    Id,
    Name,
    Provider,
    Newest,
}

impl Sort {
    const ALL: [Sort; 4] = [Sort::Id, Sort::Name, Sort::Provider, Sort::Newest];

    fn value(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Name => "name",
            Self::Provider => "provider",
            Self::Newest => "newest",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Id => "config.sort.id",
            Self::Name => "config.sort.name",
            Self::Provider => "config.sort.provider",
            Self::Newest => "config.sort.newest",
        }
    }

    fn parse(value: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|s| s.value() == value)
            .unwrap_or(Self::Id)
    }
}

/// The configs matching `search` (name, model or provider, any case), in `sort` order.
fn shown(all: &[ConfigView], search: &str, sort: Sort) -> Vec<ConfigView> {
    let needle = search.trim().to_lowercase();
    let mut rows: Vec<ConfigView> = all
        .iter()
        .filter(|c| {
            needle.is_empty()
                || [&c.name, &c.model, &c.provider]
                    .iter()
                    .any(|text| text.to_lowercase().contains(&needle))
        })
        .cloned()
        .collect();
    match sort {
        Sort::Id => rows.sort_by_key(|c| c.id),
        Sort::Name => rows.sort_by(|a, b| a.name.cmp(&b.name)),
        Sort::Provider => {
            rows.sort_by(|a, b| a.provider.cmp(&b.provider).then(a.name.cmp(&b.name)))
        }
        Sort::Newest => rows.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id))),
    }
    rows
}

#[component]
pub fn ConfigsPage() -> Html {
    let app = use_app();
    let tr = app.tr;
    let (version, reload) = use_version();
    let configs =
        use_fetch::<Vec<ConfigView>>(Some("/api/admin/llm/configs".into()), version, false);
    // Some(None) = a new config.
    let editing = use_state(|| None::<Option<ConfigView>>);
    // A new config starting from this one (复制为新配置).
    let copying = use_state(|| None::<ConfigView>);
    let search = use_state(String::new);
    let sort = use_state(|| Sort::Id);
    let testing = use_state(|| None::<TestTarget>);
    let templates = use_state(|| None::<ConfigView>);
    let deleting = use_state(|| None::<ConfigView>);
    let busy = use_state(|| false);

    let toggle = {
        let (app, reload) = (app.clone(), reload.clone());
        Callback::from(move |config: ConfigView| {
            let (app, reload) = (app.clone(), reload.clone());
            spawn_local(async move {
                let body = json!({ "is_active": !config.is_active });
                let path = format!("/api/admin/llm/configs/{}", config.id);
                match app.api.put::<ConfigView>(&path, &body).await {
                    Ok(saved) => {
                        let key = if saved.is_active {
                            "config.enabled_ok"
                        } else {
                            "config.disabled_ok"
                        };
                        app.success(app.tr.tf(key, &[("name", &saved.name)]));
                        reload.emit(());
                    }
                    Err(err) => app.api_error(&err),
                }
            });
        })
    };
    let confirm_delete = {
        let (app, reload, deleting, busy) =
            (app.clone(), reload.clone(), deleting.clone(), busy.clone());
        Callback::from(move |_| {
            let Some(config) = (*deleting).clone() else {
                return;
            };
            let (app, reload, deleting, busy) =
                (app.clone(), reload.clone(), deleting.clone(), busy.clone());
            busy.set(true);
            spawn_local(async move {
                let result = app
                    .api
                    .delete(&format!("/api/admin/llm/configs/{}", config.id))
                    .await;
                busy.set(false);
                deleting.set(None);
                match result {
                    Ok(()) => {
                        app.success(app.tr.tf("common.deleted_named", &[("name", &config.name)]));
                        reload.emit(());
                    }
                    Err(err) => app.api_error(&err),
                }
            });
        })
    };

    let all = configs.data.clone().unwrap_or_default();
    let rows = shown(&all, &search, *sort);
    let name_of = |id: &i32| {
        all.iter()
            .find(|c| c.id == *id)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| format!("#{id}"))
    };
    let table_rows = rows.iter().map(|config| {
        let provider = providers::label_key(&config.provider)
            .map(|key| tr.t(key).to_string())
            .unwrap_or_else(|| config.provider.clone());
        let (c1, c2, c3, c4, c5, c6) = (config.clone(), config.clone(), config.clone(), config.clone(), config.clone(), config.clone());
        let (editing, testing, templates, deleting, toggle, copying) =
            (editing.clone(), testing.clone(), templates.clone(), deleting.clone(), toggle.clone(), copying.clone());
        html! {
            <tr key={config.id} data-testid={format!("config-row-{}", config.id)}>
                <td class="num">{ config.id }</td>
                <td class="strong">{ config.name.clone() }</td>
                <td>{ provider }</td>
                <td><code>{ config.model.clone() }</code></td>
                <td data-testid={format!("config-routing-{}", config.id)}>
                    <KeySummary keys={config.api_keys.clone()} />
                    if !config.fallback_config_ids.is_empty() {
                        <div class="muted small">{ tr.tf("fallback.list", &[("names", &config.fallback_config_ids.iter().map(name_of).collect::<Vec<_>>().join(" → "))]) }</div>
                    }
                </td>
                <td>
                    <ActiveBadge active={config.is_active} />
                    if let Some(until) = &config.circuit_open_until {
                        <div data-testid={format!("config-circuit-{}", config.id)}>
                            <Badge tone="amber">{ tr.tf("breaker.open_until", &[("time", &app.datetime(until))]) }</Badge>
                        </div>
                    }
                </td>
                <td class="nowrap">{ app.datetime(&config.created_at) }</td>
                <td class="actions">
                    <button type="button" class="link-btn" data-testid={format!("config-edit-{}", config.id)}
                        onclick={Callback::from(move |_| editing.set(Some(Some(c1.clone()))))}>
                        <Icon name="edit" />{ tr.t("common.edit") }
                    </button>
                    <button type="button" class="link-btn" data-testid={format!("config-test-{}", config.id)}
                        onclick={Callback::from(move |_| testing.set(Some(TestTarget::saved(&c2))))}>
                        <Icon name="zap" />{ tr.t("config.test") }
                    </button>
                    <button type="button" class="link-btn" data-testid={format!("config-copy-{}", config.id)}
                        onclick={Callback::from(move |_| copying.set(Some(c6.clone())))}>
                        <Icon name="copy" />{ tr.t("config.copy") }
                    </button>
                    <button type="button" class="link-btn" data-testid={format!("config-templates-{}", config.id)}
                        onclick={Callback::from(move |_| templates.set(Some(c3.clone())))}>
                        <Icon name="file" />{ tr.t("config.templates") }
                    </button>
                    <button type="button" class="link-btn" data-testid={format!("config-toggle-{}", config.id)}
                        onclick={Callback::from(move |_| toggle.emit(c4.clone()))}>
                        <Icon name="power" />{ if config.is_active { tr.t("common.disable") } else { tr.t("common.enable") } }
                    </button>
                    <button type="button" class="link-btn danger" data-testid={format!("config-delete-{}", config.id)}
                        onclick={Callback::from(move |_| deleting.set(Some(c5.clone())))}>
                        <Icon name="trash" />{ tr.t("common.delete") }
                    </button>
                </td>
            </tr>
        }
    });

    let on_saved = {
        let (editing, copying, reload) = (editing.clone(), copying.clone(), reload.clone());
        Callback::from(move |_: ConfigView| {
            editing.set(None);
            copying.set(None);
            reload.emit(());
        })
    };
    let retry = reload.clone();

    html! {
        <div class="page" data-testid="configs-page">
            <div class="toolbar">
                <button type="button" class="btn btn-primary" id="btn-add-config" data-testid="btn-add-config"
                    onclick={{ let editing = editing.clone(); Callback::from(move |_| editing.set(Some(None))) }}>
                    <Icon name="plus" />{ tr.t("config.add") }
                </button>
                <Link<Route> to={Route::Stats} classes="btn">
                    <span data-testid="btn-stats" class="btn-inner"><Icon name="chart" />{ tr.t("config.stats") }</span>
                </Link<Route>>
                <span class="spacer"></span>
                <input class="input search-input" type="search" data-testid="config-search" value={(*search).clone()}
                    placeholder={tr.t("config.search")} aria-label={tr.t("config.search")}
                    oninput={on_input({ let search = search.clone(); Callback::from(move |v| search.set(v)) })} />
                <select class="select select-auto" data-testid="config-sort" aria-label={tr.t("config.sort.id")}
                    onchange={on_select({ let sort = sort.clone(); Callback::from(move |v: String| sort.set(Sort::parse(&v))) })}>
                    { for Sort::ALL.iter().map(|s| html! {
                        <option value={s.value()} selected={*sort == *s}>{ tr.t(s.label()) }</option>
                    }) }
                </select>
                <button type="button" class="btn btn-ghost" data-testid="btn-refresh"
                    onclick={{ let reload = reload.clone(); Callback::from(move |_| reload.emit(())) }}>
                    <Icon name="refresh" />{ tr.t("common.refresh") }
                </button>
            </div>
            <DataTable testid="config-table" loading={configs.loading} error={configs.error.clone()}
                empty={rows.is_empty()} on_retry={Some(retry)}
                empty_text={(!all.is_empty()).then(|| AttrValue::from(tr.t("config.no_match")))} columns={vec![
                    Column::num("ID"),
                    Column::text(tr.t("config.name")),
                    Column::text(tr.t("config.provider")),
                    Column::text(tr.t("config.model")),
                    Column::text(tr.t("config.routing")),
                    Column::text(tr.t("common.status")),
                    Column::text(tr.t("common.created_at")),
                    Column::text(tr.t("common.actions")),
                ]}>
                { for table_rows }
            </DataTable>
            if let Some(source) = (*copying).clone() {
                <ConfigDialog config={None::<ConfigView>} copy_of={Some(source)} on_saved={on_saved.clone()} configs={all.clone()}
                    on_close={{ let copying = copying.clone(); Callback::from(move |_| copying.set(None)) }}
                    on_test={{ let testing = testing.clone(); Callback::from(move |c| testing.set(Some(c))) }}
                    on_templates={Callback::noop()} />
            }
            if let Some(config) = (*editing).clone() {
                <ConfigDialog config={config} on_saved={on_saved} configs={all.clone()} on_refresh={reload.clone()}
                    on_close={{ let editing = editing.clone(); Callback::from(move |_| editing.set(None)) }}
                    on_test={{ let testing = testing.clone(); Callback::from(move |c| testing.set(Some(c))) }}
                    on_templates={{ let templates = templates.clone(); Callback::from(move |c| templates.set(Some(c))) }} />
            }
            if let Some(target) = (*testing).clone() {
                <TestDialog {target}
                    on_close={{ let testing = testing.clone(); Callback::from(move |_| testing.set(None)) }} />
            }
            if let Some(config) = (*templates).clone() {
                <TemplatesDialog config={config}
                    on_close={{ let templates = templates.clone(); Callback::from(move |_| templates.set(None)) }} />
            }
            if let Some(config) = (*deleting).clone() {
                <Confirm title={tr.t("config.delete_title")}
                    message={tr.tf("config.delete_body", &[("name", &config.name)])}
                    confirm_label={Some(AttrValue::from(tr.t("common.delete")))}
                    busy={*busy} on_confirm={confirm_delete}
                    on_cancel={{ let deleting = deleting.clone(); Callback::from(move |_| deleting.set(None)) }} />
            }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_and_sorts() {
        let config = |id, name: &str, model: &str, provider: &str| ConfigView {
            id,
            name: name.into(),
            model: model.into(),
            provider: provider.into(),
            created_at: format!("2026-11-0{id}T00:00:00Z"),
            ..ConfigView::default()
        };
        let all = vec![
            config(1, "客服", "gpt-4o", "openai"),
            config(2, "总结", "qwen-plus", "aliyun"),
            config(3, "翻译", "GPT-4o-mini", "openai"),
        ];
        let ids = |rows: Vec<ConfigView>| rows.iter().map(|c| c.id).collect::<Vec<_>>();
        assert_eq!(ids(shown(&all, " gpt ", Sort::Id)), vec![1, 3]);
        assert_eq!(ids(shown(&all, "ALIYUN", Sort::Id)), vec![2]);
        assert_eq!(ids(shown(&all, "", Sort::Newest)), vec![3, 2, 1]);
        assert_eq!(ids(shown(&all, "", Sort::Provider)), vec![2, 1, 3]);
    }
}
