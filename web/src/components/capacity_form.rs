//! The capacity planner: nodes × pods per node in, block size and pool prefix advice out, and
//! for a pool of the input (or a prefix typed in) how many nodes fit, who borrows first and who
//! fails first. Results follow every keystroke; the core's arithmetic is instant.

use ipam_core::generate::capacity::{self, CapacityPlan, CapacityRequest, FailureReason};
use ipam_core::net::Family;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::count;
use super::fields::{option, select_field, set_choice, set_text};
use super::generators::GeneratorFormProps;

/// The pool select's values besides the input's pool names.
const NO_POOL: &str = "";
const CUSTOM: &str = "custom";

/// A field's number, if it is one and fits `T`. Every field is read as a `u64` first: the site
/// then carries one copy of std's integer parsing rather than one per type.
fn number<T: TryFrom<u64>>(text: &str) -> Option<T> {
    let n: u64 = text.trim().parse().ok()?;
    T::try_from(n).ok()
}

/// The form, drawn by a `Part` component (a hook: its state is the component's).
#[hook]
pub fn use_capacity_form(props: &GeneratorFormProps) -> Html {
    let model = &props.plan.analysis.model;
    let pools = model.effective_pools();
    let config = model.ipam_config();
    let node_count = props.plan.simulation.nodes.len().max(1);

    let nodes = use_state(|| node_count.to_string());
    let pods = use_state(|| "110".to_owned());
    let tunnel = use_state(|| false);
    let family = use_state(|| Family::V4);
    let block = use_state(String::new);
    let max_blocks = use_state(|| config.max_blocks_per_host.to_string());
    let strict = use_state(|| config.strict_affinity);
    let headroom = use_state(|| "25".to_owned());
    let pool = use_state(|| {
        pools
            .iter()
            .find(|p| !p.disabled)
            .map_or_else(|| CUSTOM.to_owned(), |p| p.name.clone())
    });
    let prefix = use_state(|| "21".to_owned());

    // A pool of the input decides the family, block size and prefix.
    let chosen = pools.iter().find(|p| p.name == *pool);
    let family_value = chosen.map_or(*family, |p| p.family());
    let block_value: Option<u8> = match chosen {
        Some(p) => Some(p.block_size.prefix_len()),
        None => number(&block),
    };
    let pool_prefix = match (chosen, pool.as_str()) {
        (Some(p), _) => Some(p.cidr.prefix_len()),
        (None, CUSTOM) => number::<u8>(prefix.trim_start_matches('/')),
        _ => None,
    };
    let request = CapacityRequest {
        family: family_value,
        nodes: number(&nodes).unwrap_or(0),
        pods_per_node: number(&pods).unwrap_or(0),
        tunnel_per_node: *tunnel,
        block_size: block_value,
        max_blocks_per_host: number(&max_blocks).unwrap_or(0),
        strict_affinity: *strict,
        headroom_percent: number(&headroom).unwrap_or(0),
        pool_prefix,
    };
    let result = capacity::plan(&request);
    // For a pool of the input, how much of it the current plan has already carved.
    let claimed = chosen.map(|p| {
        props
            .plan
            .simulation
            .blocks
            .iter()
            .filter(|b| b.pool == p.name)
            .count() as u128
    });

    let on_family = {
        let (family, block) = (family.clone(), block.clone());
        Callback::from(move |e: Event| {
            let v6 = e.target_unchecked_into::<HtmlSelectElement>().value() == "v6";
            family.set(if v6 { Family::V6 } else { Family::V4 });
            // Block sizes differ by family; go back to advice.
            block.set(String::new());
        })
    };
    let block_range = match family_value {
        Family::V4 => 20..=32u8,
        Family::V6 => 116..=128u8,
    };
    let block_text = block_value.map(|b| b.to_string()).unwrap_or_default();

    html! {
        <form class="generator-form capacity-form" data-testid="capacity-form"
            onsubmit={Callback::from(|e: SubmitEvent| e.prevent_default())}>
            <p class="generator-intro">
                { "How big a pool and blocks must be for your nodes. It assumes the planner's cluster: nodes start in order, then pods spread evenly over them." }
            </p>
            <div class="field-row">
                { number_field("Nodes", "capacity-nodes", None, &nodes) }
                { number_field("Pods per node", "capacity-pods", None, &pods) }
                { check_field("Tunnel address per node (IPIP, VXLAN, WireGuard)", "capacity-tunnel", &tunnel) }
            </div>
            <div class="field-row">
                { select_field("Pool", "capacity-pool", &pool, html! {
                    <>
                        { for pools.iter().map(|p| {
                            let text = format!("{} ({}, /{} blocks)", p.name, p.cidr, p.block_size.prefix_len());
                            option(p.name.clone().into(), text.into(), *pool == p.name)
                        }) }
                        { option(CUSTOM.into(), "A pool prefix I type…".into(), *pool == CUSTOM) }
                        { option(NO_POOL.into(), "None: advise a pool".into(), *pool == NO_POOL) }
                    </>
                }) }
                if chosen.is_none() {
                    <label class="field narrow">
                        <span>{ "Family" }</span>
                        <select data-testid="capacity-family" onchange={on_family}>
                            { option("v4".into(), "IPv4".into(), family_value == Family::V4) }
                            { option("v6".into(), "IPv6".into(), family_value == Family::V6) }
                        </select>
                    </label>
                    if *pool == CUSTOM {
                        { number_field("Pool prefix length", "capacity-prefix", Some("128"), &prefix) }
                    }
                    <label class="field narrow">
                        <span>{ "blockSize" }</span>
                        <select data-testid="capacity-block" onchange={set_choice(&block)}>
                            { option("".into(), "advise".into(), block_text.is_empty()) }
                            { for block_range.map(|b| {
                                let value = b.to_string();
                                let selected = block_text == value;
                                option(value.into(), format!("/{b}").into(), selected)
                            }) }
                        </select>
                    </label>
                }
            </div>
            <div class="field-row">
                { number_field("maxBlocksPerHost (0 = 20)", "capacity-max-blocks", None, &max_blocks) }
                { number_field("Headroom for growth, % of nodes", "capacity-headroom", None, &headroom) }
                { check_field("strictAffinity (no borrowing)", "capacity-strict", &strict) }
            </div>
            <div class="capacity-results" data-testid="capacity-results" aria-live="polite">
                {
                    match &result {
                        Ok(plan) => view_plan(plan, &request, claimed),
                        Err(error) => html! { <p class="generate-error" data-testid="capacity-error">{ &error.message }</p> },
                    }
                }
            </div>
        </form>
    }
}

