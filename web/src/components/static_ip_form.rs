//! The static-IP generator's form: which pod (one of the input, or a new one on a chosen node)
//! and which pool (one of the input, or a new Manual pool), then the core picks the address.

use std::rc::Rc;

use ipam_core::generate::{self, GenerateRequest, StaticIpPool, StaticIpRequest, StaticIpTarget};
use ipam_core::model::annotations::IP_ADDRS;
use ipam_core::model::Replicas;
use ipam_core::net::{AllowedUse, AssignmentMode};
use yew::prelude::*;

use super::fields::{option, select_field, text_field};
use super::generated_output::{use_generated_output, Outcome};
use super::generators::GeneratorFormProps;
use crate::state::Plan;

/// The target select's value for "a new pod".
const NEW: &str = "new";

/// The pods a static address can be given to: Pods and one-replica workloads, as
/// `(value, label, has a static address already)` where the value is `namespace/name`. In a
/// review only those of the change count: the generator edits the change, not the existing
/// cluster's text.
fn targets(plan: &Plan) -> Vec<(String, String, bool)> {
    let model = &plan.analysis.model;
    let pods = model
        .pods
        .iter()
        .filter(|p| p.origin.file.is_none())
        .filter(|p| !p.spec.host_network && !p.name().is_empty())
        .map(|p| {
            let id = format!("{}/{}", p.namespace(), p.name());
            let has = p.meta.annotation(IP_ADDRS).is_some();
            (id.clone(), label("Pod", &id, has), has)
        });
    let workloads = model
        .workloads
        .iter()
        .filter(|w| w.origin.file.is_none())
        .filter(|w| w.replicas == Replicas::Count(1) && !w.template.spec.host_network)
        .map(|w| {
            let id = format!("{}/{}", w.namespace(), w.name());
            let has = w.template.meta.annotation(IP_ADDRS).is_some();
            (id.clone(), label(&w.origin.kind, &id, has), has)
        });
    pods.chain(workloads).collect()
}

fn label(kind: &str, id: &str, has_static: bool) -> String {
    if has_static {
        format!("{kind} {id} (has a static IP)")
    } else {
        format!("{kind} {id}")
    }
}

/// Pools a pod may take a static address from, as `(name, label)`; Manual ones first, since
/// they need no reservation.
fn pools(plan: &Plan) -> Vec<(String, String)> {
    let pools = plan.analysis.model.effective_pools();
    let usable = pools
        .iter()
        .filter(|p| !p.disabled && p.allows(AllowedUse::Workload));
    // Two passes rather than a stable sort by mode: the same order, without a sort of pools in
    // the site.
    let manual = usable
        .clone()
        .filter(|p| p.assignment_mode == AssignmentMode::Manual);
    let automatic = usable.filter(|p| p.assignment_mode != AssignmentMode::Manual);
    manual
        .map(|p| (p.name.clone(), format!("{} ({}, Manual)", p.name, p.cidr)))
        .chain(automatic.map(|p| (p.name.clone(), format!("{} ({})", p.name, p.cidr))))
        .collect()
}

