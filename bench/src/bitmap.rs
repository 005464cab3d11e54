//! The bare bitmap allocator: the least work any allocator must do for the same cluster, so
//! the planner's times are reported as multiples of it. It makes the same block claims and
//! allocations as the planner does for the generated clusters: every node claims whole blocks
//! from one pool-wide bitmap of blocks (one bit per block of the pool), hands out addresses
//! in order from a per-block bitmap, claims its next block when the current one is full and,
//! once every block of the pool is claimed, borrows free addresses from other nodes' blocks
//! (as Calico does without strict affinity). Every address given out is recorded. No
//! reservations, selectors, affinities, handles or explanations.

use crate::workload::ClusterShape;

/// What the baseline did.
pub struct Outcome {
    pub allocated: usize,
    pub blocks_claimed: usize,
}

struct ClaimedBlock {
    base: u32,
    bits: Vec<u64>,
    used: usize,
}

impl ClaimedBlock {
    /// The first free address, marked used.
    fn take(&mut self) -> u32 {
        let word = self.bits.iter().position(|w| *w != u64::MAX).unwrap_or(0);
        let bit = (!self.bits[word]).trailing_zeros() as usize;
        self.bits[word] |= 1 << bit;
        self.used += 1;
        self.base + (word * 64 + bit) as u32
    }
}

/// Places every pod of `shape`, node by node.
pub fn run(shape: &ClusterShape) -> Outcome {
    let block_count = 1usize << (shape.block_size - shape.pool_prefix);
    let block_len = 1usize << (32 - shape.block_size);
    let pool_base: u32 = 10 << 24;
    // The pool-wide claim bitmap and the claimed blocks.
    let mut claimed = vec![0u64; block_count.div_ceil(64)];
    let mut next_free_block = 0usize;
    let mut blocks: Vec<ClaimedBlock> = Vec::new();
    let mut borrow_from = 0usize;
    let mut addresses: Vec<u32> = Vec::with_capacity(shape.pods);
    for node in 0..shape.nodes {
        let mut current: Option<usize> = None;
        for _ in 0..shape.pods_on(node) {
            let full = current.is_none_or(|i| blocks[i].used == block_len);
            if full {
                // Claim the next free block of the pool for this node.
                while next_free_block < block_count
                    && claimed[next_free_block / 64] >> (next_free_block % 64) & 1 == 1
                {
                    next_free_block += 1;
                }
                if next_free_block < block_count {
                    claimed[next_free_block / 64] |= 1 << (next_free_block % 64);
                    blocks.push(ClaimedBlock {
                        base: pool_base + (next_free_block * block_len) as u32,
                        bits: vec![0u64; block_len.div_ceil(64)],
                        used: 0,
                    });
                    current = Some(blocks.len() - 1);
                } else {
                    // The pool is carved up: borrow from any block with room.
                    while borrow_from < blocks.len() && blocks[borrow_from].used == block_len {
                        borrow_from += 1;
                    }
                    if borrow_from == blocks.len() {
                        break;
                    }
                    current = Some(borrow_from);
                }
            }
            if let Some(i) = current {
                addresses.push(blocks[i].take());
            }
        }
    }
    std::hint::black_box(&addresses);
    Outcome {
        allocated: addresses.len(),
        blocks_claimed: blocks.len(),
    }
}
