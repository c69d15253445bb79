//! `/admin/settings` (系统设置): one card per concern, each its own component with its own
//! loading and saving, so another concern is one more section here (webhooks live with the
//! alerts they deliver, on the alerts page).

use yew::prelude::*;

use super::settings_rates::ExchangeRatesSection;

#[component]
pub fn SettingsPage() -> Html {
    html! {
        <div class="page settings-page" data-testid="settings-page">
            <ExchangeRatesSection />
        </div>
    }
}
