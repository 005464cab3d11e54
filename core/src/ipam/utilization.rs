//! `GetUtilization` with reservations (v3.33+): per pool and per block Capacity, InUse,
//! Reserved and Available, computed without enumerating address space outside blocks.

use ipnet::IpNet;

use super::addr::{net_covers, net_size, nets_overlap};
use super::block::Block;
use super::engine::Ipam;
use super::reservations::ReservationSet;
use super::types::{BlockUtilization, PoolUtilization};

/// The name Calico reports for blocks outside every pool.
const ORPHANED_BLOCKS: &str = "orphaned allocation blocks";

/// The address space of a pool split into what blocks cover and what they do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolSpace {
    pub capacity: u128,
    /// Reserved addresses inside the pool.
    pub reserved: u128,
    /// Addresses outside every block that are not reserved.
    pub available_outside_blocks: u128,
}

impl PoolSpace {
    /// `blocks` are the block CIDRs inside the pool (others are ignored).
    pub fn compute(pool: &IpNet, reservations: &ReservationSet, blocks: &[IpNet]) -> PoolSpace {
        let capacity = net_size(pool);
        let reserved = reservations.count_reserved_in(pool);
        let inside: Vec<&IpNet> = blocks.iter().filter(|b| net_covers(pool, b)).collect();
        let block_space = inside
            .iter()
            .fold(0u128, |sum, b| sum.saturating_add(net_size(b)));
        let reserved_in_blocks = inside.iter().fold(0u128, |sum, b| {
            sum.saturating_add(reservations.count_reserved_in(b))
        });
        let outside = capacity.saturating_sub(block_space);
        let reserved_outside = reserved.saturating_sub(reserved_in_blocks);
        PoolSpace {
            capacity,
            reserved,
            available_outside_blocks: outside.saturating_sub(reserved_outside),
        }
    }
}

fn block_utilization(block: &Block, reservations: &ReservationSet) -> BlockUtilization {
    let capacity = block.num_addresses() as u128;
    BlockUtilization {
        cidr: block.cidr(),
        capacity,
        in_use: capacity.saturating_sub(block.unallocated_len() as u128),
        reserved: block.reserved_count(reservations) as u128,
        available: block.free_count(reservations) as u128,
    }
}

impl Ipam {
    /// `GetUtilization` for the pools named (by name or CIDR text) in `wanted`, or for all pools
    /// plus an "orphaned allocation blocks" entry when `wanted` is empty. Each block is counted
    /// under the first listed pool it overlaps.
    pub fn get_utilization(&self, wanted: &[String]) -> Vec<PoolUtilization> {
        let want_all = wanted.is_empty();
        let mut usage: Vec<PoolUtilization> = self
            .pools()
            .iter()
            .filter(|p| want_all || wanted.contains(&p.name) || wanted.contains(&p.cidr_text))
            .map(|p| empty_utilization(p.name.clone(), p.cidr))
            .collect();
        if want_all {
            if let Ok(everything) = "0.0.0.0/0".parse::<IpNet>() {
                usage.push(empty_utilization(ORPHANED_BLOCKS.to_owned(), everything));
            }
        }
        for block in self.list_blocks(None) {
            if let Some(pool) = usage
                .iter_mut()
                .find(|u| nets_overlap(&u.cidr, &block.cidr()))
            {
                pool.blocks
                    .push(block_utilization(block, self.reservations()));
            }
        }
        for pool in &mut usage {
            self.finish_pool_totals(pool);
        }
        usage
    }

    fn finish_pool_totals(&self, pool: &mut PoolUtilization) {
        let block_cidrs: Vec<IpNet> = pool.blocks.iter().map(|b| b.cidr).collect();
        let space = PoolSpace::compute(&pool.cidr, self.reservations(), &block_cidrs);
        pool.capacity = space.capacity;
        pool.reserved = space.reserved;
        pool.in_use = pool
            .blocks
            .iter()
            .fold(0u128, |sum, b| sum.saturating_add(b.in_use));
        pool.available = pool
            .blocks
            .iter()
            .fold(space.available_outside_blocks, |sum, b| {
                sum.saturating_add(b.available)
            });
    }
}

fn empty_utilization(name: String, cidr: IpNet) -> PoolUtilization {
    PoolUtilization {
        name,
        cidr,
        capacity: 0,
        in_use: 0,
        reserved: 0,
        available: 0,
        blocks: Vec::new(),
    }
}
