//! The list of diagnostics, with Calico's own text where it has one.

use ipam_core::Diagnostic;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct DiagnosticListProps {
    pub diagnostics: Vec<Diagnostic>,
}

#[function_component(DiagnosticList)]
pub fn diagnostic_list(props: &DiagnosticListProps) -> Html {
    let count = props.diagnostics.len();
    html! {
        <div class="diagnostics">
            <h2 class="pane-title">{ format!("Diagnostics ({count})") }</h2>
            if count == 0 {
                <p class="all-clear">{ "No problems found." }</p>
            }
            <ul class="diagnostic-list">
                { for props.diagnostics.iter().map(view_diagnostic) }
            </ul>
        </div>
    }
}

fn view_diagnostic(d: &Diagnostic) -> Html {
    let line = d.line.map(|l| l.to_string()).unwrap_or_default();
    let location = d.line.map(|l| format!("line {l}")).unwrap_or_default();
    html! {
        <li class={classes!("diagnostic", d.severity.as_str())}
            data-testid="diagnostic"
            data-code={d.code}
            data-severity={d.severity.as_str()}
            data-line={line}>
            <span class="severity">{ d.severity.as_str() }</span>
            <code class="code">{ d.code }</code>
            <span class="location">{ location }</span>
            <p class="message">{ &d.message }</p>
            if let Some(calico) = &d.calico_message {
                <p class="calico-message">{ "Calico: " }<q>{ calico.trim_end() }</q></p>
            }
        </li>
    }
}
