//! The input survives reloads in localStorage. Storage may be unavailable (private mode, an
//! embedding iframe): then the page simply starts from the example.

use gloo::storage::{LocalStorage, Storage};

const INPUT_KEY: &str = "ipam-planner:input";

pub fn load_input() -> Option<String> {
    LocalStorage::get(INPUT_KEY).ok()
}

pub fn save_input(text: &str) {
    // A full or disabled storage must not break planning; the text is still on screen.
    let _ = LocalStorage::set(INPUT_KEY, text);
}
