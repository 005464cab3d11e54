//! Conformance cases of `allocation.jsonl`: scenarios replayed against `ipam_core::ipam::Ipam`,
//! plus the small kinds that exercise one primitive each. This module only translates JSON into
//! engine calls and compares what the case asserts; the IPAM rules live in the engine.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipam_core::gorand::block_rotation;
use ipam_core::ipam::{
    dedupe_cidrs, parse_reserved_cidrs, saturate_i64, AffinityState, AllocationAttribute,
    AssignIpArgs, AutoAssignArgs, Block, BlockAffinity, EnsureBlockArgs, HostReservedAttr, IpNet,
    Ipam, IpamAssignments, IpamConfig, IpamError, OwnerAttrs, Pool, PoolSpace, PoolUtilization,
    ReleaseOptions, ReservationSet,
};
use ipam_core::net::{AllowedUse, AssignmentMode, EncapMode, Family};
use serde_json::{json, Map, Value};

use super::{expect_eq, labels, outcome, Outcome, OUT_OF_SCOPE_KEYS};

/// The clock value scenarios run at; Calico's tests run within seconds, so it never advances.
const SCENARIO_NOW: i64 = 1_000_000;

type Check = Result<(), String>;

pub fn run(kind: &str, case: &Value) -> Outcome {
    let input = &case["input"];
    let expect = &case["expect"];
    let result = match kind {
        "scenario" => return run_scenario(input, expect),
        "determine_pools" => check_determine_pools(input, expect),
        "block" => check_block_case(input, expect),
        "reservation_filter" => check_reservation_filter(input, expect),
        "pool_space" => check_pool_space(input, expect),
        "partial_fulfillment_error" => check_partial_fulfillment(input, expect),
        "reservation_dedupe" => check_reservation_dedupe(input, expect),
        "block_enumeration" => check_block_enumeration(input, expect),
        "reserved_cidrs" => check_reserved_cidrs(input, expect),
        other => Err(format!("unknown allocation case kind `{other}`")),
    };
    outcome(result)
}

// ----- JSON helpers -----

fn str_field<'a>(value: &'a Value, key: &str) -> Result<&'a str, String> {
    value[key]
        .as_str()
        .ok_or_else(|| format!("`{key}` is not a string in {value}"))
}

fn usize_field(value: &Value, key: &str) -> usize {
    value[key]
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0)
}

fn bool_field(value: &Value, key: &str) -> bool {
    value[key].as_bool().unwrap_or(false)
}

/// The string-valued entries of a JSON object.
fn string_pairs(value: &Value) -> impl Iterator<Item = (&str, &str)> {
    value
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| v.as_str().map(|s| (k.as_str(), s)))
}

fn string_map(value: &Value) -> OwnerAttrs {
    string_pairs(value).collect()
}

fn parse_net(text: &str) -> Result<IpNet, String> {
    text.trim()
        .parse::<IpNet>()
        .map_err(|_| format!("`{text}` is not a CIDR"))
}

fn parse_addr(text: &str) -> Result<IpAddr, String> {
    ipam_core::net::parse_ip(text.trim()).ok_or_else(|| format!("`{text}` is not an IP"))
}

fn net_list(value: &Value) -> Result<Vec<IpNet>, String> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .ok_or("CIDR list holds a non-string")
                    .and_then(|s| parse_net(s).map_err(|_| "bad CIDR"))
            })
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{e} in {value}")),
        other => Err(format!("not a CIDR list: {other}")),
    }
}

fn family_of_version(value: &Value) -> Option<Family> {
    match value.as_u64() {
        Some(4) => Some(Family::V4),
        Some(6) => Some(Family::V6),
        _ => None,
    }
}

/// An IPPool resource as the tests' mock accessor presents it (defaults already applied).
fn pool_from_json(resource: &Value) -> Result<Pool, String> {
    let spec = &resource["spec"];
    let name = resource["metadata"]["name"].as_str().unwrap_or_default();
    let cidr = str_field(spec, "cidr")?;
    let mut pool =
        Pool::new(name, cidr).ok_or_else(|| format!("pool CIDR `{cidr}` does not parse"))?;
    if let Some(size) = spec["blockSize"].as_u64().filter(|&s| s != 0) {
        pool.block_size =
            u8::try_from(size).map_err(|_| format!("blockSize {size} out of range"))?;
    }
    pool.node_selector = spec["nodeSelector"].as_str().unwrap_or_default().to_owned();
    pool.namespace_selector = spec["namespaceSelector"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let uses: Vec<AllowedUse> = spec["allowedUses"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .filter_map(AllowedUse::parse)
                .collect()
        })
        .unwrap_or_default();
    if !uses.is_empty() {
        pool.allowed_uses = uses;
    }
    if let Some(mode) = spec["assignmentMode"]
        .as_str()
        .and_then(AssignmentMode::parse)
    {
        pool.assignment_mode = mode;
    }
    pool.disabled = bool_field(spec, "disabled");
    pool.ipip_mode = spec["ipipMode"]
        .as_str()
        .and_then(EncapMode::parse)
        .unwrap_or_default();
    pool.vxlan_mode = spec["vxlanMode"]
        .as_str()
        .and_then(EncapMode::parse)
        .unwrap_or_default();
    Ok(pool)
}

fn pools_from_json(value: &Value) -> Result<Vec<Pool>, String> {
    value
        .as_array()
        .map(|list| list.iter().map(pool_from_json).collect())
        .unwrap_or_else(|| Ok(Vec::new()))
}

/// The union of every listed IPReservation's `reservedCIDRs`.
fn reservations_from_json(value: &Value) -> ReservationSet {
    let texts: Vec<&str> = value
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["spec"]["reservedCIDRs"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    ReservationSet::from_texts(texts)
}

/// A plain list of reservation CIDR texts.
fn reservation_texts(value: &Value) -> ReservationSet {
    ReservationSet::from_texts(
        value
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str),
    )
}

/// `config` with Calico's absent-object defaults where `defaults` is true, zero values otherwise.
fn config_from_json(value: &Value, defaults: bool) -> IpamConfig {
    let number = |key: &str| {
        value[key]
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0)
    };
    IpamConfig {
        strict_affinity: bool_field(value, "strictAffinity"),
        auto_allocate_blocks: value["autoAllocateBlocks"].as_bool().unwrap_or(defaults),
        max_blocks_per_host: number("maxBlocksPerHost"),
        ip_cooldown_seconds: number("ipCooldownSeconds"),
    }
}

fn config_to_json(config: &IpamConfig) -> Value {
    json!({
        "strictAffinity": config.strict_affinity,
        "autoAllocateBlocks": config.auto_allocate_blocks,
        "maxBlocksPerHost": config.max_blocks_per_host,
        "ipCooldownSeconds": config.ip_cooldown_seconds,
    })
}

fn host_reserved_attr(value: &Value) -> Option<HostReservedAttr> {
    if !value.is_object() {
        return None;
    }
    Some(HostReservedAttr {
        start_of_block: usize_field(value, "startOfBlock"),
        end_of_block: usize_field(value, "endOfBlock"),
        handle: value["handle"].as_str().unwrap_or_default().to_owned(),
        note: value["note"].as_str().unwrap_or_default().to_owned(),
    })
}

