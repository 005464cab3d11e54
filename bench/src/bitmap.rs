//! The bare bitmap allocator: the least work any allocator must do for the same cluster. Each
//! node claims blocks in order from a pool-wide bitmap and hands out addresses from a per-block
//! bitmap; no reservations, selectors, affinities or explanations.

use crate::workload::ClusterShape;

/// Places every pod of `shape`; returns how many got an address.
pub fn run(shape: &ClusterShape) -> usize {
    let block_count = 1usize << (shape.block_size - shape.pool_prefix);
    let block_len = 1usize << (32 - shape.block_size);
    let mut claimed = vec![0u64; block_count.div_ceil(64)];
    let mut next_free_block = 0usize;
    let mut allocated = 0usize;
    for node in 0..shape.nodes {
        let mut block_bits: Vec<u64> = Vec::new();
        let mut used_in_block = block_len;
        for _ in 0..shape.pods_on(node) {
            if used_in_block == block_len {
                // Claim the next free block for this node.
                while next_free_block < block_count
                    && claimed[next_free_block / 64] >> (next_free_block % 64) & 1 == 1
                {
                    next_free_block += 1;
                }
                if next_free_block == block_count {
                    break;
                }
                claimed[next_free_block / 64] |= 1 << (next_free_block % 64);
                block_bits = vec![0u64; block_len.div_ceil(64)];
                used_in_block = 0;
            }
            let word = block_bits.iter().position(|w| *w != u64::MAX).unwrap_or(0);
            let bit = (!block_bits[word]).trailing_zeros() as usize;
            block_bits[word] |= 1 << bit;
            used_in_block += 1;
            allocated += 1;
        }
    }
    std::hint::black_box(allocated)
}
