//! The success envelope `{"success":true,"data":…}`. The failure envelope is written in
//! `crate::error`, the only place that does.

use poem_openapi::{
    Object,
    payload::Json,
    types::{ParseFromJSON, ToJSON},
};

#[derive(Debug, Object)]
pub struct Envelope<T: ParseFromJSON + ToJSON> {
    /// Always `true`.
    pub success: bool,
    pub data: T,
}

/// The JSON answer of a successful operation.
pub type Reply<T> = Json<Envelope<T>>;

pub fn ok<T: ParseFromJSON + ToJSON>(data: T) -> Reply<T> {
    Json(Envelope {
        success: true,
        data,
    })
}

/// The answer of a delete.
#[derive(Debug, Object)]
pub struct Deleted {
    pub id: i64,
    pub deleted: bool,
}

pub fn deleted(id: impl Into<i64>) -> Reply<Deleted> {
    ok(Deleted {
        id: id.into(),
        deleted: true,
    })
}
