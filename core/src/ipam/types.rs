//! Arguments, results and records of the IPAM operations.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;

use super::block::HostReservedAttr;
use crate::net::AllowedUse;
use crate::selector::Labels;

/// The cluster-wide `IPAMConfiguration` (spec §1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpamConfig {
    pub strict_affinity: bool,
    pub auto_allocate_blocks: bool,
    /// 0 means Calico's default of 20.
    pub max_blocks_per_host: u32,
    pub ip_cooldown_seconds: u32,
}

impl Default for IpamConfig {
    /// Calico's values when no configuration object exists.
    fn default() -> IpamConfig {
        IpamConfig {
            strict_affinity: false,
            auto_allocate_blocks: true,
            max_blocks_per_host: 0,
            ip_cooldown_seconds: 0,
        }
    }
}

impl IpamConfig {
    /// The per-host, per-family cap on claimed blocks (0 means Calico's default of 20).
    pub fn block_limit(&self) -> u32 {
        if self.max_blocks_per_host == 0 {
            crate::model::DEFAULT_MAX_BLOCKS_PER_HOST
        } else {
            self.max_blocks_per_host
        }
    }
}

/// The affinity type of ordinary nodes.
pub const AFFINITY_TYPE_HOST: &str = "host";

/// The affinity type of the load-balancer owner (`virtual:load-balancer`).
pub const AFFINITY_TYPE_VIRTUAL: &str = "virtual";

/// The owner name kube-controllers uses for Service LoadBalancer addresses.
pub const LOAD_BALANCER_HOST: &str = "load-balancer";

/// Lifecycle of a `BlockAffinity` record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AffinityState {
    Pending,
    Confirmed,
    PendingDeletion,
}

impl AffinityState {
    pub fn parse(text: &str) -> AffinityState {
        match text {
            "pending" => AffinityState::Pending,
            "pendingDeletion" => AffinityState::PendingDeletion,
            _ => AffinityState::Confirmed,
        }
    }
}

/// A `BlockAffinity` record: host ↔ block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockAffinity {
    pub host: String,
    /// `host` for nodes, `virtual` for the load-balancer owner, `""` for legacy records.
    pub affinity_type: String,
    pub cidr: IpNet,
    pub state: AffinityState,
}

/// `AutoAssignArgs`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AutoAssignArgs {
    pub num4: usize,
    pub num6: usize,
    pub handle: Option<String>,
    pub attrs: BTreeMap<String, String>,
    pub hostname: String,
    /// Requested IPv4 pool CIDRs (restricts IPv4 only); empty means "choose by selectors".
    pub ipv4_pools: Vec<IpNet>,
    pub ipv6_pools: Vec<IpNet>,
    /// Per-request block cap (0 = use the configured one).
    pub max_blocks_per_host: u32,
    pub host_reserved_attr_ipv4s: Option<HostReservedAttr>,
    pub host_reserved_attr_ipv6s: Option<HostReservedAttr>,
    /// Required; `None` fails with `must specify the intended use when assigning an IP`.
    pub intended_use: Option<AllowedUse>,
    /// The pod's namespace labels; `None` evaluates namespace selectors against no labels.
    pub namespace: Option<Labels>,
    /// KubeVirt: at most this many addresses per family for the handle.
    pub max_alloc_per_ip_version: Option<usize>,
    /// The request comes from a Windows node (strict affinity is then mandatory).
    pub windows_host: bool,
}

/// `IPAMAssignments` for one family.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IpamAssignments {
    /// Addresses with the block's prefix length.
    pub ips: Vec<IpNet>,
    pub ip_version: u8,
    pub num_requested: usize,
    pub host_reserved_attr: Option<HostReservedAttr>,
    /// Warnings in the order added, without duplicates (empty = Go nil).
    pub msgs: Vec<String>,
}

impl IpamAssignments {
    pub fn add_msg(&mut self, msg: impl Into<String>) {
        let msg = msg.into();
        if !self.msgs.contains(&msg) {
            self.msgs.push(msg);
        }
    }

    /// `PartialFulfillmentError()`: the text callers (the CNI plugin) report when fewer
    /// addresses than requested were assigned.
    pub fn partial_fulfillment_error(&self) -> Option<String> {
        if self.ips.len() >= self.num_requested {
            return None;
        }
        let mut text = format!(
            "Assigned {} out of {} requested IPv{} addresses",
            self.ips.len(),
            self.num_requested,
            self.ip_version
        );
        for msg in &self.msgs {
            text.push_str("; ");
            text.push_str(msg);
        }
        if let Some(reserved) = &self.host_reserved_attr {
            text.push_str("; HostReservedAttr: ");
            text.push_str(&reserved.handle);
        }
        Some(text)
    }
}

/// `AssignIPArgs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssignIpArgs {
    pub ip: IpAddr,
    pub hostname: String,
    pub handle: Option<String>,
    pub attrs: BTreeMap<String, String>,
    /// `None` skips the allowed-use check (as Calico does for an empty use).
    pub intended_use: Option<AllowedUse>,
    pub host_reserved_attr: Option<HostReservedAttr>,
    pub max_alloc_per_ip_version: Option<usize>,
}

impl AssignIpArgs {
    pub fn new(ip: IpAddr, hostname: impl Into<String>) -> AssignIpArgs {
        AssignIpArgs {
            ip,
            hostname: hostname.into(),
            handle: None,
            attrs: BTreeMap::new(),
            intended_use: None,
            host_reserved_attr: None,
            max_alloc_per_ip_version: None,
        }
    }
}

/// `BlockArgs` for `EnsureBlock`: a family is handled only when its reservation is given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnsureBlockArgs {
    pub hostname: String,
    pub ipv4_pools: Vec<IpNet>,
    pub ipv6_pools: Vec<IpNet>,
    pub host_reserved_attr_ipv4s: Option<HostReservedAttr>,
    pub host_reserved_attr_ipv6s: Option<HostReservedAttr>,
}

/// The outcome of `ReleaseIPs`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReleaseOutcome {
    /// Addresses that were not allocated.
    pub unallocated: Vec<IpAddr>,
    /// Addresses actually released.
    pub released: usize,
}

/// Utilization of one block; counts are exact (`u128`), see [`saturate_i64`] for Calico's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockUtilization {
    pub cidr: IpNet,
    pub capacity: u128,
    /// Occupied ordinals (allocated, cooling down or host-reserved).
    pub in_use: u128,
    /// Reserved addresses of the block, occupied or not.
    pub reserved: u128,
    /// Free ordinals that are not reserved.
    pub available: u128,
}

/// Utilization of one pool: its blocks plus the space no block covers yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolUtilization {
    pub name: String,
    pub cidr: IpNet,
    pub capacity: u128,
    pub in_use: u128,
    pub reserved: u128,
    pub available: u128,
    pub blocks: Vec<BlockUtilization>,
}

/// Calico reports counts as Go `int`, saturating at 2^63−1 for huge IPv6 pools.
pub fn saturate_i64(value: u128) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
