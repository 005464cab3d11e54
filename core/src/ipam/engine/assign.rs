//! `AssignIP`: one specific address (spec §3.7).

use super::*;

impl Ipam {
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
        block.assign(check.as_deref(), &ip, args.handle.as_ref(), &args.attrs)?;
        block.bump_sequence_number();
        self.writes += 1;
        self.increment_handle(args.handle.as_ref(), cidr, 1);
        Ok(())
    }
}
