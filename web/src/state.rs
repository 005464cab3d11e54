//! The page's one state, changed only through `Action`s by the reducer (the pattern of yew's
//! function_todomvc). Results are derived from the text by the core: typing only changes the
//! text, and the debounced `Replan` (see `app.rs`) brings the results up to date.

use std::rc::Rc;

use ipam_core::{Analysis, Simulation, Source, TextEdit};
use yew::Reducible;

use crate::text;

/// The core's results for one version of the text.
#[derive(Debug)]
pub struct Plan {
    /// Counts plans, so components compare plans cheaply (see `PartialEq`).
    pub revision: u64,
    /// The text these results are for.
    pub text: String,
    pub analysis: Analysis,
    /// The allocation, and every diagnostic (the analysis' and the run's) in the core's order.
    pub simulation: Simulation,
}

impl Plan {
    fn new(revision: u64, text: &str) -> Plan {
        let (analysis, simulation) = ipam_core::plan(&[Source::new(None, text)]);
        Plan {
            revision,
            text: text.to_owned(),
            analysis,
            simulation,
        }
    }
}

impl PartialEq for Plan {
    fn eq(&self, other: &Plan) -> bool {
        self.revision == other.revision
    }
}

/// A text the user can go back to after a change they did not type (a fix, an example, a
/// share link).
#[derive(Clone, Debug, PartialEq)]
pub struct Undo {
    /// What the button says, e.g. "Undo fix".
    pub label: String,
    pub text: String,
}

#[derive(Debug)]
pub struct State {
    pub text: String,
    pub plan: Rc<Plan>,
    /// The block whose addresses the map shows (its CIDR), if any.
    pub selected_block: Option<String>,
    pub undo: Option<Undo>,
}

impl State {
    pub fn new(text: String, undo: Option<Undo>) -> State {
        let plan = Rc::new(Plan::new(0, &text));
        State {
            text,
            plan,
            selected_block: None,
            undo,
        }
    }

    /// Whether the results are for an older text (the user is typing).
    pub fn is_stale(&self) -> bool {
        self.plan.text != self.text
    }

    /// The state with `text`, planned at once, remembering the old text under `undo_label`.
    fn replace_text(&self, text: String, undo_label: Option<&str>) -> State {
        let undo = match undo_label {
            Some(label) if text != self.text => Some(Undo {
                label: label.to_owned(),
                text: self.text.clone(),
            }),
            Some(_) => self.undo.clone(),
            None => None,
        };
        State {
            plan: Rc::new(Plan::new(self.plan.revision + 1, &text)),
            text,
            selected_block: self.selected_block.clone(),
            undo,
        }
    }
}

