//! The page header: the title, and the share button that puts the texts (the manifests and the
//! existing cluster, if any) into a link.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::page;

/// A share link and the texts (manifests, existing cluster) it was made for.
pub type ShareLink = Option<((String, String), String)>;

pub struct HeaderProps {
    pub text: String,
    pub existing: String,
    /// The link last made, kept by the app.
    pub link: UseStateHandle<ShareLink>,
    /// The link the app made ahead of need for the planned texts (see app.rs).
    pub prepared: Rc<RefCell<ShareLink>>,
    /// Whether that link reached the clipboard.
    pub copied: UseStateHandle<bool>,
}

/// A plain function rather than a component, its state kept by the app: a component costs the
/// site its own copy of Yew's lifecycle code.
pub fn header(props: &HeaderProps) -> Html {
    let (link, copied) = (props.link.clone(), props.copied.clone());
    let onclick = {
        let (link, copied) = (link.clone(), copied.clone());
        let texts = (props.text.clone(), props.existing.clone());
        let prepared = props.prepared.clone();
        Callback::from(move |_: MouseEvent| {
            let (link, copied, texts) = (link.clone(), copied.clone(), texts.clone());
            let show_and_copy = move |texts, url: String| {
                copied.set(false);
                copy_to_clipboard(&url, copied.clone());
                link.set(Some((texts, url)));
            };
            // The link made ahead for these texts is copied inside the click, where every
            // browser allows it. Texts typed since the last plan are compressed now (the
            // browser does it asynchronously), and the link is shown and copied once made.
            let ready = prepared
                .borrow()
                .as_ref()
                .filter(|(made_for, _)| *made_for == texts)
                .map(|(_, url)| url.clone());
            match ready {
                Some(url) => show_and_copy(texts, url),
                None => {
                    let (text, existing) = texts.clone();
                    page::share_url(&text, &existing, move |url| show_and_copy(texts, url));
                }
            }
        })
    };
    let onfocus = Callback::from(|e: FocusEvent| {
        let input: HtmlInputElement = e.target_unchecked_into();
        input.select();
    });
    // A link for an older text is misleading: show it only while it still matches.
    let current = link
        .as_ref()
        .filter(|((text, existing), _)| *text == props.text && *existing == props.existing)
        .map(|(_, url)| url.clone());
    html! {
        <header class="app-header">
            <div class="title">
                <h1>{ "Calico IPAM Planner" }</h1>
                <p class="tagline">{ "Check IP pools and static pod IPs before you deploy. Everything runs in your browser; nothing is sent anywhere." }</p>
            </div>
            <div class="share">
                <button type="button" class="primary" data-testid="share" {onclick}>{ "Share link" }</button>
                if let Some(url) = current {
                    <input type="text" readonly=true class="share-link" data-testid="share-link"
                        aria-label="Share link" value={url} {onfocus} />
                    <span class="share-note" role="status">
                        { if *copied { "Copied. The text travels in the link's #fragment, which is never sent to a server." }
                          else { "The text travels in the link's #fragment, which is never sent to a server." } }
                    </span>
                }
            </div>
        </header>
    }
}

/// Writes `text` to the clipboard where the browser allows it, and reports success.
fn copy_to_clipboard(text: &str, copied: UseStateHandle<bool>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let navigator = window.navigator();
    // `navigator.clipboard` is missing outside secure contexts.
    if !js_sys::Reflect::has(&navigator, &JsValue::from_str("clipboard")).unwrap_or(false) {
        return;
    }
    let promise = navigator.clipboard().write_text(text);
    let ok = Closure::once(move |_: JsValue| copied.set(true));
    let failed = Closure::once(|_: JsValue| {});
    let _ = promise.then2(&ok, &failed);
    ok.forget();
    failed.forget();
}
