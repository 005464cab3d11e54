//! Pre-deployment review: a change checked against what is live. The existing manifests (for
//! example `kubectl get ippools,pods,nodes -A -o yaml`, status included) form the current state;
//! the change is applied on top, and the review reports what Calico would refuse or silently
//! ignore, then everything `check` reports for the resulting state.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use ipnet::IpNet;

use crate::diagnostic::{self, Diagnostic};
use crate::lifecycle::{self, Datastore, PoolObject, WriteError, WritePath};
use crate::manifest::{self, Document, Source};
use crate::model::{self, annotations, ApiGroup, Model};
use crate::simulate::{self, Simulation};
use crate::yaml::Node;
use crate::{Analysis, Options};

/// Which documents describe the same object: kinds that are one resource under two API groups
/// (IPAMConfig and IPAMConfiguration) share a key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key {
    kind: String,
    namespace: Option<String>,
    name: String,
}

const NAMESPACED: &[&str] = &[
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "ConfigMap",
];

fn key_of(doc: &Document) -> Key {
    let kind = match doc.kind.as_str() {
        "IPAMConfig" => "IPAMConfiguration".to_owned(),
        other => other.to_owned(),
    };
    let namespace = NAMESPACED.contains(&kind.as_str()).then(|| {
        doc.namespace
            .clone()
            .unwrap_or_else(|| "default".to_owned())
    });
    Key {
        kind,
        namespace,
        name: doc.name.clone(),
    }
}

fn is_deletion(doc: &Document) -> bool {
    doc.node.at(&["metadata", "deletionTimestamp"]).is_some()
}

