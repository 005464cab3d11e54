//! The typed input model: every kind of the contract, read from [`Document`]s.
//!
//! Each resource keeps its [`Origin`] and each field its position ([`Spanned`]), so every later
//! diagnostic can point at the offending YAML node. Fields keep what was written (validation
//! must see an unmasked CIDR or an unknown mode to report it); the typed, defaulted values Calico
//! stores are derived on demand (`IpPool::effective`, `IpamConfiguration::effective`, …) and use
//! the `net` types, so they cannot hold values Calico would refuse.
//!
//! Reading never fails: a field of the wrong type is a located `schema` diagnostic and is then
//! treated as unset.

pub mod annotations;
mod block_affinity;
mod cluster;
mod fields;
mod ipam_config;
mod meta;
mod pool;
mod reservation;
mod workload;

use ipnet::IpNet;

use crate::diagnostic::Diagnostic;
use crate::manifest::Document;

pub use block_affinity::BlockAffinity;
pub use cluster::{
    ClusterConfiguration, CniConfig, CniConfigMap, CniSettings, Namespace, Node, TunnelAddresses,
    OS_LABEL,
};
pub use fields::{ApiGroup, Origin, Spanned};
pub use ipam_config::{
    IpamConfig, IpamConfiguration, DEFAULT_MAX_BLOCKS_PER_HOST, IPAM_CONFIG_NAME,
};
pub use meta::Meta;
pub use pool::{IpPool, IpPoolSpec, Pool};
pub use reservation::IpReservation;
pub use workload::{
    Pod, PodSpec, PodTemplate, Replicas, Workload, WorkloadKind, DEFAULT_NAMESPACE,
};

use fields::Reader;

/// One modelled resource.
#[derive(Clone, Debug, PartialEq)]
pub enum Resource {
    IpPool(IpPool),
    IpReservation(IpReservation),
    IpamConfiguration(IpamConfiguration),
    BlockAffinity(BlockAffinity),
    Namespace(Namespace),
    Node(Node),
    Pod(Pod),
    Workload(Workload),
    ClusterConfiguration(ClusterConfiguration),
    CniConfigMap(CniConfigMap),
}

impl Resource {
    pub fn origin(&self) -> &Origin {
        match self {
            Resource::IpPool(r) => &r.origin,
            Resource::IpReservation(r) => &r.origin,
            Resource::IpamConfiguration(r) => &r.origin,
            Resource::BlockAffinity(r) => &r.origin,
            Resource::Namespace(r) => &r.origin,
            Resource::Node(r) => &r.origin,
            Resource::Pod(r) => &r.origin,
            Resource::Workload(r) => &r.origin,
            Resource::ClusterConfiguration(r) => &r.origin,
            Resource::CniConfigMap(r) => &r.origin,
        }
    }
}

/// Reads one document. `None` for kinds the planner does not model (and ConfigMaps without a CNI
/// configuration); the diagnostics are the document's `schema` problems.
pub fn read(doc: &Document) -> (Option<Resource>, Vec<Diagnostic>) {
    let origin = Origin::of(doc);
    let mut reader = Reader::new(&origin);
    let root = &doc.node;
    let owned = origin.clone();
    let resource =
        match doc.kind.as_str() {
            "IPPool" => Some(Resource::IpPool(IpPool::read(&mut reader, owned, root))),
            "IPReservation" => Some(Resource::IpReservation(IpReservation::read(
                &mut reader,
                owned,
                root,
            ))),
            "IPAMConfiguration" | "IPAMConfig" => Some(Resource::IpamConfiguration(
                IpamConfiguration::read(&mut reader, owned, root),
            )),
            "BlockAffinity" => Some(Resource::BlockAffinity(BlockAffinity::read(
                &mut reader,
                owned,
                root,
            ))),
            "Namespace" => Some(Resource::Namespace(Namespace::read(
                &mut reader,
                owned,
                root,
            ))),
            "Node" => Some(Resource::Node(Node::read(&mut reader, owned, root))),
            "Pod" => Some(Resource::Pod(Pod::read(&mut reader, owned, root))),
            "ClusterConfiguration" => Some(Resource::ClusterConfiguration(
                ClusterConfiguration::read(&mut reader, owned, root),
            )),
            "ConfigMap" => CniConfigMap::read(&mut reader, owned, root).map(Resource::CniConfigMap),
            kind => WorkloadKind::parse(kind)
                .map(|kind| Resource::Workload(Workload::read(&mut reader, owned, kind, root))),
        };
    (resource, reader.diagnostics)
}

