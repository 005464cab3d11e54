//! The line above the results: counts by severity, whether results are catching up with the
//! text, and the undo button after a fix, an example or a share link replaced the text.

use std::rc::Rc;

use ipam_core::Summary as Counts;
use yew::prelude::*;

use super::on;

use crate::state::{Plan, Undo};

pub struct SummaryProps {
    pub plan: Rc<Plan>,
    pub stale: bool,
    pub undo: Option<Undo>,
    pub on_undo: Callback<()>,
}

/// A plain function rather than a component: it is cheap to redraw with the app, and a component
/// costs the site its own copy of Yew's lifecycle code.
pub fn summary(props: &SummaryProps) -> Html {
    let counts = Counts::of(&props.plan.simulation.diagnostics);
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let sim = &props.plan.simulation;
    html! {
        <div class="summary" data-testid="summary" data-errors={counts.errors.to_string()}
            data-warnings={counts.warnings.to_string()} data-infos={counts.infos.to_string()}>
            <p role="status" aria-live="polite">
                { super::with_class(html! { <span>{ plural(counts.errors, "error") }</span> }, &["count", "error", on(counts.errors > 0, "nonzero")]) }
                { super::with_class(html! { <span>{ plural(counts.warnings, "warning") }</span> }, &["count", "warning", on(counts.warnings > 0, "nonzero")]) }
                <span class="count info">{ plural(counts.infos, "note") }</span>
                <span class="muted">{ format!("{} · {} · {}", plural(sim.pods.len(), "pod"), plural(sim.blocks.len(), "block"), plural(sim.pools.len(), "pool")) }</span>
                if props.plan.is_review() {
                    <span class="review-mode" data-testid="review-mode"
                        title="The manifests are reviewed as a change to the existing cluster">
                        { "review against the existing cluster" }
                    </span>
                }
                if props.stale {
                    <span class="updating">{ "updating…" }</span>
                }
            </p>
            if let Some(undo) = &props.undo {
                <button type="button" data-testid="undo" onclick={
                    let on_undo = props.on_undo.clone();
                    Callback::from(move |_: MouseEvent| on_undo.emit(()))
                }>{ &undo.label }</button>
            }
        </div>
    }
}
