//! 汇率 (settings): what one unit of a currency is worth in CNY, for money budgets in
//! another currency than a config's prices. The table is saved as a whole.

use std::collections::BTreeMap;

use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::models::ExchangeRates;
use crate::components::form::on_input;
use crate::components::icon::Icon;
use crate::components::misc::{Alert, SettingsSection, TableState};
use crate::context::use_app;
use crate::hooks::{use_fetch, use_version};
use crate::rates_form::{self, BASE, RateRow};

#[component]
pub fn ExchangeRatesSection() -> Html {
    let app = use_app();
    let tr = app.tr;
    let (version, reload) = use_version();
    let stored = use_fetch::<ExchangeRates>(
        Some("/api/admin/settings/exchange-rates".into()),
        version,
        false,
    );
    let rows = use_state(Vec::<RateRow>::new);
    // Row index → message; the server's own complaint goes to the banner.
    let errors = use_state(BTreeMap::<usize, String>::new);
    let banner = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let saved_rows = stored
        .data
        .as_ref()
        .map(|r| rates_form::rows_of(&r.rates))
        .unwrap_or_default();
    {
        // The table starts from what is stored, and again after each save.
        let rows = rows.clone();
        use_effect_with(saved_rows.clone(), move |saved| rows.set(saved.clone()));
    }
    let edit = |apply: fn(&mut RateRow, String), index: usize| {
        let (rows, errors) = (rows.clone(), errors.clone());
        on_input(Callback::from(move |value: String| {
            let mut next = (*rows).clone();
            if let Some(row) = next.get_mut(index) {
                apply(row, value);
            }
            rows.set(next);
            errors.set(BTreeMap::new());
        }))
    };
    let add = {
        let rows = rows.clone();
        Callback::from(move |_: MouseEvent| {
            let mut next = (*rows).clone();
            next.push(RateRow::default());
            rows.set(next);
        })
    };
    let save = {
        let (rows, errors, banner, busy, app, reload) = (
            rows.clone(),
            errors.clone(),
            banner.clone(),
            busy.clone(),
            app.clone(),
            reload.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let body = match rates_form::to_body(&rows) {
                Ok(body) => body,
                Err(found) => {
                    let tr = app.tr;
                    errors.set(
                        found
                            .into_iter()
                            .map(|(i, key)| (i, tr.t(key).to_string()))
                            .collect(),
                    );
                    return;
                }
            };
            busy.set(true);
            let (banner, busy, app, reload) =
                (banner.clone(), busy.clone(), app.clone(), reload.clone());
            spawn_local(async move {
                let result = app
                    .api
                    .put::<ExchangeRates>("/api/admin/settings/exchange-rates", &body)
                    .await;
                busy.set(false);
                match result {
                    Ok(_) => {
                        banner.set(None);
                        app.success(app.tr.t("rates.saved"));
                        reload.emit(());
                    }
                    Err(err) => {
                        let (_, message) = crate::forms::place_error(&err, app.tr, &[]);
                        banner.set(message);
                    }
                }
            });
        })
    };
    let table_rows = rows.iter().enumerate().map(|(index, row)| {
        let remove = {
            let (rows, errors) = (rows.clone(), errors.clone());
            Callback::from(move |_: MouseEvent| {
                let mut next = (*rows).clone();
                next.remove(index);
                rows.set(next);
                errors.set(BTreeMap::new());
            })
        };
        let error = errors.get(&index).cloned();
        html! {
            <tr key={index} data-testid={format!("rate-row-{index}")} class={classes!(error.is_some().then_some("has-error"))}>
                <td>
                    <input class="input input-code" maxlength="8" value={row.currency.clone()} placeholder="USD"
                        aria-label={tr.t("rates.currency")} data-testid={format!("rate-currency-{index}")}
                        oninput={edit(|r, v| r.currency = v, index)} />
                </td>
                <td>
                    <div class="input-suffix">
                        <input class="input" type="number" min="0" step="any" value={row.rate.clone()}
                            aria-label={tr.t("rates.rate")} data-testid={format!("rate-value-{index}")}
                            oninput={edit(|r, v| r.rate = v, index)} />
                        <span>{ BASE }</span>
                    </div>
                    if let Some(error) = error {
                        <div class="field-error" role="alert" data-testid={format!("rate-error-{index}")}>{ error }</div>
                    }
                </td>
                <td class="actions">
                    <button type="button" class="link-btn danger" onclick={remove} data-testid={format!("rate-remove-{index}")}>
                        <Icon name="trash" />{ tr.t("common.delete") }
                    </button>
                </td>
            </tr>
        }
    });
    let dirty = *rows != saved_rows;
    html! {
        <SettingsSection title={tr.t("rates.title")} intro={tr.t("rates.intro")} testid="rates-section">
            if let Some(message) = (*banner).clone() {
                <Alert testid="rates-error">{ message }</Alert>
            }
            <table class="table rates-table" data-testid="rates-table">
                <thead><tr>
                    <th>{ tr.t("rates.currency") }</th>
                    <th>{ tr.tf("rates.rate_in", &[("base", BASE)]) }</th>
                    <th>{ tr.t("common.actions") }</th>
                </tr></thead>
                <tbody>
                    { for table_rows }
                    <TableState colspan={3} loading={stored.loading} error={stored.error.clone()}
                        empty={rows.is_empty()} on_retry={Some(reload.clone())}
                        empty_text={Some(AttrValue::from(tr.t("rates.empty")))} />
                </tbody>
            </table>
            <div class="toolbar settings-actions">
                <button type="button" class="btn" onclick={add} data-testid="rate-add">
                    <Icon name="plus" />{ tr.t("rates.add") }
                </button>
                <span class="spacer"></span>
                if dirty { <span class="muted small" data-testid="rates-unsaved">{ tr.t("rates.unsaved") }</span> }
                <button type="button" class="btn btn-primary" onclick={save} disabled={*busy || !dirty} data-testid="rates-save">
                    if *busy { <span class="spinner"></span> }
                    { tr.t("common.save") }
                </button>
            </div>
        </SettingsSection>
    }
}
