//! The result shapes of the contract, serialized identically by the CLI (`--format json`) and the
//! page's JS API.

use serde::Serialize;

use crate::diagnostic::{Diagnostic, Summary};

/// `check`: `{"diagnostics": [...], "summary": {"errors", "warnings", "infos"}}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckReport {
    pub diagnostics: Vec<Diagnostic>,
    pub summary: Summary,
}

impl CheckReport {
    pub fn new(diagnostics: Vec<Diagnostic>) -> CheckReport {
        let summary = Summary::of(&diagnostics);
        CheckReport {
            diagnostics,
            summary,
        }
    }

    pub fn has_errors(&self) -> bool {
        self.summary.errors > 0
    }
}
