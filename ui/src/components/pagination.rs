//! "共 N 条" (or "共 N+ 条" when the server stopped counting), page size choice and page
//! buttons under a table.

use yew::prelude::*;

use super::icon::Icon;
use crate::context::use_app;
use crate::query::{PAGE_SIZES, page_count, page_window};

#[derive(Properties, PartialEq)]
pub struct PaginationProps {
    pub total: i64,
    /// More than `total` records exist (the server's count stopped there): one more page
    /// than `total` fills is offered, and the total reads "N+".
    #[prop_or_default]
    pub more: bool,
    pub page: u32,
    pub page_size: u32,
    pub on_page: Callback<u32>,
    pub on_page_size: Callback<u32>,
}

#[component]
pub fn Pagination(props: &PaginationProps) -> Html {
    let tr = use_app().tr;
    let count = match props.more {
        true => page_count(props.total, props.page_size).max(props.page) + 1,
        false => page_count(props.total, props.page_size),
    };
    let total_key = if props.more {
        "page.total_at_least"
    } else {
        "page.total"
    };
    let page = props.page.clamp(1, count);
    let go = |target: u32| {
        let on_page = props.on_page.clone();
        Callback::from(move |_: MouseEvent| on_page.emit(target))
    };
    let on_size = {
        let cb = props.on_page_size.clone();
        Callback::from(move |e: Event| {
            let select: web_sys::HtmlSelectElement = e.target_unchecked_into();
            if let Ok(size) = select.value().parse() {
                cb.emit(size);
            }
        })
    };
    html! {
        <div class="pagination" data-testid="pagination">
            <span class="total" data-testid="pagination-total">
                { tr.tf(total_key, &[("n", &crate::format::thousands(props.total))]) }
            </span>
            <select class="select select-sm" onchange={on_size} aria-label={tr.t("page.size")} data-testid="page-size">
                { for PAGE_SIZES.iter().map(|size| html! {
                    <option value={size.to_string()} selected={*size == props.page_size}>
                        { tr.tf("page.per", &[("n", &size.to_string())]) }
                    </option>
                }) }
            </select>
            <button type="button" class="page-btn" disabled={page <= 1} onclick={go(page.saturating_sub(1))}
                aria-label={tr.t("page.prev")} data-testid="page-prev">
                <Icon name="left" />
            </button>
            { for page_window(page, count).into_iter().map(|item| match item {
                Some(p) => html! {
                    <button type="button" class={classes!("page-btn", (p == page).then_some("active"))}
                        onclick={go(p)} data-testid={format!("page-{p}")}>{ p }</button>
                },
                None => html! { <span class="page-gap">{ "…" }</span> },
            }) }
            <button type="button" class="page-btn" disabled={page >= count} onclick={go(page + 1)}
                aria-label={tr.t("page.next")} data-testid="page-next">
                <Icon name="right" />
            </button>
        </div>
    }
}
