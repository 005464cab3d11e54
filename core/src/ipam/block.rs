//! One `IPAMBlock` (spec §1.4, §3.6, §3.8): ordinal allocations, the ordered free queue that is
//! Calico's hand-out order, attributes with handles and release times, and cooldown collection.

use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;

use ipnet::IpNet;

use super::addr::{addr_to_u128, host_bits, net_base, u128_to_addr};
use super::errors::IpamError;
use super::reservations::ReservationSet;
use super::types::{Handle, OwnerAttrs};
use crate::net::Family;

/// The handle Calico uses for the addresses it pre-allocates on Windows blocks.
pub const WINDOWS_RESERVED_HANDLE: &str = "windows-reserved-ipam-handle";

/// The largest block the engine materialises (2^16 ordinals). Calico's block sizes stop at
/// 2^12 addresses (IPv4 /20, IPv6 /116); this bound only guards against absurd input.
const MAX_BLOCK_HOST_BITS: u32 = 16;

/// `HostReservedAttr`: addresses pre-allocated at both ends of every block a host creates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostReservedAttr {
    pub start_of_block: usize,
    pub end_of_block: usize,
    pub handle: String,
    pub note: String,
}

impl HostReservedAttr {
    /// Calico's Windows reservation: the first three and the last address of each block.
    pub fn windows() -> HostReservedAttr {
        HostReservedAttr {
            start_of_block: 3,
            end_of_block: 1,
            handle: WINDOWS_RESERVED_HANDLE.to_owned(),
            note: String::new(),
        }
    }
}

/// One entry of a block's `attributes` list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllocationAttribute {
    pub handle_id: Option<Handle>,
    pub active_owner_attrs: OwnerAttrs,
    /// KubeVirt live migration's second owner; kept so imported blocks round-trip.
    pub alternate_owner_attrs: OwnerAttrs,
    /// Set (seconds on the engine clock) while the address is in cooldown after a release.
    pub released_at: Option<i64>,
}

/// What one release names: an address, optionally with the handle and sequence number the
/// caller believes it has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseOptions {
    pub address: IpAddr,
    pub handle: Option<String>,
    pub sequence_number: Option<u64>,
}

impl ReleaseOptions {
    pub fn address(address: IpAddr) -> ReleaseOptions {
        ReleaseOptions {
            address,
            handle: None,
            sequence_number: None,
        }
    }
}

/// What a release did inside one block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockRelease {
    /// Addresses that were not allocated (nothing to do).
    pub unallocated: Vec<IpAddr>,
    /// How many addresses were released per handle.
    pub count_by_handle: BTreeMap<String, usize>,
    /// How many addresses were released in total.
    pub released: usize,
}

/// An allocation block.
#[derive(Clone, Debug)]
pub struct Block {
    cidr: IpNet,
    /// `host:<node>` or `virtual:<name>`; `None` for an unaffine block.
    pub affinity: Option<String>,
    /// When the affinity was claimed (engine clock seconds).
    pub affinity_claim_time: Option<i64>,
    allocations: Vec<Option<usize>>,
    unallocated: VecDeque<usize>,
    attributes: Vec<AllocationAttribute>,
    sequence_number: u64,
    /// Calico's `SequenceNumberForAllocation`, indexed by ordinal, 0 where none is recorded
    /// (which is what Calico reads for a missing entry). An indexed vector makes recording one
    /// per allocation a store instead of a tree insert; it grows only up to the highest
    /// ordinal recorded, and allocation starts from the low ordinals, so a large block that
    /// holds a few addresses keeps a short vector.
    sequence_number_for_allocation: Vec<u64>,
    /// Some attribute may be in cooldown or unreferenced, so `garbage_collect` has work to do.
    /// A cache of the state above: not part of equality.
    gc_pending: bool,
}

impl PartialEq for Block {
    fn eq(&self, other: &Block) -> bool {
        self.cidr == other.cidr
            && self.affinity == other.affinity
            && self.affinity_claim_time == other.affinity_claim_time
            && self.allocations == other.allocations
            && self.unallocated == other.unallocated
            && self.attributes == other.attributes
            && self.sequence_number == other.sequence_number
            && self.sequence_number_for_allocation == other.sequence_number_for_allocation
    }
}