/// A relative time such as `now-60s` (or a plain number of seconds) on the engine clock.
fn relative_time(value: &Value, now: i64) -> Option<i64> {
    if let Some(n) = value.as_i64() {
        return Some(n);
    }
    let text = value.as_str()?.trim();
    let rest = text.strip_prefix("now")?;
    if rest.is_empty() {
        return Some(now);
    }
    let (sign, digits) = match rest.split_at(1) {
        ("-", d) => (-1, d),
        ("+", d) => (1, d),
        _ => return None,
    };
    let seconds: i64 = digits.trim_end_matches('s').parse().ok()?;
    Some(now.saturating_add(seconds.checked_mul(sign)?))
}

fn attribute_from_json(value: &Value, now: i64) -> AllocationAttribute {
    const KNOWN: &[&str] = &[
        "handle_id",
        "released_at",
        "active_owner_attrs",
        "alternate_owner_attrs",
        "secondary",
        "attrs",
    ];
    let mut active = OwnerAttrs::new();
    for key in ["active_owner_attrs", "secondary", "attrs"] {
        for (k, v) in string_pairs(&value[key]) {
            active.insert(k, v);
        }
    }
    // Loose string fields next to the handle are owner attributes too.
    for (key, text) in string_pairs(value) {
        if !KNOWN.contains(&key) {
            active.insert(key, text);
        }
    }
    AllocationAttribute {
        handle_id: value["handle_id"].as_str().map(Into::into),
        active_owner_attrs: active,
        alternate_owner_attrs: string_map(&value["alternate_owner_attrs"]),
        released_at: relative_time(&value["released_at"], now),
    }
}

/// A block written directly to the datastore by a test.
fn block_from_json(value: &Value, now: i64) -> Result<Block, String> {
    let cidr = parse_net(str_field(value, "cidr")?)?;
    let mut block = Block::new(cidr, None).ok_or_else(|| format!("block {cidr} is too large"))?;
    block.affinity = value["affinity"].as_str().map(str::to_owned);
    if let Some(seq) = value["sequence_number"].as_u64() {
        block.set_sequence_number(seq);
    }
    for allocation in value["allocations"].as_array().into_iter().flatten() {
        let ordinals: Vec<usize> = allocation["ordinals"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_u64)
            .filter_map(|o| usize::try_from(o).ok())
            .collect();
        block.insert_allocation(
            &ordinals,
            attribute_from_json(&allocation["attributes"], now),
        )?;
    }
    for attribute in value["unreferenced_attributes"]
        .as_array()
        .into_iter()
        .flatten()
    {
        block.push_unreferenced_attribute(attribute_from_json(attribute, now));
    }
    if let Some(map) = value["sequence_number_for_allocation"].as_object() {
        for (ordinal, seq) in map {
            if let (Ok(ordinal), Some(seq)) = (ordinal.parse::<usize>(), seq.as_u64()) {
                block.set_sequence_number_for_ordinal(ordinal, seq);
            }
        }
    }
    Ok(block)
}

/// Addresses as strings, sorted, for lists whose order Calico does not define.
fn sorted_ip_strings(ips: &[IpAddr]) -> Value {
    let mut sorted = ips.to_vec();
    sorted.sort();
    ip_strings(&sorted)
}

fn ip_strings(ips: &[IpAddr]) -> Value {
    Value::Array(ips.iter().map(|ip| Value::String(ip.to_string())).collect())
}

// ----- Step assertions shared by several kinds -----

/// Checks every in-scope key of `expected` (a step) against the `observed` values, with the
/// generic meanings: `contains` is a subset, `unordered` a multiset match on `value`, anything
/// else exact. Keys the operation cannot produce fail rather than pass.
fn check_generic_step(expected: &Value, observed: &Map<String, Value>) -> Check {
    let Some(expected) = expected.as_object() else {
        return Err(format!("step expectation is not an object: {expected}"));
    };
    for (key, want) in expected {
        if key == "step" || OUT_OF_SCOPE_KEYS.contains(&key.as_str()) {
            continue;
        }
        match key.as_str() {
            "error_contains" => {
                let message = observed
                    .get("error_message")
                    .and_then(Value::as_str)
                    .ok_or("error_contains: no error happened")?;
                let needle = want.as_str().unwrap_or_default();
                if !message.contains(needle) {
                    return Err(format!("error_contains: `{needle}` not in `{message}`"));
                }
            }
            "contains" => {
                let have = observed
                    .get("value")
                    .and_then(Value::as_array)
                    .ok_or("`contains` on a result without a list")?;
                for item in want.as_array().into_iter().flatten() {
                    if !have.contains(item) {
                        return Err(format!("contains: {item} missing from {have:?}"));
                    }
                }
            }
            "unordered" => {
                let sort = |v: Option<&Value>| {
                    let mut list: Vec<String> = v
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .map(Value::to_string)
                        .collect();
                    list.sort();
                    list
                };
                if sort(Some(want)) != sort(observed.get("value")) {
                    return Err(format!(
                        "unordered: expected {want}, got {:?}",
                        observed.get("value")
                    ));
                }
            }
            _ => match observed.get(key) {
                Some(have) => expect_eq(key, want, have)?,
                None => {
                    return Err(format!(
                        "assertion `{key}` is not handled for this operation"
                    ))
                }
            },
        }
    }
    Ok(())
}

// ----- kind: scenario -----

/// What one scenario step produced, kept for later steps' references and assertions.
#[derive(Default)]
pub(super) struct StepRecord {
    pub(super) error: Option<IpamError>,
    v4: Option<Option<IpamAssignments>>,
    v6: Option<Option<IpamAssignments>>,
    /// Everything else the step produced, under the assertion key that checks it.
    observed: Map<String, Value>,
    /// Block CIDRs a list step returned (for `block_from_step`).
    blocks: Vec<IpNet>,
    ensure_v4: Option<IpNet>,
    ensure_v6: Option<IpNet>,
    utilization: Option<Vec<PoolUtilization>>,
}

impl StepRecord {
    fn ips(&self, family: Family) -> Vec<IpNet> {
        let result = match family {
            Family::V4 => &self.v4,
            Family::V6 => &self.v6,
        };
        result
            .as_ref()
            .and_then(Option::as_ref)
            .map(|a| a.ips.clone())
            .unwrap_or_default()
    }
}

pub(super) struct Scenario {
    pub(super) ipam: Ipam,
    pub(super) steps: Vec<StepRecord>,
    recorded: BTreeMap<String, u64>,
    /// Step index → the name its value is recorded under (`value_recorded_as` in the
    /// expectations), for later `$name` references.
    record_names: BTreeMap<usize, String>,
}

