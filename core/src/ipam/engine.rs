//! The IPAM engine: cluster state plus Calico's operations (spec §3), for a serial offline
//! simulator. Time is an explicit clock the caller advances; nothing here reads the system clock.

use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;

use ipnet::IpNet;

use super::addr::{dashed, masked_net, net_covers};
use super::block::{Block, HostReservedAttr, ReleaseOptions};
use super::errors::{IpamError, IpamErrorKind, ERR_STRICT_AFFINITY, ERR_USE_REQUIRED};
use super::pool::Pool;
use super::reservations::ReservationSet;
use super::types::{
    AffinityState, AssignIpArgs, AutoAssignArgs, BlockAffinity, EnsureBlockArgs, IpamAssignments,
    IpamConfig, ReleaseOutcome, AFFINITY_TYPE_HOST, AFFINITY_TYPE_VIRTUAL,
};
use super::walk::PoolWalk;
use crate::net::{AllowedUse, Family};
use crate::selector::Labels;

/// How long a claimed block must exist before another host may reclaim it empty (v3.32+).
const EMPTY_BLOCK_MIN_RECLAIM_AGE_SECONDS: i64 = 60;

/// Calico's default per-host block cap when none is configured.
const DEFAULT_MAX_BLOCKS_PER_HOST: u32 = 20;

/// The most blocks `claim_affinity` will create in one call; larger requests are refused so a
/// typo cannot materialise millions of blocks.
const MAX_BLOCKS_PER_CLAIM: u32 = 1 << 16;

/// Candidate pools and the host's usable affine blocks, as `prepareAffinityBlocksForHost` returns.
struct HostBlocks {
    pools: Vec<Pool>,
    affine: Vec<IpNet>,
}

/// Why `findOrClaimBlock` produced no block.
enum ClaimFailure {
    NoFreeBlocks,
    Error(IpamError),
}

/// The per-request state of `findOrClaimBlock`.
struct AssignState<'a> {
    host: &'a str,
    /// `host` for nodes, `virtual` for the load-balancer owner.
    kind: &'static str,
    pools: &'a [Pool],
    remaining_affine: VecDeque<IpNet>,
    reserved_attr: Option<&'a HostReservedAttr>,
    allow_new_claim: bool,
}

/// Which pools a request may use (`determinePools`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeterminedPools {
    pub pools: Vec<Pool>,
    /// How many pools of the family are enabled.
    pub enabled_count: usize,
}

/// The whole IPAM state of a cluster.
#[derive(Clone, Debug, Default)]
pub struct Ipam {
    pools: Vec<Pool>,
    reservations: ReservationSet,
    config: IpamConfig,
    nodes: BTreeMap<String, Labels>,
    blocks: BTreeMap<IpNet, Block>,
    /// Keyed by the KDD object name `<host>-<cidr dashed>`, whose order is the datastore order.
    affinities: BTreeMap<String, BlockAffinity>,
    /// handle → block → number of addresses.
    handles: BTreeMap<String, BTreeMap<IpNet, usize>>,
    now: i64,
}

fn host_affinity(host: &str) -> String {
    owner_affinity(AFFINITY_TYPE_HOST, host)
}

/// A block's `affinity` value: `<type>:<host>`.
fn owner_affinity(kind: &str, host: &str) -> String {
    format!("{kind}:{host}")
}

/// Load-balancer addresses belong to the virtual `load-balancer` owner (spec §2.10); everything
/// else to a node.
fn affinity_type_for(intended_use: Option<AllowedUse>) -> &'static str {
    if intended_use == Some(AllowedUse::LoadBalancer) {
        AFFINITY_TYPE_VIRTUAL
    } else {
        AFFINITY_TYPE_HOST
    }
}

fn affinity_key(host: &str, cidr: &IpNet) -> String {
    format!("{host}-{}", dashed(cidr))
}

/// The longest block prefix a host reservation allows (`getMaxPrefixLen`).
pub fn max_prefix_len(
    family: Family,
    reserved: Option<&HostReservedAttr>,
) -> Result<u8, IpamError> {
    let Some(reserved) = reserved else {
        return Ok(family.bits());
    };
    let count = reserved
        .start_of_block
        .saturating_add(reserved.end_of_block);
    let needed_bits = usize::BITS - count.leading_zeros();
    let max = if count == 0 {
        0
    } else {
        u32::from(family.bits()).saturating_sub(needed_bits)
    };
    match u8::try_from(max) {
        Ok(prefix) if prefix > 0 => Ok(prefix),
        _ => Err(IpamError::other("HostReservedAttr has wrong parameters")),
    }
}

/// The IPAM block-cap rule (spec §3.3 B).
pub fn effective_block_cap(requested: u32, configured: u32) -> u32 {
    // The more restrictive of a per-request and a configured limit wins; a missing per-request
    // limit falls back to the configured one.
    let cap = if requested == 0 || (configured > 0 && requested > configured) {
        configured
    } else {
        requested
    };
    if cap == 0 {
        DEFAULT_MAX_BLOCKS_PER_HOST
    } else {
        cap
    }
}

impl Ipam {
    pub fn new() -> Ipam {
        Ipam::default()
    }

    // ----- State: clock, pools, reservations, config, nodes -----

    /// The logical clock, in seconds.
    pub fn now(&self) -> i64 {
        self.now
    }

    pub fn set_now(&mut self, now: i64) {
        self.now = now;
    }

    pub fn advance_clock(&mut self, seconds: i64) {
        self.now = self.now.saturating_add(seconds);
    }

    /// Pools in the order the pool accessor returns them (Calico: name order).
    pub fn pools(&self) -> &[Pool] {
        &self.pools
    }

    /// Replaces all pools; the order given is the accessor order.
    pub fn set_pools(&mut self, pools: Vec<Pool>) {
        self.pools = pools;
    }

    /// Adds a pool, or replaces the one with the same network in place.
    pub fn apply_pool(&mut self, pool: Pool) {
        match self.pools.iter_mut().find(|p| p.cidr == pool.cidr) {
            Some(existing) => *existing = pool,
            None => self.pools.push(pool),
        }
    }

