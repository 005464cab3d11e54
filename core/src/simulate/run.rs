//! The cluster run of the contract: nodes start in order and take their tunnel addresses (spec
//! §4), then pods are created in input order through CNI ADD (spec §2, §3). Every allocation is
//! explained; every failure becomes a diagnostic located at the YAML that causes it.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;

use super::{
    AddressSource, AddressUse, BlockRelation, BlockView, PodAllocation, PoolUsage, Simulation,
    TunnelAllocation, TunnelKind,
};
use crate::cni::{self, AddFailure, AddPath, AddRequest, FailureCause};
use crate::diagnostic::Diagnostic;
use crate::ipam::{self, AutoAssignArgs, Ipam, OwnerAttrs, ReservationSet};
use crate::manifest::Document;
use crate::model::annotations::{self, AnnotationProblem, PodIpamAnnotations};
use crate::model::{CniSettings, Model, Namespace, Origin, Replicas, Spanned};
use crate::net::{AllowedUse, Family, NetHasher};
use crate::net_index::NetIndex;
use crate::selector::Labels;
use crate::sorted_chunks::sorted_entry;
use crate::yaml::Pos;

/// The run's lookup tables hash short keys millions of times and are never iterated, so
/// rustc's FxHash serves them better than SipHash (networks excepted, see [`NetHasher`]).
type FastMap<K, V> = rustc_hash::FxHashMap<K, V>;

/// Who holds an address, by the handle its allocation was made under. Pods that got their
/// addresses by automatic assignment are not listed: their allocation's owner attributes name
/// them (see [`Driver::holder_of`]), so a million-pod run keeps no second record per pod.
#[derive(Clone, Debug)]
enum Holder {
    Pod(PodHolder),
    Tunnel(usize),
}

/// What a failure or the address map says about a pod holding an address.
#[derive(Clone, Debug)]
struct PodHolder {
    namespace: String,
    name: String,
    is_static: bool,
    running: bool,
    /// Where the pod (or its template) is written; `None` for an automatically assigned pod,
    /// which is never the replica of a template that asks for a static address.
    at: Option<(Option<String>, u32)>,
}

impl PodHolder {
    fn of(allocation: &PodAllocation) -> PodHolder {
        PodHolder {
            namespace: allocation.namespace.clone(),
            name: allocation.name.clone(),
            is_static: allocation.source == AddressSource::Static,
            running: allocation.running,
            at: allocation.line.map(|line| (allocation.file.clone(), line)),
        }
    }
}

/// One pod to create: a Pod document, or one replica of a workload's template.
struct PodToCreate<'m> {
    namespace: &'m str,
    name: String,
    /// `spec.nodeName`, or the node a DaemonSet replica runs on.
    node: Option<String>,
    host_network: bool,
    origin: &'m Origin,
    /// Where the pod is written: the Pod document, or the workload's template.
    pos: Pos,
    /// The annotations, read once per document (a template's replicas share them).
    ipam: &'m (PodIpamAnnotations, Vec<AnnotationProblem>),
    /// `Some(kind)` for a template replica.
    workload: Option<&'m str>,
    /// `status.podIPs` of a pod pasted from a running cluster: it already holds them.
    live_ips: &'m [Spanned<String>],
}

impl<'m> PodToCreate<'m> {
    /// A Pod document, on its `spec.nodeName`.
    fn of_pod(
        pod: &'m crate::model::Pod,
        ipam: &'m (PodIpamAnnotations, Vec<AnnotationProblem>),
    ) -> PodToCreate<'m> {
        PodToCreate {
            namespace: pod.namespace(),
            name: pod.name().to_owned(),
            node: pod.spec.node_name.as_ref().map(|n| n.value.clone()),
            host_network: pod.spec.host_network,
            origin: &pod.origin,
            pos: pod.origin.pos,
            ipam,
            workload: None,
            live_ips: &pod.pod_ips,
        }
    }
}

/// The simulation of `model` (whose documents are `documents`, in input order).
pub fn run(documents: &[Document], model: &Model) -> Simulation {
    run_with(documents, model, false, true)
}

/// [`run`] for callers that only read the diagnostics (`check`): the same allocations and the
/// same diagnostics, without the per-pod explanations, block views and pool usage.
pub(crate) fn diagnostics_only(documents: &[Document], model: &Model) -> Simulation {
    run_with(documents, model, true, true)
}

/// `shortcuts`: whether replicas may repeat an earlier failure (see [`RepeatedFailures`]).
fn run_with(documents: &[Document], model: &Model, lean: bool, shortcuts: bool) -> Simulation {
    let settings = model.cni_settings();
    let mut ipam = Ipam::new();
    // A pool Calico refuses to store does not exist for allocation.
    let (accepted, refused): (Vec<_>, Vec<_>) = model.pools.iter().partition(|pool| {
        crate::validate::accepted(&crate::model::Resource::IpPool((*pool).clone()))
    });
    let refused_pools: Vec<String> = refused.iter().map(|p| p.name().to_owned()).collect();
    let mut pools: Vec<ipam::Pool> = accepted
        .iter()
        .filter_map(|pool| pool.effective())
        .map(|pool| ipam::Pool::from(&pool))
        .collect();
    mark_overlapping(&mut pools);
    pools.sort_by(|a, b| a.name.cmp(&b.name));
    ipam.set_pools(pools);
    ipam.set_reservations(ReservationSet::new(
        model.reservations.iter().flat_map(|r| r.effective_cidrs()),
    ));
    ipam.set_config(model.ipam_config());

    let order = document_order(documents);
    // `Model::namespace` by name (the last document of a name wins), without a scan per pod.
    let namespace_index: FastMap<&str, &Namespace> =
        model.namespaces.iter().map(|ns| (ns.name(), ns)).collect();
    let pod_annotations: Vec<_> = model
        .pods
        .iter()
        .map(|pod| {
            annotations::read(
                &pod.meta,
                namespace_index.get(pod.namespace()).map(|ns| &ns.meta),
            )
        })
        .collect();
    let template_annotations: Vec<_> = model
        .workloads
        .iter()
        .map(|w| {
            annotations::read(
                &w.template.meta,
                namespace_index.get(w.namespace()).map(|ns| &ns.meta),
            )
        })
        .collect();
    let nodes = cluster_nodes(model, &order);
    // `Model::node` by name (the last document of a name wins), without a scan per lookup.
    let node_index: FastMap<&str, &crate::model::Node> =
        model.nodes.iter().map(|n| (n.name(), n)).collect();
    let node_labels =
        |name: &str| -> Labels { node_index.get(name).map(|n| n.labels()).unwrap_or_default() };
    for node in &nodes {
        ipam.set_node(node.clone(), node_labels(node));
    }
    // How many pods the input asks for (refused above `MAX_PODS`, below).
    let pods = model
        .workloads
        .iter()
        .map(|w| w.replicas.count(nodes.len()))
        .fold(model.pods.len(), usize::saturating_add);

    let mut driver = Driver {
        ipam,
        settings,
        model,
        simulation: Simulation::default(),
        owners: FastMap::default(),
        seen_blocks: HashSet::default(),
        pending: Vec::new(),
        borrowers: Vec::new(),
        refused_pools,
        tunnelless: Vec::new(),
        running: FastMap::default(),
        windows: model
            .nodes
            .iter()
            .map(|n| (n.name(), n.is_windows()))
            .collect(),
        namespace_labels: FastMap::default(),
        namespace_index,
        node_index: node_index.clone(),
        lean,
        handle_buffer: String::new(),
        repeated_failures: None,
        repeat_failures: shortcuts,
    };
    driver.simulation.nodes = nodes
        .iter()
        .map(|name| super::NodeView {
            name: name.clone(),
            windows: node_index
                .get(name.as_str())
                .is_some_and(|n| n.is_windows()),
            labels: node_labels(name),
        })
        .collect();
    // Pods are created in input order, a source's replicas one after another; they are
    // expanded as they are created rather than all listed up front.
    let sources = sources_in_order(model, &order);
    if model.pools.is_empty() {
        if let Some(note) = no_pools_note(model, &order) {
            driver.simulation.diagnostics.push(note);
            return driver.finish();
        }
    }
    if pods > MAX_PODS {
        driver
            .simulation
            .diagnostics
            .push(too_many_pods(model, pods));
        return driver.finish();
    }
    // Each pod created gets a handle: the index is sized once instead of rehashed as it grows.
    driver.ipam.reserve_handles(pods);
    // What a pasted live cluster already holds comes first: nodes' recorded tunnel addresses
    // and running pods' `status.podIPs` are allocated before anything starts or is created.
    for node in &nodes {
        driver.seed_tunnels(node);
    }
    driver.seed_running_pods(&nodes, &pod_annotations);
    for node in &nodes {
        driver.start_node(node);
    }
    let mut static_checks = Vec::new();
    for (workload, (annotations, _)) in model.workloads.iter().zip(&template_annotations) {
        if let Some(ips) = &annotations.ip_addrs {
            static_checks.extend(super::static_ips::replicated(workload, ips, nodes.len()));
        }
        static_checks.extend(super::static_ips::protection(
            &driver.ipam,
            model,
            &workload.origin,
            annotations,
            &nodes,
        ));
    }
    for (pod, (annotations, _)) in model.pods.iter().zip(&pod_annotations) {
        static_checks.extend(super::static_ips::protection(
            &driver.ipam,
            model,
            &pod.origin,
            annotations,
            &nodes,
        ));
    }
    driver.simulation.diagnostics.extend(static_checks);
    let mut next_node = 0usize;
    for source in sources {
        expand(
            model,
            source,
            &nodes,
            &pod_annotations,
            &template_annotations,
            &mut |pod| driver.create_next(pod, &nodes, &mut next_node),
        );
    }
    driver.finish()
}

