//! Calico's CNI plugin as IPAM sees it (spec §2): what CNI ADD does with a pod's annotations and
//! the CNI network configuration, on top of the allocator. The cluster simulation and the
//! conformance runner both go through here, so the plugin's rules live in one place.

use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;

use crate::ipam::{
    AssignIpArgs, AutoAssignArgs, HostReservedAttr, Ipam, IpamAssignments, IpamError,
    IpamErrorKind, OwnerAttrs,
};
use crate::model::annotations::{
    AnnotationProblem, PodIpamAnnotations, StaticIps, FLOATING_IPS, IPV4_POOLS, IPV6_POOLS,
    IP_ADDRS, IP_ADDRS_NO_IPAM, IP_FAMILIES,
};
use crate::model::CniSettings;
use crate::net::{AllowedUse, Family};
use crate::selector::Labels;

/// The network name of the operator's CNI configuration; handles are `<network>.<container>`.
pub const NETWORK_NAME: &str = "k8s-pod-network";

/// One CNI ADD for a Kubernetes pod.
pub struct AddRequest<'a> {
    pub namespace: &'a str,
    pub pod: &'a str,
    pub node: &'a str,
    /// The node runs Windows: IPv4 blocks reserve their first three and last address.
    pub windows: bool,
    /// The container ID the runtime gave the sandbox; with the network name it forms the handle.
    pub container_id: &'a str,
    /// The pod's and its namespace's IPAM annotations, as the model read them.
    pub annotations: &'a PodIpamAnnotations,
    /// Annotations the model refused, in the order the model found them.
    pub annotation_problems: &'a [AnnotationProblem],
    /// The namespace's labels, for pools' `namespaceSelector` (shared by the namespace's pods).
    pub namespace_labels: Arc<Labels>,
}

/// Which path of the plugin produced the result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddPath {
    /// `ipAddrs`: each address requested with AssignIP.
    Static,
    /// AutoAssign.
    Auto,
    /// `ipAddrsNoIpam`: used verbatim, IPAM not consulted.
    NoIpam,
}

/// Why an ADD failed, classified for diagnostics; `message` is the text the kubelet sees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddFailure {
    pub cause: FailureCause,
    pub message: String,
    /// The address a static request failed on.
    pub address: Option<IpAddr>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureCause {
    /// An annotation the plugin cannot parse (already reported by validation).
    Annotation,
    /// A feature-flagged annotation whose feature is off, or an annotation the IPAM type refuses.
    Configuration,
    /// AssignIP: the address is in no enabled pool.
    NotInPool,
    /// AssignIP: the pool does not allow workloads.
    UseNotAllowed,
    /// AssignIP: the address is already allocated (or in cooldown, or Windows-reserved).
    InUse,
    /// AssignIP under strict affinity: the block belongs to another node, or to none.
    StrictAffinity,
    /// A requested pool does not exist, is disabled, or is not an exact pool CIDR.
    PoolNotFound,
    /// A requested pool is of the other family.
    PoolFamilyMismatch,
    /// No pool qualifies for the node (selectors, uses, modes).
    NoPool,
    /// The node would exceed maxBlocksPerHost.
    BlockLimit,
    /// No free address (partial fulfilment).
    Exhausted,
    /// Anything else IPAM says.
    Other,
}

/// The outcome of an ADD: the addresses (with their block's prefix, as IPAM returns them) or why
/// the pod stays in ContainerCreating.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddOutcome {
    pub path: AddPath,
    pub addresses: Vec<IpNet>,
    pub failure: Option<AddFailure>,
}

impl AddOutcome {
    fn failed(path: AddPath, cause: FailureCause, message: impl Into<String>) -> AddOutcome {
        AddOutcome {
            path,
            addresses: Vec::new(),
            failure: Some(AddFailure {
                cause,
                message: message.into(),
                address: None,
            }),
        }
    }
}

/// The handle a pod's addresses are recorded under.
pub fn handle_for(container_id: &str) -> String {
    let mut handle = String::with_capacity(NETWORK_NAME.len() + 1 + container_id.len());
    push_handle(&mut handle, container_id);
    handle
}

/// Appends [`handle_for`]'s text to `out` (for callers that reuse one buffer per pod).
pub fn push_handle(out: &mut String, container_id: &str) {
    out.push_str(NETWORK_NAME);
    out.push('.');
    out.push_str(container_id);
}