    /// Removes the pool with this network (the object only; blocks and affinities stay).
    pub fn delete_pool(&mut self, cidr: &IpNet) -> bool {
        let before = self.pools.len();
        self.pools.retain(|p| p.cidr != cidr.trunc());
        before != self.pools.len()
    }

    pub fn reservations(&self) -> &ReservationSet {
        &self.reservations
    }

    pub fn set_reservations(&mut self, reservations: ReservationSet) {
        self.reservations = reservations;
    }

    pub fn config(&self) -> IpamConfig {
        self.config
    }

    /// Writes the configuration directly (as `kubectl apply` of the resource would): no checks.
    pub fn set_config(&mut self, config: IpamConfig) {
        self.config = config;
    }

    /// `SetIPAMConfig` (what `calicoctl ipam configure` uses): an unchanged configuration is
    /// accepted as is; otherwise the two cross-field rules apply.
    pub fn set_ipam_config(&mut self, config: IpamConfig) -> Result<(), IpamError> {
        if config == self.config {
            return Ok(());
        }
        if !config.strict_affinity && !config.auto_allocate_blocks {
            return Err(IpamError::other(
                "Cannot disable 'StrictAffinity' and 'AutoAllocateBlocks' at the same time",
            ));
        }
        if config.max_blocks_per_host > 0 && !config.strict_affinity {
            return Err(IpamError::other(
                "MaxBlocksPerHost requires StrictAffinity to be enabled",
            ));
        }
        self.config = config;
        Ok(())
    }

    /// Creates or updates a node's labels.
    pub fn set_node(&mut self, name: impl Into<String>, labels: Labels) {
        self.nodes.insert(name.into(), labels);
    }

    pub fn remove_node(&mut self, name: &str) {
        self.nodes.remove(name);
    }

    pub fn nodes(&self) -> &BTreeMap<String, Labels> {
        &self.nodes
    }

    fn cooldown(&self) -> i64 {
        i64::from(self.config.ip_cooldown_seconds)
    }

    // ----- State: blocks, affinities, handles -----

    pub fn block(&self, cidr: &IpNet) -> Option<&Block> {
        self.blocks.get(cidr)
    }

    /// Blocks, optionally of one family, in datastore order (string order of the object name
    /// `<cidr with . : / replaced by ->`, so `10-0-0-12-30` precedes `10-0-0-4-30`).
    pub fn list_blocks(&self, family: Option<Family>) -> Vec<&Block> {
        let mut blocks: Vec<&Block> = self
            .blocks
            .values()
            .filter(|b| family.is_none_or(|f| b.family() == f))
            .collect();
        blocks.sort_by_cached_key(|b| dashed(&b.cidr()));
        blocks
    }

    /// Imports a block as written directly to the datastore (replacing one with the same CIDR).
    pub fn insert_block(&mut self, block: Block) {
        self.blocks.insert(block.cidr(), block);
    }

    /// Imports a block-affinity record as written directly to the datastore.
    pub fn insert_affinity(&mut self, affinity: BlockAffinity) {
        self.affinities
            .insert(affinity_key(&affinity.host, &affinity.cidr), affinity);
    }

    /// Affinity records in datastore order, filtered by host, type and family.
    pub fn list_affinities(
        &self,
        host: Option<&str>,
        affinity_type: Option<&str>,
        family: Option<Family>,
    ) -> Vec<&BlockAffinity> {
        self.affinities
            .values()
            .filter(|a| host.is_none_or(|h| a.host == h))
            .filter(|a| affinity_type.is_none_or(|t| a.affinity_type == t))
            .filter(|a| family.is_none_or(|f| Family::of_net(&a.cidr) == f))
            .collect()
    }

    /// The CIDRs of the blocks affine to `host` for a family, in datastore order.
    pub fn affine_blocks(&self, host: &str, family: Family) -> Vec<IpNet> {
        self.affine_blocks_of(AFFINITY_TYPE_HOST, host, family)
    }

    fn affine_blocks_of(&self, kind: &str, host: &str, family: Family) -> Vec<IpNet> {
        self.list_affinities(Some(host), Some(kind), Some(family))
            .into_iter()
            .map(|a| a.cidr)
            .collect()
    }

    /// Handles with the number of addresses they hold per block.
    pub fn handles(&self) -> &BTreeMap<String, BTreeMap<IpNet, usize>> {
        &self.handles
    }

    fn increment_handle(&mut self, handle: Option<&str>, cidr: IpNet, count: usize) {
        if let (Some(handle), true) = (handle, count > 0) {
            let blocks = self.handles.entry(handle.to_owned()).or_default();
            let entry = blocks.entry(cidr).or_insert(0);
            *entry = entry.saturating_add(count);
        }
    }

    fn decrement_handle(&mut self, handle: &str, cidr: IpNet, count: usize) {
        let Some(blocks) = self.handles.get_mut(handle) else {
            return;
        };
        if let Some(entry) = blocks.get_mut(&cidr) {
            *entry = entry.saturating_sub(count);
            if *entry == 0 {
                blocks.remove(&cidr);
            }
        }
        if blocks.is_empty() {
            self.handles.remove(handle);
        }
    }

    /// Creates a block with this host's affinity and a confirmed affinity record.
    fn claim_block(
        &mut self,
        cidr: IpNet,
        kind: &str,
        host: &str,
        reserved: Option<&HostReservedAttr>,
    ) -> Result<(), IpamError> {
        let mut block = Block::new(cidr, reserved)
            .ok_or_else(|| IpamError::other(format!("cannot create block {cidr}")))?;
        block.affinity = Some(owner_affinity(kind, host));
        block.affinity_claim_time = Some(self.now);
        self.blocks.insert(cidr, block);
        self.insert_affinity(BlockAffinity {
            host: host.to_owned(),
            affinity_type: kind.to_owned(),
            cidr,
            state: AffinityState::Confirmed,
        });
        Ok(())
    }

    /// Applies cooldown collection, as Calico does whenever a block is loaded.
    fn load_block(&mut self, cidr: &IpNet) -> Option<&mut Block> {
        let now = self.now;
        let cooldown = self.cooldown();
        let block = self.blocks.get_mut(cidr)?;
        block.garbage_collect(now, cooldown);
        Some(block)
    }

