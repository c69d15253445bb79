//! The list table every page shows: headings, the rows, one state row while loading, empty
//! or failed, and what goes below it (paging).

use yew::prelude::*;

use super::misc::TableState;
use crate::api::ApiError;

/// One heading; numeric columns align right.
#[derive(Clone, PartialEq)]
pub struct Column {
    label: AttrValue,
    numeric: bool,
}

impl Column {
    pub fn text(label: impl Into<AttrValue>) -> Self {
        Self {
            label: label.into(),
            numeric: false,
        }
    }

    pub fn num(label: impl Into<AttrValue>) -> Self {
        Self {
            label: label.into(),
            numeric: true,
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct DataTableProps {
    /// The table's `id` and `data-testid`.
    pub testid: AttrValue,
    pub columns: Vec<Column>,
    /// The `<tr>` rows.
    pub children: Html,
    pub loading: bool,
    pub error: Option<ApiError>,
    pub empty: bool,
    #[prop_or_default]
    pub on_retry: Option<Callback<()>>,
    #[prop_or_default]
    pub empty_text: Option<AttrValue>,
    /// Below the table, inside its card (the pager).
    #[prop_or_default]
    pub footer: Html,
    /// Without the card, for a table inside a dialog.
    #[prop_or_default]
    pub plain: bool,
}

#[component]
pub fn DataTable(props: &DataTableProps) -> Html {
    let table = html! {
        <div class="table-scroll">
            <table class="table" id={props.testid.clone()} data-testid={props.testid.clone()}>
                <thead><tr>
                    { for props.columns.iter().map(|c| html! {
                        <th class={classes!(c.numeric.then_some("num"))}>{ c.label.clone() }</th>
                    }) }
                </tr></thead>
                <tbody>
                    { props.children.clone() }
                    <TableState colspan={props.columns.len()} loading={props.loading} error={props.error.clone()}
                        empty={props.empty} on_retry={props.on_retry.clone()} empty_text={props.empty_text.clone()} />
                </tbody>
            </table>
        </div>
    };
    if props.plain {
        return table;
    }
    html! {
        <div class="card table-card">
            { table }
            { props.footer.clone() }
        </div>
    }
}
