//! The manifest editor: a plain text area (so Playwright's `fill()`, the browser's undo and every
//! assistive technology work as usual) beside a gutter of line numbers and diagnostic markers.

use std::rc::Rc;

use web_sys::{Element, HtmlTextAreaElement};
use yew::prelude::*;

use super::{on, with_class};

use super::gutter::{gutter, GutterProps, Marker};
use super::line_marks::LineMarksProps;
use super::{Part, PartView};
use crate::state::Plan;
use crate::text;

pub struct EditorProps {
    pub text: String,
    pub on_input: Callback<String>,
    pub on_jump: Callback<u32>,
    /// The text area, for the root's jump-to-line.
    pub textarea: NodeRef,
    /// The gutter, kept scrolled with the text area.
    pub gutter: NodeRef,
    pub compact: bool,
    /// The text is a change reviewed against the existing cluster.
    pub reviewing: bool,
    /// A read-only embed: the text can be selected and copied, not changed.
    pub readonly: bool,
    /// The plan's diagnostics by line (`markers`, memoised by the app per plan).
    pub markers: Rc<Vec<Marker>>,
    /// The layer of line marks behind the text, scrolled with it.
    pub marks: NodeRef,
}

/// A plain function rather than a component, its state kept by the app: a component costs the
/// site its own copy of Yew's lifecycle code.
pub fn editor(props: &EditorProps) -> Html {
    let (markers, marks) = (props.markers.clone(), props.marks.clone());

    let oninput = {
        let on_input = props.on_input.clone();
        Callback::from(move |e: InputEvent| {
            let area: HtmlTextAreaElement = e.target_unchecked_into();
            on_input.emit(area.value());
        })
    };
    let onscroll = {
        let (gutter, marks) = (props.gutter.clone(), marks.clone());
        Callback::from(move |e: Event| {
            let area: HtmlTextAreaElement = e.target_unchecked_into();
            for layer in [&gutter, &marks] {
                if let Some(layer) = layer.cast::<Element>() {
                    layer.set_scroll_top(area.scroll_top());
                }
            }
        })
    };
    let line_count = text::line_count(&props.text);
    let view = html! {
        <div>
            <label for="manifest-input" class="pane-title">
                if props.reviewing {
                    { "Change to review " }<span class="muted">{ "(manifests to apply, YAML or JSON, --- separated)" }</span>
                } else {
                    { "Manifests (YAML or JSON, --- separated)" }
                }
            </label>
            <div class="code-area">
                { gutter(&GutterProps {
                    line_count,
                    markers: markers.clone(),
                    node_ref: props.gutter.clone(),
                    on_jump: props.on_jump.clone(),
                }) }
                <div class="text-layers">
                <Part view={PartView::LineMarks(LineMarksProps { line_count, markers, node_ref: marks })} />
                <textarea
                    id="manifest-input"
                    ref={props.textarea.clone()}
                    data-testid="manifest-input"
                    spellcheck="false"
                    autocomplete="off"
                    autocapitalize="off"
                    wrap="off"
                    value={props.text.clone()}
                    readonly={props.readonly}
                    {oninput}
                    {onscroll}
                />
                </div>
            </div>
        </div>
    };
    with_class(view, &["editor", on(props.compact, "compact")])
}

/// The gutter markers of a plan: the diagnostics located in the manifests, grouped by line (in
/// a review, those of the existing cluster's text are not this editor's).
/// The plan's located diagnostics merged by line, for the gutter and the line marks.
pub fn markers(plan: &Plan) -> Vec<Marker> {
    let mut located: Vec<_> = plan
        .simulation
        .diagnostics
        .iter()
        .filter(|d| d.file.is_none())
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