fn run_scenario(input: &Value, expect: &Value) -> Outcome {
    let mut scenario = match Scenario::setup(input) {
        Ok(s) => s,
        Err(e) => return Outcome::Fail(format!("setup: {e}")),
    };
    for step in expect["steps"].as_array().into_iter().flatten() {
        if let (Some(index), Some(name)) =
            (step["step"].as_u64(), step["value_recorded_as"].as_str())
        {
            if let Ok(index) = usize::try_from(index) {
                scenario.record_names.insert(index, name.to_owned());
            }
        }
    }
    let operations = input["operations"].as_array().cloned().unwrap_or_default();
    for (index, op) in operations.iter().enumerate() {
        let record = scenario.apply(op).unwrap_or_else(|e| StepRecord {
            error: Some(IpamError::other(format!("runner: {e}"))),
            observed: Map::from_iter([("runner_error".to_owned(), json!(e))]),
            ..StepRecord::default()
        });
        if let Some(Value::String(problem)) = record.observed.get("runner_error") {
            return Outcome::Fail(format!("step {index}: {problem}"));
        }
        scenario.steps.push(record);
    }
    let mut in_scope = 0usize;
    let steps = expect["steps"].as_array().cloned().unwrap_or_default();
    for step in &steps {
        in_scope += count_in_scope(step);
        if let Err(e) = scenario.check_step(step) {
            return Outcome::Fail(e);
        }
    }
    if let Some(alternatives) = expect["any_of"].as_array() {
        let holding = alternatives
            .iter()
            .filter(|alt| {
                alt["steps"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .all(|step| scenario.check_step(step).is_ok())
            })
            .count();
        in_scope += alternatives.len();
        if holding != 1 {
            return Outcome::Fail(format!(
                "any_of: {holding} of {} alternatives hold (exactly one must)",
                alternatives.len()
            ));
        }
    }
    if in_scope == 0 {
        return Outcome::Skip(
            "every assertion is out of scope (README \"What is in scope\")".into(),
        );
    }
    Outcome::Pass
}

pub(super) fn count_in_scope(step: &Value) -> usize {
    step.as_object()
        .map(|m| {
            m.keys()
                .filter(|k| *k != "step" && !OUT_OF_SCOPE_KEYS.contains(&k.as_str()))
                .count()
        })
        .unwrap_or(0)
}

impl Scenario {
    /// A scenario with no state, for runners that keep the IPAM state elsewhere and lend it to
    /// the scenario for each operation.
    pub(super) fn empty() -> Scenario {
        Scenario {
            ipam: Ipam::new(),
            steps: Vec::new(),
            recorded: BTreeMap::new(),
            record_names: BTreeMap::new(),
        }
    }

    fn setup(input: &Value) -> Result<Scenario, String> {
        let mut ipam = Ipam::new();
        ipam.set_now(SCENARIO_NOW);
        ipam.set_pools(pools_from_json(&input["pools"])?);
        ipam.set_config(config_from_json(&input["ipam_config"], true));
        for node in input["nodes"].as_array().into_iter().flatten() {
            ipam.set_node(str_field(node, "name")?, labels(&node["labels"])?);
        }
        ipam.set_reservations(reservations_from_json(&input["reservations"]));
        let preexisting = &input["preexisting"];
        for block in preexisting["blocks"].as_array().into_iter().flatten() {
            ipam.insert_block(block_from_json(block, SCENARIO_NOW)?);
        }
        for affinity in preexisting["block_affinities"]
            .as_array()
            .into_iter()
            .flatten()
        {
            ipam.insert_affinity(BlockAffinity {
                host: str_field(affinity, "host")?.to_owned(),
                affinity_type: affinity["affinity_type"]
                    .as_str()
                    .unwrap_or("host")
                    .to_owned(),
                cidr: parse_net(str_field(affinity, "cidr")?)?,
                state: AffinityState::parse(affinity["state"].as_str().unwrap_or("confirmed")),
            });
        }
        Ok(Scenario {
            ipam,
            steps: Vec::new(),
            recorded: BTreeMap::new(),
            record_names: BTreeMap::new(),
        })
    }

    /// Resolves `ip` or `ip_from` of an operation argument.
    fn address(&self, value: &Value) -> Result<IpAddr, String> {
        if let Some(text) = value["ip"].as_str() {
            return parse_addr(text);
        }
        let from = &value["ip_from"];
        let step = usize_field(from, "step");
        let family = match from["family"].as_str() {
            Some("v6") => Family::V6,
            _ => Family::V4,
        };
        let index = usize_field(from, "index");
        self.steps
            .get(step)
            .and_then(|record| record.ips(family).get(index).map(IpNet::addr))
            .ok_or_else(|| format!("ip_from {from} refers to no address"))
    }

    /// A sequence number argument: a number, `$name` or `$name + k`.
    fn sequence_number(&self, value: &Value) -> Result<Option<u64>, String> {
        match value {
            Value::Null => Ok(None),
            Value::Number(n) => Ok(n.as_u64()),
            Value::String(text) => {
                let text = text.trim().trim_start_matches('$');
                let (name, add) = match text.split_once('+') {
                    Some((name, add)) => (
                        name.trim(),
                        add.trim()
                            .parse::<u64>()
                            .map_err(|_| format!("bad offset in {text}"))?,
                    ),
                    None => (text, 0),
                };
                self.recorded
                    .get(name)
                    .map(|v| Some(v.wrapping_add(add)))
                    .ok_or_else(|| format!("no recorded value `{name}`"))
            }
            other => Err(format!("bad sequence number {other}")),
        }
    }

    pub(super) fn apply(&mut self, op: &Value) -> Result<StepRecord, String> {
        let name = str_field(op, "op")?;
        match name {
            "auto_assign" => self.op_auto_assign(op),
            "assign_ip" => self.op_assign_ip(op),
            "release_ips" => self.op_release_ips(op),
            "release_by_handle" => {
                let result = self.ipam.release_by_handle(str_field(op, "handle")?);
                Ok(with_error(result.err()))
            }
            "ips_by_handle" => Ok(self.op_ips_by_handle(op)?),
            "get_assignment_attributes" => self.op_get_attributes(op),
            "get_sequence_number" => self.op_get_sequence_number(op),
            "ensure_block" => self.op_ensure_block(op),
            "claim_affinity" => self.op_claim_affinity(op),
            "release_affinity" | "release_block_affinity" => self.op_release_affinity(name, op),
            "release_host_affinities" => {
                let result = self.ipam.release_host_affinities(
                    str_field(op, "host")?,
                    bool_field(op, "require_empty"),
                );
                Ok(with_error(result.err()))
            }
            "release_pool_affinities" => {
                let cidr = parse_net(str_field(op, "cidr")?)?;
                Ok(with_error(self.ipam.release_pool_affinities(&cidr).err()))
            }
            "remove_ipam_host" => Ok(with_error(
                self.ipam.remove_ipam_host(str_field(op, "host")?).err(),
            )),
            "get_utilization" => Ok(self.op_get_utilization(op)),
            "get_ipam_config" => Ok(self.op_get_config()),
            "set_ipam_config" => {
                let result = self
                    .ipam
                    .set_ipam_config(config_from_json(&op["config"], false));
                Ok(with_error(result.err()))
            }
            "list_blocks" => Ok(self.op_list_blocks(op)),
            "list_block_affinities" => Ok(self.op_list_affinities(op)),
            "get_affine_blocks" => self.op_get_affine_blocks(op),
            "get_enabled_pools" => Ok(self.op_get_enabled_pools(op)),
            "set_pools" => {
                self.ipam.set_pools(pools_from_json(&op["pools"])?);
                self.sort_pools_like_the_mock();
                Ok(with_error(None))
            }
            "apply_pool" => {
                self.ipam.apply_pool(pool_from_json(&op["pool"])?);
                self.sort_pools_like_the_mock();
                Ok(with_error(None))
            }
            "delete_pool" => {
                self.ipam.delete_pool(&parse_net(str_field(op, "cidr")?)?);
                Ok(with_error(None))
            }
            "apply_node" => {
                self.ipam
                    .set_node(str_field(op, "name")?, labels(&op["labels"])?);
                Ok(with_error(None))
            }
            "set_reservations" => {
                self.ipam
                    .set_reservations(reservations_from_json(&op["reservations"]));
                Ok(with_error(None))
            }
            other => Err(format!(
                "operation `{other}` is not supported by the runner"
            )),
        }
    }

    /// The tests' mock pool accessor lists pools sorted by CIDR string.
    fn sort_pools_like_the_mock(&mut self) {
        let mut pools = self.ipam.pools().to_vec();
        pools.sort_by(|a, b| a.cidr_text.cmp(&b.cidr_text));
        self.ipam.set_pools(pools);
    }

    fn op_auto_assign(&mut self, op: &Value) -> Result<StepRecord, String> {
        let intended_use = match op["intended_use"].as_str().unwrap_or_default() {
            "" => None,
            text => Some(AllowedUse::parse(text).ok_or_else(|| format!("unknown use {text}"))?),
        };
        let args = AutoAssignArgs {
            num4: usize_field(op, "num4"),
            num6: usize_field(op, "num6"),
            handle: op["handle"].as_str().map(Into::into),
            attrs: string_map(&op["attrs"]),
            hostname: op["host"].as_str().unwrap_or_default().to_owned(),
            ipv4_pools: net_list(&op["ipv4_pools"])?,
            ipv6_pools: net_list(&op["ipv6_pools"])?,
            max_blocks_per_host: op["max_blocks_per_host"]
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0),
            host_reserved_attr_ipv4s: host_reserved_attr(&op["host_reserved_attr_ipv4s"]),
            host_reserved_attr_ipv6s: host_reserved_attr(&op["host_reserved_attr_ipv6s"]),
            intended_use,
            namespace: match &op["namespace"] {
                Value::Null => None,
                ns => Some(std::sync::Arc::new(labels(&ns["labels"])?)),
            },
            max_alloc_per_ip_version: op["max_alloc_to_handle_per_ip_version"]
                .as_u64()
                .and_then(|n| usize::try_from(n).ok()),
            windows_host: bool_field(op, "windows_host"),
        };
        let (v4, v6, result) = self.ipam.auto_assign(&args);
        let mut record = with_error(result.err());
        record.v4 = Some(v4);
        record.v6 = Some(v6);
        Ok(record)
    }

    fn op_assign_ip(&mut self, op: &Value) -> Result<StepRecord, String> {
        let mut args =
            AssignIpArgs::new(self.address(op)?, op["host"].as_str().unwrap_or_default());
        args.handle = op["handle"].as_str().map(Into::into);
        args.attrs = string_map(&op["attrs"]);
        args.intended_use = op["intended_use"].as_str().and_then(AllowedUse::parse);
        args.host_reserved_attr = host_reserved_attr(&op["host_reserved_attr"]);
        args.max_alloc_per_ip_version = op["max_alloc_to_handle_per_ip_version"]
            .as_u64()
            .and_then(|n| usize::try_from(n).ok());
        Ok(with_error(self.ipam.assign_ip(&args).err()))
    }

    fn op_release_ips(&mut self, op: &Value) -> Result<StepRecord, String> {
        let mut releases = Vec::new();
        for release in op["releases"].as_array().into_iter().flatten() {
            releases.push(ReleaseOptions {
                address: self.address(release)?,
                handle: release["handle"].as_str().map(str::to_owned),
                sequence_number: self.sequence_number(&release["sequence_number"])?,
            });
        }
        for step in op["releases_from_steps"].as_array().into_iter().flatten() {
            let record = step
                .as_u64()
                .and_then(|s| usize::try_from(s).ok())
                .and_then(|s| self.steps.get(s))
                .ok_or_else(|| format!("releases_from_steps: no step {step}"))?;
            for net in record
                .ips(Family::V4)
                .into_iter()
                .chain(record.ips(Family::V6))
            {
                releases.push(ReleaseOptions::address(net.addr()));
            }
        }
        let (done, result) = self.ipam.release_ips(&releases);
        let mut record = with_error(result.err());
        record
            .observed
            .insert("unallocated".into(), ip_strings(&done.unallocated));
        record
            .observed
            .insert("unallocated_count".into(), json!(done.unallocated.len()));
        record
            .observed
            .insert("released_count".into(), json!(done.released));
        Ok(record)
    }

    fn op_ips_by_handle(&mut self, op: &Value) -> Result<StepRecord, String> {
        let result = self.ipam.ips_by_handle(str_field(op, "handle")?);
        let mut record = with_error(result.as_ref().err().cloned());
        let ips = result.unwrap_or_default();
        record.observed.insert("count".into(), json!(ips.len()));
        record
            .observed
            .insert("ips".into(), sorted_ip_strings(&ips));
        Ok(record)
    }

    fn op_get_attributes(&mut self, op: &Value) -> Result<StepRecord, String> {
        let ip = self.address(op)?;
        let result = self.ipam.get_assignment_attributes(ip);
        let mut record = with_error(result.as_ref().err().cloned());
        match result {
            Ok((attrs, handle)) => {
                let attrs_json = json!(attrs);
                record
                    .observed
                    .insert("attributes".into(), attrs_json.clone());
                record
                    .observed
                    .insert("active_owner_attrs".into(), attrs_json);
                record
                    .observed
                    .insert("active_owner_attrs_empty".into(), json!(attrs.is_empty()));
                record.observed.insert("handle".into(), json!(handle));
            }
            Err(_) => {
                record.observed.insert("attributes".into(), Value::Null);
                record
                    .observed
                    .insert("active_owner_attrs".into(), Value::Null);
                record
                    .observed
                    .insert("active_owner_attrs_empty".into(), json!(true));
                record.observed.insert("handle".into(), Value::Null);
            }
        }
        Ok(record)
    }

    fn op_get_sequence_number(&mut self, op: &Value) -> Result<StepRecord, String> {
        let ip = self.address(op)?;
        let block = self
            .ipam
            .block_for_ip(ip)
            .ok_or_else(|| format!("no block holds {ip}"))?;
        let value = block
            .ip_to_ordinal(&ip)
            .map(|o| block.sequence_number_for_ordinal(o))
            .unwrap_or(0);
        let name = op["value_recorded_as"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| self.record_names.get(&self.steps.len()).cloned());
        if let Some(name) = name {
            self.recorded.insert(name, value);
        }
        let mut record = with_error(None);
        record.observed.insert("value".into(), json!(value));
        Ok(record)
    }

    fn op_ensure_block(&mut self, op: &Value) -> Result<StepRecord, String> {
        let args = EnsureBlockArgs {
            hostname: op["host"].as_str().unwrap_or_default().to_owned(),
            ipv4_pools: net_list(&op["ipv4_pools"])?,
            ipv6_pools: net_list(&op["ipv6_pools"])?,
            host_reserved_attr_ipv4s: host_reserved_attr(&op["host_reserved_attr_ipv4s"]),
            host_reserved_attr_ipv6s: host_reserved_attr(&op["host_reserved_attr_ipv6s"]),
        };
        let (v4, v6, result) = self.ipam.ensure_block(&args);
        let mut record = with_error(result.err());
        record.ensure_v4 = v4;
        record.ensure_v6 = v6;
        Ok(record)
    }

    fn op_claim_affinity(&mut self, op: &Value) -> Result<StepRecord, String> {
        let cidr = parse_net(str_field(op, "cidr")?)?;
        let result = self.ipam.claim_affinity(&cidr, str_field(op, "host")?);
        let mut record = with_error(result.as_ref().err().cloned());
        let (claimed, failed) = result.unwrap_or_default();
        record
            .observed
            .insert("claimed_count".into(), json!(claimed.len()));
        record
            .observed
            .insert("failed_count".into(), json!(failed.len()));
        Ok(record)
    }

    fn op_release_affinity(&mut self, name: &str, op: &Value) -> Result<StepRecord, String> {
        let step = usize_field(op, "block_from_step");
        let cidr = self
            .steps
            .get(step)
            .and_then(|r| match r.blocks.as_slice() {
                [single] => Some(*single),
                _ => None,
            })
            .ok_or_else(|| format!("block_from_step {step} did not list exactly one block"))?;
        let require_empty = bool_field(op, "require_empty");
        let result = if name == "release_affinity" {
            self.ipam
                .release_affinity(&cidr, str_field(op, "host")?, require_empty)
        } else {
            self.ipam.release_block_affinity(&cidr, require_empty)
        };
        Ok(with_error(result.err()))
    }

    fn op_get_utilization(&mut self, op: &Value) -> StepRecord {
        let wanted: Vec<String> = op["pools"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        let usage = self.ipam.get_utilization(&wanted);
        let mut record = with_error(None);
        record
            .observed
            .insert("pool_count".into(), json!(usage.len()));
        record.utilization = Some(usage);
        record
    }

    fn op_get_config(&mut self) -> StepRecord {
        let mut record = with_error(None);
        let config = config_to_json(&self.ipam.config());
        if let Value::Object(map) = &config {
            record.observed.extend(map.clone());
        }
        record.observed.insert("config".into(), config);
        record
    }

    fn op_list_blocks(&mut self, op: &Value) -> StepRecord {
        let family = family_of_version(&op["ip_version"]);
        let blocks = self.ipam.list_blocks(family);
        let mut record = with_error(None);
        record.blocks = blocks.iter().map(|b| b.cidr()).collect();
        record.observed.insert("count".into(), json!(blocks.len()));
        record.observed.insert(
            "affinities".into(),
            Value::Array(blocks.iter().map(|b| json!(b.affinity)).collect()),
        );
        record
    }

    fn op_list_affinities(&mut self, op: &Value) -> StepRecord {
        let affinities = self.ipam.list_affinities(
            op["host"].as_str(),
            op["affinity_type"].as_str(),
            family_of_version(&op["ip_version"]),
        );
        let mut record = with_error(None);
        record.blocks = affinities.iter().map(|a| a.cidr).collect();
        record
            .observed
            .insert("count".into(), json!(affinities.len()));
        record.observed.insert(
            "hosts".into(),
            Value::Array(affinities.iter().map(|a| json!(a.host)).collect()),
        );
        record.observed.insert(
            "affinities".into(),
            Value::Array(
                affinities
                    .iter()
                    .map(|a| json!(format!("{}:{}", a.affinity_type, a.host)))
                    .collect(),
            ),
        );
        record
    }

    fn op_get_affine_blocks(&mut self, op: &Value) -> Result<StepRecord, String> {
        let family = family_of_version(&op["ip_version"]).unwrap_or(Family::V4);
        let blocks = self.ipam.affine_blocks(str_field(op, "host")?, family);
        let mut record = with_error(None);
        record.observed.insert("count".into(), json!(blocks.len()));
        record.blocks = blocks;
        Ok(record)
    }

    fn op_get_enabled_pools(&mut self, op: &Value) -> StepRecord {
        let family = family_of_version(&op["ip_version"]).unwrap_or(Family::V4);
        let cidrs: Vec<Value> = self
            .ipam
            .enabled_pools(family)
            .iter()
            .map(|p| json!(p.cidr_text))
            .collect();
        let mut record = with_error(None);
        record.observed.insert("count".into(), json!(cidrs.len()));
        record.observed.insert("cidrs".into(), Value::Array(cidrs));
        record
    }

    // ----- Assertions -----

    fn check_step(&self, expected: &Value) -> Check {
        let index = expected["step"]
            .as_u64()
            .and_then(|s| usize::try_from(s).ok())
            .ok_or_else(|| format!("expectation without a step: {expected}"))?;
        let record = self
            .steps
            .get(index)
            .ok_or_else(|| format!("no step {index}"))?;
        let map = expected.as_object().cloned().unwrap_or_default();
        for (key, want) in &map {
            if key == "step" || OUT_OF_SCOPE_KEYS.contains(&key.as_str()) {
                continue;
            }
            self.check_key(record, key, want)
                .map_err(|e| format!("step {index}: {e}"))?;
        }
        Ok(())
    }

    pub(super) fn check_key(&self, record: &StepRecord, key: &str, want: &Value) -> Check {
        match key {
            "error" => expect_eq("error", want, &json!(record.error.is_some())),
            "error_contains" => {
                let message = error_message(record)?;
                let needle = want.as_str().unwrap_or_default();
                if message.contains(needle) {
                    Ok(())
                } else {
                    Err(format!("error_contains: `{needle}` not in `{message}`"))
                }
            }
            "error_equals" => expect_eq("error_equals", want, &json!(error_message(record)?)),
            "error_is" => {
                let name = want.as_str().unwrap_or_default();
                match &record.error {
                    Some(e) if e.is_sentinel(name) => Ok(()),
                    other => Err(format!("error_is {name}: got {other:?}")),
                }
            }
            "error_identifier" => expect_eq(
                key,
                want,
                &json!(record.error.as_ref().and_then(|e| e.identifier.clone())),
            ),
            "error_inner" => expect_eq(
                key,
                want,
                &json!(record.error.as_ref().and_then(|e| e.inner.clone())),
            ),
            "v4" => self.check_assignments(record, Family::V4, want),
            "v6" => self.check_assignments(record, Family::V6, want),
            "all_in" => {
                let cidr = parse_net(want.as_str().unwrap_or_default())?;
                match record.blocks.iter().find(|b| !cidr.contains(*b)) {
                    None => Ok(()),
                    Some(outside) => Err(format!("all_in {cidr}: {outside} is outside")),
                }
            }
            "covers_pools" => {
                for pool in net_list(want)? {
                    if !record.blocks.iter().any(|b| pool.contains(b)) {
                        return Err(format!("covers_pools: no listed block in {pool}"));
                    }
                }
                Ok(())
            }
            "v4_block_in" | "v6_block_in" => {
                let cidr = parse_net(want.as_str().unwrap_or_default())?;
                let block = if key == "v4_block_in" {
                    record.ensure_v4
                } else {
                    record.ensure_v6
                };
                match block {
                    Some(b) if cidr.contains(&b) => Ok(()),
                    other => Err(format!("{key} {cidr}: got {other:?}")),
                }
            }
            "v4_block_same_as_step" => {
                let other = want
                    .as_u64()
                    .and_then(|s| usize::try_from(s).ok())
                    .and_then(|s| self.steps.get(s))
                    .and_then(|r| r.ensure_v4);
                if other.is_some() && other == record.ensure_v4 {
                    Ok(())
                } else {
                    Err(format!(
                        "v4_block_same_as_step: {:?} vs {other:?}",
                        record.ensure_v4
                    ))
                }
            }
            "pools" => check_utilization_pools(record, want),
            "ips" | "unallocated" => {
                let mut expected: Vec<IpAddr> = want
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(parse_addr)
                    .collect::<Result<_, _>>()?;
                expected.sort();
                let have = record.observed.get(key).cloned().unwrap_or(Value::Null);
                expect_eq(key, &ip_strings(&expected), &have)
            }
            "has_block_in_use" | "lacks_block_in_use" => check_block_in_use(record, key, want),
            "equals" => {
                let have = record
                    .observed
                    .get("config")
                    .cloned()
                    .unwrap_or(Value::Null);
                let mut full = config_from_json(want, false);
                if want.get("autoAllocateBlocks").is_none() {
                    full.auto_allocate_blocks = false;
                }
                expect_eq("equals", &config_to_json(&full), &have)
            }
            _ => match record.observed.get(key) {
                Some(have) => expect_eq(key, want, have),
                None => Err(format!(
                    "assertion `{key}` is not handled for this operation"
                )),
            },
        }
    }

    fn check_assignments(&self, record: &StepRecord, family: Family, want: &Value) -> Check {
        let label = if family == Family::V4 { "v4" } else { "v6" };
        let result = match family {
            Family::V4 => record.v4.as_ref(),
            Family::V6 => record.v6.as_ref(),
        }
        .ok_or_else(|| format!("{label}: the step returned no assignment result"))?;
        let Some(map) = want.as_object() else {
            return Err(format!("{label}: expectation is not an object"));
        };
        if let Some(null) = map.get("null") {
            expect_eq(&format!("{label}.null"), null, &json!(result.is_none()))?;
        }
        let keys: Vec<&String> = map.keys().filter(|k| *k != "null").collect();
        if keys.is_empty() {
            return Ok(());
        }
        let Some(assignments) = result else {
            return Err(format!("{label}: result is nil but {keys:?} are asserted"));
        };
        let ips: Vec<IpAddr> = assignments.ips.iter().map(IpNet::addr).collect();
        for (key, want) in map.iter().filter(|(k, _)| *k != "null") {
            let what = format!("{label}.{key}");
            match key.as_str() {
                "count" => expect_eq(&what, want, &json!(ips.len()))?,
                "num_requested" => expect_eq(&what, want, &json!(assignments.num_requested))?,
                "ip_version" => expect_eq(&what, want, &json!(assignments.ip_version))?,
                "host_reserved_attr" => {
                    let have = assignments
                        .host_reserved_attr
                        .as_ref()
                        .map(|a| a.handle.clone());
                    if want.is_null() {
                        expect_eq(&what, want, &json!(have))?;
                    } else {
                        expect_eq(&what, &want["handle"], &json!(have))?;
                    }
                }
                "msgs" => {
                    let have = if assignments.msgs.is_empty() {
                        Value::Null
                    } else {
                        json!(assignments.msgs)
                    };
                    expect_eq(&what, want, &have)?;
                }
                "all_in" => {
                    let cidr = parse_net(want.as_str().unwrap_or_default())?;
                    if let Some(outside) = ips.iter().find(|ip| !cidr.contains(*ip)) {
                        return Err(format!("{what} {cidr}: {outside} is outside"));
                    }
                }
                "none_of" => {
                    for forbidden in want
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                    {
                        let forbidden = parse_addr(forbidden)?;
                        if ips.contains(&forbidden) {
                            return Err(format!("{what}: {forbidden} was handed out"));
                        }
                    }
                }
                "same_as_step" => {
                    let other = self.step_addrs(want, family)?;
                    let mine: BTreeSet<IpAddr> = ips.iter().copied().collect();
                    if mine != other {
                        return Err(format!("{what}: {mine:?} vs {other:?}"));
                    }
                }
                "distinct_from_steps" | "one_of_steps" => {
                    let mut union = BTreeSet::new();
                    for step in want.as_array().into_iter().flatten() {
                        union.extend(self.step_addrs(step, family)?);
                    }
                    let wanted_inside = key == "one_of_steps";
                    if let Some(bad) = ips.iter().find(|ip| union.contains(*ip) != wanted_inside) {
                        return Err(format!("{what}: {bad} against {union:?}"));
                    }
                }
                "in_same_block_as_step" => {
                    let block = want
                        .as_u64()
                        .and_then(|s| usize::try_from(s).ok())
                        .and_then(|s| self.steps.get(s))
                        .and_then(|r| r.ips(family).first().map(|n| n.trunc()))
                        .ok_or_else(|| format!("{what}: referenced step has no address"))?;
                    if let Some(bad) = ips.iter().find(|ip| !block.contains(*ip)) {
                        return Err(format!("{what}: {bad} not in {block}"));
                    }
                }
                other => return Err(format!("{label}: assertion `{other}` is not handled")),
            }
        }
        Ok(())
    }

    fn step_addrs(&self, step: &Value, family: Family) -> Result<BTreeSet<IpAddr>, String> {
        step.as_u64()
            .and_then(|s| usize::try_from(s).ok())
            .and_then(|s| self.steps.get(s))
            .map(|r| r.ips(family).iter().map(IpNet::addr).collect())
            .ok_or_else(|| format!("no step {step}"))
    }
}

fn with_error(error: Option<IpamError>) -> StepRecord {
    StepRecord {
        error,
        ..StepRecord::default()
    }
}

fn error_message(record: &StepRecord) -> Result<String, String> {
    record
        .error
        .as_ref()
        .map(|e| e.message.clone())
        .ok_or_else(|| "an error was expected, none happened".to_owned())
}

fn utilization_counters(
    capacity: u128,
    in_use: u128,
    reserved: u128,
    available: u128,
) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("capacity".into(), json!(saturate_i64(capacity)));
    map.insert("inUse".into(), json!(saturate_i64(in_use)));
    map.insert("reserved".into(), json!(saturate_i64(reserved)));
    map.insert("available".into(), json!(saturate_i64(available)));
    map
}

