//! A static address for one pod (spec §2.4, §3.7, user pains 2, 5, 11, 12, 15): the
//! `cni.projectcalico.org/ipAddrs` annotation with an address automatic assignment cannot take.
//!
//! The address is free in the simulation (no pod, tunnel, cooldown or Windows reservation holds
//! it, and no IPReservation covers it) and protected: either its pool is never used implicitly
//! (`assignmentMode: Manual` or `nodeSelector: !all()`), or an IPReservation of exactly that
//! address comes with it (a /32 or /128 reservation is the deliberate protection and does not
//! trigger `static-ip-reserved`). With strict affinity the address lies in a block affine to the
//! pod's node or in an unclaimed block, because AssignIP refuses any other (spec §3.9).
//!
//! Only claimed blocks and the first unclaimed block CIDRs are searched, never a whole pool.

use std::collections::HashSet;
use std::net::IpAddr;

use ipnet::IpNet;

use super::{edit, new_problems, problems, resource_name, GenerateError, Generated};
use crate::model::annotations::IP_ADDRS;
use crate::model::{Model, Pool, Replicas, WorkloadKind};
use crate::net::{AllowedUse, AssignmentMode};
use crate::simulate::Simulation;
use crate::Source;

/// How many addresses are tried (each one is checked by a full planner run) before giving up.
const MAX_ATTEMPTS: usize = 6;

/// How many unclaimed block CIDRs of the pool are looked at.
const UNCLAIMED_BLOCKS: usize = 2;

/// Which pod gets the address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StaticIpTarget {
    /// A Pod of the input, or a one-replica workload (its template gets the annotation).
    Existing { namespace: String, name: String },
    /// A new Pod, created after everything in the input, on `node`.
    NewPod {
        namespace: String,
        name: String,
        node: String,
    },
}

