//! The page's one state, changed only through `Action`s by the reducer (the pattern of yew's
//! function_todomvc). Results are derived from the texts by the core: typing only changes a
//! text, and the debounced `Replan` (see `app.rs`) brings the results up to date.
//!
//! Two texts: the manifests (`text`) and, optionally, the existing cluster's state
//! (`existing`). With an existing state the manifests are reviewed as a change to it
//! (`ipam_core::review::review`); without one they are planned on their own.

use std::rc::Rc;

use ipam_core::{Analysis, Options, Simulation, Source, TextEdit};
use yew::Reducible;

use crate::examples::Example;
use crate::share::Shared;
use crate::text;

/// The file name the core gives to locations in the existing cluster's text.
pub const EXISTING_FILE: &str = "existing";

/// Whether `existing` asks for a review (whitespace alone does not).
pub fn is_review(existing: &str) -> bool {
    !existing.trim().is_empty()
}

/// The core's results for one version of the texts.
#[derive(Debug)]
pub struct Plan {
    /// Counts plans, so components compare plans cheaply (see `PartialEq`).
    pub revision: u64,
    /// The manifests these results are for.
    pub text: String,
    /// The existing cluster's state these results are for (empty: a plain check).
    pub existing: String,
    pub analysis: Analysis,
    /// The allocation, and every diagnostic (the analysis' and the run's) in the core's order.
    pub simulation: Simulation,
}

impl Plan {
    fn new(revision: u64, text: &str, existing: &str) -> Plan {
        let (analysis, simulation) = if is_review(existing) {
            ipam_core::review::review(
                &[Source::new(Some(EXISTING_FILE), existing)],
                &[Source::new(None, text)],
                &Options::default(),
            )
        } else {
            ipam_core::plan(&[Source::new(None, text)])
        };
        Plan {
            revision,
            text: text.to_owned(),
            existing: existing.to_owned(),
            analysis,
            simulation,
        }
    }

    /// Whether these results are a review against an existing cluster.
    pub fn is_review(&self) -> bool {
        is_review(&self.existing)
    }
}

impl PartialEq for Plan {
    fn eq(&self, other: &Plan) -> bool {
        self.revision == other.revision
    }
}

/// Texts the user can go back to after a change they did not type (a fix, an example, a
/// share link).
#[derive(Clone, Debug, PartialEq)]
pub struct Undo {
    /// What the button says, e.g. "Undo fix".
    pub label: String,
    pub text: String,
    pub existing: String,
}

#[derive(Debug)]
pub struct State {
    pub text: String,
    /// The existing cluster's state; empty when the manifests are planned on their own.
    pub existing: String,
    pub plan: Rc<Plan>,
    /// The block whose addresses the map shows (its CIDR), if any.
    pub selected_block: Option<String>,
    pub undo: Option<Undo>,
}

impl State {
    pub fn new(text: String, existing: String, undo: Option<Undo>) -> State {
        let plan = Rc::new(Plan::new(0, &text, &existing));
        State {
            text,
            existing,
            plan,
            selected_block: None,
            undo,
        }
    }

    /// Whether the results are for older texts (the user is typing).
    pub fn is_stale(&self) -> bool {
        self.plan.text != self.text || self.plan.existing != self.existing
    }

    /// The state with `text` and `existing`, planned at once, remembering the old texts under
    /// `undo_label`.
    fn replace(&self, text: String, existing: String, undo_label: Option<&str>) -> State {
        let undo = match undo_label {
            Some(label) if text != self.text || existing != self.existing => Some(Undo {
                label: label.to_owned(),
                text: self.text.clone(),
                existing: self.existing.clone(),
            }),
            Some(_) => self.undo.clone(),
            None => None,
        };
        State {
            plan: Rc::new(Plan::new(self.plan.revision + 1, &text, &existing)),
            text,
            existing,
            selected_block: self.selected_block.clone(),
            undo,
        }
    }

    /// The state with new manifests, the existing cluster's state kept.
    fn replace_text(&self, text: String, undo_label: Option<&str>) -> State {
        self.replace(text, self.existing.clone(), undo_label)
    }

    /// A copy with the same results and other texts.
    fn edited(&self, text: String, existing: String) -> State {
        State {
            text,
            existing,
            plan: self.plan.clone(),
            selected_block: self.selected_block.clone(),
            undo: self.undo.clone(),
        }
    }
}

