//! Release and the queries that read allocations (spec §3.8).

use super::*;

impl Ipam {
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
    ) -> Result<Option<crate::ipam::block::BlockRelease>, IpamError> {
        let now = self.now;
        let cooldown = self.cooldown();
        self.cooldowns_possible = true;
        if !self.blocks.contains_key(cidr) {
            return Ok(None);
        }
        self.reshape();
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
        let cidrs: Vec<IpNet> = blocks.cidrs().collect();
        self.reshape();
        let now = self.now;
        let cooldown = self.cooldown();
        let mut released = 0usize;
        self.cooldowns_possible = true;
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
            .cidrs()
            .filter_map(|cidr| self.blocks.get(&cidr))
            .flat_map(|block| block.ips_by_handle(handle))
            .collect())
    }

    /// `GetAssignmentAttributes`: the active owner attributes and handle of an address. The
    /// address must be in an enabled pool and its block must exist.
    pub fn get_assignment_attributes(
        &mut self,
        ip: IpAddr,
    ) -> Result<(OwnerAttrs, Option<String>), IpamError> {
        let cidr = self
            .enabled_pool_for_ip(&ip)
            .and_then(|pool| pool.block_cidr_for(ip))
            .ok_or_else(|| IpamError::does_not_exist(ip.to_string(), "No valid IPPool"))?;
        let block = self.load_block(&cidr).ok_or_else(|| {
            IpamError::does_not_exist(format!("BlockKey(cidr={cidr})"), "block not found")
        })?;
        let attr = block.attributes_for_ip(&ip)?;
        Ok((
            attr.active_owner_attrs.clone(),
            attr.handle_id.as_deref().map(str::to_owned),
        ))
    }
}
