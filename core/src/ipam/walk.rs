//! Walking a pool's blocks in Calico's order for a host (spec §3.5) without enumerating the
//! pool: the order is a rotation starting at the host-seeded block that
//! [`crate::gorand::block_rotation`] yields first, so runs of reserved blocks can be jumped over
//! and existing blocks found with range queries.

use ipnet::IpNet;
use rustc_hash::FxHashMap;

use super::addr::{addr_to_u128, net_base, net_last, u128_to_addr};
use super::pool::Pool;
use super::reservations::ReservationSet;
use crate::gorand::{fnv1_32, rotation_start};
use crate::net::Family;
use crate::sorted_chunks::SortedChunks;

/// Rotation starts already drawn, by host seed and log2 of the pool's block count. Seeding Go's
/// generator runs 627 rounds of its seeding function, microseconds each time, and every request
/// walks its pools afresh: a plan of many pods would otherwise spend most of its time re-seeding
/// (a pool-exhaustion run, where every failing pod walks every pool, nine tenths of it).
#[derive(Clone, Debug, Default)]
pub struct RotationStarts(FxHashMap<(u32, u8), u128>);

impl RotationStarts {
    fn start(&mut self, host: &str, exponent: u8) -> u128 {
        let seed = fnv1_32(host.as_bytes());
        *self
            .0
            .entry((seed, exponent))
            .or_insert_with(|| rotation_start(i64::from(seed), exponent))
    }
}

/// What a walk makes of a block that is not wholly reserved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The walk ends with this block.
    Take,
    /// Passed over this time, but it may be taken later without anything being freed.
    Pass,
    /// Passed over, and stays so until an address is freed or the blocks' owners change.
    Dead,
}

/// A pool's block index space and the rotation start for one host.
pub struct PoolWalk {
    family: Family,
    base: u128,
    block_prefix: u8,
    /// log2 of the block size.
    block_bits: u32,
    /// `block count − 1` (block counts are powers of two).
    last_index: u128,
    start: u128,
}

impl PoolWalk {
    /// `None` when the pool has no whole block (block size shorter than the pool prefix).
    pub fn new(pool: &Pool, host: &str, starts: &mut RotationStarts) -> Option<PoolWalk> {
        let family = pool.family();
        let block_prefix = pool.block_size;
        if block_prefix < pool.cidr.prefix_len() || block_prefix > family.bits() {
            return None;
        }
        let block_bits = u32::from(family.bits() - block_prefix);
        let index_bits = u32::from(block_prefix - pool.cidr.prefix_len());
        let last_index = u128::MAX.checked_shr(128 - index_bits).unwrap_or(0);
        let base = net_base(&pool.cidr);
        let start = starts.start(host, block_prefix - pool.cidr.prefix_len());
        let walk = PoolWalk {
            family,
            base,
            block_prefix,
            block_bits,
            last_index,
            start: start.min(last_index),
        };
        // A pool whose first block cannot be formed holds no whole block.
        walk.block_at(walk.start)?;
        Some(walk)
    }

    fn block_at(&self, index: u128) -> Option<IpNet> {
        let offset = index.checked_shl(self.block_bits).unwrap_or(0);
        let addr = u128_to_addr(self.family, self.base.checked_add(offset)?)?;
        IpNet::new(addr, self.block_prefix).ok()
    }

    fn index_of_addr(&self, value: u128) -> u128 {
        value
            .saturating_sub(self.base)
            .checked_shr(self.block_bits)
            .unwrap_or(0)
    }

    /// The first block in rotation order, from `from` steps past the start, that is not wholly
    /// reserved and that `judge` takes; blocks inside one covering reservation are skipped in a
    /// single step. Also returns how far the walk got through blocks that are reserved or that
    /// `judge` called [`Verdict::Dead`] without a break: a later walk may start there while
    /// nothing has made such a block usable again.
    pub fn find_from(
        &self,
        reservations: &ReservationSet,
        from: u128,
        mut judge: impl FnMut(&IpNet) -> Verdict,
    ) -> (Option<IpNet>, u128) {
        let mut offset = from;
        let mut dead_until = from;
        while offset <= self.last_index {
            let index = self.start.wrapping_add(offset) & self.last_index;
            let Some(cidr) = self.block_at(index) else {
                break;
            };
            let (step, dead) = match reservations.covering(&cidr) {
                Some(cover) => {
                    let cover_last = self.index_of_addr(net_last(&cover)).min(self.last_index);
                    (cover_last.saturating_sub(index).saturating_add(1), true)
                }
                None if reservations.matches_whole_cidr(&cidr) => (1, true),
                None => match judge(&cidr) {
                    Verdict::Take => return (Some(cidr), dead_until),
                    Verdict::Pass => (1, false),
                    Verdict::Dead => (1, true),
                },
            };
            let Some(next) = offset.checked_add(step) else {
                break;
            };
            if dead && dead_until == offset {
                dead_until = next;
            }
            offset = next;
        }
        (None, dead_until)
    }

    /// The existing blocks of this pool (exact block size), in rotation order.
    pub fn existing_blocks(&self, blocks: &SortedChunks<IpNet>) -> Vec<IpNet> {
        let (Some(start), Some(first), Some(last)) = (
            self.block_at(self.start),
            self.block_at(0),
            self.block_at(self.last_index),
        ) else {
            return Vec::new();
        };
        let lowest = |net: IpNet| IpNet::new(net.network(), 0).ok();
        let highest = |net: IpNet| IpNet::new(net.broadcast(), self.family.bits()).ok();
        let (Some(start_low), Some(first_low), Some(last_high)) =
            (lowest(start), lowest(first), highest(last))
        else {
            return Vec::new();
        };
        let wanted = |cidr: &&IpNet| {
            cidr.prefix_len() == self.block_prefix
                && addr_to_u128(cidr.network()) >= self.base
                && cidr.network() == cidr.addr()
        };
        let tail = blocks.range(start_low..=last_high);
        let head = blocks.range(first_low..start_low);
        tail.chain(head).filter(wanted).copied().collect()
    }
}
