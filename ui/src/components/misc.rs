//! Small display pieces: status badges, stat cards, and the loading / empty / error states
//! of a table.

use yew::prelude::*;

use yew::platform::spawn_local;

use super::icon::Icon;
use crate::api::ApiError;
use crate::context::use_app;

#[derive(Properties, PartialEq)]
pub struct BadgeProps {
    /// `green`, `red`, `gray`, `blue` or `amber`.
    pub tone: AttrValue,
    pub children: Html,
    #[prop_or_default]
    pub title: Option<AttrValue>,
}

#[component]
pub fn Badge(props: &BadgeProps) -> Html {
    html! {
        <span class={classes!("badge", format!("badge-{}", props.tone))} title={props.title.clone()}>
            { props.children.clone() }
        </span>
    }
}

/// 启用 / 禁用.
#[component]
pub fn ActiveBadge(props: &ActiveProps) -> Html {
    let tr = use_app().tr;
    if props.active {
        html! { <Badge tone="green">{ tr.t("common.enabled") }</Badge> }
    } else {
        html! { <Badge tone="gray">{ tr.t("common.disabled") }</Badge> }
    }
}

#[derive(Properties, PartialEq)]
pub struct ActiveProps {
    pub active: bool,
}

#[derive(Properties, PartialEq)]
pub struct StatCardProps {
    pub title: AttrValue,
    pub value: AttrValue,
    pub icon: AttrValue,
    /// Colour of the icon chip: `blue`, `green`, `amber`, `violet`, `rose`.
    pub tone: AttrValue,
    #[prop_or_default]
    pub sub: Option<AttrValue>,
    #[prop_or_default]
    pub testid: AttrValue,
}

