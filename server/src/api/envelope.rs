//! The success envelope `{"success":true,"data":…}`. The failure envelope is written in
//! `crate::error`, the only place that does.

use poem::{IntoResponse, Response};
use poem_openapi::{
    Object,
    payload::{Json, Payload},
    registry::{MetaSchemaRef, Registry},
    types::{ParseFromJSON, ToJSON},
};
use serde::{Serialize, Serializer, ser::SerializeStruct};

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

/// A success envelope written straight to bytes, for the answers of calls (the hot path):
/// [`Reply`] builds a `serde_json::Value` of it first. Same content type and schema as
/// [`Reply`]; `T`'s `Serialize` must write what its `ToJSON` does, keys in the alphabetical
/// order of that `Value`'s map.
pub struct Direct<T: ParseFromJSON + ToJSON>(pub Envelope<T>);

impl<T: ParseFromJSON + ToJSON> Payload for Direct<T> {
    const CONTENT_TYPE: &'static str = Reply::<T>::CONTENT_TYPE;

    fn schema_ref() -> MetaSchemaRef {
        Reply::<T>::schema_ref()
    }

    fn register(registry: &mut Registry) {
        Reply::<T>::register(registry);
    }
}

impl<T: ParseFromJSON + ToJSON + Serialize + Send> IntoResponse for Direct<T> {
    fn into_response(self) -> Response {
        poem::web::Json(self.0).into_response()
    }
}

/// Keys in alphabetical order, as [`Reply`] writes them.
impl<T: ParseFromJSON + ToJSON + Serialize> Serialize for Envelope<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("Envelope", 2)?;
        out.serialize_field("data", &self.data)?;
        out.serialize_field("success", &self.success)?;
        out.end()
    }
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
