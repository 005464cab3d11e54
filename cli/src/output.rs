//! Printing reports: compiler-style text, the contract's JSON, and SARIF 2.1.0.

use std::collections::BTreeSet;
use std::fmt::Write;

use ipam_core::{CheckReport, Diagnostic, Severity};
use serde::Serialize;
use serde_json::json;

use crate::inputs::InputFile;

pub fn json<T: Serialize>(value: &T) -> String {
    let mut text =
        serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

/// `file:line:col: error[code]: message`, the offending source line, Calico's own text and the
/// fix, then a summary line.
pub fn check_text(report: &CheckReport, files: &[InputFile]) -> String {
    let mut out = String::new();
    for d in &report.diagnostics {
        write_diagnostic(&mut out, d, files);
    }
    let s = &report.summary;
    let _ = writeln!(
        out,
        "{} errors, {} warnings, {} infos",
        s.errors, s.warnings, s.infos
    );
    out
}

fn write_diagnostic(out: &mut String, d: &Diagnostic, files: &[InputFile]) {
    let location = match (&d.file, d.line, d.column) {
        (Some(f), Some(l), Some(c)) => format!("{f}:{l}:{c}: "),
        (Some(f), Some(l), None) => format!("{f}:{l}: "),
        (Some(f), None, _) => format!("{f}: "),
        (None, Some(l), Some(c)) => format!("<input>:{l}:{c}: "),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "{location}{}[{}]: {}",
        d.severity.as_str(),
        d.code,
        d.message
    );
    if let (Some(file), Some(line)) = (&d.file, d.line) {
        let source_line = files
            .iter()
            .find(|f| &f.name == file)
            .and_then(|f| f.text.lines().nth(line as usize - 1));
        if let Some(text) = source_line {
            let _ = writeln!(out, "  {line:>4} | {text}");
            if let Some(column) = d.column {
                let pad =
                    text.chars()
                        .take(column as usize - 1)
                        .map(|c| if c == '\t' { '\t' } else { ' ' });
                let _ = writeln!(out, "       | {}^", pad.collect::<String>());
            }
        }
    }
    if let Some(calico) = &d.calico_message {
        let _ = writeln!(out, "  = calico: {}", calico.trim_end());
    }
    if let Some(fix) = &d.fix {
        let _ = writeln!(out, "  = fix: {}", fix.description);
        for line in fix.replacement.lines() {
            let _ = writeln!(out, "  |   {line}");
        }
    }
}

/// SARIF 2.1.0, one run, one rule per diagnostic code that occurs.
pub fn sarif(report: &CheckReport) -> String {
    let codes: BTreeSet<&str> = report.diagnostics.iter().map(|d| d.code).collect();
    let rules: Vec<_> = codes
        .iter()
        .map(|code| {
            json!({
                "id": code,
                "name": code,
                "shortDescription": {"text": code},
                "helpUri": format!("https://github.com/calico-ipam-planner/ipam-planner/blob/main/docs/diagnostics.md#{code}"),
            })
        })
        .collect();
    let results: Vec<_> = report
        .diagnostics
        .iter()
        .map(|d| {
            let level = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "note",
            };
            let mut text = d.message.clone();
            if let Some(calico) = &d.calico_message {
                text.push_str(&format!(" (Calico: {})", calico.trim_end()));
            }
            let mut result = json!({
                "ruleId": d.code,
                "ruleIndex": codes.iter().position(|c| *c == d.code),
                "level": level,
                "message": {"text": text},
            });
            if let Some(file) = &d.file {
                let mut region = serde_json::Map::new();
                if let Some(line) = d.line {
                    region.insert("startLine".into(), line.into());
                }
                if let Some(column) = d.column {
                    region.insert("startColumn".into(), column.into());
                }
                let mut physical = json!({"artifactLocation": {"uri": sarif_uri(file)}});
                if !region.is_empty() {
                    physical["region"] = region.into();
                }
                result["locations"] = json!([{"physicalLocation": physical}]);
            }
            if let Some(fix) = &d.fix {
                result["properties"] =
                    json!({"fix": fix.description, "replacement": fix.replacement});
            }
            result
        })
        .collect();
    json(&json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "ipam-planner",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/calico-ipam-planner/ipam-planner",
                "rules": rules,
            }},
            "results": results,
        }],
    }))
}

/// SARIF wants URI references: relative paths with forward slashes, no leading `./`.
fn sarif_uri(file: &str) -> String {
    let path = file.replace('\\', "/");
    path.strip_prefix("./").unwrap_or(&path).replace(' ', "%20")
}