    /// Frees expired cooldown addresses in every block that has any.
    fn collect_expired_cooldowns(&mut self) {
        let now = self.now;
        let cooldown = self.cooldown();
        for block in self.blocks.values_mut().filter(|b| b.has_released()) {
            block.garbage_collect(now, cooldown);
        }
    }

    /// The existing block containing `ip`, whatever its size.
    fn block_containing(&self, ip: IpAddr) -> Option<IpNet> {
        let max = Family::of_addr(&ip).bits();
        (0..=max)
            .rev()
            .filter_map(|prefix| masked_net(ip, prefix))
            .find(|cidr| self.blocks.contains_key(cidr))
    }

    /// The first enabled pool of the address's family that contains it.
    fn enabled_pool_for_ip(&self, ip: &IpAddr) -> Option<&Pool> {
        self.pools
            .iter()
            .find(|p| p.family() == Family::of_addr(ip) && p.is_enabled() && p.cidr.contains(ip))
    }

    /// The block that holds (or would hold) `ip`: by the enabled pool's block size, else any
    /// existing block containing it.
    fn block_cidr_for_ip(&self, ip: IpAddr) -> Option<IpNet> {
        match self.enabled_pool_for_ip(&ip) {
            Some(pool) => pool.block_cidr_for(ip),
            None => self.block_containing(ip),
        }
    }

    // ----- Pool selection -----

    /// Enabled pools of a family, in accessor order.
    pub fn enabled_pools(&self, family: Family) -> Vec<&Pool> {
        self.pools
            .iter()
            .filter(|p| p.family() == family && p.is_enabled())
            .collect()
    }

    /// `determinePools` (spec §3.2 steps 1–5).
    pub fn determine_pools(
        &self,
        requested: &[IpNet],
        family: Family,
        node_labels: &Labels,
        namespace: Option<&Labels>,
        max_prefix_len: u8,
    ) -> Result<DeterminedPools, IpamError> {
        let enabled = self.enabled_pools(family);
        let index: Vec<&Pool> = enabled
            .iter()
            .copied()
            .filter(|p| p.block_size <= max_prefix_len)
            .collect();
        if index.is_empty() {
            return Err(IpamError::no_qualified_pool());
        }
        let mut pools = Vec::new();
        for wanted in requested {
            let wanted = wanted.trunc();
            match index.iter().find(|p| p.cidr == wanted) {
                Some(pool) => pools.push((*pool).clone()),
                None => {
                    return Err(IpamError::other(format!(
                        "the given pool ({wanted}) does not exist, or is not enabled"
                    )))
                }
            }
        }
        if requested.is_empty() {
            pools = select_implicit_pools(&enabled, node_labels, namespace)?;
        }
        Ok(DeterminedPools {
            pools,
            enabled_count: enabled.len(),
        })
    }

    /// `prepareAffinityBlocksForHost` (spec §3.2 steps 6–10).
    fn prepare_affinity_blocks_for_host(
        &mut self,
        requested: &[IpNet],
        family: Family,
        host: &str,
        reserved: Option<&HostReservedAttr>,
        intended_use: AllowedUse,
        namespace: Option<&Labels>,
    ) -> Result<HostBlocks, IpamError> {
        let max_prefix = max_prefix_len(family, reserved)?;
        let node_labels = self.node_labels_for(host, intended_use)?;
        let determined =
            self.determine_pools(requested, family, &node_labels, namespace, max_prefix)?;
        if determined.pools.is_empty() {
            return Err(IpamError::other(format!(
                "no configured Calico pools for node {host}"
            )));
        }
        let selecting = determined.pools;
        let pools: Vec<Pool> = selecting
            .iter()
            .filter(|p| p.allows(intended_use))
            .cloned()
            .collect();
        if pools.is_empty() {
            return Err(IpamError::new(
                IpamErrorKind::NoQualifiedPool,
                format!(
                    "cannot find a qualified ippool, no pools match the required use ({})",
                    intended_use.as_str()
                ),
            ));
        }
        let mut affine = Vec::new();
        for cidr in self.affine_blocks_of(affinity_type_for(Some(intended_use)), host, family) {
            if pools.iter().any(|p| net_covers(&p.cidr, &cidr)) {
                affine.push(cidr);
            } else if !selecting.iter().any(|p| net_covers(&p.cidr, &cidr))
                && self.pool_deselects(&cidr, &node_labels)
            {
                // The block's pool no longer selects this node: give the block up if unused.
                let _ = self.release_host_block(&cidr, host, true);
            }
        }
        Ok(HostBlocks { pools, affine })
    }

    /// Whether the enabled pool holding `cidr` definitely no longer selects a node with these
    /// labels (a selector that does not parse leaves the block alone).
    fn pool_deselects(&self, cidr: &IpNet, node_labels: &Labels) -> bool {
        self.pools
            .iter()
            .filter(|p| p.is_enabled())
            .find(|p| net_covers(&p.cidr, cidr))
            .is_some_and(|p| p.selects_node(node_labels) == Ok(false))
    }

    /// The labels pools select on: the node's, or none for the virtual load-balancer owner.
    fn node_labels_for(&self, host: &str, intended_use: AllowedUse) -> Result<Labels, IpamError> {
        if intended_use == AllowedUse::LoadBalancer {
            return Ok(Labels::new());
        }
        self.nodes.get(host).cloned().ok_or_else(|| {
            IpamError::does_not_exist(
                format!("Node({host})"),
                format!("nodes \"{host}\" not found"),
            )
        })
    }

    // ----- AutoAssign -----

