//! Conformance cases of `annotations.jsonl`: the CNI plugin's handling of annotations and of the
//! network configuration, replayed through `ipam_core::cni` on the allocator.

use std::net::IpAddr;

use ipam_core::cni::{self, AddOutcome, AddRequest};
use ipam_core::ipam::{self, AutoAssignArgs, IpNet, Ipam};
use ipam_core::manifest::{parse, Source};
use ipam_core::model::{self, annotations, CniSettings, Resource};
use ipam_core::net::AllowedUse;
use serde_json::{json, Value};

use super::{expect_eq, outcome, Outcome, OUT_OF_SCOPE_KEYS};

/// The node every step runs on (`<node>` in the cases).
const NODE: &str = "test-node";

/// What one step produced, for the assertions.
#[derive(Default)]
struct StepResult {
    error: Option<String>,
    addresses: Vec<IpNet>,
    handle: Option<String>,
    v4_count: Option<usize>,
}

pub fn run(kind: &str, case: &Value) -> Outcome {
    let input = &case["input"];
    let expect_steps = case["expect"]["steps"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let in_scope = expect_steps.iter().any(|step| {
        step.as_object().is_some_and(|o| {
            o.keys()
                .any(|k| k != "step" && !OUT_OF_SCOPE_KEYS.contains(&k.as_str()))
        })
    });
    if !in_scope {
        return Outcome::Skip(format!(
            "`{kind}`: every assertion is about CNI plumbing or endpoints (out of scope)"
        ));
    }
    let mode = input["mode"].as_str().unwrap_or("");
    let settings = settings_of(&input["netconf"], mode);
    let mut ipam = Ipam::new();
    let pools = match pools_of(&input["pools"]) {
        Ok(pools) => pools,
        Err(e) => return Outcome::Fail(e),
    };
    ipam.set_pools(pools);
    ipam.set_node(NODE, Default::default());

    let namespace_name = placeholder(input["namespace"]["name"].as_str().unwrap_or("default"));
    let namespace_doc = json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": namespace_name, "annotations": input["namespace"]["annotations"].clone()},
    });
    let pod_name = input["pod"]["name"]
        .as_str()
        .unwrap_or("test-pod")
        .to_owned();
    let pod_doc = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": pod_name, "namespace": namespace_name, "annotations": input["pod"]["annotations"].clone()},
    });
    let (Some(Resource::Namespace(namespace)), Some(Resource::Pod(pod))) =
        (read_one(&namespace_doc), read_one(&pod_doc))
    else {
        return Outcome::Fail("the case's pod or namespace does not read as a manifest".into());
    };
    let (pod_annotations, problems) = annotations::read(&pod.meta, Some(&namespace.meta));

    let mut results: Vec<StepResult> = Vec::new();
    for step in input["steps"].as_array().into_iter().flatten() {
        let action = step["action"].as_str().unwrap_or("");
        let container_id = placeholder(step["container_id"].as_str().unwrap_or("<cid>"));
        let result = match action {
            "ADD" => {
                let request = AddRequest {
                    namespace: &namespace_name,
                    pod: &pod_name,
                    node: NODE,
                    windows: false,
                    container_id: &container_id,
                    annotations: &pod_annotations,
                    annotation_problems: &problems,
                    namespace_labels: std::sync::Arc::new(namespace.labels()),
                };
                let added = match mode {
                    "k8s" => cni::add(&mut ipam, &settings, &request),
                    "ipam-plugin" => {
                        let explicit = step["cni_args"]
                            .as_str()
                            .and_then(|args| args.split(';').find_map(|kv| kv.strip_prefix("IP=")))
                            .and_then(|ip| ip.parse::<IpAddr>().ok());
                        cni::ipam_plugin(&mut ipam, &settings, &request, explicit)
                    }
                    _ => match cni::non_kubernetes(&settings) {
                        Some(refused) => refused,
                        None => {
                            return Outcome::Fail(
                                "a non-Kubernetes ADD past the feature check is not modelled"
                                    .into(),
                            )
                        }
                    },
                };
                added_result(added, &container_id)
            }
            "DEL" => {
                // DEL releases by handle; a handle that does not exist is success.
                let _ = ipam.release_by_handle(&cni::handle_for(&container_id));
                StepResult::default()
            }
            "ipam_auto_assign" => direct_auto_assign(&mut ipam, step),
            "ipam_release_by_handle" => {
                let handle = step["handle"].as_str().unwrap_or("");
                match ipam.release_by_handle(handle) {
                    Ok(_) => StepResult::default(),
                    Err(e) => StepResult {
                        error: Some(e.message),
                        ..StepResult::default()
                    },
                }
            }
            other => return Outcome::Fail(format!("unknown step action `{other}`")),
        };
        results.push(result);
    }
    outcome(check_steps(&expect_steps, &results, &ipam))
}