/// Where the address comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StaticIpPool {
    /// A pool of the input, by name. Unless it is Manual or `!all()`, an IPReservation of the
    /// address is generated too.
    Existing(String),
    /// A new pool for static addresses (`assignmentMode: Manual`, `allowedUses: [Workload]`,
    /// `nodeSelector: !all()`) with this name and CIDR; it must overlap no pool of the input.
    NewManual { name: String, cidr: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaticIpRequest {
    pub target: StaticIpTarget,
    pub pool: StaticIpPool,
}

/// The pod the address is for, and how to write the annotation.
struct Target {
    /// `namespace/name` of the pod as the simulation names it.
    label: String,
    node: String,
    kind: TargetKind,
    /// The `ipAddrs` value the pod already carries, which the new address replaces.
    current: Option<String>,
    /// The edit that sets the annotation on an existing document, or the new Pod's manifest.
    placement: Placement,
}

enum TargetKind {
    Pod,
    Template,
}

enum Placement {
    /// The document's mapping that gets `metadata.annotations.<ipAddrs>`.
    Existing(crate::yaml::Node),
    New {
        namespace: String,
        name: String,
    },
}

pub(super) fn generate(input: &str, request: &StaticIpRequest) -> Result<Generated, GenerateError> {
    let (analysis, simulation) = crate::plan(&[Source::new(None, input)]);
    let model = &analysis.model;
    let target = resolve_target(&analysis, &simulation, &request.target)?;
    let (pool, new_pool_text) = resolve_pool(model, &request.pool)?;
    let protected =
        pool.assignment_mode == AssignmentMode::Manual || pool.node_selector.trim() == "!all()";
    let strict = model.ipam_config().strict_affinity;
    let candidates = candidates(model, &simulation, &pool, &target.node, strict);
    // `check` reports exactly the plan's diagnostics, so the input's own problems are known.
    let baseline = problems(&simulation.diagnostics);
    let context = Context {
        input,
        model,
        baseline: &baseline,
        target: &target,
        pool: &pool,
        protected,
        new_pool_text: new_pool_text.as_deref(),
    };
    let mut first: Option<Generated> = None;
    for (ip, block_note) in candidates.into_iter().take(MAX_ATTEMPTS) {
        let generated = build(&context, ip, block_note)?;
        if generated.is_clean() {
            return Ok(generated);
        }
        first.get_or_insert(generated);
    }
    first.ok_or_else(|| {
        GenerateError::new(format!(
            "pool {} has no free address for {} on {}{}: every address of its claimed blocks is in use or reserved, and it has no unclaimed block left",
            pool.name,
            target.label,
            target.node,
            if strict { " (strict affinity allows only blocks affine to that node or unclaimed ones)" } else { "" }
        ))
    })
}

fn resolve_target(
    analysis: &crate::Analysis,
    simulation: &Simulation,
    target: &StaticIpTarget,
) -> Result<Target, GenerateError> {
    let model = &analysis.model;
    match target {
        StaticIpTarget::NewPod {
            namespace,
            name,
            node,
        } => {
            let (namespace, name, node) = (namespace.trim(), name.trim(), node.trim());
            if name.is_empty() || node.is_empty() {
                return Err(GenerateError::new("a new pod needs a name and a node"));
            }
            let namespace = if namespace.is_empty() {
                "default"
            } else {
                namespace
            };
            if model
                .pods
                .iter()
                .any(|p| p.namespace() == namespace && p.name() == name)
            {
                return Err(GenerateError::new(format!(
                    "pod {namespace}/{name} is already in the input; choose it as an existing pod instead"
                )));
            }
            Ok(Target {
                label: format!("{namespace}/{name}"),
                node: node.to_owned(),
                kind: TargetKind::Pod,
                current: None,
                placement: Placement::New {
                    namespace: namespace.to_owned(),
                    name: name.to_owned(),
                },
            })
        }
        StaticIpTarget::Existing { namespace, name } => {
            let (namespace, name) = (namespace.trim(), name.trim());
            let document = |origin: &crate::model::Origin| {
                analysis
                    .documents
                    .iter()
                    .find(|d| d.pos == origin.pos && d.file == origin.file)
                    .map(|d| d.node.clone())
            };
            let node_of = |pod: &str| {
                simulation
                    .pods
                    .iter()
                    .find(|p| p.namespace == namespace && p.name == pod)
                    .map(|p| p.node.clone())
            };
            if let Some(pod) = model
                .pods
                .iter()
                .find(|p| p.namespace() == namespace && p.name() == name)
            {
                if pod.spec.host_network {
                    return Err(GenerateError::new(format!(
                        "pod {namespace}/{name} uses the host network, so the CNI plugin never gives it an address"
                    )));
                }
                let root = document(&pod.origin)
                    .ok_or_else(|| GenerateError::new("the pod's document was not found"))?;
                return Ok(Target {
                    label: format!("{namespace}/{name}"),
                    node: node_of(name).unwrap_or_default(),
                    kind: TargetKind::Pod,
                    current: pod.meta.annotation(IP_ADDRS).map(|v| v.value.clone()),
                    placement: Placement::Existing(root),
                });
            }
            let workload = model
                .workloads
                .iter()
                .find(|w| w.namespace() == namespace && w.name() == name)
                .ok_or_else(|| {
                    GenerateError::new(format!(
                        "the input has no Pod or workload {namespace}/{name}"
                    ))
                })?;
            if workload.replicas != Replicas::Count(1) {
                return Err(GenerateError::new(format!(
                    "{} {namespace}/{name} yields more than one pod (or none); a static address belongs to exactly one pod, so use one Pod or one-replica workload per address",
                    workload.origin.kind
                )));
            }
            if workload.template.spec.host_network {
                return Err(GenerateError::new(format!(
                    "{} {namespace}/{name} uses the host network, so the CNI plugin never gives its pod an address",
                    workload.origin.kind
                )));
            }
            let root = document(&workload.origin)
                .ok_or_else(|| GenerateError::new("the workload's document was not found"))?;
            let template_path: &[&str] = match workload.kind {
                WorkloadKind::CronJob => &["spec", "jobTemplate", "spec", "template"],
                _ => &["spec", "template"],
            };
            let template = root.at(template_path).cloned().ok_or_else(|| {
                GenerateError::new(format!(
                    "{} {namespace}/{name} has no pod template to annotate",
                    workload.origin.kind
                ))
            })?;
            Ok(Target {
                label: format!("{namespace}/{name}"),
                node: node_of(&format!("{name}-0")).unwrap_or_default(),
                kind: TargetKind::Template,
                current: workload
                    .template
                    .meta
                    .annotation(IP_ADDRS)
                    .map(|v| v.value.clone()),
                placement: Placement::Existing(template),
            })
        }
    }
}

/// The pool the address comes from, and the manifest of a new one.
fn resolve_pool(
    model: &Model,
    choice: &StaticIpPool,
) -> Result<(Pool, Option<String>), GenerateError> {
    match choice {
        StaticIpPool::Existing(name) => {
            let pool = model
                .effective_pools()
                .into_iter()
                .find(|p| p.name == name.trim())
                .ok_or_else(|| {
                    GenerateError::new(format!(
                        "the input has no valid IP pool named {}",
                        name.trim()
                    ))
                })?;
            if pool.disabled {
                return Err(GenerateError::new(format!(
                    "pool {} is disabled; Calico gives no address from a disabled pool",
                    pool.name
                )));
            }
            if !pool.allows(AllowedUse::Workload) {
                return Err(GenerateError::new(format!(
                    "pool {} does not allow Workload addresses (allowedUses), so a pod cannot have one of its addresses",
                    pool.name
                )));
            }
            Ok((pool, None))
        }
        StaticIpPool::NewManual { name, cidr } => {
            let cidr = super::reserve::new_pool_cidr(model, cidr)?;
            let name = name.trim();
            let taken: Vec<&str> = model.pools.iter().map(|p| p.name()).collect();
            let name = if name.is_empty() {
                resource_name("static", &cidr.to_string(), &taken)
            } else if taken.contains(&name) {
                return Err(GenerateError::new(format!(
                    "the input already has a pool named {name}"
                )));
            } else {
                name.to_owned()
            };
            let block_size = super::reserve::block_size_for(cidr);
            let pool = Pool {
                name: name.clone(),
                cidr,
                block_size,
                ipip_mode: Default::default(),
                vxlan_mode: Default::default(),
                nat_outgoing: false,
                disabled: false,
                disable_bgp_export: false,
                node_selector: "!all()".into(),
                namespace_selector: String::new(),
                allowed_uses: vec![AllowedUse::Workload],
                assignment_mode: AssignmentMode::Manual,
            };
            let text = super::reserve::manual_pool_manifest(&name, cidr, block_size);
            Ok((pool, Some(text)))
        }
    }
}

/// Free, unreserved addresses of `pool` for a pod on `node`, best first, found lazily: blocks
/// affine to the node, then the first unclaimed block CIDRs, then (without strict affinity) the
/// blocks of other nodes. Each comes with a sentence on where it is.
fn candidates(
    model: &Model,
    simulation: &Simulation,
    pool: &Pool,
    node: &str,
    strict: bool,
) -> Vec<(IpAddr, String)> {
    let reservations: Vec<IpNet> = model
        .reservations
        .iter()
        .flat_map(|r| r.effective_cidrs())
        .collect();
    let reserved = |ip: &IpAddr| reservations.iter().any(|r| r.contains(ip));
    // Every address the simulation hands out, whether or not its block is in this pool.
    let mut taken: HashSet<IpAddr> = simulation
        .blocks
        .iter()
        .flat_map(|b| b.used.iter().map(|(ip, _)| *ip))
        .collect();
    taken.extend(simulation.pods.iter().flat_map(|p| p.ips.iter().copied()));
    taken.extend(simulation.tunnels.iter().map(|t| t.ip));
    let affinity = format!("host:{node}");
    let blocks: Vec<_> = simulation
        .blocks
        .iter()
        .filter(|b| b.pool == pool.name)
        .collect();
    let claimed: HashSet<IpNet> = simulation
        .blocks
        .iter()
        .filter_map(|b| b.cidr.parse().ok())
        .collect();
    let mut found = Vec::new();
    let wanted = super::static_ip::MAX_ATTEMPTS;
    let free_in_claimed =
        |block: &crate::simulate::BlockView, found: &mut Vec<(IpAddr, String)>, why: &str| {
            for (ip, used, in_reservation) in block.addresses() {
                if found.len() >= wanted {
                    return;
                }
                if used.is_none() && !in_reservation && !taken.contains(&ip) && !reserved(&ip) {
                    found.push((
                        ip,
                        format!(
                            "{ip} is a free address of {why} {} in pool {}",
                            block.cidr, pool.name
                        ),
                    ));
                }
            }
        };
    for block in blocks
        .iter()
        .filter(|b| b.affinity.as_deref() == Some(affinity.as_str()))
    {
        free_in_claimed(block, &mut found, &format!("{node}'s block"));
    }
    for block in unclaimed_blocks(pool, &claimed).take(UNCLAIMED_BLOCKS) {
        for ip in addresses(block) {
            if found.len() >= wanted {
                break;
            }
            if !taken.contains(&ip) && !reserved(&ip) {
                found.push((
                    ip,
                    format!(
                        "{ip} is in block {block} of pool {}, which no node has claimed yet; the pod's static assignment creates it affine to {node}",
                        pool.name
                    ),
                ));
            }
        }
    }
    if !strict {
        for block in blocks
            .iter()
            .filter(|b| b.affinity.as_deref() != Some(affinity.as_str()))
        {
            let owner = block
                .affinity
                .as_deref()
                .and_then(|a| a.strip_prefix("host:"))
                .map_or_else(
                    || "the unaffine block".to_owned(),
                    |n| format!("{n}'s block"),
                );
            free_in_claimed(block, &mut found, &owner);
        }
    }
    found.truncate(wanted);
    found
}

/// The block CIDRs of `pool` no block of the simulation occupies, in address order. Lazy: it
/// walks at most as many block indices as there are claimed blocks plus those taken.
fn unclaimed_blocks<'c>(
    pool: &Pool,
    claimed: &'c HashSet<IpNet>,
) -> impl Iterator<Item = IpNet> + 'c {
    let net = pool.net();
    let block_prefix = pool.block_size.prefix_len();
    let bits = u32::from(crate::net::Family::of_net(&net).bits());
    let step = 1u128
        .checked_shl(bits - u32::from(block_prefix))
        .unwrap_or(0);
    let count = 1u128
        .checked_shl(u32::from(block_prefix.saturating_sub(net.prefix_len())))
        .unwrap_or(u128::MAX);
    let base = to_number(net.network());
    let v4 = matches!(net, IpNet::V4(_));
    (0..count)
        .map(move |index| {
            let start = base.saturating_add(index.saturating_mul(step));
            IpNet::new(from_number(start, v4), block_prefix).unwrap_or(net)
        })
        .filter(move |block| !claimed.contains(block))
}

