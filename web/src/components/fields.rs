//! The generator forms' shared pieces: an option, a labelled select, a labelled text input, and
//! the callbacks that keep a field's state. One function each for every form: each copy written
//! out in a form was code of its own in the site, and every closure type its own call and drop
//! functions.

use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// A callback setting `state` to the text of the input it listens to.
pub fn set_text(state: &UseStateHandle<String>) -> Callback<InputEvent> {
    let state = state.clone();
    Callback::from(move |e: InputEvent| {
        state.set(e.target_unchecked_into::<HtmlInputElement>().value())
    })
}

/// A callback setting `state` to the value chosen in the select it listens to.
pub fn set_choice(state: &UseStateHandle<String>) -> Callback<Event> {
    let state = state.clone();
    Callback::from(move |e: Event| {
        state.set(e.target_unchecked_into::<HtmlSelectElement>().value())
    })
}

/// A select's option: its value, its text, and whether it is the one chosen.
pub fn option(value: AttrValue, text: AttrValue, selected: bool) -> Html {
    html! { <option {value} {selected}>{ text }</option> }
}

/// A labelled select setting `state`, with its options.
pub fn select_field(
    label: &'static str,
    testid: &'static str,
    state: &UseStateHandle<String>,
    options: Html,
) -> Html {
    html! {
        <label class="field">
            <span>{ label }</span>
            <select data-testid={testid} onchange={set_choice(state)}>{ options }</select>
        </label>
    }
}

/// A labelled text input editing `state`, with a test id and a placeholder if given.
pub fn text_field(
    label: &'static str,
    testid: Option<&'static str>,
    placeholder: Option<&'static str>,
    state: &UseStateHandle<String>,
) -> Html {
    html! {
        <label class="field">
            <span>{ label }</span>
            <input type="text" data-testid={testid} {placeholder} value={(**state).clone()}
                oninput={set_text(state)} />
        </label>
    }
}
