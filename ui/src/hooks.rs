//! Loading a resource for a page: keeps the last data while reloading, ignores answers that
//! arrive after a newer request, and keeps the error to show in place.

use std::cell::RefCell;
use std::rc::Rc;

use serde::de::DeserializeOwned;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::ApiError;
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
