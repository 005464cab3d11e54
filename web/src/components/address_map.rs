//! The address map, zoomable from pool to block: each pool with its claimed blocks coloured by
//! the node they are affine to; choosing a block shows its addresses (`block_detail.rs`). A
//! pool's whole address space is never enumerated: only claimed blocks are drawn.

use std::rc::Rc;

use ipam_core::simulate::BlockView;
use yew::prelude::*;

use super::on;

use super::block_detail::{block_detail, BlockDetailProps};
use super::{affinity_node, Palette};
use crate::state::Plan;

pub struct AddressMapProps {
    pub plan: Rc<Plan>,
    pub palette: Rc<Palette>,
    pub selected_block: Option<String>,
    pub on_select_block: Callback<Option<String>>,
}

/// A plain function rather than a component: it is redrawn with the app anyway (its callbacks
/// are new on every render), and a component costs the site its own copy of Yew's lifecycle
/// code.
pub fn address_map(props: &AddressMapProps) -> Html {
    let sim = &props.plan.simulation;
    // Pools in the simulation's order, then any pool only a block names.
    let mut pools: Vec<(String, Option<String>)> = sim
        .pools
        .iter()
        .map(|p| (p.name.clone(), Some(p.cidr.clone())))
        .collect();
    for b in &sim.blocks {
        if !pools.iter().any(|(name, _)| *name == b.pool) {
            pools.push((b.pool.clone(), None));
        }
    }
    let selected = props
        .selected_block
        .as_ref()
        .and_then(|cidr| sim.blocks.iter().find(|b| b.cidr == *cidr));
    html! {
        <section class="address-map" aria-labelledby="address-map-title">
            { super::pane_title("address-map-title", "Address map", None) }
            if sim.blocks.is_empty() {
                <p class="empty">{ "No claimed blocks to show." }</p>
            } else {
                <ul class="node-legend" aria-label="Nodes">
                    { for props.palette.nodes().iter().map(|n| html! {
                        <li>{ super::with_class(html! { <span>{ n }</span> }, &["node-chip", props.palette.class(n)]) }</li>
                    }) }
                </ul>
                if let Some(block) = selected {
                    { block_detail(&BlockDetailProps {
                        block: Rc::new(block.clone()),
                        plan: props.plan.clone(),
                        palette: props.palette.clone(),
                        on_close: {
                            let on_select = props.on_select_block.clone();
                            Callback::from(move |()| on_select.emit(None))
                        },
                    }) }
                } else {
                    { for pools.iter().map(|(name, cidr)| view_pool(name, cidr.as_deref(), props)) }
                }
            }
        </section>
    }
}

fn view_pool(name: &str, cidr: Option<&str>, props: &AddressMapProps) -> Html {
    let blocks: Vec<&BlockView> = props
        .plan
        .simulation
        .blocks
        .iter()
        .filter(|b| b.pool == name)
        .collect();
    html! {
        <div class="map-pool" data-testid="map-pool" data-pool={name.to_owned()}>
            <h3 class="map-pool-title">
                { name }
                if let Some(cidr) = cidr { { " " }<code>{ cidr }</code> }
                <span class="muted">{ format!(" — {} claimed block{}", blocks.len(), if blocks.len() == 1 { "" } else { "s" }) }</span>
            </h3>
            if blocks.is_empty() {
                <p class="empty">{ "No block claimed from this pool." }</p>
            } else {
                <div class="block-grid">
                    { for blocks.into_iter().map(|b| view_block(b, props)) }
                </div>
            }
        </div>
    }
}

fn view_block(b: &BlockView, props: &AddressMapProps) -> Html {
    let node = b.affinity.as_deref().and_then(affinity_node);
    let colour = node.map_or("node-none", |n| props.palette.class(n));
    let used = b.used.len();
    let fill = format!("{used}/{}", b.size);
    let full = used as u128 >= u128::from(b.size);
    let title = format!(
        "{} — {}; {} addresses in use{}",
        b.cidr,
        node.map_or_else(|| "no affinity".to_owned(), |n| format!("affine to {n}")),
        used,
        if b.reserved.is_empty() {
            ""
        } else {
            "; has reserved addresses"
        }
    );
    let on_select = props.on_select_block.clone();
    let cidr = b.cidr.clone();
    let onclick = Callback::from(move |_: MouseEvent| on_select.emit(Some(cidr.clone())));
    html! {
        <button type="button" ~className={super::class(&["block", colour, on(full, "full")])}
            data-testid="block" data-cidr={b.cidr.clone()} {title} {onclick}>
            <span class="block-cidr">{ &b.cidr }</span>
            <span class="block-node">{ node.unwrap_or("no affinity") }</span>
            <span class="block-fill">{ fill }</span>
        </button>
    }
}