/// The position of every document in the input, for ordering pods across kinds.
fn document_order(documents: &[Document]) -> HashMap<(Option<&str>, Pos), usize> {
    documents
        .iter()
        .enumerate()
        .map(|(index, doc)| ((doc.file.as_deref(), doc.pos), index))
        .collect()
}

fn order_of(order: &HashMap<(Option<&str>, Pos), usize>, origin: &Origin) -> usize {
    order
        .get(&(origin.file.as_deref(), origin.pos))
        .copied()
        .unwrap_or(usize::MAX)
}

/// The Node documents, then every node a pod or template names, in order of first appearance;
/// `node-1` when there are none.
fn cluster_nodes<'m>(model: &'m Model, order: &HashMap<(Option<&str>, Pos), usize>) -> Vec<String> {
    let mut nodes: Vec<String> = Vec::new();
    let mut known: HashSet<&str> = HashSet::new();
    let mut add = |name: &'m str, nodes: &mut Vec<String>| {
        if !name.is_empty() && known.insert(name) {
            nodes.push(name.to_owned());
        }
    };
    for node in &model.nodes {
        add(node.name(), &mut nodes);
    }
    let mut named: Vec<(usize, &str)> = model
        .pods
        .iter()
        .filter_map(|p| {
            Some((
                order_of(order, &p.origin),
                p.spec.node_name.as_ref()?.as_str(),
            ))
        })
        .chain(model.workloads.iter().filter_map(|w| {
            Some((
                order_of(order, &w.origin),
                w.template.spec.node_name.as_ref()?.as_str(),
            ))
        }))
        .collect();
    named.sort_by_key(|(index, _)| *index);
    for (_, name) in named {
        add(name, &mut nodes);
    }
    if nodes.is_empty() {
        nodes.push("node-1".to_owned());
    }
    nodes
}

/// What yields pods: a Pod document or a workload (by index in the model).
#[derive(Clone, Copy)]
enum PodSource {
    Pod(usize),
    Workload(usize),
}

/// The pod sources (Pod documents and workloads) in input order. The sort is stable, so sources
/// without a known place keep the model's order after all the others.
fn sources_in_order(model: &Model, order: &HashMap<(Option<&str>, Pos), usize>) -> Vec<PodSource> {
    let mut keyed: Vec<(usize, PodSource)> = model
        .pods
        .iter()
        .enumerate()
        .map(|(i, pod)| (order_of(order, &pod.origin), PodSource::Pod(i)))
        .chain(
            model
                .workloads
                .iter()
                .enumerate()
                .map(|(i, w)| (order_of(order, &w.origin), PodSource::Workload(i))),
        )
        .collect();
    keyed.sort_by_key(|(key, _)| *key);
    keyed.into_iter().map(|(_, source)| source).collect()
}

/// The pods of one source, in replica order.
fn expand<'m>(
    model: &'m Model,
    source: PodSource,
    nodes: &[String],
    pod_annotations: &'m [(PodIpamAnnotations, Vec<AnnotationProblem>)],
    template_annotations: &'m [(PodIpamAnnotations, Vec<AnnotationProblem>)],
    create: &mut impl FnMut(&PodToCreate<'m>),
) {
    match source {
        PodSource::Pod(i) => {
            let (Some(pod), Some(ipam)) = (model.pods.get(i), pod_annotations.get(i)) else {
                return;
            };
            create(&PodToCreate::of_pod(pod, ipam));
        }
        PodSource::Workload(i) => {
            let (Some(workload), Some(ipam)) =
                (model.workloads.get(i), template_annotations.get(i))
            else {
                return;
            };
            let template_node = workload.template.spec.node_name.as_ref();
            for index in 0..workload.replicas.count(nodes.len()) {
                let node = match workload.replicas {
                    Replicas::Count(_) => template_node.map(|n| n.value.clone()),
                    Replicas::PerNode => nodes.get(index).cloned(),
                };
                create(&PodToCreate {
                    namespace: workload.namespace(),
                    name: replica_name(workload.name(), index),
                    node,
                    host_network: workload.template.spec.host_network,
                    origin: &workload.origin,
                    pos: workload.template.pos,
                    ipam,
                    workload: Some(workload.origin.kind.as_str()),
                    live_ips: &[],
                });
            }
        }
    }
}

/// With no IPPool in the input every pod would fail alike; one note says more than a list of
/// errors. Located at the first pod source in input order, so every front end can show it.
fn no_pools_note(model: &Model, order: &HashMap<(Option<&str>, Pos), usize>) -> Option<Diagnostic> {
    let pods = model.pods.len()
        + model
            .workloads
            .iter()
            .map(|w| match w.replicas {
                Replicas::Count(n) => n as usize,
                Replicas::PerNode => 1,
            })
            .sum::<usize>();
    let first = model
        .pods
        .iter()
        .map(|p| (order_of(order, &p.origin), &p.origin, p.origin.pos))
        .chain(
            model
                .workloads
                .iter()
                .map(|w| (order_of(order, &w.origin), &w.origin, w.template.pos)),
        )
        .min_by_key(|(index, _, _)| *index)?;
    let note = Diagnostic::info(
        "no-pools",
        format!(
            "the input has no IPPool, so the allocation of its {pods} pods is not simulated; paste the cluster's pools (`kubectl get ippools -o yaml`) to plan addresses"
        ),
    );
    Some(first.1.locate(note, first.2))
}

/// The most pods one run simulates. Kubernetes supports 150 000 pods per cluster; a million
/// keeps a plan of any real cluster well inside a browser tab's memory, while `replicas: 2^31`
/// would otherwise run for hours.
pub const MAX_PODS: usize = 1_000_000;

/// Asking for more than [`MAX_PODS`] pods: one error at the workload that asks for the most.
fn too_many_pods(model: &Model, pods: usize) -> Diagnostic {
    let biggest = model.workloads.iter().max_by_key(|w| match w.replicas {
        Replicas::Count(n) => n as usize,
        Replicas::PerNode => 0,
    });
    let diagnostic = Diagnostic::error(
        "too-many-pods",
        format!(
            "the input asks for {pods} pods, more than the {MAX_PODS} the planner simulates (Kubernetes supports 150000 per cluster), so their allocation is not simulated"
        ),
    );
    match (biggest, model.pods.first()) {
        (Some(workload), _) => workload.origin.locate(
            diagnostic,
            workload.replicas_pos.unwrap_or(workload.template.pos),
        ),
        (None, Some(pod)) => pod.origin.locate(diagnostic, pod.origin.pos),
        (None, None) => diagnostic,
    }
}