/// Runs CNI ADD (spec §2.3). A failed ADD is followed by the kubelet's DEL, which releases
/// whatever the ADD did allocate; the simulation does the same, so a failed pod holds nothing.
pub fn add(ipam: &mut Ipam, settings: &CniSettings, request: &AddRequest<'_>) -> AddOutcome {
    let handle = handle_for(request.container_id);
    let outcome = add_inner(ipam, settings, request, &handle);
    if outcome.failure.is_some() {
        let _ = ipam.release_by_handle(&handle);
    }
    outcome
}

/// The `calico-ipam` plugin invoked on its own (spec §2.8): a specific address when CNI_ARGS
/// carries `IP=` (`explicit`), else AutoAssign with the network configuration's pools and
/// families. No annotation is read on this path.
pub fn ipam_plugin(
    ipam: &mut Ipam,
    settings: &CniSettings,
    request: &AddRequest<'_>,
    explicit: Option<IpAddr>,
) -> AddOutcome {
    let handle = handle_for(request.container_id);
    let outcome = match explicit {
        Some(ip) => {
            let ips = StaticIps {
                ips: vec![ip],
                pos: crate::yaml::Pos::default(),
                end: crate::yaml::Pos::default(),
            };
            assign_static(ipam, request, &handle, &ips)
        }
        None => auto_assign(
            ipam,
            settings,
            &PodIpamAnnotations::default(),
            request,
            &handle,
        ),
    };
    if outcome.failure.is_some() {
        let _ = ipam.release_by_handle(&handle);
    }
    outcome
}

fn add_inner(
    ipam: &mut Ipam,
    settings: &CniSettings,
    request: &AddRequest<'_>,
    handle: &str,
) -> AddOutcome {
    // Annotations are fetched only with `policy.type: k8s`; otherwise every one is ignored.
    let empty = PodIpamAnnotations::default();
    let reads_annotations = settings.policy_type == "k8s";
    let annotations = if reads_annotations {
        request.annotations
    } else {
        &empty
    };
    let problems = if reads_annotations {
        request.annotation_problems
    } else {
        &[]
    };
    let calico_ipam = settings.ipam_type == "calico-ipam";

    // The pool and family annotations are parsed first, before the path is chosen: a malformed
    // one fails every pod, even one with `ipAddrs`.
    if calico_ipam {
        if let Some(problem) = problems.iter().find(|p| is_pool_or_family(p)) {
            return AddOutcome::failed(
                AddPath::Auto,
                FailureCause::Annotation,
                &problem.error.calico_message,
            );
        }
    }
    let conflict = problems
        .iter()
        .find(|p| p.error.code == "annotation-conflict");
    if let Some(problem) = conflict {
        return AddOutcome::failed(
            AddPath::Static,
            FailureCause::Annotation,
            &problem.error.calico_message,
        );
    }
    if let Some(problem) = problems.iter().find(|p| is_static_list(p)) {
        return AddOutcome::failed(
            AddPath::Static,
            FailureCause::Annotation,
            &problem.error.calico_message,
        );
    }

    if let Some(no_ipam) = &annotations.ip_addrs_no_ipam {
        if !calico_ipam {
            return AddOutcome::failed(
                AddPath::NoIpam,
                FailureCause::Configuration,
                format!(
                    "ipAddrsNoIpam is not compatible with configured IPAM: {}",
                    settings.ipam_type
                ),
            );
        }
        if !settings.ip_addrs_no_ipam {
            return AddOutcome::failed(
                AddPath::NoIpam,
                FailureCause::Configuration,
                "requested feature is not enabled: ip_addrs_no_ipam",
            );
        }
        return AddOutcome {
            path: AddPath::NoIpam,
            addresses: no_ipam.ips.iter().map(|ip| IpNet::from(*ip)).collect(),
            failure: None,
        };
    }
    let outcome = match &annotations.ip_addrs {
        Some(_) if !calico_ipam => AddOutcome::failed(
            AddPath::Static,
            FailureCause::Configuration,
            format!(
                "ipAddrs is not compatible with configured IPAM: {}",
                settings.ipam_type
            ),
        ),
        Some(ips) => assign_static(ipam, request, handle, ips),
        None => auto_assign(ipam, settings, annotations, request, handle),
    };
    if outcome.failure.is_some() {
        return outcome;
    }
    // Floating IPs are handled after networking is set up; a refused list fails the ADD then.
    if annotations.floating_ips.is_some() && !settings.floating_ips {
        return AddOutcome::failed(
            outcome.path,
            FailureCause::Configuration,
            "requested feature is not enabled: floating_ips",
        );
    }
    if let Some(problem) = problems.iter().find(|p| is_floating(p)) {
        return AddOutcome::failed(
            outcome.path,
            FailureCause::Annotation,
            &problem.error.calico_message,
        );
    }
    outcome
}

