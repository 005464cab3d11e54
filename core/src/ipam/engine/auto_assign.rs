//! `AutoAssign` and `EnsureBlock` (spec §3.3–§3.5): affine blocks, new claims, reclaiming
//! and borrowing.

use super::*;
use crate::ipam::walk::PoolWalk;

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
        let mut owned = host_blocks.affine.len();
        let cap = effective_block_cap(args.max_blocks_per_host, self.config.max_blocks_per_host);
        let cap = usize::try_from(cap).unwrap_or(usize::MAX);
        let mut state = AssignState {
            host,
            kind: affinity_type_for(args.intended_use),
            pools: &host_blocks.pools,
            remaining_affine: host_blocks.affine.iter().copied().collect(),
            unconfirmed: &host_blocks.unconfirmed,
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
        block.garbage_collect(now, cooldown);
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
            if state.unconfirmed.contains(&cidr) {
                self.confirm_affinity(state.host, &cidr);
            }
            // Loading the block collects expired cooldowns before its free space is judged.
            let _ = self.load_block(&cidr);
            let free = self
                .blocks
                .get(&cidr)
                .map_or(0, |b| b.free_count(&self.reservations));
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

    fn confirm_affinity(&mut self, host: &str, cidr: &IpNet) {
        self.writes += 1;
        if let Some(record) = self.affinities.get_mut(host, cidr) {
            record.state = AffinityState::Confirmed;
        }
    }

    /// `findUsableBlock` (spec §3.4): the first unclaimed block CIDR in pool order and rotation
    /// order; failing that, an empty block of another host claimed at least a minute ago.
    fn find_usable_block(&mut self, pools: &[usize], kind: &str, host: &str) -> Option<IpNet> {
        // Calico reads every block (collecting expired cooldowns) before judging them.
        self.collect_expired_cooldowns();
        let mine = owner_affinity(kind, host);
        let mut reclaim_candidates = Vec::new();
        for pool in pools.iter().filter_map(|&i| self.pools.get(i)) {
            let Some(walk) = PoolWalk::new(pool, host, &mut self.rotation_starts) else {
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
        )?;
        let mut state = AssignState {
            host,
            kind: AFFINITY_TYPE_HOST,
            pools: &host_blocks.pools,
            remaining_affine: host_blocks.affine.iter().copied().collect(),
            unconfirmed: &host_blocks.unconfirmed,
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
