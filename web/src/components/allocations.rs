//! The allocation table: one row per simulated pod with its node, addresses, how it got them,
//! pool, block and the core's one-sentence explanation. In a review, a pod running in the
//! existing cluster keeps its live address and is marked "running"; its name jumps to it in the
//! existing cluster's text.

use std::rc::Rc;

use ipam_core::simulate::{AddressSource, BlockRelation, PodAllocation};
use yew::prelude::*;

use super::on;

use super::Palette;
use crate::state::{Plan, EXISTING_FILE};

pub struct AllocationsProps {
    pub plan: Rc<Plan>,
    pub palette: Rc<Palette>,
    pub on_select_block: Callback<Option<String>>,
    pub on_jump: Callback<u32>,
    /// Jumps to a line of the existing cluster's text.
    pub on_jump_existing: Callback<u32>,
}

/// A plain function rather than a component: it is redrawn with the app anyway (its callbacks
/// are new on every render), and a component costs the site its own copy of Yew's lifecycle
/// code.
pub fn allocations(props: &AllocationsProps) -> Html {
    let pods = &props.plan.simulation.pods;
    html! {
        <section class="allocations" aria-labelledby="allocations-title">
            { super::pane_title("allocations-title", "Pod addresses", Some(pods.len())) }
            if pods.is_empty() {
                <p class="empty">{ "No pod allocations to show." }</p>
            } else {
                <div class="table-scroll">
                    <table class="allocation-table">
                        <thead>
                            <tr>
                                <th scope="col">{ "Pod" }</th>
                                <th scope="col">{ "Node" }</th>
                                <th scope="col">{ "Addresses" }</th>
                                <th scope="col">{ "Pool and block" }</th>
                            </tr>
                        </thead>
                        { for pods.iter().map(|p| view_pod(p, props)) }
                    </table>
                </div>
            }
        </section>
    }
}

fn view_pod(p: &PodAllocation, props: &AllocationsProps) -> Html {
    let ips: Vec<String> = p.ips.iter().map(ToString::to_string).collect();
    let failed = p.source == AddressSource::None;
    let name = format!("{}/{}", p.namespace, p.name);
    let pod_cell = match p.line {
        Some(line) => {
            let in_existing = p.file.as_deref() == Some(EXISTING_FILE);
            let on_jump = if in_existing {
                props.on_jump_existing.clone()
            } else {
                props.on_jump.clone()
            };
            let onclick = Callback::from(move |_: MouseEvent| on_jump.emit(line));
            let title = if in_existing {
                format!("Existing cluster, line {line}")
            } else {
                format!("Line {line}")
            };
            html! { <button type="button" class="link" {title} {onclick}>{ &name }</button> }
        }
        None => html! { &name },
    };
    let block_cell = match &p.block {
        Some(block) => {
            let on_select = props.on_select_block.clone();
            let cidr = block.clone();
            let onclick = Callback::from(move |_: MouseEvent| on_select.emit(Some(cidr.clone())));
            html! {
                <>
                    <button type="button" class="link mono" title="Show this block's addresses" {onclick}>{ block }</button>
                    if let Some(relation) = p.relation {
                        <span class="relation">{ relation_text(relation) }</span>
                    }
                </>
            }
        }
        None => html! {},
    };
    // Each pod is a group of two rows: the facts, then why (the explanation needs the width).
    let rows = html! {
        <tbody>
        <tr data-testid="allocation" data-pod={name.clone()} data-ips={ips.join(",")}
            data-source={source_text(p.source)}
            data-running={p.running.then_some("true")}>
            <td>{ pod_cell }</td>
            <td>{ super::with_class(html! { <span>{ &p.node }</span> }, &["node-chip", props.palette.class(&p.node)]) }</td>
            <td class="mono">
                if failed {
                    <span class="badge none">{ "no address" }</span>
                } else {
                    { for ips.iter().map(|ip| html! { <span class="ip">{ ip }</span> }) }
                    { super::with_class(html! { <span>{ source_text(p.source) }</span> }, &["badge", source_text(p.source)]) }
                    if p.running {
                        <span class="badge running" title="Running in the existing cluster: it keeps this address">{ "running" }</span>
                    }
                }
            </td>
            <td>
                <span class="pool-name">{ p.pool.clone().unwrap_or_else(|| "—".to_owned()) }</span>
                { block_cell }
            </td>
        </tr>
        if !p.explanation.is_empty() {
            <tr class="why-row"><td colspan="4" class="why">{ &p.explanation }</td></tr>
        }
        </tbody>
    };
    super::with_class(rows, &["pod-rows", on(failed, "failed")])
}

fn source_text(source: AddressSource) -> &'static str {
    match source {
        AddressSource::Static => "static",
        AddressSource::Auto => "auto",
        AddressSource::NoIpam => "no-ipam",
        AddressSource::None => "none",
    }
}

fn relation_text(relation: BlockRelation) -> &'static str {
    match relation {
        BlockRelation::Affine => "affine",
        BlockRelation::NewlyClaimed => "newly claimed",
        BlockRelation::Borrowed => "borrowed",
    }
}
