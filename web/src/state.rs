//! The page's one state, changed only through `Action`s by the reducer (the pattern of yew's
//! function_todomvc). Results are derived from the text by the core on every change.

use std::rc::Rc;

use ipam_core::{Analysis, Source};
use yew::Reducible;

/// The example cluster shown on a first visit.
pub const EXAMPLE: &str = include_str!("../../static/examples/healthy-cluster.yaml");

#[derive(Clone, Debug)]
pub struct State {
    pub text: String,
    pub analysis: Rc<Analysis>,
}

impl State {
    pub fn new(text: String) -> State {
        let analysis = Rc::new(plan(&text));
        State { text, analysis }
    }
}

impl PartialEq for State {
    fn eq(&self, other: &State) -> bool {
        self.text == other.text
    }
}

pub enum Action {
    /// The user edited the manifests.
    SetText(String),
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        match action {
            Action::SetText(text) if text == self.text => self,
            Action::SetText(text) => Rc::new(State::new(text)),
        }
    }
}

fn plan(text: &str) -> Analysis {
    ipam_core::analyze(&[Source::new(None, text)])
}