impl Eq for Block {}

/// Strips the `\r...` suffix that old host-local migrations left in handles.
fn sanitize_handle(handle: &str) -> &str {
    handle.split('\r').next().unwrap_or(handle)
}

impl Block {
    /// A fresh block: every ordinal free and queued in ascending order, except the ones a host
    /// reservation pre-allocates. `None` if the CIDR is larger than any Calico block or the
    /// reservation does not fit.
    pub fn new(cidr: IpNet, reserved: Option<&HostReservedAttr>) -> Option<Block> {
        let cidr = cidr.trunc();
        let bits = host_bits(&cidr);
        if bits > MAX_BLOCK_HOST_BITS {
            return None;
        }
        let size = 1usize << bits;
        let mut block = Block {
            cidr,
            affinity: None,
            affinity_claim_time: None,
            allocations: vec![None; size],
            unallocated: (0..size).collect(),
            attributes: Vec::new(),
            sequence_number: 0,
            sequence_number_for_allocation: Vec::new(),
            gc_pending: false,
        };
        if let Some(reserved) = reserved {
            block.reserve_ends(reserved)?;
        }
        Some(block)
    }

    /// Pre-allocates the first `start_of_block` and last `end_of_block` ordinals to the
    /// reservation handle; they never enter the free queue.
    fn reserve_ends(&mut self, reserved: &HostReservedAttr) -> Option<()> {
        let size = self.allocations.len();
        let end_start = size.checked_sub(reserved.end_of_block)?;
        if reserved.start_of_block > end_start {
            return None;
        }
        self.gc_pending = true;
        let mut attrs = OwnerAttrs::new();
        attrs.insert("note", &reserved.note);
        let index = self.attributes.len();
        self.attributes.push(AllocationAttribute {
            handle_id: Some(Handle::from(reserved.handle.as_str())),
            active_owner_attrs: attrs,
            ..AllocationAttribute::default()
        });
        for ordinal in (0..reserved.start_of_block).chain(end_start..size) {
            if let Some(slot) = self.allocations.get_mut(ordinal) {
                *slot = Some(index);
            }
        }
        self.unallocated
            .retain(|&ordinal| ordinal >= reserved.start_of_block && ordinal < end_start);
        Some(())
    }

    pub fn cidr(&self) -> IpNet {
        self.cidr
    }

    pub fn family(&self) -> Family {
        Family::of_net(&self.cidr)
    }

    pub fn num_addresses(&self) -> usize {
        self.allocations.len()
    }

    /// The block's write counter (Calico bumps it on every write).
    pub fn sequence_number(&self) -> u64 {
        self.sequence_number
    }

    pub fn set_sequence_number(&mut self, value: u64) {
        self.sequence_number = value;
    }

    /// The sequence number recorded when `ordinal` was allocated (0 if none).
    pub fn sequence_number_for_ordinal(&self, ordinal: usize) -> u64 {
        self.sequence_number_for_allocation
            .get(ordinal)
            .copied()
            .unwrap_or(0)
    }

    /// Records `value` for `ordinal`; an ordinal outside the block is ignored, since no
    /// address reads it back and it must not size the vector.
    pub fn set_sequence_number_for_ordinal(&mut self, ordinal: usize, value: u64) {
        if ordinal >= self.allocations.len() {
            return;
        }
        if ordinal >= self.sequence_number_for_allocation.len() {
            self.sequence_number_for_allocation.resize(ordinal + 1, 0);
        }
        if let Some(recorded) = self.sequence_number_for_allocation.get_mut(ordinal) {
            *recorded = value;
        }
    }

    /// Records the block's current sequence number as the one `ordinal` was allocated at.
    fn record_sequence_number(&mut self, ordinal: usize) {
        self.set_sequence_number_for_ordinal(ordinal, self.sequence_number);
    }

    /// Records a write, as Calico's block writer does.
    pub fn bump_sequence_number(&mut self) {
        self.sequence_number = self.sequence_number.wrapping_add(1);
    }

