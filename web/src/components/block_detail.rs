//! One block's addresses: a grid of cells coloured by state (free, pod by node, static pod,
//! tunnel, reserved, cooldown, Windows-reserved), then the used addresses as a table.

use std::net::IpAddr;
use std::rc::Rc;

use ipam_core::simulate::{AddressUse, BlockView};
use yew::prelude::*;

use super::{on, with_class};

use super::{affinity_node, Palette};
use crate::state::Plan;

/// The most addresses a block view draws: a block has at most 4096 (blockSize 20 or 116).
const MAX_CELLS: u32 = 4096;

/// One address of a block, as the core's `BlockView::addresses` gives it: what uses it, if
/// anything, and whether an IPReservation covers it.
struct Cell<'a> {
    ip: IpAddr,
    used: Option<&'a AddressUse>,
    reserved: bool,
}

pub struct BlockDetailProps {
    pub block: Rc<BlockView>,
    pub plan: Rc<Plan>,
    pub palette: Rc<Palette>,
    pub on_close: Callback<()>,
}

/// The legend of the grid: each state's swatch class and its name. A table drawn by one loop
/// rather than seven items written out, each of which was code of its own in the site.
const LEGEND: [(&str, &str); 7] = [
    ("free", "free"),
    ("pod", "pod (node colour)"),
    ("static", "static pod"),
    ("tunnel", "tunnel"),
    ("reserved", "reserved"),
    ("cooldown", "cooldown"),
    ("windows", "Windows-reserved"),
];

const CELL: u32 = 10;
const GAP: u32 = 2;

/// A plain function rather than a component: it is redrawn with the app anyway (its callbacks
/// are new on every render), and a component costs the site its own copy of Yew's lifecycle
/// code.
pub fn block_detail(props: &BlockDetailProps) -> Html {
    let b = &props.block;
    let cells: Option<Vec<Cell<'_>>> = (b.size <= MAX_CELLS).then(|| {
        b.addresses()
            .map(|(ip, used, reserved)| Cell { ip, used, reserved })
            .collect()
    });
    let node = b.affinity.as_deref().and_then(affinity_node);
    let onclick = {
        let on_close = props.on_close.clone();
        Callback::from(move |_: MouseEvent| on_close.emit(()))
    };
    html! {
        <div class="block-detail" data-testid="block-detail" data-cidr={b.cidr.clone()}>
            <div class="block-detail-head">
                <button type="button" class="back" {onclick}>{ "← All blocks" }</button>
                <h3>
                    <code>{ &b.cidr }</code>
                    { format!(" in pool {} — ", b.pool) }
                    { node.map_or_else(|| "no affinity".to_owned(), |n| format!("affine to {n}")) }
                </h3>
            </div>
            <ul class="cell-legend">
                { for LEGEND.iter().map(|&(state, text)| html! {
                    <li>{ with_class(html! { <span /> }, &["swatch", state]) }{ text }</li>
                }) }
            </ul>
            {
                match &cells {
                    Some(cells) => view_grid(cells, props),
                    None => html! { <p class="empty">{ "This block is too large to draw address by address." }</p> },
                }
            }
            <table class="used-table">
                <thead><tr><th scope="col">{ "Address" }</th><th scope="col">{ "Used by" }</th></tr></thead>
                <tbody>
                    { for b.used.iter().map(|(ip, u)| html! {
                        <tr data-testid="used-address" data-ip={ip.to_string()}>
                            <td class="mono">{ ip.to_string() }</td>
                            <td>{ describe(u, &props.plan) }</td>
                        </tr>
                    }) }
                    { for b.reserved.iter().map(|cidr| html! {
                        <tr><td class="mono">{ cidr }</td><td>{ "reserved (IPReservation)" }</td></tr>
                    }) }
                </tbody>
            </table>
        </div>
    }
}

