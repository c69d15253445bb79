//! 用户管理: admins, ordinary users and their sub-accounts (listed under their owner);
//! create, edit role/owner/group, enable/disable, reset password, delete.

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::models::{GroupView, UserView};
use crate::components::dialog::{Confirm, FormDialog};
use crate::components::form::{Field, Switch, on_input, on_select};
use crate::components::icon::Icon;
use crate::components::misc::Badge;
use crate::components::table::{Column, DataTable};
use crate::context::use_app;
use crate::hooks::{use_fetch, use_version};
use crate::session::role_label;

/// Users in display order: each non-sub-account, then its sub-accounts; orphans last.
/// The flag says the row is a sub-account shown under its owner.
fn ordered(users: &[UserView]) -> Vec<(UserView, bool)> {
    let mut out = Vec::with_capacity(users.len());
    let is_child = |u: &UserView| {
        u.role == "subaccount" && u.parent_id.is_some_and(|p| users.iter().any(|o| o.id == p))
    };
    for user in users.iter().filter(|u| !is_child(u)) {
        out.push((user.clone(), false));
        for child in users
            .iter()
            .filter(|c| is_child(c) && c.parent_id == Some(user.id))
        {
            out.push((child.clone(), true));
        }
    }
    out
}

/// Fields the form shows; a server error on any other field goes to the banner.
const FORM_FIELDS: [&str; 5] = ["group_id", "parent_id", "password", "role", "username"];
#[derive(Clone, PartialEq)]
enum Modal {
    None,
    Edit(Option<UserView>),
    Password(UserView),
    Delete(UserView),
}