fn check_utilization_pools(record: &StepRecord, want: &Value) -> Check {
    let usage = record
        .utilization
        .as_ref()
        .ok_or("`pools` asserted on a step that is not get_utilization")?;
    // `pool_count` asserts the length; `pools` describes the leading entries.
    let expected = want.as_array().cloned().unwrap_or_default();
    if expected.len() > usage.len() {
        return Err(format!(
            "pools: expected {} pools, got {}",
            expected.len(),
            usage.len()
        ));
    }
    for (index, (want_pool, pool)) in expected.iter().zip(usage).enumerate() {
        let mut observed =
            utilization_counters(pool.capacity, pool.in_use, pool.reserved, pool.available);
        observed.insert("block_count".into(), json!(pool.blocks.len()));
        observed.insert("name".into(), json!(pool.name));
        observed.insert("cidr".into(), json!(pool.cidr.to_string()));
        for (key, value) in want_pool.as_object().into_iter().flatten() {
            if key == "blocks" {
                check_utilization_blocks(index, pool, value)?;
                continue;
            }
            match observed.get(key) {
                Some(have) => expect_eq(&format!("pools[{index}].{key}"), value, have)?,
                None => return Err(format!("pools[{index}]: assertion `{key}` is not handled")),
            }
        }
    }
    Ok(())
}

