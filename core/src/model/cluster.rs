//! The cluster around the pools: namespaces, nodes, the kubeadm pod CIDR and the CNI settings.

use ipnet::IpNet;
use serde_json::Value as Json;

use crate::selector::Labels;
use crate::yaml::Node as YamlNode;

use super::fields::{ApiGroup, Origin, Reader, Spanned};
use super::meta::Meta;

/// A `Namespace`: its labels feed pool `namespaceSelector`s, its annotations give pod defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct Namespace {
    pub origin: Origin,
    pub meta: Meta,
}

impl Namespace {
    pub(crate) fn read(reader: &mut Reader<'_>, origin: Origin, root: &YamlNode) -> Namespace {
        Namespace {
            meta: Meta::read(reader, root, ""),
            origin,
        }
    }

    pub fn name(&self) -> &str {
        self.meta.name()
    }

    /// Labels as the CNI plugin sees them, including the automatic
    /// `kubernetes.io/metadata.name` label that Kubernetes adds to every namespace.
    pub fn labels(&self) -> Labels {
        let mut labels = self.meta.labels();
        labels
            .entry("kubernetes.io/metadata.name".to_owned())
            .or_insert_with(|| self.name().to_owned());
        labels
    }
}

/// A node's tunnel addresses as recorded on it (spec §4): from a Calico `Node`'s spec, or from
/// the `projectcalico.org/...` annotations Calico keeps on a Kubernetes `Node`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TunnelAddresses {
    pub ipip_v4: Option<Spanned<String>>,
    pub vxlan_v4: Option<Spanned<String>>,
    pub vxlan_v6: Option<Spanned<String>>,
    pub wireguard_v4: Option<Spanned<String>>,
    pub wireguard_v6: Option<Spanned<String>>,
}

/// A `Node` (Kubernetes `v1` or Calico `projectcalico.org/v3`).
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub origin: Origin,
    pub meta: Meta,
    pub tunnel: TunnelAddresses,
    pub wireguard_public_key: Option<Spanned<String>>,
    pub wireguard_public_key_v6: Option<Spanned<String>>,
}

/// The label that marks a Windows node.
pub const OS_LABEL: &str = "kubernetes.io/os";

impl Node {
    pub(crate) fn read(reader: &mut Reader<'_>, origin: Origin, root: &YamlNode) -> Node {
        let meta = Meta::read(reader, root, "");
        let mut node = Node {
            tunnel: TunnelAddresses::default(),
            wireguard_public_key: None,
            wireguard_public_key_v6: None,
            meta,
            origin,
        };
        if ApiGroup::of(&node.origin.api_version) == ApiGroup::ProjectCalicoV3 {
            node.read_calico_fields(reader, root);
        } else {
            node.read_annotations();
        }
        node
    }

    fn read_calico_fields(&mut self, reader: &mut Reader<'_>, root: &YamlNode) {
        if let Some(spec) = reader.object(root, "spec", "") {
            let bgp = reader.object(spec, "bgp", "spec");
            self.tunnel.ipip_v4 =
                bgp.and_then(|b| reader.string(b, "ipv4IPIPTunnelAddr", "spec.bgp"));
            self.tunnel.vxlan_v4 = reader.string(spec, "ipv4VXLANTunnelAddr", "spec");
            self.tunnel.vxlan_v6 = reader.string(spec, "ipv6VXLANTunnelAddr", "spec");
            if let Some(wg) = reader.object(spec, "wireguard", "spec") {
                self.tunnel.wireguard_v4 =
                    reader.string(wg, "interfaceIPv4Address", "spec.wireguard");
                self.tunnel.wireguard_v6 =
                    reader.string(wg, "interfaceIPv6Address", "spec.wireguard");
            }
        }
        if let Some(status) = reader.object(root, "status", "") {
            self.wireguard_public_key = reader.string(status, "wireguardPublicKey", "status");
            self.wireguard_public_key_v6 = reader.string(status, "wireguardPublicKeyV6", "status");
        }
    }

    fn read_annotations(&mut self) {
        let annotation = |key: &str| self.meta.annotation(key).cloned();
        self.tunnel = TunnelAddresses {
            ipip_v4: annotation("projectcalico.org/IPv4IPIPTunnelAddr"),
            vxlan_v4: annotation("projectcalico.org/IPv4VXLANTunnelAddr"),
            vxlan_v6: annotation("projectcalico.org/IPv6VXLANTunnelAddr"),
            wireguard_v4: annotation("projectcalico.org/IPv4WireguardInterfaceAddr"),
            wireguard_v6: annotation("projectcalico.org/IPv6WireguardInterfaceAddr"),
        };
        self.wireguard_public_key = annotation("projectcalico.org/WireguardPublicKey");
        self.wireguard_public_key_v6 = annotation("projectcalico.org/WireguardPublicKeyV6");
    }

