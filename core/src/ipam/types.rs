//! Arguments, results and records of the IPAM operations.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;
use serde::{Serialize, Serializer};
use smallvec::SmallVec;

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

/// An allocation handle's name (`<network>.<container ID>` for a pod). Shared, not copied: a
/// block's attribute and the handle index hold the same text.
pub type Handle = Arc<str>;

/// `AutoAssignArgs`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AutoAssignArgs {
    pub num4: usize,
    pub num6: usize,
    pub handle: Option<Handle>,
    pub attrs: OwnerAttrs,
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
    /// Shared: every pod of a namespace sends the same labels.
    pub namespace: Option<Arc<Labels>>,
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
    pub handle: Option<Handle>,
    pub attrs: OwnerAttrs,
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
            attrs: OwnerAttrs::new(),
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

/// The blocks one handle holds addresses in, with how many in each (an `IPAMHandle`'s `block`
/// map), in block order. Nearly every handle holds one block, so the entries live in a small
/// sorted vector that keeps one entry inline: a million pods' handles would otherwise cost a
/// map node (~300 bytes) each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HandleBlocks(SmallVec<[(IpNet, usize); 1]>);

impl HandleBlocks {
    /// The blocks with their address counts, in block order.
    pub fn iter(&self) -> impl Iterator<Item = (IpNet, usize)> + '_ {
        self.0.iter().copied()
    }

    /// The blocks, in block order.
    pub fn cidrs(&self) -> impl Iterator<Item = IpNet> + '_ {
        self.0.iter().map(|(cidr, _)| *cidr)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn add(&mut self, cidr: IpNet, count: usize) {
        match self.0.binary_search_by(|(c, _)| c.cmp(&cidr)) {
            Ok(at) => self.0[at].1 = self.0[at].1.saturating_add(count),
            Err(at) => self.0.insert(at, (cidr, count)),
        }
    }

    /// Takes `count` addresses off `cidr`; a block whose count reaches zero is dropped.
    pub(crate) fn subtract(&mut self, cidr: IpNet, count: usize) {
        if let Ok(at) = self.0.binary_search_by(|(c, _)| c.cmp(&cidr)) {
            let left = self.0[at].1.saturating_sub(count);
            if left == 0 {
                self.0.remove(at);
            } else {
                self.0[at].1 = left;
            }
        }
    }
}

/// An allocation's owner attributes (`ActiveOwnerAttrs`, `AlternateOwnerAttrs`): a handful of
/// key/value pairs such as a pod's namespace, node and name, kept sorted by key so that equal
/// sets compare equal and serialise in the order of Go's map encoding. A sorted vector rather
/// than a `BTreeMap`: a million pods hold one each, and a map node costs about half a kilobyte
/// where three pairs need about a hundred bytes. The vector is shared: the request that assigns
/// an address and the block attribute that records it hold the same pairs, and an empty set
/// (every allocation's alternate owner) allocates nothing.
#[derive(Clone, Debug, Default)]
pub struct OwnerAttrs(Option<Arc<Vec<OwnerAttr>>>);

/// One key/value pair of [`OwnerAttrs`].
type OwnerAttr = (Cow<'static, str>, Box<str>);

/// Keys Calico writes on every allocation; stored without an allocation of their own.
const WELL_KNOWN_KEYS: [&str; 6] = ["namespace", "node", "note", "pod", "timestamp", "type"];

impl OwnerAttrs {
    pub fn new() -> OwnerAttrs {
        OwnerAttrs::default()
    }

    /// The attributes the CNI plugin writes for a pod: `namespace`, `node` and `pod`, built in
    /// key order at once (one per pod created, so without a search per key).
    pub fn of_pod(namespace: &str, node: &str, pod: &str) -> OwnerAttrs {
        OwnerAttrs(Some(Arc::new(vec![
            (Cow::Borrowed("namespace"), namespace.into()),
            (Cow::Borrowed("node"), node.into()),
            (Cow::Borrowed("pod"), pod.into()),
        ])))
    }

    fn pairs(&self) -> &[OwnerAttr] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }

    /// Sets `key` to `value`, replacing an earlier value.
    pub fn insert(&mut self, key: &str, value: &str) {
        let pairs = Arc::make_mut(self.0.get_or_insert_with(Arc::default));
        match pairs.binary_search_by(|(k, _)| k.as_ref().cmp(key)) {
            Ok(at) => pairs[at].1 = value.into(),
            Err(at) => {
                let key = match WELL_KNOWN_KEYS.iter().find(|known| **known == key) {
                    Some(known) => Cow::Borrowed(*known),
                    None => Cow::Owned(key.to_owned()),
                };
                pairs.insert(at, (key, value.into()));
            }
        }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        let pairs = self.pairs();
        pairs
            .binary_search_by(|(k, _)| k.as_ref().cmp(key))
            .ok()
            .map(|at| pairs[at].1.as_ref())
    }

    /// The pairs in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.pairs().iter().map(|(k, v)| (k.as_ref(), v.as_ref()))
    }

    pub fn len(&self) -> usize {
        self.pairs().len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs().is_empty()
    }
}

impl PartialEq for OwnerAttrs {
    fn eq(&self, other: &OwnerAttrs) -> bool {
        self.pairs() == other.pairs()
    }
}

impl Eq for OwnerAttrs {}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for OwnerAttrs {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> OwnerAttrs {
        let mut attrs = OwnerAttrs::new();
        for (key, value) in pairs {
            attrs.insert(key.as_ref(), value.as_ref());
        }
        attrs
    }
}

impl Serialize for OwnerAttrs {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}