/// Replica failures of one template that left the IPAM state as it was (see [`Ipam::writes`]),
/// by node. The next replica of the template on such a node, while the state is still
/// unchanged, sends the same request apart from its name, so it fails alike and is not
/// simulated again: in a pool-exhaustion run every failing replica would otherwise walk every
/// block of its pools. Kept per node because replicas without `nodeName` go round-robin.
struct RepeatedFailures<'m> {
    template: &'m Origin,
    /// The state's write count when the failures were seen; any write makes them stale.
    writes: u64,
    by_node: FastMap<String, AddFailure>,
}

/// A failure diagnostic waiting for its duplicates (replicas of one template fail alike).
struct Pending {
    diagnostic: Diagnostic,
    more: usize,
}

struct Driver<'m> {
    ipam: Ipam,
    settings: CniSettings,
    model: &'m Model,
    simulation: Simulation,
    /// Allocation handle → who holds it.
    owners: FastMap<String, Holder>,
    /// Blocks the run has seen allocated from; a block not seen before was claimed just now.
    seen_blocks: HashSet<IpNet, NetHasher>,
    pending: Vec<Pending>,
    /// Nodes that borrowed an address from a block affine to another node, by pool name
    /// (sorted by it, see [`sorted_entry`]).
    borrowers: Vec<(String, Vec<String>)>,
    /// Pools in the input that Calico would refuse, so they take no part in allocation.
    refused_pools: Vec<String>,
    /// Nodes left without a tunnel address although a pool enables that encapsulation for
    /// them, by pool name and encapsulation (sorted by them, see [`sorted_entry`]).
    tunnelless: Vec<((String, TunnelKind), Vec<String>)>,
    /// Whether each Node document (the last of a name wins, as `Model::node`) runs Windows.
    windows: FastMap<&'m str, bool>,
    /// Only the diagnostics are wanted (see [`diagnostics_only`]).
    lean: bool,
    /// `Model::node` by name.
    node_index: FastMap<&'m str, &'m crate::model::Node>,
    /// `Model::namespace` by name.
    namespace_index: FastMap<&'m str, &'m Namespace>,
    /// `Model::namespace_labels` per namespace, computed once.
    namespace_labels: FastMap<&'m str, Arc<Labels>>,
    /// Running pods (pasted with `status.podIPs`), placed before the nodes started, by
    /// namespace and name; each takes its slot in the pod list when the order reaches it.
    running: FastMap<(String, String), PodAllocation>,
    /// Reused for the handle of each pod created, instead of a new string per pod.
    handle_buffer: String,
    /// Replica failures that changed nothing.
    repeated_failures: Option<RepeatedFailures<'m>>,
    /// Whether replicas may repeat a failure instead of being simulated (off only in the test
    /// that shows the shortcut changes nothing).
    repeat_failures: bool,
}

const TUNNEL_KINDS: [TunnelKind; 5] = [
    TunnelKind::Wireguard,
    TunnelKind::WireguardV6,
    TunnelKind::Ipip,
    TunnelKind::Vxlan,
    TunnelKind::VxlanV6,
];

impl TunnelKind {
    fn handle_prefix(self) -> &'static str {
        match self {
            TunnelKind::Wireguard => "wireguard-tunnel-addr",
            TunnelKind::WireguardV6 => "wireguard-v6-tunnel-addr",
            TunnelKind::Ipip => "ipip-tunnel-addr",
            TunnelKind::Vxlan => "vxlan-tunnel-addr",
            TunnelKind::VxlanV6 => "vxlan-v6-tunnel-addr",
        }
    }

    fn attribute_type(self) -> &'static str {
        match self {
            TunnelKind::Wireguard => "wireguardTunnelAddress",
            TunnelKind::WireguardV6 => "wireguardV6TunnelAddress",
            TunnelKind::Ipip => "ipipTunnelAddress",
            TunnelKind::Vxlan => "vxlanTunnelAddress",
            TunnelKind::VxlanV6 => "vxlanV6TunnelAddress",
        }
    }

    fn family(self) -> Family {
        match self {
            TunnelKind::Wireguard | TunnelKind::Ipip | TunnelKind::Vxlan => Family::V4,
            TunnelKind::WireguardV6 | TunnelKind::VxlanV6 => Family::V6,
        }
    }
}

impl<'m> Driver<'m> {
    /// calico-node's start-up reconcile of tunnel addresses, in its fixed order (spec §4).
    fn start_node(&mut self, node: &str) {
        let model_node = self.node_index.get(node).copied();
        let labels = model_node.map(|n| n.labels()).unwrap_or_default();
        for kind in TUNNEL_KINDS {
            let wireguard_key = match kind {
                TunnelKind::Wireguard => {
                    model_node.is_some_and(|n| n.wireguard_public_key.is_some())
                }
                TunnelKind::WireguardV6 => {
                    model_node.is_some_and(|n| n.wireguard_public_key_v6.is_some())
                }
                _ => true,
            };
            if !wireguard_key {
                continue;
            }
            let candidates: Vec<IpNet> = self
                .ipam
                .pools()
                .iter()
                .filter(|pool| {
                    pool.allows(AllowedUse::Tunnel)
                        && !pool.disabled
                        && !pool.deleting
                        && pool.family() == kind.family()
                        && pool.selects_node(&labels).unwrap_or(false)
                        && match kind {
                            TunnelKind::Ipip => pool.ipip_mode.enabled(),
                            TunnelKind::Vxlan | TunnelKind::VxlanV6 => pool.vxlan_mode.enabled(),
                            TunnelKind::Wireguard | TunnelKind::WireguardV6 => true,
                        }
                })
                .map(|pool| pool.cidr)
                .collect();
            let handle = format!("{}-{node}", kind.handle_prefix());
            // Only a tunnel seeded from the node's recorded address can exist yet; the holders
            // list every tunnel by its handle, which is unique per node and kind.
            let recorded = match self.owners.get(&handle) {
                Some(Holder::Tunnel(index)) => Some(*index),
                _ => None,
            };
            if let Some(index) = recorded {
                // calico-node keeps a recorded address that lies in a candidate pool, and
                // releases it to assign a new one otherwise (spec §4, step 3).
                let ip = self.simulation.tunnels[index].ip;
                if candidates.iter().any(|c| c.contains(&ip)) {
                    continue;
                }
                let _ = self.ipam.release_by_handle(&handle);
                self.simulation.tunnels.remove(index);
                self.owners
                    .retain(|_, holder| !matches!(holder, Holder::Tunnel(_)));
                for (i, t) in self.simulation.tunnels.iter().enumerate() {
                    self.owners.insert(
                        format!("{}-{}", t.kind.handle_prefix(), t.node),
                        Holder::Tunnel(i),
                    );
                }
            }
            if candidates.is_empty() {
                self.note_tunnel_without_pool(kind, node, &labels);
                continue;
            }
            let v4 = kind.family() == Family::V4;
            let args = AutoAssignArgs {
                num4: usize::from(v4),
                num6: usize::from(!v4),
                handle: Some(handle.as_str().into()),
                attrs: OwnerAttrs::from_iter([("node", node), ("type", kind.attribute_type())]),
                hostname: node.to_owned(),
                ipv4_pools: if v4 { candidates.clone() } else { Vec::new() },
                ipv6_pools: if v4 { Vec::new() } else { candidates },
                intended_use: Some(AllowedUse::Tunnel),
                ..AutoAssignArgs::default()
            };
            let (a4, a6, result) = self.ipam.auto_assign(&args);
            // A shortfall is not an error of AutoAssign; its partial-fulfilment text says why.
            let shortfall = [&a4, &a6]
                .into_iter()
                .flatten()
                .find_map(|a| a.partial_fulfillment_error());
            let address = [a4, a6].into_iter().flatten().flat_map(|a| a.ips).next();
            match (result, address) {
                (Ok(()), Some(net)) => {
                    self.relate(net.addr(), node);
                    let index = self.simulation.tunnels.len();
                    self.owners.insert(handle, Holder::Tunnel(index));
                    self.simulation.tunnels.push(TunnelAllocation {
                        node: node.to_owned(),
                        kind,
                        ip: net.addr(),
                    });
                }
                (result, _) => {
                    let calico = match result {
                        Err(err) => err.message,
                        Ok(()) => shortfall.unwrap_or_else(|| "no address was assigned".to_owned()),
                    };
                    let mut diagnostic = Diagnostic::error(
                        "tunnel-address-failed",
                        format!(
                            "node {node} cannot get its {} tunnel address, so calico-node does not become ready",
                            kind.as_str()
                        ),
                    )
                    .calico(calico);
                    // At the Node document, or else at the first pool the address would come from.
                    let first_pool =
                        args.ipv4_pools
                            .iter()
                            .chain(&args.ipv6_pools)
                            .find_map(|cidr| {
                                self.model
                                    .pools
                                    .iter()
                                    .find(|p| p.effective().is_some_and(|e| e.cidr.net() == *cidr))
                            });
                    if let Some(n) = model_node {
                        diagnostic = n.origin.locate(diagnostic, n.origin.pos);
                    } else if let Some(pool) = first_pool {
                        diagnostic = pool.origin.locate(diagnostic, pool.origin.pos);
                    }
                    self.simulation.diagnostics.push(diagnostic);
                }
            }
        }
    }

