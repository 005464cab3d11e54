//! One view per file. Views take props and report intent through callbacks; only the root
//! (`app.rs`) dispatches actions. A view is a Yew component only when it keeps state of its own
//! (the app, the generator forms with their output) or when skipping its redraw for equal props
//! saves real work (the line marks, redrawn only for new marks or a new line count, and the pool
//! usage, the tunnels and the resource list, redrawn only for a new plan). They share one
//! component, `Part`. The others are plain functions returning `Html`, any small state of theirs
//! (the header's share link, the generator tab, the editor's markers) kept by the app: each
//! component costs the site its own copy of Yew's lifecycle code (about 0.5–0.8 KB gzipped), and
//! those views are redrawn with the app anyway, since the callbacks the app hands them are new on
//! every render.
//!
//! `generators.rs` is the Generate panel (after the address map): a static IP for a pod, a
//! reserved range, the capacity planner. Every manifest comes from `ipam_core::generate`; the
//! page invents none.

pub mod address_map;
pub mod allocations;
pub mod block_detail;
pub mod capacity_form;
pub mod diagnostics;
pub mod editor;
pub mod embed_bar;
pub mod existing_input;
pub mod fields;
pub mod gallery;
pub mod generated_output;
pub mod generators;
pub mod gutter;
pub mod header;
pub mod line_marks;
pub mod pool_usage;
pub mod reserve_form;
pub mod resources;
pub mod static_ip_form;
pub mod summary;
pub mod tunnels;

use std::rc::Rc;

use yew::functional::{FunctionComponent, FunctionProvider, Hook, HookContext};
use yew::html::HtmlResult;
use yew::prelude::*;
use yew::virtual_dom::{AttributeOrProperty, Attributes, VNode};

use crate::app::{use_app, AppProps};
use crate::state::Plan;
use generators::{generator_form, GeneratorFormProps};
use line_marks::{line_marks, LineMarksProps};

/// A view of the plan, with the nodes' colours.
pub type PlanViewFn = fn(&Plan, &Palette) -> Html;

/// A view of the plan drawn through `Part`: redrawn only when the plan (or the palette, which
/// follows it) changes.
pub struct PlanView {
    pub plan: Rc<Plan>,
    pub palette: Rc<Palette>,
    pub view: PlanViewFn,
}

impl PartialEq for PlanView {
    fn eq(&self, other: &Self) -> bool {
        self.plan == other.plan
            && self.palette == other.palette
            && std::ptr::fn_addr_eq(self.view, other.view)
    }
}

/// What a `Part` draws.
#[derive(PartialEq)]
pub enum PartView {
    /// The whole page, at the root (`main.rs`), its state in hooks (see `app.rs`).
    App(AppProps),
    Plan(PlanView),
    /// Redrawn only for new marks or a new line count.
    LineMarks(LineMarksProps),
    /// A generator's form, its state in hooks (see `generators`).
    Generator(GeneratorFormProps),
}

#[derive(Properties, PartialEq)]
pub struct PartProps {
    pub view: PartView,
}

/// The component of every view that is one: the app at the root, the views redrawn only when
/// what they show changes, not on every keystroke, and the generator forms, each keeping its
/// state in it. One component serves them all, so the site carries one copy of Yew's lifecycle
/// code. `#[function_component]` would not let a component choose its hooks (the app's or a
/// generator form's), so this is what it writes, with the choice of view in `run`.
pub struct Part {
    function: FunctionComponent<Self>,
}

impl FunctionProvider for Part {
    type Properties = PartProps;

    fn run(ctx: &mut HookContext, props: &PartProps) -> HtmlResult {
        Ok(match &props.view {
            PartView::App(app) => use_app(app).run(ctx),
            PartView::Plan(plan) => (plan.view)(&plan.plan, &plan.palette),
            PartView::LineMarks(marks) => line_marks(marks),
            PartView::Generator(form) => generator_form(ctx, form),
        })
    }
}

impl BaseComponent for Part {
    type Message = ();
    type Properties = PartProps;

    fn create(ctx: &Context<Self>) -> Self {
        Self {
            function: FunctionComponent::new(ctx),
        }
    }

    fn update(&mut self, _ctx: &Context<Self>, _msg: ()) -> bool {
        true
    }