    pub fn name(&self) -> &str {
        self.meta.name()
    }

    pub fn labels(&self) -> Labels {
        self.meta.labels()
    }

    /// Windows nodes need strict affinity and reserve addresses in every block (spec §3.10).
    pub fn is_windows(&self) -> bool {
        self.meta.label(OS_LABEL) == Some("windows")
    }
}

/// A kubeadm `ClusterConfiguration`: its `networking.podSubnet` is the cluster's pod CIDR.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterConfiguration {
    pub origin: Origin,
    /// Every subnet of `podSubnet` (comma-separated for dual stack).
    pub pod_subnets: Vec<Spanned<IpNet>>,
}

impl ClusterConfiguration {
    pub(crate) fn read(
        reader: &mut Reader<'_>,
        origin: Origin,
        root: &YamlNode,
    ) -> ClusterConfiguration {
        let mut pod_subnets = Vec::new();
        let networking = reader.object(root, "networking", "");
        if let Some(subnet) = networking.and_then(|n| reader.string(n, "podSubnet", "networking")) {
            for part in subnet
                .value
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
            {
                match part.parse::<IpNet>() {
                    Ok(net) => pod_subnets.push(Spanned::new(net, subnet.pos)),
                    Err(_) => reader.invalid(
                        subnet.pos,
                        format!("`networking.podSubnet` entry `{part}` is not a CIDR"),
                    ),
                }
            }
        }
        ClusterConfiguration {
            origin,
            pod_subnets,
        }
    }
}

/// The CNI network configuration of a `ConfigMap` that carries `cni_network_config` (the
/// manifest install's `calico-config`), reduced to what decides IPAM behaviour (spec §2.1, §2.6).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CniConfig {
    pub ipam_type: Option<String>,
    pub policy_type: Option<String>,
    pub assign_ipv4: Option<String>,
    pub assign_ipv6: Option<String>,
    pub ipv4_pools: Option<Vec<String>>,
    pub ipv6_pools: Option<Vec<String>>,
    pub ip_addrs_no_ipam: bool,
    pub floating_ips: bool,
    pub windows_use_single_network: bool,
}

/// The CNI settings pods are created with: what the pasted CNI configuration says, else what the
/// Tigera operator writes (the contract's cluster assumptions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CniSettings {
    /// `ipam.type`; the pod annotations only apply with `calico-ipam`.
    pub ipam_type: String,
    /// `policy.type`; pod and namespace annotations are read only with `k8s` (spec §2.1).
    pub policy_type: String,
    /// Whether an IPv4 address is requested (`assign_ipv4` is anything but "false").
    pub assign_ipv4: bool,
    /// Whether an IPv6 address is requested (`assign_ipv6` is exactly "true").
    pub assign_ipv6: bool,
    pub ipv4_pools: Vec<String>,
    pub ipv6_pools: Vec<String>,
    pub ip_addrs_no_ipam: bool,
    pub floating_ips: bool,
    pub windows_use_single_network: bool,
}

impl CniSettings {
    /// The operator's settings for a cluster with IPv4 and/or IPv6 pools.
    pub fn operator_defaults(has_ipv4_pool: bool, has_ipv6_pool: bool) -> CniSettings {
        CniSettings {
            ipam_type: "calico-ipam".to_owned(),
            policy_type: "k8s".to_owned(),
            assign_ipv4: has_ipv4_pool,
            assign_ipv6: has_ipv6_pool,
            ipv4_pools: Vec::new(),
            ipv6_pools: Vec::new(),
            ip_addrs_no_ipam: false,
            floating_ips: false,
            windows_use_single_network: false,
        }
    }

    /// The settings a pasted CNI configuration gives, read as the plugin reads them (spec §2.6).
    pub fn from_config(config: &CniConfig) -> CniSettings {
        CniSettings {
            ipam_type: config.ipam_type.clone().unwrap_or_default(),
            policy_type: config.policy_type.clone().unwrap_or_default(),
            assign_ipv4: config.assign_ipv4.as_deref() != Some("false"),
            assign_ipv6: config.assign_ipv6.as_deref() == Some("true"),
            ipv4_pools: config.ipv4_pools.clone().unwrap_or_default(),
            ipv6_pools: config.ipv6_pools.clone().unwrap_or_default(),
            ip_addrs_no_ipam: config.ip_addrs_no_ipam,
            floating_ips: config.floating_ips,
            windows_use_single_network: config.windows_use_single_network,
        }
    }
}

