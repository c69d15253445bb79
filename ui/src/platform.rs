//! The few browser calls the app needs (storage, clock, clipboard, file download), in one
//! place so the logic modules stay free of `web-sys`.

use wasm_bindgen::{JsCast, JsValue, closure::Closure};

fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

fn local_storage() -> Option<web_sys::Storage> {
    window()?.local_storage().ok().flatten()
}

pub fn local_get(key: &str) -> Option<String> {
    local_storage()?.get_item(key).ok().flatten()
}

pub fn local_set(key: &str, value: &str) {
    if let Some(storage) = local_storage() {
        let _ = storage.set_item(key, value);
    }
}

pub fn local_remove(key: &str) {
    if let Some(storage) = local_storage() {
        let _ = storage.remove_item(key);
    }
}

/// Listens for another tab changing `key` in localStorage (the browser tells every other
/// tab of the same origin); `on_change` gets the new value, None when removed. Listening
/// stops when the returned guard is dropped.
pub fn watch_local(
    key: &'static str,
    on_change: impl Fn(Option<String>) + 'static,
) -> Option<Watch> {
    let window = window()?;
    let closure =
        Closure::<dyn Fn(web_sys::StorageEvent)>::new(move |event: web_sys::StorageEvent| {
            // A null key is `localStorage.clear()`: every key is gone, this one too.
            match event.key() {
                Some(changed) if changed != key => {}
                _ => on_change(event.new_value()),
            }
        });
    window
        .add_event_listener_with_callback("storage", closure.as_ref().unchecked_ref())
        .ok()?;
    Some(Watch { window, closure })
}

/// A storage listener, removed when dropped.
pub struct Watch {
    window: web_sys::Window,
    closure: Closure<dyn Fn(web_sys::StorageEvent)>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self
            .window
            .remove_event_listener_with_callback("storage", self.closure.as_ref().unchecked_ref());
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// The browser's offset from UTC in minutes east (UTC+8 → 480).
pub fn tz_offset_min() -> i64 {
    -(js_sys::Date::new_0().get_timezone_offset() as i64)
}

pub fn set_document_lang(lang: &str) {
    if let Some(root) = window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("lang", lang);
    }
}

pub fn set_title(title: &str) {
    if let Some(doc) = window().and_then(|w| w.document()) {
        doc.set_title(title);
    }
}

/// Copies text: the async Clipboard API where the page is a secure context, else the
/// old `execCommand("copy")` on a hidden textarea (plain-http LAN addresses).
pub async fn copy_text(text: &str) -> bool {
    let Some(window) = window() else {
        return false;
    };
    let has_clipboard = js_sys::Reflect::get(&window.navigator(), &JsValue::from_str("clipboard"))
        .map(|v| !v.is_undefined() && !v.is_null())
        .unwrap_or(false);
    if has_clipboard && window.is_secure_context() {
        let promise = window.navigator().clipboard().write_text(text);
        if wasm_bindgen_futures::JsFuture::from(promise).await.is_ok() {
            return true;
        }
    }
    copy_with_textarea(&window, text).unwrap_or(false)
}

fn copy_with_textarea(window: &web_sys::Window, text: &str) -> Option<bool> {
    let document = window.document()?;
    let area: web_sys::HtmlTextAreaElement =
        document.create_element("textarea").ok()?.dyn_into().ok()?;
    area.set_value(text);
    let _ = area.set_attribute("readonly", "");
    let _ = area.set_attribute("style", "position:fixed;top:-1000px;opacity:0");
    let body = document.body()?;
    body.append_child(&area).ok()?;
    area.select();
    let copied = document
        .dyn_ref::<web_sys::HtmlDocument>()
        .and_then(|d| d.exec_command("copy").ok())
        .unwrap_or(false);
    let _ = body.remove_child(&area);
    Some(copied)
}

/// Offers `bytes` as a file download named `filename`.
pub fn save_file(bytes: &[u8], filename: &str, mime: &str) -> bool {
    save_file_inner(bytes, filename, mime).is_some()
}

fn save_file_inner(bytes: &[u8], filename: &str, mime: &str) -> Option<()> {
    let document = window()?.document()?;
    let array = js_sys::Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&array);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).ok()?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).ok()?;
    let anchor: web_sys::HtmlAnchorElement = document.create_element("a").ok()?.dyn_into().ok()?;
    anchor.set_href(&url);
    anchor.set_download(filename);
    let body = document.body()?;
    body.append_child(&anchor).ok()?;
    anchor.click();
    let _ = body.remove_child(&anchor);
    // Revoking at once can cancel the download in some browsers; give it a moment.
    gloo_timers::callback::Timeout::new(30_000, move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    })
    .forget();
    Some(())
}