    /// `AutoAssign` (spec §3.3): IPv4 first, then IPv6; an IPv4 error stops before IPv6. The
    /// result for a family is `None` when that family was not requested or failed before any
    /// assignment state existed (Go nil).
    pub fn auto_assign(
        &mut self,
        args: &AutoAssignArgs,
    ) -> (
        Option<IpamAssignments>,
        Option<IpamAssignments>,
        Result<(), IpamError>,
    ) {
        let Some(intended_use) = args.intended_use else {
            return (
                None,
                None,
                Err(IpamError::new(IpamErrorKind::UseRequired, ERR_USE_REQUIRED)),
            );
        };
        let mut v4 = None;
        if args.num4 != 0 {
            if args
                .ipv4_pools
                .iter()
                .any(|p| Family::of_net(p) != Family::V4)
            {
                return (
                    None,
                    None,
                    Err(IpamError::other(
                        "provided IPv4 IPPools list contains one or more IPv6 IPPools",
                    )),
                );
            }
            let (assignments, result) = self.auto_assign_family(args, Family::V4, intended_use);
            v4 = assignments;
            if result.is_err() {
                return (v4, None, result);
            }
        }
        let mut v6 = None;
        if args.num6 != 0 {
            if args
                .ipv6_pools
                .iter()
                .any(|p| Family::of_net(p) != Family::V6)
            {
                return (
                    v4,
                    None,
                    Err(IpamError::other(
                        "provided IPv6 IPPools list contains one or more IPv4 IPPools",
                    )),
                );
            }
            let (assignments, result) = self.auto_assign_family(args, Family::V6, intended_use);
            v6 = assignments;
            if result.is_err() {
                return (v4, v6, result);
            }
        }
        (v4, v6, Ok(()))
    }

    fn auto_assign_family(
        &mut self,
        args: &AutoAssignArgs,
        family: Family,
        intended_use: AllowedUse,
    ) -> (Option<IpamAssignments>, Result<(), IpamError>) {
        let (num, requested, reserved) = match family {
            Family::V4 => (
                args.num4,
                &args.ipv4_pools,
                args.host_reserved_attr_ipv4s.as_ref(),
            ),
            Family::V6 => (
                args.num6,
                &args.ipv6_pools,
                args.host_reserved_attr_ipv6s.as_ref(),
            ),
        };
        let mut assignments = IpamAssignments {
            ips: Vec::new(),
            ip_version: family.version(),
            num_requested: num,
            host_reserved_attr: reserved.cloned(),
            msgs: Vec::new(),
        };
        if let Some(existing) = self.handle_at_allocation_limit(args, family) {
            assignments.ips = existing.into_iter().take(num).collect();
            return (Some(assignments), Ok(()));
        }
        let host = args.hostname.as_str();
        let host_blocks = match self.prepare_affinity_blocks_for_host(
            requested,
            family,
            host,
            reserved,
            intended_use,
            args.namespace.as_ref(),
        ) {
            Ok(found) => found,
            Err(error) => return (None, Err(error)),
        };
        if args.windows_host && !self.config.strict_affinity {
            return (
                None,
                Err(IpamError::new(
                    IpamErrorKind::StrictAffinity,
                    ERR_STRICT_AFFINITY,
                )),
            );
        }
        let result = self.assign_from_affine_blocks(args, &host_blocks, reserved, &mut assignments);
        if result.is_err() {
            return (Some(assignments), result);
        }
        if !self.config.strict_affinity && assignments.ips.len() < num {
            self.borrow_addresses(args, &host_blocks.pools, &mut assignments);
        }
        (Some(assignments), Ok(()))
    }

    /// KubeVirt (`MaxAllocPerIPVersion`): a handle that already holds its quota of this family
    /// gets its existing addresses back instead of new ones.
    fn handle_at_allocation_limit(
        &self,
        args: &AutoAssignArgs,
        family: Family,
    ) -> Option<Vec<IpNet>> {
        let max = args.max_alloc_per_ip_version.filter(|&m| m > 0)?;
        let handle = args.handle.as_deref()?;
        let existing = self.handle_nets(handle, family);
        (existing.len() >= max).then_some(existing)
    }

    /// The handle's live addresses of one family, with their block prefix.
    fn handle_nets(&self, handle: &str, family: Family) -> Vec<IpNet> {
        let Some(blocks) = self.handles.get(handle) else {
            return Vec::new();
        };
        blocks
            .keys()
            .filter(|cidr| Family::of_net(cidr) == family)
            .filter_map(|cidr| self.blocks.get(cidr))
            .flat_map(|block| {
                let prefix = block.cidr().prefix_len();
                block
                    .ips_by_handle(handle)
                    .into_iter()
                    .filter_map(move |ip| IpNet::new(ip, prefix).ok())
            })
            .collect()
    }

    /// Spec §3.3 C: affine blocks first, then new claims, up to the block cap.
    fn assign_from_affine_blocks(
        &mut self,
        args: &AutoAssignArgs,
        host_blocks: &HostBlocks,
        reserved: Option<&HostReservedAttr>,
        assignments: &mut IpamAssignments,
    ) -> Result<(), IpamError> {
        let host = args.hostname.as_str();
        let mut owned = host_blocks.affine.len();
        let cap = effective_block_cap(args.max_blocks_per_host, self.config.max_blocks_per_host);
        let cap = usize::try_from(cap).unwrap_or(usize::MAX);
        let mut state = AssignState {
            host,
            kind: affinity_type_for(args.intended_use),
            pools: &host_blocks.pools,
            remaining_affine: host_blocks.affine.iter().copied().collect(),
            reserved_attr: reserved,
            allow_new_claim: true,
        };
        let strict = self.config.strict_affinity;
        while assignments.ips.len() < assignments.num_requested {
            if owned >= cap {
                state.allow_new_claim = false;
            }
            let (cidr, newly_claimed) = match self.find_or_claim_block(&mut state, 1) {
                Ok(found) => found,
                Err(ClaimFailure::NoFreeBlocks) => {
                    if strict {
                        assignments
                            .add_msg("No more free affine blocks and strict affinity enabled");
                    }
                    break;
                }
                Err(ClaimFailure::Error(error)) => {
                    if error.kind == IpamErrorKind::BlockLimit {
                        assignments.add_msg(format!(
                            "Need to allocate an IPAM block but could not - limit of {cap} blocks reached for this node"
                        ));
                    }
                    return Err(error);
                }
            };
            if newly_claimed {
                owned = owned.saturating_add(1);
            }
            let remaining = assignments.num_requested - assignments.ips.len();
            let check = strict.then(|| owner_affinity(state.kind, host));
            match self.assign_from_block(&cidr, remaining, args, check.as_deref()) {
                Ok(ips) => assignments.ips.extend(ips),
                Err(_) => assignments.add_msg("Failed to assign IPs in newly allocated block"),
            }
        }
        Ok(())
    }

