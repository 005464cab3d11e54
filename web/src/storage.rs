//! The input survives reloads in localStorage: the manifests and, under its own key, the
//! existing cluster's state. Storage may be unavailable (private mode, an embedding iframe):
//! then the page simply starts from the example.

use gloo::storage::{LocalStorage, Storage};

const INPUT_KEY: &str = "ipam-planner:input";
const EXISTING_KEY: &str = "ipam-planner:existing";

pub fn load_input() -> Option<String> {
    LocalStorage::get(INPUT_KEY).ok()
}

pub fn save_input(text: &str) {
    // A full or disabled storage must not break planning; the text is still on screen.
    let _ = LocalStorage::set(INPUT_KEY, text);
}

/// The existing cluster's state; empty when none was ever entered.
pub fn load_existing() -> String {
    LocalStorage::get(EXISTING_KEY).unwrap_or_default()
}

pub fn save_existing(text: &str) {
    if text.is_empty() {
        LocalStorage::delete(EXISTING_KEY);
    } else {
        let _ = LocalStorage::set(EXISTING_KEY, text);
    }
}
