//! The JS API for docs sites: `check(text)` and `simulate(text)` return plain JS objects with
//! exactly the JSON shapes of the CLI (the same `ipam_core::report` types, serialized the same way).

use ipam_core::Source;
use serde::Serialize;
use wasm_bindgen::prelude::*;

fn to_js<T: Serialize>(value: &T) -> JsValue {
    // The CLI's own JSON (maps as objects, `None` as `null`), parsed by the browser in one call:
    // much faster for a large plan than building the objects field by field across the wasm
    // boundary.
    serde_json::to_string(value)
        .ok()
        .and_then(|text| js_sys::JSON::parse(&text).ok())
        .unwrap_or(JsValue::NULL)
}

/// Checks one input text and returns `{diagnostics, summary}`.
#[wasm_bindgen]
pub fn check(text: &str) -> JsValue {
    to_js(&ipam_core::check(&[Source::new(None, text)]))
}

/// Simulates one input text and returns `{pods, tunnels, blocks, pools, diagnostics}`.
#[wasm_bindgen]
pub fn simulate(text: &str) -> JsValue {
    to_js(&ipam_core::simulate(&[Source::new(None, text)]))
}

/// Reviews a change against live state (`ipam-planner check --against`) and returns
/// `{diagnostics, summary}`, the shape of `check`.
#[wasm_bindgen]
pub fn review(existing: &str, change: &str) -> JsValue {
    to_js(&ipam_core::review_with(
        &[Source::new(Some("existing"), existing)],
        &[Source::new(Some("change"), change)],
        &ipam_core::Options::default(),
    ))
}