    /// Takes up to `num` addresses from an existing block and records them on the handle.
    fn assign_from_block(
        &mut self,
        cidr: &IpNet,
        num: usize,
        args: &AutoAssignArgs,
        affinity_check: Option<&str>,
    ) -> Result<Vec<IpNet>, IpamError> {
        let reservations = self.reservations.clone();
        let block = self
            .load_block(cidr)
            .ok_or_else(|| IpamError::other(format!("block {cidr} does not exist")))?;
        let ips = block.auto_assign(
            num,
            args.handle.as_deref(),
            &args.attrs,
            affinity_check,
            &reservations,
        )?;
        if !ips.is_empty() {
            block.bump_sequence_number();
        }
        self.increment_handle(args.handle.as_deref(), *cidr, ips.len());
        Ok(ips)
    }

    /// `findOrClaimBlock`: the next affine block with at least `min_free` free addresses, or a
    /// newly claimed one.
    fn find_or_claim_block(
        &mut self,
        state: &mut AssignState<'_>,
        min_free: usize,
    ) -> Result<(IpNet, bool), ClaimFailure> {
        while let Some(cidr) = state.remaining_affine.pop_front() {
            if self.reservations.matches_whole_cidr(&cidr) {
                continue;
            }
            if !self.blocks.contains_key(&cidr)
                && self
                    .claim_block(cidr, state.kind, state.host, state.reserved_attr)
                    .is_err()
            {
                continue;
            }
            self.confirm_affinity(state.host, &cidr);
            let reservations = self.reservations.clone();
            let free = self
                .load_block(&cidr)
                .map_or(0, |b| b.free_count(&reservations));
            if free >= min_free {
                return Ok((cidr, false));
            }
        }
        if !state.allow_new_claim {
            return Err(ClaimFailure::Error(IpamError::block_limit()));
        }
        if !self.config.auto_allocate_blocks {
            return Err(ClaimFailure::Error(IpamError::other(
                "failed to find or claim a block",
            )));
        }
        let cidr = self
            .find_usable_block(state.pools, state.kind, state.host)
            .ok_or(ClaimFailure::NoFreeBlocks)?;
        self.claim_block(cidr, state.kind, state.host, state.reserved_attr)
            .map_err(ClaimFailure::Error)?;
        let free = self
            .blocks
            .get(&cidr)
            .map_or(0, |b| b.free_count(&self.reservations));
        if free < min_free {
            return Err(ClaimFailure::Error(IpamError::other(format!(
                "Block '{cidr}' has {free} free ips which is less than {min_free} ips required."
            ))));
        }
        Ok((cidr, true))
    }

    fn confirm_affinity(&mut self, host: &str, cidr: &IpNet) {
        if let Some(record) = self.affinities.get_mut(&affinity_key(host, cidr)) {
            record.state = AffinityState::Confirmed;
        }
    }

    /// `findUsableBlock` (spec §3.4): the first unclaimed block CIDR in pool order and rotation
    /// order; failing that, an empty block of another host claimed at least a minute ago.
    fn find_usable_block(&mut self, pools: &[Pool], kind: &str, host: &str) -> Option<IpNet> {
        // Calico reads every block (collecting expired cooldowns) before judging them.
        self.collect_expired_cooldowns();
        let mine = owner_affinity(kind, host);
        let mut reclaim_candidates = Vec::new();
        for pool in pools {
            let Some(walk) = PoolWalk::new(pool, host) else {
                continue;
            };
            let found = walk.find(&self.reservations, |cidr| match self.blocks.get(cidr) {
                None => true,
                Some(block) => {
                    let free = block.free_count(&self.reservations);
                    if block.affinity.as_deref() == Some(mine.as_str()) && free != 0 {
                        return true;
                    }
                    if block.empty() && free != 0 {
                        reclaim_candidates.push(*cidr);
                    }
                    false
                }
            });
            if found.is_some() {
                return found;
            }
        }
        reclaim_candidates
            .into_iter()
            .find(|cidr| self.reclaim_empty_block(cidr))
    }

    /// Releases an empty block of another host so it can be claimed again (v3.32+).
    fn reclaim_empty_block(&mut self, cidr: &IpNet) -> bool {
        let Some(block) = self.blocks.get(cidr) else {
            return false;
        };
        let young = block
            .affinity_claim_time
            .is_some_and(|t| self.now.saturating_sub(t) < EMPTY_BLOCK_MIN_RECLAIM_AGE_SECONDS);
        let owner = block
            .affinity
            .as_deref()
            .and_then(|a| a.strip_prefix("host:"))
            .map(str::to_owned);
        match owner {
            Some(owner) if !young && block.empty() => {
                self.release_host_block(cidr, &owner, true).is_ok()
            }
            _ => false,
        }
    }

    /// Spec §3.3 D: borrow from existing blocks of the candidate pools, in rotation order.
    fn borrow_addresses(
        &mut self,
        args: &AutoAssignArgs,
        pools: &[Pool],
        assignments: &mut IpamAssignments,
    ) {
        let mut exhausted = Vec::new();
        for pool in pools {
            let candidates = PoolWalk::new(pool, &args.hostname)
                .map(|walk| walk.existing_blocks(&self.blocks))
                .unwrap_or_default();
            for cidr in candidates {
                if assignments.ips.len() >= assignments.num_requested {
                    break;
                }
                if self.reservations.matches_whole_cidr(&cidr) {
                    continue;
                }
                let remaining = assignments.num_requested - assignments.ips.len();
                if let Ok(ips) = self.assign_from_block(&cidr, remaining, args, None) {
                    assignments.ips.extend(ips);
                }
            }
            if assignments.ips.len() < assignments.num_requested {
                exhausted.push(pool.cidr_text.clone());
            }
        }
        if !exhausted.is_empty() {
            assignments.add_msg(format!(
                "No IPs available in pools: [{}]",
                exhausted.join(" ")
            ));
        }
    }

    // ----- EnsureBlock -----

