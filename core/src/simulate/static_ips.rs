//! Checks of static addresses (`ipAddrs`) that Calico never reports itself, or reports only when
//! it is too late (spec §6.4 "conflicts a planner should compute itself", §7.4–7.6).

use std::net::IpAddr;

use ipnet::IpNet;

use crate::diagnostic::Diagnostic;
use crate::ipam::{Ipam, Pool};
use crate::model::annotations::{PodIpamAnnotations, StaticIps};
use crate::model::{Model, Origin, Replicas, Workload, WorkloadKind};
use crate::net::{AllowedUse, AssignmentMode};

/// `static-ip-replicated`: a template with `ipAddrs` that yields several pods.
pub fn replicated(workload: &Workload, ips: &StaticIps, node_count: usize) -> Option<Diagnostic> {
    let (pods, why) = match workload.replicas {
        Replicas::Count(n) if n > 1 => (n as usize, format!("replicas: {n}")),
        Replicas::PerNode if node_count > 1 => {
            (node_count, format!("one pod on each of {node_count} nodes"))
        }
        _ => return None,
    };
    let first = ips.ips.first()?;
    let listed: Vec<String> = ips.ips.iter().map(ToString::to_string).collect();
    Some(
        workload
            .origin
            .locate(
                Diagnostic::error(
                    "static-ip-replicated",
                    format!(
                        "{} {} yields {pods} pods ({why}) that all ask for {}: only the first gets it, the others stay in ContainerCreating",
                        workload.origin.kind,
                        workload.name(),
                        listed.join(", ")
                    ),
                ),
                ips.pos,
            )
            .calico(format!(
                "error getting IP from IPAM: resource already exists: {first} with error: Address already assigned in block"
            )),
    )
    .map(|diagnostic| match (workload.replicas, workload.replicas_pos) {
        // `replicas: N` written as a plain number: replace exactly its digits.
        (Replicas::Count(n), Some(at))
            if !matches!(workload.kind, WorkloadKind::Job | WorkloadKind::CronJob) =>
        {
            let digits = u32::try_from(n.to_string().len()).unwrap_or(0);
            let end = crate::yaml::Pos {
                line: at.line,
                column: at.column.saturating_add(digits),
            };
            diagnostic
                .with_fix(
                    "run one pod per static address: replicas: 1 (use a Pod, or a pool per replica with ipv4pools, for more)",
                    "1",
                )
                .with_edit(at, end, "1")
        }
        _ => diagnostic,
    })
}

/// `static-ip-reserved` and `static-ip-unprotected` for one pod's (or template's) addresses.
pub fn protection(
    ipam: &Ipam,
    model: &Model,
    origin: &Origin,
    annotations: &PodIpamAnnotations,
    nodes: &[String],
) -> Vec<Diagnostic> {
    let Some(ips) = &annotations.ip_addrs else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for ip in &ips.ips {
        let covering: Vec<(&str, IpNet)> = model
            .reservations
            .iter()
            .flat_map(|r| r.effective_cidrs().into_iter().map(move |c| (r.name(), c)))
            .filter(|(_, cidr)| cidr.contains(ip))
            .collect();
        // A reservation of exactly this one address is the deliberate way to keep automatic
        // assignment off a static address; a wider range that happens to cover it is the
        // surprise the warning is for.
        let deliberate = covering
            .iter()
            .any(|(_, c)| c.prefix_len() == c.max_prefix_len());
        if let Some((name, cidr)) = covering.first().filter(|_| !deliberate) {
            found.push(origin.locate(
                Diagnostic::warning(
                    "static-ip-reserved",
                    format!(
                        "{ip} is inside IPReservation {name} ({cidr}); reservations do not apply to ipAddrs, so the pod still gets it. If the address is meant to be protected, reserve exactly {ip}/{}",
                        max_prefix(ip)
                    ),
                ),
                ips.pos,
            ));
        }
        if covering.is_empty() {
            if let Some(pool) = automatic_pool_for(ipam, *ip, nodes) {
                found.push(unprotected(origin, ips, *ip, pool));
            }
        }
    }
    found
}

fn max_prefix(ip: &IpAddr) -> u8 {
    match ip {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// The pool AssignIP would take `ip` from, when automatic assignment also hands out its
/// addresses: enabled, Automatic, allows Workload and selects at least one node.
fn automatic_pool_for<'i>(ipam: &'i Ipam, ip: IpAddr, nodes: &[String]) -> Option<&'i Pool> {
    let pool = ipam
        .pools()
        .iter()
        .find(|p| p.is_enabled() && p.cidr.contains(&ip))?;
    let serves_nodes = nodes.iter().any(|node| {
        ipam.nodes()
            .get(node)
            .is_some_and(|labels| pool.selects_node(labels).unwrap_or(false))
    });
    (pool.assignment_mode == AssignmentMode::Automatic
        && pool.allows(AllowedUse::Workload)
        && serves_nodes)
        .then_some(pool)
}

fn unprotected(origin: &Origin, ips: &StaticIps, ip: IpAddr, pool: &Pool) -> Diagnostic {
    let prefix = max_prefix(&ip);
    let name = format!("static-{}", ip.to_string().replace(['.', ':'], "-"));
    let reservation = format!(
        "apiVersion: projectcalico.org/v3\nkind: IPReservation\nmetadata:\n  name: {name}\nspec:\n  reservedCIDRs:\n    - {ip}/{prefix}\n"
    );
    let diagnostic = origin
        .locate(
            Diagnostic::warning(
                "static-ip-unprotected",
                format!(
                    "{ip} is in pool {}, which automatic assignment also uses: a pod created earlier on any node it selects may take {ip} first. Reserve it, or move static addresses to a pool with `assignmentMode: Manual`",
                    pool.name
                ),
            ),
            ips.pos,
        )
        .with_fix(
            format!("add an IPReservation for exactly {ip}/{prefix}, so automatic assignment skips it"),
            reservation.clone(),
        );
    // The page applies the fix by inserting the reservation as a document of its own, just
    // before the pod's; that is only sound for a top-level block document (not a List item).
    if origin.pos.column == 1 {
        let at = crate::yaml::Pos {
            line: origin.pos.line,
            column: 1,
        };
        diagnostic.with_edit(at, at, format!("{reservation}---\n"))
    } else {
        diagnostic
    }
}
