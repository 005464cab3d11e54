//! The list of diagnostics: severity, code, a button that jumps to the line, the planner's
//! message, Calico's own text where it has one, and the fix with an "Apply fix" button where the
//! core knows the edit.

use std::rc::Rc;

use ipam_core::{Diagnostic, TextEdit};
use yew::prelude::*;

use crate::state::Plan;

#[derive(Properties, PartialEq)]
pub struct DiagnosticListProps {
    pub plan: Rc<Plan>,
    /// Whether the text changed since the plan (fixes wait for fresh results).
    pub stale: bool,
    pub on_jump: Callback<u32>,
    pub on_fix: Callback<TextEdit>,
}

#[function_component(DiagnosticList)]
pub fn diagnostic_list(props: &DiagnosticListProps) -> Html {
    let diagnostics = &props.plan.simulation.diagnostics;
    html! {
        <section class="diagnostics" aria-labelledby="diagnostics-title">
            <h2 id="diagnostics-title" class="pane-title">{ format!("Diagnostics ({})", diagnostics.len()) }</h2>
            if diagnostics.is_empty() {
                <p class="all-clear">{ "No problems found." }</p>
            } else {
                <ul class="diagnostic-list">
                    { for diagnostics.iter().map(|d| view_diagnostic(d, props)) }
                </ul>
            }
        </section>
    }
}

fn view_diagnostic(d: &Diagnostic, props: &DiagnosticListProps) -> Html {
    let line = d.line.map(|l| l.to_string()).unwrap_or_default();
    let jump = d.line.map(|line| {
        let on_jump = props.on_jump.clone();
        let onclick = Callback::from(move |_: MouseEvent| on_jump.emit(line));
        let label = match d.column {
            Some(c) => format!("line {line}:{c}"),
            None => format!("line {line}"),
        };
        html! {
            <button type="button" class="link jump" data-testid="jump-to-line" {onclick}
                title="Select this line in the editor">{ label }</button>
        }
    });
    let resource = d.resource.as_ref().map(|r| match &r.namespace {
        Some(ns) => format!("{} {ns}/{}", r.kind, r.name),
        None => format!("{} {}", r.kind, r.name),
    });
    html! {
        <li class={classes!("diagnostic", d.severity.as_str())}
            data-testid="diagnostic"
            data-code={d.code}
            data-severity={d.severity.as_str()}
            data-line={line}>
            <div class="diagnostic-head">
                <span class="severity">{ d.severity.as_str() }</span>
                <code class="code">{ d.code }</code>
                { for jump }
                if let Some(resource) = resource {
                    <span class="resource">{ resource }</span>
                }
            </div>
            <p class="message">{ &d.message }</p>
            if let Some(calico) = &d.calico_message {
                <p class="calico-message">{ "Calico says: " }<q>{ calico.trim_end() }</q></p>
            }
            if let Some(fix) = &d.fix {
                <div class="fix">
                    <span class="fix-description">{ "Fix: " }{ &fix.description }</span>
                    if let Some(edit) = &fix.edit {
                        <button type="button" class="apply-fix" data-testid="apply-fix"
                            disabled={props.stale}
                            title={props.stale.then_some("Waiting for the results of your last edit")}
                            onclick={
                                let on_fix = props.on_fix.clone();
                                let edit = edit.clone();
                                Callback::from(move |_: MouseEvent| on_fix.emit(edit.clone()))
                            }>
                            { "Apply fix" }
                        </button>
                    }
                    if !fix.replacement.is_empty() {
                        <details class="replacement">
                            <summary>{ "Corrected manifest" }</summary>
                            <pre>{ &fix.replacement }</pre>
                        </details>
                    }
                </div>
            }
        </li>
    }
}
