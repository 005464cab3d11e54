//! What the page's URL asks for, and the one-time start-up decisions that follow from it: the
//! full planner or the compact embed view, and which text to start from.
//!
//! - `/` — the planner; the texts (manifests and existing cluster) come from a share fragment,
//!   else localStorage, else the healthy example (with no existing cluster).
//! - `/#v1:…`, `/#v2:…` — a share link (see `share.rs`); the fragment is removed from the
//!   address bar once read, so later edits survive a reload through localStorage.
//! - `/?embed` — the embed view for docs-site iframes: no header, no gallery, and nothing is
//!   written to localStorage (an embedded example never overwrites the reader's own work). Its
//!   text comes from a share fragment, else `?embed&example=<id>`, else the healthy example.
//!   `?embed&readonly` shows the text read-only (results and "Open in the planner" still work)
//!   and hides the existing-cluster input (a review still uses the existing state it was given).

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::examples;
use crate::share::{self, Shared};
use crate::state::Undo;
use crate::storage;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Full,
    Embed,
}

/// The page's mode and starting text, read once when the app starts.
pub struct Start {
    pub mode: Mode,
    /// Embed only: the text cannot be edited.
    pub readonly: bool,
    pub text: String,
    /// The existing cluster's state (empty: none).
    pub existing: String,
    /// The stored texts a share link replaced, offered back to the user.
    pub undo: Option<Undo>,
}

/// Calls `done` with the page's mode and starting texts: at once, or later where a share
/// fragment must first be decompressed by the browser.
pub fn start(done: impl FnOnce(Start) + 'static) {
    let location = web_sys::window().map(|w| w.location());
    let search = location
        .as_ref()
        .and_then(|l| l.search().ok())
        .unwrap_or_default();
    let hash = location
        .as_ref()
        .and_then(|l| l.hash().ok())
        .unwrap_or_default();
    share::decode(&hash, move |shared| done(start_with(&search, shared)));
}

/// The start-up decisions once the share fragment (if any) is read.
fn start_with(search: &str, shared: Option<Shared>) -> Start {
    let params = Params(search.trim_start_matches('?'));
    if params.has("embed") {
        let Shared { text, existing } = shared.unwrap_or_else(|| {
            let example = params
                .get("example")
                .and_then(examples::find)
                .unwrap_or(examples::default_example());
            Shared {
                text: example.text.to_owned(),
                existing: example.existing.to_owned(),
            }
        });
        return Start {
            mode: Mode::Embed,
            readonly: params.has("readonly"),
            text,
            existing,
            undo: None,
        };
    }
    let stored = storage::load_input();
    let stored_existing = storage::load_existing();
    match shared {
        Some(Shared { text, existing }) => {
            forget_fragment();
            let undo = stored
                .filter(|s| *s != text || stored_existing != existing)
                .map(|s| Undo {
                    label: "Back to your text".to_owned(),
                    text: s,
                    existing: stored_existing,
                });
            Start {
                mode: Mode::Full,
                readonly: false,
                text,
                existing,
                undo,
            }
        }
        None => match stored {
            Some(text) => Start {
                mode: Mode::Full,
                readonly: false,
                text,
                existing: stored_existing,
                undo: None,
            },
            None => Start {
                mode: Mode::Full,
                readonly: false,
                text: examples::default_example().text.to_owned(),
                existing: String::new(),
                undo: None,
            },
        },
    }
}

/// Calls `done` with the full planner's URL with `text` and `existing` in its fragment (empty
/// where the browser cannot compress), once the browser has compressed them.
pub fn share_url(text: &str, existing: &str, done: impl FnOnce(String) + 'static) {
    share::encode(text, existing, move |fragment| {
        done(fragment.map_or_else(String::new, |fragment| format!("{}#{fragment}", base_url())))
    });
}

/// The page's origin and path.
fn base_url() -> String {
    web_sys::window()
        .and_then(|w| {
            let l = w.location();
            Some(format!("{}{}", l.origin().ok()?, l.pathname().ok()?))
        })
        .unwrap_or_default()
}

/// Calls `on_shared` with the texts of every share fragment the address bar later receives (the
/// fragment is then removed). Listens until the returned value is dropped.
pub fn on_fragment_change(on_shared: impl Fn(Shared) + 'static) -> Option<FragmentListener> {
    let window = web_sys::window()?;
    let on_shared = std::rc::Rc::new(on_shared);
    let closure = Closure::<dyn Fn()>::new(move || {
        let hash = web_sys::window()
            .and_then(|w| w.location().hash().ok())
            .unwrap_or_default();
        let on_shared = on_shared.clone();
        share::decode(&hash, move |shared| {
            if let Some(shared) = shared {
                forget_fragment();
                on_shared(shared);
            }
        });
    });
    window
        .add_event_listener_with_callback("hashchange", closure.as_ref().unchecked_ref())
        .ok()?;
    Some(FragmentListener { window, closure })
}

/// A `hashchange` listener, removed on drop.
pub struct FragmentListener {
    window: web_sys::Window,
    closure: Closure<dyn Fn()>,
}

impl Drop for FragmentListener {
    fn drop(&mut self) {
        let _ = self.window.remove_event_listener_with_callback(
            "hashchange",
            self.closure.as_ref().unchecked_ref(),
        );
    }
}

/// Removes the fragment from the address bar without reloading or adding a history entry.
fn forget_fragment() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let location = window.location();
    let url = format!(
        "{}{}",
        location.pathname().unwrap_or_default(),
        location.search().unwrap_or_default()
    );
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

/// A query string's `name` and `name=value` parameters (values are ids: no decoding needed).
struct Params<'a>(&'a str);

impl<'a> Params<'a> {
    fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.0
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split_once('=').unwrap_or((p, "")))
    }

    fn has(&self, name: &str) -> bool {
        self.iter().any(|(k, _)| k == name)
    }

    fn get(&self, name: &str) -> Option<&'a str> {
        self.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }
}
