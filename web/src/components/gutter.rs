//! The editor's gutter: a line number per line, and a marker on every line with diagnostics
//! (its messages as the tooltip). It scrolls with the text area (`editor.rs` keeps them in step);
//! for keyboard and screen-reader users the diagnostics list carries the same information.

use std::rc::Rc;

use ipam_core::Severity;
use yew::prelude::*;

/// The diagnostics of one line, merged.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    pub line: u32,
    /// The most severe of the line's diagnostics.
    pub severity: Severity,
    /// Every message of the line, one per line of text.
    pub title: String,
}

pub struct GutterProps {
    pub line_count: usize,
    /// Sorted by line, one per line.
    pub markers: Rc<Vec<Marker>>,
    pub node_ref: NodeRef,
    pub on_jump: Callback<u32>,
}

/// A plain function rather than a component: it is redrawn with the app anyway (its callbacks
/// are new on every render), and a component costs the site its own copy of Yew's lifecycle
/// code.
pub fn gutter(props: &GutterProps) -> Html {
    let mut markers = props.markers.iter().peekable();
    let lines = (1..=props.line_count as u32).map(|n| {
        while markers.next_if(|m| m.line < n).is_some() {}
        match markers.next_if(|m| m.line == n) {
            Some(m) => {
                let on_jump = props.on_jump.clone();
                let onclick = Callback::from(move |_: MouseEvent| on_jump.emit(n));
                html! {
                    <div ~className={super::class(&["gutter-line", "marked", m.severity.as_str()])}
                        data-testid="gutter-marker"
                        data-line={n.to_string()}
                        data-severity={m.severity.as_str()}
                        title={m.title.clone()}
                        {onclick}>
                        { n }
                    </div>
                }
            }
            // `className` like the marked lines, which take the same places (components/mod.rs).
            None => html! { <div ~className="gutter-line">{ n }</div> },
        }
    });
    html! {
        <div class="gutter" ref={props.node_ref.clone()} aria-hidden="true">
            { for lines }
        </div>
    }
}