    /// A pool enables an encapsulation for `node`, but none that selects it allows Tunnel:
    /// calico-node silently assigns no tunnel address (spec §4, step 2). Remembered per pool.
    fn note_tunnel_without_pool(&mut self, kind: TunnelKind, node: &str, labels: &Labels) {
        if matches!(kind, TunnelKind::Wireguard | TunnelKind::WireguardV6) {
            return;
        }
        let encapsulating = self.ipam.pools().iter().find(|pool| {
            !pool.disabled
                && !pool.deleting
                && pool.family() == kind.family()
                && pool.selects_node(labels).unwrap_or(false)
                && match kind {
                    TunnelKind::Ipip => pool.ipip_mode.enabled(),
                    _ => pool.vxlan_mode.enabled(),
                }
        });
        if let Some(pool) = encapsulating {
            sorted_entry(&mut self.tunnelless, (pool.name.clone(), kind)).push(node.to_owned());
        }
    }

    /// Places every running pod of the input (a Pod with `status.podIPs`) before anything else
    /// happens, on its `spec.nodeName` (a running pod always has one; else the first node).
    fn seed_running_pods(
        &mut self,
        nodes: &[String],
        pod_annotations: &'m [(PodIpamAnnotations, Vec<AnnotationProblem>)],
    ) {
        let model = self.model;
        for (pod, ipam) in model.pods.iter().zip(pod_annotations) {
            if pod.pod_ips.is_empty() {
                continue;
            }
            let node = pod
                .spec
                .node_name
                .as_ref()
                .map(|n| n.value.clone())
                .or_else(|| nodes.first().cloned())
                .unwrap_or_default();
            let to_create = PodToCreate {
                node: Some(node.clone()),
                ..PodToCreate::of_pod(pod, ipam)
            };
            let allocation = self.seed_pod(&to_create, &node);
            self.running
                .insert((to_create.namespace.to_owned(), to_create.name), allocation);
        }
    }

    /// A node pasted from a running cluster records its tunnel addresses (spec §4): they are
    /// allocated, under calico-node's handles, before anything else happens.
    fn seed_tunnels(&mut self, node: &str) {
        let Some(model_node) = self.node_index.get(node).copied() else {
            return;
        };
        let tunnel = &model_node.tunnel;
        let recorded = [
            (TunnelKind::Wireguard, &tunnel.wireguard_v4),
            (TunnelKind::WireguardV6, &tunnel.wireguard_v6),
            (TunnelKind::Ipip, &tunnel.ipip_v4),
            (TunnelKind::Vxlan, &tunnel.vxlan_v4),
            (TunnelKind::VxlanV6, &tunnel.vxlan_v6),
        ];
        for (kind, field) in recorded {
            let Some(ip) = field
                .as_ref()
                .and_then(|f| crate::net::parse_ip(f.value.trim()))
            else {
                continue;
            };
            let handle = format!("{}-{node}", kind.handle_prefix());
            let mut args = ipam::AssignIpArgs::new(ip, node);
            args.handle = Some(handle.as_str().into());
            args.attrs = OwnerAttrs::from_iter([("node", node), ("type", kind.attribute_type())]);
            // An address outside every enabled pool is simply not kept: calico-node assigns a
            // new one at start-up, which `start_node` then does.
            if self.ipam.assign_ip(&args).is_ok() {
                self.relate(ip, node);
                self.owners
                    .insert(handle, Holder::Tunnel(self.simulation.tunnels.len()));
                self.simulation.tunnels.push(TunnelAllocation {
                    node: node.to_owned(),
                    kind,
                    ip,
                });
            }
        }
    }

    /// A running pod keeps the addresses in its `status.podIPs`: they are allocated as they are,
    /// whatever the pod's annotations now say (annotations are read only at sandbox creation).
    fn seed_pod(&mut self, pod: &PodToCreate<'m>, node: &str) -> PodAllocation {
        let source = if pod.ipam.0.ip_addrs.is_some() {
            AddressSource::Static
        } else {
            AddressSource::Auto
        };
        let explanation = "running pod: it keeps the addresses in its status.podIPs";
        let mut allocation = pod_record(pod, node, source, explanation.into());
        allocation.running = true;
        let handle = live_handle(pod).unwrap_or_default();
        for field in pod.live_ips {
            let Some(ip) = crate::net::parse_ip(field.value.trim()) else {
                continue;
            };
            allocation.ips.push(ip);
            let mut args = ipam::AssignIpArgs::new(ip, node);
            args.handle = Some(handle.as_str().into());
            match self.ipam.assign_ip(&args) {
                Ok(()) => {
                    if allocation.pool.is_none() {
                        allocation.pool = self.pool_name_for(ip);
                        if let Some((relation, cidr)) = self.relate(ip, node) {
                            allocation.block = Some(cidr.to_string());
                            allocation.relation = Some(relation);
                        }
                    } else {
                        self.relate(ip, node);
                    }
                }
                Err(err) => {
                    let not_in_pool = err
                        .message
                        .starts_with("The provided IP address is not in a configured pool");
                    // An address in a disabled pool stays allocated in its block; only an address
                    // that no pool holds any more is worth a word of its own.
                    let in_some_pool = self.model.pools.iter().any(|p| {
                        p.spec
                            .cidr
                            .as_ref()
                            .and_then(|c| c.value.trim().parse::<IpNet>().ok())
                            .is_some_and(|c| c.contains(&ip))
                    });
                    if not_in_pool && in_some_pool {
                        continue;
                    }
                    let why = if not_in_pool {
                        "is in no IP pool (was its pool deleted?); the pod keeps it until it is recreated, then it cannot get it back"
                    } else {
                        "is recorded for another workload as well"
                    };
                    self.simulation.diagnostics.push(
                        pod.origin.locate(
                            Diagnostic::warning(
                                "live-address-conflict",
                                format!(
                                    "running pod {}/{} has {ip}, which {why}",
                                    pod.namespace, pod.name
                                ),
                            )
                            .calico(err.message.clone()),
                            field.pos,
                        ),
                    );
                }
            }
        }
        allocation
    }

    /// Creates `pod` on its node, or on the next node round-robin when it names none (as the
    /// contract assumes).
    fn create_next(&mut self, pod: &PodToCreate<'m>, nodes: &[String], next_node: &mut usize) {
        // A running pod was placed before the nodes started; it keeps its slot in the order.
        if !pod.live_ips.is_empty() {
            let key = (pod.namespace.to_owned(), pod.name.clone());
            if let Some(allocation) = self.running.remove(&key) {
                if let Some(handle) = live_handle(pod) {
                    self.owners
                        .insert(handle, Holder::Pod(PodHolder::of(&allocation)));
                }
                self.push_pod(|| allocation);
                return;
            }
        }
        let node: &str = match &pod.node {
            Some(node) => node,
            None => {
                let node = &nodes[*next_node % nodes.len()];
                *next_node += 1;
                node
            }
        };
        self.create_pod(pod, node);
    }

