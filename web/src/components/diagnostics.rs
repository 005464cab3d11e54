//! The list of diagnostics: severity, code, a button that jumps to the line, the planner's
//! message, Calico's own text where it has one, and the fix with an "Apply fix" button where the
//! core knows the edit.
//!
//! In a review, a diagnostic located in the existing cluster's text says so
//! (`data-file="existing"`, "existing cluster, line N") and its jump selects the line in that
//! input; the existing state is not the user's to fix, so it offers no "Apply fix".

use std::rc::Rc;

use ipam_core::{Diagnostic, TextEdit};
use yew::prelude::*;

use super::on;

use crate::state::{Plan, EXISTING_FILE};

pub struct DiagnosticListProps {
    pub plan: Rc<Plan>,
    /// Whether the text changed since the plan (fixes wait for fresh results).
    pub stale: bool,
    pub on_jump: Callback<u32>,
    /// Jumps to a line of the existing cluster's text.
    pub on_jump_existing: Callback<u32>,
    pub on_fix: Callback<TextEdit>,
}

/// A plain function rather than a component: it is redrawn with the app anyway (its callbacks
/// are new on every render), and a component costs the site its own copy of Yew's lifecycle
/// code.
pub fn diagnostic_list(props: &DiagnosticListProps) -> Html {
    let diagnostics = &props.plan.simulation.diagnostics;
    html! {
        <section class="diagnostics" aria-labelledby="diagnostics-title">
            { super::pane_title("diagnostics-title", "Diagnostics", Some(diagnostics.len())) }
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
    let in_existing = d.file.as_deref() == Some(EXISTING_FILE);
    let jump = d.line.map(|line| {
        let on_jump = if in_existing {
            props.on_jump_existing.clone()
        } else {
            props.on_jump.clone()
        };
        let onclick = Callback::from(move |_: MouseEvent| on_jump.emit(line));
        let place = match d.column {
            Some(c) => format!("line {line}:{c}"),
            None => format!("line {line}"),
        };
        let (label, title) = if in_existing {
            (
                format!("existing cluster, {place}"),
                "Select this line in the existing cluster's text",
            )
        } else {
            (place, "Select this line in the editor")
        };
        html! {
            <button type="button" ~className={super::class(&["link", "jump", on(in_existing, "in-existing")])}
                data-testid="jump-to-line" {onclick} {title}>{ label }</button>
        }
    });
    // A diagnostic of the existing text without a line still says where it is.
    let unlocated_existing = in_existing && d.line.is_none();
    let resource = d.resource.as_ref().map(|r| match &r.namespace {
        Some(ns) => format!("{} {ns}/{}", r.kind, r.name),
        None => format!("{} {}", r.kind, r.name),
    });
    html! {
        <li ~className={super::class(&["diagnostic", d.severity.as_str()])}
            data-testid="diagnostic"
            data-code={d.code}
            data-severity={d.severity.as_str()}
            data-line={line}
            data-file={in_existing.then_some(EXISTING_FILE)}>
            <div class="diagnostic-head">
                <span class="severity">{ d.severity.as_str() }</span>
                <code class="code">{ d.code }</code>
                { for jump }
                if unlocated_existing {
                    <span class="in-existing">{ "existing cluster" }</span>
                }
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
                    if let Some(edit) = fix.edit.as_ref().filter(|_| !in_existing) {
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