fn check_utilization_blocks(index: usize, pool: &PoolUtilization, want: &Value) -> Check {
    // `block_count` asserts the length; `blocks` describes the leading entries.
    let expected = want.as_array().cloned().unwrap_or_default();
    if expected.len() > pool.blocks.len() {
        return Err(format!(
            "pools[{index}].blocks: expected {}, got {}",
            expected.len(),
            pool.blocks.len()
        ));
    }
    for (b, (want_block, block)) in expected.iter().zip(&pool.blocks).enumerate() {
        let mut observed = utilization_counters(
            block.capacity,
            block.in_use,
            block.reserved,
            block.available,
        );
        observed.insert("cidr".into(), json!(block.cidr.to_string()));
        for (key, value) in want_block.as_object().into_iter().flatten() {
            match observed.get(key) {
                Some(have) => expect_eq(&format!("pools[{index}].blocks[{b}].{key}"), value, have)?,
                None => {
                    return Err(format!(
                        "pools[{index}].blocks[{b}]: `{key}` is not handled"
                    ))
                }
            }
        }
    }
    Ok(())
}

fn check_block_in_use(record: &StepRecord, key: &str, want: &Value) -> Check {
    let usage = record
        .utilization
        .as_ref()
        .ok_or_else(|| format!("`{key}` asserted on a step that is not get_utilization"))?;
    let present = key == "has_block_in_use";
    for item in want.as_array().into_iter().flatten() {
        let cidr = item["cidr"].as_str().unwrap_or_default();
        let in_use = item["inUse"].as_u64().map(u128::from);
        let found = usage
            .iter()
            .flat_map(|p| &p.blocks)
            .any(|b| b.cidr.to_string() == cidr && in_use.is_none_or(|n| n == b.in_use));
        if found != present {
            return Err(format!("{key}: {item} present={found}"));
        }
    }
    Ok(())
}

