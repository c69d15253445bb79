//! Loading a resource for a page: keeps the last data while reloading, ignores answers that
//! arrive after a newer request, and keeps the error to show in place.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use serde::de::DeserializeOwned;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::ApiError;
use crate::api::models::GroupUsage;
use crate::context::use_app;

#[derive(Debug, Clone, PartialEq)]
pub struct Fetch<T> {
    pub data: Option<T>,
    pub error: Option<ApiError>,
    pub loading: bool,
}

impl<T> Default for Fetch<T> {
    fn default() -> Self {
        Self {
            data: None,
            error: None,
            loading: true,
        }
    }
}

/// GETs `path` (its `data`, or the whole envelope when `whole`) whenever `path` or
/// `version` changes; `None` fetches nothing.
#[hook]
pub fn use_fetch<T>(path: Option<String>, version: u32, whole: bool) -> UseStateHandle<Fetch<T>>
where
    T: DeserializeOwned + Clone + PartialEq + 'static,
{
    let app = use_app();
    let state = use_state(Fetch::<T>::default);
    let latest: Rc<RefCell<u32>> = use_mut_ref(|| 0);
    {
        let state = state.clone();
        use_effect_with((path, version), move |(path, _)| {
            let ticket = {
                let mut latest = latest.borrow_mut();
                *latest = latest.wrapping_add(1);
                *latest
            };
            match path.clone() {
                None => state.set(Fetch {
                    data: None,
                    error: None,
                    loading: false,
                }),
                Some(path) => {
                    state.set(Fetch {
                        data: state.data.clone(),
                        error: None,
                        loading: true,
                    });
                    spawn_local(async move {
                        let result = if whole {
                            app.api.get_whole::<T>(&path).await
                        } else {
                            app.api.get::<T>(&path).await
                        };
                        if *latest.borrow() != ticket {
                            return;
                        }
                        state.set(match result {
                            Ok(data) => Fetch {
                                data: Some(data),
                                error: None,
                                loading: false,
                            },
                            Err(err) => Fetch {
                                data: None,
                                error: Some(err),
                                loading: false,
                            },
                        });
                    });
                }
            }
            || ()
        });
    }
    state
}

#[derive(Default, PartialEq)]
struct Counter(u32);

impl Reducible for Counter {
    type Action = ();

    fn reduce(self: Rc<Self>, _: ()) -> Rc<Self> {
        Rc::new(Counter(self.0.wrapping_add(1)))
    }
}

/// A counter to bump when a list must be fetched again (the callback never changes).
#[hook]
pub fn use_version() -> (u32, Callback<()>) {
    let counter = use_reducer(Counter::default);
    let dispatcher = counter.dispatcher();
    let bump = use_memo((), move |_| {
        Callback::from(move |_: ()| dispatcher.dispatch(()))
    });
    (counter.0, (*bump).clone())
}

/// Today's and this month's usage of each group in `ids` (one request per group, as the
/// server answers per group), with the first error if any failed.
#[hook]
pub fn use_group_usage(ids: Vec<i32>) -> (HashMap<i32, GroupUsage>, Option<ApiError>) {
    let app = use_app();
    let usage = use_state(HashMap::<i32, GroupUsage>::new);
    let error = use_state(|| None::<ApiError>);
    {
        let (usage, error) = (usage.clone(), error.clone());
        use_effect_with(ids, move |ids| {
            let ids = ids.clone();
            spawn_local(async move {
                let mut found = HashMap::new();
                let mut first_error = None;
                for id in ids {
                    match app
                        .api
                        .get::<GroupUsage>(&format!("/api/admin/groups/{id}/usage"))
                        .await
                    {
                        Ok(u) => {
                            found.insert(id, u);
                        }
                        Err(err) => {
                            first_error.get_or_insert(err);
                        }
                    }
                }
                usage.set(found);
                error.set(first_error);
            });
            || ()
        });
    }
    ((*usage).clone(), (*error).clone())
}