    /// Records a pod's allocation in the result; a lean run wants none, so it is not built.
    fn push_pod(&mut self, allocation: impl FnOnce() -> PodAllocation) {
        if !self.lean {
            self.simulation.pods.push(allocation());
        }
    }

    fn create_pod(&mut self, pod: &PodToCreate<'m>, node: &str) {
        if pod.host_network {
            let explanation =
                "host network: the pod uses its node's address; the CNI plugin is not called";
            self.push_pod(|| pod_record(pod, node, AddressSource::None, explanation.into()));
            return;
        }
        if let Some(failure) = self.repeats_failure(pod, node) {
            self.report_failure(pod, node, AddPath::Auto, &failure);
            self.push_pod(|| {
                let explanation = format!("stays in ContainerCreating: {}", failure.message);
                pod_record(pod, node, AddressSource::None, explanation)
            });
            return;
        }
        let container_id = concat(&[pod.namespace, "-", &pod.name]);
        let namespace_labels = if self.settings.policy_type == "k8s" {
            let namespaces = &self.namespace_index;
            self.namespace_labels
                .entry(pod.namespace)
                .or_insert_with(|| {
                    let namespace = namespaces.get(pod.namespace).copied();
                    Arc::new(Model::labels_of_namespace(namespace, pod.namespace))
                })
                .clone()
        } else {
            Arc::default()
        };
        let request = AddRequest {
            namespace: pod.namespace,
            pod: &pod.name,
            node,
            windows: self.windows.get(node).copied().unwrap_or(false),
            container_id: &container_id,
            annotations: &pod.ipam.0,
            annotation_problems: &pod.ipam.1,
            namespace_labels,
        };
        let writes = self.ipam.writes();
        let outcome = cni::add(&mut self.ipam, &self.settings, &request);
        if let Some(failure) = &outcome.failure {
            // Only the automatic path qualifies: a static request names its address, and the
            // limit-per-handle messages name the pod's handle.
            if pod.workload.is_some()
                && outcome.path == AddPath::Auto
                && self.ipam.writes() == writes
            {
                self.remember_failure(pod, node, failure);
            }
            self.report_failure(pod, node, outcome.path, failure);
            self.push_pod(|| {
                let explanation = format!("stays in ContainerCreating: {}", failure.message);
                pod_record(pod, node, AddressSource::None, explanation)
            });
            return;
        }
        let source = match outcome.path {
            AddPath::Static => AddressSource::Static,
            AddPath::Auto => AddressSource::Auto,
            AddPath::NoIpam => AddressSource::NoIpam,
        };
        if outcome.path != AddPath::NoIpam {
            self.record_holder(&container_id, pod, source);
        }
        let mut addresses = outcome.addresses.iter().map(IpNet::addr);
        let first = addresses.next();
        let related = first.and_then(|ip| self.relate(ip, node));
        for ip in addresses {
            self.relate(ip, node);
        }
        if self.lean {
            return;
        }
        let mut allocation = pod_record(pod, node, source, String::new());
        allocation.ips = outcome.addresses.iter().map(IpNet::addr).collect();
        if let Some(first) = first {
            allocation.pool = self.pool_name_for(first);
            if let (AddPath::Static | AddPath::Auto, Some((relation, cidr))) =
                (outcome.path, related)
            {
                let cidr_text = net_text(&cidr);
                let affinity = self.ipam.block(&cidr).and_then(|b| b.affinity.as_deref());
                allocation.relation = Some(relation);
                allocation.explanation = explain(
                    outcome.path,
                    relation,
                    &cidr_text,
                    allocation.pool.as_deref(),
                    node,
                    affinity,
                );
                allocation.block = Some(cidr_text);
            }
        }
        if outcome.path == AddPath::NoIpam {
            allocation.explanation =
                "used verbatim from ipAddrsNoIpam: IPAM is not consulted and records nothing"
                    .into();
        }
        self.simulation.pods.push(allocation);
    }

    /// The failure this replica repeats without being simulated, if any (see
    /// [`RepeatedFailures`]).
    fn repeats_failure(&self, pod: &PodToCreate<'m>, node: &str) -> Option<AddFailure> {
        let known = self.repeated_failures.as_ref()?;
        if !self.repeat_failures
            || pod.workload.is_none()
            || !std::ptr::eq(known.template, pod.origin)
            || known.writes != self.ipam.writes()
        {
            return None;
        }
        let failure = known.by_node.get(node)?;
        #[cfg(test)]
        tests::REPEATED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(failure.clone())
    }

    /// Records a replica's failure that changed nothing (see [`RepeatedFailures`]).
    fn remember_failure(&mut self, pod: &PodToCreate<'m>, node: &str, failure: &AddFailure) {
        let writes = self.ipam.writes();
        let known = self
            .repeated_failures
            .get_or_insert_with(|| RepeatedFailures {
                template: pod.origin,
                writes,
                by_node: FastMap::default(),
            });
        if !std::ptr::eq(known.template, pod.origin) || known.writes != writes {
            known.template = pod.origin;
            known.writes = writes;
            known.by_node.clear();
        }
        known.by_node.insert(node.to_owned(), failure.clone());
    }

    /// Remembers who holds the addresses of the handle CNI ADD made for `container_id`. A pod
    /// assigned automatically needs no entry (its owner attributes name it), but it replaces
    /// whatever an earlier pod of the same handle left.
    fn record_holder(&mut self, container_id: &str, pod: &PodToCreate<'m>, source: AddressSource) {
        self.handle_buffer.clear();
        cni::push_handle(&mut self.handle_buffer, container_id);
        if source != AddressSource::Static {
            if !self.owners.is_empty() {
                self.owners.remove(self.handle_buffer.as_str());
            }
            return;
        }
        let holder = PodHolder {
            namespace: pod.namespace.to_owned(),
            name: pod.name.clone(),
            is_static: true,
            running: false,
            at: Some((pod.origin.file.clone(), pod.pos.line)),
        };
        self.owners
            .insert(self.handle_buffer.clone(), Holder::Pod(holder));
    }

    /// How the block `ip` was allocated from relates to `node`: claimed just now (the run has
    /// not seen it before), affine to the node, or borrowed. Borrowers are remembered per pool.
    fn relate(&mut self, ip: IpAddr, node: &str) -> Option<(BlockRelation, IpNet)> {
        let block = self.ipam.block_for_ip(ip)?;
        let cidr = block.cidr();
        let relation = if self.seen_blocks.insert(cidr) {
            BlockRelation::NewlyClaimed
        } else if block
            .affinity
            .as_deref()
            .and_then(|a| a.strip_prefix("host:"))
            .is_some_and(|owner| owner == node)
        {
            BlockRelation::Affine
        } else {
            BlockRelation::Borrowed
        };
        if relation == BlockRelation::Borrowed {
            if let Some(pool) = self.pool_name_for(ip) {
                let nodes = sorted_entry(&mut self.borrowers, pool);
                if !nodes.iter().any(|n| n == node) {
                    nodes.push(node.to_owned());
                }
            }
        }
        Some((relation, cidr))
    }

    fn pool_name_for(&self, ip: IpAddr) -> Option<String> {
        // Of overlapping pools, the one that can allocate is the one the address came from.
        let pools = self.ipam.pools();
        pools
            .iter()
            .find(|p| p.is_enabled() && p.cidr.contains(&ip))
            .or_else(|| pools.iter().find(|p| p.cidr.contains(&ip)))
            .map(|p| p.name.clone())
    }

    /// Who holds `ip` now, for explaining an `Address already assigned` failure.
    fn holder_of(&self, ip: IpAddr) -> Option<Holder> {
        let block = self.ipam.block_for_ip(ip)?;
        self.holder_by(block.attributes_for_ip(&ip).ok()?)
    }