/// The review of `change` against `existing`: the resulting state's analysis and simulation,
/// with the review's own findings among the simulation's diagnostics.
pub fn review(
    existing: &[Source<'_>],
    change: &[Source<'_>],
    options: &Options,
) -> (Analysis, Simulation) {
    let (existing_docs, mut diagnostics) = manifest::parse(existing);
    let (change_docs, change_problems) = manifest::parse(change);
    diagnostics.extend(change_problems);

    let (existing_model, _) = model::build(&existing_docs);
    let before = simulate::run(&existing_docs, &existing_model);
    let changed: HashMap<Key, &Document> = change_docs.iter().map(|d| (key_of(d), d)).collect();
    let existing_by_key: HashMap<Key, &Document> =
        existing_docs.iter().map(|d| (key_of(d), d)).collect();

    let mut findings = Vec::new();
    let (refused, pool_findings) = pool_writes(&existing_docs, &change_docs);
    findings.extend(pool_findings);
    findings.extend(pools_losing_addresses(
        &existing_docs,
        &change_docs,
        &before,
    ));
    findings.extend(running_pod_changes(&existing_model, &change_docs));
    findings.extend(reservations_over_addresses(
        &existing_by_key,
        &change_docs,
        &before,
    ));

    // The resulting state: existing objects the change does not touch, then the change. A
    // running pod stays as it runs (annotations are read only at sandbox creation), and an
    // object the change deletes is gone.
    let mut merged: Vec<Document> = Vec::new();
    for doc in &existing_docs {
        let key = key_of(doc);
        match changed.get(&key) {
            None => merged.push(doc.clone()),
            Some(_) if doc.kind == "Pod" && is_running(doc) => merged.push(doc.clone()),
            // Calico refuses the update, so the live pool stays as it is.
            Some(_) if refused.contains(&key) => merged.push(doc.clone()),
            Some(_) => {}
        }
    }
    for doc in &change_docs {
        let key = key_of(doc);
        if refused.contains(&key) {
            continue;
        }
        let keeps_running_pod =
            doc.kind == "Pod" && existing_by_key.get(&key).is_some_and(|old| is_running(old));
        if keeps_running_pod {
            continue;
        }
        if !is_deletion(doc) {
            merged.push(doc.clone());
        } else if doc.kind == "IPPool" {
            // Deleting a pool disables it first and leaves every allocation in its blocks
            // (spec §1.1.5): for what follows, the pool is there but disabled.
            if let Some(old) = existing_by_key.get(&key) {
                merged.push(disabled_copy(old));
            }
        }
    }
    let (analysis, mut simulation) = crate::plan_documents(merged, diagnostics, options);
    simulation.diagnostics.extend(findings);
    diagnostic::sort(&mut simulation.diagnostics);
    (analysis, simulation)
}

/// `doc` (an IPPool) with `spec.disabled: true`.
fn disabled_copy(doc: &Document) -> Document {
    use crate::yaml::{Scalar, Value};
    let mut copy = doc.clone();
    if let Value::Map(entries) = &mut copy.node.value {
        if let Some((_, spec)) = entries
            .iter_mut()
            .rev()
            .find(|(k, _)| k.as_str() == Some("spec"))
        {
            let pos = spec.pos;
            let scalar = |text: &str| Node {
                value: Value::Scalar(Scalar {
                    text: text.to_owned(),
                    quoted: false,
                }),
                pos,
                end: pos,
            };
            if let Value::Map(fields) = &mut spec.value {
                fields.retain(|(k, _)| k.as_str() != Some("disabled"));
                fields.push((scalar("disabled"), scalar("true")));
            }
        }
    }
    copy
}

fn is_running(doc: &Document) -> bool {
    doc.node
        .at(&["status", "podIPs"])
        .and_then(Node::as_seq)
        .is_some_and(|ips| !ips.is_empty())
}

/// Pool writes Calico refuses on top of the live pools: a changed CIDR or blockSize, a
/// LoadBalancer pool turned to Workload/Tunnel (spec §1.1.2 P4, P5, P8). New pools are checked
/// by the resulting state's ordinary validation, so only updates are reported here.
fn pool_writes(existing: &[Document], change: &[Document]) -> (HashSet<Key>, Vec<Diagnostic>) {
    let live: Vec<PoolObject> = existing
        .iter()
        .filter(|d| d.kind == "IPPool")
        .filter_map(|d| PoolObject::from_document(d).ok())
        .collect();
    let mut found = Vec::new();
    let mut refused = HashSet::new();
    for doc in change
        .iter()
        .filter(|d| d.kind == "IPPool" && !is_deletion(d))
    {
        if !live.iter().any(|p| p.name() == doc.name) {
            continue;
        }
        let Ok(planned) = PoolObject::from_document(doc) else {
            continue;
        };
        // calicoctl and the Calico API server go through clientv3; kubectl writes the CRDs.
        let path = match ApiGroup::of(&doc.api_version) {
            ApiGroup::ProjectCalicoV3 => WritePath::ClientV3(Datastore::Kubernetes),
            _ => WritePath::ApiServer,
        };
        for (_, result) in lifecycle::review(path, &live, std::slice::from_ref(&planned)) {
            if let Err(err) = result {
                found.push(refused_update(doc, &err));
                refused.insert(key_of(doc));
            }
        }
    }
    (refused, found)
}

fn refused_update(doc: &Document, err: &WriteError) -> Diagnostic {
    let field = |names: &[&str]| names.iter().any(|n| err.has_field(n));
    let (at, what) = if field(&["IPPool.Spec.CIDR", "spec.cidr"]) {
        (doc.node.at(&["spec", "cidr"]), "the CIDR of an existing pool cannot change; create a new pool and migrate (Calico's \"migrate pools\" guide)")
    } else if field(&["IPPool.Spec.BlockSize", "spec.blockSize"]) {
        (
            doc.node.at(&["spec", "blockSize"]),
            "the blockSize of an existing pool cannot change; create a new pool and migrate",
        )
    } else if field(&["IPPool.Spec.AllowedUses", "spec.allowedUses"]) {
        (
            doc.node.at(&["spec", "allowedUses"]),
            "a LoadBalancer pool cannot be turned into a Workload or Tunnel pool",
        )
    } else {
        (None, "Calico refuses this update of an existing pool")
    };
    doc.locate(
        Diagnostic::error("pool-update-refused", format!("pool {}: {what}", doc.name))
            .calico(err.message.clone()),
        at.or(doc.node.get("spec")),
    )
}

/// Every address the live state holds, with who holds it: running pods and nodes' tunnels.
fn live_holders(before: &Simulation) -> impl Iterator<Item = (IpAddr, String)> + '_ {
    before
        .pods
        .iter()
        .filter(|p| p.running)
        .flat_map(|p| {
            p.ips
                .iter()
                .map(move |ip| (*ip, format!("pod {}/{}", p.namespace, p.name)))
        })
        .chain(
            before
                .tunnels
                .iter()
                .map(|t| (t.ip, format!("{}'s {} tunnel", t.node, t.kind.as_str()))),
        )
}

/// Addresses allocated from each pool in the live state (running pods and tunnels), by pool
/// name. Only looked up by name, among a handful of pools: a vector, with less code in the site
/// than a map.
fn addresses_by_pool(
    before: &Simulation,
    pools: &[(String, IpNet)],
) -> Vec<(String, Vec<(IpAddr, String)>)> {
    let mut by_pool: Vec<(String, Vec<(IpAddr, String)>)> = Vec::new();
    for (ip, holder) in live_holders(before) {
        if let Some((name, _)) = pools.iter().find(|(_, cidr)| cidr.contains(&ip)) {
            match by_pool.iter_mut().find(|(pool, _)| pool == name) {
                Some((_, addresses)) => addresses.push((ip, holder)),
                None => by_pool.push((name.clone(), vec![(ip, holder)])),
            }
        }
    }
    by_pool
}

/// A pool disabled or deleted while addresses are allocated from it: they stay allocated,
/// nothing new comes from it, and a static address in it cannot be taken again (§1.1.5, §7.18).
fn pools_losing_addresses(
    existing: &[Document],
    change: &[Document],
    before: &Simulation,
) -> Vec<Diagnostic> {
    let live_pools: Vec<(String, IpNet, bool)> = existing
        .iter()
        .filter(|d| d.kind == "IPPool")
        .filter_map(|d| {
            let cidr: IpNet = d
                .node
                .at(&["spec", "cidr"])?
                .scalar_text()?
                .trim()
                .parse()
                .ok()?;
            let disabled = d.node.at(&["spec", "disabled"]).and_then(Node::as_bool) == Some(true);
            Some((d.name.clone(), cidr.trunc(), disabled))
        })
        .collect();
    let pools: Vec<(String, IpNet)> = live_pools.iter().map(|(n, c, _)| (n.clone(), *c)).collect();
    let in_use = addresses_by_pool(before, &pools);
    let mut found = Vec::new();
    for doc in change.iter().filter(|d| d.kind == "IPPool") {
        let Some((_, _, was_disabled)) = live_pools.iter().find(|(n, _, _)| *n == doc.name) else {
            continue;
        };
        let deleted = is_deletion(doc);
        let disabled = doc.node.at(&["spec", "disabled"]).and_then(Node::as_bool) == Some(true);
        if !(deleted || disabled && !was_disabled) {
            continue;
        }
        let Some((_, addresses)) = in_use.iter().find(|(pool, _)| *pool == doc.name) else {
            continue;
        };
        let shown: Vec<String> = addresses
            .iter()
            .take(3)
            .map(|(ip, who)| format!("{ip} ({who})"))
            .collect();
        let more = addresses.len().saturating_sub(shown.len());
        let list = if more > 0 {
            format!("{} and {more} more", shown.join(", "))
        } else {
            shown.join(", ")
        };
        let (code, verb, at) = if deleted {
            (
                "pool-deleted-in-use",
                "deletes",
                doc.node.at(&["metadata", "deletionTimestamp"]),
            )
        } else {
            (
                "pool-disabled-in-use",
                "disables",
                doc.node.at(&["spec", "disabled"]),
            )
        };
        found.push(doc.locate(
            Diagnostic::warning(
                code,
                format!(
                    "the change {verb} pool {} while {} allocated from it: {list}. They stay allocated (Calico releases nothing), no new address comes from the pool, and a pod with a static address in it cannot get it back once recreated",
                    doc.name,
                    match addresses.len() {
                        1 => "1 address is".to_owned(),
                        n => format!("{n} addresses are"),
                    }
                ),
            ),
            at,
        ));
    }
    found
}

/// The annotations CNI ADD reads: changing them on a running pod does nothing until the pod's
/// sandbox is recreated (spec §2.1, §7.2).
const ADD_TIME_ANNOTATIONS: &[&str] = &[
    annotations::IP_ADDRS,
    annotations::IP_ADDRS_NO_IPAM,
    annotations::IPV4_POOLS,
    annotations::IPV6_POOLS,
    annotations::IP_FAMILIES,
];

fn running_pod_changes(existing: &Model, change: &[Document]) -> Vec<Diagnostic> {
    let (change_model, _) = model::build(change);
    let cooldown = existing.ipam_config().ip_cooldown_seconds;
    // Static addresses the change takes away from running pods: after their pods are recreated
    // they sit in cooldown before anyone can have them.
    let mut released: HashSet<String> = HashSet::new();
    let mut found = Vec::new();
    // The running pods by namespace and name (the first document of a name, as a search in
    // input order finds it), so a change of many pods to a large cluster is not quadratic.
    let mut running: HashMap<(&str, &str), &model::Pod> = HashMap::new();
    for pod in &existing.pods {
        running.entry((pod.namespace(), pod.name())).or_insert(pod);
    }
    let running_pod = |pod: &model::Pod| running.get(&(pod.namespace(), pod.name())).copied();
    for pod in &change_model.pods {
        let Some(old) = running_pod(pod) else {
            continue;
        };
        if old.pod_ips.is_empty() {
            continue;
        }
        for key in ADD_TIME_ANNOTATIONS {
            let before = old.meta.annotation(key).map(|v| v.value.as_str());
            let after = pod.meta.annotation(key);
            if before == after.map(|v| v.value.as_str()) {
                continue;
            }
            if *key == annotations::IP_ADDRS {
                if let Some(b) = before {
                    released.extend(static_addresses(b));
                }
            }
            let at = after.map_or(pod.origin.pos, |v| v.pos);
            found.push(pod.origin.locate(
                Diagnostic::warning(
                    "annotation-change-ignored",
                    format!(
                        "pod {}/{} is running: changing `{}` has no effect until the pod is deleted and created again (the CNI plugin reads it only when the pod's sandbox is created)",
                        pod.namespace(),
                        pod.name(),
                        key.rsplit('/').next().unwrap_or(key)
                    ),
                ),
                at,
            ));
        }
    }
    if cooldown > 0 {
        for pod in &change_model.pods {
            let Some(new) = pod.meta.annotation(annotations::IP_ADDRS) else {
                continue;
            };
            for ip in static_addresses(&new.value) {
                let own = running_pod(pod)
                    .and_then(|p| p.meta.annotation(annotations::IP_ADDRS))
                    .is_some_and(|v| static_addresses(&v.value).contains(&ip));
                if released.contains(&ip) && !own {
                    found.push(pod.origin.locate(
                        Diagnostic::warning(
                            "static-ip-cooldown",
                            format!(
                                "{ip} is released by this change from another pod; with ipCooldownSeconds {cooldown} it stays unavailable for {cooldown} s after that pod is deleted, so pod {}/{} fails with `Address already assigned in block` until then",
                                pod.namespace(),
                                pod.name()
                            ),
                        )
                        .calico(format!(
                            "error getting IP from IPAM: resource already exists: {ip} with error: Address already assigned in block"
                        )),
                        new.pos,
                    ));
                }
            }
        }
    }
    found
}

fn static_addresses(value: &str) -> Vec<String> {
    annotations::decode_string_list(value).unwrap_or_default()
}

/// Reservations never release addresses already in use (spec §7.29): a reservation the change
/// adds over allocated addresses leaves them with their owners.
fn reservations_over_addresses(
    existing_by_key: &HashMap<Key, &Document>,
    change: &[Document],
    before: &Simulation,
) -> Vec<Diagnostic> {
    let (change_model, _) = model::build(change);
    let mut found = Vec::new();
    for reservation in &change_model.reservations {
        let old_cidrs: Vec<IpNet> = existing_by_key
            .get(&Key {
                kind: "IPReservation".into(),
                namespace: None,
                name: reservation.name().to_owned(),
            })
            .and_then(|doc| {
                let (m, _) = model::build(std::slice::from_ref(*doc));
                m.reservations.first().map(|r| r.effective_cidrs())
            })
            .unwrap_or_default();
        let added: Vec<IpNet> = reservation
            .effective_cidrs()
            .into_iter()
            .filter(|c| !old_cidrs.contains(c))
            .collect();
        let hits: Vec<String> = live_holders(before)
            .filter(|(ip, _)| added.iter().any(|c| c.contains(ip)))
            .map(|(ip, who)| format!("{ip} ({who})"))
            .collect();
        if hits.is_empty() {
            continue;
        }
        found.push(reservation.origin.locate(
            Diagnostic::warning(
                "reservation-over-in-use",
                format!(
                    "IPReservation {} covers addresses already in use: {}. A reservation never releases an address; they stay allocated until their owners let go of them",
                    reservation.name(),
                    hits.join(", ")
                ),
            ),
            reservation.origin.pos,
        ));
    }
    found
}

/// The diagnostic codes of the review, in the shape of [`crate::codes::CodeDoc`].
pub const CODES: &[crate::codes::CodeDoc] = {
    use crate::codes::doc;
    use crate::diagnostic::Severity::{Error, Warning};
    &[
        doc("pool-update-refused", Error, "The change updates an existing pool in a way Calico refuses: its CIDR or blockSize (immutable; only a textual re-spelling of the same CIDR is accepted), or a LoadBalancer pool's allowedUses to Workload/Tunnel.", "# live: cidr: 10.244.0.0/16\nspec:\n  cidr: 10.245.0.0/16", "Create a new pool and migrate workloads to it (Calico's migrate-pools guide), then disable and delete the old one."),
        doc("pool-disabled-in-use", Warning, "The change disables a pool that live addresses come from. They stay allocated, nothing new comes from the pool, and a pod with a static address in it cannot get it back once recreated.", "spec:\n  disabled: true   # 12 running pods have addresses in it", "Migrate the pods first, or keep the pool enabled."),
        doc("pool-deleted-in-use", Warning, "The change deletes a pool that live addresses come from; Calico disables it, strips its block affinities and leaves every address allocated.", "metadata:\n  deletionTimestamp: \"2026-11-26T07:00:00Z\"", "Migrate the pods first."),
        doc("annotation-change-ignored", Warning, "The change edits `ipAddrs`, `ipAddrsNoIpam`, `ipv4pools`, `ipv6pools` or `ipFamilies` on a running pod; the CNI plugin reads them only when the pod's sandbox is created.", "# the pod is running with 10.0.0.5\ncni.projectcalico.org/ipAddrs: '[\"10.0.0.6\"]'", "Delete and recreate the pod (or change its workload's template, which recreates pods)."),
        doc("static-ip-cooldown", Warning, "A static address the change takes from one pod is given to another while `ipCooldownSeconds` keeps released addresses unavailable (Calico v3.33+).", "kind: IPAMConfiguration\nspec:\n  ipCooldownSeconds: 300", "Wait out the cooldown before creating the pod, or use another address."),
        doc("reservation-over-in-use", Warning, "The change adds an IPReservation over addresses that are in use; reservations never release an address, so they stay with their owners.", "kind: IPReservation\nspec:\n  reservedCIDRs: [10.244.84.128/28]   # pods run there", "Move the pods off the range first if it must really be free."),
    ]
};
