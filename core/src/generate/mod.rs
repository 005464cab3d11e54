//! Generators: manifests the planner writes for the user, each checked by the planner itself
//! before it is handed out.
//!
//! - [`GenerateRequest::StaticIp`]: a static address for one pod (the `ipAddrs` annotation),
//!   chosen where automatic assignment cannot take it, plus the IPReservation or Manual pool that
//!   keeps it so (`static_ip.rs`).
//! - [`GenerateRequest::ReserveRange`]: an IPReservation of a CIDR inside a pool, or a Manual
//!   `!all()` pool for a CIDR outside every pool (`reserve.rs`).
//! - [`capacity::plan`]: nodes × pods per node → block size and pool prefix advice, and for a
//!   given pool how many nodes fit, who borrows first and who fails first (pure arithmetic).
//!
//! A manifest generator never enumerates a pool's address space: it looks at the blocks the
//! simulation claimed and at the first unclaimed block CIDRs only. Every [`Generated`] carries
//! the errors and warnings the planner reports for the input with the output applied that it did
//! not report for the input alone; empty means the output checks clean.

pub mod capacity;
mod edit;
mod reserve;
mod static_ip;

#[cfg(test)]
mod tests;

use crate::diagnostic::{Diagnostic, Severity, TextEdit};
use crate::manifest::Source;

pub use edit::apply_edit;
pub use reserve::ReserveRangeRequest;
pub use static_ip::{StaticIpPool, StaticIpRequest, StaticIpTarget};

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GenerateRequest {
    /// A static address for a pod, protected from automatic assignment.
    StaticIp(StaticIpRequest),
    /// A range kept out of automatic assignment.
    ReserveRange(ReserveRangeRequest),
}

/// A generated manifest set and the planner's verdict on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generated {
    /// One line saying what this is, e.g. "Static IP 10.0.0.5 for default/db".
    pub title: String,
    /// The documents to add to the input, `---`-separated, ending in a newline.
    pub text: String,
    /// A change to the input itself (the annotation on an existing pod or template), applied
    /// before `text` is appended. Positions are those of the input the generator was given.
    pub edit: Option<TextEdit>,
    /// Why this address or range, in full sentences, for the user.
    pub notes: Vec<String>,
    /// Errors and warnings the input with this output applied has and the input alone has not.
    /// Empty when the output checks clean.
    pub diagnostics: Vec<Diagnostic>,
}

impl Generated {
    /// Whether the input with this output applied checks without a new error or warning.
    pub fn is_clean(&self) -> bool {
        self.diagnostics.is_empty()
    }

    /// The input with `edit` applied and `text` appended as further documents. `input` must be
    /// the text the generator was given (the edit's positions are that text's).
    pub fn apply_to(&self, input: &str) -> String {
        let edited = match &self.edit {
            Some(edit) => apply_edit(input, edit),
            None => input.to_owned(),
        };
        append_documents(&edited, &self.text)
    }
}

/// Why nothing could be generated, in a sentence for the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenerateError {
    pub message: String,
}

impl GenerateError {
    pub(crate) fn new(message: impl Into<String>) -> GenerateError {
        GenerateError {
            message: message.into(),
        }
    }
}

impl std::fmt::Display for GenerateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Runs a generator on one input text (what the page's editor holds).
pub fn generate(input: &str, request: &GenerateRequest) -> Result<Generated, GenerateError> {
    match request {
        GenerateRequest::StaticIp(request) => static_ip::generate(input, request),
        GenerateRequest::ReserveRange(request) => reserve::generate(input, request),
    }
}

/// `text` appended to `input` as further documents, separated by `---`.
pub fn append_documents(input: &str, text: &str) -> String {
    if input.trim().is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(input.len() + text.len() + 5);
    out.push_str(input);
    if !input.ends_with('\n') {
        out.push('\n');
    }
    out.push_str("---\n");
    out.push_str(text);
    out
}

/// The errors and warnings among `diagnostics` (what the planner calls problems).
pub(crate) fn problems(diagnostics: &[Diagnostic]) -> Vec<Diagnostic> {
    diagnostics
        .iter()
        .filter(|d| d.severity != Severity::Info)
        .cloned()
        .collect()
}

/// The errors and warnings of `after` that `baseline` (the input's own problems) does not have,
/// compared by code and message (positions move when text is added, so they cannot be
/// compared).
pub(crate) fn new_problems(baseline: &[Diagnostic], after: &str) -> Vec<Diagnostic> {
    let mut old: Vec<&Diagnostic> = baseline.iter().collect();
    let mut fresh = Vec::new();
    for diagnostic in problems(&crate::check(&[Source::new(None, after)]).diagnostics) {
        match old
            .iter()
            .position(|o| o.code == diagnostic.code && o.message == diagnostic.message)
        {
            Some(index) => {
                old.swap_remove(index);
            }
            None => fresh.push(diagnostic),
        }
    }
    fresh
}

/// A DNS-1123 name made of `prefix` and an address or CIDR text: `.`, `:` and `/` become `-`,
/// and no `-` is left at the end (IPv6 texts end in `::`).
pub(crate) fn resource_name(prefix: &str, address: &str, taken: &[&str]) -> String {
    let base = format!("{prefix}-{}", address.replace(['.', ':', '/'], "-"));
    let base = base.trim_end_matches('-').to_owned();
    if !taken.contains(&base.as_str()) {
        return base;
    }
    // A name already in use gets the first free numeric suffix; the list is finite, so one is.
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|name| !taken.contains(&name.as_str()))
        .unwrap_or(base)
}