/// A `ConfigMap` with `data.cni_network_config`.
#[derive(Clone, Debug, PartialEq)]
pub struct CniConfigMap {
    pub origin: Origin,
    pub config: CniConfig,
}

impl CniConfigMap {
    /// `None` for ConfigMaps without `cni_network_config` (they are not modelled).
    pub(crate) fn read(
        reader: &mut Reader<'_>,
        origin: Origin,
        root: &YamlNode,
    ) -> Option<CniConfigMap> {
        let data = Reader::child(root, "data")?;
        let text = reader.string(data, "cni_network_config", "data")?;
        let config = match CniConfig::parse(&text.value) {
            Ok(config) => config,
            Err(message) => {
                reader.invalid(
                    text.pos,
                    format!("`cni_network_config` is not a CNI network configuration: {message}"),
                );
                CniConfig::default()
            }
        };
        Some(CniConfigMap { origin, config })
    }
}

impl CniConfig {
    /// Parses a CNI network configuration (a `.conflist` or a single `.conf`). The install
    /// manifests template it with `__PLACEHOLDER__` tokens, some unquoted (`__CNI_MTU__`), so
    /// each token is replaced by `0` first to make the text JSON.
    pub fn parse(text: &str) -> Result<CniConfig, String> {
        let json: Json =
            serde_json::from_str(&replace_placeholders(text)).map_err(|e| e.to_string())?;
        let plugin = json
            .get("plugins")
            .and_then(Json::as_array)
            .and_then(|plugins| {
                plugins
                    .iter()
                    .find(|p| p.get("type").and_then(Json::as_str) == Some("calico"))
            })
            .unwrap_or(&json);
        let text_at = |value: &Json, path: &[&str]| {
            path.iter()
                .try_fold(value, |v, key| v.get(key))
                .and_then(|v| match v {
                    Json::String(s) => Some(s.clone()),
                    Json::Bool(b) => Some(b.to_string()),
                    _ => None,
                })
        };
        let list_at = |key: &str| {
            plugin
                .get("ipam")
                .and_then(|ipam| ipam.get(key))
                .and_then(Json::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|i| i.as_str().map(str::to_owned))
                        .collect()
                })
        };
        let flag = |path: &[&str]| {
            path.iter()
                .try_fold(plugin, |v, key| v.get(key))
                .and_then(Json::as_bool)
                .unwrap_or(false)
        };
        Ok(CniConfig {
            ipam_type: text_at(plugin, &["ipam", "type"]),
            policy_type: text_at(plugin, &["policy", "type"]),
            assign_ipv4: text_at(plugin, &["ipam", "assign_ipv4"]),
            assign_ipv6: text_at(plugin, &["ipam", "assign_ipv6"]),
            ipv4_pools: list_at("ipv4_pools"),
            ipv6_pools: list_at("ipv6_pools"),
            ip_addrs_no_ipam: flag(&["feature_control", "ip_addrs_no_ipam"]),
            floating_ips: flag(&["feature_control", "floating_ips"]),
            windows_use_single_network: flag(&["windows_use_single_network"]),
        })
    }
}

/// Replaces every `__UPPER_CASE__` token with `0`.
fn replace_placeholders(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("__") {
        let after = &rest[start + 2..];
        let word_len = after
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(after.len());
        let word = &after[..word_len];
        match word.strip_suffix("__") {
            Some(name) if !name.is_empty() => {
                out.push_str(&rest[..start]);
                out.push('0');
                rest = &after[word_len..];
            }
            _ => {
                out.push_str(&rest[..start + 2]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_manifest_install_template() {
        let text = r#"{
          "name": "k8s-pod-network", "cniVersion": "0.3.1",
          "plugins": [
            {"type": "calico", "mtu": __CNI_MTU__, "nodename": "__KUBERNETES_NODE_NAME__",
             "ipam": {"type": "calico-ipam", "assign_ipv6": "true", "ipv4_pools": ["pool-a"]},
             "policy": {"type": "k8s"},
             "feature_control": {"floating_ips": true}},
            {"type": "portmap", "snat": true, "capabilities": {"portMappings": true}}
          ]
        }"#;
        let config = CniConfig::parse(text).expect("parses");
        assert_eq!(config.ipam_type.as_deref(), Some("calico-ipam"));
        assert_eq!(config.policy_type.as_deref(), Some("k8s"));
        assert_eq!(config.assign_ipv6.as_deref(), Some("true"));
        assert_eq!(config.ipv4_pools, Some(vec!["pool-a".to_owned()]));
        assert!(config.floating_ips);
        assert!(!config.ip_addrs_no_ipam);
    }
}
