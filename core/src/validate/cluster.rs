//! Rules between resources: pool overlap (spec §1.1.2 P6), pools outside the cluster's pod CIDR,
//! reservations that reserve nothing, and Windows nodes without strict affinity (spec §1.3).

use ipnet::IpNet;

use crate::diagnostic::Severity;
use crate::model::{IpPool, Model, Origin, Spanned, OS_LABEL};
use crate::net_index::NetIndex;

use super::{CalicoError, Finding, Layer};

pub(super) fn check<'m>(
    model: &'m Model,
    extra_cluster_cidrs: &[IpNet],
) -> Vec<(&'m Origin, Finding)> {
    let mut out = Vec::new();
    overlaps(model, &mut out);
    outside_cluster_cidr(model, extra_cluster_cidrs, &mut out);
    reservations_outside_pools(model, &mut out);
    windows_strict_affinity(model, &mut out);
    out
}

/// A pool's CIDR as stored (masked), with its node, when it parses.
fn pool_net(pool: &IpPool) -> Option<(IpNet, &Spanned<String>)> {
    let cidr = pool.spec.cidr.as_ref()?;
    let net: IpNet = cidr.value.parse().ok()?;
    Some((net.trunc(), cidr))
}

/// Calico's overlap test: either network contains the other's base address.
fn overlap(a: &IpNet, b: &IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// Reports every pool that overlaps a pool written before it (P6: calicoctl refuses to create
/// it), found through a `NetIndex` rather than a comparison with every earlier pool.
fn overlaps<'m>(model: &'m Model, out: &mut Vec<(&'m Origin, Finding)>) {
    let mut seen = NetIndex::default();
    for (index, pool) in model.pools.iter().enumerate() {
        let Some((net, cidr)) = pool_net(pool) else {
            continue;
        };
        let other = seen
            .overlapping(&net)
            .find_map(|i| model.pools.get(i).filter(|o| o.name() != pool.name()));
        if let Some(other) = other {
            if let Some((other_net, _)) = pool_net(other) {
                out.push((
                    &pool.origin,
                    overlap_finding(pool, cidr, &net, other, &other_net),
                ));
            }
        }
        seen.insert(&net, index);
    }
}

fn overlap_finding(
    pool: &IpPool,
    cidr: &Spanned<String>,
    net: &IpNet,
    other: &IpPool,
    other_net: &IpNet,
) -> Finding {
    debug_assert!(overlap(net, other_net));
    Finding::new(
        Layer::ClientV3,
        "pool-overlap",
        cidr.pos,
        format!(
            "`{net}` overlaps IP pool `{}` ({other_net}); calicoctl refuses to create this pool, and if both are written straight to the CRDs, kube-controllers (v3.32+) marks the newer one `CIDROverlap` and allocates nothing from it",
            other.name()
        ),
        CalicoError::Text(format!(
            "IPPool({}) CIDR overlaps with IPPool({}) CIDR {other_net}",
            pool.name(),
            other.name()
        )),
    )
}

fn outside_cluster_cidr<'m>(
    model: &'m Model,
    extra_cluster_cidrs: &[IpNet],
    out: &mut Vec<(&'m Origin, Finding)>,
) {
    let mut cluster = model.cluster_cidrs();
    cluster.extend_from_slice(extra_cluster_cidrs);
    for pool in &model.pools {
        let Some((net, cidr)) = pool_net(pool) else {
            continue;
        };
        let same_family: Vec<&IpNet> = cluster
            .iter()
            .filter(|c| {
                matches!(
                    (c, &net),
                    (IpNet::V4(_), IpNet::V4(_)) | (IpNet::V6(_), IpNet::V6(_))
                )
            })
            .collect();
        if same_family.is_empty() || same_family.iter().any(|c| c.contains(&net)) {
            continue;
        }
        let list = same_family
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        out.push((
            &pool.origin,
            Finding::new(
                Layer::Planner,
                "pool-outside-cluster-cidr",
                cidr.pos,
                format!("`{net}` is not inside the cluster's pod CIDR ({list}); pod traffic from it may be dropped or mis-routed"),
                CalicoError::NotCalico,
            )
            .with_severity(Severity::Error),
        ));
    }
}

fn reservations_outside_pools<'m>(model: &'m Model, out: &mut Vec<(&'m Origin, Finding)>) {
    let pools: Vec<IpNet> = model
        .pools
        .iter()
        .filter_map(|p| pool_net(p).map(|(n, _)| n))
        .collect();
    for reservation in &model.reservations {
        for entry in reservation.entries() {
            let Some(net) = crate::net::parse_cidr_or_ip(entry.value.trim()) else {
                continue;
            };
            let net = net.trunc();
            if pools.iter().any(|p| overlap(p, &net)) {
                continue;
            }
            out.push((
                &reservation.origin,
                Finding::new(
                    Layer::Planner,
                    "reservation-outside-pools",
                    entry.pos,
                    format!("`{net}` is in no IP pool, so reserving it changes nothing"),
                    CalicoError::NotCalico,
                ),
            ));
        }
    }
}

fn windows_strict_affinity<'m>(model: &'m Model, out: &mut Vec<(&'m Origin, Finding)>) {
    if model.ipam_config().strict_affinity {
        return;
    }
    let Some(node) = model.nodes.iter().find(|n| n.is_windows()) else {
        return;
    };
    let message = format!(
        "node `{}` runs Windows, where Calico IPAM requires `strictAffinity: true`; pods there fail to get addresses until the IPAM configuration sets it",
        node.name()
    );
    let error =
        CalicoError::Text("global strict affinity should not be false for Windows node".to_owned());
    let finding = match model.ipam_config_resource() {
        Some(config) => {
            let pos = config
                .strict_affinity
                .as_ref()
                .map_or(config.spec_pos, |f| f.pos);
            let finding = Finding::new(
                Layer::Planner,
                "ipam-config-windows-strict",
                pos,
                message,
                error,
            )
            .with_severity(Severity::Error);
            let finding = match &config.strict_affinity {
                Some(field) => {
                    finding.with_fix("enable strict affinity", "true", super::span(field))
                }
                None => finding.with_fix(
                    "add `strictAffinity: true` to the spec",
                    "strictAffinity: true",
                    None,
                ),
            };
            (&config.origin, finding)
        }
        None => {
            let pos = node
                .meta
                .labels
                .iter()
                .find(|(k, _)| k.value == OS_LABEL)
                .map_or(node.origin.pos, |(_, v)| v.pos);
            let finding = Finding::new(Layer::Planner, "ipam-config-windows-strict", pos, message, error)
                .with_severity(Severity::Error)
                .with_fix(
                    "add an IPAMConfiguration named `default` with `strictAffinity: true`",
                    "apiVersion: projectcalico.org/v3\nkind: IPAMConfiguration\nmetadata:\n  name: default\nspec:\n  strictAffinity: true\n",
                    None,
                );
            (&node.origin, finding)
        }
    };
    out.push(finding);
}
