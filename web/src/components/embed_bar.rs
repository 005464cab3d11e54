//! The embed view's only chrome: the app's name and a link that opens the text in the full
//! planner (a new tab, same origin, the text in the fragment).

use yew::prelude::*;

pub struct EmbedBarProps {
    /// The full planner's URL with the current text.
    pub open_url: String,
}

/// A plain function rather than a component: it is cheap to redraw with the app, and a component
/// costs the site its own copy of Yew's lifecycle code.
pub fn embed_bar(props: &EmbedBarProps) -> Html {
    html! {
        <div class="embed-bar" data-testid="embed-bar">
            <span class="embed-name">{ "Calico IPAM Planner" }</span>
            <a href={props.open_url.clone()} target="_blank" rel="noopener" data-testid="open-in-planner">
                { "Open in the planner ↗" }
            </a>
        </div>
    }
}