/// Everything the input describes, by kind, each list in input order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Model {
    pub pools: Vec<IpPool>,
    pub reservations: Vec<IpReservation>,
    pub ipam_configs: Vec<IpamConfiguration>,
    pub block_affinities: Vec<BlockAffinity>,
    pub namespaces: Vec<Namespace>,
    pub nodes: Vec<Node>,
    pub pods: Vec<Pod>,
    pub workloads: Vec<Workload>,
    pub cluster_configs: Vec<ClusterConfiguration>,
    pub cni_configs: Vec<CniConfigMap>,
}

/// Builds the model of all `documents`, with the `schema` diagnostics of every one of them.
pub fn build(documents: &[Document]) -> (Model, Vec<Diagnostic>) {
    let mut model = Model::default();
    let mut diagnostics = Vec::new();
    for doc in documents {
        let (resource, problems) = read(doc);
        diagnostics.extend(problems);
        if let Some(resource) = resource {
            model.push(resource);
        }
    }
    (model, diagnostics)
}

impl Model {
    pub fn push(&mut self, resource: Resource) {
        match resource {
            Resource::IpPool(r) => self.pools.push(r),
            Resource::IpReservation(r) => self.reservations.push(r),
            Resource::IpamConfiguration(r) => self.ipam_configs.push(r),
            Resource::BlockAffinity(r) => self.block_affinities.push(r),
            Resource::Namespace(r) => self.namespaces.push(r),
            Resource::Node(r) => self.nodes.push(r),
            Resource::Pod(r) => self.pods.push(r),
            Resource::Workload(r) => self.workloads.push(r),
            Resource::ClusterConfiguration(r) => self.cluster_configs.push(r),
            Resource::CniConfigMap(r) => self.cni_configs.push(r),
        }
    }

    /// The IPAM settings in effect: the last `IPAMConfiguration`/`IPAMConfig` named `default`,
    /// else Calico's defaults.
    pub fn ipam_config(&self) -> IpamConfig {
        self.ipam_configs
            .iter()
            .rev()
            .find(|c| c.is_in_effect())
            .map(IpamConfiguration::effective)
            .unwrap_or_default()
    }

    /// The pasted `IPAMConfiguration`/`IPAMConfig` in effect, if any.
    pub fn ipam_config_resource(&self) -> Option<&IpamConfiguration> {
        self.ipam_configs.iter().rev().find(|c| c.is_in_effect())
    }

    /// The cluster pod CIDRs of every kubeadm `ClusterConfiguration`.
    pub fn cluster_cidrs(&self) -> Vec<IpNet> {
        self.cluster_configs
            .iter()
            .flat_map(|c| c.pod_subnets.iter().map(|s| s.value))
            .collect()
    }

    /// The last pasted CNI configuration, if any.
    pub fn cni_config(&self) -> Option<&CniConfig> {
        self.cni_configs.last().map(|c| &c.config)
    }

    /// The CNI settings in effect: the last pasted CNI configuration, else the operator's
    /// (IPv4 and IPv6 requested when a pool of that family exists).
    pub fn cni_settings(&self) -> CniSettings {
        match self.cni_config() {
            Some(config) => CniSettings::from_config(config),
            None => {
                // The operator decides from the pools the cluster is configured with, so a pool
                // that a write would refuse (say, for host bits) still says which families
                // pods get; without it pods would seem to ask for no address at all.
                let families: Vec<crate::net::Family> = self
                    .pools
                    .iter()
                    .filter_map(|p| p.spec.cidr.as_ref()?.value.trim().parse::<IpNet>().ok())
                    .map(|net| crate::net::Family::of_net(&net))
                    .collect();
                let has = |family| families.contains(&family);
                CniSettings::operator_defaults(
                    has(crate::net::Family::V4) || families.is_empty(),
                    has(crate::net::Family::V6),
                )
            }
        }
    }

