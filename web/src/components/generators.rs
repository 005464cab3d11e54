//! The Generate panel: the manifest generators of `ipam_core::generate`, one tab each. The page
//! invents no manifest itself; every one comes from the core, already checked by the planner.

use std::rc::Rc;

use yew::functional::{Hook, HookContext};
use yew::prelude::*;

use super::capacity_form::use_capacity_form;
use super::reserve_form::use_reserve_form;
use super::static_ip_form::use_static_ip_form;
use super::{Part, PartView};
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
    let view = PartView::Generator(GeneratorFormProps {
        tab: *tab,
        plan: props.plan.clone(),
        stale: props.stale,
        on_apply: props.on_apply.clone(),
    });
    html! {
        <section class="generators" aria-labelledby="generators-title" data-testid="generators">
            { super::pane_title("generators-title", "Generate", None) }
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
            // Keyed by its tab: another tab's form is a new component, as it has other hooks.
            <Part key={tab.id()} {view} />
        </section>
    }
}

/// What a generator's form is drawn from.
pub struct GeneratorFormProps {
    pub tab: Tab,
    pub plan: Rc<Plan>,
    pub stale: bool,
    /// Receives the whole new input text ("Add to input").
    pub on_apply: Callback<String>,
}

impl PartialEq for GeneratorFormProps {
    /// The capacity planner uses only the plan, so it is not redrawn when only the others' props
    /// change (the callback is new on every render of the app).
    fn eq(&self, other: &Self) -> bool {
        self.tab == other.tab
            && self.plan == other.plan
            && (self.tab == Tab::Capacity
                || (self.stale == other.stale && self.on_apply == other.on_apply))
    }
}

/// The form of `props.tab`, drawn by a `Part` keyed by the tab: its state is in the form's hooks,
/// run here, and another tab's form, with other hooks, is a new `Part`.
pub fn generator_form(ctx: &mut HookContext, props: &GeneratorFormProps) -> Html {
    match props.tab {
        Tab::StaticIp => use_static_ip_form(props).run(ctx),
        Tab::Reserve => use_reserve_form(props).run(ctx),
        Tab::Capacity => use_capacity_form(props).run(ctx),
    }
}