#[component]
pub fn StatCard(props: &StatCardProps) -> Html {
    html! {
        <div class="stat-card" data-testid={props.testid.clone()}>
            <div class={classes!("stat-icon", format!("tone-{}", props.tone))}><Icon name={props.icon.clone()} /></div>
            <div class="stat-body">
                <div class="stat-title">{ props.title.clone() }</div>
                <div class="stat-value">{ props.value.clone() }</div>
                if let Some(sub) = &props.sub { <div class="stat-sub">{ sub.clone() }</div> }
            </div>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct TableStateProps {
    pub colspan: usize,
    pub loading: bool,
    pub error: Option<ApiError>,
    pub empty: bool,
    #[prop_or_default]
    pub on_retry: Option<Callback<()>>,
    /// What an empty table says instead of 暂无数据 (a search that matched nothing).
    #[prop_or_default]
    pub empty_text: Option<AttrValue>,
}

/// One table row that says "loading", "no data" or shows the error with a retry button;
/// nothing when there are rows to show.
#[component]
pub fn TableState(props: &TableStateProps) -> Html {
    let tr = use_app().tr;
    let colspan = props.colspan.to_string();
    if let Some(err) = &props.error {
        let retry = props.on_retry.clone().map(|cb| {
            html! {
                <button type="button" class="btn btn-sm" onclick={Callback::from(move |_| cb.emit(()))}>
                    <Icon name="refresh" />{ tr.t("common.retry") }
                </button>
            }
        });
        return html! {
            <tr class="state-row"><td colspan={colspan}>
                <div class="state state-error" role="alert" data-testid="load-error">
                    <Icon name="alert" />
                    <span>{ err.display(tr) }</span>
                    <code class="err-code">{ err.code.clone() }</code>
                    { retry.unwrap_or_default() }
                </div>
            </td></tr>
        };
    }
    if props.loading && props.empty {
        return html! {
            <tr class="state-row"><td colspan={colspan}>
                <div class="state"><span class="spinner"></span>{ tr.t("common.loading") }</div>
            </td></tr>
        };
    }
    if props.empty {
        return html! {
            <tr class="state-row"><td colspan={colspan}>
                <div class="state state-empty" data-testid="empty">
                    { props.empty_text.clone().unwrap_or_else(|| tr.t("common.empty").into()) }
                </div>
            </td></tr>
        };
    }
    Html::default()
}

#[derive(Properties, PartialEq)]
pub struct AlertProps {
    pub children: Html,
    /// `error` (default), `warning` or `info`.
    #[prop_or(AttrValue::Static("error"))]
    pub kind: AttrValue,
    #[prop_or_default]
    pub testid: AttrValue,
}

/// A message box inside a page or dialog.
#[component]
pub fn Alert(props: &AlertProps) -> Html {
    let icon = if props.kind == "info" {
        "info"
    } else {
        "alert"
    };
    html! {
        <div class={classes!("alert", format!("alert-{}", props.kind))} role="alert" data-testid={props.testid.clone()}>
            <Icon name={icon} />
            <div class="alert-text">{ props.children.clone() }</div>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct UsageBarProps {
    pub used: i64,
    pub limit: Option<i64>,
}

/// Used / limit as a bar (amber above 80 %, red at the limit); "unlimited" without one.
#[component]
pub fn UsageBar(props: &UsageBarProps) -> Html {
    let tr = use_app().tr;
    let used = crate::format::compact(props.used);
    match props.limit {
        Some(limit) if limit > 0 => {
            let ratio = (props.used as f64 / limit as f64).clamp(0.0, 1.0);
            let tone = if ratio >= 1.0 {
                "red"
            } else if ratio >= 0.8 {
                "amber"
            } else {
                "green"
            };
            html! {
                <div class="usage" title={format!("{} / {}", crate::format::thousands(props.used), crate::format::thousands(limit))}>
                    <div class="usage-text">{ format!("{used} / {}", crate::format::compact(limit)) }</div>
                    <div class="usage-track"><div class={classes!("usage-fill", format!("fill-{tone}"))}
                        style={format!("width:{:.1}%", ratio * 100.0)}></div></div>
                </div>
            }
        }
        Some(_) => html! {
            <div class="usage"><div class="usage-text">{ format!("{used} / 0") }</div>
            <div class="usage-track"><div class="usage-fill fill-red" style="width:100%"></div></div></div>
        },
        None => html! {
            <div class="usage"><div class="usage-text">{ used }<span class="muted">{ format!(" · {}", tr.t("common.unlimited")) }</span></div></div>
        },
    }
}

/// Says which time zone the page's times and days are in: the server's.
#[component]
pub fn ZoneNote() -> Html {
    let app = use_app();
    if app.tz_name.is_empty() {
        return Html::default();
    }
    let now = (crate::platform::now_ms() / 1000.0) as i64;
    let offset = crate::dates::utc_offset(app.tz.offset_at(now));
    html! {
        <span class="muted small zone-note" data-testid="zone-note">
            <Icon name="clock" />
            { app.tr.tf("zone.note", &[("zone", &app.tz_name), ("offset", &offset)]) }
        </span>
    }
}

/// Shown before 展开: enough to recognise a text, short enough that a 57,000-character
/// system prompt does not bury the rest of a record.
const COLLAPSED_CHARS: usize = 600;
const COLLAPSED_LINES: usize = 12;

/// The first part of a long text, cut at a character (never inside one), or None when
/// it is short enough to show whole.
pub fn collapsed(text: &str) -> Option<String> {
    let by_lines = text
        .match_indices('\n')
        .nth(COLLAPSED_LINES - 1)
        .map(|(at, _)| at);
    let by_chars = text.char_indices().nth(COLLAPSED_CHARS).map(|(at, _)| at);
    let cut = match (by_lines, by_chars) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b)?,
    };
    Some(text[..cut].to_string())
}

#[derive(Properties, PartialEq)]
pub struct LongTextProps {
    pub text: AttrValue,
    #[prop_or_default]
    pub testid: AttrValue,
    /// `pre` for a code block, else wrapped text.
    #[prop_or_default]
    pub pre: bool,
}

/// A text from a record: long ones collapsed with 展开 / 收起, and a copy button.
#[component]
pub fn LongText(props: &LongTextProps) -> Html {
    let app = use_app();
    let tr = app.tr;
    let open = use_state(|| false);
    let short = collapsed(&props.text);
    let shown = match (&short, *open) {
        (Some(head), false) => format!("{head}…"),
        _ => props.text.to_string(),
    };
    let toggle = {
        let open = open.clone();
        Callback::from(move |_: MouseEvent| open.set(!*open))
    };
    let copy = {
        let (app, text) = (app.clone(), props.text.clone());
        Callback::from(move |_: MouseEvent| {
            let (app, text) = (app.clone(), text.clone());
            spawn_local(async move {
                if crate::platform::copy_text(&text).await {
                    app.success(app.tr.t("common.copied"));
                } else {
                    app.error(app.tr.t("common.copy_failed"));
                }
            });
        })
    };
    let total = props.text.chars().count().to_string();
    html! {
        <div class="long-text" data-testid={props.testid.clone()}>
            <div class={if props.pre { "pre" } else { "pre-wrap" }}>{ shown }</div>
            <div class="long-text-actions">
                if short.is_some() {
                    <button type="button" class="link-btn small" onclick={toggle} data-testid="toggle-long">
                        { if *open { tr.t("common.collapse").to_string() } else { tr.tf("common.expand_all", &[("n", &total)]) } }
                    </button>
                }
                if !props.text.is_empty() {
                    <button type="button" class="link-btn small" onclick={copy} data-testid="copy-text" title={tr.t("common.copy")}>
                        <Icon name="copy" />{ tr.t("common.copy") }
                    </button>
                }
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_cut_at_a_character_or_a_line() {
        assert_eq!(collapsed("短文本"), None);
        let long = "字".repeat(57_000);
        assert_eq!(
            collapsed(&long).map(|s| s.chars().count()),
            Some(COLLAPSED_CHARS)
        );
        let lines = "a\n".repeat(40);
        assert_eq!(
            collapsed(&lines).map(|s| s.lines().count()),
            Some(COLLAPSED_LINES)
        );
    }
}

#[derive(Properties, PartialEq)]
pub struct SettingsSectionProps {
    pub title: AttrValue,
    /// What the settings are for, in a sentence.
    pub intro: AttrValue,
    /// `data-testid` of the card.
    pub testid: AttrValue,
    pub children: Html,
}

/// The frame of one settings section: title, what it is for, its content.
#[component]
pub fn SettingsSection(props: &SettingsSectionProps) -> Html {
    html! {
        <section class="card settings-section" data-testid={props.testid.clone()}>
            <div class="card-head"><h3>{ props.title.clone() }</h3></div>
            <div class="settings-body">
                <p class="muted">{ props.intro.clone() }</p>
                { props.children.clone() }
            </div>
        </section>
    }
}
