//! The IPAM engine: cluster state plus Calico's operations (spec §3), for a serial offline
//! simulator. Time is an explicit clock the caller advances; nothing here reads the system clock.
//!
//! This file holds the state and its bookkeeping; each operation family lives in a submodule.

mod affinities;
mod affinity;
mod assign;
mod auto_assign;
mod blocks;
mod host_walks;
mod pools;
mod release;

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;
use rustc_hash::FxHashMap;

use self::affinities::AffinityRecords;
use self::blocks::BlockStore;
use self::host_walks::HostWalk;
use super::addr::{dashed, net_covers};
use super::block::{Block, HostReservedAttr, ReleaseOptions};
use super::errors::{IpamError, IpamErrorKind, ERR_STRICT_AFFINITY, ERR_USE_REQUIRED};
use super::pool::Pool;
use super::reservations::ReservationSet;
use super::types::{
    AffinityState, AssignIpArgs, AutoAssignArgs, BlockAffinity, EnsureBlockArgs, Handle,
    HandleBlocks, IpamAssignments, IpamConfig, OwnerAttrs, ReleaseOutcome, AFFINITY_TYPE_HOST,
    AFFINITY_TYPE_VIRTUAL,
};
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
    /// Indices into `Ipam::pools` (pools do not change during a request).
    pools: Vec<usize>,
    affine: AffineBlocks,
}

/// The host's affine blocks in the candidate pools, in datastore order.
enum AffineBlocks {
    /// Listed for this request.
    Listed {
        blocks: Vec<IpNet>,
        /// The blocks whose affinity record is not yet confirmed (usually none).
        unconfirmed: Vec<IpNet>,
    },
    /// In the host's walk (`Ipam::host_walks`), which holds how many there are and those not
    /// yet found full.
    Walked { count: usize },
}

impl AffineBlocks {
    fn count(&self) -> usize {
        match self {
            AffineBlocks::Listed { blocks, .. } => blocks.len(),
            AffineBlocks::Walked { count } => *count,
        }
    }
}

/// Where `findOrClaimBlock` is in the host's affine blocks.
enum AffineCursor<'a> {
    /// The blocks of the request's own list not yet visited.
    Listed {
        remaining: VecDeque<IpNet>,
        unconfirmed: &'a [IpNet],
    },
    /// The request has taken the first `kept` blocks of the host walk's `live` list; those
    /// after it are not yet visited.
    Walked { kept: usize },
}