// ----- kind: determine_pools -----

fn check_determine_pools(input: &Value, expect: &Value) -> Check {
    let mut ipam = Ipam::new();
    ipam.set_pools(pools_from_json(&input["pools"])?);
    let family = family_of_version(&input["ip_version"]).ok_or("bad ip_version")?;
    let node_labels = labels(&input["node"]["labels"])?;
    let namespace = match &input["namespace"] {
        Value::Null => None,
        ns => Some(labels(&ns["labels"])?),
    };
    let requested = net_list(&input["requested_pools"])?;
    let result = ipam.determine_pools(
        &requested,
        family,
        &node_labels,
        namespace.as_ref(),
        family.bits(),
    );
    let (pools, enabled_count) = match &result {
        Ok(d) => (
            d.pools
                .iter()
                .map(|p| p.cidr_text.clone())
                .collect::<Vec<_>>(),
            d.enabled_count,
        ),
        Err(_) => (Vec::new(), ipam.enabled_pools(family).len()),
    };
    let mut observed = Map::new();
    observed.insert("error".into(), json!(result.is_err()));
    observed.insert("pools".into(), json!(pools));
    observed.insert("enabled_pool_count".into(), json!(enabled_count));
    let mut sorted = pools.clone();
    sorted.sort();
    observed.insert("pools_unordered".into(), json!(sorted));
    let mut expect = expect.clone();
    if let Some(list) = expect
        .get_mut("pools_unordered")
        .and_then(Value::as_array_mut)
    {
        list.sort_by_key(Value::to_string);
    }
    check_generic_step(&expect, &observed)
}

