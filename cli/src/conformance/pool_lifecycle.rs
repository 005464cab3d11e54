//! Conformance cases of `pool_lifecycle.jsonl`: IPPool create, update and delete through
//! clientv3, kube-apiserver and the kube-controllers IPPool controller, replayed against
//! `ipam_core::lifecycle`. IPAM operations inside a sequence are the allocation runner's
//! (`allocation::Scenario`), run on the store's IPAM state; this module only translates JSON into
//! engine calls and compares what the case asserts.

use ipam_core::lifecycle::{
    self, cidr_change_ok, go_spec, pool_priority_sort, spec_json, update_validation, Datastore,
    PoolObject, PoolPriority, PoolStore, WriteError, WritePath,
};
use ipam_core::validate;
use serde_json::{json, Map, Value};

use super::allocation::{count_in_scope, Scenario, StepRecord};
use super::validation::go_encoded;
use super::OUT_OF_SCOPE_KEYS;
use super::{expect_eq, outcome, Outcome};

type Check = Result<(), String>;

pub fn run(kind: &str, case: &Value) -> Outcome {
    let input = &case["input"];
    let expect = &case["expect"];
    let result = match kind {
        "cidr_change_ok" => check_cidr_change_ok(input, expect),
        "update_validation" => check_update_validation(input, expect),
        "crd_defaults" => check_crd_defaults(input, expect),
        "pool_priority_sort" => check_priority_sort(input, expect),
        "clientv3_sequence" => {
            return run_sequence(PoolStore::new(WritePath::ClientV3(Datastore::Etcd)), case)
        }
        "apiserver_sequence" => return run_sequence(PoolStore::new(WritePath::ApiServer), case),
        "controller_sequence" => {
            return run_sequence(PoolStore::new(WritePath::ApiServer).with_controller(), case)
        }
        other => Err(format!("unknown pool lifecycle case kind `{other}`")),
    };
    outcome(result)
}

// ----- Pure kinds -----

fn str_field<'a>(value: &'a Value, key: &str) -> Result<&'a str, String> {
    value[key]
        .as_str()
        .ok_or_else(|| format!("`{key}` is not a string in {value}"))
}

fn check_cidr_change_ok(input: &Value, expect: &Value) -> Check {
    let allowed = cidr_change_ok(str_field(input, "old_cidr")?, str_field(input, "new_cidr")?);
    expect_eq("allowed", &expect["allowed"], &json!(allowed))
}

/// An IPPool resource of a case, as Calico's Go code would hold it.
fn pool_object(resource: &Value) -> Result<PoolObject, String> {
    PoolObject::from_json(&go_encoded(resource))
}

fn check_update_validation(input: &Value, expect: &Value) -> Check {
    let old = pool_object(&input["old"])?;
    let new = pool_object(&input["new"])?;
    let result = update_validation(&old.pool, &new.pool);
    let error = result.as_ref().err();
    check_error_keys(expect, error.map(|e| e.message.as_str()))?;
    if let Some(name) = expect["errored_field"].as_str() {
        match error {
            Some(e) if e.has_field(name) => {}
            other => return Err(format!("errored_field {name}: got {other:?}")),
        }
    }
    Ok(())
}

fn check_crd_defaults(input: &Value, expect: &Value) -> Check {
    let object = pool_object(&input["resource"])?;
    let defaulted = validate::crd_pool_defaults(&object.pool);
    let spec = spec_json(&defaulted.spec);
    check_includes(
        "defaulted_spec_includes",
        &expect["defaulted_spec_includes"],
        &spec,
    )
}

fn check_priority_sort(input: &Value, expect: &Value) -> Check {
    let mut pools: Vec<PoolPriority> = Vec::new();
    for pool in input["pools"].as_array().into_iter().flatten() {
        let condition = pool["allocatable_condition"].as_str();
        pools.push(PoolPriority {
            name: str_field(pool, "name")?.to_owned(),
            creation_timestamp: pool["creationTimestamp_offset_s"].as_i64().unwrap_or(0),
            allocatable: condition.map(|c| c.starts_with("True")),
            deleting: pool["deleting"].as_bool().unwrap_or(false),
        });
    }
    pool_priority_sort(&mut pools);
    let order: Vec<&str> = pools.iter().map(|p| p.name.as_str()).collect();
    expect_eq("order", &expect["order"], &json!(order))
}