/// The form, drawn by a `Part` component (a hook: its state is the component's).
#[hook]
pub fn use_static_ip_form(props: &GeneratorFormProps) -> Html {
    let plan = &props.plan;
    let targets = targets(plan);
    let pools = pools(plan);
    let nodes: Vec<String> = plan
        .simulation
        .nodes
        .iter()
        .map(|n| n.name.clone())
        .collect();

    let target = use_state(String::new);
    let new_name = use_state(|| "static-pod".to_owned());
    let new_namespace = use_state(|| "default".to_owned());
    let node = use_state(String::new);
    let pool = use_state(String::new);
    let manual_cidr = use_state(String::new);
    let manual_name = use_state(String::new);
    let outcome = use_state(|| None::<Rc<Outcome>>);
    let output = use_generated_output((*outcome).clone(), props, "static-ip.yaml");

    // Choices that vanished from the input fall back to the first one offered. The default pod
    // is the first without a static address: giving one to a pod that has one is the rarer wish.
    let target_value = if *target == NEW || targets.iter().any(|(id, _, _)| *id == *target) {
        (*target).clone()
    } else {
        targets
            .iter()
            .find(|(_, _, has)| !has)
            .map_or_else(|| NEW.to_owned(), |(id, _, _)| id.clone())
    };
    let pool_value = if *pool == NEW || pools.iter().any(|(name, _)| *name == *pool) {
        (*pool).clone()
    } else {
        pools
            .first()
            .map_or_else(|| NEW.to_owned(), |(name, _)| name.clone())
    };
    let node_value = if nodes.contains(&node) {
        (*node).clone()
    } else {
        nodes
            .first()
            .cloned()
            .unwrap_or_else(|| "node-1".to_owned())
    };

    let on_generate = {
        let plan = plan.clone();
        let outcome = outcome.clone();
        let (target_value, pool_value, node_value) =
            (target_value.clone(), pool_value.clone(), node_value.clone());
        let (new_name, new_namespace) = ((*new_name).clone(), (*new_namespace).clone());
        let (manual_cidr, manual_name) = ((*manual_cidr).clone(), (*manual_name).clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let target = if target_value == NEW {
                StaticIpTarget::NewPod {
                    namespace: new_namespace.clone(),
                    name: new_name.clone(),
                    node: node_value.clone(),
                }
            } else {
                let (namespace, name) = target_value.split_once('/').unwrap_or(("default", ""));
                StaticIpTarget::Existing {
                    namespace: namespace.to_owned(),
                    name: name.to_owned(),
                }
            };
            let pool = if pool_value == NEW {
                StaticIpPool::NewManual {
                    name: manual_name.clone(),
                    cidr: manual_cidr.clone(),
                }
            } else {
                StaticIpPool::Existing(pool_value.clone())
            };
            let request = GenerateRequest::StaticIp(StaticIpRequest { target, pool });
            outcome.set(Some(Rc::new(Outcome {
                input: plan.text.clone(),
                result: generate::generate(&plan.text, &request),
            })));
        })
    };

    html! {
        <form class="generator-form" data-testid="static-ip-form" onsubmit={on_generate}>
            <p class="generator-intro">
                { "Gives one pod an address automatic assignment cannot take: a free address of a Manual pool, or of an automatic pool together with an IPReservation of exactly that address." }
            </p>
            <div class="field-row">
                { select_field("Pod", "static-ip-target", &target, html! {
                    <>
                        { for targets.iter().map(|(id, label, _)| {
                            option(id.clone().into(), label.clone().into(), *id == target_value)
                        }) }
                        { option(NEW.into(), "A new pod…".into(), target_value == NEW) }
                    </>
                }) }
                { select_field("Pool", "static-ip-pool", &pool, html! {
                    <>
                        { for pools.iter().map(|(name, label)| {
                            option(name.clone().into(), label.clone().into(), *name == pool_value)
                        }) }
                        { option(NEW.into(), "A new Manual pool…".into(), pool_value == NEW) }
                    </>
                }) }
            </div>
            if target_value == NEW {
                <div class="field-row">
                    { text_field("Name", Some("static-ip-name"), None, &new_name) }
                    { text_field("Namespace", Some("static-ip-namespace"), None, &new_namespace) }
                    { select_field("Node", "static-ip-node", &node, html! {
                        { for nodes.iter().map(|n| option(n.clone().into(), n.clone().into(), *n == node_value)) }
                    }) }
                </div>
            }
            if pool_value == NEW {
                <div class="field-row">
                    { text_field("New pool CIDR", Some("static-ip-pool-cidr"), Some("10.250.0.0/28"), &manual_cidr) }
                    { text_field("Pool name (optional)", None, None, &manual_name) }
                </div>
            }
            <button type="submit" class="primary" data-testid="generate-static-ip">{ "Generate" }</button>
            { output }
        </form>
    }
}
