//! The reserve-a-range generator's form: a CIDR, an optional name, and whether to reserve it
//! inside a pool (IPReservation) or to make it a pool of its own that automatic assignment
//! never uses (Manual, `!all()`).

use std::rc::Rc;

use ipam_core::generate::{self, GenerateRequest, ReserveRangeRequest};
use yew::prelude::*;

use super::fields::text_field;
use super::generated_output::{use_generated_output, Outcome};
use super::generators::GeneratorFormProps;

/// The form, drawn by a `Part` component (a hook: its state is the component's).
#[hook]
pub fn use_reserve_form(props: &GeneratorFormProps) -> Html {
    let cidr = use_state(String::new);
    let name = use_state(String::new);
    let as_pool = use_state(|| false);
    let outcome = use_state(|| None::<Rc<Outcome>>);
    let file_name = if *as_pool {
        "manual-pool.yaml"
    } else {
        "ip-reservation.yaml"
    };
    let output = use_generated_output((*outcome).clone(), props, file_name);

    let on_generate = {
        let plan = props.plan.clone();
        let outcome = outcome.clone();
        let request = ReserveRangeRequest {
            cidr: (*cidr).clone(),
            name: (*name).clone(),
            as_manual_pool: *as_pool,
        };
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let request = GenerateRequest::ReserveRange(request.clone());
            outcome.set(Some(Rc::new(Outcome {
                input: plan.text.clone(),
                result: generate::generate(&plan.text, &request),
            })));
        })
    };
    let mode = |pool: bool| {
        let as_pool = as_pool.clone();
        Callback::from(move |_: Event| as_pool.set(pool))
    };
    html! {
        <form class="generator-form" data-testid="reserve-form" onsubmit={on_generate}>
            <p class="generator-intro">
                { "Keeps a range away from automatic assignment, for addresses you hand out yourself with the ipAddrs annotation." }
            </p>
            <fieldset class="choice">
                <legend>{ "How" }</legend>
                <label>
                    <input type="radio" name="reserve-mode" data-testid="reserve-as-reservation"
                        checked={!*as_pool} onchange={mode(false)} />
                    { " An IPReservation of a range inside a pool" }
                </label>
                <label>
                    <input type="radio" name="reserve-mode" data-testid="reserve-as-pool"
                        checked={*as_pool} onchange={mode(true)} />
                    { " A Manual pool (" }<code>{ "!all()" }</code>{ ", Workload only) for a range outside every pool" }
                </label>
            </fieldset>
            <div class="field-row">
                { text_field("CIDR", Some("reserve-cidr"), Some("10.244.200.0/28"), &cidr) }
                { text_field("Name (optional)", Some("reserve-name"), None, &name) }
            </div>
            <button type="submit" class="primary" data-testid="generate-reserve">{ "Generate" }</button>
            { output }
        </form>
    }
}
