//! The resources the planner read from the input (in a review, those of the resulting state:
//! the existing cluster's, with "existing" before their line, and the change's).

use ipam_core::ResourceSummary;
use yew::prelude::*;

use super::Palette;
use crate::state::{Plan, EXISTING_FILE};

/// Lists longer than this start folded.
const FOLD_AFTER: usize = 15;

/// Drawn through `plan_view`, which redraws it only for a new plan.
pub fn resource_list(plan: &Plan, _: &Palette) -> Html {
    let resources: Vec<ResourceSummary> = plan.analysis.resources();
    // Long inputs (dozens of nodes) fold the list away; it stays one click from view.
    let open = resources.len() <= FOLD_AFTER;
    html! {
        <details class="resources" {open}>
            <summary>{ super::pane_title("resources-title", "Resources", Some(resources.len())) }</summary>
            <div class="table-scroll">
                <table class="resource-table">
                    <thead><tr><th scope="col">{ "Kind" }</th><th scope="col">{ "Name" }</th><th scope="col">{ "Namespace" }</th><th scope="col">{ "Line" }</th></tr></thead>
                    <tbody>
                        { for resources.iter().map(|r| html! {
                            <tr data-testid="resource" data-kind={r.kind.clone()} data-name={r.name.clone()}
                                data-file={r.file.clone()}>
                                <td>{ &r.kind }</td>
                                <td>{ &r.name }</td>
                                <td>{ r.namespace.clone().unwrap_or_default() }</td>
                                <td>{ if r.file.as_deref() == Some(EXISTING_FILE) { format!("existing, {}", r.line) } else { r.line.to_string() } }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            </div>
        </details>
    }
}