    pub fn ordinal_to_ip(&self, ordinal: usize) -> Option<IpAddr> {
        let value = net_base(&self.cidr).checked_add(u128::try_from(ordinal).ok()?)?;
        u128_to_addr(self.family(), value)
    }

    pub fn ip_to_ordinal(&self, ip: &IpAddr) -> Option<usize> {
        if !self.cidr.contains(ip) {
            return None;
        }
        let offset = addr_to_u128(*ip).checked_sub(net_base(&self.cidr))?;
        usize::try_from(offset)
            .ok()
            .filter(|&o| o < self.allocations.len())
    }

    /// The free queue, head first: Calico's hand-out order.
    pub fn unallocated(&self) -> impl Iterator<Item = usize> + '_ {
        self.unallocated.iter().copied()
    }

    pub fn unallocated_len(&self) -> usize {
        self.unallocated.len()
    }

    pub fn attributes(&self) -> &[AllocationAttribute] {
        &self.attributes
    }

    /// Ordinals that hold an allocation (including cooldown and host reservations).
    pub fn allocated_ordinals(&self) -> Vec<usize> {
        self.allocations
            .iter()
            .enumerate()
            .filter(|(_, slot)| slot.is_some())
            .map(|(ordinal, _)| ordinal)
            .collect()
    }

    fn attribute_of(&self, ordinal: usize) -> Option<&AllocationAttribute> {
        let index = (*self.allocations.get(ordinal)?)?;
        self.attributes.get(index)
    }

    /// Whether the ordinal is occupied by a live allocation (not free, not cooling down).
    fn is_live(&self, ordinal: usize) -> bool {
        self.attribute_of(ordinal)
            .is_some_and(|attr| attr.released_at.is_none())
    }

    /// Calico's `affinityMatches`.
    fn affinity_is(&self, wanted: &str) -> bool {
        self.affinity.as_deref() == Some(wanted)
    }

    /// Reuses an attribute entry with the same handle and attributes, or adds one.
    fn find_or_add_attribute(&mut self, handle: Option<&Handle>, attrs: &OwnerAttrs) -> usize {
        // A block's handles mostly share their start (network, namespace, workload) and differ
        // in their last characters, so those are compared before the whole text.
        let same_handle = |other: Option<&Handle>| match (other, handle) {
            (Some(a), Some(b)) => {
                a.len() == b.len() && a.as_bytes().last() == b.as_bytes().last() && a == b
            }
            (a, b) => a.is_none() && b.is_none(),
        };
        let same = |a: &AllocationAttribute| {
            same_handle(a.handle_id.as_ref())
                && a.released_at.is_none()
                && a.alternate_owner_attrs.is_empty()
                && a.active_owner_attrs == *attrs
        };
        if let Some(index) = self.attributes.iter().position(same) {
            return index;
        }
        if self.attributes.is_empty() {
            // A first push would reserve room for four attributes: a block of one or two
            // addresses (a node given a /32 block per pod) would carry the unused room for
            // each of its blocks.
            self.attributes.reserve_exact(self.allocations.len().min(4));
        }
        self.attributes.push(AllocationAttribute {
            handle_id: handle.cloned(),
            active_owner_attrs: attrs.clone(),
            ..AllocationAttribute::default()
        });
        self.attributes.len() - 1
    }

    /// Takes up to `num` addresses from the head of the free queue, skipping (and keeping in
    /// place) reserved ones (spec §3.6). `affinity_check` is `Some("host:<node>")` on the strict
    /// affine path. Addresses carry the block's prefix length.
    pub fn auto_assign(
        &mut self,
        num: usize,
        handle: Option<&Handle>,
        attrs: &OwnerAttrs,
        affinity_check: Option<&str>,
        reservations: &ReservationSet,
    ) -> Result<Vec<IpNet>, IpamError> {
        self.check_affinity_for_auto_assign(affinity_check)?;
        if !reservations.matches_some(&self.cidr) {
            // No reserved address in the block: the head of the queue is handed out as is.
            let count = num.min(self.unallocated.len());
            let mut taken = Vec::with_capacity(count);
            if count > 0 {
                let index = self.find_or_add_attribute(handle, attrs);
                let prefix = self.cidr.prefix_len();
                for _ in 0..count {
                    let Some(ordinal) = self.unallocated.pop_front() else {
                        break;
                    };
                    let Some(addr) = self.ordinal_to_ip(ordinal) else {
                        // Cannot happen for an ordinal of this block; keep it queued as the
                        // general path would (it stays in place relative to the others).
                        self.unallocated.push_front(ordinal);
                        break;
                    };
                    if let Some(slot) = self.allocations.get_mut(ordinal) {
                        *slot = Some(index);
                    }
                    self.record_sequence_number(ordinal);
                    taken.push(IpNet::new(addr, prefix).unwrap_or(self.cidr));
                }
            }
            return Ok(taken);
        }
        let mut taken = Vec::new();
        let mut kept = VecDeque::with_capacity(self.unallocated.len());
        let mut attribute_index = None;
        while let Some(ordinal) = self.unallocated.pop_front() {
            if taken.len() >= num {
                kept.push_back(ordinal);
                kept.extend(self.unallocated.drain(..));
                break;
            }
            let Some(addr) = self.ordinal_to_ip(ordinal) else {
                kept.push_back(ordinal);
                continue;
            };
            if reservations.matches_ip(&addr) {
                kept.push_back(ordinal);
                continue;
            }
            let index =
                *attribute_index.get_or_insert_with(|| self.find_or_add_attribute(handle, attrs));
            if let Some(slot) = self.allocations.get_mut(ordinal) {
                *slot = Some(index);
            }
            self.record_sequence_number(ordinal);
            taken.push(IpNet::new(addr, self.cidr.prefix_len()).unwrap_or(self.cidr));
        }
        self.unallocated = kept;
        Ok(taken)
    }

    fn check_affinity_for_auto_assign(
        &self,
        affinity_check: Option<&str>,
    ) -> Result<(), IpamError> {
        let Some(wanted) = affinity_check else {
            return Ok(());
        };
        match &self.affinity {
            Some(actual) if actual != wanted => {
                let provided = wanted
                    .split_once(':')
                    .map_or(wanted.to_owned(), |(kind, host)| format!("{host}:{kind}"));
                Err(IpamError::other(format!(
                    "Block affinity ({actual}) does not match provided ({provided})"
                )))
            }
            Some(_) => Ok(()),
            None => Err(IpamError::other(format!(
                "Attempt to assign from block {} with no affinity",
                self.cidr
            ))),
        }
    }

    /// Assigns one specific address (spec §3.7 step 6).
    pub fn assign(
        &mut self,
        affinity_check: Option<&str>,
        ip: &IpAddr,
        handle: Option<&Handle>,
        attrs: &OwnerAttrs,
    ) -> Result<(), IpamError> {
        if let Some(wanted) = affinity_check {
            match &self.affinity {
                Some(_) if !self.affinity_is(wanted) => {
                    return Err(IpamError::other("Block host affinity does not match"));
                }
                None => {
                    return Err(IpamError::other(format!(
                        "Attempt to assign from block {} with no affinity",
                        self.cidr
                    )));
                }
                Some(_) => {}
            }
        }
        let ordinal = self
            .ip_to_ordinal(ip)
            .ok_or_else(|| IpamError::other(format!("IP {ip} not in block {}", self.cidr)))?;
        if self.allocations.get(ordinal).is_some_and(Option::is_some) {
            return Err(IpamError::already_assigned(ip.to_string()));
        }
        self.record_sequence_number(ordinal);
        let index = self.find_or_add_attribute(handle, attrs);
        if let Some(slot) = self.allocations.get_mut(ordinal) {
            *slot = Some(index);
        }
        if let Some(position) = self.unallocated.iter().position(|&o| o == ordinal) {
            self.unallocated.remove(position);
        }
        Ok(())
    }

    /// Whether some ordinal is cooling down after a release.
    pub fn has_released(&self) -> bool {
        self.attributes
            .iter()
            .any(|attr| attr.released_at.is_some())
    }

    /// Ordinals in the free queue whose address is not reserved (`freeCount`, spec §3.1).
    pub fn free_count(&self, reservations: &ReservationSet) -> usize {
        // Most clusters reserve nothing; this is asked of every block a request walks past.
        if reservations.is_empty() {
            return self.unallocated.len();
        }
        if reservations.matches_whole_cidr(&self.cidr) {
            return 0;
        }
        if !reservations.matches_some(&self.cidr) {
            return self.unallocated.len();
        }
        self.unallocated
            .iter()
            .filter_map(|&o| self.ordinal_to_ip(o))
            .filter(|addr| !reservations.matches_ip(addr))
            .count()
    }

    /// How many of the block's addresses are reserved (all ordinals, free or not).
    pub fn reserved_count(&self, reservations: &ReservationSet) -> usize {
        let count = reservations.count_reserved_in(&self.cidr);
        usize::try_from(count)
            .unwrap_or(usize::MAX)
            .min(self.num_addresses())
    }

    /// Every occupied ordinal carries the Windows reservation handle (spec §3.1). An address in
    /// cooldown has no handle, so it keeps the block non-empty.
    pub fn empty(&self) -> bool {
        self.allocations.iter().flatten().all(|&index| {
            self.attributes
                .get(index)
                .and_then(|attr| attr.handle_id.as_deref())
                .is_some_and(|handle| handle.eq_ignore_ascii_case(WINDOWS_RESERVED_HANDLE))
        })
    }

    /// Addresses of occupied ordinals, ascending.
    pub fn in_use_ips(&self) -> Vec<IpAddr> {
        self.allocated_ordinals()
            .into_iter()
            .filter_map(|o| self.ordinal_to_ip(o))
            .collect()
    }

    /// Live addresses allocated to `handle`, ascending.
    pub fn ips_by_handle(&self, handle: &str) -> Vec<IpAddr> {
        (0..self.allocations.len())
            .filter(|&o| {
                self.attribute_of(o)
                    .and_then(|attr| attr.handle_id.as_deref())
                    .is_some_and(|h| sanitize_handle(h) == handle)
            })
            .filter_map(|o| self.ordinal_to_ip(o))
            .collect()
    }

    /// The attributes of a live allocation; errors for a free address or one in cooldown.
    pub fn attributes_for_ip(&self, ip: &IpAddr) -> Result<&AllocationAttribute, IpamError> {
        let ordinal = self
            .ip_to_ordinal(ip)
            .ok_or_else(|| IpamError::other(format!("IP {ip} not in block {}", self.cidr)))?;
        match self.attribute_of(ordinal) {
            None => Err(IpamError::other(format!(
                "IP {ip} is not currently assigned in block"
            ))),
            Some(attr) if attr.released_at.is_some() => {
                Err(IpamError::other(format!("address {ip} is in cooldown")))
            }
            Some(attr) => Ok(attr),
        }
    }

    /// Releases addresses (spec §3.8). Any handle or sequence-number mismatch fails the whole
    /// block before anything changes. Released ordinals go into cooldown and are then collected
    /// with `cooldown_seconds` at `now` (immediately when the cooldown is 0).
    pub fn release(
        &mut self,
        releases: &[ReleaseOptions],
        now: i64,
        cooldown_seconds: i64,
    ) -> Result<BlockRelease, IpamError> {
        let mut unique: BTreeMap<usize, &ReleaseOptions> = BTreeMap::new();
        let mut outcome = BlockRelease::default();
        for opts in releases {
            let ordinal = self.ip_to_ordinal(&opts.address).ok_or_else(|| {
                IpamError::other(format!("IP {} not in block {}", opts.address, self.cidr))
            })?;
            unique.insert(ordinal, opts);
        }
        let mut to_release = Vec::new();
        for (&ordinal, opts) in &unique {
            self.check_release_sequence(ordinal, opts)?;
            if !self.is_live(ordinal) {
                outcome.unallocated.push(opts.address);
                continue;
            }
            let handle = self.check_release_handle(ordinal, opts)?;
            if let Some(handle) = handle {
                *outcome.count_by_handle.entry(handle).or_insert(0) += 1;
            }
            to_release.push(ordinal);
        }
        outcome.released = to_release.len();
        self.start_cooldown(&to_release, now);
        self.garbage_collect(now, cooldown_seconds);
        Ok(outcome)
    }

    fn check_release_sequence(
        &self,
        ordinal: usize,
        opts: &ReleaseOptions,
    ) -> Result<(), IpamError> {
        let Some(requested) = opts.sequence_number else {
            return Ok(());
        };
        let expected = self.sequence_number_for_ordinal(ordinal);
        if requested == expected {
            return Ok(());
        }
        Err(IpamError::update_conflict(
            opts.address.to_string(),
            format!(
                "the given sequence number ({requested}) does not match ({expected}) when attempting to release IP"
            ),
        ))
    }

    fn check_release_handle(
        &self,
        ordinal: usize,
        opts: &ReleaseOptions,
    ) -> Result<Option<String>, IpamError> {
        let stored = self
            .attribute_of(ordinal)
            .and_then(|attr| attr.handle_id.as_deref())
            .map(sanitize_handle)
            .unwrap_or("")
            .to_owned();
        if let Some(requested) = opts.handle.as_deref().filter(|h| !h.is_empty()) {
            let requested = sanitize_handle(requested);
            if requested != stored {
                return Err(IpamError::update_conflict(
                    opts.address.to_string(),
                    format!(
                        "the given handle ({requested}) does not match ({stored}) when attempting to release IP"
                    ),
                ));
            }
        }
        Ok((!stored.is_empty()).then_some(stored))
    }

    /// Points each ordinal at a fresh attribute that only records the release time (v3.33+).
    fn start_cooldown(&mut self, ordinals: &[usize], now: i64) {
        self.gc_pending = true;
        for &ordinal in ordinals {
            self.attributes.push(AllocationAttribute {
                released_at: Some(now),
                ..AllocationAttribute::default()
            });
            let index = self.attributes.len() - 1;
            if let Some(slot) = self.allocations.get_mut(ordinal) {
                *slot = Some(index);
            }
        }
        self.compact_attributes();
    }

    /// Releases every live address of `handle` (optionally only those with a matching
    /// sequence number) and returns how many were released.
    pub fn release_by_handle(
        &mut self,
        handle: &str,
        sequence_number: Option<u64>,
        now: i64,
        cooldown_seconds: i64,
    ) -> usize {
        let ordinals: Vec<usize> = (0..self.allocations.len())
            .filter(|&o| self.is_live(o))
            .filter(|&o| {
                self.attribute_of(o)
                    .and_then(|attr| attr.handle_id.as_deref())
                    .is_some_and(|h| sanitize_handle(h) == handle)
            })
            .filter(|&o| sequence_number.is_none_or(|s| s == self.sequence_number_for_ordinal(o)))
            .collect();
        self.start_cooldown(&ordinals, now);
        self.garbage_collect(now, cooldown_seconds);
        ordinals.len()
    }

    /// Frees ordinals whose cooldown has elapsed (appended to the free queue in ascending order)
    /// and drops attributes no ordinal references. Returns whether anything changed.
    pub fn garbage_collect(&mut self, now: i64, cooldown_seconds: i64) -> bool {
        if !self.gc_pending {
            return false;
        }
        let expired: Vec<usize> = (0..self.allocations.len())
            .filter(|&o| {
                self.attribute_of(o)
                    .and_then(|attr| attr.released_at)
                    .is_some_and(|at| now.saturating_sub(at) >= cooldown_seconds)
            })
            .collect();
        for &ordinal in &expired {
            if let Some(slot) = self.allocations.get_mut(ordinal) {
                *slot = None;
            }
            self.unallocated.push_back(ordinal);
            if let Some(recorded) = self.sequence_number_for_allocation.get_mut(ordinal) {
                *recorded = 0;
            }
        }
        let compacted = self.compact_attributes();
        // Every attribute is referenced now; only cooldowns can still expire.
        self.gc_pending = self.has_released();
        !expired.is_empty() || compacted
    }

    /// Removes unreferenced attributes and renumbers the references. Returns whether any went.
    fn compact_attributes(&mut self) -> bool {
        let referenced = self.referenced_attributes();
        if referenced.iter().all(|&is_referenced| is_referenced) {
            return false;
        }
        let mut renumber = vec![None; self.attributes.len()];
        let mut kept = Vec::with_capacity(self.attributes.len());
        for (old, attr) in self.attributes.drain(..).enumerate() {
            if referenced.get(old).copied().unwrap_or(false) {
                if let Some(slot) = renumber.get_mut(old) {
                    *slot = Some(kept.len());
                }
                kept.push(attr);
            }
        }
        self.attributes = kept;
        for slot in self.allocations.iter_mut() {
            if let Some(old) = *slot {
                *slot = renumber.get(old).copied().flatten();
            }
        }
        true
    }

    /// Test and import support: occupies `ordinals` with one attribute entry, taking them out of
    /// the free queue. Fails on an out-of-range or already occupied ordinal.
    pub fn insert_allocation(
        &mut self,
        ordinals: &[usize],
        attribute: AllocationAttribute,
    ) -> Result<(), String> {
        if let Some(bad) = ordinals
            .iter()
            .find(|&&o| self.allocations.get(o).is_none_or(Option::is_some))
        {
            return Err(format!(
                "ordinal {bad} is out of range or already allocated"
            ));
        }
        self.gc_pending = true;
        self.attributes.push(attribute);
        let index = self.attributes.len() - 1;
        for &ordinal in ordinals {
            if let Some(slot) = self.allocations.get_mut(ordinal) {
                *slot = Some(index);
            }
        }
        self.unallocated.retain(|o| !ordinals.contains(o));
        Ok(())
    }

    /// Test and import support: an attribute entry no ordinal references (Calico can leave these
    /// behind; garbage collection removes them).
    pub fn push_unreferenced_attribute(&mut self, attribute: AllocationAttribute) {
        self.gc_pending = true;
        self.attributes.push(attribute);
    }

    /// Every ordinal is either allocated or queued as free exactly once, and every attribute is
    /// referenced by some ordinal.
    pub fn is_consistent(&self) -> bool {
        let mut seen = vec![0u8; self.allocations.len()];
        for &ordinal in &self.unallocated {
            match seen.get_mut(ordinal) {
                Some(count) => *count = count.saturating_add(1),
                None => return false,
            }
        }
        let ordinals_ok = self
            .allocations
            .iter()
            .zip(&seen)
            .all(|(slot, &queued)| match slot {
                Some(index) => queued == 0 && *index < self.attributes.len(),
                None => queued == 1,
            });
        ordinals_ok
            && self
                .referenced_attributes()
                .iter()
                .all(|&is_referenced| is_referenced)
    }

    /// Whether some ordinal references each attribute, by attribute index. (Every ordinal
    /// references an existing attribute: attributes are only appended before an ordinal points
    /// at them, and compaction renumbers the references.)
    fn referenced_attributes(&self) -> Vec<bool> {
        let mut referenced = vec![false; self.attributes.len()];
        for &index in self.allocations.iter().flatten() {
            if let Some(is_referenced) = referenced.get_mut(index) {
                *is_referenced = true;
            }
        }
        referenced
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(cidr: &str) -> Block {
        Block::new(cidr.parse().unwrap(), None).unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn take(block: &mut Block, num: usize, reservations: &ReservationSet) -> Vec<String> {
        block
            .auto_assign(
                num,
                Some(&Handle::from("h")),
                &OwnerAttrs::new(),
                None,
                reservations,
            )
            .unwrap()
            .iter()
            .map(|net| net.addr().to_string())
            .collect()
    }

    #[test]
    fn a_fresh_block_hands_out_ascending_from_the_base_address() {
        let mut b = block("10.0.0.0/30");
        let got = take(&mut b, 3, &ReservationSet::default());
        assert_eq!(got, ["10.0.0.0", "10.0.0.1", "10.0.0.2"]);
        assert!(b.is_consistent());
    }

    #[test]
    fn released_addresses_go_to_the_back_of_the_queue() {
        let mut b = block("10.0.0.0/30");
        take(&mut b, 2, &ReservationSet::default());
        let released = b
            .release(&[ReleaseOptions::address(ip("10.0.0.0"))], 0, 0)
            .unwrap();
        assert_eq!(released.released, 1);
        assert_eq!(b.unallocated().collect::<Vec<_>>(), vec![2, 3, 0]);
        assert_eq!(
            take(&mut b, 3, &ReservationSet::default()),
            ["10.0.0.2", "10.0.0.3", "10.0.0.0"]
        );
    }

    #[test]
    fn cooldown_keeps_the_address_until_it_expires() {
        let mut b = block("10.0.0.0/30");
        take(&mut b, 1, &ReservationSet::default());
        b.release(&[ReleaseOptions::address(ip("10.0.0.0"))], 100, 30)
            .unwrap();
        assert!(
            !b.empty(),
            "an address in cooldown keeps the block non-empty"
        );
        assert!(b
            .assign(None, &ip("10.0.0.0"), None, &OwnerAttrs::new())
            .is_err());
        assert_eq!(
            b.attributes_for_ip(&ip("10.0.0.0")).unwrap_err().message,
            "address 10.0.0.0 is in cooldown"
        );
        assert!(!b.garbage_collect(129, 30));
        assert!(b.garbage_collect(130, 30));
        assert!(b.empty());
        assert!(b.is_consistent());
    }

    #[test]
    fn reserved_addresses_are_skipped_but_stay_queued() {
        let mut b = block("10.0.0.0/29");
        let reservations = ReservationSet::from_texts(["10.0.0.1", "10.0.0.4/31"]);
        assert_eq!(b.free_count(&reservations), 5);
        assert_eq!(
            take(&mut b, 3, &reservations),
            ["10.0.0.0", "10.0.0.2", "10.0.0.3"]
        );
        assert_eq!(b.unallocated().collect::<Vec<_>>(), vec![1, 4, 5, 6, 7]);
    }

    #[test]
    fn windows_reservation_occupies_both_ends_and_counts_as_empty() {
        let b = Block::new(
            "10.0.0.0/26".parse().unwrap(),
            Some(&HostReservedAttr::windows()),
        )
        .unwrap();
        assert_eq!(b.allocated_ordinals(), vec![0, 1, 2, 63]);
        assert_eq!(b.unallocated_len(), 60);
        assert!(b.empty());
        assert!(b.is_consistent());
    }

    #[test]
    fn release_with_the_wrong_handle_or_sequence_fails_without_change() {
        let mut b = block("10.0.0.0/30");
        take(&mut b, 1, &ReservationSet::default());
        let mut opts = ReleaseOptions::address(ip("10.0.0.0"));
        opts.handle = Some("other".into());
        assert!(b.release(&[opts.clone()], 0, 0).is_err());
        opts.handle = None;
        opts.sequence_number = Some(99);
        assert!(b.release(&[opts], 0, 0).is_err());
        assert_eq!(b.allocated_ordinals(), vec![0]);
    }

    #[test]
    fn strict_affinity_errors_name_the_block() {
        let mut b = block("10.0.0.0/30");
        let no_attrs = OwnerAttrs::new();
        let err = b
            .assign(Some("host:a"), &ip("10.0.0.1"), None, &no_attrs)
            .unwrap_err();
        assert_eq!(
            err.message,
            "Attempt to assign from block 10.0.0.0/30 with no affinity"
        );
        b.affinity = Some("host:b".into());
        let err = b
            .assign(Some("host:a"), &ip("10.0.0.1"), None, &no_attrs)
            .unwrap_err();
        assert_eq!(err.message, "Block host affinity does not match");
        let err = b
            .auto_assign(
                1,
                None,
                &no_attrs,
                Some("host:a"),
                &ReservationSet::default(),
            )
            .unwrap_err();
        assert_eq!(
            err.message,
            "Block affinity (host:b) does not match provided (a:host)"
        );
    }
}
