//! A generator's result: what it is, the planner's verdict on it, why it chose what it chose,
//! the YAML, and the ways out: Copy, Download .yaml, and Add to input.

use std::rc::Rc;

use ipam_core::generate::{GenerateError, Generated};
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use super::generators::GeneratorFormProps;
use crate::export;

/// A generator's outcome, with the input text it was computed for.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub input: String,
    pub result: Result<Generated, GenerateError>,
}

#[derive(Clone, Copy, PartialEq)]
enum CopyState {
    Idle,
    Copied,
    SelectedOnly,
}

/// The result of a form's generator (nothing before the first), downloaded as `file_name`. A hook
/// of the form rather than a component: its state (the copy and download status) is kept with
/// the form's, since a component of its own costs the site a copy of Yew's lifecycle code. The
/// form's props give the text the current results are for, whether the user typed since (adding
/// waits for fresh results, as fixes do) and where the whole new input text goes.
#[hook]
pub fn use_generated_output(
    outcome: Option<Rc<Outcome>>,
    form: &GeneratorFormProps,
    file_name: &'static str,
) -> Html {
    let area = use_node_ref();
    let copy_state = use_state(|| CopyState::Idle);
    let downloaded = use_state(|| false);
    {
        // A new result starts with no status from the previous one.
        let (copy_state, downloaded) = (copy_state.clone(), downloaded.clone());
        use_effect_with(outcome.clone(), move |_| {
            copy_state.set(CopyState::Idle);
            downloaded.set(false);
        });
    }
    let Some(outcome) = outcome else {
        return html! {};
    };
    let generated = match &outcome.result {
        Ok(generated) => generated,
        Err(error) => {
            return html! {
                <p class="generate-error" role="alert" data-testid="generate-error">{ &error.message }</p>
            }
        }
    };
    let text = generated.text.clone();
    let on_copy = {
        let (text, area, copy_state) = (text.clone(), area.clone(), copy_state.clone());
        Callback::from(move |_: MouseEvent| {
            let copy_state = copy_state.clone();
            export::copy(&text, area.cast::<HtmlTextAreaElement>(), move |ok| {
                copy_state.set(if ok {
                    CopyState::Copied
                } else {
                    CopyState::SelectedOnly
                });
            });
        })
    };
    let on_download = {
        let (text, name, downloaded) = (text.clone(), file_name, downloaded.clone());
        Callback::from(move |_: MouseEvent| downloaded.set(export::download(name, &text)))
    };
    // The edit's positions are those of the text the generator saw.
    let current = outcome.input == form.plan.text && !form.stale;
    let on_add = {
        let (on_apply, outcome) = (form.on_apply.clone(), outcome.clone());
        let generated = generated.clone();
        Callback::from(move |_: MouseEvent| on_apply.emit(generated.apply_to(&outcome.input)))
    };
    let status = match *copy_state {
        CopyState::Idle if *downloaded => "Download started.",
        CopyState::Idle => "",
        CopyState::Copied => "Copied to the clipboard.",
        CopyState::SelectedOnly => {
            "The browser does not allow copying here: the text is selected, press Ctrl+C (⌘C)."
        }
    };
    let rows = (text.lines().count() + 1).clamp(4, 24).to_string();
    html! {
        <div class="generated" data-testid="generated" data-clean={generated.is_clean().to_string()}>
            <h4 class="generated-title">{ &generated.title }</h4>
            if generated.is_clean() {
                <p class="verdict clean" data-testid="generated-verdict">
                    { "Checks clean: with this added, the planner finds no new error or warning." }
                </p>
            } else {
                <div class="verdict problems" data-testid="generated-verdict">
                    <p>{ "With this added, the planner reports:" }</p>
                    <ul>
                        { for generated.diagnostics.iter().map(|d| {
                            let item = html! { <li><code>{ d.code }</code>{ " " }{ &d.message }</li> };
                            super::with_class(item, &[d.severity.as_str()])
                        }) }
                    </ul>
                </div>
            }
            <ul class="generated-notes">
                { for generated.notes.iter().map(|n| html! { <li>{ n }</li> }) }
            </ul>
            <label class="generated-label">
                <span>{ "Manifest" }</span>
                <textarea ref={area} class="generated-text" data-testid="generated-yaml" readonly=true
                    spellcheck="false" {rows} value={text} />
            </label>
            <div class="generated-actions">
                <button type="button" data-testid="copy-generated" onclick={on_copy}>{ "Copy" }</button>
                <button type="button" data-testid="download-generated" onclick={on_download}>{ "Download .yaml" }</button>
                <button type="button" class="primary" data-testid="add-generated" disabled={!current}
                    title={(!current).then_some("The input changed since this was generated: generate again")}
                    onclick={on_add}>
                    { "Add to input" }
                </button>
                <span class="generated-status" role="status" data-testid="generated-status">{ status }</span>
            </div>
        </div>
    }
}
