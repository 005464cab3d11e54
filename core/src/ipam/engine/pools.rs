//! Pool selection: `determinePools` and `prepareAffinityBlocksForHost` (spec §3.2).

use super::*;
use crate::sorted_chunks::SortedChunks;

impl Ipam {
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
        let (indices, enabled_count) =
            self.determine_pool_indices(requested, family, node_labels, namespace, max_prefix_len)?;
        Ok(DeterminedPools {
            pools: indices
                .into_iter()
                .filter_map(|i| self.pools.get(i).cloned())
                .collect(),
            enabled_count,
        })
    }

    /// [`Ipam::determine_pools`] as indices into the pool list, without copying pools.
    fn determine_pool_indices(
        &self,
        requested: &[IpNet],
        family: Family,
        node_labels: &Labels,
        namespace: Option<&Labels>,
        max_prefix_len: u8,
    ) -> Result<(Vec<usize>, usize), IpamError> {
        let enabled = || {
            self.pools
                .iter()
                .enumerate()
                .filter(move |(_, p)| p.family() == family && p.is_enabled())
        };
        let enabled_count = enabled().count();
        let mut index = enabled().filter(|(_, p)| p.block_size <= max_prefix_len);
        if index.next().is_none() {
            return Err(IpamError::no_qualified_pool());
        }
        let mut pools = Vec::new();
        for wanted in requested {
            let wanted = wanted.trunc();
            let found = enabled()
                .filter(|(_, p)| p.block_size <= max_prefix_len)
                .find(|(_, p)| p.cidr == wanted);
            match found {
                Some((i, _)) => pools.push(i),
                None => {
                    return Err(IpamError::other(format!(
                        "the given pool ({wanted}) does not exist, or is not enabled"
                    )))
                }
            }
        }
        if requested.is_empty() {
            pools = select_implicit_pools(enabled(), node_labels, namespace)?;
        }
        Ok((pools, enabled_count))
    }

    /// `prepareAffinityBlocksForHost` (spec §3.2 steps 6–10). With `walked`, the affine blocks
    /// are left in the host's walk (for `AutoAssign`, which passes over full blocks and so can
    /// skip those found full before); without it they are listed (for `EnsureBlock`, which may
    /// take a full block).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn prepare_affinity_blocks_for_host(
        &mut self,
        requested: &[IpNet],
        family: Family,
        host: &str,
        reserved: Option<&HostReservedAttr>,
        intended_use: AllowedUse,
        namespace: Option<&Labels>,
        walked: bool,
    ) -> Result<HostBlocks, IpamError> {
        let max_prefix = max_prefix_len(family, reserved)?;
        let no_labels = Labels::new();
        let node_labels = self.node_labels_for(host, intended_use, &no_labels)?;
        let (selecting, _) =
            self.determine_pool_indices(requested, family, node_labels, namespace, max_prefix)?;
        if selecting.is_empty() {
            return Err(IpamError::other(format!(
                "no configured Calico pools for node {host}"
            )));
        }
        let pools: Vec<usize> = selecting
            .iter()
            .copied()
            .filter(|&i| self.pools.get(i).is_some_and(|p| p.allows(intended_use)))
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
        let kind = affinity_type_for(Some(intended_use));
        #[cfg(test)]
        let walked = walked && !self.plain_walks;
        if walked {
            if let Some(count) = self.resume_host_walk(host, kind, family, &selecting, &pools) {
                return Ok(HostBlocks {
                    pools,
                    affine: AffineBlocks::Walked { count },
                });
            }
        }
        // Looked up again: resuming the walk needed the state mutably.
        let node_labels = self.node_labels_for(host, intended_use, &no_labels)?;
        let covered_by = |indices: &[usize], cidr: &IpNet| {
            indices
                .iter()
                .filter_map(|&i| self.pools.get(i))
                .any(|p| net_covers(&p.cidr, cidr))
        };
        let mut affine = Vec::new();
        let mut unconfirmed = Vec::new();
        let mut deselected = Vec::new();
        let records = self
            .host_records(host)
            .filter(|a| a.affinity_type == kind && Family::of_net(&a.cidr) == family);
        for record in records {
            let cidr = record.cidr;
            if covered_by(&pools, &cidr) {
                affine.push(cidr);
                if record.state != AffinityState::Confirmed {
                    unconfirmed.push(cidr);
                }
            } else if !covered_by(&selecting, &cidr) && self.pool_deselects(&cidr, node_labels) {
                deselected.push(cidr);
            }
        }
        let mut failed_releases = 0;
        for cidr in deselected {
            // The block's pool no longer selects this node: give the block up if unused.
            let reshapes = self.reshapes;
            let _ = self.release_host_block(&cidr, host, true);
            if self.reshapes == reshapes {
                failed_releases += 1;
            }
        }
        if !walked {
            return Ok(HostBlocks {
                pools,
                affine: AffineBlocks::Listed {
                    blocks: affine,
                    unconfirmed,
                },
            });
        }
        let mut live = SortedChunks::default();
        for cidr in &affine {
            live.insert((dashed(cidr), *cidr));
        }
        let walk = HostWalk {
            epoch: self.reshapes,
            kind,
            family,
            selecting,
            pools: pools.clone(),
            affine_count: affine.len(),
            unconfirmed,
            live,
            claimed: Vec::new(),
            pool_dead_prefix: vec![0; pools.len()],
            failed_releases,
        };
        self.host_walks.insert(host.to_owned(), walk);
        Ok(HostBlocks {
            pools,
            affine: AffineBlocks::Walked {
                count: affine.len(),
            },
        })
    }

    /// The host's walk for this request, if one is still valid for it: the blocks the host
    /// claimed since join it, and the releases Calico would try again (and fail) count as
    /// writes. Returns how many affine blocks the host has in the pools.
    fn resume_host_walk(
        &mut self,
        host: &str,
        kind: &str,
        family: Family,
        selecting: &[usize],
        pools: &[usize],
    ) -> Option<usize> {
        let walk = self.host_walks.get_mut(host)?;
        if !walk.fits(self.reshapes, kind, family, selecting, pools) {
            return None;
        }
        for cidr in walk.claimed.drain(..) {
            walk.live.insert((dashed(&cidr), cidr));
        }
        self.writes += walk.failed_releases;
        Some(walk.affine_count)
    }

    /// Whether the enabled pool holding `cidr` definitely no longer selects a node with these
    /// labels (a selector that does not parse leaves the block alone).
    pub(super) fn pool_deselects(&self, cidr: &IpNet, node_labels: &Labels) -> bool {
        self.pools
            .iter()
            .filter(|p| p.is_enabled())
            .find(|p| net_covers(&p.cidr, cidr))
            .is_some_and(|p| p.selects_node(node_labels) == Ok(false))
    }

    /// The labels pools select on: the node's, or none for the virtual load-balancer owner.
    fn node_labels_for<'a>(
        &'a self,
        host: &str,
        intended_use: AllowedUse,
        no_labels: &'a Labels,
    ) -> Result<&'a Labels, IpamError> {
        if intended_use == AllowedUse::LoadBalancer {
            return Ok(no_labels);
        }
        self.nodes.get(host).ok_or_else(|| {
            IpamError::does_not_exist(
                format!("Node({host})"),
                format!("nodes \"{host}\" not found"),
            )
        })
    }
}

/// `determinePools` step 5: implicit candidates are `Automatic` pools whose node and namespace
/// selectors match; a selector that does not parse aborts the request.
fn select_implicit_pools<'p>(
    enabled: impl Iterator<Item = (usize, &'p Pool)>,
    node_labels: &Labels,
    namespace: Option<&Labels>,
) -> Result<Vec<usize>, IpamError> {
    let no_labels = Labels::new();
    let namespace_labels = namespace.unwrap_or(&no_labels);
    let mut pools = Vec::new();
    for (index, pool) in enabled {
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
            pools.push(index);
        }
    }
    Ok(pools)
}