fn is_pool_or_family(problem: &AnnotationProblem) -> bool {
    matches!(
        problem.error.annotation,
        IPV4_POOLS | IPV6_POOLS | IP_FAMILIES
    )
}

fn is_static_list(problem: &AnnotationProblem) -> bool {
    matches!(problem.error.annotation, IP_ADDRS | IP_ADDRS_NO_IPAM)
        && problem.error.code != "annotation-conflict"
}

fn is_floating(problem: &AnnotationProblem) -> bool {
    problem.error.annotation == FLOATING_IPS
}

/// `ipAddrs`: each address in the written order through AssignIP with use Workload (v3.33+).
fn assign_static(
    ipam: &mut Ipam,
    request: &AddRequest<'_>,
    handle: &str,
    ips: &StaticIps,
) -> AddOutcome {
    let mut addresses = Vec::new();
    for ip in &ips.ips {
        let mut args = AssignIpArgs::new(*ip, request.node);
        args.handle = Some(handle.into());
        args.attrs = pod_attributes(request);
        args.intended_use = Some(AllowedUse::Workload);
        if let Err(err) = ipam.assign_ip(&args) {
            return AddOutcome {
                path: AddPath::Static,
                addresses: Vec::new(),
                failure: Some(AddFailure {
                    cause: classify_assign_error(&err),
                    message: format!("error getting IP from IPAM: {}", err.message),
                    address: Some(*ip),
                }),
            };
        }
        addresses.push(IpNet::from(*ip));
    }
    AddOutcome {
        path: AddPath::Static,
        addresses,
        failure: None,
    }
}

fn classify_assign_error(err: &IpamError) -> FailureCause {
    let text = err.message.as_str();
    match err.kind {
        IpamErrorKind::ResourceAlreadyExists => FailureCause::InUse,
        _ if text.starts_with("The provided IP address is not in a configured pool") => {
            FailureCause::NotInPool
        }
        _ if text.contains("which is not allowed for use") => FailureCause::UseNotAllowed,
        _ if text.starts_with("Block host affinity does not match")
            || text.starts_with("Attempt to assign from block") =>
        {
            FailureCause::StrictAffinity
        }
        _ => FailureCause::Other,
    }
}

fn pod_attributes(request: &AddRequest<'_>) -> OwnerAttrs {
    OwnerAttrs::of_pod(request.namespace, request.node, request.pod)
}

