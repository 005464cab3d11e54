//! The root component: the editor on the left, results on the right.

use yew::prelude::*;

use crate::components::{diagnostics::DiagnosticList, editor::Editor, resources::ResourceList};
use crate::state::{Action, State, EXAMPLE};
use crate::storage;

#[function_component(App)]
pub fn app() -> Html {
    let state =
        use_reducer(|| State::new(storage::load_input().unwrap_or_else(|| EXAMPLE.to_owned())));

    {
        let text = state.text.clone();
        use_effect_with(text, |text| storage::save_input(text));
    }

    let on_input = {
        let state = state.clone();
        Callback::from(move |text: String| state.dispatch(Action::SetText(text)))
    };

    html! {
        <div class="app">
            <header class="app-header">
                <h1>{ "Calico IPAM Planner" }</h1>
                <p class="tagline">{ "Check IP pools and static pod IPs before you deploy. Everything runs in your browser." }</p>
            </header>
            <main class="layout">
                <section class="pane editor-pane" aria-label="Manifests">
                    <Editor text={state.text.clone()} {on_input} />
                </section>
                <section class="pane results-pane" aria-label="Results">
                    <DiagnosticList diagnostics={state.analysis.diagnostics.clone()} />
                    <ResourceList resources={state.analysis.resources()} />
                </section>
            </main>
        </div>
    }
}
