//! HTTP calls with the admin token. Every answer goes through [`super::envelope`]; a 401 on
//! an authenticated call ends the session (the app then shows the login page).

use std::rc::Rc;

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde_json::Value;
use yew::Callback;

use super::envelope::{ApiError, decode_data, decode_whole};

#[derive(Clone, Default)]
pub struct Api {
    token: Option<Rc<str>>,
    on_expired: Callback<()>,
}

impl PartialEq for Api {
    fn eq(&self, other: &Self) -> bool {
        self.token == other.token && self.on_expired == other.on_expired
    }
}

#[derive(Clone, Copy)]
enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Api {
    pub fn new(token: Option<String>, on_expired: Callback<()>) -> Self {
        Self {
            token: token.map(Rc::from),
            on_expired,
        }
    }

    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// A client without a token (the login call).
    pub fn anonymous() -> Self {
        Self::default()
    }

    fn builder(&self, method: Method, path: &str) -> RequestBuilder {
        let builder = match method {
            Method::Get => Request::get(path),
            Method::Post => Request::post(path),
            Method::Put => Request::put(path),
            Method::Delete => Request::delete(path),
        };
        let builder = builder.header("Accept", "application/json");
        match &self.token {
            Some(token) => builder.header("Authorization", &format!("Bearer {token}")),
            None => builder,
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Response, ApiError> {
        let builder = self.builder(method, path);
        let sent = match body {
            Some(body) => {
                builder
                    .json(body)
                    .map_err(|err| ApiError::network(err.to_string()))?
                    .send()
                    .await
            }
            None => builder.send().await,
        };
        let response = sent.map_err(|err| ApiError::network(err.to_string()))?;
        if response.status() == 401 && self.token.is_some() {
            self.on_expired.emit(());
        }
        Ok(response)
    }

    async fn text(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, String), ApiError> {
        let response = self.send(method, path, body).await?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|err| ApiError::network(err.to_string()))?;
        Ok((status, text))
    }

    /// `data` of a GET.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        let (status, text) = self.text(Method::Get, path, None).await?;
        decode_data(status, &text)
    }

    /// The whole envelope of a GET (paged lists).
    pub async fn get_whole<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        let (status, text) = self.text(Method::Get, path, None).await?;
        decode_whole(status, &text)
    }

    pub async fn post<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T, ApiError> {
        let (status, text) = self.text(Method::Post, path, Some(body)).await?;
        decode_data(status, &text)
    }

    /// The whole envelope of a POST (the config test answers beside `data`).
    pub async fn post_whole<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<T, ApiError> {
        let (status, text) = self.text(Method::Post, path, Some(body)).await?;
        decode_whole(status, &text)
    }

    pub async fn put<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T, ApiError> {
        let (status, text) = self.text(Method::Put, path, Some(body)).await?;
        decode_data(status, &text)
    }

    pub async fn delete(&self, path: &str) -> Result<(), ApiError> {
        let (status, text) = self.text(Method::Delete, path, None).await?;
        decode_data::<Value>(status, &text).map(|_| ())
    }

    /// A file download: the bytes and the server's file name, or the error envelope.
    pub async fn download(&self, path: &str) -> Result<(Vec<u8>, Option<String>), ApiError> {
        let response = self.send(Method::Get, path, None).await?;
        let status = response.status();
        if !(200..300).contains(&status) {
            let text = response.text().await.unwrap_or_default();
            return decode_data::<Value>(status, &text).map(|_| (Vec::new(), None));
        }
        let name = response
            .headers()
            .get("content-disposition")
            .and_then(|header| crate::query::disposition_filename(&header));
        let bytes = response
            .binary()
            .await
            .map_err(|err| ApiError::network(err.to_string()))?;
        Ok((bytes, name))
    }
}