/// Every address of a block (at most 4096: block sizes are /20../32 and /116../128).
fn addresses(block: IpNet) -> impl Iterator<Item = IpAddr> {
    let base = to_number(block.network());
    let size = 1u128
        .checked_shl(u32::from(block.max_prefix_len() - block.prefix_len()))
        .unwrap_or(0)
        .min(4096);
    let v4 = matches!(block, IpNet::V4(_));
    (0..size).map(move |offset| from_number(base + offset, v4))
}

fn to_number(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn from_number(n: u128, v4: bool) -> IpAddr {
    if v4 {
        IpAddr::V4(std::net::Ipv4Addr::from(
            u32::try_from(n).unwrap_or(u32::MAX),
        ))
    } else {
        IpAddr::V6(std::net::Ipv6Addr::from(n))
    }
}

/// The annotation value Calico expects: a JSON list, single-quoted for YAML.
pub(crate) fn annotation_value(ip: IpAddr) -> String {
    format!("'[\"{ip}\"]'")
}

/// What every candidate address shares: the input, its problems, the pod and the pool.
struct Context<'a> {
    input: &'a str,
    model: &'a Model,
    /// The input's own errors and warnings, which the output is not blamed for.
    baseline: &'a [crate::Diagnostic],
    target: &'a Target,
    pool: &'a Pool,
    /// Whether the pool is never used implicitly, so the address needs no reservation.
    protected: bool,
    /// The manifest of a new Manual pool the address comes from.
    new_pool_text: Option<&'a str>,
}