// The form's repeated shapes, each drawn by one function: written out in the form, every copy
// was code of its own in the site.

/// A labelled number input (at least 0, at most `max` if given) editing `state`.
fn number_field(
    label: &'static str,
    testid: &'static str,
    max: Option<&'static str>,
    state: &UseStateHandle<String>,
) -> Html {
    html! {
        <label class="field narrow">
            <span>{ label }</span>
            <input type="number" min="0" {max} data-testid={testid} value={(**state).clone()}
                oninput={set_text(state)} />
        </label>
    }
}

/// A labelled checkbox editing `state`.
fn check_field(label: &'static str, testid: &'static str, state: &UseStateHandle<bool>) -> Html {
    let onchange = {
        let state = state.clone();
        Callback::from(move |e: Event| {
            state.set(e.target_unchecked_into::<HtmlInputElement>().checked())
        })
    };
    html! {
        <label class="field check">
            <input type="checkbox" data-testid={testid} checked={**state} {onchange} />
            <span>{ label }</span>
        </label>
    }
}

/// One figure of the results: its name and text, and its value for scripts and tests
/// (`data-value`).
fn figure(testid: &'static str, value: String, name: &'static str, text: String) -> Html {
    html! {
        <div data-testid={testid} data-value={value}>
            <dt>{ name }</dt>
            <dd>{ text }</dd>
        </div>
    }
}

fn plural(n: u128, word: &str) -> String {
    let suffix = match (n, word.ends_with('s')) {
        (1, _) => "",
        (_, true) => "es",
        (_, false) => "s",
    };
    format!("{} {word}{suffix}", count(n))
}