pub enum Action {
    /// The user edited the manifests; the results are stale until `Replan`.
    Edit(String),
    /// Brings the results up to date with the text (dispatched after a pause in typing).
    Replan,
    /// Applies a diagnostic's fix. Ignored while the results are stale: the edit's positions are
    /// those of the planned text.
    ApplyFix(TextEdit),
    /// Replaces the text with an example's.
    LoadExample(&'static str),
    /// Replaces the text with one from a share link opened in this tab.
    LoadShared(String),
    /// Goes back to the text before the last fix or example.
    Undo,
    /// Shows a block's addresses in the map, or the pools again with `None`.
    SelectBlock(Option<String>),
    /// Replaces the text with the planned text plus a generator's output ("Add to input").
    /// Ignored while the results are stale: the output was made for the planned text.
    AddGenerated(String),
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        match action {
            Action::Edit(text) if text == self.text => self,
            Action::Edit(text) => Rc::new(State {
                text,
                plan: self.plan.clone(),
                selected_block: self.selected_block.clone(),
                // Typing makes the remembered text the user's to manage again.
                undo: self.undo.clone(),
            }),
            Action::Replan if !self.is_stale() => self,
            Action::Replan => {
                let text = self.text.clone();
                Rc::new(State {
                    undo: self.undo.clone(),
                    ..self.replace_text(text, None)
                })
            }
            Action::ApplyFix(_) if self.is_stale() => self,
            Action::ApplyFix(edit) => {
                let fixed = text::apply_edit(&self.text, &edit);
                Rc::new(self.replace_text(fixed, Some("Undo fix")))
            }
            Action::LoadExample(text) => {
                let mut next = self.replace_text(text.to_owned(), Some("Back to your text"));
                next.selected_block = None;
                Rc::new(next)
            }
            Action::LoadShared(text) => {
                let mut next = self.replace_text(text, Some("Back to your text"));
                next.selected_block = None;
                Rc::new(next)
            }
            Action::Undo => match &self.undo {
                Some(undo) => {
                    let mut next = self.replace_text(undo.text.clone(), None);
                    next.selected_block = None;
                    Rc::new(next)
                }
                None => self,
            },
            Action::AddGenerated(_) if self.is_stale() => self,
            Action::AddGenerated(text) => Rc::new(self.replace_text(text, Some("Undo add"))),
            Action::SelectBlock(block) if block == self.selected_block => self,
            Action::SelectBlock(block) => Rc::new(State {
                text: self.text.clone(),
                plan: self.plan.clone(),
                selected_block: block,
                undo: self.undo.clone(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipam_core::yaml::Pos;

    fn reduce(state: State, action: Action) -> State {
        Rc::try_unwrap(Rc::new(state).reduce(action)).unwrap_or_else(|rc| State {
            text: rc.text.clone(),
            plan: rc.plan.clone(),
            selected_block: rc.selected_block.clone(),
            undo: rc.undo.clone(),
        })
    }

    #[test]
    fn typing_defers_planning_until_replan() {
        let state = State::new("kind: Foo\n".into(), None);
        let state = reduce(state, Action::Edit("kind: Bar\n".into()));
        assert!(state.is_stale());
        assert_eq!(state.plan.text, "kind: Foo\n");
        let state = reduce(state, Action::Replan);
        assert!(!state.is_stale());
        assert_eq!(state.plan.revision, 1);
    }

    #[test]
    fn generated_text_replaces_fresh_results_only_and_can_be_undone() {
        let state = State::new("kind: Foo\n".into(), None);
        let stale = reduce(state, Action::Edit("kind: Bar\n".into()));
        let stale = reduce(
            stale,
            Action::AddGenerated("kind: Foo\n---\nkind: Baz\n".into()),
        );
        assert_eq!(stale.text, "kind: Bar\n");
        let fresh = reduce(stale, Action::Replan);
        let added = reduce(
            fresh,
            Action::AddGenerated("kind: Bar\n---\nkind: Baz\n".into()),
        );
        assert_eq!(added.text, "kind: Bar\n---\nkind: Baz\n");
        assert!(!added.is_stale());
        assert_eq!(
            added.undo.as_ref().map(|u| u.label.as_str()),
            Some("Undo add")
        );
        let undone = reduce(added, Action::Undo);
        assert_eq!(undone.text, "kind: Bar\n");
    }

    #[test]
    fn a_fix_applies_to_current_results_only_and_can_be_undone() {
        let edit = TextEdit {
            start: Pos { line: 1, column: 7 },
            end: Pos {
                line: 1,
                column: 10,
            },
            new_text: "Bar".into(),
        };
        let state = State::new("kind: Foo\n".into(), None);
        let stale = reduce(state, Action::Edit("kind: Foo \n".into()));
        let stale = reduce(stale, Action::ApplyFix(edit.clone()));
        assert_eq!(stale.text, "kind: Foo \n");
        let fresh = reduce(stale, Action::Replan);
        let fixed = reduce(fresh, Action::ApplyFix(edit));
        assert_eq!(fixed.text, "kind: Bar \n");
        assert!(!fixed.is_stale());
        let undone = reduce(fixed, Action::Undo);
        assert_eq!(undone.text, "kind: Foo \n");
        assert_eq!(undone.undo, None);
    }
}
