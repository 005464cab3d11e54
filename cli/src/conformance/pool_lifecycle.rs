//! Conformance cases of `pool_lifecycle.jsonl`.

use serde_json::Value;

use super::Outcome;

pub fn run(kind: &str, _case: &Value) -> Outcome {
    Outcome::Fail(format!(
        "case kind `{kind}` is not handled by the engine yet"
    ))
}