    fn changed(&mut self, _ctx: &Context<Self>, _old_props: &PartProps) -> bool {
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

/// `view` of the plan, drawn through `Part`.
pub fn plan_view(plan: &Rc<Plan>, palette: &Rc<Palette>, view: PlanViewFn) -> Html {
    let view = PartView::Plan(PlanView {
        plan: plan.clone(),
        palette: palette.clone(),
        view,
    });
    html! { <Part {view} /> }
}

// Computed classes never go through `html!`'s `class={…}`: Yew converts every such class
// through `Classes`, an `IndexSet` per element (splitting and deduplicating), whose code cost the
// site 1.6 KB gzipped for what a joined string (`class`) does here, since no class has spaces or
// repeats. An element whose only attribute is its class gets it from `with_class`; an HTML
// element with other attributes sets its `className` property instead (`~className={…}`), which
// writes the same attribute. One catch: when Yew redraws a place with an element from another
// `html!` site with the same tag, it matches their attributes and properties by name, so an
// element setting `className` must not take the place of one with a `class` attribute, or the
// reverse: the class would be removed or become "undefined". (The gutter's lines, marked or not,
// therefore all set `className`.) SVG elements have no string `className`: theirs is set by
// `with_class` or written literally.

/// `element`, an element built by `html!` with no attributes, with the `class` attribute joined
/// from `parts`: the attribute `html!` makes for `class={…}`, without `Classes`.
pub fn with_class(mut element: Html, parts: &[&str]) -> Html {
    if let VNode::VTag(tag) = &mut element {
        // The element was just built, so it is not shared.
        if let Some(tag) = Rc::get_mut(tag) {
            debug_assert!(
                matches!(tag.attributes, Attributes::Static([])),
                "with_class replaces the element's attributes"
            );
            tag.attributes = Attributes::Dynamic {
                keys: &["class"],
                values: Box::new([Some(AttributeOrProperty::Attribute(class(parts).into()))]),
            };
        }
    }
    element
}

/// An element's `class` attribute from its classes, leaving out empty ones.
pub fn class(parts: &[&str]) -> String {
    let mut out = String::new();
    for part in parts.iter().filter(|p| !p.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(part);
    }
    out
}

/// `name` when `cond` holds, else nothing: an optional class for `class`.
pub fn on(cond: bool, name: &str) -> &str {
    if cond {
        name
    } else {
        ""
    }
}

/// A results section's title, `name` with the count of its items if it has one (`Diagnostics
/// (3)`), its `id` for the section's `aria-labelledby`. One function for every section's title:
/// each written out was code of its own in the site.
pub fn pane_title(id: &'static str, name: &'static str, items: Option<usize>) -> Html {
    let text = match items {
        Some(n) => format!("{name} ({n})"),
        None => name.to_owned(),
    };
    html! { <h2 {id} class="pane-title">{ text }</h2> }
}

/// The simulated cluster's nodes in start order, each with a colour class
/// (`node-0` … `node-7`, repeating) shared by every view.
#[derive(Debug, PartialEq)]
pub struct Palette {
    nodes: Vec<String>,
}

pub const NODE_COLOURS: usize = 8;

/// The colour classes, written out: no string is formatted per node and draw.
const NODE_CLASSES: [&str; NODE_COLOURS] = [
    "node-0", "node-1", "node-2", "node-3", "node-4", "node-5", "node-6", "node-7",
];

impl Palette {
    /// The simulation's nodes in start order, then any node only a block's affinity names.
    pub fn of(plan: &Plan) -> Rc<Palette> {
        let sim = &plan.simulation;
        let mut nodes: Vec<String> = sim.nodes.iter().map(|n| n.name.clone()).collect();
        for block in &sim.blocks {
            if let Some(node) = block.affinity.as_deref().and_then(affinity_node) {
                if !nodes.iter().any(|n| n == node) {
                    nodes.push(node.to_owned());
                }
            }
        }
        Rc::new(Palette { nodes })
    }

    pub fn nodes(&self) -> &[String] {
        &self.nodes
    }

    /// The colour class of `node`; unknown nodes get a neutral class.
    pub fn class(&self, node: &str) -> &'static str {
        match self.nodes.iter().position(|n| n == node) {
            Some(i) => NODE_CLASSES[i % NODE_COLOURS],
            None => "node-none",
        }
    }
}

/// The node of a block affinity such as `host:node-1`.
pub fn affinity_node(affinity: &str) -> Option<&str> {
    affinity.strip_prefix("host:")
}

/// A count with thin-space thousands separators (counts may exceed 64 bits).
pub fn count(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() * 4 / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('\u{2009}');
        }
        out.push(c);
    }
    out
}

