//! The tint behind the editor's lines that have diagnostics: one empty row per line, scrolled
//! with the text area, under its transparent background (no inline positions: the CSP allows no
//! style attributes, so rows stack in the flow like the text's lines).

use std::rc::Rc;

use yew::prelude::*;

use super::gutter::Marker;

/// Drawn through `Part`, which redraws the marks only when these change.
#[derive(PartialEq)]
pub struct LineMarksProps {
    pub line_count: usize,
    /// Sorted by line, one per line.
    pub markers: Rc<Vec<Marker>>,
    pub node_ref: NodeRef,
}

pub fn line_marks(props: &LineMarksProps) -> Html {
    // One row per line of text, even after the last marker: the layer must be able to scroll as
    // far as the text area does, or its tints drift above their lines near the end.
    let last = props.line_count;
    let mut markers = props.markers.iter().peekable();
    let rows = (1..=last as u32).map(|n| {
        while markers.next_if(|m| m.line < n).is_some() {}
        match markers.next_if(|m| m.line == n) {
            Some(m) => super::with_class(html! { <div /> }, &["line-mark", m.severity.as_str()]),
            None => html! { <div class="line-mark" /> },
        }
    });
    html! {
        <div class="line-marks" ref={props.node_ref.clone()} aria-hidden="true">
            { for rows }
        </div>
    }
}
