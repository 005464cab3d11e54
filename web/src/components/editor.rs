//! The manifest text area.

use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct EditorProps {
    pub text: String,
    pub on_input: Callback<String>,
}

#[function_component(Editor)]
pub fn editor(props: &EditorProps) -> Html {
    let oninput = {
        let on_input = props.on_input.clone();
        Callback::from(move |e: InputEvent| {
            let area: HtmlTextAreaElement = e.target_unchecked_into();
            on_input.emit(area.value());
        })
    };
    html! {
        <div class="editor">
            <label for="manifest-input" class="pane-title">{ "Manifests (YAML or JSON, --- separated)" }</label>
            <textarea
                id="manifest-input"
                data-testid="manifest-input"
                spellcheck="false"
                autocomplete="off"
                value={props.text.clone()}
                {oninput}
            />
        </div>
    }
}
