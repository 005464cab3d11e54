//! Pods, and the workload templates whose pod templates count as pods (one per replica).

use crate::yaml::{Node, Pos};

use super::fields::{Origin, Reader, Spanned};
use super::meta::Meta;

/// The namespace of a namespaced resource that names none.
pub const DEFAULT_NAMESPACE: &str = "default";

/// A `Pod`.
#[derive(Clone, Debug, PartialEq)]
pub struct Pod {
    pub origin: Origin,
    pub meta: Meta,
    pub spec: PodSpec,
    /// `status.podIPs[].ip` as written (pods pasted from a running cluster).
    pub pod_ips: Vec<Spanned<String>>,
}

/// The parts of a pod spec that matter to IPAM.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodSpec {
    pub node_name: Option<Spanned<String>>,
    /// Host-network pods get no address from the CNI plugin.
    pub host_network: bool,
}

impl PodSpec {
    fn read(reader: &mut Reader<'_>, parent: &Node, path: &str) -> PodSpec {
        let Some(spec) = reader.object(parent, "spec", path) else {
            return PodSpec::default();
        };
        let path = super::fields::join(path, "spec");
        PodSpec {
            node_name: reader
                .string(spec, "nodeName", &path)
                .filter(|name| !name.value.is_empty()),
            host_network: reader
                .boolean(spec, "hostNetwork", &path)
                .is_some_and(|flag| flag.value),
        }
    }
}

impl Pod {
    pub(crate) fn read(reader: &mut Reader<'_>, origin: Origin, root: &Node) -> Pod {
        let meta = Meta::read(reader, root, "");
        let spec = PodSpec::read(reader, root, "");
        let mut pod_ips = Vec::new();
        if let Some(status) = reader.object(root, "status", "") {
            if let Some(ips) = Reader::child(status, "podIPs") {
                match ips.as_seq() {
                    Some(items) => {
                        for (index, item) in items.iter().enumerate() {
                            let path = format!("status.podIPs[{index}]");
                            if item.as_map().is_none() {
                                reader.wrong_type(item, &path, "object");
                            } else if let Some(ip) = reader.string(item, "ip", &path) {
                                pod_ips.push(ip);
                            }
                        }
                    }
                    None => reader.wrong_type(ips, "status.podIPs", "array"),
                }
            }
        }
        Pod {
            origin,
            meta,
            spec,
            pod_ips,
        }
    }

    pub fn name(&self) -> &str {
        self.meta.name()
    }

    /// The pod's namespace; `default` when it names none.
    pub fn namespace(&self) -> &str {
        self.meta
            .namespace
            .as_ref()
            .map_or(DEFAULT_NAMESPACE, Spanned::as_str)
    }
}

/// The kinds whose pod template yields pods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    Job,
    CronJob,
}

impl WorkloadKind {
    pub fn parse(kind: &str) -> Option<WorkloadKind> {
        Some(match kind {
            "Deployment" => WorkloadKind::Deployment,
            "StatefulSet" => WorkloadKind::StatefulSet,
            "DaemonSet" => WorkloadKind::DaemonSet,
            "ReplicaSet" => WorkloadKind::ReplicaSet,
            "Job" => WorkloadKind::Job,
            "CronJob" => WorkloadKind::CronJob,
            _ => return None,
        })
    }
}

/// How many pods a workload yields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replicas {
    /// A fixed count (`replicas`, or a Job's `parallelism`; 1 when unset).
    Count(u32),
    /// One pod per node (DaemonSet).
    PerNode,
}

impl Replicas {
    /// How many pods this yields in a cluster of `nodes` nodes.
    pub fn count(self, nodes: usize) -> usize {
        match self {
            Replicas::Count(count) => count as usize,
            Replicas::PerNode => nodes,
        }
    }
}

/// A pod template: the metadata and spec every pod of the workload starts from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodTemplate {
    /// Where the template is written.
    pub pos: Pos,
    pub meta: Meta,
    pub spec: PodSpec,
}

/// A Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or CronJob.
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    pub origin: Origin,
    pub kind: WorkloadKind,
    pub meta: Meta,
    pub replicas: Replicas,
    /// Where the replica count is written, when it is.
    pub replicas_pos: Option<Pos>,
    pub template: PodTemplate,
}

impl Workload {
    pub(crate) fn read(
        reader: &mut Reader<'_>,
        origin: Origin,
        kind: WorkloadKind,
        root: &Node,
    ) -> Workload {
        let meta = Meta::read(reader, root, "");
        let spec = reader.object(root, "spec", "");
        // A CronJob wraps a Job spec; everything below reads that Job spec.
        let (job_spec, job_path) = match kind {
            WorkloadKind::CronJob => {
                let job_template = spec.and_then(|s| reader.object(s, "jobTemplate", "spec"));
                (
                    job_template.and_then(|t| reader.object(t, "spec", "spec.jobTemplate")),
                    "spec.jobTemplate.spec",
                )
            }
            _ => (spec, "spec"),
        };
        let count_key = match kind {
            WorkloadKind::Job | WorkloadKind::CronJob => "parallelism",
            _ => "replicas",
        };
        let (mut replicas, replicas_pos) = match kind {
            WorkloadKind::DaemonSet => (Replicas::PerNode, None),
            _ => {
                let count = job_spec.and_then(|s| reader.integer(s, count_key, job_path));
                match count {
                    None => (Replicas::Count(1), None),
                    Some(n) => match u32::try_from(n.value) {
                        Ok(value) => (Replicas::Count(value), Some(n.pos)),
                        Err(_) => {
                            reader.invalid(
                                n.pos,
                                format!("`{job_path}.{count_key}` must be a non-negative integer"),
                            );
                            (Replicas::Count(0), Some(n.pos))
                        }
                    },
                }
            }
        };
        // A Job never runs more pods at once than it needs completions.
        if matches!(kind, WorkloadKind::Job | WorkloadKind::CronJob) {
            let completions = job_spec.and_then(|s| reader.integer(s, "completions", job_path));
            if let (Replicas::Count(count), Some(done)) = (replicas, completions) {
                if let Ok(done) = u32::try_from(done.value) {
                    replicas = Replicas::Count(count.min(done));
                }
            }
        }
        let template = match job_spec.and_then(|s| reader.object(s, "template", job_path)) {
            Some(node) => {
                let path = format!("{job_path}.template");
                PodTemplate {
                    pos: node.pos,
                    meta: Meta::read(reader, node, &path),
                    spec: PodSpec::read(reader, node, &path),
                }
            }
            None => PodTemplate {
                pos: origin.pos,
                ..PodTemplate::default()
            },
        };
        Workload {
            origin,
            kind,
            meta,
            replicas,
            replicas_pos,
            template,
        }
    }

    pub fn name(&self) -> &str {
        self.meta.name()
    }

    pub fn namespace(&self) -> &str {
        self.meta
            .namespace
            .as_ref()
            .map_or(DEFAULT_NAMESPACE, Spanned::as_str)
    }

    /// The names of the pods this workload yields when it yields `count` of them:
    /// `<name>-0, <name>-1, …` (the contract's naming for every kind).
    pub fn pod_names(&self, count: u32) -> Vec<String> {
        (0..count).map(|i| format!("{}-{i}", self.name())).collect()
    }
}