// ----- Assertion helpers -----

/// `error`, `error_contains` and `error_equals` against the error text of a step (`None` when
/// it succeeded).
fn check_error_keys(expect: &Value, error: Option<&str>) -> Check {
    if let Some(want) = expect.get("error") {
        expect_eq("error", want, &json!(error.is_some()))?;
    }
    if let Some(needle) = expect["error_contains"].as_str() {
        match error {
            Some(message) if message.contains(needle) => {}
            Some(message) => return Err(format!("error_contains: `{needle}` not in `{message}`")),
            None => return Err(format!("error_contains `{needle}`: no error happened")),
        }
    }
    if let Some(exact) = expect["error_equals"].as_str() {
        expect_eq("error_equals", &json!(exact), &json!(error))?;
    }
    Ok(())
}

/// Every key of `want` holds in `have`, comparing as Go compares struct fields: a field at its
/// zero value equals an absent one.
fn check_includes(what: &str, want: &Value, have: &Value) -> Check {
    let Some(want) = want.as_object() else {
        return Err(format!("{what}: expectation is not an object"));
    };
    for (key, value) in want {
        let actual = have.get(key).cloned().unwrap_or(Value::Null);
        let same = value == &actual || (lifecycle::is_zero(value) && lifecycle::is_zero(&actual));
        if !same {
            return Err(format!("{what}.{key}: expected {value}, got {actual}"));
        }
    }
    Ok(())
}

// ----- Sequences -----

/// What one sequence step produced.
#[derive(Default)]
struct Step {
    error: Option<String>,
    /// The object a create, update, delete or get returned.
    object: Option<PoolObject>,
    /// The objects a list returned.
    list: Option<Vec<PoolObject>>,
    /// `expect_condition`: the pool's `Allocatable` status, `None` without a condition.
    allocatable: Option<Option<bool>>,
    /// Whether the step was an IPAM operation, whose assertions the allocation runner checks.
    ipam: bool,
}

impl Step {
    fn written(result: Result<PoolObject, WriteError>) -> Step {
        match result {
            Ok(object) => Step {
                object: Some(object),
                ..Step::default()
            },
            Err(error) => Step {
                error: Some(error.message),
                ..Step::default()
            },
        }
    }
}

struct Sequence {
    store: PoolStore,
    steps: Vec<Step>,
    /// The allocation runner, lent the store's IPAM state for each IPAM operation; its step
    /// records stay index-aligned with `steps`.
    scenario: Scenario,
}

/// Operations the allocation runner replays on the store's IPAM state.
const IPAM_OPS: &[&str] = &[
    "auto_assign",
    "assign_ip",
    "release_ips",
    "release_by_handle",
    "ips_by_handle",
    "get_assignment_attributes",
    "ensure_block",
    "claim_affinity",
    "release_affinity",
    "release_block_affinity",
    "release_host_affinities",
    "release_pool_affinities",
    "remove_ipam_host",
    "get_utilization",
    "list_blocks",
    "list_block_affinities",
    "get_affine_blocks",
    "get_enabled_pools",
    "apply_node",
];

fn run_sequence(store: PoolStore, case: &Value) -> Outcome {
    let mut sequence = Sequence {
        store,
        steps: Vec::new(),
        scenario: Scenario::empty(),
    };
    let input = &case["input"];
    for pool in input["initial_pools"].as_array().into_iter().flatten() {
        match pool_object(pool) {
            Ok(object) => sequence.store.load(object),
            Err(e) => return Outcome::Fail(format!("initial pool: {e}")),
        }
    }
    for (index, op) in input["operations"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        if let Err(e) = sequence.apply(op) {
            return Outcome::Fail(format!("step {index}: {e}"));
        }
    }
    let mut in_scope = 0;
    for expected in case["expect"]["steps"].as_array().into_iter().flatten() {
        in_scope += count_in_scope(expected);
        if let Err(e) = sequence.check_step(expected) {
            return Outcome::Fail(e);
        }
    }
    if in_scope == 0 {
        return Outcome::Skip(
            "every assertion is out of scope (README \"What is in scope\")".into(),
        );
    }
    Outcome::Pass
}

