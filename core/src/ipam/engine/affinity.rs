//! Block affinities: claiming and the release family (`ReleaseAffinity`, ...).

use super::*;

impl Ipam {
    /// `ClaimAffinity`: claims every block of `cidr` for `host`. Returns the claimed (including
    /// already ours) and failed (claimed by someone else) block CIDRs.
    pub fn claim_affinity(
        &mut self,
        cidr: &IpNet,
        host: &str,
    ) -> Result<(Vec<IpNet>, Vec<IpNet>), IpamError> {
        self.reshape();
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
                    self.ensure_affinity_record(AFFINITY_TYPE_HOST, host, &block_cidr);
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
    pub(super) fn release_host_block(
        &mut self,
        cidr: &IpNet,
        host: &str,
        require_empty: bool,
    ) -> Result<(), IpamError> {
        // A refused release changes nothing, so only the others are reshapes.
        self.writes += 1;
        let Some(block) = self.blocks.get_mut(cidr) else {
            self.reshapes += 1;
            self.affinities.remove(host, cidr);
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
        self.reshapes += 1;
        self.affinities.remove(host, cidr);
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
        self.reshape();
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
            .cidrs()
            .iter()
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
        self.reshape();
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
        self.reshape();
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
        self.reshape();
        let cidr = cidr.trunc();
        // Each record and block is handled on its own, so their order does not matter.
        let records: Vec<(String, IpNet)> = self
            .affinities
            .unordered()
            .filter(|a| net_covers(&cidr, &a.cidr))
            .map(|a| (a.host.clone(), a.cidr))
            .collect();
        let mut block_cidrs: Vec<IpNet> = records.iter().map(|(_, c)| *c).collect();
        block_cidrs.extend(
            self.blocks
                .iter()
                .filter(|(c, b)| net_covers(&cidr, c) && b.affinity.is_some())
                .map(|(c, _)| *c),
        );
        for (host, record_cidr) in records {
            self.affinities.remove(&host, &record_cidr);
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
        self.reshape();
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
