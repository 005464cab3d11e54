//! Getting generated text out of the page: the clipboard, with a fallback where the browser
//! refuses it, and a `.yaml` download from a Blob URL. A download by `<a download>` is a
//! navigation the page starts itself, so the CSP's `connect-src 'self'` is not involved and no
//! request leaves the browser.

use gloo::timers::callback::Timeout;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, BlobPropertyBag, HtmlAnchorElement, HtmlDocument, HtmlTextAreaElement, Url};

/// How long a download's Blob URL is kept before it is revoked (the download has started well
/// before then; revoking at once can cancel it in some browsers).
const REVOKE_AFTER_MS: u32 = 10_000;

/// Copies `text` with the asynchronous clipboard API and reports the outcome through `done`.
/// When that API is missing (an insecure origin) or refuses, the text of `fallback` is selected
/// and the legacy copy command tried; `done(false)` means the user has to press Ctrl+C on the
/// selection.
pub fn copy(text: &str, fallback: Option<HtmlTextAreaElement>, done: impl Fn(bool) + 'static) {
    let done = std::rc::Rc::new(done);
    let legacy = {
        let done = done.clone();
        move || done(select_and_copy(fallback.as_ref()))
    };
    let Some(window) = web_sys::window() else {
        return legacy();
    };
    let navigator = window.navigator();
    let has_clipboard = js_sys::Reflect::get(&navigator, &JsValue::from_str("clipboard"))
        .map(|c| !c.is_undefined() && !c.is_null())
        .unwrap_or(false);
    if !has_clipboard {
        return legacy();
    }
    let promise = navigator.clipboard().write_text(text);
    let ok = {
        let done = done.clone();
        Closure::once(move |_: JsValue| done(true))
    };
    let failed = Closure::once(move |_: JsValue| legacy());
    let _ = promise.then2(&ok, &failed);
    ok.forget();
    failed.forget();
}

/// Selects the text area's text and asks the browser to copy the selection.
fn select_and_copy(area: Option<&HtmlTextAreaElement>) -> bool {
    let Some(area) = area else {
        return false;
    };
    let _ = area.focus();
    area.select();
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.dyn_into::<HtmlDocument>().ok())
        .and_then(|d| d.exec_command("copy").ok())
        .unwrap_or(false)
}

/// Offers `text` as a download named `file_name`; false when the browser lacks what it takes.
pub fn download(file_name: &str, text: &str) -> bool {
    try_download(file_name, text).is_some()
}

fn try_download(file_name: &str, text: &str) -> Option<()> {
    let document = web_sys::window()?.document()?;
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = BlobPropertyBag::new();
    options.set_type("application/yaml");
    let blob = Blob::new_with_str_sequence_and_options(&parts, &options).ok()?;
    let url = Url::create_object_url_with_blob(&blob).ok()?;
    let link: HtmlAnchorElement = document.create_element("a").ok()?.dyn_into().ok()?;
    link.set_href(&url);
    link.set_download(file_name);
    // Some browsers only follow a link that is in the document.
    let body = document.body()?;
    let _ = body.append_child(&link);
    link.click();
    let _ = body.remove_child(&link);
    Timeout::new(REVOKE_AFTER_MS, move || {
        let _ = Url::revoke_object_url(&url);
    })
    .forget();
    Some(())
}
