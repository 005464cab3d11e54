//! Diagnostics: what the planner says about the input, located at the YAML node it is about.
//!
//! The JSON shape is part of the contract (`shared/contract.md`): the CLI's `--format json`,
//! SARIF and the page's JS API all serialize these same values.

use serde::Serialize;

use crate::yaml::Pos;

/// A value quoted in the planner's own messages and fixes (JSON's quoting: `"`, `\` and control
/// characters escaped, everything else as written): valid in YAML and JSON alike.
pub(crate) fn quoted(text: &str) -> String {
    // Serialising a string into memory cannot fail. (Going through `Value`'s `Display` instead
    // would keep io::Error's boxed-string path, with its `Debug` tables, in the site's wasm.)
    serde_json::to_string(text).unwrap_or_default()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// The resource a diagnostic is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResourceRef {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

/// A corrected manifest text that resolves the diagnostic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fix {
    pub description: String,
    pub replacement: String,
    /// Where `replacement` goes in the input, for front ends that apply the fix to the text
    /// (the page's "apply" button). Not part of the contract's JSON.
    #[serde(skip)]
    pub edit: Option<TextEdit>,
}

/// Replace the text from `start` up to `end` (exclusive; equal for an insertion) with `new_text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextEdit {
    pub start: Pos,
    pub end: Pos,
    pub new_text: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    /// The text Calico itself would print, where Calico has one.
    pub calico_message: Option<String>,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub resource: Option<ResourceRef>,
    pub fix: Option<Fix>,
}

impl Diagnostic {
    pub fn new(code: &'static str, severity: Severity, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity,
            message: message.into(),
            calico_message: None,
            file: None,
            line: None,
            column: None,
            resource: None,
            fix: None,
        }
    }

    pub fn error(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(code, Severity::Error, message)
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(code, Severity::Warning, message)
    }

    pub fn info(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(code, Severity::Info, message)
    }

    pub fn at(mut self, file: Option<&str>, pos: Pos) -> Diagnostic {
        self.file = file.map(str::to_owned);
        self.line = Some(pos.line);
        self.column = Some(pos.column);
        self
    }

    pub fn calico(mut self, text: impl Into<String>) -> Diagnostic {
        self.calico_message = Some(text.into());
        self
    }

    pub fn about(mut self, resource: ResourceRef) -> Diagnostic {
        self.resource = Some(resource);
        self
    }

    pub fn with_fix(
        mut self,
        description: impl Into<String>,
        replacement: impl Into<String>,
    ) -> Diagnostic {
        self.fix = Some(Fix {
            description: description.into(),
            replacement: replacement.into(),
            edit: None,
        });
        self
    }

    /// Attaches the text edit that applies the fix (call after `with_fix`).
    pub fn with_edit(mut self, start: Pos, end: Pos, new_text: impl Into<String>) -> Diagnostic {
        if let Some(fix) = &mut self.fix {
            fix.edit = Some(TextEdit {
                start,
                end,
                new_text: new_text.into(),
            });
        }
        self
    }
}

/// Counts by severity, as printed in every report's summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

impl Summary {
    pub fn of(diagnostics: &[Diagnostic]) -> Summary {
        let mut summary = Summary::default();
        for d in diagnostics {
            match d.severity {
                Severity::Error => summary.errors += 1,
                Severity::Warning => summary.warnings += 1,
                Severity::Info => summary.infos += 1,
            }
        }
        summary
    }
}

/// Orders diagnostics by file, then position, then code, so every front end lists them alike.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.code).cmp(&(&b.file, b.line, b.column, b.code))
    });
}