pub enum Action {
    /// The user edited the manifests; the results are stale until `Replan`.
    Edit(String),
    /// The user edited the existing cluster's state; the results are stale until `Replan`.
    EditExisting(String),
    /// Brings the results up to date with the texts (dispatched after a pause in typing).
    Replan,
    /// Applies a diagnostic's fix to the manifests. Ignored while the results are stale: the
    /// edit's positions are those of the planned text.
    ApplyFix(TextEdit),
    /// Replaces both texts with an example's (a plain example has no existing state).
    LoadExample(&'static Example),
    /// Replaces both texts with those of a share link opened in this tab.
    LoadShared(Shared),
    /// Empties the existing cluster's state (back to a plain check), undoably.
    ClearExisting,
    /// Goes back to the texts before the last fix, example, link or clearing.
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
            // Typing makes the remembered text the user's to manage again.
            Action::Edit(text) => Rc::new(self.edited(text, self.existing.clone())),
            Action::EditExisting(existing) if existing == self.existing => self,
            Action::EditExisting(existing) => Rc::new(self.edited(self.text.clone(), existing)),
            Action::Replan if !self.is_stale() => self,
            Action::Replan => Rc::new(State {
                undo: self.undo.clone(),
                ..self.replace(self.text.clone(), self.existing.clone(), None)
            }),
            Action::ApplyFix(_) if self.is_stale() => self,
            Action::ApplyFix(edit) => {
                let fixed = text::apply_edit(&self.text, &edit);
                Rc::new(self.replace_text(fixed, Some("Undo fix")))
            }
            Action::LoadExample(example) => {
                let mut next = self.replace(
                    example.text.to_owned(),
                    example.existing.to_owned(),
                    Some("Back to your text"),
                );
                next.selected_block = None;
                Rc::new(next)
            }
            Action::LoadShared(shared) => {
                let mut next =
                    self.replace(shared.text, shared.existing, Some("Back to your text"));
                next.selected_block = None;
                Rc::new(next)
            }
            Action::ClearExisting if self.existing.is_empty() => self,
            Action::ClearExisting => {
                let mut next = self.replace(self.text.clone(), String::new(), Some("Undo clear"));
                next.selected_block = None;
                Rc::new(next)
            }
            Action::Undo => match &self.undo {
                Some(undo) => {
                    let mut next = self.replace(undo.text.clone(), undo.existing.clone(), None);
                    next.selected_block = None;
                    Rc::new(next)
                }
                None => self,
            },
            Action::AddGenerated(_) if self.is_stale() => self,
            Action::AddGenerated(text) => Rc::new(self.replace_text(text, Some("Undo add"))),
            Action::SelectBlock(block) if block == self.selected_block => self,
            Action::SelectBlock(block) => Rc::new(State {
                selected_block: block,
                ..self.edited(self.text.clone(), self.existing.clone())
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
            existing: rc.existing.clone(),
            plan: rc.plan.clone(),
            selected_block: rc.selected_block.clone(),
            undo: rc.undo.clone(),
        })
    }

    #[test]
    fn typing_defers_planning_until_replan() {
        let state = State::new("kind: Foo\n".into(), String::new(), None);
        let state = reduce(state, Action::Edit("kind: Bar\n".into()));
        assert!(state.is_stale());
        assert_eq!(state.plan.text, "kind: Foo\n");
        let state = reduce(state, Action::Replan);
        assert!(!state.is_stale());
        assert_eq!(state.plan.revision, 1);
    }

    #[test]
    fn generated_text_replaces_fresh_results_only_and_can_be_undone() {
        let state = State::new("kind: Foo\n".into(), String::new(), None);
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
        let state = State::new("kind: Foo\n".into(), String::new(), None);
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

    const LIVE: &str = include_str!("../../static/examples/review-live.yaml");
    const CHANGE: &str = include_str!("../../static/examples/review-change.yaml");

    #[test]
    fn an_existing_state_turns_planning_into_a_review() {
        let state = State::new(CHANGE.into(), String::new(), None);
        assert!(!state.plan.is_review());
        let codes = |s: &State| -> Vec<&'static str> {
            s.plan
                .simulation
                .diagnostics
                .iter()
                .map(|d| d.code)
                .collect()
        };
        assert!(!codes(&state).contains(&"pool-update-refused"));

        let state = reduce(state, Action::EditExisting(LIVE.into()));
        assert!(state.is_stale());
        let state = reduce(state, Action::Replan);
        assert!(state.plan.is_review());
        assert!(codes(&state).contains(&"pool-update-refused"));
        assert!(codes(&state).contains(&"annotation-change-ignored"));
        // The running pod keeps its live address.
        let pod = state
            .plan
            .simulation
            .pods
            .iter()
            .find(|p| p.name == "api-0")
            .unwrap();
        assert_eq!(pod.ips[0].to_string(), "10.96.64.10");

        let cleared = reduce(state, Action::ClearExisting);
        assert_eq!(cleared.existing, "");
        assert!(!cleared.plan.is_review());
        assert!(!codes(&cleared).contains(&"pool-update-refused"));
        let back = reduce(cleared, Action::Undo);
        assert_eq!(back.existing, LIVE);
        assert!(back.plan.is_review());
    }

    #[test]
    fn examples_replace_both_texts_and_can_be_undone() {
        let state = State::new("kind: Mine\n".into(), "kind: List\n".into(), None);
        let loaded = reduce(
            state,
            Action::LoadExample(crate::examples::default_example()),
        );
        assert_eq!(loaded.existing, "");
        let review = reduce(
            loaded,
            Action::LoadExample(&crate::examples::REVIEW_EXAMPLES[0]),
        );
        assert_eq!(
            (review.text.as_str(), review.existing.as_str()),
            (CHANGE, LIVE)
        );
        let undone = reduce(review, Action::Undo);
        assert_eq!(undone.existing, "");
    }
}
