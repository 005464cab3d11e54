//! The Generate panel: the manifest generators of `ipam_core::generate`, one tab each. The page
//! invents no manifest itself; every one comes from the core, already checked by the planner.

use std::rc::Rc;

use yew::functional::{FunctionComponent, FunctionProvider, Hook, HookContext};
use yew::html::HtmlResult;
use yew::prelude::*;

use super::capacity_form::use_capacity_form;
use super::reserve_form::use_reserve_form;
use super::static_ip_form::use_static_ip_form;
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
            <GeneratorForm key={tab.id()} tab={*tab} plan={props.plan.clone()} stale={props.stale}
                on_apply={props.on_apply.clone()} />
        </section>
    }
}

#[derive(Properties)]
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

/// The form of one generator, a component with the state of the form: one component for the
/// three forms (each a hook), since every component costs the site its own copy of Yew's
/// lifecycle code. `#[function_component]` would not let a component choose its hooks, so this
/// is what it writes, with a choice of form in `run`.
pub struct GeneratorForm {
    function: FunctionComponent<Self>,
}

impl FunctionProvider for GeneratorForm {
    type Properties = GeneratorFormProps;

    fn run(ctx: &mut HookContext, props: &GeneratorFormProps) -> HtmlResult {
        Ok(match props.tab {
            Tab::StaticIp => use_static_ip_form(props).run(ctx),
            Tab::Reserve => use_reserve_form(props).run(ctx),
            Tab::Capacity => use_capacity_form(props).run(ctx),
        })
    }
}

impl BaseComponent for GeneratorForm {
    type Message = ();
    type Properties = GeneratorFormProps;

    fn create(ctx: &Context<Self>) -> Self {
        Self {
            function: FunctionComponent::new(ctx),
        }
    }

    fn update(&mut self, _ctx: &Context<Self>, _msg: ()) -> bool {
        true
    }

    fn changed(&mut self, _ctx: &Context<Self>, _old_props: &GeneratorFormProps) -> bool {
        true
    }

    fn view(&self, ctx: &Context<Self>) -> HtmlResult {
        self.function.render(ctx.props())
    }

    fn rendered(&mut self, _ctx: &Context<Self>, _first_render: bool) {
        self.function.rendered()
    }

    fn destroy(&mut self, _ctx: &Context<Self>) {
        self.function.destroy()
    }

    fn prepare_state(&self) -> Option<String> {
        self.function.prepare_state()
    }
}
