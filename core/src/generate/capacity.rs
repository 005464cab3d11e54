//! The capacity planner (spec §3.3, §3.9, user pain 13): nodes × pods per node → block size and
//! pool prefix advice, and for a given pool how many nodes fit, which node borrows first and
//! which fails first. Pure arithmetic on prefix lengths in u128; nothing is enumerated.
//!
//! The cluster model is the planner's own (the contract's): nodes start in order, each taking
//! its tunnel address when there is one, then pods are spread round-robin, so every node fills
//! its blocks at the same pace and claims its next block in node order. A pool of `B` blocks
//! serves `N` nodes needing `k` blocks each without borrowing when `B ≥ N·k`; otherwise claims run
//! out in round `⌊B/N⌋ + 1`, at node `B mod N + 1`. Calico's block cap (`maxBlocksPerHost`, 0 =
//! 20) stops a node that owns that many full blocks outright (no borrowing, spec §3.3 C.3), and
//! with strict affinity a node that cannot claim a block fails instead of borrowing.

use crate::net::{BlockSize, Family};

use super::GenerateError;

/// What the planner is asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapacityRequest {
    pub family: Family,
    pub nodes: u64,
    pub pods_per_node: u64,
    /// Whether each node takes a tunnel address (IPIP, VXLAN or WireGuard) from the pool.
    pub tunnel_per_node: bool,
    /// The block prefix length; `None` asks for advice.
    pub block_size: Option<u8>,
    /// `maxBlocksPerHost`; 0 means Calico's default, 20.
    pub max_blocks_per_host: u32,
    pub strict_affinity: bool,
    /// Growth to plan the advised pool for, in percent of the node count.
    pub headroom_percent: u32,
    /// The prefix length of a pool to evaluate, if any.
    pub pool_prefix: Option<u8>,
}

