//! The manifest editor: a plain text area (so Playwright's `fill()`, the browser's undo and every
//! assistive technology work as usual) beside a gutter of line numbers and diagnostic markers.

use std::rc::Rc;

use web_sys::{Element, HtmlTextAreaElement};
use yew::prelude::*;

use super::gutter::{Gutter, Marker};
use crate::state::Plan;
use crate::text;

#[derive(Properties, PartialEq)]
pub struct EditorProps {
    pub text: String,
    pub plan: Rc<Plan>,
    pub on_input: Callback<String>,
    pub on_jump: Callback<u32>,
    /// The text area, for the root's jump-to-line.
    pub textarea: NodeRef,
    /// The gutter, kept scrolled with the text area.
    pub gutter: NodeRef,
    #[prop_or_default]
    pub compact: bool,
}

#[function_component(Editor)]
pub fn editor(props: &EditorProps) -> Html {
    let markers = use_memo(props.plan.clone(), |plan| markers(plan));

    let oninput = {
        let on_input = props.on_input.clone();
        Callback::from(move |e: InputEvent| {
            let area: HtmlTextAreaElement = e.target_unchecked_into();
            on_input.emit(area.value());
        })
    };
    let onscroll = {
        let gutter = props.gutter.clone();
        Callback::from(move |e: Event| {
            let area: HtmlTextAreaElement = e.target_unchecked_into();
            if let Some(gutter) = gutter.cast::<Element>() {
                gutter.set_scroll_top(area.scroll_top());
            }
        })
    };
    html! {
        <div class={classes!("editor", props.compact.then_some("compact"))}>
            <label for="manifest-input" class="pane-title">{ "Manifests (YAML or JSON, --- separated)" }</label>
            <div class="code-area">
                <Gutter line_count={text::line_count(&props.text)}
                    markers={markers}
                    node_ref={props.gutter.clone()}
                    on_jump={props.on_jump.clone()} />
                <textarea
                    id="manifest-input"
                    ref={props.textarea.clone()}
                    data-testid="manifest-input"
                    spellcheck="false"
                    autocomplete="off"
                    autocapitalize="off"
                    wrap="off"
                    value={props.text.clone()}
                    {oninput}
                    {onscroll}
                />
            </div>
        </div>
    }
}

/// The gutter markers of a plan: its diagnostics grouped by line.
fn markers(plan: &Plan) -> Vec<Marker> {
    let mut located: Vec<_> = plan
        .diagnostics
        .iter()
        .filter_map(|d| Some((d.line?, d)))
        .collect();
    located.sort_by_key(|(line, d)| (*line, d.severity));
    let mut markers: Vec<Marker> = Vec::new();
    for (line, d) in located {
        let text = format!("{}: {} ({})", d.severity.as_str(), d.message, d.code);
        match markers.last_mut() {
            Some(m) if m.line == line => {
                m.title.push('\n');
                m.title.push_str(&text);
            }
            _ => markers.push(Marker {
                line,
                severity: d.severity,
                title: text,
            }),
        }
    }
    markers
}