/// The manifests that give the context's pod `ip`, checked by the planner.
fn build(
    context: &Context<'_>,
    ip: IpAddr,
    block_note: String,
) -> Result<Generated, GenerateError> {
    let Context {
        input,
        model,
        baseline,
        target,
        pool,
        protected,
        new_pool_text,
    } = *context;
    let prefix = if ip.is_ipv4() { 32 } else { 128 };
    let mut documents: Vec<String> = Vec::new();
    let mut notes = vec![format!("{block_note}.")];
    // Users often take a block's first or last address for a network or broadcast address; for
    // Calico they are ordinary addresses (spec §3.6), which deserves a word.
    if let Ok(block) = IpNet::new(ip, pool.block_size.prefix_len()) {
        if block.network() == ip || block.broadcast() == ip {
            notes.push(format!(
                "{ip} is the {} address of its block {}; Calico hands out every address of a block, first and last included, so it is an ordinary pod address.",
                if block.network() == ip { "first" } else { "last" },
                block.trunc()
            ));
        }
    }
    if let Some(current) = &target.current {
        notes.push(format!(
            "{} already asks for {current} through ipAddrs; the new address replaces it.",
            target.label
        ));
    }
    if let Some(text) = new_pool_text {
        documents.push(text.to_owned());
        notes.push(format!(
            "Pool {} is new: Manual and `!all()`, so automatic assignment never uses it, and it allows only Workload addresses, so no node takes a tunnel address from it.",
            pool.name
        ));
    } else if protected {
        notes.push(format!(
            "Pool {} is never used by automatic assignment ({}), so no reservation is needed.",
            pool.name,
            if pool.assignment_mode == AssignmentMode::Manual {
                "assignmentMode: Manual"
            } else {
                "nodeSelector: !all()"
            }
        ));
    }
    if !protected {
        let taken: Vec<&str> = model.reservations.iter().map(|r| r.name()).collect();
        let name = resource_name("static", &ip.to_string(), &taken);
        documents.push(format!(
            "apiVersion: projectcalico.org/v3\nkind: IPReservation\nmetadata:\n  name: {name}\nspec:\n  reservedCIDRs:\n    - {ip}/{prefix}\n"
        ));
        notes.push(format!(
            "Pool {} also serves automatic assignment, so IPReservation {name} reserves exactly {ip}/{prefix}: automatic assignment skips it, and the pod's ipAddrs still gets it (reservations do not apply to static addresses).",
            pool.name
        ));
    }
    let value = annotation_value(ip);
    // For a pod already in the input the manifests to add do not show the annotation, so a
    // comment says it: the text then stands on its own when copied or downloaded.
    let mut header = String::new();
    let edit = match &target.placement {
        Placement::Existing(root) => {
            let edit = edit::set_entry(input, root, &["metadata", "annotations", IP_ADDRS], &value)
                .ok_or_else(|| {
                    GenerateError::new(format!(
                        "the manifest of {} is written in a shape the generator cannot edit safely (an empty annotations key?); add `{IP_ADDRS}: {value}` to its annotations by hand",
                        target.label
                    ))
                })?;
            notes.push(format!(
                "The annotation is added to {} in the input; it only takes effect when the pod is created, so recreate a running pod.",
                target.label
            ));
            header = format!(
                "# Add to metadata.annotations of {} ({}):\n#   {IP_ADDRS}: {value}\n",
                target.label,
                if matches!(target.kind, TargetKind::Pod) {
                    "the Pod"
                } else {
                    "its pod template"
                }
            );
            Some(edit)
        }
        Placement::New { namespace, name } => {
            documents.push(format!(
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: {namespace}\n  annotations:\n    {IP_ADDRS}: {value}\nspec:\n  nodeName: {node}\n  containers:\n    - name: main\n      image: nginx # replace with your image\n",
                node = target.node
            ));
            None
        }
    };
    if model.ipam_config().strict_affinity {
        notes.push(format!(
            "Strict affinity is on: the address's block is affine to {} (or unclaimed), so the pod must run there; pin it with spec.nodeName.",
            target.node
        ));
    }
    let text = format!("{header}{}", documents.join("---\n"));
    let mut generated = Generated {
        title: format!("Static IP {ip} for {}", target.label),
        text,
        edit,
        notes,
        diagnostics: Vec::new(),
    };
    generated.diagnostics = new_problems(baseline, &generated.apply_to(input));
    Ok(generated)
}
