//! The Calico IPAM Planner page: a thin Yew shell over `ipam_core`. It holds no IPAM rules;
//! it keeps the user's text, asks the core for results and draws them. Nothing leaves the
//! browser: the page makes no request off its origin (its CSP forbids it), and share links
//! carry the text in the URL fragment, which browsers do not send.

mod api;
mod app;
mod components;
mod examples;
mod export;
mod page;
mod share;
mod state;
mod storage;
mod text;

use wasm_bindgen::prelude::*;

fn main() {
    register_service_worker();
    yew::Renderer::<app::App>::new().render();
}

/// Registers `sw.js` (static/sw.js), which keeps the site working offline after a first visit.
/// Where service workers are unavailable (an insecure origin, some embedding contexts) the page
/// works as before, only not offline.
fn register_service_worker() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let navigator = window.navigator();
    if !js_sys::Reflect::has(&navigator, &JsValue::from_str("serviceWorker")).unwrap_or(false) {
        return;
    }
    let ignore = Closure::once(|_: JsValue| {});
    // Relative, so the scope is the directory the page is served from.
    let _ = navigator.service_worker().register("sw.js").catch(&ignore);
    ignore.forget();
}
