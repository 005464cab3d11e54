//! Tunnel addresses per node (IPIP, VXLAN, WireGuard), which nodes take when they start.

use yew::prelude::*;

use super::Palette;
use crate::state::Plan;

/// Drawn through `plan_view`, which redraws it only for a new plan.
pub fn tunnels(plan: &Plan, palette: &Palette) -> Html {
    let tunnels = &plan.simulation.tunnels;
    html! {
        <section class="tunnels" aria-labelledby="tunnels-title">
            { super::pane_title("tunnels-title", "Tunnel addresses", Some(tunnels.len())) }
            if tunnels.is_empty() {
                <p class="empty">{ "No tunnel addresses to show." }</p>
            } else {
                <table class="tunnel-table">
                    <thead><tr><th scope="col">{ "Node" }</th><th scope="col">{ "Kind" }</th><th scope="col">{ "Address" }</th></tr></thead>
                    <tbody>
                        { for tunnels.iter().map(|t| html! {
                            <tr data-testid="tunnel" data-node={t.node.clone()} data-kind={t.kind.as_str()} data-ip={t.ip.to_string()}>
                                <td>{ super::with_class(html! { <span>{ &t.node }</span> }, &["node-chip", palette.class(&t.node)]) }</td>
                                <td>{ t.kind.as_str() }</td>
                                <td class="mono">{ t.ip.to_string() }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            }
        </section>
    }
}