fn view_grid(cells: &[Cell<'_>], props: &BlockDetailProps) -> Html {
    let n = cells.len() as u32;
    let cols = match n {
        0..=16 => n.max(1),
        17..=256 => 16,
        _ => 64,
    };
    let rows = n.div_ceil(cols);
    let pitch = CELL + GAP;
    let view_box = format!("0 0 {} {}", cols * pitch - GAP, rows * pitch - GAP);
    let label = format!("{} addresses of {}", n, props.block.cidr);
    let content = html! {
        <>
            <defs>
                <pattern id="hatch" patternUnits="userSpaceOnUse" width="4" height="4" patternTransform="rotate(45)">
                    <rect class="hatch-bg" width="4" height="4" />
                    <line class="hatch-line" x1="0" y1="0" x2="0" y2="4" />
                </pattern>
            </defs>
            { for cells.iter().enumerate().map(|(i, c)| {
                let i = i as u32;
                let (x, y) = ((i % cols) * pitch, (i / cols) * pitch);
                view_cell(c, x, y, props)
            }) }
        </>
    };
    // Two literal classes rather than a computed one: an SVG element's class can only be set as
    // an attribute, and `with_class` serves only elements without other attributes.
    if cols == 64 {
        html! { <svg class="cell-grid dense" viewBox={view_box} role="img" aria-label={label}>{ content }</svg> }
    } else {
        html! { <svg class="cell-grid" viewBox={view_box} role="img" aria-label={label}>{ content }</svg> }
    }
}

fn view_cell(c: &Cell<'_>, x: u32, y: u32, props: &BlockDetailProps) -> Html {
    let (state, node_class) = match c.used {
        None if c.reserved => ("reserved", None),
        None => ("free", None),
        Some(AddressUse::Pod {
            namespace,
            name,
            is_static,
        }) => {
            let node = pod_node(&props.plan, namespace, name);
            (
                if *is_static { "static" } else { "pod" },
                node.map(|n| props.palette.class(n)),
            )
        }
        Some(AddressUse::Tunnel { node, .. }) => ("tunnel", Some(props.palette.class(node))),
        Some(AddressUse::Cooldown) => ("cooldown", None),
        Some(AddressUse::WindowsReserved) => ("windows", None),
    };
    let title = match c.used {
        Some(u) => format!(
            "{} — {}{}",
            c.ip,
            describe(u, &props.plan),
            if c.reserved {
                " (inside a reservation)"
            } else {
                ""
            }
        ),
        None if c.reserved => format!("{} — reserved", c.ip),
        None => format!("{} — free", c.ip),
    };
    let (xs, ys) = (x.to_string(), y.to_string());
    let half = CELL / 2;
    let cell = html! {
        <g>
            <title>{ title }</title>
            <rect x={xs.clone()} y={ys.clone()} width={CELL.to_string()} height={CELL.to_string()} rx="1.5" />
            if state == "static" {
                <rect class="mark" x={(x + 3).to_string()} y={(y + 3).to_string()} width="4" height="4" />
            }
            if state == "tunnel" {
                <circle class="mark" cx={(x + half).to_string()} cy={(y + half).to_string()} r="2.2" />
            }
        </g>
    };
    let node_class = node_class.unwrap_or_default();
    with_class(
        cell,
        &["cell", state, node_class, on(c.reserved, "in-reservation")],
    )
}

fn pod_node<'a>(plan: &'a Plan, namespace: &str, name: &str) -> Option<&'a str> {
    plan.simulation
        .pods
        .iter()
        .find(|p| p.namespace == namespace && p.name == name)
        .map(|p| p.node.as_str())
}

fn describe(u: &AddressUse, plan: &Plan) -> String {
    match u {
        AddressUse::Pod {
            namespace,
            name,
            is_static,
        } => {
            let node = pod_node(plan, namespace, name)
                .map(|n| format!(" on {n}"))
                .unwrap_or_default();
            let kind = if *is_static { "static pod" } else { "pod" };
            format!("{kind} {namespace}/{name}{node}")
        }
        AddressUse::Tunnel { node, kind } => format!("{} tunnel of {node}", kind.as_str()),
        AddressUse::Cooldown => "released, in cooldown".to_owned(),
        AddressUse::WindowsReserved => "reserved on Windows nodes".to_owned(),
    }
}
