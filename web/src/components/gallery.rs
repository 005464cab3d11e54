//! The example gallery: a healthy cluster and the common mistakes, one button each, then the
//! review examples (a change and the existing cluster it is reviewed against).

use yew::prelude::*;

use super::on;

use crate::examples::{Example, EXAMPLES, REVIEW_EXAMPLES};

pub struct GalleryProps {
    /// The current texts, to mark the example they equal.
    pub text: String,
    pub existing: String,
    pub on_load: Callback<&'static Example>,
}

/// A plain function rather than a component: it is cheap to redraw with the app, and a component
/// costs the site its own copy of Yew's lifecycle code.
pub fn gallery(props: &GalleryProps) -> Html {
    let button = |e: &'static Example, testid: &'static str| {
        let on_load = props.on_load.clone();
        let onclick = Callback::from(move |_: MouseEvent| on_load.emit(e));
        let current = props.text == e.text && props.existing == e.existing;
        let review = !e.existing.is_empty();
        html! {
            <li>
                <button type="button"
                    ~className={super::class(&["example", on(e.id == "healthy-cluster", "healthy"), on(review, "review")])}
                    data-testid={testid} data-example={e.id}
                    aria-pressed={if current { "true" } else { "false" }}
                    title={e.summary} {onclick}>
                    { e.title }
                </button>
            </li>
        }
    };
    html! {
        <nav class="gallery" aria-labelledby="gallery-title">
            <h2 id="gallery-title" class="gallery-title">{ "Examples" }</h2>
            <ul>
                { for EXAMPLES.iter().map(|e| button(e, "example")) }
                { for REVIEW_EXAMPLES.iter().map(|e| button(e, "review-example")) }
            </ul>
        </nav>
    }
}
