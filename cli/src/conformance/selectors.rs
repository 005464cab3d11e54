//! Conformance cases of `selectors.jsonl`.

use ipam_core::selector::{selects, Selector};
use serde_json::{json, Value};

use super::{expect_eq, labels, outcome, Outcome};

/// The README's reason for leaving a kind's own assertions out of scope.
const INTERNALS: &str =
    "selector internals, not behaviour (README \"What is in scope\": kinds tokenize, label_restrictions, prefix_visitor)";

pub fn run(kind: &str, case: &Value) -> Outcome {
    let input = &case["input"];
    let expect = &case["expect"];
    match kind {
        "match" => outcome(check_match(input, expect)),
        "parse" => outcome(check_parse_error(input, expect)),
        "canonical" => outcome(check_canonical(input, expect)),
        "prefix_visitor" => outcome(check_prefix_visitor(input, expect)),
        "pool_namespace_selector" => outcome(check_pool_namespace_selector(input, expect)),
        // Label restrictions are an optimisation API; only the parse fact is behaviour.
        "label_restrictions" => outcome(check_parse_error(input, expect)),
        "tokenize" => Outcome::Skip(INTERNALS.into()),
        other => Outcome::Fail(format!("unknown selector case kind `{other}`")),
    }
}

fn selector_text(input: &Value) -> Result<&str, String> {
    input["selector"]
        .as_str()
        .ok_or_else(|| "input.selector is not a string".to_owned())
}

/// Compares `actual` with `expect[key]` when the case asserts that key; absent keys were not
/// checked by Calico's test, so they are not checked here either.
fn expect_key(expect: &Value, key: &str, actual: Value) -> Result<(), String> {
    match expect.get(key) {
        Some(expected) => expect_eq(key, expected, &actual),
        None => Ok(()),
    }
}

/// Parses the case's selector, turning a parse error into a failure that quotes it.
fn parse(text: &str) -> Result<Selector, String> {
    Selector::parse(text).map_err(|e| {
        format!(
            "selector {text:?} does not parse: {} (at byte {})",
            e.message, e.offset
        )
    })
}

/// `match`: the selector parses, evaluates as expected, and its canonical form does too.
fn check_match(input: &Value, expect: &Value) -> Result<(), String> {
    let text = selector_text(input)?;
    let selector = parse(text)?;
    let labels = labels(&input["labels"])?;
    expect_key(expect, "matches", json!(selector.matches(&labels)))?;
    let canonical = selector.canonical();
    let reparsed = parse(&canonical)?;
    expect_key(expect, "matches", json!(reparsed.matches(&labels)))
        .map_err(|e| format!("after re-parsing {canonical:?}: {e}"))
}

/// `parse` (and the parse fact of every other kind): whether Calico rejects the selector.
fn check_parse_error(input: &Value, expect: &Value) -> Result<(), String> {
    let text = selector_text(input)?;
    expect_key(expect, "parse_error", json!(Selector::parse(text).is_err()))
}

/// `canonical`: Calico's `String()`, stable under a round trip. `unique_id` is out of scope.
fn check_canonical(input: &Value, expect: &Value) -> Result<(), String> {
    check_parse_error(input, expect)?;
    let selector = parse(selector_text(input)?)?;
    let canonical = selector.canonical();
    expect_key(expect, "canonical", json!(canonical))?;
    let round_trip = parse(&canonical)?.canonical();
    expect_key(expect, "canonical", json!(round_trip))
        .map_err(|e| format!("after a round trip: {e}"))
}

/// `prefix_visitor`: `String()` after every label name got the prefix.
fn check_prefix_visitor(input: &Value, expect: &Value) -> Result<(), String> {
    check_parse_error(input, expect)?;
    let mut selector = parse(selector_text(input)?)?;
    let prefix = input["prefix"]
        .as_str()
        .ok_or_else(|| "input.prefix is not a string".to_owned())?;
    selector.prefix_labels(prefix);
    expect_key(expect, "output", json!(selector.canonical()))
}

/// `pool_namespace_selector`: Calico's `ipam.SelectsNamespace`, where a missing namespace (or
/// one without labels) is evaluated as an empty label set.
fn check_pool_namespace_selector(input: &Value, expect: &Value) -> Result<(), String> {
    let text = input["namespaceSelector"]
        .as_str()
        .ok_or_else(|| "input.namespaceSelector is not a string".to_owned())?;
    let labels = labels(&input["namespace"]["labels"])?;
    let (matches, error) = match selects(text, &labels) {
        Ok(matches) => (matches, false),
        Err(_) => (false, true),
    };
    expect_key(expect, "matches", json!(matches))?;
    expect_key(expect, "error", json!(error))
}