    /// `EnsureBlock`: the host's block per family (claimed if it has none). A family is handled
    /// only when its host reservation is given.
    pub fn ensure_block(
        &mut self,
        args: &EnsureBlockArgs,
    ) -> (Option<IpNet>, Option<IpNet>, Result<(), IpamError>) {
        let mut v4 = None;
        if let Some(reserved) = &args.host_reserved_attr_ipv4s {
            if args
                .ipv4_pools
                .iter()
                .any(|p| Family::of_net(p) != Family::V4)
            {
                return (
                    None,
                    None,
                    Err(IpamError::other(
                        "provided IPv4 IPPools list contains one or more IPv6 IPPools",
                    )),
                );
            }
            match self.ensure_family_block(&args.hostname, &args.ipv4_pools, Family::V4, reserved) {
                Ok(cidr) => v4 = Some(cidr),
                Err(error) => return (None, None, Err(error)),
            }
        }
        let mut v6 = None;
        if let Some(reserved) = &args.host_reserved_attr_ipv6s {
            if args
                .ipv6_pools
                .iter()
                .any(|p| Family::of_net(p) != Family::V6)
            {
                return (
                    None,
                    None,
                    Err(IpamError::other(
                        "provided IPv6 IPPools list contains one or more IPv4 IPPools",
                    )),
                );
            }
            match self.ensure_family_block(&args.hostname, &args.ipv6_pools, Family::V6, reserved) {
                Ok(cidr) => v6 = Some(cidr),
                Err(error) => return (None, None, Err(error)),
            }
        }
        (v4, v6, Ok(()))
    }

    fn ensure_family_block(
        &mut self,
        host: &str,
        requested: &[IpNet],
        family: Family,
        reserved: &HostReservedAttr,
    ) -> Result<IpNet, IpamError> {
        let host_blocks = self.prepare_affinity_blocks_for_host(
            requested,
            family,
            host,
            Some(reserved),
            AllowedUse::Workload,
            None,
        )?;
        let mut state = AssignState {
            host,
            kind: AFFINITY_TYPE_HOST,
            pools: &host_blocks.pools,
            remaining_affine: host_blocks.affine.iter().copied().collect(),
            reserved_attr: Some(reserved),
            allow_new_claim: true,
        };
        match self.find_or_claim_block(&mut state, 0) {
            Ok((cidr, _)) => Ok(cidr),
            Err(ClaimFailure::NoFreeBlocks) => Err(IpamError::other("No Free Blocks")),
            Err(ClaimFailure::Error(error)) => Err(error),
        }
    }

    // ----- AssignIP -----

    /// `AssignIP` (spec §3.7).
    pub fn assign_ip(&mut self, args: &AssignIpArgs) -> Result<(), IpamError> {
        let ip = args.ip;
        let pool = self.enabled_pool_for_ip(&ip).cloned().ok_or_else(|| {
            IpamError::other("The provided IP address is not in a configured pool\n")
        })?;
        if let Some(use_) = args.intended_use.filter(|u| !pool.allows(*u)) {
            return Err(IpamError::other(format!(
                "IP address {ip} is in IP pool \"{}\", which is not allowed for use \"{}\" (allowedUses: [{}])",
                pool.name,
                use_.as_str(),
                pool.allowed_uses_text()
            )));
        }
        if let (Some(handle), Some(max)) = (args.handle.as_deref(), args.max_alloc_per_ip_version) {
            let existing = self.handle_nets(handle, Family::of_addr(&ip));
            if existing.iter().any(|net| net.addr() == ip) {
                return Ok(());
            }
            if max > 0 && existing.len() >= max {
                return Err(IpamError::other(format!(
                    "handle {handle} already has IP(s) allocated, cannot assign additional IP {ip} (maxAllocPerIPVersion={max})"
                )));
            }
        }
        let cidr = pool.block_cidr_for(ip).ok_or_else(|| {
            IpamError::other(format!("invalid block size for pool {}", pool.name))
        })?;
        if !self.blocks.contains_key(&cidr) {
            self.claim_block(
                cidr,
                affinity_type_for(args.intended_use),
                &args.hostname,
                args.host_reserved_attr.as_ref(),
            )?;
        }
        let check = self
            .config
            .strict_affinity
            .then(|| owner_affinity(affinity_type_for(args.intended_use), &args.hostname));
        let block = self
            .load_block(&cidr)
            .ok_or_else(|| IpamError::other(format!("block {cidr} does not exist")))?;
        block.assign(check.as_deref(), &ip, args.handle.as_deref(), &args.attrs)?;
        block.bump_sequence_number();
        self.increment_handle(args.handle.as_deref(), cidr, 1);
        Ok(())
    }

    // ----- Release -----

