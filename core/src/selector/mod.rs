//! Calico's label-selector language (spec §5): tokenizer, parser, evaluator and canonical form.
//!
//! IP pools use selectors for `nodeSelector` and `namespaceSelector`. This module behaves like
//! Calico's `libcalico-go/lib/selector` package: the same accepted texts, the same error
//! messages (plus the byte offset where the error was found), the same evaluation and the same
//! printed form. Every function is panic-free and runs in time linear in its input; parentheses
//! may nest at most [`MAX_NESTING`] deep.

mod ast;
mod parser;
mod tokenizer;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;

pub use parser::MAX_NESTING;

/// Labels of a node or namespace.
pub type Labels = BTreeMap<String, String>;

/// A parse failure, with the byte offset in the selector text where it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectorError {
    /// Calico's exact message text (except for the nesting limit, which Calico does not have).
    pub message: String,
    pub offset: usize,
}

impl SelectorError {
    fn new(message: impl Into<String>, offset: usize) -> Self {
        SelectorError {
            message: message.into(),
            offset,
        }
    }
}

impl fmt::Display for SelectorError {
    /// Only the message, as Calico's `err.Error()` prints it; the offset is for locating it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SelectorError {}

/// A parsed selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    root: ast::Node,
}

impl Selector {
    /// Parses `text` as Calico does (`Parse` followed by `Validate`, which accept and reject the
    /// same texts). Blank text (spaces and tabs only) is `all()`.
    pub fn parse(text: &str) -> Result<Selector, SelectorError> {
        parser::parse(text).map(|root| Selector { root })
    }

    /// Evaluates the selector against a label set.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.root.matches(labels)
    }

    /// Calico's `String()` form: `&&`/`||` chains in parentheses, a single `!`, values in double
    /// quotes (single quotes when the value contains a double quote), sets sorted and deduplicated.
    pub fn canonical(&self) -> String {
        let mut out = String::new();
        self.root.write_canonical(&mut out);
        out
    }

    /// Calico's `PrefixVisitor`: prepends `prefix` to every label name the selector mentions.
    pub fn prefix_labels(&mut self, prefix: &str) {
        self.root.prefix_labels(prefix);
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

/// Whether a pool's `nodeSelector` or `namespaceSelector` selects an object with `labels`, as
/// Calico's `ipam.SelectsNode` / `ipam.SelectsNamespace` decide: an empty string selects
/// everything, and a selector that does not parse is an error (which aborts allocation).
pub fn selects(selector_text: &str, labels: &Labels) -> Result<bool, SelectorError> {
    if selector_text.is_empty() {
        return Ok(true);
    }
    // Allocation asks this for every pod with the same few pool selectors: parse each text once.
    // A cluster has a handful of distinct selector texts, so a short list beats hashing.
    PARSED.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some((_, parsed)) = cache.iter().find(|(text, _)| text == selector_text) {
            return parsed
                .as_ref()
                .map(|s| s.matches(labels))
                .map_err(Clone::clone);
        }
        let parsed = Selector::parse(selector_text);
        let result = parsed
            .as_ref()
            .map(|s| s.matches(labels))
            .map_err(Clone::clone);
        if cache.len() >= PARSED_CACHE_LIMIT {
            let _ = cache.remove(0);
        }
        cache.push((selector_text.to_owned(), parsed));
        result
    })
}

/// How many distinct selector texts [`selects`] keeps parsed (per thread).
const PARSED_CACHE_LIMIT: usize = 32;

/// Parsed selector texts, oldest first.
type ParsedSelectors = Vec<(String, Result<Selector, SelectorError>)>;

std::thread_local! {
    static PARSED: std::cell::RefCell<ParsedSelectors> = const { std::cell::RefCell::new(Vec::new()) };
}
