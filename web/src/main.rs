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

use components::{Part, PartProps, PartView};

/// Talc instead of std's dlmalloc: about as much code as the page's share links took, and faster
/// at the small allocations the planner and Yew make by the thousand. The page is single-threaded
/// (no `atomics` target feature), which this allocator requires.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

fn main() {
    report_aborts();
    register_service_worker();
    // The start-up texts may come from a share fragment, which the browser decompresses
    // asynchronously; the app is drawn once they are known.
    page::start(|start| {
        let start = std::rc::Rc::new(start);
        let view = PartView::App(app::AppProps { start });
        yew::Renderer::<Part>::with_props(PartProps { view }).render();
    });
}

/// The notice shown once the page has hit a bug; it names no cause because an aborted panic
/// carries none.
const ABORT_NOTICE: &str = "<p id=\"abort-notice\" class=\"abort-notice\" role=\"alert\" \
    data-testid=\"abort-notice\">The planner stopped on an internal error (a bug). Your text is \
    kept in this browser: reload the page to continue.</p>";

/// The release site's panics abort at once, without a message (std built with
/// `panic = "immediate-abort"`; see scripts/setup-toolchain.sh): the browser throws a
/// `WebAssembly.RuntimeError` out of the event or promise that hit the bug, and the page would
/// silently stop responding. These listeners make that visible instead. They only add a notice
/// to the DOM, since the app's own state may be half updated.
fn report_aborts() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let listener = Closure::<dyn Fn(JsValue)>::new(|event: JsValue| {
        // `error` on an ErrorEvent, `reason` on a PromiseRejectionEvent (spawned futures).
        let error = ["error", "reason"]
            .iter()
            .filter_map(|key| js_sys::Reflect::get(&event, &JsValue::from_str(key)).ok())
            .find(|value| !value.is_undefined());
        let aborted =
            error.is_some_and(|e| e.is_instance_of::<js_sys::WebAssembly::RuntimeError>());
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        if !aborted || document.get_element_by_id("abort-notice").is_some() {
            return;
        }
        if let Some(body) = document.body() {
            let _ = body.insert_adjacent_html("afterbegin", ABORT_NOTICE);
        }
    });
    for kind in ["error", "unhandledrejection"] {
        let _ = window.add_event_listener_with_callback(kind, listener.as_ref().unchecked_ref());
    }
    listener.forget();
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