fn view_plan(plan: &CapacityPlan, request: &CapacityRequest, claimed: Option<u128>) -> Html {
    let nodes = u128::from(request.nodes);
    let advice =
        |prefix: Option<u8>| prefix.map_or_else(|| "none fits".to_owned(), |p| format!("/{p}"));
    html! {
        <>
            <dl class="capacity-numbers">
                { figure("capacity-block-size", plan.block_size.to_string(), "Block size",
                    format!("/{} ({} addresses){}", plan.block_size, count(plan.block_addresses), if plan.block_size_advised { ", advised" } else { "" })) }
                { figure("capacity-blocks-per-node", plan.blocks_per_node.to_string(), "Blocks per node",
                    format!("{} for {} (limit {})", count(plan.blocks_per_node), plural(plan.addresses_per_node, "address"), plan.block_limit)) }
                { figure("capacity-total-blocks", plan.total_blocks.to_string(), "Blocks for the cluster", count(plan.total_blocks)) }
                { figure("capacity-advice", plan.advised_pool_prefix.map(|p| p.to_string()).unwrap_or_default(), "Pool to create",
                    format!("{} for {} ({} exactly fits today's {})", advice(plan.advised_pool_prefix), plural(plan.planned_nodes, "node"), advice(plan.min_pool_prefix), plural(nodes, "node"))) }
            </dl>
            if plan.over_block_limit {
                <p class="capacity-warning" data-testid="capacity-over-limit">
                    { format!("A node needs {} blocks but may claim only {}: its pods beyond {} addresses fail with block-limit. Use larger blocks (a shorter blockSize).",
                        count(plan.blocks_per_node), plan.block_limit, count(u128::from(plan.block_limit) * plan.block_addresses)) }
                </p>
            }
            if let Some(pool) = &plan.pool {
                <h4 class="capacity-pool-title">{ format!("A /{} pool", pool.prefix) }</h4>
                <dl class="capacity-numbers">
                    <div data-testid="capacity-pool-blocks" data-value={pool.blocks.to_string()}>
                        <dt>{ "Blocks in the pool" }</dt>
                        <dd>
                            { format!("{} ({})", count(pool.blocks), plural(pool.addresses, "address")) }
                            if let Some(claimed) = claimed {
                                <small class="muted" data-testid="capacity-claimed">
                                    { format!("; {} claimed in the current plan, {} unclaimed", count(claimed), count(pool.blocks.saturating_sub(claimed))) }
                                </small>
                            }
                        </dd>
                    </div>
                    { figure("capacity-nodes-fit", pool.nodes_that_fit.map(|n| n.to_string()).unwrap_or_default(), "Nodes with blocks of their own",
                        pool.nodes_that_fit.map_or_else(|| "any number (no node needs a block)".to_owned(), |n| format!("{} before the pool is fully carved", count(n)))) }
                    <div data-testid="capacity-borrowing" data-first={pool.first_borrowing_node.map(|n| n.to_string()).unwrap_or_default()}
                        data-count={pool.nodes_short_of_blocks.to_string()}>
                        <dt>{ if request.strict_affinity { "Short of blocks (strict: no borrowing)" } else { "Borrowing" } }</dt>
                        <dd>{ borrowing_text(pool.first_borrowing_node, pool.nodes_short_of_blocks, nodes) }</dd>
                    </div>
                    <div data-testid="capacity-failure" data-node={pool.first_failure.map(|f| f.node.to_string()).unwrap_or_default()}
                        data-code={pool.first_failure.map(|f| f.reason.code()).unwrap_or_default()}>
                        <dt>{ "First failure" }</dt>
                        <dd>{
                            match pool.first_failure {
                                None => "none: every pod gets an address".to_owned(),
                                Some(f) => format!("node {}: {}", count(f.node), match f.reason {
                                    FailureReason::BlockLimit => "it owns maxBlocksPerHost full blocks (block-limit)",
                                    FailureReason::PoolExhausted => "every address of the pool is taken (pool-exhausted)",
                                    FailureReason::StrictAffinity => "no unclaimed block is left and strict affinity forbids borrowing (pool-exhausted)",
                                }),
                            }
                        }</dd>
                    </div>
                </dl>
            }
        </>
    }
}

fn borrowing_text(first: Option<u128>, short: u128, nodes: u128) -> String {
    match first {
        None => "none: every node claims the blocks it needs".to_owned(),
        Some(first) if short == nodes.saturating_sub(first) + 1 && short > 1 => format!(
            "nodes {}–{} ({}) find no unclaimed block",
            count(first),
            count(nodes),
            count(short)
        ),
        Some(first) if short == 1 => format!("node {} finds no unclaimed block", count(first)),
        Some(first) => format!(
            "{} find no unclaimed block for all they need, node {} first",
            plural(short, "node"),
            count(first)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::number;

    /// Read through a `u64`, a field's number is what parsing it as its own type gives.
    #[test]
    fn number_matches_parsing_as_the_type() {
        for text in [
            "0",
            " 21 ",
            "+7",
            "255",
            "256",
            "-1",
            "4294967296",
            "1e3",
            "",
            "x",
        ] {
            assert_eq!(
                number::<u8>(text),
                text.trim().parse::<u8>().ok(),
                "{text:?}"
            );
            assert_eq!(
                number::<u32>(text),
                text.trim().parse::<u32>().ok(),
                "{text:?}"
            );
            assert_eq!(
                number::<u64>(text),
                text.trim().parse::<u64>().ok(),
                "{text:?}"
            );
        }
    }
}