impl AffineCursor<'_> {
    fn of(affine: &AffineBlocks) -> AffineCursor<'_> {
        match affine {
            AffineBlocks::Listed {
                blocks,
                unconfirmed,
            } => AffineCursor::Listed {
                remaining: blocks.iter().copied().collect(),
                unconfirmed,
            },
            AffineBlocks::Walked { .. } => AffineCursor::Walked { kept: 0 },
        }
    }
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
    /// Indices into `Ipam::pools`.
    pools: &'a [usize],
    affine: AffineCursor<'a>,
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
    /// Node labels by name; looked up on every request, never listed in order.
    nodes: FxHashMap<String, Labels>,
    blocks: BlockStore,
    /// Keyed by the KDD object name `<host>-<cidr dashed>`, whose order is the datastore order.
    affinities: AffinityRecords,
    /// handle → block → number of addresses. Looked up by name only, never listed in order, so
    /// a hash map: with a million handles a B-tree's string comparisons dominate.
    handles: FxHashMap<Handle, HandleBlocks>,
    now: i64,
    /// The sequence number the most recently created block started at.
    last_block_sequence: u64,
    /// Some block may hold an address in cooldown (conservative: set by every release and
    /// import, cleared when a sweep finds none), so claims need not sweep every block.
    cooldowns_possible: bool,
    /// Where each host's walk of a pool starts (a cache: the start depends only on the host and
    /// the pool's block count).
    rotation_starts: crate::ipam::walk::RotationStarts,
    /// Counts writes to the state (see [`Ipam::writes`]).
    writes: u64,
    /// Counts the changes that may free an address, change which blocks exist or who owns them,
    /// or change what decides that (pools, reservations, configuration, nodes, the clock while an
    /// address cools down), including the collection of expired cooldowns, which `writes` does
    /// not count. Only allocations, claims of new blocks and confirmations are not reshapes:
    /// between two reshapes a full block stays full and a claimed one stays claimed.
    reshapes: u64,
    /// Each host's walks of its blocks, valid while `reshapes` is unchanged (see
    /// `host_walks.rs`).
    host_walks: FxHashMap<String, HostWalk>,
    /// Tests compare runs with and without the host walks.
    #[cfg(test)]
    plain_walks: bool,
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

    /// The same state, walking every request's blocks afresh as Calico does: tests compare
    /// it with the host walks.
    #[cfg(test)]
    pub(crate) fn without_host_walks(mut self) -> Ipam {
        self.plain_walks = true;
        self.host_walks.clear();
        self
    }

    // ----- State: clock, pools, reservations, config, nodes -----

    /// The logical clock, in seconds.
    pub fn now(&self) -> i64 {
        self.now
    }

    pub fn set_now(&mut self, now: i64) {
        self.clock_moves();
        self.now = now;
    }

    pub fn advance_clock(&mut self, seconds: i64) {
        self.clock_moves();
        self.now = self.now.saturating_add(seconds);
    }

    /// Time frees addresses only by ending their cooldown.
    fn clock_moves(&mut self) {
        if self.cooldowns_possible {
            self.reshape();
        } else {
            self.writes += 1;
        }
    }

    /// Counts a write that may make a block usable again or change who owns which block.
    fn reshape(&mut self) {
        self.writes += 1;
        self.reshapes += 1;
    }

    /// Pools in the order the pool accessor returns them (Calico: name order).
    pub fn pools(&self) -> &[Pool] {
        &self.pools
    }

    /// Replaces all pools; the order given is the accessor order.
    pub fn set_pools(&mut self, pools: Vec<Pool>) {
        self.reshape();
        self.pools = pools;
    }

    /// Adds a pool, or replaces the one with the same network in place.
    pub fn apply_pool(&mut self, pool: Pool) {
        self.reshape();
        match self.pools.iter_mut().find(|p| p.cidr == pool.cidr) {
            Some(existing) => *existing = pool,
            None => self.pools.push(pool),
        }
    }

    /// Removes the pool with this network (the object only; blocks and affinities stay).
    pub fn delete_pool(&mut self, cidr: &IpNet) -> bool {
        self.reshape();
        let before = self.pools.len();
        self.pools.retain(|p| p.cidr != cidr.trunc());
        before != self.pools.len()
    }

    pub fn reservations(&self) -> &ReservationSet {
        &self.reservations
    }

    pub fn set_reservations(&mut self, reservations: ReservationSet) {
        self.reshape();
        self.reservations = reservations;
    }

    pub fn config(&self) -> IpamConfig {
        self.config
    }

    /// Writes the configuration directly (as `kubectl apply` of the resource would): no checks.
    pub fn set_config(&mut self, config: IpamConfig) {
        self.reshape();
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
        self.reshape();
        self.config = config;
        Ok(())
    }

    /// Creates or updates a node's labels.
    pub fn set_node(&mut self, name: impl Into<String>, labels: Labels) {
        self.reshape();
        self.nodes.insert(name.into(), labels);
    }

    pub fn remove_node(&mut self, name: &str) {
        self.reshape();
        self.nodes.remove(name);
    }

    pub fn nodes(&self) -> &FxHashMap<String, Labels> {
        &self.nodes
    }

    fn cooldown(&self) -> i64 {
        i64::from(self.config.ip_cooldown_seconds)
    }

    // ----- State: blocks, affinities, handles -----

    pub fn block(&self, cidr: &IpNet) -> Option<&Block> {
        self.blocks.get(cidr)
    }

    /// The existing block that contains `ip`, if any.
    pub fn block_for_ip(&self, ip: IpAddr) -> Option<&Block> {
        self.block_containing(ip)
            .and_then(|cidr| self.blocks.get(&cidr))
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
        self.reshape();
        self.cooldowns_possible = true;
        self.blocks.insert(block.cidr(), block);
    }

    /// Imports a block-affinity record as written directly to the datastore.
    pub fn insert_affinity(&mut self, affinity: BlockAffinity) {
        self.reshape();
        self.affinities.insert(affinity);
    }

    /// Affinity records in datastore order, filtered by host, type and family.
    pub fn list_affinities(
        &self,
        host: Option<&str>,
        affinity_type: Option<&str>,
        family: Option<Family>,
    ) -> Vec<&BlockAffinity> {
        let records = match host {
            Some(h) => self.host_records(h).collect(),
            None => self.affinities.in_order(),
        };
        records
            .into_iter()
            .filter(|a| affinity_type.is_none_or(|t| a.affinity_type == t))
            .filter(|a| family.is_none_or(|f| Family::of_net(&a.cidr) == f))
            .collect()
    }

    /// The affinity records of `host`, in datastore order, without allocating.
    fn host_records<'a>(&'a self, host: &str) -> impl Iterator<Item = &'a BlockAffinity> + 'a {
        self.affinities.of_host(host)
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

    /// How many writes the state has seen. Reading does not count, nor does the collection of
    /// expired cooldowns that every read of a block applies (it gives the same result however
    /// often it runs at one time): a request that leaves the count unchanged left the state as it
    /// found it, so the same request again has the same outcome.
    pub fn writes(&self) -> u64 {
        self.writes
    }

    /// Makes room in the handle index for `additional` more handles (a run that knows how many
    /// pods it will create grows the index once instead of rehashing it as it doubles).
    pub fn reserve_handles(&mut self, additional: usize) {
        self.handles.reserve(additional);
    }

    /// Handles with the number of addresses they hold per block.
    pub fn handles(&self) -> impl Iterator<Item = (&str, &HandleBlocks)> + '_ {
        self.handles
            .iter()
            .map(|(handle, blocks)| (handle.as_ref(), blocks))
    }

    fn increment_handle(&mut self, handle: Option<&Handle>, cidr: IpNet, count: usize) {
        if let (Some(handle), true) = (handle, count > 0) {
            self.writes += 1;
            match self.handles.get_mut(handle.as_ref()) {
                Some(blocks) => blocks.add(cidr, count),
                None => {
                    let mut blocks = HandleBlocks::default();
                    blocks.add(cidr, count);
                    self.handles.insert(Arc::clone(handle), blocks);
                }
            }
        }
    }

    fn decrement_handle(&mut self, handle: &str, cidr: IpNet, count: usize) {
        self.reshape();
        let Some(blocks) = self.handles.get_mut(handle) else {
            return;
        };
        blocks.subtract(cidr, count);
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
        self.writes += 1;
        let mut block = Block::new(cidr, reserved)
            .ok_or_else(|| IpamError::other(format!("cannot create block {cidr}")))?;
        block.affinity = Some(owner_affinity(kind, host));
        block.affinity_claim_time = Some(self.now);
        block.set_sequence_number(self.next_block_sequence());
        self.blocks.insert(cidr, block);
        let new_record = self.affinities.insert(BlockAffinity {
            host: host.to_owned(),
            affinity_type: kind.to_owned(),
            cidr,
            state: AffinityState::Confirmed,
        });
        self.note_claim(kind, host, cidr, new_record);
        Ok(())
    }

    /// Brings the host's walk up to date with a block just claimed for it (a claim is not a
    /// reshape: it only adds a block, and a new record, to the host).
    fn note_claim(&mut self, kind: &str, host: &str, cidr: IpNet, new_record: bool) {
        let Some(walk) = self.host_walks.get_mut(host) else {
            return;
        };
        if walk.kind != kind || walk.family != Family::of_net(&cidr) {
            // The walk never lists records of another type or family.
            return;
        }
        if !new_record {
            // The record was there already and is now confirmed.
            walk.unconfirmed.retain(|c| *c != cidr);
            return;
        }
        let in_pools = walk
            .pools
            .iter()
            .filter_map(|&i| self.pools.get(i))
            .any(|p| net_covers(&p.cidr, &cidr));
        if in_pools {
            walk.affine_count += 1;
            walk.claimed.push(cidr);
        } else {
            // A record outside the walk's pools may be one a request must try to release.
            self.host_walks.remove(host);
        }
    }

    /// Creates (or confirms) the affinity record of a block that is already this owner's.
    fn ensure_affinity_record(&mut self, kind: &str, host: &str, cidr: &IpNet) {
        self.reshape();
        match self.affinities.get_mut(host, cidr) {
            Some(record) => record.state = AffinityState::Confirmed,
            None => {
                self.affinities.insert(BlockAffinity {
                    host: host.to_owned(),
                    affinity_type: kind.to_owned(),
                    cidr: *cidr,
                    state: AffinityState::Confirmed,
                });
            }
        }
    }

    /// Calico starts a new block's sequence number at the current Unix time in nanoseconds, so a
    /// deleted and recreated block never reuses numbers. The logical clock may stand still, so the
    /// start is also kept above the previous block's by a wide margin.
    fn next_block_sequence(&mut self) -> u64 {
        const GAP: u64 = 1 << 32;
        let clock = u64::try_from(self.now)
            .unwrap_or(0)
            .saturating_mul(1_000_000_000);
        let next = clock.max(self.last_block_sequence.saturating_add(GAP));
        self.last_block_sequence = next;
        next
    }

    /// Applies cooldown collection, as Calico does whenever a block is loaded.
    fn load_block(&mut self, cidr: &IpNet) -> Option<&mut Block> {
        let now = self.now;
        let cooldown = self.cooldown();
        let block = self.blocks.get_mut(cidr)?;
        // Not a write (see `writes`), but it frees addresses, and may empty a block.
        self.reshapes += u64::from(block.garbage_collect(now, cooldown));
        Some(block)
    }

    /// Frees expired cooldown addresses in every block that has any.
    fn collect_expired_cooldowns(&mut self) {
        if !self.cooldowns_possible {
            return;
        }
        let now = self.now;
        let cooldown = self.cooldown();
        let mut still_cooling = false;
        for block in self
            .blocks
            .values_mut_unordered()
            .filter(|b| b.has_released())
        {
            self.reshapes += u64::from(block.garbage_collect(now, cooldown));
            still_cooling |= block.has_released();
        }
        self.cooldowns_possible = still_cooling;
    }

    /// The existing block containing `ip`, whatever its size (the most specific one).
    fn block_containing(&self, ip: IpAddr) -> Option<IpNet> {
        self.blocks.containing(ip)
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
}