// ----- kind: partial_fulfillment_error -----

fn check_partial_fulfillment(input: &Value, expect: &Value) -> Check {
    let version = input["ip_version"].as_u64().unwrap_or(4);
    let family = if version == 6 { Family::V6 } else { Family::V4 };
    let placeholder = IpNet::new(
        if family == Family::V6 {
            "::".parse().map_err(|_| "ip")?
        } else {
            "0.0.0.0".parse().map_err(|_| "ip")?
        },
        family.bits(),
    )
    .map_err(|e| e.to_string())?;
    let assignments = IpamAssignments {
        ips: vec![placeholder; usize_field(input, "ip_count")],
        ip_version: family.version(),
        num_requested: usize_field(input, "num_requested"),
        host_reserved_attr: host_reserved_attr(&input["host_reserved_attr"]),
        msgs: input["msgs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
    };
    let error = assignments.partial_fulfillment_error();
    let mut observed = Map::new();
    observed.insert("error".into(), json!(error.is_some()));
    observed.insert("error_equals".into(), json!(error));
    check_generic_step(expect, &observed)
}

// ----- kind: block -----

const BLOCK_NOW: i64 = 1_000_000;

fn check_block_case(input: &Value, expect: &Value) -> Check {
    let mut block = block_from_json(&input["block"], BLOCK_NOW)?;
    let check_consistency = bool_field(expect, "block_consistent_after_each_mutation");
    let mut results = Vec::new();
    for (index, op) in input["operations"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let observed = block_op(&mut block, op).map_err(|e| format!("step {index}: {e}"))?;
        if check_consistency && !block.is_consistent() {
            return Err(format!(
                "step {index}: block is inconsistent after the operation"
            ));
        }
        results.push(observed);
    }
    for step in expect["steps"].as_array().into_iter().flatten() {
        let index = usize_field(step, "step");
        let observed = results
            .get(index)
            .ok_or_else(|| format!("no step {index}"))?;
        check_generic_step(step, observed).map_err(|e| format!("step {index}: {e}"))?;
    }
    Ok(())
}

fn release_options(value: &Value) -> Result<Vec<ReleaseOptions>, String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            Ok(ReleaseOptions {
                address: parse_addr(str_field(r, "ip")?)?,
                handle: r["handle"].as_str().map(str::to_owned),
                sequence_number: r["sequence_number"].as_u64(),
            })
        })
        .collect()
}

fn cooldown_of(op: &Value) -> i64 {
    op["config"]["ip_cooldown_seconds"]
        .as_i64()
        .or_else(|| op["cooldown_seconds"].as_i64())
        .unwrap_or(0)
}