#[component]
pub fn UsersPage() -> Html {
    let app = use_app();
    let tr = app.tr;
    let (version, reload) = use_version();
    let users = use_fetch::<Vec<UserView>>(Some("/api/admin/users".into()), version, false);
    let groups = use_fetch::<Vec<GroupView>>(Some("/api/admin/groups".into()), 0, false);
    let modal = use_state(|| Modal::None);
    let all = users.data.clone().unwrap_or_default();
    let group_list = groups.data.clone().unwrap_or_default();
    let me = app
        .session
        .as_ref()
        .map(|s| s.username.clone())
        .unwrap_or_default();

    let toggle = {
        let (app, reload) = (app.clone(), reload.clone());
        Callback::from(move |user: UserView| {
            let (app, reload) = (app.clone(), reload.clone());
            spawn_local(async move {
                let body = json!({ "is_active": !user.is_active });
                match app
                    .api
                    .put::<UserView>(&format!("/api/admin/users/{}", user.id), &body)
                    .await
                {
                    Ok(saved) => {
                        let key = if saved.is_active {
                            "config.enabled_ok"
                        } else {
                            "config.disabled_ok"
                        };
                        app.success(app.tr.tf(key, &[("name", &saved.username)]));
                        reload.emit(());
                    }
                    Err(err) => app.api_error(&err),
                }
            });
        })
    };
    let confirm_delete = {
        let (app, reload, modal) = (app.clone(), reload.clone(), modal.clone());
        Callback::from(move |_| {
            let Modal::Delete(user) = (*modal).clone() else {
                return;
            };
            let (app, reload, modal) = (app.clone(), reload.clone(), modal.clone());
            spawn_local(async move {
                let result = app
                    .api
                    .delete(&format!("/api/admin/users/{}", user.id))
                    .await;
                modal.set(Modal::None);
                match result {
                    Ok(()) => {
                        app.success(
                            app.tr
                                .tf("common.deleted_named", &[("name", &user.username)]),
                        );
                        reload.emit(());
                    }
                    Err(err) => app.api_error(&err),
                }
            });
        })
    };

    let name_of = |id: Option<i32>| {
        id.map(|id| {
            all.iter()
                .find(|u| u.id == id)
                .map(|u| u.username.clone())
                .unwrap_or_else(|| format!("#{id}"))
        })
        .unwrap_or_else(|| "-".into())
    };
    let group_of = |id: Option<i32>| {
        id.map(|id| {
            group_list
                .iter()
                .find(|g| g.id == id)
                .map(|g| g.name.clone())
                .unwrap_or_else(|| format!("#{id}"))
        })
        .unwrap_or_else(|| "-".into())
    };
    let rows = ordered(&all);
    let table_rows = rows.iter().map(|(user, nested)| {
        let (u1, u2, u3, u4) = (user.clone(), user.clone(), user.clone(), user.clone());
        let (m1, m2, m3, toggle) = (modal.clone(), modal.clone(), modal.clone(), toggle.clone());
        let tone = match user.role.as_str() {
            "admin" => "violet",
            "user" => "blue",
            _ => "gray",
        };
        let role = role_label(&user.role).map(|k| tr.t(k).to_string()).unwrap_or_else(|| user.role.clone());
        html! {
            <tr key={user.id} data-testid={format!("user-row-{}", user.id)} class={classes!(nested.then_some("nested"))}>
                <td class="num">{ user.id }</td>
                <td class="strong">
                    if *nested { <span class="tree">{ "└ " }</span> }
                    { user.username.clone() }
                    if user.username == me { <span class="muted small">{ format!(" ({})", tr.t("user.me")) }</span> }
                </td>
                <td><Badge tone={tone}>{ role }</Badge></td>
                <td>{ name_of(user.parent_id) }</td>
                <td>{ group_of(user.group_id) }</td>
                <td>
                    if user.is_active { <Badge tone="green">{ tr.t("user.active") }</Badge> }
                    else { <Badge tone="gray">{ tr.t("user.inactive") }</Badge> }
                </td>
                <td class="nowrap">{ app.opt_datetime(user.last_login_at.as_ref()) }</td>
                <td class="nowrap">{ app.datetime(&user.created_at) }</td>
                <td class="actions">
                    <button type="button" class="link-btn" data-testid={format!("user-edit-{}", user.id)}
                        onclick={Callback::from(move |_| m1.set(Modal::Edit(Some(u1.clone()))))}>
                        <Icon name="edit" />{ tr.t("common.edit") }
                    </button>
                    <button type="button" class="link-btn" data-testid={format!("user-password-{}", user.id)}
                        onclick={Callback::from(move |_| m2.set(Modal::Password(u2.clone())))}>
                        <Icon name="lock" />{ tr.t("user.reset_password") }
                    </button>
                    // The server refuses to stop or delete the signed-in account: not offered.
                    if user.username != me {
                        <button type="button" class="link-btn" data-testid={format!("user-toggle-{}", user.id)}
                            onclick={Callback::from(move |_| toggle.emit(u3.clone()))}>
                            <Icon name="power" />{ if user.is_active { tr.t("user.deactivate") } else { tr.t("user.activate") } }
                        </button>
                        <button type="button" class="link-btn danger" data-testid={format!("user-delete-{}", user.id)}
                            onclick={Callback::from(move |_| m3.set(Modal::Delete(u4.clone())))}>
                            <Icon name="trash" />{ tr.t("common.delete") }
                        </button>
                    }
                </td>
            </tr>
        }
    });
    let close = {
        let modal = modal.clone();
        Callback::from(move |_: ()| modal.set(Modal::None))
    };
    let saved = {
        let (modal, reload) = (modal.clone(), reload.clone());
        Callback::from(move |_: ()| {
            modal.set(Modal::None);
            reload.emit(());
        })
    };
    let owners: Vec<UserView> = all.iter().filter(|u| u.role == "user").cloned().collect();

    html! {
        <div class="page" data-testid="users-page">
            <div class="toolbar">
                <button type="button" class="btn btn-primary" id="btn-add-user" data-testid="btn-add-user"
                    onclick={{ let modal = modal.clone(); Callback::from(move |_| modal.set(Modal::Edit(None))) }}>
                    <Icon name="plus" />{ tr.t("user.add") }
                </button>
                <span class="muted small">{ tr.t("user.about") }</span>
                <span class="spacer"></span>
                <button type="button" class="btn btn-ghost" onclick={{ let reload = reload.clone(); Callback::from(move |_| reload.emit(())) }}>
                    <Icon name="refresh" />{ tr.t("common.refresh") }
                </button>
            </div>
            <DataTable testid="user-table" loading={users.loading} error={users.error.clone()} empty={rows.is_empty()}
                on_retry={Some(reload.clone())} columns={vec![
                    Column::num("ID"),
                    Column::text(tr.t("user.username")),
                    Column::text(tr.t("user.role")),
                    Column::text(tr.t("user.parent")),
                    Column::text(tr.t("logs.group")),
                    Column::text(tr.t("common.status")),
                    Column::text(tr.t("user.last_login")),
                    Column::text(tr.t("common.created_at")),
                    Column::text(tr.t("common.actions")),
                ]}>
                { for table_rows }
            </DataTable>
            {
                match (*modal).clone() {
                    Modal::None => Html::default(),
                    Modal::Edit(user) => html! {
                        <UserDialog user={user} owners={owners} groups={group_list.clone()} on_close={close} on_saved={saved} />
                    },
                    Modal::Password(user) => html! { <PasswordDialog user={user} on_close={close} on_saved={saved} /> },
                    Modal::Delete(user) => html! {
                        <Confirm title={tr.t("user.delete_title")}
                            message={tr.tf(if user.role == "user" { "user.delete_body_children" } else { "user.delete_body" }, &[("name", &user.username)])}
                            confirm_label={Some(AttrValue::from(tr.t("common.delete")))} on_confirm={confirm_delete} on_cancel={close} />
                    },
                }
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct UserDialogProps {
    user: Option<UserView>,
    owners: Vec<UserView>,
    groups: Vec<GroupView>,
    on_close: Callback<()>,
    on_saved: Callback<()>,
}

#[component]
fn UserDialog(props: &UserDialogProps) -> Html {
    let app = use_app();
    let tr = app.tr;
    let original = props.user.clone();
    let initial = use_memo((), {
        let original = original.clone();
        move |_| UserFields::of(original.as_ref())
    });
    let username = use_state(|| initial.username.clone());
    let password = use_state(String::new);
    let role = use_state(|| initial.role.clone());
    let parent = use_state(|| initial.parent.clone());
    let group = use_state(|| initial.group.clone());
    let active = use_state(|| initial.active);
    let errors = use_state(HashMap::<String, String>::new);
    let banner = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let error_of = |field: &str| errors.get(field).cloned();

    let save = {
        let (username, password, role, parent, group, active) = (
            username.clone(),
            password.clone(),
            role.clone(),
            parent.clone(),
            group.clone(),
            active.clone(),
        );
        let (errors, banner, busy, app, on_saved) = (
            errors.clone(),
            banner.clone(),
            busy.clone(),
            app.clone(),
            props.on_saved.clone(),
        );
        let original = original.clone();
        Callback::from(move |_: ()| {
            let mut problems = HashMap::new();
            if username.trim().is_empty() {
                problems.insert(
                    "username".to_string(),
                    tr.tf("form.required", &[("label", tr.t("user.username"))]),
                );
            }
            if original.is_none() && password.chars().count() < 8 {
                problems.insert(
                    "password".to_string(),
                    tr.t("user.password_short").to_string(),
                );
            }
            if *role == "subaccount" && parent.is_empty() {
                problems.insert(
                    "parent_id".to_string(),
                    tr.tf("form.required", &[("label", tr.t("user.parent"))]),
                );
            }
            if !problems.is_empty() {
                errors.set(problems);
                return;
            }
            let mut body = Map::new();
            body.insert("username".into(), json!(username.trim()));
            body.insert("role".into(), json!(*role));
            body.insert("is_active".into(), json!(*active));
            if original.is_none() {
                body.insert("password".into(), json!(*password));
            }
            if let (true, Ok(parent)) = (*role == "subaccount", parent.parse::<i32>()) {
                body.insert("parent_id".into(), json!(parent));
            }
            if let Ok(group) = group.parse::<i32>() {
                body.insert("group_id".into(), json!(group));
            }
            let body = Value::Object(body);
            busy.set(true);
            let (errors, banner, busy, app, on_saved) = (
                errors.clone(),
                banner.clone(),
                busy.clone(),
                app.clone(),
                on_saved.clone(),
            );
            let id = original.as_ref().map(|u| u.id);
            spawn_local(async move {
                let result = match id {
                    Some(id) => {
                        app.api
                            .put::<UserView>(&format!("/api/admin/users/{id}"), &body)
                            .await
                    }
                    None => app.api.post::<UserView>("/api/admin/users", &body).await,
                };
                busy.set(false);
                match result {
                    Ok(saved) => {
                        app.success(
                            app.tr
                                .tf("common.saved_named", &[("name", &saved.username)]),
                        );
                        on_saved.emit(());
                    }
                    Err(err) => {
                        let (found, message) =
                            crate::forms::place_error(&err, app.tr, &FORM_FIELDS);
                        errors.set(found);
                        banner.set(message);
                    }
                }
            });
        })
    };
    let dirty = UserFields {
        username: (*username).clone(),
        role: (*role).clone(),
        parent: (*parent).clone(),
        group: (*group).clone(),
        active: *active,
    } != *initial
        || !password.is_empty();
    let editing = props.user.is_some();
    let title = if editing {
        tr.t("user.edit_title")
    } else {
        tr.t("user.add_title")
    };
    let owners: Vec<&UserView> = props
        .owners
        .iter()
        .filter(|o| Some(o.id) != props.user.as_ref().map(|u| u.id))
        .collect();
    let text = |handle: &UseStateHandle<String>| {
        let handle = handle.clone();
        Callback::from(move |v: String| handle.set(v))
    };
    html! {
        <FormDialog {title} name="user" {dirty} busy={*busy} banner={(*banner).clone()}
            on_save={save} on_close={props.on_close.clone()}>
            <Field label={tr.t("user.username")} id="user-username" required=true error={error_of("username")}>
                <input class="input" id="user-username" data-testid="user-username" maxlength="64" autocomplete="off"
                    value={(*username).clone()} oninput={on_input(text(&username))} />
            </Field>
            if !editing {
                <Field label={tr.t("user.password")} id="user-password" required=true error={error_of("password")}
                    hint={Some(AttrValue::from(tr.t("user.password_hint")))}>
                    <input class="input" type="password" id="user-password" data-testid="user-password" autocomplete="new-password"
                        value={(*password).clone()} oninput={on_input(text(&password))} />
                </Field>
            }
            <Field label={tr.t("user.role")} id="user-role" required=true error={error_of("role")}>
                <select class="select" id="user-role" data-testid="user-role" onchange={on_select(text(&role))}>
                    { for ["admin", "user", "subaccount"].iter().map(|r| html! {
                        <option value={*r} selected={*role == *r}>{ role_label(r).map(|k| tr.t(k)).unwrap_or(r) }</option>
                    }) }
                </select>
            </Field>
            if *role == "subaccount" {
                <Field label={tr.t("user.parent")} id="user-parent" required=true error={error_of("parent_id")}
                    hint={Some(AttrValue::from(tr.t("user.parent_hint")))}>
                    <select class="select" id="user-parent" data-testid="user-parent" onchange={on_select(text(&parent))}>
                        <option value="" selected={parent.is_empty()} disabled=true>{ tr.t("common.choose") }</option>
                        { for owners.iter().map(|o| html! {
                            <option value={o.id.to_string()} selected={*parent == o.id.to_string()}>{ o.username.clone() }</option>
                        }) }
                    </select>
                </Field>
            }
            <Field label={tr.t("logs.group")} id="user-group" error={error_of("group_id")}
                hint={editing.then(|| AttrValue::from(tr.t("user.group_hint")))}>
                <select class="select" id="user-group" data-testid="user-group" onchange={on_select(text(&group))}>
                    <option value="" selected={group.is_empty()}>{ tr.t("user.no_group") }</option>
                    { for props.groups.iter().map(|g| html! {
                        <option value={g.id.to_string()} selected={*group == g.id.to_string()}>{ g.name.clone() }</option>
                    }) }
                </select>
            </Field>
            <Field label={tr.t("common.status")} id="user-active">
                <Switch id="user-active" checked={*active} on_change={{ let active = active.clone(); Callback::from(move |v| active.set(v)) }}
                    label={if *active { tr.t("user.active") } else { tr.t("user.inactive") }} />
            </Field>
        </FormDialog>
    }
}

/// The user dialog's editable values as it opened, to tell a changed form from an untouched
/// one.
#[derive(Clone, PartialEq)]
struct UserFields {
    username: String,
    role: String,
    parent: String,
    group: String,
    active: bool,
}

impl UserFields {
    fn of(user: Option<&UserView>) -> Self {
        Self {
            username: user.map(|u| u.username.clone()).unwrap_or_default(),
            role: user.map_or_else(|| "user".into(), |u| u.role.clone()),
            parent: user
                .and_then(|u| u.parent_id)
                .map(|p| p.to_string())
                .unwrap_or_default(),
            group: user
                .and_then(|u| u.group_id)
                .map(|g| g.to_string())
                .unwrap_or_default(),
            active: user.is_none_or(|u| u.is_active),
        }
    }
}

#[derive(Properties, PartialEq)]
struct PasswordDialogProps {
    user: UserView,
    on_close: Callback<()>,
    on_saved: Callback<()>,
}

#[component]
fn PasswordDialog(props: &PasswordDialogProps) -> Html {
    let app = use_app();
    let tr = app.tr;
    let password = use_state(String::new);
    let repeat = use_state(String::new);
    let errors = use_state(HashMap::<String, String>::new);
    let banner = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let save = {
        let (password, repeat, errors, banner, busy, app, on_saved) = (
            password.clone(),
            repeat.clone(),
            errors.clone(),
            banner.clone(),
            busy.clone(),
            app.clone(),
            props.on_saved.clone(),
        );
        let id = props.user.id;
        Callback::from(move |_: ()| {
            if password.chars().count() < 8 {
                errors.set(HashMap::from([(
                    "password".to_string(),
                    tr.t("user.password_short").to_string(),
                )]));
                return;
            }
            if *password != *repeat {
                errors.set(HashMap::from([(
                    "repeat".to_string(),
                    tr.t("user.password_mismatch").to_string(),
                )]));
                return;
            }
            errors.set(HashMap::new());
            busy.set(true);
            let body = json!({ "password": *password });
            let (errors, banner, busy, app, on_saved) = (
                errors.clone(),
                banner.clone(),
                busy.clone(),
                app.clone(),
                on_saved.clone(),
            );
            spawn_local(async move {
                let result = app
                    .api
                    .put::<UserView>(&format!("/api/admin/users/{id}"), &body)
                    .await;
                busy.set(false);
                match result {
                    Ok(user) => {
                        app.success(
                            app.tr
                                .tf("user.password_reset_ok", &[("name", &user.username)]),
                        );
                        on_saved.emit(());
                    }
                    Err(err) => {
                        let (found, message) =
                            crate::forms::place_error(&err, app.tr, &["password"]);
                        errors.set(found);
                        banner.set(message);
                    }
                }
            });
        })
    };
    let dirty = !password.is_empty() || !repeat.is_empty();
    html! {
        <FormDialog title={tr.tf("user.password_title", &[("name", &props.user.username)])} name="password" size="sm"
            {dirty} busy={*busy} banner={(*banner).clone()} on_save={save} on_close={props.on_close.clone()}>
            <Field label={tr.t("user.new_password")} id="new-password" required=true error={errors.get("password").cloned()}
                hint={Some(AttrValue::from(tr.t("user.password_hint")))}>
                <input class="input" type="password" id="new-password" data-testid="new-password" autocomplete="new-password"
                    value={(*password).clone()} oninput={on_input({ let p = password.clone(); Callback::from(move |v| p.set(v)) })} />
            </Field>
            <Field label={tr.t("user.repeat_password")} id="repeat-password" required=true error={errors.get("repeat").cloned()}>
                <input class="input" type="password" id="repeat-password" data-testid="repeat-password" autocomplete="new-password"
                    value={(*repeat).clone()} oninput={on_input({ let r = repeat.clone(); Callback::from(move |v| r.set(v)) })} />
            </Field>
        </FormDialog>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: i32, role: &str, parent: Option<i32>) -> UserView {
        UserView {
            id,
            role: role.into(),
            parent_id: parent,
            ..UserView::default()
        }
    }

    #[test]
    fn lists_sub_accounts_under_their_owner() {
        let users = vec![
            user(1, "admin", None),
            user(2, "user", None),
            user(3, "subaccount", Some(4)),
            user(4, "user", None),
            user(5, "subaccount", Some(2)),
            user(6, "subaccount", Some(99)),
        ];
        let order: Vec<(i32, bool)> = ordered(&users).iter().map(|(u, n)| (u.id, *n)).collect();
        assert_eq!(
            order,
            vec![
                (1, false),
                (2, false),
                (5, true),
                (4, false),
                (3, true),
                (6, false)
            ]
        );
    }
}
