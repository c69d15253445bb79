//! `/admin/settings` (系统设置): one card per concern, each its own component with its own
//! loading and saving, so another concern (e.g. alert webhooks) is one more section here.

use yew::prelude::*;

use super::settings_rates::ExchangeRatesSection;

#[derive(Properties, PartialEq)]
pub struct SettingsSectionProps {
    pub title: AttrValue,
    /// What the settings are for, in a sentence.
    pub intro: AttrValue,
    /// `data-testid` of the card.
    pub testid: AttrValue,
    pub children: Html,
}

/// The frame of one section: title, what it is for, its content.
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

#[component]
pub fn SettingsPage() -> Html {
    html! {
        <div class="page settings-page" data-testid="settings-page">
            <ExchangeRatesSection />
        </div>
    }
}
