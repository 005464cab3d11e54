//! The optional "Existing cluster" input above the manifests: the live state (`kubectl get … -o
//! yaml`) the manifests are reviewed against. A plain text area like the editor's, so
//! Playwright's `fill()`, the browser's undo and assistive technology work as usual. Empty, it
//! stays small and the manifests are planned on their own.

use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use super::on;

/// The export the hint suggests: every kind the review reads, status included.
pub const EXPORT_COMMAND: &str = "kubectl get ippools.crd.projectcalico.org,ipreservations.crd.projectcalico.org,nodes,pods -A -o yaml";

/// The export command again, folded to fit a narrow text area.
const PLACEHOLDER: &str = "Optional. Paste the output of\n  kubectl get ippools.crd.projectcalico.org,\n    ipreservations.crd.projectcalico.org,nodes,pods -A -o yaml";

pub struct ExistingInputProps {
    pub text: String,
    pub on_input: Callback<String>,
    /// Empties the input (undoably).
    pub on_clear: Callback<()>,
    /// Fills both inputs with the review example.
    pub on_load_example: Callback<()>,
    /// The text area, for the root's jump-to-line.
    pub textarea: NodeRef,
    /// How many of the results' diagnostics are located in this text.
    pub problems: usize,
    pub compact: bool,
}

/// A plain function rather than a component: it is redrawn with the app anyway (its callbacks
/// are new on every render), and a component costs the site its own copy of Yew's lifecycle
/// code.
pub fn existing_input(props: &ExistingInputProps) -> Html {
    let oninput = {
        let on_input = props.on_input.clone();
        Callback::from(move |e: InputEvent| {
            let area: HtmlTextAreaElement = e.target_unchecked_into();
            on_input.emit(area.value());
        })
    };
    let filled = !props.text.is_empty();
    let action = if filled {
        let on_clear = props.on_clear.clone();
        let onclick = Callback::from(move |_: MouseEvent| on_clear.emit(()));
        html! {
            <button type="button" class="small" data-testid="clear-existing" {onclick}
                title="Empty the existing cluster: the manifests are checked on their own again">
                { "Clear" }
            </button>
        }
    } else if props.compact {
        // An embed shows the docs' own example: it offers no other.
        html! {}
    } else {
        let on_load = props.on_load_example.clone();
        let onclick = Callback::from(move |_: MouseEvent| on_load.emit(()));
        html! {
            <button type="button" class="small" data-testid="load-review-example" {onclick}
                title="Fill both inputs with an example: pool changes against a live cluster">
                { "Load example review" }
            </button>
        }
    };
    html! {
        <section ~className={super::class(&["existing", on(filled, "filled"), on(props.compact, "compact")])}
            data-testid="existing">
            <div class="existing-head">
                <label for="existing-input" class="pane-title">
                    { "Existing cluster " }<span class="muted">{ "(optional)" }</span>
                </label>
                if filled && props.problems > 0 {
                    <span class="existing-problems" data-testid="existing-problems">
                        { format!("{} diagnostic{} in this text", props.problems, if props.problems == 1 { "" } else { "s" }) }
                    </span>
                }
                { action }
            </div>
            // The embed view keeps only the placeholder's short hint: docs iframes are small.
            if !props.compact {
                <p class="existing-hint" id="existing-hint">
                    { "Paste the live state to review the manifests below as a change to it: what Calico would refuse or ignore, and what running pods keep. Export it with:" }
                    // Break only after a comma: the command stays readable when it wraps.
                    <code class="command">
                        { for EXPORT_COMMAND.split_inclusive(',').map(|part| html! { <>{ part }<wbr /></> }) }
                    </code>
                </p>
            }
            <textarea
                id="existing-input"
                ref={props.textarea.clone()}
                data-testid="existing-input"
                aria-describedby={(!props.compact).then_some("existing-hint")}
                placeholder={PLACEHOLDER}
                spellcheck="false"
                autocomplete="off"
                autocapitalize="off"
                wrap="off"
                value={props.text.clone()}
                {oninput}
            />
        </section>
    }
}