    pub fn namespace(&self, name: &str) -> Option<&Namespace> {
        self.namespaces.iter().rev().find(|ns| ns.name() == name)
    }

    /// The labels a pool's `namespaceSelector` sees for namespace `name`: the Namespace
    /// document's labels, or, when the input has none, only the `kubernetes.io/metadata.name`
    /// label Kubernetes gives every namespace.
    pub fn namespace_labels(&self, name: &str) -> crate::selector::Labels {
        Model::labels_of_namespace(self.namespace(name), name)
    }

    /// [`Model::namespace_labels`] for a caller that has already found the Namespace document
    /// (`None`: the input has none of that name).
    pub fn labels_of_namespace(
        namespace: Option<&Namespace>,
        name: &str,
    ) -> crate::selector::Labels {
        match namespace {
            Some(namespace) => namespace.labels(),
            None => [("kubernetes.io/metadata.name".to_owned(), name.to_owned())]
                .into_iter()
                .collect(),
        }
    }

    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().rev().find(|n| n.name() == name)
    }

    /// The pools Calico would hold, defaults applied, in name order (the order IPAM tries them).
    /// Pools whose fields cannot be typed are left out; validation reports them.
    pub fn effective_pools(&self) -> Vec<Pool> {
        let mut pools: Vec<Pool> = self.pools.iter().filter_map(IpPool::effective).collect();
        pools.sort_by(|a, b| a.name.cmp(&b.name));
        pools
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{parse, Source};
    use crate::net::{AllowedUse, EncapMode};

    fn model_of(text: &str) -> (Model, Vec<Diagnostic>) {
        let (docs, diags) = parse(&[Source::new(Some("in.yaml"), text)]);
        assert!(diags.is_empty(), "{diags:?}");
        build(&docs)
    }

    #[test]
    fn reads_every_kind_with_positions() {
        let text = "\
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: pool-a}
spec:
  cidr: 10.0.0.0/16
  vxlanMode: Always
---
apiVersion: crd.projectcalico.org/v1
kind: IPAMConfig
metadata: {name: default}
spec: {strictAffinity: true, maxBlocksPerHost: 4}
---
apiVersion: v1
kind: Node
metadata:
  name: win-1
  labels: {kubernetes.io/os: windows}
  annotations: {projectcalico.org/IPv4VXLANTunnelAddr: 10.0.0.1}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: data}
spec:
  replicas: 3
  template:
    metadata:
      annotations: {cni.projectcalico.org/ipAddrs: '[\"10.0.0.9\"]'}
    spec: {nodeName: win-1}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  jobTemplate:
    spec:
      parallelism: 2
      template: {spec: {hostNetwork: true}}
---
apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
networking: {podSubnet: '10.0.0.0/8,fd00::/48'}
";
        let (model, diags) = model_of(text);
        assert!(diags.is_empty(), "{diags:?}");
        let pool = model.effective_pools().remove(0);
        assert_eq!(pool.cidr.to_string(), "10.0.0.0/16");
        assert_eq!(pool.block_size.prefix_len(), 26);
        assert_eq!(pool.vxlan_mode, EncapMode::Always);
        assert_eq!(pool.allowed_uses, AllowedUse::DEFAULT.to_vec());
        assert_eq!(pool.node_selector, "all()");
        assert_eq!(
            model.pools[0].spec.cidr.as_ref().map(|c| c.pos.line),
            Some(5)
        );
        let config = model.ipam_config();
        assert!(config.strict_affinity && config.auto_allocate_blocks);
        assert_eq!(config.block_limit(), 4);
        assert!(model.nodes[0].is_windows());
        assert_eq!(
            model.nodes[0].tunnel.vxlan_v4.as_ref().map(Spanned::as_str),
            Some("10.0.0.1")
        );
        let sts = &model.workloads[0];
        assert_eq!(
            (sts.replicas, sts.namespace()),
            (Replicas::Count(3), "data")
        );
        assert!(sts
            .template
            .meta
            .annotation(annotations::IP_ADDRS)
            .is_some());
        assert_eq!(
            sts.template.spec.node_name.as_ref().map(Spanned::as_str),
            Some("win-1")
        );
        let cron = &model.workloads[1];
        assert_eq!(
            model
                .namespace_labels("data")
                .get("kubernetes.io/metadata.name")
                .map(String::as_str),
            Some("data")
        );
        assert_eq!(cron.replicas, Replicas::Count(2));
        assert!(cron.template.spec.host_network);
        assert_eq!(model.cluster_cidrs().len(), 2);
    }

    #[test]
    fn wrong_types_are_located_schema_errors() {
        let text = "\
kind: IPPool
metadata: {name: p}
spec:
  cidr: 10.0.0.0/16
  blockSize: '26'
  disabled: 1
  allowedUses: Workload
---
kind: Pod
metadata: {name: p, labels: [a]}
spec: {nodeName: 5}
";
        let (model, diags) = model_of(text);
        let got: Vec<_> = diags.iter().map(|d| (d.code, d.line)).collect();
        assert_eq!(
            got,
            [
                ("schema", Some(5)),
                ("schema", Some(6)),
                ("schema", Some(7)),
                ("schema", Some(10)),
                ("schema", Some(11))
            ]
        );
        assert_eq!(
            diags[0].calico_message.as_deref(),
            Some("spec.blockSize: Invalid value: \"string\": spec.blockSize in body must be of type integer: \"string\"")
        );
        assert_eq!(model.pods[0].namespace(), "default");
        assert!(model.pools[0].spec.block_size.is_none());
    }

    #[test]
    fn unmasked_or_unknown_values_give_no_effective_pool() {
        for spec in [
            "{cidr: 10.0.0.1/16}",
            "{cidr: 10.0.0.0/16, blockSize: 19}",
            "{cidr: 10.0.0.0/16, ipipMode: always}",
            "{cidr: 10.0.0.0/16, allowedUses: [Garbage]}",
            "{}",
        ] {
            let (model, _) = model_of(&format!(
                "kind: IPPool\nmetadata: {{name: p}}\nspec: {spec}\n"
            ));
            assert!(model.pools[0].effective().is_none(), "{spec}");
        }
    }

    #[test]
    fn reads_calico_nodes_and_cni_config_maps() {
        let text = r#"
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: n1}
spec:
  bgp: {ipv4IPIPTunnelAddr: 10.0.0.1}
  wireguard: {interfaceIPv6Address: "fd00::1"}
status: {wireguardPublicKey: abc}
---
kind: ConfigMap
metadata: {name: calico-config}
data:
  cni_network_config: |-
    {"plugins": [{"type": "calico", "ipam": {"type": "host-local"}, "policy": {"type": "k8s"}}]}
---
kind: IPPool
metadata: {name: v6}
spec: {cidr: "fd00::/48"}
"#;
        let (model, diags) = model_of(text);
        assert!(diags.is_empty(), "{diags:?}");
        let node = &model.nodes[0];
        assert_eq!(
            node.tunnel.ipip_v4.as_ref().map(Spanned::as_str),
            Some("10.0.0.1")
        );
        assert_eq!(
            node.tunnel.wireguard_v6.as_ref().map(Spanned::as_str),
            Some("fd00::1")
        );
        assert!(node.wireguard_public_key.is_some());
        let settings = model.cni_settings();
        assert_eq!(settings.ipam_type, "host-local");
        assert!(settings.assign_ipv4 && !settings.assign_ipv6);
        let without_config = Model {
            cni_configs: Vec::new(),
            ..model
        };
        let defaults = without_config.cni_settings();
        assert_eq!((defaults.assign_ipv4, defaults.assign_ipv6), (false, true));
    }
}