    /// Who holds an allocation: the handle's listed holder, else the pod its owner attributes
    /// name (a pod assigned automatically).
    fn holder_by(&self, attribute: &ipam::AllocationAttribute) -> Option<Holder> {
        let handle = attribute.handle_id.as_deref()?;
        if let Some(holder) = self.owners.get(handle) {
            return Some(holder.clone());
        }
        let attrs = &attribute.active_owner_attrs;
        let (namespace, name) = (attrs.get("namespace")?, attrs.get("pod")?);
        Some(Holder::Pod(PodHolder {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            is_static: false,
            running: false,
            at: None,
        }))
    }

    fn report_failure(
        &mut self,
        pod: &PodToCreate<'m>,
        node: &str,
        path: AddPath,
        failure: &AddFailure,
    ) {
        let who = format!("pod {}/{}", pod.namespace, pod.name);
        let static_pos = pod.ipam.0.ip_addrs.as_ref().map(|ips| ips.pos);
        let ip = failure.address.map(|ip| ip.to_string()).unwrap_or_default();
        let (code, message, pos) = match failure.cause {
            // Validation reports refused annotations where they are written.
            FailureCause::Annotation => return,
            FailureCause::Configuration => (
                "cni-configuration",
                format!("{who} is refused by the CNI plugin's configuration"),
                pod.pos,
            ),
            FailureCause::NotInPool => {
                let disabled = self
                    .model
                    .effective_pools()
                    .into_iter()
                    .find(|p| failure.address.is_some_and(|a| p.cidr.contains(&a)))
                    .filter(|p| p.disabled)
                    .map(|p| format!(" (pool {} contains it but is disabled)", p.name))
                    .unwrap_or_default();
                (
                    "static-ip-not-in-pool",
                    format!("{who} asks for {ip}, which is in no enabled IP pool{disabled}"),
                    static_pos.unwrap_or(pod.pos),
                )
            }
            FailureCause::UseNotAllowed => (
                "static-ip-use-not-allowed",
                format!("{who} asks for {ip}, but its pool does not allow Workload addresses"),
                static_pos.unwrap_or(pod.pos),
            ),
            FailureCause::InUse => {
                let holder = failure.address.and_then(|a| self.holder_of(a));
                match holder {
                    Some(Holder::Pod(other)) => {
                        let same_template = pod.workload.is_some()
                            && other.at.as_ref().is_some_and(|(file, line)| {
                                *file == pod.origin.file && *line == pod.pos.line
                            });
                        if same_template {
                            // `static-ip-replicated` already says so, at the template.
                            return;
                        }
                        let code = if other.is_static && !other.running {
                            "static-ip-duplicate"
                        } else {
                            "static-ip-in-use"
                        };
                        let how = if other.running {
                            "is running with it"
                        } else if other.is_static {
                            "also requests it and is created first"
                        } else {
                            "was given it by automatic assignment first"
                        };
                        (
                            code,
                            format!("{who} asks for {ip}, but pod {}/{} {how}", other.namespace, other.name),
                            static_pos.unwrap_or(pod.pos),
                        )
                    }
                    Some(Holder::Tunnel(index)) => {
                        let tunnel = &self.simulation.tunnels[index];
                        (
                            "static-ip-in-use",
                            format!(
                                "{who} asks for {ip}, but node {} took it as its {} tunnel address at start-up",
                                tunnel.node,
                                tunnel.kind.as_str()
                            ),
                            static_pos.unwrap_or(pod.pos),
                        )
                    }
                    None => (
                        "static-ip-in-use",
                        format!("{who} asks for {ip}, which is already allocated"),
                        static_pos.unwrap_or(pod.pos),
                    ),
                }
            }
            FailureCause::StrictAffinity => (
                "static-ip-strict-affinity",
                format!(
                    "{who} on {node} asks for {ip}, but strict affinity is on and its block is not affine to {node}"
                ),
                static_pos.unwrap_or(pod.pos),
            ),
            FailureCause::PoolNotFound => (
                "pool-not-found",
                format!("{who} names an IP pool that does not exist, is disabled, or is not an exact pool CIDR"),
                pool_annotation_pos(&pod.ipam.0).unwrap_or(pod.pos),
            ),
            FailureCause::PoolFamilyMismatch => (
                "pool-family-mismatch",
                format!("{who} lists a pool of the wrong IP family"),
                pool_annotation_pos(&pod.ipam.0).unwrap_or(pod.pos),
            ),
            FailureCause::NoPool => (
                "no-pool-for-node",
                format!("no IP pool can serve {who} on node {node} (check the pools' nodeSelector, namespaceSelector, allowedUses and assignmentMode)"),
                pod.pos,
            ),
            FailureCause::BlockLimit => (
                "block-limit",
                format!("{who}: node {node} would need more blocks than maxBlocksPerHost allows"),
                pod.pos,
            ),
            FailureCause::Exhausted => (
                "pool-exhausted",
                format!("{who} on node {node} gets no address: the pools it may use are exhausted"),
                pod.pos,
            ),
            FailureCause::Other => (
                "allocation-failed",
                format!("{who} gets no address"),
                pod.pos,
            ),
        };
        let _ = path;
        let mut message = message;
        if !self.refused_pools.is_empty()
            && matches!(
                failure.cause,
                FailureCause::NoPool | FailureCause::NotInPool | FailureCause::PoolNotFound
            )
        {
            message.push_str(&format!(
                "; note that Calico refuses pool {} (see its diagnostics), so it does not exist",
                self.refused_pools.join(", ")
            ));
        }
        let mut diagnostic = pod
            .origin
            .locate(Diagnostic::error(code, message), pos)
            .calico(failure.message.clone());
        if let Some((description, value, start, end)) = self.correction(pod, failure) {
            diagnostic = diagnostic
                .with_fix(description, value.clone())
                .with_edit(start, end, value);
        }
        // Only a template's replicas are folded together; a Pod document's failure is its own,
        // so it skips the search (which would make 20 000 failing pods quadratic).
        let duplicate = pod.workload.and_then(|_| {
            self.pending.iter_mut().find(|p| {
                p.diagnostic.code == diagnostic.code
                    && p.diagnostic.line == diagnostic.line
                    && p.diagnostic.column == diagnostic.column
                    && p.diagnostic.file == diagnostic.file
            })
        });
        match duplicate {
            Some(pending) => pending.more += 1,
            None => self.pending.push(Pending {
                diagnostic,
                more: 0,
            }),
        }
    }

    /// A corrected annotation value for a failure whose intent is clear: a static address one
    /// keystroke from a usable one, or a pool entry that names a pool only nearly.
    fn correction(
        &self,
        pod: &PodToCreate<'m>,
        failure: &AddFailure,
    ) -> Option<(String, String, Pos, Pos)> {
        let annotations = &pod.ipam.0;
        let pools = self.ipam.pools();
        match failure.cause {
            FailureCause::NotInPool => {
                let ips = annotations.ip_addrs.as_ref()?;
                let wrong = failure.address?;
                let right = super::suggest::typo_fix(wrong, pools)?;
                let entries: Vec<String> = ips
                    .ips
                    .iter()
                    .map(|ip| if *ip == wrong { right } else { *ip }.to_string())
                    .collect();
                let value = super::suggest::list_value(&entries);
                Some((
                    format!("did you mean {right}? It is in an enabled pool"),
                    value,
                    ips.pos,
                    ips.end,
                ))
            }
            FailureCause::PoolNotFound => {
                let list = annotations
                    .ipv4_pools
                    .iter()
                    .chain(&annotations.ipv6_pools)
                    .find(|l| {
                        l.value
                            .iter()
                            .any(|e| super::suggest::pool_entry(e, pools).is_some())
                    })?;
                let entries: Vec<String> = list
                    .value
                    .iter()
                    .map(|e| super::suggest::pool_entry(e, pools).unwrap_or_else(|| e.clone()))
                    .collect();
                let value = super::suggest::list_value(&entries);
                Some((
                    format!("name the pool as Calico knows it: {value}"),
                    value,
                    list.pos,
                    list.end,
                ))
            }
            _ => None,
        }
    }

