//! The Generate panel: the manifest generators of `ipam_core::generate`, one tab each. The page
//! invents no manifest itself; every one comes from the core, already checked by the planner.

use std::rc::Rc;

use yew::prelude::*;

use super::capacity_form::CapacityForm;
use super::reserve_form::ReserveForm;
use super::static_ip_form::StaticIpForm;
use crate::state::Plan;

/// The generator shown.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub enum Tab {
    #[default]
    StaticIp,
    Reserve,
    Capacity,
}

impl Tab {
    const ALL: [Tab; 3] = [Tab::StaticIp, Tab::Reserve, Tab::Capacity];

    fn id(self) -> &'static str {
        match self {
            Tab::StaticIp => "static-ip",
            Tab::Reserve => "reserve",
            Tab::Capacity => "capacity",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Tab::StaticIp => "Static IP for a pod",
            Tab::Reserve => "Reserve a range",
            Tab::Capacity => "Capacity planner",
        }
    }
}

pub struct GeneratorsProps {
    pub plan: Rc<Plan>,
    pub stale: bool,
    /// Receives the whole new input text ("Add to input").
    pub on_apply: Callback<String>,
    /// The tab shown, kept by the app.
    pub tab: UseStateHandle<Tab>,
}

/// A plain function rather than a component, its state kept by the app: a component costs the
/// site its own copy of Yew's lifecycle code.
pub fn generators(props: &GeneratorsProps) -> Html {
    let tab = props.tab.clone();
    html! {
        <section class="generators" aria-labelledby="generators-title" data-testid="generators">
            <h2 id="generators-title" class="pane-title">{ "Generate" }</h2>
            <div class="tabs" role="group" aria-label="Generators">
                { for Tab::ALL.iter().map(|&t| {
                    let pressed = *tab == t;
                    let tab = tab.clone();
                    let onclick = Callback::from(move |_: MouseEvent| tab.set(t));
                    html! {
                        <button type="button" class="tab" data-testid="generator-tab" data-tab={t.id()}
                            aria-pressed={if pressed { "true" } else { "false" }} {onclick}>
                            { t.label() }
                        </button>
                    }
                }) }
            </div>
            {
                match *tab {
                    Tab::StaticIp => html! {
                        <StaticIpForm plan={props.plan.clone()} stale={props.stale} on_apply={props.on_apply.clone()} />
                    },
                    Tab::Reserve => html! {
                        <ReserveForm plan={props.plan.clone()} stale={props.stale} on_apply={props.on_apply.clone()} />
                    },
                    Tab::Capacity => html! { <CapacityForm plan={props.plan.clone()} /> },
                }
            }
        </section>
    }
}
