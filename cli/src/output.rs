//! Printing reports: compiler-style text, the contract's JSON, and SARIF 2.1.0.

use std::collections::BTreeSet;
use std::fmt::Write;

use ipam_core::{CheckReport, Diagnostic, Severity, Simulation};
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
    // Each file is split into lines once: finding the line per diagnostic made 20 000
    // diagnostics on a 100 000-line input take minutes.
    let lines: Vec<Vec<&str>> = files.iter().map(|f| f.text.lines().collect()).collect();
    for d in &report.diagnostics {
        write_diagnostic(&mut out, d, files, &lines);
    }
    let s = &report.summary;
    let _ = writeln!(
        out,
        "{} errors, {} warnings, {} infos",
        s.errors, s.warnings, s.infos
    );
    out
}

fn write_diagnostic(out: &mut String, d: &Diagnostic, files: &[InputFile], lines: &[Vec<&str>]) {
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
        // Positions are 1-based; a 0 (no position) must not underflow.
        let source_line = files
            .iter()
            .position(|f| &f.name == file)
            .and_then(|index| lines.get(index)?.get((line as usize).checked_sub(1)?));
        if let Some(text) = source_line {
            let _ = writeln!(out, "  {line:>4} | {text}");
            if let Some(column) = d.column {
                let pad = text
                    .chars()
                    .take((column as usize).saturating_sub(1))
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

/// A view like `calicoctl ipam show --show-blocks`: pools with their utilization, blocks with
/// their node, tunnel addresses, then every pod; diagnostics last.
pub fn simulate_text(sim: &Simulation, files: &[InputFile]) -> String {
    let mut out = String::new();
    let mut pools = Table::new([
        "GROUPING",
        "CIDR",
        "CAPACITY",
        "IN USE",
        "RESERVED",
        "AVAILABLE",
        "AFFINITY",
    ]);
    for pool in &sim.pools {
        pools.row([
            format!("IP Pool {}", pool.name),
            pool.cidr.clone(),
            pool.capacity.to_string(),
            percent(pool.in_use, pool.capacity),
            percent(pool.reserved, pool.capacity),
            percent(pool.available, pool.capacity),
            String::new(),
        ]);
        for block in sim.blocks.iter().filter(|b| b.pool == pool.name) {
            let size = u128::from(block.size);
            let usage = block.usage;
            pools.row([
                "Block".into(),
                block.cidr.clone(),
                size.to_string(),
                percent(u128::from(usage.in_use), size),
                percent(u128::from(usage.reserved), size),
                percent(u128::from(usage.available), size),
                block.affinity.clone().unwrap_or_else(|| "(none)".into()),
            ]);
        }
    }
    out.push_str(&pools.render());
    if !sim.tunnels.is_empty() {
        let mut tunnels = Table::new(["NODE", "TUNNEL", "ADDRESS"]);
        for t in &sim.tunnels {
            tunnels.row([t.node.clone(), t.kind.as_str().to_owned(), t.ip.to_string()]);
        }
        out.push('\n');
        out.push_str(&tunnels.render());
    }
    let mut pods = Table::new(["POD", "NODE", "ADDRESSES", "SOURCE", "POOL", "BLOCK", "WHY"]);
    for p in &sim.pods {
        let ips: Vec<String> = p.ips.iter().map(ToString::to_string).collect();
        pods.row([
            format!("{}/{}", p.namespace, p.name),
            p.node.clone(),
            if ips.is_empty() {
                "-".into()
            } else {
                ips.join(",")
            },
            format!("{:?}", p.source).to_lowercase(),
            p.pool.clone().unwrap_or_else(|| "-".into()),
            p.block.clone().unwrap_or_else(|| "-".into()),
            p.explanation.clone(),
        ]);
    }
    out.push('\n');
    out.push_str(&pods.render());
    let report = CheckReport::new(sim.diagnostics.clone());
    if !report.diagnostics.is_empty() {
        out.push('\n');
    }
    out.push_str(&check_text(&report, files));
    out
}

fn percent(part: u128, whole: u128) -> String {
    if whole == 0 {
        return format!("{part}");
    }
    // Integer arithmetic keeps 128-bit IPv6 counts exact.
    let tenths = part.saturating_mul(1000) / whole;
    format!("{part} ({}.{}%)", tenths / 10, tenths % 10)
}

/// A plain left-aligned text table with `|` separators, like calicoctl prints.
struct Table<const N: usize> {
    rows: Vec<[String; N]>,
}

impl<const N: usize> Table<N> {
    fn new(header: [&str; N]) -> Table<N> {
        Table {
            rows: vec![header.map(str::to_owned)],
        }
    }

    fn row(&mut self, cells: [String; N]) {
        self.rows.push(cells);
    }

    fn render(&self) -> String {
        let widths: Vec<usize> = (0..N)
            .map(|i| {
                self.rows
                    .iter()
                    .map(|r| r[i].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let rule: String = widths
            .iter()
            .map(|w| format!("+{}", "-".repeat(w + 2)))
            .collect::<String>()
            + "+\n";
        let mut out = rule.clone();
        for (index, row) in self.rows.iter().enumerate() {
            for (cell, width) in row.iter().zip(&widths) {
                let _ = write!(out, "| {cell:<width$} ");
            }
            out.push_str("|\n");
            if index == 0 {
                out.push_str(&rule);
            }
        }
        out.push_str(&rule);
        out
    }
}