    fn finish(mut self) -> Simulation {
        self.report_borrowing();
        self.report_tunnelless();
        for pending in self.pending.drain(..) {
            let mut diagnostic = pending.diagnostic;
            if pending.more > 0 {
                diagnostic.message.push_str(&format!(
                    " (and {} more pod{} of the same template)",
                    pending.more,
                    if pending.more == 1 { "" } else { "s" }
                ));
            }
            self.simulation.diagnostics.push(diagnostic);
        }
        if self.lean {
            return self.simulation;
        }
        let utilization = self.ipam.get_utilization(&[]);
        let usage: HashMap<IpNet, super::BlockUsage> = utilization
            .iter()
            .flat_map(|pool| &pool.blocks)
            .map(|b| {
                let small = |n: u128| u32::try_from(n).unwrap_or(u32::MAX);
                (
                    b.cidr,
                    super::BlockUsage {
                        in_use: small(b.in_use),
                        reserved: small(b.reserved),
                        available: small(b.available),
                    },
                )
            })
            .collect();
        self.simulation.blocks = self.block_views(&usage);
        self.simulation.pools = utilization
            .into_iter()
            .filter(|u| self.ipam.pools().iter().any(|p| p.name == u.name))
            .map(|u| PoolUsage {
                name: u.name,
                cidr: u.cidr.to_string(),
                capacity: u.capacity,
                in_use: u.in_use,
                reserved: u.reserved,
                available: u.available,
            })
            .collect();
        self.simulation
    }

    /// `tunnel-no-pool`: an encapsulation a pool enables, with no pool to take its addresses from.
    fn report_tunnelless(&mut self) {
        for ((pool_name, kind), nodes) in std::mem::take(&mut self.tunnelless) {
            let Some(pool) = self.model.pools.iter().find(|p| p.name() == pool_name) else {
                continue;
            };
            let pos = pool
                .spec
                .allowed_uses
                .as_ref()
                .map_or(pool.origin.pos, |u| u.pos);
            let shown: Vec<&str> = nodes.iter().take(5).map(String::as_str).collect();
            let more = nodes.len().saturating_sub(shown.len());
            let names = if more > 0 {
                format!("{} and {more} more", shown.join(", "))
            } else {
                shown.join(", ")
            };
            self.simulation.diagnostics.push(pool.origin.locate(
                Diagnostic::warning(
                    "tunnel-no-pool",
                    format!(
                        "pool {pool_name} enables {} for {names}, but no pool that selects {} allows Tunnel: calico-node assigns no {} tunnel address, so encapsulated traffic to {} pods has no tunnel endpoint. Add Tunnel to `allowedUses`",
                        match kind {
                            TunnelKind::Ipip => "IPIP",
                            _ => "VXLAN",
                        },
                        if nodes.len() == 1 { "it" } else { "them" },
                        kind.as_str(),
                        if nodes.len() == 1 { "its" } else { "their" },
                    ),
                ),
                pos,
            ));
        }
    }

    /// `block-borrowed`: nodes left without a block of their own in a fully carved pool.
    fn report_borrowing(&mut self) {
        for (pool_name, nodes) in std::mem::take(&mut self.borrowers) {
            let Some(pool) = self.model.pools.iter().find(|p| p.name() == pool_name) else {
                continue;
            };
            let blocks = self
                .ipam
                .pools()
                .iter()
                .find(|p| p.name == pool_name)
                .map(|p| {
                    1u128
                        .checked_shl(u32::from(p.block_size - p.cidr.prefix_len()))
                        .unwrap_or(u128::MAX)
                })
                .unwrap_or(0);
            let shown: Vec<&str> = nodes.iter().take(5).map(String::as_str).collect();
            let more = nodes.len().saturating_sub(shown.len());
            let names = if more > 0 {
                format!("{} and {more} more", shown.join(", "))
            } else {
                shown.join(", ")
            };
            let pos = pool.spec.cidr.as_ref().map_or(pool.origin.pos, |c| c.pos);
            self.simulation.diagnostics.push(pool.origin.locate(
                Diagnostic::warning(
                    "block-borrowed",
                    format!(
                        "pool {pool_name} has only {blocks} blocks and all are claimed: {names} get{} no block of {} own and borrow addresses from other nodes' blocks (routed as single addresses; with strictAffinity they would get none). Use a larger pool or smaller blocks",
                        if nodes.len() == 1 { "s" } else { "" },
                        if nodes.len() == 1 { "its" } else { "their" },
                    ),
                ),
                pos,
            ));
        }
    }

    fn block_views(&self, usage: &HashMap<IpNet, super::BlockUsage>) -> Vec<BlockView> {
        let reservations = self.ipam.reservations();
        let mut views: Vec<BlockView> = self
            .ipam
            .list_blocks(None)
            .into_iter()
            .map(|block| {
                let cidr = block.cidr();
                let used = block
                    .allocated_ordinals()
                    .into_iter()
                    .filter_map(|ordinal| {
                        let ip = block.ordinal_to_ip(ordinal)?;
                        let attr = block.attributes_for_ip(&ip).ok();
                        let usage = match attr.and_then(|a| a.handle_id.as_deref()) {
                            Some(handle)
                                if handle.eq_ignore_ascii_case("windows-reserved-ipam-handle") =>
                            {
                                AddressUse::WindowsReserved
                            }
                            Some(_) => match attr.and_then(|a| self.holder_by(a)) {
                                Some(Holder::Pod(pod)) => AddressUse::Pod {
                                    namespace: pod.namespace,
                                    name: pod.name,
                                    is_static: pod.is_static,
                                },
                                Some(Holder::Tunnel(i)) => {
                                    let tunnel = &self.simulation.tunnels[i];
                                    AddressUse::Tunnel {
                                        node: tunnel.node.clone(),
                                        kind: tunnel.kind,
                                    }
                                }
                                None => AddressUse::Cooldown,
                            },
                            None => AddressUse::Cooldown,
                        };
                        Some((ip, usage))
                    })
                    .collect();
                let reserved = reservations
                    .cidrs()
                    .iter()
                    .filter_map(|r| clip(r, &cidr))
                    .map(|net| net.to_string())
                    .collect();
                BlockView {
                    cidr: cidr.to_string(),
                    pool: self.pool_name_for(cidr.network()).unwrap_or_default(),
                    affinity: block.affinity.clone(),
                    size: u32::try_from(block.num_addresses()).unwrap_or(u32::MAX),
                    used,
                    reserved,
                    usage: usage.get(&cidr).copied().unwrap_or_default(),
                }
            })
            .collect();
        views.sort_by_key(|view| view.cidr.parse::<IpNet>().ok());
        views
    }
}

/// The part of reservation `r` inside `block`, when they overlap (CIDRs nest or are disjoint).
fn clip(r: &IpNet, block: &IpNet) -> Option<IpNet> {
    if block.contains(r) {
        Some(*r)
    } else if r.contains(block) {
        Some(*block)
    } else {
        None
    }
}

/// kube-controllers (v3.32+, spec §1.1.4) marks a pool that overlaps an older one `CIDROverlap`
/// (`Allocatable=False`); the input's order stands for age, and disabled pools block nothing.
/// Without this, overlapping pools with different block sizes carve overlapping blocks and hand
/// one address out twice.
fn mark_overlapping(pools: &mut [ipam::Pool]) {
    let mut kept = NetIndex::default();
    for (index, pool) in pools.iter_mut().enumerate().filter(|(_, p)| !p.disabled) {
        if kept.overlapping(&pool.cidr).next().is_some() {
            pool.allocatable = false;
        } else {
            kept.insert(&pool.cidr, index);
        }
    }
}

fn pool_annotation_pos(annotations: &PodIpamAnnotations) -> Option<Pos> {
    annotations
        .ipv4_pools
        .as_ref()
        .or(annotations.ipv6_pools.as_ref())
        .map(|p: &Spanned<Vec<String>>| p.pos)
}

/// A pod's entry in the result, before its addresses are known.
fn pod_record(
    pod: &PodToCreate<'_>,
    node: &str,
    source: AddressSource,
    explanation: String,
) -> PodAllocation {
    PodAllocation {
        namespace: pod.namespace.to_owned(),
        name: pod.name.clone(),
        node: node.to_owned(),
        ips: Vec::new(),
        source,
        pool: None,
        block: None,
        relation: None,
        explanation,
        running: false,
        file: pod.origin.file.clone(),
        line: Some(pod.pos.line),
        column: Some(pod.pos.column),
    }
}