/// Merges `metadata_extra` of an operation into the resource's metadata.
fn with_metadata_extra(resource: &Value, op: &Value) -> Value {
    let mut resource = resource.clone();
    if let (Some(extra), Some(object)) =
        (op["metadata_extra"].as_object(), resource.as_object_mut())
    {
        let metadata = object
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(metadata) = metadata.as_object_mut() {
            metadata.extend(extra.clone());
        }
    }
    resource
}

impl Sequence {
    fn apply(&mut self, op: &Value) -> Result<(), String> {
        let name = str_field(op, "op")?;
        let step = match name {
            "create" => {
                let request = pool_object(&with_metadata_extra(&op["resource"], op))?;
                Step::written(self.store.create(&request))
            }
            "backend_create" => {
                let request = pool_object(&with_metadata_extra(&op["resource"], op))?;
                Step::written(self.store.backend_create(request))
            }
            "update" => {
                let request = self.update_request(op)?;
                Step::written(self.store.update(&request))
            }
            "delete" => {
                let version = self.requested_version(op)?;
                Step::written(
                    self.store
                        .delete(str_field(op, "name")?, version.as_deref()),
                )
            }
            "get" => Step::written(self.store.get(str_field(op, "name")?)),
            "list" => Step {
                list: Some(self.store.list()),
                ..Step::default()
            },
            // FelixConfiguration is not modelled; pool writes never touch it (v3.32+).
            "create_felix_configuration" => Step::default(),
            "create_node" => {
                let node = str_field(op, "name")?.to_owned();
                let labels = op["labels"]
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                            .collect()
                    })
                    .unwrap_or_default();
                self.store.ipam_op(|ipam| ipam.set_node(node, labels));
                Step::default()
            }
            "sleep" => {
                // The clock counts whole seconds; a fraction still moves it on.
                let seconds = op["seconds"].as_f64().unwrap_or(0.0).ceil();
                self.store.advance_clock(if seconds.is_finite() {
                    seconds as i64
                } else {
                    0
                });
                Step::default()
            }
            "expect_condition" | "expect_finalizer" | "expect_deleted" => {
                let stored = self.store.stored(str_field(op, "name")?);
                Step {
                    allocatable: Some(
                        stored.and_then(|p| p.allocatable.as_ref().map(|c| c.status)),
                    ),
                    ..Step::default()
                }
            }
            ipam_op if IPAM_OPS.contains(&ipam_op) => {
                let scenario = &mut self.scenario;
                let record = self.store.ipam_op(|ipam| {
                    std::mem::swap(ipam, &mut scenario.ipam);
                    let record = scenario.apply(op);
                    std::mem::swap(ipam, &mut scenario.ipam);
                    record
                })?;
                let error = record.error.as_ref().map(|e| e.message.clone());
                self.scenario.steps.push(record);
                self.steps.push(Step {
                    error,
                    ipam: true,
                    ..Step::default()
                });
                return Ok(());
            }
            other => {
                return Err(format!(
                    "operation `{other}` is not supported by the runner"
                ))
            }
        };
        self.scenario.steps.push(StepRecord::default());
        self.steps.push(step);
        Ok(())
    }

    fn step_object(&self, value: &Value) -> Result<&PoolObject, String> {
        value
            .as_u64()
            .and_then(|s| usize::try_from(s).ok())
            .and_then(|s| self.steps.get(s))
            .and_then(|s| s.object.as_ref())
            .ok_or_else(|| format!("step {value} returned no object"))
    }

    /// The resource version an update or delete sends: that of an earlier step's object, or a
    /// literal one.
    fn requested_version(&self, op: &Value) -> Result<Option<String>, String> {
        if !op["use_resource_version_from_step"].is_null() {
            let object = self.step_object(&op["use_resource_version_from_step"])?;
            return Ok(object.resource_version.clone());
        }
        Ok(op["resource_version"].as_str().map(str::to_owned))
    }

    /// The object an update sends. Calico's tests update objects they read before, so what the
    /// case leaves out of the metadata (version, UID, creation time) is the stored object's.
    fn update_request(&self, op: &Value) -> Result<PoolObject, String> {
        let mut json = if !op["from_step"].is_null() {
            let mut json = self.step_object(&op["from_step"])?.to_json();
            if let (Some(spec), Some(set)) = (json["spec"].as_object_mut(), op["set"].as_object()) {
                spec.extend(set.clone());
            }
            json
        } else if op["resource"].is_object() {
            op["resource"].clone()
        } else {
            json!({
                "apiVersion": "projectcalico.org/v3",
                "kind": "IPPool",
                "metadata": {"name": str_field(op, "name")?},
                "spec": op["spec"].clone(),
            })
        };
        json = with_metadata_extra(&json, op);
        let mut request = pool_object(&json)?;
        let explicit = |key: &str| json["metadata"].get(key).is_some();
        if let Some(current) = self.store.stored(request.name()) {
            if !explicit("resourceVersion") {
                request.resource_version = current.resource_version.clone();
            }
            if !explicit("uid") {
                request.uid = current.uid.clone();
            }
            if !explicit("creationTimestamp") {
                request.creation_timestamp = current.creation_timestamp;
            }
        }
        if !op["use_resource_version_from_step"].is_null() || op.get("resource_version").is_some() {
            request.resource_version = self.requested_version(op)?;
        }
        Ok(request)
    }

    fn check_step(&self, expected: &Value) -> Check {
        let index = expected["step"]
            .as_u64()
            .and_then(|s| usize::try_from(s).ok())
            .ok_or_else(|| format!("expectation without a step: {expected}"))?;
        let step = self
            .steps
            .get(index)
            .ok_or_else(|| format!("no step {index}"))?;
        let record = self.scenario.steps.get(index);
        let map = expected.as_object().cloned().unwrap_or_default();
        let mut error_keys = Map::new();
        for (key, want) in &map {
            if key == "step" || OUT_OF_SCOPE_KEYS.contains(&key.as_str()) {
                continue;
            }
            let checked = match key.as_str() {
                "error" | "error_contains" | "error_equals" => {
                    error_keys.insert(key.clone(), want.clone());
                    Ok(())
                }
                _ if step.ipam => match record {
                    Some(record) => self.scenario.check_key(record, key, want),
                    None => Err("the IPAM step left no record".to_owned()),
                },
                "result_spec" => {
                    let have = go_spec(&spec_json(&self.object(step, key)?.pool.spec));
                    expect_eq("result_spec", &go_spec(want), &have)
                }
                "result_spec_includes" => {
                    let have = spec_json(&self.object(step, key)?.pool.spec);
                    check_includes(key, want, &have)
                }
                "names_specs" => check_names_specs(step, want),
                "count" => match &step.list {
                    Some(list) => expect_eq("count", want, &json!(list.len())),
                    None => Err("count: the step listed nothing".to_owned()),
                },
                "allocatable" => match step.allocatable {
                    Some(have) => expect_eq("allocatable", want, &json!(have)),
                    None => Err("allocatable: the step read no condition".to_owned()),
                },
                other => Err(format!(
                    "assertion `{other}` is not handled for this operation"
                )),
            };
            checked.map_err(|e| format!("step {index}: {e}"))?;
        }
        check_error_keys(&Value::Object(error_keys), step.error.as_deref())
            .map_err(|e| format!("step {index}: {e}"))
    }

    fn object<'s>(&self, step: &'s Step, key: &str) -> Result<&'s PoolObject, String> {
        step.object.as_ref().ok_or_else(|| {
            format!(
                "{key}: the step returned no object ({})",
                step.error.as_deref().unwrap_or("no error")
            )
        })
    }
}

/// `names_specs`: the listed pools' names and specs, in any order. Accepts a list of
/// `{name, spec}` or a map from name to spec.
fn check_names_specs(step: &Step, want: &Value) -> Check {
    let Some(list) = &step.list else {
        return Err("names_specs: the step listed nothing".to_owned());
    };
    let mut have: Vec<(String, Value)> = list
        .iter()
        .map(|p| (p.name().to_owned(), go_spec(&spec_json(&p.pool.spec))))
        .collect();
    let mut expected: Vec<(String, Value)> = match want {
        Value::Array(items) => items
            .iter()
            .map(|item| {
                (
                    item["name"].as_str().unwrap_or_default().to_owned(),
                    go_spec(&item["spec"]),
                )
            })
            .collect(),
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), go_spec(v))).collect(),
        other => return Err(format!("names_specs: unexpected {other}")),
    };
    have.sort_by(|a, b| a.0.cmp(&b.0));
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    if have == expected {
        Ok(())
    } else {
        Err(format!("names_specs: expected {expected:?}, got {have:?}"))
    }
}
