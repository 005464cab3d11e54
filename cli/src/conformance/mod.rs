//! The conformance runner: replays the cases of Calico's own tests (schema in
//! `shared/conformance/README.md`) against the engine. Each area module maps one family of case
//! kinds onto `ipam_core` calls and compares every in-scope assertion; it holds no IPAM rules.

mod allocation;
mod annotations;
mod block_order;
mod pool_lifecycle;
mod selectors;
mod validation;

use std::fmt::Write;

use serde::Serialize;
use serde_json::Value;

use crate::inputs::InputFile;

/// Step assertion keys the README puts out of scope ("What is in scope for the planner"),
/// shared by every runner.
pub const OUT_OF_SCOPE_KEYS: &[&str] = &[
    "route_count",
    "route_dst_equals_ip",
    "routes_cover_each_ip",
    "interface_count",
    "ip_interface_name",
    "workload_endpoint_count",
    "workload_endpoint_count_etcd",
    "ip_networks",
    "ipnats",
    "pod_ip_annotations",
    "handle_ip_matches_endpoint",
    "ipv4_mask_hex",
    "ipv6_mask_hex",
    "felix_configuration_exists",
    "felix_configuration_ipipEnabled",
    "felix_configuration_vxlanEnabled",
    "finalizer_present",
    "deleted",
    "input_unmodified",
    "error_type",
    "value_recorded_as",
    "value_equals",
];

/// Tags whose cases the README puts out of scope.
const OUT_OF_SCOPE_TAGS: &[&str] = &["sequence-numbers", "generic-crud"];

fn out_of_scope_tag(case: &Value) -> Option<String> {
    case["tags"]
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .find(|tag| OUT_OF_SCOPE_TAGS.contains(tag))
        .map(str::to_owned)
}

/// A JSON object of strings as labels; `null` or absent means no labels.
pub fn labels(value: &Value) -> Result<ipam_core::selector::Labels, String> {
    match value {
        Value::Null => Ok(Default::default()),
        Value::Object(map) => map
            .iter()
            .map(|(key, value)| match value.as_str() {
                Some(text) => Ok((key.clone(), text.to_owned())),
                None => Err(format!("label {key} is not a string")),
            })
            .collect(),
        other => Err(format!("labels are not an object: {other}")),
    }
}

/// The result of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    /// An in-scope assertion did not hold (or the engine does not handle it yet).
    Fail(String),
    /// Every assertion the case makes is out of scope; the reason says which rule of the README.
    Skip(String),
}

#[derive(Serialize)]
pub struct CaseResult {
    pub id: String,
    pub status: &'static str,
    pub detail: String,
}

#[derive(Serialize, Default)]
pub struct Totals {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

#[derive(Serialize)]
pub struct Results {
    pub cases: Vec<CaseResult>,
    pub summary: Totals,
}

pub fn run_files(files: &[InputFile]) -> Results {
    let mut cases = Vec::new();
    let mut summary = Totals::default();
    for file in files {
        for (index, line) in file.text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let (id, outcome) = match serde_json::from_str::<Value>(line) {
                Ok(case) => {
                    let id = case["id"].as_str().unwrap_or("?").to_owned();
                    (id, run_case(&case))
                }
                Err(e) => (
                    format!("{}:{}", file.name, index + 1),
                    Outcome::Fail(format!("not a JSON case: {e}")),
                ),
            };
            let (status, detail) = match outcome {
                Outcome::Pass => {
                    summary.passed += 1;
                    ("pass", String::new())
                }
                Outcome::Fail(detail) => {
                    summary.failed += 1;
                    ("fail", detail)
                }
                Outcome::Skip(detail) => {
                    summary.skipped += 1;
                    ("skip", detail)
                }
            };
            cases.push(CaseResult { id, status, detail });
        }
    }
    Results { cases, summary }
}

/// Dispatches on the case's kind (validation cases carry `go_form` instead).
pub fn run_case(case: &Value) -> Outcome {
    // README "What is in scope": a case with one of these tags is out of scope in every file.
    if let Some(tag) = out_of_scope_tag(case) {
        return Outcome::Skip(format!(
            "tagged `{tag}` (README \"What is in scope\": out-of-scope tag)"
        ));
    }
    if case.get("go_form").is_some() {
        return validation::run(case);
    }
    let kind = case["kind"].as_str().unwrap_or("");
    match kind {
        "match"
        | "parse"
        | "canonical"
        | "tokenize"
        | "label_restrictions"
        | "prefix_visitor"
        | "pool_namespace_selector" => selectors::run(kind, case),
        "scenario"
        | "determine_pools"
        | "block"
        | "reservation_filter"
        | "pool_space"
        | "partial_fulfillment_error"
        | "reservation_dedupe"
        | "block_enumeration"
        | "reserved_cidrs" => allocation::run(kind, case),
        "cni_ipam_plugin" | "cni_k8s_pod" | "cni_non_k8s" => annotations::run(kind, case),
        "clientv3_sequence"
        | "apiserver_sequence"
        | "controller_sequence"
        | "cidr_change_ok"
        | "update_validation"
        | "crd_defaults"
        | "pool_priority_sort" => pool_lifecycle::run(kind, case),
        "block_order" => block_order::run(case),
        other => Outcome::Fail(format!("unknown case kind `{other}`")),
    }
}

/// A line per failed case, then `N passed, M failed, K skipped`.
pub fn text(results: &Results) -> String {
    let mut out = String::new();
    for case in results.cases.iter().filter(|c| c.status == "fail") {
        let _ = writeln!(out, "FAIL {}: {}", case.id, case.detail);
    }
    let s = &results.summary;
    let _ = writeln!(
        out,
        "{} passed, {} failed, {} skipped",
        s.passed, s.failed, s.skipped
    );
    out
}

/// Compares an expected JSON value with the actual one, naming the key on a mismatch.
pub fn expect_eq(what: &str, expected: &Value, actual: &Value) -> Result<(), String> {
    if expected == actual {
        Ok(())
    } else {
        Err(format!("{what}: expected {expected}, got {actual}"))
    }
}

/// Turns the checks of one case into an outcome.
pub fn outcome(result: Result<(), String>) -> Outcome {
    match result {
        Ok(()) => Outcome::Pass,
        Err(detail) => Outcome::Fail(detail),
    }
}