/// The parts joined, in one allocation.
fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        out.push_str(part);
    }
    out
}

/// `<workload>-<index>`, the contract's replica name.
fn replica_name(workload: &str, index: usize) -> String {
    let mut out = String::with_capacity(workload.len() + 8);
    out.push_str(workload);
    out.push('-');
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = index;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        out.push(char::from(d));
    }
    out
}

/// `net.to_string()`, without the formatting machinery for the common IPv4 case (it runs once
/// per pod).
fn net_text(net: &IpNet) -> String {
    let IpNet::V4(v4) = net else {
        return net.to_string();
    };
    let mut out = String::with_capacity(18);
    for (i, octet) in v4.addr().octets().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        push_decimal(&mut out, octet);
    }
    out.push('/');
    push_decimal(&mut out, v4.prefix_len());
    out
}

fn push_decimal(out: &mut String, value: u8) {
    if value >= 100 {
        out.push(char::from(b'0' + value / 100));
    }
    if value >= 10 {
        out.push(char::from(b'0' + value / 10 % 10));
    }
    out.push(char::from(b'0' + value % 10));
}

fn explain(
    path: AddPath,
    relation: BlockRelation,
    block: &str,
    pool: Option<&str>,
    node: &str,
    affinity: Option<&str>,
) -> String {
    let pool = pool.unwrap_or("?");
    match (path, relation) {
        (AddPath::Static, BlockRelation::NewlyClaimed) => format!(
            "static address from ipAddrs; its block {block} of pool {pool} did not exist yet, so it is created affine to {node}"
        ),
        (AddPath::Static, BlockRelation::Affine) => {
            format!("static address from ipAddrs, in {node}'s block {block} of pool {pool}")
        }
        (AddPath::Static, BlockRelation::Borrowed) => format!(
            "static address from ipAddrs, in block {block} of pool {pool}, affine to {} (allowed because strict affinity is off)",
            affinity.unwrap_or("no node")
        ),
        // The two explanations nearly every pod gets, built without the formatting machinery.
        (_, BlockRelation::NewlyClaimed) => concat(&[
            node,
            " had no free address in its blocks and claimed block ",
            block,
            " of pool ",
            pool,
            ", the first unclaimed one in its order",
        ]),
        (_, BlockRelation::Affine) => concat(&[
            "next free address of ",
            node,
            "'s block ",
            block,
            " (pool ",
            pool,
            ")",
        ]),
        (_, BlockRelation::Borrowed) => format!(
            "borrowed from block {block} of pool {pool}, affine to {}: every block of the pool is claimed and strict affinity is off",
            affinity.unwrap_or("no node")
        ),
    }
}

/// The handle a running pod's addresses are recorded under (its container ID is unknown, so the
/// pod's identity stands in for it).
fn live_handle(pod: &PodToCreate<'_>) -> Option<String> {
    (!pod.live_ips.is_empty()).then(|| cni::handle_for(&format!("{}-{}", pod.namespace, pod.name)))
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;
    use std::path::Path;

    use super::*;
    use crate::{analyze, Source};

    /// How many replicas repeated a failure instead of being simulated (all tests together).
    pub(super) static REPEATED: std::sync::atomic::AtomicUsize =
        std::sync::atomic::AtomicUsize::new(0);

    /// Runs `text` with and without the repeated-failure shortcut, as `simulate` and as
    /// `check` do: the shortcut must not change a single pod, block or diagnostic.
    fn assert_shortcut_changes_nothing(name: &str, text: &str) {
        let analysis = analyze(&[Source::new(Some(name), text)]);
        for lean in [false, true] {
            let fast = run_with(&analysis.documents, &analysis.model, lean, true);
            let slow = run_with(&analysis.documents, &analysis.model, lean, false);
            assert!(fast == slow, "{name} (lean: {lean}) differs:\n{text}");
        }
    }

    fn yaml_files(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                yaml_files(&path, found);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                found.push(path);
            }
        }
    }

    #[test]
    fn repeating_failures_changes_nothing_for_the_fixtures_and_examples() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        yaml_files(&root.join("tests/fixtures"), &mut files);
        yaml_files(&root.join("static/examples"), &mut files);
        assert!(
            files.len() > 20,
            "fixtures not found under {}",
            root.display()
        );
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            assert_shortcut_changes_nothing(&file.to_string_lossy(), &text);
        }
    }

    /// Clusters built to fail: small pools with several node selectors, reservations, strict
    /// affinity, block caps, cooldowns, Windows nodes, templates pinned and spread round-robin,
    /// DaemonSets, and pods between the replicas that change the state.
    #[test]
    fn repeating_failures_changes_nothing_for_exhausted_clusters() {
        for case in 0..160u32 {
            // A fixed, well-mixed choice per case and question.
            let pick = |n: u32, salt: u32| {
                let h = (u64::from(case) + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
                    ^ u64::from(salt).wrapping_mul(0xc2b2_ae3d_27d4_eb4f);
                ((h ^ (h >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9) >> 32) as u32 % n
            };
            let mut text = String::new();
            let strict = pick(2, 1) == 0;
            let _ = write!(
                text,
                "apiVersion: projectcalico.org/v3\nkind: IPAMConfiguration\nmetadata:\n  name: default\nspec:\n  strictAffinity: {strict}\n  maxBlocksPerHost: {}\n",
                if strict { pick(3, 2) } else { 0 }
            );
            let block = 28 + pick(3, 3);
            let _ = write!(
                text,
                "---\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: a\nspec:\n  cidr: 10.0.0.0/{}\n  blockSize: {block}\n  ipipMode: {}\n  nodeSelector: {}\n",
                26 + pick(2, 4),
                ["Never", "Always"][pick(2, 5) as usize],
                ["all()", "zone == 'a'", "!all()"][pick(3, 6) as usize]
            );
            if pick(2, 7) == 0 {
                let _ = write!(
                    text,
                    "---\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: b\nspec:\n  cidr: 10.1.0.0/28\n  blockSize: 30\n  nodeSelector: zone == 'b'\n"
                );
            }
            if pick(2, 8) == 0 {
                let _ = write!(
                    text,
                    "---\napiVersion: projectcalico.org/v3\nkind: IPReservation\nmetadata:\n  name: r\nspec:\n  reservedCIDRs: [10.0.0.{}/29]\n",
                    8 * pick(4, 9)
                );
            }
            let nodes = 1 + pick(3, 10);
            for n in 0..nodes {
                let windows = if pick(4, 11) == n {
                    "\n  labels:\n    kubernetes.io/os: windows"
                } else {
                    ""
                };
                let _ = write!(
                    text,
                    "---\napiVersion: v1\nkind: Node\nmetadata:\n  name: n{n}{windows}\n  labels:\n    zone: {}\n",
                    ["a", "b"][(n % 2) as usize]
                );
            }
            for w in 0..1 + pick(3, 12) {
                let pinned = if pick(2, 13 + w) == 0 {
                    format!("\n      nodeName: n{}", w % nodes)
                } else {
                    String::new()
                };
                let kind = ["Deployment", "StatefulSet", "DaemonSet"][pick(3, 14 + w) as usize];
                let _ = write!(
                    text,
                    "---\napiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: w{w}\n  namespace: default\nspec:\n  replicas: {}\n  template:\n    spec:{pinned}\n      containers: [{{name: c, image: i}}]\n",
                    20 + 15 * pick(4, 15 + w)
                );
                if pick(3, 16 + w) == 0 {
                    let _ = write!(
                        text,
                        "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: single{w}\n  namespace: default\nspec:\n  nodeName: n0\n  containers: [{{name: c, image: i}}]\n"
                    );
                }
            }
            assert_shortcut_changes_nothing(&format!("case {case}"), &text);
        }
        let repeated = REPEATED.load(std::sync::atomic::Ordering::Relaxed);
        assert!(
            repeated > 1_000,
            "the shortcut was taken only {repeated} times"
        );
    }
}