fn block_op(block: &mut Block, op: &Value) -> Result<Map<String, Value>, String> {
    let mut observed = Map::new();
    let name = str_field(op, "op")?;
    match name {
        "empty" => {
            observed.insert("value".into(), json!(block.empty()));
        }
        "in_use_ips" => {
            let ips = block.in_use_ips();
            observed.insert("count".into(), json!(ips.len()));
            observed.insert("value".into(), ip_strings(&ips));
        }
        "num_free_addresses" => {
            let reservations = reservation_texts(&op["reservations"]);
            observed.insert("value".into(), json!(block.free_count(&reservations)));
        }
        "num_reserved_addresses" => {
            let reservations = reservation_texts(&op["reservations"]);
            observed.insert("value".into(), json!(block.reserved_count(&reservations)));
        }
        "ips_by_handle" => {
            let ips = block.ips_by_handle(str_field(op, "handle")?);
            observed.insert("count".into(), json!(ips.len()));
            observed.insert("value".into(), ip_strings(&ips));
        }
        "allocation_attributes_for_ip" => {
            let ip = parse_addr(str_field(op, "ip")?)?;
            match block.attributes_for_ip(&ip) {
                Ok(attr) => {
                    let fields = json!({
                        "handle_id": attr.handle_id.as_deref(),
                        "active_owner_attrs": attr.active_owner_attrs,
                        "alternate_owner_attrs": attr.alternate_owner_attrs,
                    });
                    observed.insert("error".into(), json!(false));
                    if let Value::Object(map) = &fields {
                        observed.extend(map.clone());
                    }
                    observed.insert("handle".into(), json!(attr.handle_id.as_deref()));
                    observed.insert("attributes".into(), fields);
                }
                Err(e) => {
                    observed.insert("error".into(), json!(true));
                    observed.insert("error_message".into(), json!(e.message));
                    observed.insert("attributes".into(), Value::Null);
                }
            }
        }
        "release" => {
            let releases = release_options(&op["releases"])?;
            match block.release(&releases, BLOCK_NOW, cooldown_of(op)) {
                Ok(done) => {
                    observed.insert("error".into(), json!(false));
                    observed.insert("unallocated".into(), ip_strings(&done.unallocated));
                    observed.insert("count_by_handle".into(), json!(done.count_by_handle));
                }
                Err(e) => {
                    observed.insert("error".into(), json!(true));
                    observed.insert("error_message".into(), json!(e.message));
                }
            }
        }
        "release_by_handle" => {
            let released = block.release_by_handle(
                str_field(op, "handle")?,
                op["sequence_number"].as_u64(),
                BLOCK_NOW,
                cooldown_of(op),
            );
            observed.insert("released".into(), json!(released));
        }
        "allocated_ordinals" => {
            let ordinals = block.allocated_ordinals();
            observed.insert("count".into(), json!(ordinals.len()));
            observed.insert("value".into(), json!(ordinals));
        }
        "unallocated_tail" => {
            let all: Vec<usize> = block.unallocated().collect();
            let n = usize_field(op, "n").min(all.len());
            let tail = all.get(all.len() - n..).unwrap_or_default();
            observed.insert("count".into(), json!(tail.len()));
            observed.insert("value".into(), json!(tail));
        }
        "garbage_collect" => {
            let changed = block.garbage_collect(BLOCK_NOW, cooldown_of(op));
            observed.insert("changed".into(), json!(changed));
        }
        "attributes_count" => {
            observed.insert("value".into(), json!(block.attributes().len()));
        }
        other => return Err(format!("block operation `{other}` is not supported")),
    }
    Ok(observed)
}

// ----- small kinds -----

fn check_reservation_filter(input: &Value, expect: &Value) -> Check {
    let reservations = reservation_texts(&input["reserved_cidrs"]);
    let mut observed = Map::new();
    if let Some(ip) = input["ip"].as_str() {
        observed.insert(
            "matches".into(),
            json!(reservations.matches_ip(&parse_addr(ip)?)),
        );
    }
    if let Some(cidr) = input["cidr"].as_str() {
        let cidr = parse_net(cidr)?.trunc();
        observed.insert(
            "matches_whole_cidr".into(),
            json!(reservations.matches_whole_cidr(&cidr)),
        );
        observed.insert(
            "matches_some".into(),
            json!(reservations.matches_some(&cidr)),
        );
    }
    check_generic_step(expect, &observed)
}

fn check_pool_space(input: &Value, expect: &Value) -> Check {
    let pool = parse_net(str_field(input, "pool_cidr")?)?.trunc();
    let reservations = reservation_texts(&input["reservations"]);
    let blocks = net_list(&input["blocks"])?;
    let space = PoolSpace::compute(&pool, &reservations, &blocks);
    let mut observed = Map::new();
    observed.insert("capacity".into(), json!(saturate_i64(space.capacity)));
    observed.insert("reserved".into(), json!(saturate_i64(space.reserved)));
    observed.insert(
        "available_outside_blocks".into(),
        json!(saturate_i64(space.available_outside_blocks)),
    );
    observed.insert(
        "num_reserved_ips_in_cidr".into(),
        json!(saturate_i64(space.reserved)),
    );
    check_generic_step(expect, &observed)
}

fn check_reservation_dedupe(input: &Value, expect: &Value) -> Check {
    let observed_cidrs = match &input["cidrs"] {
        Value::Null => Value::Null,
        list => {
            let cidrs = net_list(list)?;
            json!(dedupe_cidrs(&cidrs)
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>())
        }
    };
    let mut observed = Map::new();
    observed.insert("cidrs".into(), observed_cidrs);
    check_generic_step(expect, &observed)
}

fn check_reserved_cidrs(input: &Value, expect: &Value) -> Check {
    let texts = input["reservedCIDRs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str);
    let cidrs: Vec<String> = parse_reserved_cidrs(texts)
        .iter()
        .map(ToString::to_string)
        .collect();
    let mut observed = Map::new();
    observed.insert("cidrs".into(), json!(cidrs));
    check_generic_step(expect, &observed)
}

/// The most blocks a `block_enumeration` case may walk; the cases use tiny pools.
const MAX_ENUMERATED_BLOCKS: usize = 1 << 20;

fn check_block_enumeration(input: &Value, expect: &Value) -> Check {
    let pool = parse_net(str_field(&input["pool"], "cidr")?)?;
    let block_size = input["pool"]["blockSize"]
        .as_u64()
        .and_then(|n| u8::try_from(n).ok())
        .ok_or("bad blockSize")?;
    let host = input["host"].as_str().unwrap_or_default();
    let blocks: Vec<IpNet> = block_rotation(pool, block_size, host)
        .take(MAX_ENUMERATED_BLOCKS)
        .collect();
    let distinct: BTreeSet<&IpNet> = blocks.iter().collect();
    let within = blocks.iter().all(|b| pool.trunc().contains(b));
    let prefixes: BTreeSet<u8> = blocks.iter().map(IpNet::prefix_len).collect();
    let mut observed = Map::new();
    observed.insert("block_count".into(), json!(distinct.len()));
    observed.insert(
        "all_blocks_within_pool".into(),
        json!(within && distinct.len() == blocks.len()),
    );
    observed.insert(
        "block_prefix_length".into(),
        match prefixes.iter().collect::<Vec<_>>().as_slice() {
            [single] => json!(single),
            _ => Value::Null,
        },
    );
    check_generic_step(expect, &observed)
}
