//! Conformance cases of `validation.jsonl`: one resource and whether Calico accepts it.
//!
//! The case's `go_form` says which of Calico's validation layers produced the verdict (see the
//! corpus README); the runner replays exactly those layers through `ipam_core::validate` and
//! compares the verdict and the error text.

use ipam_core::model;
use ipam_core::validate::{self, CrdRunner, Layer, Layers, Options};
use ipam_core::{manifest, Severity, Source};
use serde_json::Value;

use super::{outcome, Outcome};

/// The layers a `go_form` runs, and whether `metadata` is part of what is validated.
fn options(go_form: &str) -> Option<Options> {
    let layers = match go_form {
        // `validator.Validate(obj)` on a value, or on a bare spec: Go validators only.
        "object-value" | "spec-struct" => Layers::of(&[Layer::GoValidator]),
        // `validator.Validate(&obj)`: Go validators, then CRD defaults, schema and CEL.
        "object-pointer" => Layers::of(&[Layer::GoValidator, Layer::Crd]),
        // kube-apiserver with Calico's CRDs: schema, defaults and CEL; no clientv3.
        "apiserver-create" => Layers::of(&[Layer::Crd]),
        // clientv3 Create: its own checks, then the validator (and the CRD rules).
        "clientv3-create" => Layers::of(&[Layer::ClientV3, Layer::GoValidator, Layer::Crd]),
        _ => return None,
    };
    Some(Options {
        layers,
        check_metadata: go_form != "spec-struct",
        // Only kube-apiserver reports CRD errors as its own `StatusError`; `validator.Validate`
        // (and clientv3 in etcd mode) folds them into its `ErrorValidation`.
        crd_runner: match go_form {
            "apiserver-create" => CrdRunner::ApiServer,
            _ => CrdRunner::InProcess,
        },
    })
}

/// The spec fields Calico's Go types declare `omitempty` as plain strings: Calico's tests build
/// objects as Go values, where an empty string is indistinguishable from an unset field and is
/// dropped when the object is encoded for the CRD rules.
const OMITEMPTY_STRINGS: [&str; 4] = ["ipipMode", "vxlanMode", "nodeSelector", "namespaceSelector"];

/// The input as Calico's Go code would encode it: empty `omitempty` strings left out.
pub(super) fn go_encoded(input: &Value) -> Value {
    let mut input = input.clone();
    if let Some(spec) = input.get_mut("spec").and_then(Value::as_object_mut) {
        spec.retain(|key, value| {
            !(OMITEMPTY_STRINGS.contains(&key.as_str()) && value.as_str() == Some(""))
        });
    }
    input
}

pub fn run(case: &Value) -> Outcome {
    let go_form = case["go_form"].as_str().unwrap_or("");
    let Some(options) = options(go_form) else {
        return Outcome::Fail(format!("unknown go_form `{go_form}`"));
    };
    let text = go_encoded(&case["input"]).to_string();
    let (documents, parse_problems) = manifest::parse(&[Source::new(Some("input"), &text)]);
    let Some(document) = documents.first() else {
        return Outcome::Fail(format!("the input is not a resource: {parse_problems:?}"));
    };
    let (resource, schema_problems) = model::read(document);
    let Some(resource) = resource else {
        return Outcome::Fail(format!("kind `{}` is not modelled", document.kind));
    };
    let findings = validate::resource(&resource, &options);
    let origin = resource.origin();

    // Every error text the engine produced: each problem alone, and the whole rejection.
    let mut errors: Vec<String> = schema_problems
        .iter()
        .chain(parse_problems.iter())
        .map(|d| {
            d.calico_message
                .clone()
                .unwrap_or_else(|| d.message.clone())
        })
        .collect();
    errors.extend(
        findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.error.render(origin)),
    );
    let rejection = validate::rejection(origin, &findings, &options);
    errors.extend(rejection.clone());
    let valid = errors.is_empty();

    let expect = &case["expect"];
    outcome((|| {
        if let Some(expected) = expect.get("valid").and_then(Value::as_bool) {
            if expected != valid {
                return Err(if valid {
                    "expected Calico to reject it; the engine accepts it".to_owned()
                } else {
                    format!(
                        "expected Calico to accept it; the engine rejects it: {}",
                        errors.join(" | ")
                    )
                });
            }
        }
        if let Some(needle) = expect.get("error_contains").and_then(Value::as_str) {
            if !errors.iter().any(|e| e.contains(needle)) {
                return Err(format!(
                    "no error contains {needle:?}; the engine says: {}",
                    errors.join(" | ")
                ));
            }
        }
        if let Some(exact) = expect.get("error_equals").and_then(Value::as_str) {
            if rejection.as_deref() != Some(exact) && !errors.iter().any(|e| e == exact) {
                return Err(format!(
                    "error is not {exact:?}; the engine says: {}",
                    rejection.unwrap_or_default()
                ));
            }
        }
        Ok(())
    })())
}
