//! The cluster run of the contract: nodes start (taking their tunnel addresses), then pods are
//! created in input order, each allocation explained. The detailed `Simulation` feeds the page;
//! `report::SimulationReport` is its contract JSON shape.

pub mod codes;
mod run;
mod static_ips;
mod suggest;

use std::net::IpAddr;

use serde::Serialize;

use crate::diagnostic::Diagnostic;

pub(crate) use run::diagnostics_only;
pub use run::run;

/// How a pod got its addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AddressSource {
    /// `cni.projectcalico.org/ipAddrs`.
    Static,
    /// Calico's automatic assignment.
    Auto,
    /// `cni.projectcalico.org/ipAddrsNoIpam`: used verbatim, IPAM not consulted.
    NoIpam,
    /// The pod got no address (its allocation failed).
    None,
}

/// How the block an address came from related to the pod's node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BlockRelation {
    /// A block already affine to the node.
    Affine,
    /// A block the node claimed for this allocation.
    NewlyClaimed,
    /// A block affine to another node, or to none (only without strict affinity).
    Borrowed,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PodAllocation {
    pub namespace: String,
    pub name: String,
    pub node: String,
    pub ips: Vec<IpAddr>,
    pub source: AddressSource,
    pub pool: Option<String>,
    pub block: Option<String>,
    pub relation: Option<BlockRelation>,
    /// One sentence on why the pod got these addresses, or why it got none.
    pub explanation: String,
    /// The pod was pasted from a running cluster and keeps its `status.podIPs`.
    pub running: bool,
    /// Where the pod (or its template) is written.
    pub file: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TunnelKind {
    Wireguard,
    WireguardV6,
    Ipip,
    Vxlan,
    VxlanV6,
}

impl TunnelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TunnelKind::Wireguard => "wireguard",
            TunnelKind::WireguardV6 => "wireguard-v6",
            TunnelKind::Ipip => "ipip",
            TunnelKind::Vxlan => "vxlan",
            TunnelKind::VxlanV6 => "vxlan-v6",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TunnelAllocation {
    pub node: String,
    pub kind: TunnelKind,
    pub ip: IpAddr,
}

/// What one address of a block is used for (free addresses are not listed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "use", rename_all = "kebab-case")]
pub enum AddressUse {
    Pod {
        namespace: String,
        name: String,
        is_static: bool,
    },
    Tunnel {
        node: String,
        kind: TunnelKind,
    },
    /// Released but still in `ipCooldownSeconds`.
    Cooldown,
    /// Pre-occupied on Windows nodes (first three and last address of an IPv4 block).
    WindowsReserved,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BlockView {
    pub cidr: String,
    pub pool: String,
    /// `host:<node>`, or `None` for a block without affinity.
    pub affinity: Option<String>,
    /// The number of addresses in the block (at most 4096: blockSize 20 or 116).
    pub size: u32,
    /// Addresses in use, in address order.
    pub used: Vec<(IpAddr, AddressUse)>,
    /// Addresses of the block inside an IPReservation, as CIDRs clipped to the block.
    pub reserved: Vec<String>,
    /// Calico's utilization of the block: occupied ordinals, reserved addresses (occupied or
    /// not) and free ordinals that are not reserved.
    pub usage: BlockUsage,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BlockUsage {
    pub in_use: u32,
    pub reserved: u32,
    pub available: u32,
}

impl BlockView {
    /// Every address of the block in order, with what uses it (if anything) and whether an
    /// IPReservation covers it. A block has at most 4096 addresses, so this stays small.
    pub fn addresses(&self) -> impl Iterator<Item = (IpAddr, Option<&AddressUse>, bool)> + '_ {
        let block: Option<ipnet::IpNet> = self.cidr.parse().ok();
        let reserved: Vec<ipnet::IpNet> = self
            .reserved
            .iter()
            .filter_map(|r| r.parse().ok())
            .collect();
        let mut used = self.used.iter().peekable();
        // Every address, base and last included: Calico hands both out (unlike `hosts()`).
        block
            .into_iter()
            .flat_map(|net| match net {
                ipnet::IpNet::V4(n) => {
                    ipnet::IpAddrRange::from(ipnet::Ipv4AddrRange::new(n.network(), n.broadcast()))
                }
                ipnet::IpNet::V6(n) => {
                    ipnet::IpAddrRange::from(ipnet::Ipv6AddrRange::new(n.network(), n.broadcast()))
                }
            })
            .map(move |ip| {
                let usage = match used.peek() {
                    Some((at, usage)) if *at == ip => {
                        used.next();
                        Some(usage)
                    }
                    _ => None,
                };
                (ip, usage, reserved.iter().any(|r| r.contains(&ip)))
            })
    }
}

/// A node of the simulated cluster, in the contract's start order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeView {
    pub name: String,
    pub windows: bool,
    pub labels: std::collections::BTreeMap<String, String>,
}

/// Utilization of a pool with Calico's semantics: in-use and reserved may overlap.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PoolUsage {
    pub name: String,
    pub cidr: String,
    pub capacity: u128,
    pub in_use: u128,
    pub reserved: u128,
    pub available: u128,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Simulation {
    /// The cluster's nodes in start order (Node documents, then nodes pods name, else `node-1`).
    pub nodes: Vec<NodeView>,
    pub pods: Vec<PodAllocation>,
    pub tunnels: Vec<TunnelAllocation>,
    pub blocks: Vec<BlockView>,
    pub pools: Vec<PoolUsage>,
    pub diagnostics: Vec<Diagnostic>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_addresses_include_base_and_last_with_uses_and_reservations() {
        let view = BlockView {
            cidr: "10.0.0.0/30".into(),
            pool: "p".into(),
            affinity: Some("host:n".into()),
            size: 4,
            used: vec![(
                "10.0.0.1".parse().unwrap(),
                AddressUse::Tunnel {
                    node: "n".into(),
                    kind: TunnelKind::Ipip,
                },
            )],
            reserved: vec!["10.0.0.2/31".into()],
            usage: BlockUsage::default(),
        };
        let cells: Vec<(String, bool, bool)> = view
            .addresses()
            .map(|(ip, used, reserved)| (ip.to_string(), used.is_some(), reserved))
            .collect();
        assert_eq!(
            cells,
            [
                ("10.0.0.0".into(), false, false),
                ("10.0.0.1".into(), true, false),
                ("10.0.0.2".into(), false, true),
                ("10.0.0.3".into(), false, true),
            ]
        );
    }
}
