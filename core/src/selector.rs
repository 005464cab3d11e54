//! Calico's label-selector language (spec §5): tokenizer, parser, evaluator and canonical form.
//!
//! STUB: the interface other modules code against; the full implementation replaces it.

use std::collections::BTreeMap;

/// Labels of a node or namespace.
pub type Labels = BTreeMap<String, String>;

/// A parse failure, with the byte offset in the selector text where it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectorError {
    pub message: String,
    pub offset: usize,
}

/// A parsed selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    canonical: String,
}

impl Selector {
    /// Parses `text` as Calico does (`Parse` followed by `Validate`).
    pub fn parse(text: &str) -> Result<Selector, SelectorError> {
        match text.trim() {
            "" | "all()" => Ok(Selector {
                canonical: "all()".into(),
            }),
            _ => Err(SelectorError {
                message: "selector support is not implemented yet".into(),
                offset: 0,
            }),
        }
    }

    /// Evaluates the selector against a label set.
    pub fn matches(&self, _labels: &Labels) -> bool {
        true
    }

    /// Calico's `String()` form.
    pub fn canonical(&self) -> String {
        self.canonical.clone()
    }
}
