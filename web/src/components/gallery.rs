//! The example gallery: a healthy cluster and the common mistakes, one button each.

use yew::prelude::*;

use crate::examples::EXAMPLES;

#[derive(Properties, PartialEq)]
pub struct GalleryProps {
    /// The current text, to mark the example it equals.
    pub text: String,
    pub on_load: Callback<&'static str>,
}

#[function_component(Gallery)]
pub fn gallery(props: &GalleryProps) -> Html {
    html! {
        <nav class="gallery" aria-labelledby="gallery-title">
            <h2 id="gallery-title" class="gallery-title">{ "Examples" }</h2>
            <ul>
                { for EXAMPLES.iter().map(|e| {
                    let on_load = props.on_load.clone();
                    let text = e.text;
                    let onclick = Callback::from(move |_: MouseEvent| on_load.emit(text));
                    let current = props.text == e.text;
                    html! {
                        <li>
                            <button type="button" class={classes!("example", (e.id == "healthy-cluster").then_some("healthy"))}
                                data-testid="example" data-example={e.id}
                                aria-pressed={if current { "true" } else { "false" }}
                                title={e.summary} {onclick}>
                                { e.title }
                            </button>
                        </li>
                    }
                }) }
            </ul>
        </nav>
    }
}
