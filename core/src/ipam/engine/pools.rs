//! Pool selection: `determinePools` and `prepareAffinityBlocksForHost` (spec §3.2).

use super::*;

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
    pub(super) fn prepare_affinity_blocks_for_host(
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
    pub(super) fn pool_deselects(&self, cidr: &IpNet, node_labels: &Labels) -> bool {
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
