//! The allocation blocks of the state, by CIDR.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::ipam::addr::masked_net;
use crate::ipam::block::Block;
use crate::net::{Family, NetHasher};
use crate::sorted_chunks::{sorted_entry, SortedChunks};

/// The blocks by CIDR: a hash map for the look-ups every request makes (a million pods make
/// tens of millions, and an ordered map's comparisons grew with the number of blocks), and
/// the CIDRs in order for what Calico walks in order (a pool's blocks in rotation order, the
/// block holding an address). Both always hold the same CIDRs.
#[derive(Clone, Debug, Default)]
pub(super) struct BlockStore {
    /// Boxed: a block record is a few hundred bytes, and the table keeps about twice as many
    /// slots as blocks and copies every slot each time it doubles. With a small block per pod
    /// (a million /32 blocks) inline records were most of the run's memory, and the fresh pages
    /// the kernel cleared for them most of its time.
    by_cidr: HashMap<IpNet, Box<Block>, NetHasher>,
    in_order: SortedChunks<IpNet>,
    /// How many blocks have each (address length, prefix length), sorted by size: nearly
    /// always one size per family, so the block holding an address is one look-up per size.
    /// A sorted vector of a handful of pairs does what a map would, without a map's code.
    sizes: Vec<((u8, u8), usize)>,
}

impl BlockStore {
    pub fn get(&self, cidr: &IpNet) -> Option<&Block> {
        self.by_cidr.get(cidr).map(Box::as_ref)
    }

    pub fn get_mut(&mut self, cidr: &IpNet) -> Option<&mut Block> {
        self.by_cidr.get_mut(cidr).map(Box::as_mut)
    }

    pub fn contains_key(&self, cidr: &IpNet) -> bool {
        self.by_cidr.contains_key(cidr)
    }

    /// Adds `block` under `cidr`, returning the block it replaces.
    pub fn insert(&mut self, cidr: IpNet, block: Block) -> Option<Block> {
        if self.in_order.insert(cidr) {
            *sorted_entry(&mut self.sizes, size_of(&cidr)) += 1;
        }
        self.by_cidr.insert(cidr, Box::new(block)).map(|old| *old)
    }

    pub fn remove(&mut self, cidr: &IpNet) -> Option<Block> {
        if self.in_order.remove(cidr) {
            let size = size_of(cidr);
            if let Ok(at) = self.sizes.binary_search_by_key(&size, |&(size, _)| size) {
                self.sizes[at].1 -= 1;
                if self.sizes[at].1 == 0 {
                    self.sizes.remove(at);
                }
            }
        }
        self.by_cidr.remove(cidr).map(|old| *old)
    }

    /// The most specific block containing `ip` (blocks are aligned, so blocks that overlap
    /// nest), found by looking `ip` up once per block size.
    pub fn containing(&self, ip: IpAddr) -> Option<IpNet> {
        let address_len = Family::of_addr(&ip).bits();
        self.sizes
            .iter()
            .rev()
            .filter(|&&((len, _), _)| len == address_len)
            .filter_map(|&((_, prefix), _)| masked_net(ip, prefix))
            .find(|cidr| self.by_cidr.contains_key(cidr))
    }

    /// The blocks with their CIDRs, in CIDR order.
    pub fn iter(&self) -> impl Iterator<Item = (&IpNet, &Block)> + '_ {
        self.in_order
            .iter()
            .filter_map(|cidr| Some((cidr, self.get(cidr)?)))
    }

    /// The blocks in CIDR order.
    pub fn values(&self) -> impl Iterator<Item = &Block> + '_ {
        self.iter().map(|(_, block)| block)
    }

    /// Every block, in no particular order, for changes that do not depend on it.
    pub fn values_mut_unordered(&mut self) -> impl Iterator<Item = &mut Block> + '_ {
        self.by_cidr.values_mut().map(Box::as_mut)
    }

    /// Every CIDR, in order.
    pub fn cidrs(&self) -> &SortedChunks<IpNet> {
        &self.in_order
    }
}

/// A block's address length and prefix length.
fn size_of(cidr: &IpNet) -> (u8, u8) {
    (cidr.max_prefix_len(), cidr.prefix_len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> IpNet {
        text.parse().unwrap()
    }

    #[test]
    fn the_map_and_the_order_hold_the_same_blocks() {
        let mut store = BlockStore::default();
        for cidr in ["10.0.0.64/26", "10.0.0.0/26", "10.0.1.0/26"] {
            let block = Block::new(net(cidr), None).unwrap();
            assert!(store.insert(net(cidr), block).is_none());
        }
        let again = Block::new(net("10.0.0.0/26"), None).unwrap();
        assert!(store.insert(net("10.0.0.0/26"), again).is_some());
        assert!(store.remove(&net("10.0.0.64/26")).is_some());
        assert!(store.remove(&net("10.0.0.64/26")).is_none());
        let in_order: Vec<IpNet> = store.values().map(Block::cidr).collect();
        assert_eq!(in_order, [net("10.0.0.0/26"), net("10.0.1.0/26")]);
        let ranged: Vec<&IpNet> = store.cidrs().range(..net("10.0.1.0/26")).collect();
        assert_eq!(ranged, [&net("10.0.0.0/26")]);
        assert!(store.contains_key(&net("10.0.1.0/26")));
        assert_eq!(store.values_mut_unordered().count(), 2);
    }

    #[test]
    fn the_block_holding_an_address_is_the_most_specific_one() {
        let mut store = BlockStore::default();
        for cidr in ["10.0.0.0/26", "10.0.0.0/28", "fd00::/122"] {
            store.insert(net(cidr), Block::new(net(cidr), None).unwrap());
        }
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        assert_eq!(store.containing(ip("10.0.0.5")), Some(net("10.0.0.0/28")));
        assert_eq!(store.containing(ip("10.0.0.17")), Some(net("10.0.0.0/26")));
        assert_eq!(store.containing(ip("10.0.0.64")), None);
        assert_eq!(store.containing(ip("fd00::3")), Some(net("fd00::/122")));
        store.remove(&net("10.0.0.0/28"));
        assert_eq!(store.containing(ip("10.0.0.5")), Some(net("10.0.0.0/26")));
        store.remove(&net("10.0.0.0/26"));
        assert_eq!(store.containing(ip("10.0.0.5")), None);
        assert!(store.sizes.iter().all(|&((len, _), _)| len == 128));
    }
}
