//! Utilization per pool in Calico's vocabulary (`calicoctl ipam show`): Capacity, In use,
//! Reserved, Available. In-use and reserved may overlap, as in Calico, so the bar draws in-use
//! from the left and reserved from the right. Counts are u128 (IPv6 pools exceed 64 bits).

use ipam_core::simulate::PoolUsage;
use yew::prelude::*;

use super::{count, percent, show_tenths, tenths, with_class, Palette};
use crate::state::Plan;

/// Drawn through `plan_view`, which redraws it only for a new plan.
pub fn pool_usage_list(plan: &Plan, _: &Palette) -> Html {
    let pools = &plan.simulation.pools;
    html! {
        <section class="pool-usage" aria-labelledby="pool-usage-title">
            { super::pane_title("pool-usage-title", "Pool utilization", Some(pools.len())) }
            if pools.is_empty() {
                <p class="empty">{ "No pool utilization to show." }</p>
            } else {
                <ul class="pool-list">{ for pools.iter().map(view_pool) }</ul>
            }
        </section>
    }
}

/// Width in the bar's 1000-unit view box, and where a bar of that width ends when it is drawn
/// from the right edge (1000 minus the width as printed).
fn width(part: u128, whole: u128) -> (String, String) {
    if whole == 0 {
        return ("0".to_owned(), "1000.0".to_owned());
    }
    let w = (part as f64 / whole as f64 * 1000.0).clamp(0.0, 1000.0);
    // A non-zero share stays visible.
    let w = if part > 0 { w.max(4.0) } else { w };
    // The width as printed, in tenths (at most 10 000): the rest of the bar is exact in tenths.
    let printed = tenths(w);
    (
        show_tenths(printed),
        show_tenths(10_000u128.saturating_sub(printed)),
    )
}

/// ` (2^n)` after capacities too long to read at a glance.
fn power_of_two(n: u128) -> String {
    if n > 1 << 32 && n.is_power_of_two() {
        format!(" (2^{})", n.trailing_zeros())
    } else {
        String::new()
    }
}

/// One of a pool's numbers after its bar: a count, its share of the capacity, and the bar's
/// colour for it (the swatch). One function for the three: each written out was code of its own.
fn share(swatch: &str, name: &'static str, part: u128, capacity: u128) -> Html {
    let swatch = with_class(html! { <span /> }, &["swatch", swatch]);
    html! {
        <div><dt>{ swatch }{ name }</dt><dd>{ count(part) }{ " " }<small>{ percent(part, capacity) }</small></dd></div>
    }
}

fn view_pool(p: &PoolUsage) -> Html {
    let (in_use, _) = width(p.in_use, p.capacity);
    let (reserved, reserved_x) = width(p.reserved, p.capacity);
    let label = format!(
        "{}: {} of {} addresses in use, {} reserved, {} available",
        p.name,
        count(p.in_use),
        count(p.capacity),
        count(p.reserved),
        count(p.available)
    );
    html! {
        <li class="pool" data-testid="pool-usage" data-pool={p.name.clone()}
            data-capacity={p.capacity.to_string()} data-in-use={p.in_use.to_string()}
            data-reserved={p.reserved.to_string()} data-available={p.available.to_string()}>
            <div class="pool-head">
                <strong>{ &p.name }</strong>
                <code>{ &p.cidr }</code>
            </div>
            <svg class="usage-bar" viewBox="0 0 1000 16" preserveAspectRatio="none"
                role="img" aria-label={label}>
                <rect class="bar-free" x="0" y="0" width="1000" height="16" />
                <rect class="bar-reserved" x={reserved_x} y="0" width={reserved} height="16" />
                <rect class="bar-in-use" x="0" y="0" width={in_use} height="16" />
            </svg>
            <dl class="usage-numbers">
                <div><dt>{ "Capacity" }</dt><dd>{ count(p.capacity) }{ power_of_two(p.capacity) }</dd></div>
                { share("in-use", "In use", p.in_use, p.capacity) }
                { share("reserved", "Reserved", p.reserved, p.capacity) }
                { share("free", "Available", p.available, p.capacity) }
            </dl>
        </li>
    }
}