/// `part / whole` as a percentage with one decimal, for display only.
pub fn percent(part: u128, whole: u128) -> String {
    if whole == 0 {
        return "0%".to_owned();
    }
    let p = part as f64 / whole as f64 * 100.0;
    if p > 0.0 && p < 0.1 {
        "<0.1%".to_owned()
    } else if part < whole && p >= 99.95 {
        ">99.9%".to_owned()
    } else {
        format!("{}%", one_decimal(p))
    }
}

/// What `format!("{x:.1}")` prints for a finite `x` in `0 .. 2^120` (the page's widths and
/// shares: never negative, at most 1000), without std's float formatting: that code is about 11 KB of the
/// site's wasm and these are its only uses. Like std, it rounds the exact binary value of `x`
/// and breaks exact ties to even.
pub fn one_decimal(x: f64) -> String {
    show_tenths(tenths(x))
}

/// A count of tenths with one decimal, as `{:.1}` prints it: `123` is "12.3".
pub fn show_tenths(tenths: u128) -> String {
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// `x × 10` rounded to an integer, ties to even, computed exactly from the bits of `x`.
pub fn tenths(x: f64) -> u128 {
    let bits = x.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i32;
    let fraction = u128::from(bits & ((1 << 52) - 1));
    // x = mantissa × 2^power, exactly.
    let (mantissa, power) = match exponent {
        0 => (fraction, -1074),
        _ => (fraction | 1 << 52, exponent - 1075),
    };
    if power >= 0 {
        // An integer (at least 2^52): no fraction to round. Saturates far beyond the stated range.
        return (x as u128).saturating_mul(10);
    }
    let shift = power.unsigned_abs();
    if shift > 120 {
        // x × 10 < 2^57 × 2^-121: far below one half.
        return 0;
    }
    let scaled = mantissa * 10;
    let (whole, rest, half) = (
        scaled >> shift,
        scaled & ((1 << shift) - 1),
        1u128 << (shift - 1),
    );
    whole + u128::from(rest > half || (rest == half && whole % 2 == 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Node colours repeat after the eighth node; a node the palette lacks has none.
    #[test]
    fn node_classes_repeat_after_eight() {
        let palette = Palette {
            nodes: (0..10).map(|i| format!("n{i}")).collect(),
        };
        assert_eq!(palette.class("n0"), "node-0");
        assert_eq!(palette.class("n7"), "node-7");
        assert_eq!(palette.class("n9"), "node-1");
        assert_eq!(palette.class("other"), "node-none");
    }

    /// `with_class` gives an element the class attribute that `class={…}` would.
    #[test]
    fn with_class_sets_the_class_attribute() {
        let element = with_class(html! { <span>{ "x" }</span> }, &["node-chip", "", "node-3"]);
        let VNode::VTag(tag) = element else {
            panic!("not an element");
        };
        let attributes: Vec<_> = tag.attributes.iter().collect();
        assert_eq!(attributes, [("class", "node-chip node-3")]);
    }

    /// `one_decimal` must print exactly what std's `{:.1}` prints.
    fn check(x: f64) {
        assert_eq!(one_decimal(x), format!("{x:.1}"), "{x:e}");
    }

    #[test]
    fn one_decimal_matches_std() {
        // Exact ties (to even), values just beside them, tiny and huge values, subnormals.
        for x in [
            0.0,
            0.05,
            0.25,
            0.75,
            0.125,
            0.375,
            2.5,
            12.25,
            12.75,
            99.95,
            999.95,
            1000.0,
            4.0,
            1e-300,
            5e-324,
            0.049_999_999,
            4_503_599_627_370_495.5,
            9.007_199_254_740_993e15,
            1e20,
            1.0e36,
        ] {
            check(x);
            check(f64::from_bits(x.to_bits() + 1));
            if x > 0.0 {
                check(f64::from_bits(x.to_bits() - 1));
            }
        }
        // Every share the page computes for small pools, and a sweep of bit patterns.
        for whole in 1..300u32 {
            for part in 0..=whole {
                check(f64::from(part) / f64::from(whole) * 100.0);
                check((f64::from(part) / f64::from(whole) * 1000.0).max(4.0));
            }
        }
        let mut bits = 0x3f00_0000_0000_0000u64;
        while bits < 0x4130_0000_0000_0000 {
            check(f64::from_bits(bits));
            bits += 0x0000_1234_5678_9abd;
        }
    }
}