    /// `ReleaseIPs` (spec §3.8). Every block is processed; the first error is returned along
    /// with what the other blocks did.
    pub fn release_ips(
        &mut self,
        releases: &[ReleaseOptions],
    ) -> (ReleaseOutcome, Result<(), IpamError>) {
        let mut outcome = ReleaseOutcome::default();
        let mut by_block: Vec<(IpNet, Vec<ReleaseOptions>)> = Vec::new();
        for opts in releases {
            match self.block_cidr_for_ip(opts.address) {
                None => outcome.unallocated.push(opts.address),
                Some(cidr) => match by_block.iter_mut().find(|(c, _)| *c == cidr) {
                    Some((_, list)) => list.push(opts.clone()),
                    None => by_block.push((cidr, vec![opts.clone()])),
                },
            }
        }
        let mut first_error = None;
        for (cidr, list) in by_block {
            match self.release_from_block(&cidr, &list) {
                Ok(None) => outcome.unallocated.extend(list.iter().map(|o| o.address)),
                Ok(Some(done)) => {
                    outcome.unallocated.extend(done.unallocated);
                    outcome.released = outcome.released.saturating_add(done.released);
                }
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        (outcome, first_error.map_or(Ok(()), Err))
    }

    /// Releases from one block; `Ok(None)` when the block does not exist.
    fn release_from_block(
        &mut self,
        cidr: &IpNet,
        releases: &[ReleaseOptions],
    ) -> Result<Option<super::block::BlockRelease>, IpamError> {
        let now = self.now;
        let cooldown = self.cooldown();
        let Some(block) = self.load_block(cidr) else {
            return Ok(None);
        };
        let done = block.release(releases, now, cooldown)?;
        block.bump_sequence_number();
        for (handle, count) in &done.count_by_handle {
            self.decrement_handle(handle, *cidr, *count);
        }
        self.tidy_after_release(cidr);
        Ok(Some(done))
    }

    /// `ReleaseByHandle`: every address of the handle, in every block.
    pub fn release_by_handle(&mut self, handle: &str) -> Result<usize, IpamError> {
        let Some(blocks) = self.handles.get(handle) else {
            return Err(IpamError::does_not_exist(
                format!("IPAMHandle({handle})"),
                format!("ipamhandles \"{handle}\" not found"),
            ));
        };
        let cidrs: Vec<IpNet> = blocks.keys().copied().collect();
        let now = self.now;
        let cooldown = self.cooldown();
        let mut released = 0usize;
        for cidr in cidrs {
            if let Some(block) = self.load_block(&cidr) {
                released =
                    released.saturating_add(block.release_by_handle(handle, None, now, cooldown));
                block.bump_sequence_number();
            }
            self.tidy_after_release(&cidr);
        }
        self.handles.remove(handle);
        Ok(released)
    }

    /// After a release: an empty unaffine block is deleted; an empty affine block loses its
    /// affinity when its pool no longer selects the node (spec §3.8).
    fn tidy_after_release(&mut self, cidr: &IpNet) {
        let Some(block) = self.blocks.get(cidr) else {
            return;
        };
        if !block.empty() {
            return;
        }
        let Some(affinity) = block.affinity.clone() else {
            self.blocks.remove(cidr);
            return;
        };
        let Some(host) = affinity.strip_prefix("host:") else {
            return;
        };
        let Some(labels) = self.nodes.get(host).cloned() else {
            return;
        };
        if self.pool_deselects(cidr, &labels) {
            let _ = self.release_host_block(cidr, host, true);
        }
    }

    // ----- Queries -----

    /// `IPsByHandle`.
    pub fn ips_by_handle(&self, handle: &str) -> Result<Vec<IpAddr>, IpamError> {
        let blocks = self.handles.get(handle).ok_or_else(|| {
            IpamError::does_not_exist(
                format!("IPAMHandle({handle})"),
                format!("ipamhandles \"{handle}\" not found"),
            )
        })?;
        Ok(blocks
            .keys()
            .filter_map(|cidr| self.blocks.get(cidr))
            .flat_map(|block| block.ips_by_handle(handle))
            .collect())
    }

    /// `GetAssignmentAttributes`: the active owner attributes and handle of an address. The
    /// address must be in an enabled pool and its block must exist.
    pub fn get_assignment_attributes(
        &mut self,
        ip: IpAddr,
    ) -> Result<(BTreeMap<String, String>, Option<String>), IpamError> {
        let cidr = self
            .enabled_pool_for_ip(&ip)
            .and_then(|pool| pool.block_cidr_for(ip))
            .ok_or_else(|| IpamError::does_not_exist(ip.to_string(), "No valid IPPool"))?;
        let block = self.load_block(&cidr).ok_or_else(|| {
            IpamError::does_not_exist(format!("BlockKey(cidr={cidr})"), "block not found")
        })?;
        let attr = block.attributes_for_ip(&ip)?;
        Ok((attr.active_owner_attrs.clone(), attr.handle_id.clone()))
    }

    // ----- Affinities -----

    /// `ClaimAffinity`: claims every block of `cidr` for `host`. Returns the claimed (including
    /// already ours) and failed (claimed by someone else) block CIDRs.
    pub fn claim_affinity(
        &mut self,
        cidr: &IpNet,
        host: &str,
    ) -> Result<(Vec<IpNet>, Vec<IpNet>), IpamError> {
        let cidr = cidr.trunc();
        let pool = self
            .pools
            .iter()
            .find(|p| p.is_enabled() && net_covers(&p.cidr, &cidr))
            .cloned()
            .ok_or_else(|| {
                IpamError::other(format!(
                    "The requested CIDR ({cidr}) is not within any configured pools."
                ))
            })?;
        if cidr.prefix_len() > pool.block_size {
            return Err(IpamError::other(format!(
                "The requested CIDR ({cidr}) is smaller than the minimum."
            )));
        }
        let count_bits = u32::from(pool.block_size - cidr.prefix_len());
        if 1u32
            .checked_shl(count_bits)
            .is_none_or(|n| n > MAX_BLOCKS_PER_CLAIM)
        {
            return Err(IpamError::other(format!(
                "The requested CIDR ({cidr}) holds too many blocks to claim at once."
            )));
        }
        let mine = host_affinity(host);
        let mut claimed = Vec::new();
        let mut failed = Vec::new();
        for block_cidr in cidr.subnets(pool.block_size).into_iter().flatten() {
            match self.blocks.get(&block_cidr) {
                Some(block) if block.affinity.as_deref() == Some(mine.as_str()) => {
                    claimed.push(block_cidr)
                }
                Some(_) => failed.push(block_cidr),
                None => match self.claim_block(block_cidr, AFFINITY_TYPE_HOST, host, None) {
                    Ok(()) => claimed.push(block_cidr),
                    Err(_) => failed.push(block_cidr),
                },
            }
        }
        Ok((claimed, failed))
    }

    /// Calico's block-level `releaseBlockAffinity`: an empty block is deleted, a non-empty one
    /// becomes unaffine (or, with `require_empty`, the call fails). Errors: the block does not
    /// exist, is claimed by someone else, or is not empty when it must be.
    fn release_host_block(
        &mut self,
        cidr: &IpNet,
        host: &str,
        require_empty: bool,
    ) -> Result<(), IpamError> {
        let Some(block) = self.blocks.get_mut(cidr) else {
            self.affinities.remove(&affinity_key(host, cidr));
            return Err(IpamError::does_not_exist(
                format!("BlockKey(cidr={cidr})"),
                "block not found",
            ));
        };
        // The owner may be a node (`host:`) or the virtual load-balancer owner (`virtual:`).
        let owned = block
            .affinity
            .as_deref()
            .and_then(|a| a.split_once(':'))
            .is_some_and(|(_, owner)| owner == host);
        if !owned {
            let owner = block.affinity.clone().unwrap_or_default();
            return Err(IpamError::new(
                IpamErrorKind::BlockClaimConflict,
                format!("{cidr} already claimed by {owner}"),
            ));
        }
        if block.empty() {
            self.blocks.remove(cidr);
        } else if require_empty {
            return Err(IpamError::new(
                IpamErrorKind::BlockNotEmpty,
                format!("block '{cidr}' is not empty"),
            ));
        } else {
            block.affinity = None;
            block.affinity_claim_time = None;
        }
        self.affinities.remove(&affinity_key(host, cidr));
        Ok(())
    }

    /// `ReleaseAffinity`: releases the host's affinity for every block inside `cidr`, which must
    /// lie in an enabled pool and be at least one block large. Blocks of other hosts and missing
    /// blocks are skipped; a non-empty block with `require_empty` fails the call.
    pub fn release_affinity(
        &mut self,
        cidr: &IpNet,
        host: &str,
        require_empty: bool,
    ) -> Result<(), IpamError> {
        let cidr = cidr.trunc();
        let pool = self
            .enabled_pool_for_ip(&cidr.network())
            .cloned()
            .ok_or_else(|| {
                IpamError::other(format!(
                    "The requested CIDR ({cidr}) is not within any configured pools."
                ))
            })?;
        if cidr.prefix_len() > pool.block_size {
            return Err(IpamError::other(format!(
                "The requested CIDR ({cidr}) is smaller than the minimum."
            )));
        }
        let mut targets: Vec<IpNet> = self
            .blocks
            .keys()
            .filter(|b| net_covers(&cidr, b))
            .copied()
            .collect();
        targets.extend(
            self.list_affinities(Some(host), None, None)
                .into_iter()
                .map(|a| a.cidr)
                .filter(|b| net_covers(&cidr, b) && !self.blocks.contains_key(b)),
        );
        for block in targets {
            match self.release_host_block(&block, host, require_empty) {
                Err(e) if e.kind == IpamErrorKind::BlockNotEmpty => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    /// `ReleaseBlockAffinity`: releases whichever host owns the block; an unaffine block is
    /// already released.
    pub fn release_block_affinity(
        &mut self,
        cidr: &IpNet,
        require_empty: bool,
    ) -> Result<(), IpamError> {
        let owner = self
            .blocks
            .get(cidr)
            .and_then(|b| b.affinity.as_deref())
            .and_then(|a| a.split_once(':'))
            .map(|(_, host)| host.to_owned());
        let Some(owner) = owner else {
            return Ok(());
        };
        ignore_missing_or_foreign(self.release_host_block(cidr, &owner, require_empty))
    }

    /// `ReleaseHostAffinities`: every affinity of the host (all families). Blocks that cannot be
    /// released are kept; the last such error is returned after trying all.
    pub fn release_host_affinities(
        &mut self,
        host: &str,
        require_empty: bool,
    ) -> Result<(), IpamError> {
        let cidrs: Vec<IpNet> = self
            .list_affinities(Some(host), None, None)
            .into_iter()
            .map(|a| a.cidr)
            .collect();
        let mut stored_error = None;
        for cidr in cidrs {
            if let Err(error) =
                ignore_missing_or_foreign(self.release_host_block(&cidr, host, require_empty))
            {
                stored_error = Some(error);
            }
        }
        stored_error.map_or(Ok(()), Err)
    }

    /// `ReleasePoolAffinities`: strips every affinity inside `cidr`; empty blocks are deleted,
    /// others keep their allocations unaffine.
    pub fn release_pool_affinities(&mut self, cidr: &IpNet) -> Result<(), IpamError> {
        let cidr = cidr.trunc();
        let records: Vec<(String, IpNet)> = self
            .affinities
            .iter()
            .filter(|(_, a)| net_covers(&cidr, &a.cidr))
            .map(|(key, a)| (key.clone(), a.cidr))
            .collect();
        let mut block_cidrs: Vec<IpNet> = records.iter().map(|(_, c)| *c).collect();
        block_cidrs.extend(
            self.blocks
                .iter()
                .filter(|(c, b)| net_covers(&cidr, c) && b.affinity.is_some())
                .map(|(c, _)| *c),
        );
        for (key, _) in records {
            self.affinities.remove(&key);
        }
        for block_cidr in block_cidrs {
            let Some(block) = self.blocks.get_mut(&block_cidr) else {
                continue;
            };
            if block.empty() {
                self.blocks.remove(&block_cidr);
            } else {
                block.affinity = None;
                block.affinity_claim_time = None;
            }
        }
        Ok(())
    }

    /// `RemoveIPAMHost`: releases all the host's affinities (non-empty blocks become unaffine).
    pub fn remove_ipam_host(&mut self, host: &str) -> Result<(), IpamError> {
        self.release_host_affinities(host, false)
    }
}

/// Release calls skip blocks that are gone or belong to another host.
fn ignore_missing_or_foreign(result: Result<(), IpamError>) -> Result<(), IpamError> {
    match result {
        Err(e)
            if matches!(
                e.kind,
                IpamErrorKind::ResourceDoesNotExist | IpamErrorKind::BlockClaimConflict
            ) =>
        {
            Ok(())
        }
        other => other,
    }
}

/// `determinePools` step 5: implicit candidates are `Automatic` pools whose node and namespace
/// selectors match; a selector that does not parse aborts the request.
fn select_implicit_pools(
    enabled: &[&Pool],
    node_labels: &Labels,
    namespace: Option<&Labels>,
) -> Result<Vec<Pool>, IpamError> {
    let no_labels = Labels::new();
    let namespace_labels = namespace.unwrap_or(&no_labels);
    let mut pools = Vec::new();
    for pool in enabled {
        if pool.assignment_mode != crate::net::AssignmentMode::Automatic {
            continue;
        }
        let node_ok = pool
            .selects_node(node_labels)
            .map_err(|e| IpamError::other(e.message))?;
        let namespace_ok = pool
            .selects_namespace(namespace_labels)
            .map_err(|e| IpamError::other(e.message))?;
        if node_ok && namespace_ok {
            pools.push((*pool).clone());
        }
    }
    Ok(pools)
}
