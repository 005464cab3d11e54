//! `AutoAssign` and `EnsureBlock` (spec §3.3–§3.5): affine blocks, new claims, reclaiming
//! and borrowing.

use super::*;
use crate::ipam::walk::{PoolWalk, Verdict};

impl Ipam {
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
            if let Err(error) = check_requested_family(&args.ipv4_pools, Family::V4) {
                return (None, None, Err(error));
            }
            let (assignments, result) = self.auto_assign_family(args, Family::V4, intended_use);
            v4 = assignments;
            if result.is_err() {
                return (v4, None, result);
            }
        }
        let mut v6 = None;
        if args.num6 != 0 {
            if let Err(error) = check_requested_family(&args.ipv6_pools, Family::V6) {
                return (v4, None, Err(error));
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
            args.namespace.as_deref(),
            true,
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
    pub(super) fn handle_nets(&self, handle: &str, family: Family) -> Vec<IpNet> {
        let Some(blocks) = self.handles.get(handle) else {
            return Vec::new();
        };
        blocks
            .cidrs()
            .filter(|cidr| Family::of_net(cidr) == family)
            .filter_map(|cidr| self.blocks.get(&cidr))
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
        let mut owned = host_blocks.affine.count();
        let cap = effective_block_cap(args.max_blocks_per_host, self.config.max_blocks_per_host);
        let cap = usize::try_from(cap).unwrap_or(usize::MAX);
        let mut state = AssignState {
            host,
            kind: affinity_type_for(args.intended_use),
            pools: &host_blocks.pools,
            affine: AffineCursor::of(&host_blocks.affine),
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
        let (now, cooldown) = (self.now, self.cooldown());
        // Borrow the block and the reservations as separate fields rather than cloning the set.
        let block = self
            .blocks
            .get_mut(cidr)
            .ok_or_else(|| IpamError::other(format!("block {cidr} does not exist")))?;
        self.reshapes += u64::from(block.garbage_collect(now, cooldown));
        let ips = block.auto_assign(
            num,
            args.handle.as_ref(),
            &args.attrs,
            affinity_check,
            &self.reservations,
        )?;
        if !ips.is_empty() {
            block.bump_sequence_number();
            self.writes += 1;
        }
        self.increment_handle(args.handle.as_ref(), *cidr, ips.len());
        Ok(ips)
    }

    /// `findOrClaimBlock`: the next affine block with at least `min_free` free addresses, or a
    /// newly claimed one.
    fn find_or_claim_block(
        &mut self,
        state: &mut AssignState<'_>,
        min_free: usize,
    ) -> Result<(IpNet, bool), ClaimFailure> {
        while let Some(cidr) = self.next_affine_block(state) {
            let verdict = self.judge_affine_block(state, cidr, min_free);
            if let AffineCursor::Walked { kept } = &mut state.affine {
                if verdict == Verdict::Dead {
                    if let Some(walk) = self.host_walks.get_mut(state.host) {
                        walk.live.remove_nth(*kept);
                    }
                } else {
                    *kept += 1;
                }
            }
            if verdict == Verdict::Take {
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
        let walked = matches!(state.affine, AffineCursor::Walked { .. });
        let cidr = self
            .find_usable_block(state.pools, state.kind, state.host, walked)
            .ok_or(ClaimFailure::NoFreeBlocks)?;
        if self.blocks.contains_key(&cidr) {
            // The block is already ours (its affinity record may be missing): claiming it again
            // confirms the affinity and keeps every allocation.
            self.ensure_affinity_record(state.kind, state.host, &cidr);
        } else {
            self.claim_block(cidr, state.kind, state.host, state.reserved_attr)
                .map_err(ClaimFailure::Error)?;
        }
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

    /// The request's next affine block, not yet visited.
    fn next_affine_block(&self, state: &mut AssignState<'_>) -> Option<IpNet> {
        match &mut state.affine {
            AffineCursor::Listed { remaining, .. } => remaining.pop_front(),
            AffineCursor::Walked { kept } => {
                let walk = self.host_walks.get(state.host)?;
                walk.live.iter().nth(*kept).map(|&(_, cidr)| cidr)
            }
        }
    }

    /// Whether the request takes this affine block. A wholly reserved block, or one with too
    /// little room, is passed over for good: only a reshape can change that. A block whose
    /// record outlived it is claimed again first.
    fn judge_affine_block(
        &mut self,
        state: &AssignState<'_>,
        cidr: IpNet,
        min_free: usize,
    ) -> Verdict {
        if self.reservations.matches_whole_cidr(&cidr) {
            return Verdict::Dead;
        }
        if !self.blocks.contains_key(&cidr)
            && self
                .claim_block(cidr, state.kind, state.host, state.reserved_attr)
                .is_err()
        {
            return Verdict::Pass;
        }
        let unconfirmed = match &state.affine {
            AffineCursor::Listed { unconfirmed, .. } => unconfirmed.contains(&cidr),
            AffineCursor::Walked { .. } => self
                .host_walks
                .get(state.host)
                .is_some_and(|walk| walk.unconfirmed.contains(&cidr)),
        };
        if unconfirmed {
            self.confirm_affinity(state.host, &cidr);
        }
        // Loading the block collects expired cooldowns before its free space is judged.
        let _ = self.load_block(&cidr);
        let free = self
            .blocks
            .get(&cidr)
            .map_or(0, |b| b.free_count(&self.reservations));
        if free >= min_free {
            Verdict::Take
        } else {
            Verdict::Dead
        }
    }

    fn confirm_affinity(&mut self, host: &str, cidr: &IpNet) {
        self.writes += 1;
        if let Some(record) = self.affinities.get_mut(host, cidr) {
            record.state = AffinityState::Confirmed;
        }
        if let Some(walk) = self.host_walks.get_mut(host) {
            walk.unconfirmed.retain(|c| c != cidr);
        }
    }

    /// `findUsableBlock` (spec §3.4): the first unclaimed block CIDR in pool order and rotation
    /// order; failing that, an empty block of another host claimed at least a minute ago. With
    /// `walked`, each pool's walk starts past the blocks the host's earlier walks found unusable
    /// for good.
    fn find_usable_block(
        &mut self,
        pools: &[usize],
        kind: &str,
        host: &str,
        walked: bool,
    ) -> Option<IpNet> {
        // Calico reads every block (collecting expired cooldowns) before judging them.
        self.collect_expired_cooldowns();
        let mine = owner_affinity(kind, host);
        let mut reclaim_candidates = Vec::new();
        for (position, &index) in pools.iter().enumerate() {
            let Some(pool) = self.pools.get(index) else {
                continue;
            };
            let Some(walk) = PoolWalk::new(pool, host, &mut self.rotation_starts) else {
                continue;
            };
            let from = match self.current_host_walk(walked, host, pools) {
                Some(host_walk) => host_walk.pool_dead_prefix[position],
                None => 0,
            };
            let (found, dead_until) = walk.find_from(&self.reservations, from, |cidr| {
                let Some(block) = self.blocks.get(cidr) else {
                    return Verdict::Take;
                };
                let free = block.free_count(&self.reservations);
                if block.affinity.as_deref() == Some(mine.as_str()) && free != 0 {
                    return Verdict::Take;
                }
                if block.empty() && free != 0 {
                    reclaim_candidates.push(*cidr);
                    return Verdict::Pass;
                }
                Verdict::Dead
            });
            if let Some(host_walk) = self.current_host_walk(walked, host, pools) {
                host_walk.pool_dead_prefix[position] = dead_until;
            }
            if found.is_some() {
                return found;
            }
        }
        reclaim_candidates
            .into_iter()
            .find(|cidr| self.reclaim_empty_block(cidr))
    }

    /// The host's walk, when the request uses it and it is still valid for these pools.
    fn current_host_walk(
        &mut self,
        walked: bool,
        host: &str,
        pools: &[usize],
    ) -> Option<&mut HostWalk> {
        let reshapes = self.reshapes;
        self.host_walks
            .get_mut(host)
            .filter(|walk| walked && walk.is_current(reshapes, pools))
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
        pools: &[usize],
        assignments: &mut IpamAssignments,
    ) {
        let mut exhausted = Vec::new();
        for &pool_index in pools {
            let Some(pool) = self.pools.get(pool_index) else {
                continue;
            };
            let cidr_text = pool.cidr_text.clone();
            let candidates = PoolWalk::new(pool, &args.hostname, &mut self.rotation_starts)
                .map(|walk| walk.existing_blocks(self.blocks.cidrs()))
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
                exhausted.push(cidr_text);
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
    /// only when its host reservation is given; any error drops both results, as Calico does.
    pub fn ensure_block(
        &mut self,
        args: &EnsureBlockArgs,
    ) -> (Option<IpNet>, Option<IpNet>, Result<(), IpamError>) {
        self.writes += 1;
        let families = [
            (Family::V4, &args.ipv4_pools, &args.host_reserved_attr_ipv4s),
            (Family::V6, &args.ipv6_pools, &args.host_reserved_attr_ipv6s),
        ];
        let mut blocks = [None, None];
        for ((family, requested, reserved), slot) in families.into_iter().zip(&mut blocks) {
            let Some(reserved) = reserved else {
                continue;
            };
            let found = check_requested_family(requested, family).and_then(|()| {
                self.ensure_family_block(&args.hostname, requested, family, reserved)
            });
            match found {
                Ok(cidr) => *slot = Some(cidr),
                Err(error) => return (None, None, Err(error)),
            }
        }
        let [v4, v6] = blocks;
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
            false,
        )?;
        let mut state = AssignState {
            host,
            kind: AFFINITY_TYPE_HOST,
            pools: &host_blocks.pools,
            affine: AffineCursor::of(&host_blocks.affine),
            reserved_attr: Some(reserved),
            allow_new_claim: true,
        };
        match self.find_or_claim_block(&mut state, 0) {
            Ok((cidr, _)) => Ok(cidr),
            Err(ClaimFailure::NoFreeBlocks) => Err(IpamError::other("No Free Blocks")),
            Err(ClaimFailure::Error(error)) => Err(error),
        }
    }
}

/// Requested pools must all be of the family being assigned.
fn check_requested_family(requested: &[IpNet], family: Family) -> Result<(), IpamError> {
    if requested.iter().all(|p| Family::of_net(p) == family) {
        return Ok(());
    }
    Err(IpamError::other(match family {
        Family::V4 => "provided IPv4 IPPools list contains one or more IPv6 IPPools",
        Family::V6 => "provided IPv6 IPPools list contains one or more IPv4 IPPools",
    }))
}