fn placeholder(text: &str) -> String {
    match text {
        "<ns>" => "test-namespace".to_owned(),
        "<node>" => NODE.to_owned(),
        "<cid>" | "<cid1>" => "test-container".to_owned(),
        other => other.to_owned(),
    }
}

/// The CNI network configuration of the case, read as the plugin reads it.
fn settings_of(netconf: &Value, mode: &str) -> CniSettings {
    let ipam = &netconf["ipam"];
    let strings = |v: &Value| -> Option<Vec<String>> {
        v.as_array().map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
    };
    let config = model::CniConfig {
        ipam_type: ipam["type"].as_str().map(str::to_owned),
        // The Kubernetes tests run the plugin with `policy.type: k8s`, so annotations are read.
        policy_type: (mode == "k8s").then(|| "k8s".to_owned()),
        assign_ipv4: ipam["assign_ipv4"].as_str().map(str::to_owned),
        assign_ipv6: ipam["assign_ipv6"].as_str().map(str::to_owned),
        ipv4_pools: strings(&ipam["ipv4_pools"]),
        ipv6_pools: strings(&ipam["ipv6_pools"]),
        ip_addrs_no_ipam: netconf["feature_control"]["ip_addrs_no_ipam"]
            .as_bool()
            .unwrap_or(false),
        floating_ips: netconf["feature_control"]["floating_ips"]
            .as_bool()
            .unwrap_or(false),
        windows_use_single_network: false,
    };
    CniSettings::from_config(&config)
}