/// The IPAM plugin's automatic path (spec §2.5, §2.6, §2.8).
fn auto_assign(
    ipam: &mut Ipam,
    settings: &CniSettings,
    annotations: &PodIpamAnnotations,
    request: &AddRequest<'_>,
    handle: &str,
) -> AddOutcome {
    let calico_ipam = settings.ipam_type == "calico-ipam";
    let (mut assign_ipv4, mut assign_ipv6) = (settings.assign_ipv4, settings.assign_ipv6);
    let mut ipv4_entries = settings.ipv4_pools.clone();
    let mut ipv6_entries = settings.ipv6_pools.clone();
    if calico_ipam {
        if let Some(families) = &annotations.ip_families {
            assign_ipv4 = families.value.ipv4;
            assign_ipv6 = families.value.ipv6;
        }
        if let Some(pools) = &annotations.ipv4_pools {
            ipv4_entries = pools.value.clone();
        }
        if let Some(pools) = &annotations.ipv6_pools {
            ipv6_entries = pools.value.clone();
        }
    }
    if !assign_ipv4 && !assign_ipv6 {
        return AddOutcome::failed(
            AddPath::Auto,
            FailureCause::Configuration,
            "IPAM plugin returned missing IP config",
        );
    }
    let ipv4_pools = match resolve_pools(ipam, &ipv4_entries, Family::V4) {
        Ok(pools) => pools,
        Err(failure) => return failure,
    };
    let ipv6_pools = match resolve_pools(ipam, &ipv6_entries, Family::V6) {
        Ok(pools) => pools,
        Err(failure) => return failure,
    };
    let args = AutoAssignArgs {
        num4: usize::from(assign_ipv4),
        num6: usize::from(assign_ipv6),
        handle: Some(handle.into()),
        attrs: pod_attributes(request),
        hostname: request.node.to_owned(),
        ipv4_pools,
        ipv6_pools,
        max_blocks_per_host: u32::from(settings.windows_use_single_network),
        host_reserved_attr_ipv4s: request.windows.then(HostReservedAttr::windows),
        host_reserved_attr_ipv6s: None,
        intended_use: Some(AllowedUse::Workload),
        namespace: Some(Arc::clone(&request.namespace_labels)),
        max_alloc_per_ip_version: None,
        windows_host: request.windows,
    };
    let (v4, v6, result) = ipam.auto_assign(&args);
    if let Err(err) = result {
        return AddOutcome::failed(AddPath::Auto, classify_auto_error(&err), err.message);
    }
    // Dual stack: a short family fails the ADD; the DEL that follows releases the other.
    for (assignments, requested) in [(&v4, assign_ipv4), (&v6, assign_ipv6)] {
        let Some(assignments) = assignments.as_ref().filter(|_| requested) else {
            continue;
        };
        if let Some(text) = assignments.partial_fulfillment_error() {
            return AddOutcome::failed(
                AddPath::Auto,
                FailureCause::Exhausted,
                format!(
                    "failed to request IPv{} addresses: {text}",
                    assignments.ip_version
                ),
            );
        }
    }
    let addresses = [v4, v6]
        .into_iter()
        .flatten()
        .flat_map(|a: IpamAssignments| a.ips)
        .collect();
    AddOutcome {
        path: AddPath::Auto,
        addresses,
        failure: None,
    }
}

fn classify_auto_error(err: &IpamError) -> FailureCause {
    let text = err.message.as_str();
    match err.kind {
        IpamErrorKind::BlockLimit => FailureCause::BlockLimit,
        IpamErrorKind::NoQualifiedPool => FailureCause::NoPool,
        _ if text.starts_with("no configured Calico pools for node") => FailureCause::NoPool,
        _ if text.starts_with("the given pool (") => FailureCause::PoolNotFound,
        _ if text.starts_with("provided IPv") => FailureCause::PoolFamilyMismatch,
        _ if text == "failed to find or claim a block" => FailureCause::Exhausted,
        _ => FailureCause::Other,
    }
}

/// `ResolvePools` (spec §2.5): an entry that parses as a CIDR is its masked network, anything
/// else is a pool name; each must be of the list's family.
pub fn resolve_pools(
    ipam: &Ipam,
    entries: &[String],
    family: Family,
) -> Result<Vec<IpNet>, AddOutcome> {
    let mut resolved = Vec::with_capacity(entries.len());
    for entry in entries {
        let cidr = match entry.parse::<IpNet>() {
            Ok(net) => net.trunc(),
            Err(_) => match ipam.pools().iter().find(|p| &p.name == entry) {
                Some(pool) => pool.cidr,
                None => {
                    return Err(AddOutcome::failed(
                        AddPath::Auto,
                        FailureCause::PoolNotFound,
                        format!("error parsing pool \"{entry}\": invalid CIDR address: {entry}"),
                    ))
                }
            },
        };
        if Family::of_net(&cidr) != family {
            return Err(AddOutcome::failed(
                AddPath::Auto,
                FailureCause::PoolFamilyMismatch,
                format!(
                    "\"{}\" isn't a IPv{} address",
                    cidr.network(),
                    family.version()
                ),
            ));
        }
        resolved.push(cidr);
    }
    Ok(resolved)
}

/// CNI ADD for a workload that is not a Kubernetes pod (no annotations, namespace `default`;
/// spec §2.1). Only what IPAM planning needs is modelled: the Kubernetes-only feature
/// `ip_addrs_no_ipam` makes the plugin refuse such a workload, as Calico's CNI tests assert.
/// `None`: the plugin would go on to its IPAM plugin, which this function does not model.
pub fn non_kubernetes(settings: &CniSettings) -> Option<AddOutcome> {
    settings.ip_addrs_no_ipam.then(|| {
        AddOutcome::failed(
            AddPath::NoIpam,
            FailureCause::Configuration,
            "the CNI plugin refuses feature_control.ip_addrs_no_ipam for a workload that is not a Kubernetes pod",
        )
    })
}
