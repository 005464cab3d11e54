//! The catalogue of diagnostic codes: one entry per code with its severity, meaning, an example
//! and the fix. `docs/diagnostics.md` is rendered from it (a test keeps the two equal), and a test
//! checks that every code the engine emits is catalogued.

use crate::diagnostic::Severity;

pub struct CodeDoc {
    pub code: &'static str,
    pub severity: Severity,
    pub meaning: &'static str,
    /// A manifest fragment that triggers the diagnostic.
    pub example: &'static str,
    pub fix: &'static str,
}

pub(crate) const fn doc(
    code: &'static str,
    severity: Severity,
    meaning: &'static str,
    example: &'static str,
    fix: &'static str,
) -> CodeDoc {
    CodeDoc {
        code,
        severity,
        meaning,
        example,
        fix,
    }
}

use Severity::{Error, Info};

/// Codes about reading the input at all.
const INPUT: &[CodeDoc] = &[
    doc(
        "yaml-syntax",
        Error,
        "The text is not valid YAML or JSON, or a file is not UTF-8. Documents before a syntax error are still read; bytes that are not UTF-8 are read as U+FFFD.",
        "metadata:\n  name: [oops",
        "Correct the YAML at the reported line and column.",
    ),
    doc(
        "schema",
        Error,
        "A field has the wrong type or shape for its kind (for example a list where an object belongs), or a document is not a Kubernetes object.",
        "kind: IPPool\nspec:\n  blockSize: \"26\"",
        "Write the field with the type the resource's schema requires.",
    ),
    doc(
        "unsupported-kind",
        Info,
        "A document of a kind the planner does not model; it is ignored.",
        "kind: Service",
        "Nothing to fix; remove it from the input to silence the note.",
    ),
];

/// Every catalogued code: reading the input, then validation, then the simulation.
pub fn all() -> impl Iterator<Item = &'static CodeDoc> {
    INPUT
        .iter()
        .chain(crate::validate::codes::CODES)
        .chain(crate::simulate::codes::CODES)
        .chain(crate::review::CODES)
}

/// Looks up a code.
pub fn find(code: &str) -> Option<&'static CodeDoc> {
    all().find(|c| c.code == code)
}

/// Renders the diagnostics reference, `docs/diagnostics.md`.
pub fn render_markdown() -> String {
    let mut out = String::from(
        "# Diagnostics reference\n\n\
         Generated from `core/src/codes.rs` (a test keeps this file equal to it). Every diagnostic\n\
         the planner reports has a stable kebab-case code; Calico's own text, where Calico has one,\n\
         is in the diagnostic's `calico_message`.\n\n\
         | code | severity | meaning |\n|---|---|---|\n",
    );
    for c in all() {
        out.push_str(&format!(
            "| [`{0}`](#{0}) | {1} | {2} |\n",
            c.code,
            c.severity.as_str(),
            c.meaning.replace('|', "\\|")
        ));
    }
    for c in all() {
        out.push_str(&format!(
            "\n## {}\n\nSeverity: {}. {}\n\nExample:\n\n```yaml\n{}\n```\n\nFix: {}\n",
            c.code,
            c.severity.as_str(),
            c.meaning,
            c.example,
            c.fix
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_kebab_case() {
        let codes: Vec<&CodeDoc> = all().collect();
        for (i, c) in codes.iter().enumerate() {
            assert!(
                c.code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{}",
                c.code
            );
            assert!(
                codes[..i].iter().all(|o| o.code != c.code),
                "duplicate {}",
                c.code
            );
        }
    }
}