/// Pools as the CNI tests create them: through clientv3, so with Calico's defaults.
fn pools_of(pools: &Value) -> Result<Vec<ipam::Pool>, String> {
    let mut out = Vec::new();
    for pool in pools.as_array().into_iter().flatten() {
        match read_one(pool) {
            Some(Resource::IpPool(p)) => match p.effective() {
                Some(stored) => out.push(ipam::Pool::from(&stored)),
                None => return Err(format!("pool {} is not a valid pool", p.name())),
            },
            _ => return Err(format!("not an IPPool: {pool}")),
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn read_one(value: &Value) -> Option<Resource> {
    let text = value.to_string();
    let (documents, _) = parse(&[Source::new(None, &text)]);
    model::read(documents.first()?).0
}

fn added_result(added: AddOutcome, container_id: &str) -> StepResult {
    StepResult {
        error: added.failure.map(|f| f.message),
        addresses: added.addresses,
        handle: Some(cni::handle_for(container_id)),
        v4_count: None,
    }
}

fn direct_auto_assign(ipam: &mut Ipam, step: &Value) -> StepResult {
    let cidrs = |key: &str| -> Vec<IpNet> {
        step[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c.as_str()?.parse().ok())
            .collect()
    };
    let args = AutoAssignArgs {
        num4: step["num4"].as_u64().unwrap_or(0) as usize,
        num6: step["num6"].as_u64().unwrap_or(0) as usize,
        handle: step["handle"].as_str().map(Into::into),
        attrs: ipam_core::ipam::OwnerAttrs::new(),
        hostname: placeholder(step["host"].as_str().unwrap_or("<node>")),
        ipv4_pools: cidrs("ipv4_pools"),
        ipv6_pools: cidrs("ipv6_pools"),
        intended_use: step["intended_use"].as_str().and_then(AllowedUse::parse),
        ..AutoAssignArgs::default()
    };
    let (v4, v6, result) = ipam.auto_assign(&args);
    StepResult {
        error: result.err().map(|e| e.message),
        v4_count: Some(v4.as_ref().map_or(0, |a| a.ips.len())),
        addresses: [v4, v6].into_iter().flatten().flat_map(|a| a.ips).collect(),
        handle: args.handle.as_deref().map(str::to_owned),
    }
}

fn check_steps(expected: &[Value], results: &[StepResult], ipam: &Ipam) -> Result<(), String> {
    for step in expected {
        let index = step["step"].as_u64().unwrap_or(0) as usize;
        let result = results
            .get(index)
            .ok_or_else(|| format!("step {index} did not run"))?;
        let ips: Vec<IpAddr> = result.addresses.iter().map(IpNet::addr).collect();
        for (key, value) in step.as_object().into_iter().flatten() {
            let what = format!("step {index} `{key}`");
            match key.as_str() {
                "step" => {}
                k if OUT_OF_SCOPE_KEYS.contains(&k) => {}
                "error" => expect_eq(&what, value, &json!(result.error.is_some()))?,
                "error_contains" => {
                    let needle = value.as_str().unwrap_or("");
                    let text = result.error.as_deref().unwrap_or("");
                    if !text.contains(needle) {
                        return Err(format!("{what}: {text:?} does not contain {needle:?}"));
                    }
                }
                "exit_code" => expect_eq(&what, value, &json!(i32::from(result.error.is_some())))?,
                "exit_code_gt" => {
                    let code = i64::from(result.error.is_some());
                    if code <= value.as_i64().unwrap_or(0) {
                        return Err(format!("{what}: exit code {code} is not above {value}"));
                    }
                }
                "ip_count" => expect_eq(&what, value, &json!(ips.len()))?,
                "v4_count" => expect_eq(&what, value, &json!(result.v4_count.unwrap_or(0)))?,
                "addresses" => {
                    // The plugin returns specific addresses as /32 or /128.
                    let got: Vec<String> =
                        result.addresses.iter().map(ToString::to_string).collect();
                    expect_eq(&what, value, &json!(got))?
                }
                "pod_ip" => {
                    let first = ips.first().map(ToString::to_string);
                    expect_eq(&what, value, &json!(first))?
                }
                "ips_in" => {
                    let nets: Vec<IpNet> = value
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|c| c.as_str()?.parse().ok())
                        .collect();
                    if ips.is_empty() || !ips.iter().all(|ip| nets.iter().any(|n| n.contains(ip))) {
                        return Err(format!("{what}: {ips:?} not all in {value}"));
                    }
                }
                "ips_differ_from_step" => {
                    let other = value.as_u64().and_then(|i| results.get(i as usize));
                    let other_ips: Vec<IpAddr> = other
                        .map(|r| r.addresses.iter().map(IpNet::addr).collect())
                        .unwrap_or_default();
                    if ips.is_empty() || ips.iter().any(|ip| other_ips.contains(ip)) {
                        return Err(format!("{what}: {ips:?} do not differ from {other_ips:?}"));
                    }
                }
                "handle_ip_count" => {
                    let handle = result.handle.as_deref().unwrap_or("");
                    let count = ipam.ips_by_handle(handle).map_or(0, |ips| ips.len());
                    expect_eq(&what, value, &json!(count))?
                }
                other => return Err(format!("step {index}: assertion `{other}` is not handled")),
            }
        }
    }
    Ok(())
}