/// The answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapacityPlan {
    /// The block prefix length used (the requested one, or the advised one).
    pub block_size: u8,
    /// Whether `block_size` is advice rather than the request's.
    pub block_size_advised: bool,
    pub block_addresses: u128,
    /// Pods plus the tunnel address, per node.
    pub addresses_per_node: u128,
    /// Blocks a node needs for its addresses: ⌈addresses / block size⌉.
    pub blocks_per_node: u128,
    /// The effective `maxBlocksPerHost`.
    pub block_limit: u32,
    /// Whether a node needs more blocks than the cap allows (its last pods fail).
    pub over_block_limit: bool,
    /// Blocks the whole cluster claims: nodes × min(blocks per node, cap).
    pub total_blocks: u128,
    /// The longest pool prefix whose blocks suffice for the nodes as they are.
    pub min_pool_prefix: Option<u8>,
    /// The same with the headroom: the pool to create.
    pub advised_pool_prefix: Option<u8>,
    /// The node count the advice plans for (nodes plus headroom).
    pub planned_nodes: u128,
    /// The evaluation of the requested pool.
    pub pool: Option<PoolCapacity>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolCapacity {
    pub prefix: u8,
    /// 2^(blockSize − prefix).
    pub blocks: u128,
    /// Every address of the pool (saturating for an IPv6 /0).
    pub addresses: u128,
    /// How many nodes of this size the pool serves with blocks of their own, before it is
    /// fully carved (`None` when a node needs no block).
    pub nodes_that_fit: Option<u128>,
    /// The first node (1-based, in start order) that finds no unclaimed block.
    pub first_borrowing_node: Option<u128>,
    /// How many nodes cannot claim every block they need (they borrow, or with strict affinity
    /// fail). Borrowed addresses fill other nodes' blocks sooner, so in a pool that is nearly
    /// full more nodes may end up borrowing than this counts.
    pub nodes_short_of_blocks: u128,
    /// The first node whose address request fails, and why.
    pub first_failure: Option<Failure>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failure {
    /// 1-based, in start order.
    pub node: u128,
    pub reason: FailureReason,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureReason {
    /// The node owns `maxBlocksPerHost` full blocks (`block-limit`).
    BlockLimit,
    /// Every address of the pool is taken (`pool-exhausted`).
    PoolExhausted,
    /// The pool is fully carved and strict affinity forbids borrowing (`pool-exhausted`).
    StrictAffinity,
}

impl FailureReason {
    /// The diagnostic code the planner reports for this failure.
    pub fn code(self) -> &'static str {
        match self {
            FailureReason::BlockLimit => "block-limit",
            FailureReason::PoolExhausted | FailureReason::StrictAffinity => "pool-exhausted",
        }
    }
}

/// Plans capacity. Refuses only what Calico itself would refuse: a block size out of range, or a
/// pool smaller than one block.
pub fn plan(request: &CapacityRequest) -> Result<CapacityPlan, GenerateError> {
    let family = request.family;
    let bits = family.bits();
    let limit = if request.max_blocks_per_host == 0 {
        crate::model::DEFAULT_MAX_BLOCKS_PER_HOST
    } else {
        request.max_blocks_per_host
    };
    let addresses_per_node =
        u128::from(request.pods_per_node) + u128::from(request.tunnel_per_node);
    let (block_size, advised) = match request.block_size {
        Some(prefix) => {
            let size = BlockSize::new(family, prefix).ok_or_else(|| {
                GenerateError::new(format!(
                    "blockSize {prefix} is out of range: Calico allows {} for IPv{}",
                    match family {
                        Family::V4 => "20–32",
                        Family::V6 => "116–128",
                    },
                    family.version()
                ))
            })?;
            (size.prefix_len(), false)
        }
        None => (advise_block_size(family, addresses_per_node, limit), true),
    };
    let block_addresses = pow2(bits - block_size);
    let blocks_per_node = addresses_per_node.div_ceil(block_addresses);
    let effective_blocks = blocks_per_node.min(u128::from(limit));
    let nodes = u128::from(request.nodes);
    let total_blocks = nodes.saturating_mul(effective_blocks);
    let planned_nodes = nodes
        .saturating_mul(100 + u128::from(request.headroom_percent))
        .div_ceil(100);
    let pool_prefix_for = |blocks: u128| block_size.checked_sub(ceil_log2(blocks.max(1)));
    let pool = match request.pool_prefix {
        None => None,
        Some(prefix) if prefix > bits => {
            return Err(GenerateError::new(format!(
                "/{prefix} is not a prefix length of IPv{}",
                family.version()
            )))
        }
        Some(prefix) if prefix > block_size => {
            return Err(GenerateError::new(format!(
                "a /{prefix} pool is smaller than one /{block_size} block; Calico refuses it (pool-too-small)"
            )))
        }
        Some(prefix) => Some(evaluate_pool(
            prefix,
            block_size,
            block_addresses,
            nodes,
            addresses_per_node,
            blocks_per_node,
            limit,
            request,
        )),
    };
    Ok(CapacityPlan {
        block_size,
        block_size_advised: advised,
        block_addresses,
        addresses_per_node,
        blocks_per_node,
        block_limit: limit,
        over_block_limit: blocks_per_node > u128::from(limit),
        total_blocks,
        min_pool_prefix: pool_prefix_for(total_blocks),
        advised_pool_prefix: pool_prefix_for(planned_nodes.saturating_mul(effective_blocks)),
        planned_nodes,
        pool,
    })
}

/// Calico's default block size when a node's addresses fit in `limit` such blocks; otherwise the
/// smallest block size (longest prefix) that fits them, or the largest block when none does.
fn advise_block_size(family: Family, addresses: u128, limit: u32) -> u8 {
    let default = BlockSize::default_for(family).prefix_len();
    let bits = family.bits();
    let fits = |prefix: u8| addresses.div_ceil(pow2(bits - prefix)) <= u128::from(limit);
    if fits(default) {
        return default;
    }
    let smallest = bits - 12;
    (smallest..default)
        .rev()
        .find(|&p| fits(p))
        .unwrap_or(smallest)
}

#[allow(clippy::too_many_arguments)]
fn evaluate_pool(
    prefix: u8,
    block_size: u8,
    block_addresses: u128,
    nodes: u128,
    addresses_per_node: u128,
    blocks_per_node: u128,
    limit: u32,
    request: &CapacityRequest,
) -> PoolCapacity {
    let blocks = pow2(block_size - prefix);
    let addresses = blocks.saturating_mul(block_addresses);
    let limit = u128::from(limit);
    let effective = blocks_per_node.min(limit);
    let tunnel = u128::from(request.tunnel_per_node);
    // The global number (1-based) of node `node`'s `own`-th address request: tunnels first, in
    // node order, then pods round-robin.
    let request_number = |node: u128, own: u128| -> u128 {
        if tunnel == 1 && own == 1 {
            node
        } else {
            let round = own.saturating_sub(tunnel).max(1);
            (tunnel * nodes)
                .saturating_add((round - 1).saturating_mul(nodes))
                .saturating_add(node)
        }
    };
    // With no node nothing is ever claimed, so no round runs short.
    let (rounds, leftover) = match blocks.checked_div(nodes) {
        Some(rounds) => (rounds, blocks % nodes),
        None => (u128::MAX, 0),
    };
    let mut first_borrowing_node = None;
    let mut nodes_short_of_blocks = 0;
    let mut events: Vec<(u128, Failure)> = Vec::new();
    if rounds < effective {
        let node = leftover + 1;
        first_borrowing_node = Some(node);
        nodes_short_of_blocks = if rounds + 1 < effective {
            nodes
        } else {
            nodes - leftover
        };
        if request.strict_affinity {
            let own = rounds.saturating_mul(block_addresses).saturating_add(1);
            events.push((
                request_number(node, own),
                Failure {
                    node,
                    reason: FailureReason::StrictAffinity,
                },
            ));
        }
    }
    // Node 1 claims first in every round, so it reaches the cap first, if any node does.
    let node_one_blocks = rounds.saturating_add(u128::from(leftover > 0));
    if blocks_per_node > limit && node_one_blocks >= limit && nodes > 0 {
        let own = limit.saturating_mul(block_addresses).saturating_add(1);
        events.push((
            request_number(1, own),
            Failure {
                node: 1,
                reason: FailureReason::BlockLimit,
            },
        ));
    }
    let needed = nodes.saturating_mul(addresses_per_node);
    if !request.strict_affinity && needed > addresses && nodes > 0 {
        let number = addresses + 1;
        let node = if tunnel == 1 && number <= nodes {
            number
        } else {
            (number - tunnel * nodes - 1) % nodes + 1
        };
        events.push((
            number,
            Failure {
                node,
                reason: FailureReason::PoolExhausted,
            },
        ));
    }
    events.sort_by_key(|(number, _)| *number);
    PoolCapacity {
        prefix,
        blocks,
        addresses,
        nodes_that_fit: (effective > 0).then(|| blocks / effective),
        first_borrowing_node,
        nodes_short_of_blocks,
        first_failure: events.first().map(|(_, failure)| *failure),
    }
}

/// 2^n, saturating at u128::MAX (only an IPv6 /0 pool has 2^128 addresses).
fn pow2(n: u8) -> u128 {
    1u128.checked_shl(u32::from(n)).unwrap_or(u128::MAX)
}

/// ⌈log2 n⌉ for n ≥ 1.
fn ceil_log2(n: u128) -> u8 {
    if n <= 1 {
        0
    } else {
        (128 - (n - 1).leading_zeros()) as u8
    }
}
