//! The input survives reloads in localStorage: the manifests and, under its own key, the
//! existing cluster's state. Storage may be unavailable (private mode, an embedding iframe):
//! then the page simply starts from the example.
//!
//! Each text is stored as a JSON string, as the page always stored it, and encoded and decoded
//! by the browser's own `JSON` rather than by serde code compiled into the page.

use wasm_bindgen::JsValue;

const INPUT_KEY: &str = "ipam-planner:input";
const EXISTING_KEY: &str = "ipam-planner:existing";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The text stored under `key`; `None` when there is none or it is not a JSON string.
fn load(key: &str) -> Option<String> {
    let stored = storage()?.get_item(key).ok()??;
    js_sys::JSON::parse(&stored).ok()?.as_string()
}

fn save(key: &str, text: &str) {
    let (Some(storage), Ok(json)) = (storage(), js_sys::JSON::stringify(&JsValue::from_str(text)))
    else {
        return;
    };
    // A full or disabled storage must not break planning; the text is still on screen.
    let _ = storage.set_item(key, &String::from(json));
}

pub fn load_input() -> Option<String> {
    load(INPUT_KEY)
}

pub fn save_input(text: &str) {
    save(INPUT_KEY, text);
}

/// The existing cluster's state; empty when none was ever entered.
pub fn load_existing() -> String {
    load(EXISTING_KEY).unwrap_or_default()
}

pub fn save_existing(text: &str) {
    if text.is_empty() {
        if let Some(storage) = storage() {
            let _ = storage.remove_item(EXISTING_KEY);
        }
    } else {
        save(EXISTING_KEY, text);
    }
}
